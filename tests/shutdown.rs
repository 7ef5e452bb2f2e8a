//! Stopping the real binary: on SIGTERM `/healthz` answers 503 "draining" while requests are
//! still accepted for the grace, then no new connection is, a request already running finishes
//! with its normal answer, and the process exits 0 — or, past the deadline, exits anyway and logs
//! how many requests it cut.

use crate::support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{FerretDb, PIN, free_port, photo_data_url, repo_path};

/// The facegate binary on a free port, its log in a file.
struct Binary {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Binary {
    fn start(db: &FerretDb, grace_secs: u64, deadline_secs: u64) -> Self {
        support::test_config(db, &[]); // creates the template key file
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("facegate.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let child = Command::new(env!("CARGO_BIN_EXE_facegate"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("FACEGATE_LISTEN", addr.to_string())
            // tower_http's debug lines say when a request has reached the app.
            .env("RUST_LOG", "info,tower_http=debug")
            .args(["--mongodb-uri", &db.uri, "--database", "facegate_test"])
            .arg("--models-dir")
            .arg(repo_path("models"))
            .arg("--template-key-file")
            .arg(db.key_file())
            .args([
                "--throttle",
                "false",
                "--allow-single-image",
                "true",
                "--face-workers",
                "1",
            ])
            .args(["--shutdown-grace-secs", &grace_secs.to_string()])
            .args(["--shutdown-deadline-secs", &deadline_secs.to_string()])
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .spawn()
            .expect("start facegate");
        let binary = Self {
            child,
            addr,
            log,
            _dir: dir,
        };
        binary.wait_until_ready();
        binary
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Requests that have reached the app so far.
    fn requests_started(&self) -> usize {
        self.log().matches("started processing request").count()
    }

    /// Starts a login with a real photo whose body is held back; returns once the app has it.
    fn hold_login(&self) -> HeldRequest {
        let before = self.requests_started();
        let login = HeldRequest::start(
            self.addr,
            "/api/login",
            &json!({ "image": photo_data_url("obama2.jpg"), "pin": PIN }),
        );
        wait_for("the held login to reach the app", self, || {
            self.requests_started() > before
        });
        login
    }

    fn wait_until_ready(&self) {
        let started = Instant::now();
        while self.healthz().map(|(status, _)| status) != Some(200) {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "facegate did not become healthy:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `GET /healthz` on a new connection: status and body, `None` when refused.
    fn healthz(&self) -> Option<(u16, Value)> {
        let mut stream = TcpStream::connect(self.addr).ok()?;
        let request = format!(
            "GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        stream.write_all(request.as_bytes()).ok()?;
        read_response(&mut stream)
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    fn wait(&mut self) -> ExitStatus {
        self.child.wait().expect("facegate exits")
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one `Connection: close` HTTP/1.1 answer: status and JSON body (`null` if none).
fn read_response(stream: &mut TcpStream) -> Option<(u16, Value)> {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or("");
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// A `POST` whose body is only half sent: in flight until [`HeldRequest::finish`].
struct HeldRequest {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl HeldRequest {
    fn start(addr: SocketAddr, path: &str, body: &Value) -> Self {
        let body = body.to_string().into_bytes();
        let mut stream = TcpStream::connect(addr).expect("connect");
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("headers");
        let (first, rest) = body.split_at(body.len() / 2);
        stream.write_all(first).expect("first half");
        stream.flush().expect("flush");
        Self {
            stream,
            rest: rest.to_vec(),
        }
    }

    fn finish(mut self) -> (u16, Value) {
        self.stream.write_all(&self.rest).expect("second half");
        read_response(&mut self.stream).expect("an answer")
    }
}

fn register(addr: SocketAddr) {
    let body = json!({ "username": "Barack", "email": "barack@example.org", "pin": PIN, "image": photo_data_url("obama.jpg") });
    let (status, reply) = HeldRequest::start(addr, "/api/register", &body).finish();
    assert_eq!(status, 201, "{reply}");
}

/// Polls until `done` says yes; gives up (failing) after a generous bound.
fn wait_for(what: &str, binary: &Binary, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} never happened:\n{}",
            binary.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_drains_then_finishes_the_running_login_and_exits_0() {
    let db = FerretDb::start();
    // A long grace: the test must see the 503 while connections are still accepted.
    let mut binary = Binary::start(&db, 8, 120);
    register(binary.addr);

    let login = binary.hold_login();
    binary.terminate();
    let mut draining = None;
    wait_for("a 503 from /healthz", &binary, || {
        draining = binary.healthz().filter(|(status, _)| *status != 200);
        draining.is_some()
    });
    let (status, body) = draining.expect("answered while draining");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "draining");

    // After the grace no new connection is taken; the login already running still is served.
    wait_for("the listener closing", &binary, || {
        TcpStream::connect(binary.addr).is_err()
    });
    let (status, reply) = login.finish();
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["username"], "Barack");

    let exit = binary.wait();
    let log = binary.log();
    assert!(exit.success(), "{exit:?}\n{log}");
    assert!(log.contains("every request finished"), "{log}");
}

#[test]
fn past_the_deadline_the_process_exits_and_says_how_many_it_cut() {
    let db = FerretDb::start();
    let mut binary = Binary::start(&db, 0, 2);
    let _never_finished = binary.hold_login();
    binary.terminate();
    let exit = binary.wait();
    let log = binary.log();
    assert!(exit.success(), "{exit:?}\n{log}");
    assert!(log.contains("stopping with 1 request(s) still running"), "{log}");
}
