//! Shared by the integration tests: a real FerretDB per test and the real server in-process.
#![allow(dead_code)] // each test binary uses a different part

pub mod animate;
pub mod authenticator;
pub mod outline;
pub mod warp_residual;

use std::{
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use facegate::{config::Config, db::Db, state::AppState};

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// A FerretDB process with a throwaway SQLite data directory; killed when dropped.
pub struct FerretDb {
    child: Child,
    pub uri: String,
    port: u16,
    dir: tempfile::TempDir,
}

impl FerretDb {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("db")).expect("data dir");
        let port = free_port();
        Self {
            child: Self::spawn(dir.path(), port),
            uri: format!("mongodb://127.0.0.1:{port}/"),
            port,
            dir,
        }
    }

    /// Starts FerretDB again on the same port and data (after [`Self::stop`]: a database that
    /// comes back).
    pub fn restart(&mut self) {
        self.stop();
        self.child = Self::spawn(self.dir.path(), self.port);
    }

    /// Freezes the database process (SIGSTOP): it keeps its connections but answers nothing,
    /// like a hung server. [`Self::resume`] thaws it.
    pub fn freeze(&self) {
        Self::signal(&self.child, "-STOP");
    }

    pub fn resume(&self) {
        Self::signal(&self.child, "-CONT");
    }

    fn signal(child: &Child, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill {signal} failed");
    }

    fn spawn(dir: &Path, port: u16) -> Child {
        let binary = std::env::var_os("FERRETDB_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_path(".tools/bin/ferretdb"));
        assert!(
            binary.is_file(),
            "FerretDB is not built at {}; run scripts/setup.sh (or `make setup`) first",
            binary.display()
        );
        let child = Command::new(&binary)
            .arg("--handler=sqlite")
            .arg(format!("--sqlite-url=file:{}/", dir.join("db").display()))
            .arg(format!("--listen-addr=127.0.0.1:{port}"))
            .arg(format!("--state-dir={}", dir.display()))
            .args(["--telemetry=disable", "--debug-addr=-", "--log-level=error"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start FerretDB");
        let started = Instant::now();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "FerretDB did not listen on {addr} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    }

    /// The template key file of servers on this database (created by [`test_config`]); it lives
    /// in the database's throwaway folder, so a restarted server finds the same keys.
    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("template-keys")
    }
}

impl FerretDb {
    /// Stops the database (as a crash or an outage would).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FerretDb {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The PIN the tests register with (6 digits, passes the PIN rules).
pub const PIN: &str = "583920";

/// Settings for a test server on `db`, with extra command-line style arguments (which win). The
/// template key file is `db.key_file()`, created with one random key when missing.
pub fn test_config(db: &FerretDb, extra: &[&str]) -> Config {
    Config::parse_with_file(None, test_args(db, extra)).expect("test config")
}

/// [`test_config`] as command-line arguments (the first is the program name).
pub fn test_args(db: &FerretDb, extra: &[&str]) -> Vec<String> {
    use facegate::at_rest::{KeyRing, TemplateKey, keyring};
    let key_file = db.key_file();
    if !key_file.exists() {
        let ring = KeyRing::new(vec![TemplateKey::generate("test-key").expect("key")]).expect("ring");
        keyring::create(&key_file, &ring).expect("template key file");
    }
    let models = repo_path("models");
    let mut args = vec![
        "facegate".to_string(),
        "--mongodb-uri".into(),
        db.uri.clone(),
        "--database".into(),
        "facegate_test".into(),
        "--models-dir".into(),
        models.display().to_string(),
        "--db-connect-timeout-secs".into(),
        "10".into(),
        // Every test client is 127.0.0.1, one address: the throttle would refuse the tests of
        // everything else. tests/http_security.rs turns it on (a later flag wins).
        "--throttle".into(),
        "false".into(),
        // Most tests drive the live check by uploading clips (the attacks on that path among
        // them); `live_api::uploaded_clips_are_refused_by_default` shows the default is off.
        "--allow-clip-upload".into(),
        "true".into(),
        "--template-key-file".into(),
        key_file.display().to_string(),
        // Beside it, not in the checkout's data/: created at the server's first start.
        "--oidc-key-file".into(),
        key_file.with_file_name("oidc-keys").display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Something serving the app over HTTP: an in-process [`TestServer`] or an [`AppProcess`].
pub trait Served {
    fn url(&self, path: &str) -> String;
}

impl Served for TestServer {
    fn url(&self, path: &str) -> String {
        TestServer::url(self, path)
    }
}

/// The real `facegate` binary serving on `db` (another app instance on the same database),
/// killed when dropped.
pub struct AppProcess {
    child: Child,
    pub base_url: String,
}

impl AppProcess {
    /// Starts it and waits until `/healthz` answers.
    pub async fn start(db: &FerretDb, extra: &[&str]) -> Self {
        let port = free_port();
        let args = test_args(db, extra);
        // Integration tests know where Cargo built the binary; benches and examples use the
        // debug build's place.
        let binary = option_env!("CARGO_BIN_EXE_facegate")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_path("target/debug/facegate"));
        let child = Command::new(binary)
            .current_dir(repo_path(""))
            .args(&args[1..])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the facegate binary");
        let mut process = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        let health = reqwest::Client::new();
        loop {
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("the facegate binary stopped at start-up ({status}); its log is above");
            }
            let answer = health.get(process.url("/healthz")).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return process;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the facegate binary did not answer /healthz within 120 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Served for AppProcess {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Leptos' settings from the repository's Leptos.toml.
pub fn leptos_options() -> leptos::config::LeptosOptions {
    leptos::config::get_configuration(Some(repo_path("Leptos.toml").to_str().expect("utf-8")))
        .expect("Leptos.toml")
        .leptos_options
}

/// The real server (router, state, database, models) on a free port, stopped when dropped.
pub struct TestServer {
    pub base_url: String,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub db: FerretDb,
}

impl TestServer {
    pub async fn start(extra: &[&str]) -> Self {
        Self::start_serving(extra, None).await
    }

    /// A server whose static files come from `site_root` instead of `target/site`.
    pub async fn start_with_site_root(extra: &[&str], site_root: &Path) -> Self {
        Self::start_serving(extra, Some(site_root)).await
    }

    /// A server on a database prepared beforehand (benches fill it first).
    pub async fn start_on(db: FerretDb, extra: &[&str]) -> Self {
        let (base_url, state, shutdown) = Self::serve(&db, extra, None).await;
        Self {
            base_url,
            state,
            shutdown: Some(shutdown),
            db,
        }
    }

    async fn start_serving(extra: &[&str], site_root: Option<&Path>) -> Self {
        let db = FerretDb::start();
        let (base_url, state, shutdown) = Self::serve(&db, extra, site_root).await;
        Self {
            base_url,
            state,
            shutdown: Some(shutdown),
            db,
        }
    }

    async fn serve(
        db: &FerretDb,
        extra: &[&str],
        site_root: Option<&Path>,
    ) -> (String, AppState, tokio::sync::oneshot::Sender<()>) {
        let config = test_config(db, extra);
        let mut leptos_options = leptos_options();
        if let Some(root) = site_root {
            leptos_options.site_root = root.display().to_string().into();
        }
        let state = AppState::start(config, leptos_options).await.expect("app state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = tokio::sync::oneshot::channel();
        let serve_state = state.clone();
        tokio::spawn(async move {
            facegate::server::serve(listener, serve_state, async {
                let _ = rx.await;
            })
            .await
            .expect("server");
        });
        (base_url, state, tx)
    }

    /// Stops this app and starts a new one on the same database (a restart: nothing in memory
    /// survives, everything stored does).
    pub async fn restart(&mut self, extra: &[&str]) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let (base_url, state, shutdown) = Self::serve(&self.db, extra, None).await;
        self.base_url = base_url;
        self.state = state;
        self.shutdown = Some(shutdown);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A real test photo (fetched by scripts/fetch-media.sh) as bytes.
pub fn photo(name: &str) -> Vec<u8> {
    let path = repo_path(".cache/media/photos").join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/fetch-media.sh (make media)", path.display()))
}

/// A real test photo as the `data:` URL a browser sends.
pub fn photo_data_url(name: &str) -> String {
    use base64::Engine;
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(photo(name))
    )
}

/// Encodes an image as a JPEG `data:` URL.
pub fn data_url_of(image: &image::DynamicImage) -> String {
    use base64::Engine;
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageOutputFormat::Jpeg(92))
        .expect("encode JPEG");
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes.into_inner())
    )
}

/// Frames `start_s`…`start_s + seconds` of a clip cut by scripts/make-live-media.sh (10 per
/// second), as `{t_ms, image}` with capture times from 0.
pub fn clip_frames(clip: &str, start_s: f64, seconds: f64) -> Vec<serde_json::Value> {
    use base64::Engine;
    let files = frame_files(clip);
    let first = (start_s * 10.0) as usize;
    let count = (seconds * 10.0) as usize;
    files
        .iter()
        .skip(first)
        .take(count)
        .enumerate()
        .map(|(i, file)| {
            let bytes = std::fs::read(file).expect("frame");
            serde_json::json!({
                "t_ms": i as f64 * 100.0,
                "image": format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)),
            })
        })
        .collect()
}

/// An HTTP client that keeps cookies, like a browser.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

/// POSTs JSON; the status and the JSON answer (`null` when there is none).
pub async fn post(
    client: &reqwest::Client,
    server: &impl Served,
    path: &str,
    body: serde_json::Value,
) -> (reqwest::StatusCode, serde_json::Value) {
    let response = client
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

/// The JPEG frames of a clip cut by scripts/make-live-media.sh, in order.
pub fn frame_files(clip: &str) -> Vec<PathBuf> {
    let dir = repo_path(".cache/media/frames").join(clip);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/fetch-media.sh (make media)", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    files.sort();
    files
}

/// Documents in one of the test database's collections.
/// GETs `path` and reads the JSON answer.
pub async fn get_json(client: &reqwest::Client, server: &impl Served, path: &str) -> serde_json::Value {
    client
        .get(server.url(path))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("a JSON answer")
}

/// Every collection that holds something about a person: after an account is deleted, all empty.
pub const PERSONAL_COLLECTIONS: [&str; 5] = ["users", "sessions", "audit", "pin_locks", "passkeys"];

pub async fn assert_nothing_stored(server: &TestServer) {
    for collection in PERSONAL_COLLECTIONS {
        assert_eq!(count(server, collection).await, 0, "{collection} must be empty");
    }
    // The change log keeps the deletion itself for the other instances (an id, nothing else).
    let carrying_data = server
        .db()
        .changes()
        .count_documents(mongodb::bson::doc! { "$or": [
            { "change.enrolled": { "$exists": true } },
            { "change.session_opened": { "$exists": true } },
            { "change.passkey_added": { "$exists": true } },
        ] })
        .await
        .expect("count");
    assert_eq!(
        carrying_data, 0,
        "the change log must hold nothing but the deletion"
    );
}

/// Stored sessions that have not ended (an ended one keeps its row until the background purge).
pub async fn live_sessions(server: &TestServer) -> u64 {
    use futures::TryStreamExt;
    let ended = facegate::db::sessions::ended(server.db()).await.expect("ended");
    let stored: Vec<_> = server
        .db()
        .sessions()
        .find(mongodb::bson::doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read");
    stored.iter().filter(|s| !ended.contains(&s.token_hash)).count() as u64
}

pub async fn count(server: &TestServer, collection: &str) -> u64 {
    server
        .db()
        .database()
        .collection::<mongodb::bson::Document>(collection)
        .count_documents(mongodb::bson::doc! {})
        .await
        .expect("count")
}

/// The one stored user and its enrolled encodings, opened with the server's template keys.
pub async fn only_user_encodings(
    server: &TestServer,
) -> (facegate::db::users::UserDoc, Vec<facegate::face::Encoding>) {
    let user = only_user(server).await;
    let encodings = server
        .state
        .templates
        .open(&user.id, &user.face_templates)
        .expect("templates open");
    (user, encodings)
}

/// The one stored user.
pub async fn only_user(server: &TestServer) -> facegate::db::users::UserDoc {
    server
        .db()
        .users()
        .find_one(mongodb::bson::doc! {})
        .await
        .expect("find")
        .expect("a stored user")
}

/// Makes every stored session's login `minutes` old, in the database and in the server's memory
/// (where page views read them), as if the logins had happened that long ago.
pub async fn backdate_logins(server: &TestServer, minutes: i64) {
    use mongodb::bson::{DateTime, doc};
    let then = DateTime::from_millis(DateTime::now().timestamp_millis() - minutes * 60_000);
    let sessions = server.db().sessions();
    sessions
        .update_many(doc! {}, doc! { "$set": { "created_at": then } })
        .await
        .expect("update");
    for session in all_of(&sessions).await {
        server.state.sessions.insert(session);
    }
}

/// Every document of `collection`, read straight from the database.
pub async fn all_of<T>(collection: &mongodb::Collection<T>) -> Vec<T>
where
    T: serde::de::DeserializeOwned + Send + Sync,
{
    use futures::TryStreamExt;
    collection
        .find(mongodb::bson::doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("read")
}

/// Stores `session` as a login on this server would: in the database and in memory.
pub async fn plant_session(server: &TestServer, session: facegate::db::sessions::SessionDoc) {
    server.db().sessions().insert_one(&session).await.expect("insert");
    server.state.sessions.insert(session);
}

/// Stores "Twin" (twin@example.org) with the face encodings of the one user this server has, as
/// an identical twin would enrol, and PIN `pin` (sealed like a registration seals it), in the
/// database and the gallery. Registration refuses an enrolled face, so tests that need two
/// near-equal people plant the second one here. Returns the twin's id.
pub async fn plant_twin(server: &TestServer, pin: &str) -> mongodb::bson::oid::ObjectId {
    use facegate::{accounts::ssr::second_factor::hash_pin, db::users::UserDoc, gallery};
    let (_, encodings) = only_user_encodings(server).await;
    let id = mongodb::bson::oid::ObjectId::new();
    let phc = hash_pin(pin).await.expect("hash");
    let twin = UserDoc {
        id,
        email: "twin@example.org".into(),
        email_key: "twin@example.org".into(),
        username: "Twin".into(),
        username_key: "twin".into(),
        face_templates: server.state.templates.seal(&id, &encodings).expect("seal"),
        created_at: mongodb::bson::DateTime::now(),
        last_login_at: None,
        pin_sealed: Some(server.state.templates.seal_pin(&id, &phc).expect("seal")),
        pin_hash: None,
    };
    server
        .db()
        .users()
        .insert_one(&twin)
        .await
        .expect("insert the twin");
    let person = gallery::Person {
        username: twin.username,
        pin: gallery::Pin::Hash(phc),
        last_login_at: None,
    };
    server.state.gallery.add(id, &encodings, person);
    id
}

/// A response's status, `Retry-After` and JSON body (`null` when there is none).
pub async fn error_of(
    response: reqwest::Response,
) -> (reqwest::StatusCode, Option<String>, serde_json::Value) {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (
        status,
        retry_after,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}
