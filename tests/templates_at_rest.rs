//! Face templates encrypted at rest, through the real server and a real FerretDB: what the
//! database holds, start-up with wrong or missing keys, migration of plain records, and key
//! rotation while the server keeps serving (docs/security.md).

use crate::support;

use std::path::Path;

use facegate::{
    accounts::ssr::second_factor::hash_pin,
    at_rest::{KeyRing, StoredTemplates, TemplateError, TemplateKey, keyring},
    face::Encoding,
    state::AppState,
};
use mongodb::bson::{Binary, Bson, DateTime, Document, doc, oid::ObjectId, spec::BinarySubtype};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{FerretDb, PIN, TestServer, client, leptos_options, photo_data_url, post, test_config};

const SINGLE_IMAGE: &[&str] = &["--allow-single-image", "true"];

async fn register(server: &TestServer, username: &str, photo: &str) -> ObjectId {
    let email = format!("{}@example.org", username.to_lowercase());
    let body = json!({ "username": username, "email": email, "pin": PIN, "image": photo_data_url(photo) });
    let (status, body) = post(&client(), server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    ObjectId::parse_str(body["user_id"].as_str().expect("user_id")).expect("object id")
}

async fn log_in(server: &TestServer, photo: &str) -> (StatusCode, Value) {
    post(
        &client(),
        server,
        "/api/login",
        json!({ "image": photo_data_url(photo), "pin": PIN }),
    )
    .await
}

fn raw_users(server: &TestServer) -> mongodb::Collection<Document> {
    server.db().database().collection("users")
}

async fn raw_user(server: &TestServer, id: ObjectId) -> Document {
    raw_users(server)
        .find_one(doc! { "_id": id })
        .await
        .expect("find")
        .expect("stored user")
}

async fn stored_templates(server: &TestServer, id: ObjectId) -> StoredTemplates {
    let user = server
        .db()
        .users()
        .find_one(doc! { "_id": id })
        .await
        .expect("find");
    user.expect("user").face_templates
}

/// The user's encodings, opened with the running server's keys.
async fn opened(server: &TestServer, id: ObjectId) -> Vec<Encoding> {
    let templates = stored_templates(server, id).await;
    server
        .state
        .templates
        .open(&id, &templates)
        .expect("templates open")
}

/// Fails when any binary of `value` holds four consecutive values of an encoding (as little- or
/// big-endian f32), or any number equals one of its values.
fn assert_holds_no_plain(value: &Bson, encodings: &[Encoding], path: &str) {
    match value {
        Bson::Binary(binary) => {
            for encoding in encodings {
                for window in encoding.as_slice().windows(4) {
                    let le: Vec<u8> = window.iter().flat_map(|v| v.to_le_bytes()).collect();
                    let be: Vec<u8> = window.iter().flat_map(|v| v.to_be_bytes()).collect();
                    assert!(
                        !binary.bytes.windows(16).any(|w| w == le || w == be),
                        "{path} holds plain encoding values"
                    );
                }
            }
        }
        Bson::Double(number) => assert!(
            !encodings
                .iter()
                .any(|e| e.as_slice().iter().any(|v| f64::from(*v) == *number)),
            "{path} is an encoding value"
        ),
        Bson::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                assert_holds_no_plain(item, encodings, &format!("{path}[{i}]"));
            }
        }
        Bson::Document(document) => {
            for (key, item) in document {
                assert_holds_no_plain(item, encodings, &format!("{path}.{key}"));
            }
        }
        _ => {}
    }
}

async fn start_error(db: &FerretDb, extra: &[&str]) -> String {
    AppState::start(test_config(db, extra), leptos_options())
        .await
        .err()
        .expect("start-up must fail")
        .to_string()
}

fn assert_names_the_setting(message: &str) {
    assert!(
        message.contains("FACEGATE_TEMPLATE_KEY_FILE") && message.contains("template-key-file"),
        "the setting is not named: {message}"
    );
}

fn key_ids(path: &Path) -> Vec<String> {
    let (ring, _) = keyring::load(path).expect("key file");
    ring.ids().into_iter().map(str::to_string).collect()
}

#[tokio::test]
async fn the_database_holds_no_plain_encoding_and_a_moved_ciphertext_does_not_open() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    let barack = register(&server, "Barack", "obama.jpg").await;
    let joe = register(&server, "Joe", "biden.jpg").await;
    let encodings = [opened(&server, barack).await, opened(&server, joe).await].concat();
    assert_eq!(encodings.len(), 2);

    for id in [barack, joe] {
        let document = raw_user(&server, id).await;
        assert!(!document.contains_key("face_encodings"), "{document}");
        let templates = document.get_document("face_templates").expect("face_templates");
        assert_eq!(templates.get_str("key_id").expect("key_id"), "test-key");
        assert_eq!(templates.get_binary_generic("nonce").expect("nonce").len(), 12);
        assert_eq!(
            templates
                .get_binary_generic("ciphertext")
                .expect("ciphertext")
                .len(),
            512 + 16
        );
        assert_holds_no_plain(&Bson::Document(document), &encodings, "user");
    }

    // Barack's ciphertext copied into Joe's record does not open as Joe's.
    let barack_templates = stored_templates(&server, barack).await;
    assert!(matches!(
        server.state.templates.open(&joe, &barack_templates),
        Err(TemplateError::DoesNotOpen { .. })
    ));
    let moved = raw_user(&server, barack)
        .await
        .get_document("face_templates")
        .expect("templates")
        .clone();
    raw_users(&server)
        .update_one(doc! { "_id": joe }, doc! { "$set": { "face_templates": moved } })
        .await
        .expect("update");
    // A server starting on that database refuses Joe's record (and logs it) and serves the
    // others: nobody signs in as Joe with Barack's face, and Joe's own face matches nobody.
    let mut server = server;
    server.restart(SINGLE_IMAGE).await;
    assert!(
        !server.state.gallery.contains(&joe),
        "the copied record is not used"
    );
    let (status, body) = log_in(&server, "obama2.jpg").await;
    assert_eq!(
        (status, body["user_id"].as_str()),
        (StatusCode::OK, Some(barack.to_hex().as_str())),
        "{body}"
    );
    let (status, body) = log_in(&server, "biden.jpg").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn a_rotation_while_serving_keeps_every_user_able_to_log_in() {
    let reload = ["--allow-single-image", "true", "--template-key-reload-secs", "1"];
    let mut server = TestServer::start(&reload).await;
    register(&server, "Barack", "obama.jpg").await;
    let key_file = server.db.key_file();
    assert_eq!(key_ids(&key_file), ["test-key"]);

    let mut rotation = tokio::process::Command::new(env!("CARGO_BIN_EXE_facegate"))
        .args(["--mongodb-uri", &server.db.uri, "--database", "facegate_test"])
        .arg("--template-key-file")
        .arg(&key_file)
        .args(["--template-key-reload-secs", "1", "keys", "rotate"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run facegate keys rotate");
    // Someone registers while the rotation runs, once the new key is in the file.
    let mut joe = None;
    while rotation.try_wait().expect("rotation").is_none() {
        if joe.is_none() && key_ids(&key_file).len() == 2 {
            joe = Some(register(&server, "Joe", "biden.jpg").await);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let output = rotation.wait_with_output().await.expect("rotation output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let joe = joe.expect("registered during the rotation");
    let ids = key_ids(&key_file);
    assert_eq!(ids.len(), 1, "the old key is retired: {ids:?}");
    let new_key = ids[0].clone();
    assert_ne!(new_key, "test-key");
    assert!(
        stdout.contains(&new_key) && stdout.contains("removed key(s): test-key"),
        "{stdout}"
    );

    // Every record is sealed with the new key; the running server took it up.
    let users = support::all_of(&raw_users(&server)).await;
    assert_eq!(users.len(), 2);
    for document in users {
        let templates = document.get_document("face_templates").expect("templates");
        assert_eq!(templates.get_str("key_id").expect("key_id"), new_key);
        // The PIN's pepper rotated with it.
        let pin = document.get_document("pin_sealed").expect("pin_sealed");
        assert_eq!(pin.get_str("key_id").expect("key_id"), new_key, "{document}");
    }
    assert_eq!(server.state.templates.active_key_id(), new_key);
    assert_eq!(log_in(&server, "biden.jpg").await.0, StatusCode::OK);

    // A restart with the rotated key file: both log in.
    server.restart(&reload).await;
    let (status, body) = log_in(&server, "obama2.jpg").await;
    assert_eq!(
        (status, body["username"].as_str()),
        (StatusCode::OK, Some("Barack")),
        "{body}"
    );
    let (status, body) = log_in(&server, "biden.jpg").await;
    assert_eq!(
        (status, body["username"].as_str()),
        (StatusCode::OK, Some("Joe")),
        "{body}"
    );
    assert_eq!(body["user_id"], joe.to_hex());
}

#[tokio::test]
async fn a_wrong_key_stops_the_start_up_naming_the_setting() {
    let server = TestServer::start(SINGLE_IMAGE).await;
    register(&server, "Barack", "obama.jpg").await;
    let db = &server.db;

    // Another key file: the record's key id is not in it. Then the right id with the wrong key
    // bytes: the tag does not verify.
    for (key_id, expected) in [
        (
            "other-key",
            "`test-key`, which is not in the key file (it holds: other-key)",
        ),
        ("test-key", "key `test-key` of the key file did not open them"),
    ] {
        let ring = KeyRing::new(vec![TemplateKey::generate(key_id).expect("key")]).expect("ring");
        keyring::replace(&db.key_file(), &ring).expect("replace");
        let message = start_error(db, SINGLE_IMAGE).await;
        assert!(message.contains(expected), "{message}");
        assert_names_the_setting(&message);
    }
}

#[tokio::test]
async fn a_missing_malformed_or_open_key_file_stops_the_start_up() {
    use std::os::unix::fs::PermissionsExt;
    let db = FerretDb::start();
    let dir = tempfile::tempdir().expect("dir");

    let missing = dir.path().join("no-such-file");
    let message = start_error(&db, &["--template-key-file", missing.to_str().expect("utf-8")]).await;
    assert!(
        message.contains("does not exist") && message.contains("facegate keys new"),
        "{message}"
    );
    assert_names_the_setting(&message);

    let malformed = dir.path().join("malformed");
    std::fs::write(&malformed, "k1 not-a-key\n").expect("write");
    std::fs::set_permissions(&malformed, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let message = start_error(&db, &["--template-key-file", malformed.to_str().expect("utf-8")]).await;
    assert!(message.contains("malformed: line 1"), "{message}");
    assert!(!message.contains("not-a-key"), "key material echoed: {message}");
    assert_names_the_setting(&message);

    let open = db.key_file();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let message = start_error(&db, &[]).await;
    assert!(message.contains("chmod 600"), "{message}");
    assert_names_the_setting(&message);
}

/// Runs `facegate keys <command>` on the server's database and key file; its stdout.
async fn keys_command(server: &TestServer, command: &str) -> String {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_facegate"))
        .args(["--mongodb-uri", &server.db.uri, "--database", "facegate_test"])
        .arg("--template-key-file")
        .arg(server.db.key_file())
        .args(["keys", command])
        .output()
        .await
        .expect("run facegate keys");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The shape older versions wrote: plain 128 little-endian f32 per encoding.
fn plain_encodings(encodings: &[Encoding]) -> Vec<Bson> {
    encodings
        .iter()
        .map(|e| {
            Bson::Binary(Binary {
                subtype: BinarySubtype::Generic,
                bytes: e.as_slice().iter().flat_map(|v| v.to_le_bytes()).collect(),
            })
        })
        .collect()
}

/// The account of `photo` refuses its PIN step whatever the PIN (its stored PIN is not trusted),
/// and does not fall back to a face-only login.
async fn assert_every_pin_refused(server: &TestServer, photo: &str) {
    for pin in ["730418", PIN] {
        let body = json!({ "image": photo_data_url(photo), "pin": pin });
        let (status, body) = post(&client(), server, "/api/login", body).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("pin_unavailable")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_plain_record_is_never_used_or_sealed_until_the_operator_migrates_it() {
    let mut server = TestServer::start(SINGLE_IMAGE).await;
    let registered = register(&server, "Barack", "obama.jpg").await;
    let joe = register(&server, "Joe", "biden.jpg").await;
    let encodings = opened(&server, registered).await;
    raw_users(&server)
        .delete_one(doc! { "_id": registered })
        .await
        .expect("delete");
    // A plain record, as an older version wrote it — or as someone who can write the database
    // plants a face and a PIN of their choosing.
    let id = ObjectId::new();
    raw_users(&server)
        .insert_one(doc! {
            "_id": id, "email": "barack@example.org", "email_key": "barack@example.org",
            "username": "Barack", "username_key": "barack", "face_encodings": plain_encodings(&encodings),
            "created_at": DateTime::now(), "pin_hash": hash_pin(PIN).await.expect("hash"),
        })
        .await
        .expect("insert the old shape");
    // And a plain PIN hash put in place of Joe's sealed one.
    raw_users(&server)
        .update_one(
            doc! { "_id": joe },
            doc! { "$set": { "pin_hash": hash_pin("730418").await.expect("hash") }, "$unset": { "pin_sealed": "" } },
        )
        .await
        .expect("plant a PIN");

    server.restart(SINGLE_IMAGE).await;
    // Nothing was sealed, nothing signs in with the plain record.
    let document = raw_user(&server, id).await;
    assert!(document.contains_key("face_encodings") && !document.contains_key("face_templates"));
    assert!(!server.state.gallery.contains(&id));
    let (status, body) = log_in(&server, "obama2.jpg").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // Joe's planted PIN is not trusted — and he does not fall back to a face-only login either.
    assert_every_pin_refused(&server, "biden.jpg").await;

    // The operator seals them on purpose; the command names whose records it sealed.
    let report = keys_command(&server, "migrate-plain").await;
    assert!(
        report.contains(&format!("Barack ({id})")) && report.contains(&format!("Joe ({joe})")),
        "{report}"
    );
    server.restart(SINGLE_IMAGE).await;
    let document = raw_user(&server, id).await;
    assert!(
        !document.contains_key("face_encodings") && !document.contains_key("pin_hash"),
        "{document}"
    );
    assert_eq!(
        document
            .get_document("face_templates")
            .and_then(|t| t.get_str("key_id"))
            .expect("sealed"),
        "test-key"
    );
    assert_holds_no_plain(&Bson::Document(document), &encodings, "user");
    assert_eq!(opened(&server, id).await, encodings);
    let (status, body) = log_in(&server, "obama2.jpg").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_id"], id.to_hex());
    // Running it again changes nothing.
    assert!(
        keys_command(&server, "migrate-plain")
            .await
            .contains("face templates of 0 user(s)")
    );
}

/// Every string in a document, with its path.
fn strings(value: &Bson, path: &str, found: &mut Vec<(String, String)>) {
    match value {
        Bson::String(text) => found.push((path.to_string(), text.clone())),
        Bson::Binary(binary) => found.push((
            path.to_string(),
            String::from_utf8_lossy(&binary.bytes).to_string(),
        )),
        Bson::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings(item, &format!("{path}[{i}]"), found);
            }
        }
        Bson::Document(document) => {
            for (key, item) in document {
                strings(item, &format!("{path}.{key}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn a_dump_holds_no_pin_hash_to_guess_offline_and_a_copied_pin_is_refused() {
    use argon2::password_hash::PasswordHash;
    let mut server = TestServer::start(SINGLE_IMAGE).await;
    let barack = register(&server, "Barack", "obama.jpg").await;
    let body = json!({ "username": "Joe", "email": "joe@example.org", "pin": "730418", "image": photo_data_url("biden.jpg") });
    let (status, body) = post(&client(), &server, "/api/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let joe = ObjectId::parse_str(body["user_id"].as_str().expect("id")).expect("id");

    // The dump: users and the change log, read directly. No string or binary in it is an Argon2
    // PHC string (which an offline search needs: salt, parameters and hash), nor holds one.
    let mut dumped = Vec::new();
    for collection in ["users", "changes"] {
        let documents = support::all_of(&server.db().database().collection::<Document>(collection)).await;
        assert!(!documents.is_empty(), "{collection} is empty");
        for document in documents {
            strings(&Bson::Document(document), collection, &mut dumped);
        }
    }
    for (path, text) in &dumped {
        assert!(
            !text.contains("argon2") && PasswordHash::new(text).is_err(),
            "{path} holds a verifiable PIN hash: {text}"
        );
    }
    let document = raw_user(&server, barack).await;
    assert!(!document.contains_key("pin_hash"), "{document}");
    let sealed = document.get_document("pin_sealed").expect("pin_sealed");
    assert_eq!(sealed.get_str("key_id").expect("key_id"), "test-key");
    // Control: with the key, the sealed value is the PHC string that verifies the PIN.
    let sealed: facegate::at_rest::SealedPin =
        mongodb::bson::from_document(sealed.clone()).expect("sealed pin");
    let phc = server
        .state
        .templates
        .open_pin(&barack, &sealed)
        .expect("opens for Barack");
    let hash = PasswordHash::new(&phc).expect("a PHC string");
    use argon2::PasswordVerifier;
    assert!(
        argon2::Argon2::default()
            .verify_password(PIN.as_bytes(), &hash)
            .is_ok()
    );

    // Joe's sealed PIN (whose PIN the attacker knows: their own account) copied onto Barack's
    // record: it fails its binding; Barack's PIN step refuses every PIN instead of using it.
    let joes_pin = raw_user(&server, joe)
        .await
        .get_document("pin_sealed")
        .expect("sealed")
        .clone();
    raw_users(&server)
        .update_one(
            doc! { "_id": barack },
            doc! { "$set": { "pin_sealed": joes_pin } },
        )
        .await
        .expect("copy");
    server.restart(SINGLE_IMAGE).await;
    assert_every_pin_refused(&server, "obama2.jpg").await;
    // Joe's own record still works.
    let (status, body) = post(
        &client(),
        &server,
        "/api/login",
        json!({ "image": photo_data_url("biden.jpg"), "pin": "730418" }),
    )
    .await;
    assert_eq!(
        (status, body["user_id"].as_str()),
        (StatusCode::OK, Some(joe.to_hex().as_str())),
        "{body}"
    );
}
