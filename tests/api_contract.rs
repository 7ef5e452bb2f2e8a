//! The OpenAPI document cannot drift from the router: every route the code registers under
//! `/api` (and the original client's root aliases in `api::routes()`) is in the document, every
//! operation in the document is served by the real server, and `/api/openapi.json` is that
//! document. Routes are read from the source of every `.route(…)` call, so a route added
//! anywhere without its description fails here (and a description without a route too).

use crate::support;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use reqwest::{Method, StatusCode};
use support::{TestServer, client, repo_path};

/// Route paths given by a constant rather than a literal, and what they are.
const CONSTANTS: &[(&str, &str)] = &[
    ("crate::live::LIVE_PATH", facegate::live::LIVE_PATH),
    ("DOCUMENT_PATH", facegate::api::openapi::DOCUMENT_PATH),
    ("REFERENCE_PATH", facegate::api::openapi::REFERENCE_PATH),
    ("PATH", facegate::metrics::PATH),
    ("CHECK_PATH", facegate::forward_auth::CHECK_PATH),
    ("ENTER_PATH", facegate::forward_auth::ENTER_PATH),
];

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The text up to the `)` closing the call whose arguments start at `text`, split at its
/// top-level commas.
fn call_arguments(text: &str) -> Vec<String> {
    let (mut depth, mut args, mut current) = (0usize, Vec::new(), String::new());
    for c in text.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => break,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                args.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    args.push(current);
    // A trailing comma (rustfmt's multi-line calls) leaves an empty last argument.
    args.into_iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

/// `get(a).post(b)` → {GET, POST}; `any(c)` (every method) is documented as GET.
fn methods_in(handler: &str) -> Vec<String> {
    let bytes = handler.as_bytes();
    if handler.starts_with("any(") {
        return vec!["GET".into()];
    }
    let mut found = Vec::new();
    for method in METHODS {
        let needle = format!("{method}(");
        let mut from = 0;
        while let Some(at) = handler[from..].find(&needle) {
            let start = from + at;
            let before = start.checked_sub(1).map(|i| bytes[i] as char);
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                found.push(method.to_uppercase());
            }
            from = start + needle.len();
        }
    }
    found
}

/// Every `(METHOD, path)` registered with `.route(…)` in the crate's source.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(&repo_path("src"), &mut files);
    let mut routes = BTreeSet::new();
    for file in files {
        let source = std::fs::read_to_string(&file).expect("read source");
        let in_rest_routes = file.ends_with("src/api/mod.rs");
        for (at, _) in source.match_indices(".route(") {
            let args = call_arguments(&source[at + ".route(".len()..]);
            let [path, handler] = &args[..] else {
                panic!("{}: a .route( call with {} arguments", file.display(), args.len());
            };
            let path = match path.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
                Some(literal) => literal.to_string(),
                None => CONSTANTS
                    .iter()
                    .find(|(name, _)| name == path)
                    .map(|(_, value)| value.to_string())
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: route path `{path}` is a constant this test does not know: add it to CONSTANTS",
                            file.display()
                        )
                    }),
            };
            if path.starts_with("/api") || in_rest_routes {
                for method in methods_in(handler) {
                    routes.insert((method, path.clone()));
                }
            }
        }
    }
    routes
}

fn documented() -> BTreeSet<(String, String)> {
    let document = serde_json::to_value(facegate::api::openapi::document()).expect("json");
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

#[test]
fn the_source_parser_reads_routes_as_written() {
    assert_eq!(
        call_arguments(" \"/a\", get(x).post(y::z))\n.route(…"),
        ["\"/a\"", "get(x).post(y::z)"]
    );
    assert_eq!(
        methods_in("get(x).post(account::delete_account)"),
        ["GET", "POST"]
    );
    assert_eq!(methods_in("axum::routing::delete(x)"), ["DELETE"]);
}

#[test]
fn every_route_is_in_the_document_and_every_operation_is_a_route() {
    let served = routes_in_source();
    let described = documented();
    assert!(served.len() >= 20, "the parser found too few routes: {served:?}");
    let undocumented: Vec<_> = served.difference(&described).collect();
    let unserved: Vec<_> = described.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in the OpenAPI document (add a #[utoipa::path] item to src/api/openapi.rs): {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in the OpenAPI document but not served: {unserved:?}"
    );
}

#[test]
fn the_document_is_openapi_3_1_with_the_live_socket_messages() {
    let document = serde_json::to_value(facegate::api::openapi::document()).expect("json");
    assert_eq!(document["openapi"], "3.1.0");
    let schemas = &document["components"]["schemas"];
    for schema in [
        "ApiError",
        "ServerMessage",
        "ClientFrame",
        "SecondFactorRequired",
        "LoginRequest",
    ] {
        assert!(schemas.get(schema).is_some(), "schema {schema} missing");
    }
    // Each message the socket sends is described, by its `type` tag.
    let messages = serde_json::to_string(&schemas["ServerMessage"]).expect("json");
    for tag in ["challenge", "frame", "passed", "failed"] {
        assert!(
            messages.contains(&format!("\"{tag}\"")),
            "{tag} missing: {messages}"
        );
    }
}

#[tokio::test]
async fn the_server_serves_every_documented_operation_and_the_document_itself() {
    let server = TestServer::start(&[]).await;
    let http = client();
    let served: serde_json::Value = http
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(
        served,
        serde_json::to_value(facegate::api::openapi::document()).expect("json")
    );
    for (method, path) in documented() {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let status = http
            .request(method.clone(), server.url(&path))
            .send()
            .await
            .expect("request")
            .status();
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {status}"
        );
    }
    let page = http.get(server.url("/api/docs")).send().await.expect("GET");
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.expect("text");
    assert!(page.contains("POST /api/register") && !page.contains("<script"));
}
