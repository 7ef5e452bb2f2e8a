//! The REST API's contract: an OpenAPI 3.1 document generated from the request and response
//! types themselves (`utoipa`), served at `GET /api/openapi.json`, and a reference page built
//! from it on the server at `GET /api/docs` (plain HTML: no script, nothing from a CDN).
//!
//! Each route is described by one `#[utoipa::path]` item below, named in `paths(...)`. The
//! errors every route shares (413, 500, 503; 400/415 for JSON bodies; 403 for cross-site writes;
//! 429 for the throttled routes, taken from the throttle's own table) are added by
//! [`document`]. tests/api_contract.rs fails when a route is served but not described here, or
//! described but not served.

use axum::{
    Router,
    http::{Method, header},
    response::{Html, IntoResponse},
    routing::get,
};
use utoipa::{
    OpenApi, ToSchema,
    openapi::{
        Content, OpenApi as Document, Ref, RefOr, ResponseBuilder,
        path::{Operation, PathItem},
        security::{ApiKey, ApiKeyValue, SecurityScheme},
    },
};

use super::{
    greeting::{Greeting, GreetingQuery},
    live_socket::LiveQuery,
    liveness::{LivenessRequest, LivenessResponse},
    login::{LoginRequest, LoginResponse, PinRequest, SecondFactorRequired},
    passkeys::{FinishAdding, FinishLogin, Rename, StartLogin},
    register::{RegisterRequest, RegisterResponse},
};
use crate::{
    accounts::{ActivityEntry, PasskeyInfo, ssr::AccountExport},
    error::ApiError,
    live::{ClientFrame, ServerMessage},
    state::AppState,
};

pub use super::openapi_page::DOCUMENT_PATH;

pub const REFERENCE_PATH: &str = "/api/docs";

/// The document and the page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(DOCUMENT_PATH, get(openapi_json))
        .route(REFERENCE_PATH, get(reference_page))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "facegate",
        description = "Register and sign in with your face. Errors are `{error, message}`: a stable code and a sentence a person can act on (docs/api.md). The session is an HttpOnly cookie set by a login.",
    ),
    paths(
        routes_described::register,
        routes_described::register_alias,
        routes_described::login,
        routes_described::login_alias,
        routes_described::confirm_pin,
        routes_described::passkey_login_start,
        routes_described::passkey_login_finish,
        routes_described::liveness,
        routes_described::live_socket,
        routes_described::greeting,
        routes_described::greeting_alias,
        routes_described::logout,
        routes_described::delete_account,
        routes_described::history,
        routes_described::export,
        routes_described::sign_out_everywhere,
        routes_described::passkey_add_start,
        routes_described::passkey_add_finish,
        routes_described::passkey_list,
        routes_described::passkey_rename,
        routes_described::passkey_remove,
        routes_described::forward_auth_check,
        routes_described::forward_auth_enter,
        routes_described::openapi_document,
        routes_described::reference,
    ),
    components(schemas(ApiError, SecondFactorRequired, ServerMessage, ClientFrame, PasskeyCeremony)),
    tags(
        (name = "face", description = "Registration and login with the face, and the live check."),
        (name = "second factor", description = "The PIN or passkey after a recognised face."),
        (name = "account", description = "The signed-in person's own account."),
        (name = "contract", description = "This document and its reference page."),
        (name = "forward auth", description = "Asked by a reverse proxy (Caddy `forward_auth`, nginx `auth_request`, Traefik `ForwardAuth`) about a request to an application it guards (docs/forward-auth.md)."),
    ),
)]
struct ApiDoc;

/// A passkey ceremony: hand `options.publicKey` to `navigator.credentials.create` / `.get`, send
/// the answer back with `ceremony`. `options` is WebAuthn's JSON (`PublicKeyCredential*Options`).
#[derive(ToSchema)]
#[allow(dead_code)] // describes `accounts::ssr::passkeys::Ceremony<T>`, whose T is WebAuthn's
struct PasskeyCeremony {
    ceremony: String,
    #[schema(value_type = Object)]
    options: serde_json::Value,
}

/// The document: what the annotations say, plus the errors every route shares.
pub fn document() -> Document {
    let mut doc = ApiDoc::openapi();
    let components = doc.components.get_or_insert_with(Default::default);
    // `__Host-facegate_session` when the cookie is Secure (behind HTTPS).
    let session = SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("facegate_session")));
    components
        .security_schemes
        .insert("session".into(), session.into());
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            add_shared_errors(path, &method, operation);
        }
    }
    doc
}

fn operations(item: &mut PathItem) -> Vec<(Method, &mut Operation)> {
    [
        (Method::GET, item.get.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|op| (method, op)))
    .collect()
}

fn add_shared_errors(path: &str, method: &Method, operation: &mut Operation) {
    let mut shared = vec![
        ("413", "The body is larger than `max-body-bytes`."),
        ("500", "Something failed on the server (logged); try again."),
        (
            "503",
            "The database is unavailable or the face workers are saturated; see `Retry-After`.",
        ),
    ];
    if operation.request_body.is_some() {
        shared.push(("400", "The body is not valid: see `message`."));
        shared.push(("415", "Send the body as JSON (`Content-Type: application/json`)."));
    }
    if *method != Method::GET {
        shared.push(("403", "A state-changing request from another site (`Origin`)."));
    }
    if crate::http::throttle::class_of(method, path).is_some() {
        shared.push((
            "429",
            "Too many attempts from this address (or this account): see `Retry-After`.",
        ));
    }
    for (status, description) in shared {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error_response(description));
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ApiError"))),
        )
        .build()
        .into()
}

/// The one place the document is built and serialised (it does not change while serving).
fn document_json() -> &'static str {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| {
        document()
            .to_json()
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    })
}

async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document_json())
}

async fn reference_page() -> Html<String> {
    Html(super::openapi_page::render(&document()))
}

/// One item per route: the method, the path, the real request and response types, and the
/// statuses its `AppError`s map to (src/error/server.rs). The functions only carry the text.
#[allow(dead_code)]
mod routes_described {
    use super::*;

    /// Register with a passed live check's `proof`, an uploaded clip (`nonce` + `frames`), or — only
    /// with `allow-single-image` — one `image`.
    #[utoipa::path(post, path = "/api/register", tag = "face", request_body = RegisterRequest,
        responses(
            (status = 201, description = "Registered.", body = RegisterResponse),
            (status = 409, description = "`email_taken`, `username_taken` or `face_already_registered`.", body = ApiError),
            (status = 422, description = "An invalid username, email or PIN, or a refused face or live check.", body = ApiError),
        ))]
    fn register() {}

    /// The original client's path for `POST /api/register`.
    #[utoipa::path(post, path = "/register", tag = "face", operation_id = "register_alias", request_body = RegisterRequest,
        responses(
            (status = 201, description = "Registered.", body = RegisterResponse),
            (status = 409, description = "Taken.", body = ApiError),
            (status = 422, description = "Refused.", body = ApiError),
        ))]
    fn register_alias() {}

    /// Log in with the face (as for registering), optionally with the `pin`.
    #[utoipa::path(post, path = "/api/login", tag = "face", request_body = LoginRequest,
        responses(
            (status = 200, description = "Signed in; the session cookie is set.", body = LoginResponse),
            (status = 401, description = "`second_factor_required` (then the body is a `SecondFactorRequired`, with the ticket for `POST /api/login/pin`), `not_recognised`, `ambiguous_match` or `wrong_pin`.", body = ApiError),
            (status = 422, description = "A refused face or live check.", body = ApiError),
        ))]
    fn login() {}

    /// The original client's path for `POST /api/login`.
    #[utoipa::path(post, path = "/login", tag = "face", operation_id = "login_alias", request_body = LoginRequest,
        responses(
            (status = 200, description = "Signed in.", body = LoginResponse),
            (status = 401, description = "As `POST /api/login`.", body = ApiError),
            (status = 422, description = "Refused.", body = ApiError),
        ))]
    fn login_alias() {}

    /// The second step of a login: the PIN, with the ticket of the recognised face.
    #[utoipa::path(post, path = "/api/login/pin", tag = "second factor", request_body = PinRequest,
        responses(
            (status = 200, description = "Signed in; the session cookie is set.", body = LoginResponse),
            (status = 401, description = "`wrong_pin`, `wrong_pin_face_again`, or the ticket expired.", body = ApiError),
        ))]
    fn confirm_pin() {}

    /// A passkey instead of the PIN: start the ceremony for a ticket.
    #[utoipa::path(post, path = "/api/login/passkey/start", tag = "second factor", request_body = StartLogin,
        responses(
            (status = 200, description = "The ceremony.", body = PasskeyCeremony),
            (status = 401, description = "The ticket expired.", body = ApiError),
            (status = 422, description = "No passkey for this account.", body = ApiError),
        ))]
    fn passkey_login_start() {}

    /// A passkey instead of the PIN: the authenticator's answer.
    #[utoipa::path(post, path = "/api/login/passkey/finish", tag = "second factor", request_body = FinishLogin,
        responses(
            (status = 200, description = "Signed in.", body = LoginResponse),
            (status = 401, description = "The ceremony expired.", body = ApiError),
            (status = 422, description = "`passkey_refused`.", body = ApiError),
        ))]
    fn passkey_login_finish() {}

    /// A challenge for a client that records a clip and uploads it with `{nonce, frames}`; only
    /// with the setting `allow-clip-upload` (off by default: 403 `clip_upload_disabled`). An
    /// empty body asks for a login challenge.
    #[utoipa::path(post, path = "/api/liveness", tag = "face", request_body(content = LivenessRequest, description = "Optional."),
        responses(
            (status = 201, description = "The challenge.", body = LivenessResponse),
            (status = 403, description = "`clip_upload_disabled`: this server takes live checks over the socket only.", body = ApiError),
        ))]
    fn liveness() {}

    /// The live face check over a WebSocket. The server's first text message is a `challenge`;
    /// the client sends frames (`ClientFrame` as JSON text, or 8 bytes of little-endian f64 `t_ms`
    /// then the JPEG as binary); the server answers each with a `frame`, and ends with `passed`
    /// (its `proof` logs in or registers) or `failed`. Every server message is a `ServerMessage`
    /// (see the components), tagged by `type`.
    #[utoipa::path(get, path = "/api/live", tag = "face", params(LiveQuery),
        responses(
            (status = 101, description = "Switched to the WebSocket protocol: messages are `ServerMessage` (server) and `ClientFrame` (client)."),
            (status = 400, description = "Not a WebSocket handshake, or a bad `purpose`.", content_type = "text/plain", body = String),
            (status = 426, description = "The connection cannot be upgraded.", content_type = "text/plain", body = String),
        ))]
    fn live_socket() {}

    /// The signed-in person's greeting.
    #[utoipa::path(get, path = "/api/greeting", tag = "account", params(GreetingQuery), security(("session" = [])),
        responses(
            (status = 200, description = "Hello.", body = Greeting),
            (status = 400, description = "A malformed query.", content_type = "text/plain", body = String),
            (status = 401, description = "Not signed in.", body = ApiError),
            (status = 403, description = "Another person's `user_id`.", body = ApiError),
        ))]
    fn greeting() {}

    /// The original client's path for `GET /api/greeting`.
    #[utoipa::path(get, path = "/greeting", tag = "account", operation_id = "greeting_alias", params(GreetingQuery), security(("session" = [])),
        responses(
            (status = 200, description = "Hello.", body = Greeting),
            (status = 400, description = "A malformed query.", content_type = "text/plain", body = String),
            (status = 401, description = "Not signed in.", body = ApiError),
            (status = 403, description = "Another person's `user_id`.", body = ApiError),
        ))]
    fn greeting_alias() {}

    /// Ends this session (if any) and clears the cookie either way.
    #[utoipa::path(post, path = "/api/logout", tag = "account",
        responses((status = 204, description = "Signed out.")))]
    fn logout() {}

    /// Deletes the account and everything stored about it; the login must be under 5 minutes old.
    #[utoipa::path(delete, path = "/api/account", tag = "account", security(("session" = [])),
        responses(
            (status = 204, description = "Deleted; the cookie is cleared."),
            (status = 401, description = "Not signed in.", body = ApiError),
            (status = 403, description = "`login_not_fresh`.", body = ApiError),
        ))]
    fn delete_account() {}

    /// Recent sign-ins and refused attempts, newest first.
    #[utoipa::path(get, path = "/api/account/history", tag = "account", security(("session" = [])),
        responses(
            (status = 200, description = "The history.", body = Vec<ActivityEntry>),
            (status = 401, description = "Not signed in.", body = ApiError),
        ))]
    fn history() {}

    /// Everything stored about you, as a JSON download.
    #[utoipa::path(get, path = "/api/account/export", tag = "account", security(("session" = [])),
        responses(
            (status = 200, description = "The export.", body = AccountExport),
            (status = 401, description = "Not signed in.", body = ApiError),
            (status = 403, description = "`login_not_fresh`.", body = ApiError),
        ))]
    fn export() {}

    /// Ends every session of yours, this one included.
    #[utoipa::path(post, path = "/api/account/sign-out-everywhere", tag = "account", security(("session" = [])),
        responses(
            (status = 204, description = "Signed out everywhere."),
            (status = 401, description = "Not signed in.", body = ApiError),
        ))]
    fn sign_out_everywhere() {}

    /// Adds a passkey to the signed-in account: start the ceremony.
    #[utoipa::path(post, path = "/api/account/passkeys/start", tag = "account", security(("session" = [])),
        responses(
            (status = 200, description = "The ceremony.", body = PasskeyCeremony),
            (status = 401, description = "Not signed in.", body = ApiError),
        ))]
    fn passkey_add_start() {}

    /// Adds a passkey to the signed-in account: the authenticator's answer.
    #[utoipa::path(post, path = "/api/account/passkeys/finish", tag = "account", request_body = FinishAdding, security(("session" = [])),
        responses(
            (status = 204, description = "Added."),
            (status = 401, description = "Not signed in.", body = ApiError),
            (status = 422, description = "`passkey_refused`.", body = ApiError),
        ))]
    fn passkey_add_finish() {}

    /// The signed-in account's passkeys, oldest first.
    #[utoipa::path(get, path = "/api/account/passkeys", tag = "account", security(("session" = [])),
        responses(
            (status = 200, description = "The passkeys.", body = Vec<PasskeyInfo>),
            (status = 401, description = "Not signed in.", body = ApiError),
        ))]
    fn passkey_list() {}

    /// Renames one of the account's passkeys.
    #[utoipa::path(patch, path = "/api/account/passkeys/{id}", tag = "account", request_body = Rename,
        params(("id" = String, Path, description = "The passkey's id, from the list.")), security(("session" = [])),
        responses(
            (status = 204, description = "Renamed."),
            (status = 401, description = "Not signed in.", body = ApiError),
            (status = 404, description = "`unknown_passkey`.", body = ApiError),
            (status = 422, description = "`invalid_passkey_name`: empty or over 64 characters.", body = ApiError),
        ))]
    fn passkey_rename() {}

    /// Removes one of the account's passkeys (a login under 5 minutes old).
    #[utoipa::path(delete, path = "/api/account/passkeys/{id}", tag = "account",
        params(("id" = String, Path, description = "The passkey's id, from the list.")), security(("session" = [])),
        responses(
            (status = 204, description = "Removed."),
            (status = 401, description = "Not signed in.", body = ApiError),
            (status = 403, description = "`login_not_fresh`.", body = ApiError),
            (status = 404, description = "`unknown_passkey`.", body = ApiError),
        ))]
    fn passkey_remove() {}

    /// Asked by the reverse proxy about a request to a guarded application (any method: the
    /// proxy passes on the original one). Signed in → 200 with `Remote-User`, `Remote-Email`,
    /// `Remote-Name`; otherwise a redirect to facegate's login that comes back to the original
    /// URL (with `status=401`, nginx's form: 401 with that `Location`).
    #[utoipa::path(get, path = "/api/forward-auth", tag = "forward auth",
        params(("status" = Option<u16>, Query, description = "`401`: answer 401 instead of 302 (nginx `auth_request`).")),
        responses(
            (status = 200, description = "Signed in: the user's headers."),
            (status = 302, description = "Not signed in: to the login page."),
            (status = 401, description = "Not signed in, with `status=401`: `Location` says where to send the browser."),
        ))]
    fn forward_auth_check() {}

    /// On facegate's own host, after the login: hands out the forward-auth cookie for the
    /// return URL's domain and sends the browser back to it.
    #[utoipa::path(get, path = "/api/forward-auth/enter", tag = "forward auth",
        params(("return_to" = Option<String>, Query, description = "The guarded page to return to (inside `forward-auth-domains`).")),
        responses((status = 303, description = "Back to the page, to the login first, or to the welcome page for a foreign URL.")))]
    fn forward_auth_enter() {}

    /// This document.
    #[utoipa::path(get, path = "/api/openapi.json", tag = "contract",
        responses((status = 200, description = "The OpenAPI 3.1 document.", content_type = "application/json", body = serde_json::Value)))]
    fn openapi_document() {}

    /// The API reference, as a page.
    #[utoipa::path(get, path = "/api/docs", tag = "contract",
        responses((status = 200, description = "HTML.", content_type = "text/html", body = String)))]
    fn reference() {}
}
