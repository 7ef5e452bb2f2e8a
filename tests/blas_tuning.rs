//! The real binary picks its OpenBLAS settings itself: OpenBLAS reads them before `main`, so the
//! server re-executes itself once with one BLAS thread per face worker (and a better kernel set
//! where OpenBLAS fell back to its generic one), unless the operator chose.

use std::process::Command;

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_facegate"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("OPENBLAS_NUM_THREADS")
        .env_remove("OPENBLAS_CORETYPE")
        .env_remove("OMP_NUM_THREADS")
        .env_remove("FACEGATE_OPENBLAS_TUNED")
        .env("RUST_LOG", "info");
    command
}

/// Starts the server against a database that does not answer (it stops after loading the face
/// engine) and returns what it logged.
fn start_log(extra_env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("keys");
    let made = binary()
        .args(["keys", "new", "--file"])
        .arg(&key_file)
        .output()
        .expect("keys new");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let output = binary()
        .args([
            "--mongodb-uri",
            "mongodb://127.0.0.1:9/",
            "--db-connect-timeout-secs",
            "1",
        ])
        .args([
            "--face-workers",
            "2",
            "--log-format",
            "json",
            "--template-key-file",
        ])
        .arg(&key_file)
        .envs(extra_env.iter().copied())
        .output()
        .expect("run the server");
    assert!(!output.status.success(), "no database: the server must stop");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The fields of the "face engine started" log line.
fn engine_fields(log: &str) -> serde_json::Value {
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|entry| entry["fields"].clone())
        .find(|fields| fields["message"] == "face engine started")
        .unwrap_or_else(|| panic!("no face engine line in:\n{log}"))
}

#[test]
fn two_face_workers_get_one_blas_thread_each_without_a_setting() {
    let log = start_log(&[]);
    let fields = engine_fields(&log);
    assert_eq!(fields["openblas_threads"], 1, "{fields}");
    if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
        let tuned = fields["tuned"].as_str().unwrap_or_default();
        assert!(tuned.contains("OPENBLAS_NUM_THREADS=1"), "{fields}");
    }
    assert!(
        !log.contains("for faster face encoding, start facegate with"),
        "no advice left: {log}"
    );
}

#[test]
fn what_the_operator_set_stands() {
    let log = start_log(&[("OPENBLAS_NUM_THREADS", "2")]);
    let fields = engine_fields(&log);
    assert_eq!(fields["openblas_threads"], 2, "{fields}");
    assert_eq!(fields["tuned"], "no", "{fields}");
}
