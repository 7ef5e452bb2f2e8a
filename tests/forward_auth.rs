//! Forward auth through the real server (docs/forward-auth.md): the proxy's question with and
//! without the forward-auth cookie, the hand-over after the login, logout ending access, and
//! the attacks — forged forwarding headers from a peer that is not a trusted proxy, return URLs
//! outside the forward-auth domains, facegate's own session cookie offered as the app cookie.

use crate::support;

use reqwest::{Client, Response, StatusCode};
use serde_json::json;
use support::{PIN, TestServer, photo_data_url};

const ORIGIN: &str = "https://auth.example.test";
const PAGE: &str = "https://app.example.test/private?x=1";
const PAGE_ENCODED: &str = "https%3A%2F%2Fapp.example.test%2Fprivate%3Fx%3D1";

fn args(trusted: &'static str) -> Vec<&'static str> {
    vec![
        "--allow-single-image",
        "true",
        "--public-origin",
        ORIGIN,
        "--trusted-proxies",
        trusted,
        "--forward-auth-domains",
        "example.test",
    ]
}

/// No cookie store (facegate's cookies are `Secure`, the test server is plain HTTP: they are
/// passed by hand) and no redirects followed.
fn plain() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// `name=value` of the response's `Set-Cookie` for `name`, and the whole header.
fn cookie(response: &Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| (v.split(';').next().unwrap_or_default().to_string(), v.to_string()))
}

/// Registers Barack and signs him in; returns the session's `Cookie` value.
async fn signed_in(server: &TestServer) -> String {
    let register = json!({
        "username": "Barack", "email": "barack@example.org", "pin": PIN, "image": photo_data_url("obama.jpg"),
    });
    let answer = plain()
        .post(server.url("/api/register"))
        .json(&register)
        .send()
        .await
        .expect("register");
    assert_eq!(answer.status(), StatusCode::CREATED);
    let login = json!({ "image": photo_data_url("obama2.jpg"), "pin": PIN });
    let answer = plain()
        .post(server.url("/api/login"))
        .json(&login)
        .send()
        .await
        .expect("login");
    assert_eq!(answer.status(), StatusCode::OK);
    let (session, _) = cookie(&answer, "__Host-facegate_session").expect("an https session cookie");
    session
}

/// What Caddy asks about a browser's request for [`PAGE`].
async fn ask(server: &TestServer, cookie: Option<&str>, query: &str) -> Response {
    let mut request = plain()
        .get(server.url(&format!("/api/forward-auth{query}")))
        .header("x-forwarded-method", "GET")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-host", "app.example.test")
        .header("x-forwarded-uri", "/private?x=1");
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("forward auth")
}

#[tokio::test]
async fn a_signed_in_person_passes_with_the_forward_cookie_until_logout() {
    let server = TestServer::start(&args("127.0.0.1")).await;
    let login = format!("{ORIGIN}/login?return_to={PAGE_ENCODED}");

    // Not signed in: to the login, coming back to the page; 401 with the same place for nginx.
    let answer = ask(&server, None, "").await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert_eq!(header(&answer, "location").as_deref(), Some(login.as_str()));
    let answer = ask(&server, None, "?status=401").await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&answer, "location").as_deref(), Some(login.as_str()));

    let session = signed_in(&server).await;
    // facegate's own session cookie is not the application's: still to the login.
    assert_eq!(ask(&server, Some(&session), "").await.status(), StatusCode::FOUND);

    // Already signed in, the login page goes straight on to the hand-over…
    let answer = plain()
        .get(server.url(&format!("/login?return_to={PAGE_ENCODED}")))
        .header("cookie", &session)
        .send()
        .await
        .expect("login page");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let enter = header(&answer, "location").expect("location");
    assert_eq!(enter, format!("/api/forward-auth/enter?return_to={PAGE_ENCODED}"));
    // …which sets the narrower cookie for the domain and returns to the page.
    let answer = plain()
        .get(server.url(&enter))
        .header("cookie", &session)
        .send()
        .await
        .expect("enter");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&answer, "location").as_deref(), Some(PAGE));
    let (forward, whole) = cookie(&answer, "__Secure-facegate_forward").expect("forward cookie");
    assert!(
        whole.contains("; Domain=example.test;") && whole.contains("; HttpOnly; Secure; SameSite=Lax"),
        "{whole}"
    );
    assert_ne!(forward.split('=').nth(1), session.split('=').nth(1));

    let answer = ask(&server, Some(&forward), "").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(header(&answer, "remote-user").as_deref(), Some("Barack"));
    assert_eq!(
        header(&answer, "remote-email").as_deref(),
        Some("barack@example.org")
    );
    assert_eq!(header(&answer, "remote-name").as_deref(), Some("Barack"));
    // Any method: nginx asks with the original one, and the browser's Origin is the app's.
    let post = plain()
        .post(server.url("/api/forward-auth"))
        .header("cookie", &forward)
        .header("origin", "https://app.example.test")
        .header("sec-fetch-site", "same-site")
        .send()
        .await
        .expect("post");
    assert_eq!(post.status(), StatusCode::OK);

    // A guessed cookie is nobody.
    let guessed = "__Secure-facegate_forward=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(ask(&server, Some(guessed), "").await.status(), StatusCode::FOUND);

    // Logging out of facegate ends the application's access too.
    let logout = plain()
        .post(server.url("/api/logout"))
        .header("cookie", &session)
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let answer = ask(&server, Some(&forward), "").await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert_eq!(server.state.forward_grants.len(), 0, "the grant is forgotten");
}

#[tokio::test]
async fn forged_forwarding_headers_and_foreign_return_urls_are_ignored() {
    // 127.0.0.1 (this test) is not a trusted proxy here.
    let server = TestServer::start(&args("10.0.0.1")).await;
    let bare_login = format!("{ORIGIN}/login");
    let answer = ask(&server, None, "").await;
    assert_eq!(answer.status(), StatusCode::FOUND);
    assert_eq!(header(&answer, "location").as_deref(), Some(bare_login.as_str()));
    let nginx_style = plain()
        .get(server.url("/api/forward-auth"))
        .header("x-original-url", PAGE)
        .send()
        .await
        .expect("forward auth");
    assert_eq!(
        header(&nginx_style, "location").as_deref(),
        Some(bare_login.as_str())
    );

    // From a trusted proxy, an original URL outside the domains is not returned to either.
    let server = TestServer::start(&args("127.0.0.1")).await;
    for (name, value) in [
        ("x-original-url", "https://evil.example/"),
        ("x-original-url", "https://evil.example#@app.example.test/"),
        ("x-original-url", "https://app.example.test@evil.example/"),
        ("x-original-url", "http://app.example.test/"),
        ("x-forwarded-host", "app.example.test.evil.example"),
    ] {
        let mut request = plain().get(server.url("/api/forward-auth")).header(name, value);
        if name == "x-forwarded-host" {
            request = request.header("x-forwarded-proto", "https");
        }
        let answer = request.send().await.expect("forward auth");
        assert_eq!(
            header(&answer, "location").as_deref(),
            Some(bare_login.as_str()),
            "{name}: {value}"
        );
    }

    let session = signed_in(&server).await;
    for evil in [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "https://example.test.evil.example/",
    ] {
        let encoded: String = url_encode(evil);
        // The hand-over sets no cookie and ends on the welcome page.
        let answer = plain()
            .get(server.url(&format!("/api/forward-auth/enter?return_to={encoded}")))
            .header("cookie", &session)
            .send()
            .await
            .expect("enter");
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{evil}");
        assert_eq!(header(&answer, "location").as_deref(), Some("/welcome"), "{evil}");
        assert!(cookie(&answer, "__Secure-facegate_forward").is_none(), "{evil}");
        // The login page does not jump there, signed in or not…
        let page = plain()
            .get(server.url(&format!("/login?return_to={encoded}")))
            .header("cookie", &session)
            .send()
            .await
            .expect("login page");
        assert_eq!(page.status(), StatusCode::OK, "{evil}");
        // …and the page's own question gets no destination.
        let destination = plain()
            .post(server.url("/fn/login_destination"))
            .form(&[("return_to", evil)])
            .send()
            .await
            .expect("server fn");
        assert_eq!(destination.text().await.expect("body"), "null", "{evil}");
    }
    let local = plain()
        .post(server.url("/fn/login_destination"))
        .form(&[("return_to", "/oauth2/authorize?client_id=a")])
        .send()
        .await
        .expect("server fn");
    assert_eq!(
        local.text().await.expect("body"),
        "\"/oauth2/authorize?client_id=a\""
    );
}

fn url_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
