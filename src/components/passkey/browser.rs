//! `navigator.credentials` with WebAuthn's JSON forms: the server's options go through
//! `PublicKeyCredential.parse{Creation,Request}OptionsFromJSON`, the answer comes back through
//! `toJSON()`, so no binary field is converted by hand.

use js_sys::{Function, JSON, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Which ceremony: adding a passkey, or signing in with one.
#[derive(Clone, Copy)]
pub enum Ceremony {
    Create,
    Get,
}

impl Ceremony {
    fn parser(self) -> &'static str {
        match self {
            Self::Create => "parseCreationOptionsFromJSON",
            Self::Get => "parseRequestOptionsFromJSON",
        }
    }

    fn method(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Get => "get",
        }
    }
}

fn get(target: &JsValue, key: &str) -> Result<JsValue, String> {
    Reflect::get(target, &JsValue::from_str(key)).map_err(|_| format!("{key} is missing"))
}

fn function(target: &JsValue, key: &str) -> Result<Function, String> {
    get(target, key)?
        .dyn_into::<Function>()
        .map_err(|_| "This browser cannot use passkeys. Use your PIN.".to_string())
}

/// The person's own words for why the browser gave no credential.
fn explain(error: JsValue) -> String {
    let name = get(&error, "name")
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" => {
            "The passkey request was cancelled or timed out. Try again, or use your PIN.".into()
        }
        "InvalidStateError" => "This device already holds a passkey for your account.".into(),
        "SecurityError" => "Passkeys need this site's own address (a domain name, not an IP address).".into(),
        _ => "The passkey could not be used. Try again, or use your PIN.".into(),
    }
}

/// Runs the ceremony on `options_json` (the server's `{ceremony, options: {publicKey}}`) and
/// returns the credential as JSON text.
pub async fn run(ceremony: Ceremony, options_json: &str) -> Result<String, String> {
    let window: JsValue = web_sys::window().ok_or("no window")?.into();
    let options = JSON::parse(options_json).map_err(|_| "unreadable passkey options".to_string())?;
    let public_key = get(&get(&options, "options")?, "publicKey")?;
    let credential_class = get(&window, "PublicKeyCredential")?;
    let parsed = function(&credential_class, ceremony.parser())?
        .call1(&credential_class, &public_key)
        .map_err(|_| "The server's passkey options were refused by the browser.".to_string())?;
    let request = Object::new();
    Reflect::set(&request, &JsValue::from_str("publicKey"), &parsed).map_err(|_| "passkey request")?;
    let credentials = get(&get(&window, "navigator")?, "credentials")?;
    let promise = function(&credentials, ceremony.method())?
        .call1(&credentials, &request)
        .map_err(explain)?
        .dyn_into::<Promise>()
        .map_err(|_| "passkey request")?;
    let credential = JsFuture::from(promise).await.map_err(explain)?;
    let json = function(&credential, "toJSON")?
        .call0(&credential)
        .map_err(|_| "This browser cannot use passkeys. Use your PIN.".to_string())?;
    JSON::stringify(&json)
        .map(String::from)
        .map_err(|_| "unreadable passkey".to_string())
}

/// The `ceremony` key of the server's `{ceremony, options}`.
pub fn ceremony_key(options_json: &str) -> Result<String, String> {
    let options = JSON::parse(options_json).map_err(|_| "unreadable passkey options".to_string())?;
    get(&options, "ceremony")?
        .as_string()
        .ok_or_else(|| "unreadable passkey options".into())
}
