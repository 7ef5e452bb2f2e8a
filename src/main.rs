//! The facegate server binary: everything lives in the library; see `facegate::server`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    facegate::server::main().await
}
