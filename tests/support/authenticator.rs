//! A software passkey: what a phone or laptop authenticator does, in a few lines — a P-256 key
//! pair, "none" attestation, user presence and verification always given. It answers the
//! server's real WebAuthn options with real signatures, so the server's checks (challenge,
//! origin, signature, counter) all run.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use p256::ecdsa::{Signature, SigningKey, signature::Signer};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct SoftPasskey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    counter: u32,
    rp_id: String,
    /// What the browser would write as the page's origin.
    pub origin: String,
}

/// Flags: user present, user verified (and, when registering, attested credential data).
const UP_UV: u8 = 0x01 | 0x04;
const ATTESTED: u8 = 0x40;

impl SoftPasskey {
    pub fn new(origin: &str) -> Self {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let credential_id =
            Sha256::digest(key.verifying_key().to_encoded_point(false).as_bytes())[..16].to_vec();
        let rp_id = url_host(origin);
        Self {
            key,
            credential_id,
            counter: 0,
            rp_id,
            origin: origin.to_string(),
        }
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = options["options"]["publicKey"]["challenge"]
            .as_str()
            .expect("a challenge");
        serde_json::to_vec(
            &json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false }),
        )
        .expect("json")
    }

    fn auth_data(&mut self, flags: u8) -> Vec<u8> {
        self.counter += 1;
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        data
    }

    /// The answer to `navigator.credentials.create` for the server's `{ceremony, options}`.
    pub fn register(&mut self, options: &Value) -> Value {
        let client_data = self.client_data("webauthn.create", options);
        let mut auth_data = self.auth_data(UP_UV | ATTESTED);
        auth_data.extend([0u8; 16]); // AAGUID: none
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_public_key());
        let mut attestation = Vec::new();
        cbor_map(&mut attestation, 3);
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        cbor_map(&mut attestation, 0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        let id = B64.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": { "attestationObject": B64.encode(attestation), "clientDataJSON": B64.encode(client_data) },
            "clientExtensionResults": {},
        })
    }

    /// The answer to `navigator.credentials.get`, signed with this key.
    pub fn assert(&mut self, options: &Value) -> Value {
        let client_data = self.client_data("webauthn.get", options);
        let auth_data = self.auth_data(UP_UV);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        let id = B64.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(auth_data),
                "clientDataJSON": B64.encode(client_data),
                "signature": B64.encode(signature.to_der().as_bytes()),
            },
            "clientExtensionResults": {},
        })
    }

    /// COSE_Key of an ES256 public key: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
    fn cose_public_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut out = Vec::new();
        cbor_map(&mut out, 5);
        out.extend([0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21]);
        cbor_bytes(&mut out, point.x().expect("x").as_slice());
        out.push(0x22);
        cbor_bytes(&mut out, point.y().expect("y").as_slice());
        out
    }
}

fn url_host(origin: &str) -> String {
    let rest = origin.split("://").nth(1).unwrap_or(origin);
    rest.split([':', '/']).next().unwrap_or(rest).to_string()
}

fn cbor_head(out: &mut Vec<u8>, major: u8, len: usize) {
    match len {
        0..=23 => out.push(major << 5 | len as u8),
        24..=255 => out.extend([major << 5 | 24, len as u8]),
        _ => {
            out.push(major << 5 | 25);
            out.extend((len as u16).to_be_bytes());
        }
    }
}

fn cbor_map(out: &mut Vec<u8>, entries: usize) {
    cbor_head(out, 5, entries);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len());
    out.extend(text.as_bytes());
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 2, bytes.len());
    out.extend(bytes);
}
