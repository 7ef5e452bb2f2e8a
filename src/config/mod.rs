//! Run-time configuration, read once at start-up.
//!
//! Precedence, highest first: command-line flag, environment variable, the `[facegate]` table of
//! `Leptos.toml` (or the file named by `FACEGATE_CONFIG`), the default written here. The site
//! address and asset paths are Leptos' own settings: `[package.metadata.leptos]` of the same file,
//! overridden by `LEPTOS_*` variables.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

pub mod commands;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};

/// The settings file, relative to the working directory.
pub const DEFAULT_CONFIG_FILE: &str = "Leptos.toml";

#[derive(Parser, Debug, Clone)]
#[command(
    name = "facegate",
    version,
    about = "Register and sign in with your face",
    args_override_self = true
)]
pub struct Config {
    /// MongoDB connection string (MongoDB 5.0+, or the local FerretDB that `make run` starts).
    #[arg(long, env = "MONGODB_URI", default_value = "mongodb://127.0.0.1:27018/")]
    pub mongodb_uri: String,

    /// Database name inside that server.
    #[arg(long, env = "FACEGATE_DATABASE", default_value = "facegate")]
    pub(crate) database: String,

    /// How long to keep retrying the database at start-up before giving up, in seconds.
    #[arg(long, env = "FACEGATE_DB_CONNECT_TIMEOUT_SECS", default_value_t = 20)]
    pub(crate) db_connect_timeout_secs: u64,

    /// Folder holding dlib's model files (`make models` puts them there).
    #[arg(long, env = "FACEGATE_MODELS_DIR", default_value = "models")]
    pub(crate) models_dir: PathBuf,

    /// Address to listen on; overrides Leptos' `site-addr` (`LEPTOS_SITE_ADDR`).
    #[arg(long, env = "FACEGATE_LISTEN")]
    pub(crate) listen: Option<SocketAddr>,

    /// Log format: `text` for people, `json` for log collectors. Levels come from `RUST_LOG`.
    #[arg(long, env = "FACEGATE_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub(crate) log_format: String,

    /// Always mark the session cookie `Secure` (set this when facegate is served over HTTPS; an
    /// https `public-origin`, or a trusted proxy's `X-Forwarded-Proto: https`, also turns it on).
    #[arg(long, env = "FACEGATE_SECURE_COOKIES", default_value_t = false, action = clap::ArgAction::Set)]
    pub(crate) secure_cookies: bool,

    /// Send `Strict-Transport-Security: max-age=31536000` (a year) on every HTTPS response, so
    /// browsers stop using plain HTTP for this host. Turn it on once HTTPS is there to stay.
    #[arg(long, env = "FACEGATE_HSTS", default_value_t = false, action = clap::ArgAction::Set)]
    pub(crate) hsts: bool,

    /// Largest request body accepted, in bytes; refused with 413 before it is read.
    #[arg(long, env = "FACEGATE_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub(crate) max_body_bytes: usize,

    /// Key file that encrypts the stored face templates: one `<key-id> <base64 of 32 bytes>` a
    /// line, the first seals new templates (docs/security.md). Must not be readable by others.
    /// `facegate keys new` creates one.
    #[arg(
        long,
        env = "FACEGATE_TEMPLATE_KEY_FILE",
        default_value = "data/template-keys"
    )]
    pub(crate) template_key_file: PathBuf,

    /// How often a running server checks the key file for a change (`facegate keys rotate`), in
    /// seconds.
    #[arg(long, env = "FACEGATE_TEMPLATE_KEY_RELOAD_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=300))]
    pub(crate) template_key_reload_secs: u64,

    /// After SIGTERM or Ctrl-C, seconds during which the server still accepts requests while
    /// `/healthz` answers 503 "draining", so a load balancer stops sending new ones first.
    #[arg(long, env = "FACEGATE_SHUTDOWN_GRACE_SECS", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(0..=300))]
    pub(crate) shutdown_grace_secs: u64,

    /// After SIGTERM or Ctrl-C, seconds until the process exits however many requests are still
    /// running (counted from the signal, grace included).
    #[arg(long, env = "FACEGATE_SHUTDOWN_DEADLINE_SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(crate) shutdown_deadline_secs: u64,

    #[command(flatten)]
    pub face: crate::face::settings::FaceSettings,

    #[command(flatten)]
    pub(crate) live: crate::live::ssr::settings::LiveSettings,

    #[command(flatten)]
    pub accounts: crate::accounts::ssr::settings::AccountSettings,

    #[command(flatten)]
    pub(crate) http: crate::http::settings::HttpSettings,

    #[command(flatten)]
    pub(crate) metrics: crate::metrics::settings::MetricsSettings,

    #[command(flatten)]
    pub(crate) oidc: crate::oidc::settings::OidcSettings,

    #[command(flatten)]
    pub(crate) forward_auth: crate::forward_auth::settings::ForwardAuthSettings,

    /// Without a command, facegate serves the app.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// What the binary does other than serving.
#[derive(clap::Subcommand, Debug, Clone, PartialEq)]
pub(crate) enum Command {
    /// Manage the keys that encrypt the stored face templates (docs/security.md).
    ///
    /// Settings go before `keys`, or come from the environment and Leptos.toml as for the
    /// server: `facegate --template-key-file /etc/facegate/keys keys rotate`.
    #[command(subcommand)]
    Keys(commands::KeysCommand),
    /// Measure the face comparison's error rates on a folder of labelled photos
    /// (`DIR/<person>/<photo>`): FMR/FNMR per threshold, a DET curve (docs/accuracy.md).
    Eval(commands::EvalArgs),
    /// Register OpenID Connect clients: `add`, `list`, `remove` (docs/oidc.md).
    #[command(subcommand)]
    Clients(commands::ClientsCommand),
}

impl Config {
    pub fn db_connect_timeout(&self) -> Duration {
        Duration::from_secs(self.db_connect_timeout_secs)
    }

    pub fn template_key_reload(&self) -> Duration {
        Duration::from_secs(self.template_key_reload_secs)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    pub fn shutdown_deadline(&self) -> Duration {
        Duration::from_secs(self.shutdown_deadline_secs)
    }

    /// Reads flags, environment and the settings file. Errors are messages for the operator.
    pub fn load() -> Result<Self, String> {
        let file = std::env::var("FACEGATE_CONFIG").unwrap_or_else(|_| DEFAULT_CONFIG_FILE.into());
        let defaults = read_file_defaults(&file)?;
        let matches = Self::command_with_defaults(&defaults)?
            .try_get_matches()
            .unwrap_or_else(|e| e.exit());
        Self::from_matches(&matches)
    }

    /// Parses an explicit argument list (tests), with the same file defaults as [`Config::load`].
    pub fn parse_with_file<I, T>(file: Option<&str>, args: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let defaults = match file {
            Some(file) => read_file_defaults(file)?,
            None => Vec::new(),
        };
        let matches = Self::command_with_defaults(&defaults)?
            .try_get_matches_from(args)
            .map_err(|e| e.to_string())?;
        Self::from_matches(&matches)
    }

    fn from_matches(matches: &ArgMatches) -> Result<Self, String> {
        Self::from_arg_matches(matches).map_err(|e| e.to_string())
    }

    /// The clap command with each setting from the file installed as that argument's default,
    /// so flags and environment variables still win over the file.
    fn command_with_defaults(defaults: &[(String, String)]) -> Result<clap::Command, String> {
        let mut command = Self::command();
        for (key, value) in defaults {
            let id = key.replace('-', "_");
            if !command.get_arguments().any(|a| a.get_id() == id.as_str()) {
                return Err(format!(
                    "unknown setting `{key}` in the [facegate] table of the settings file"
                ));
            }
            let value: &'static str = Box::leak(value.clone().into_boxed_str());
            command = command.mut_arg(id, |arg| arg.default_value(value));
        }
        Ok(command)
    }
}

/// The `[facegate]` table of the settings file as `(key, value)` strings. A missing file is fine.
fn read_file_defaults(path: &str) -> Result<Vec<(String, String)>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {path}: {e}")),
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{path} is not valid TOML: {e}"))?;
    let Some(section) = table.get("facegate") else {
        return Ok(Vec::new());
    };
    let section = section
        .as_table()
        .ok_or_else(|| format!("[facegate] in {path} must be a table"))?;
    section
        .iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(format!(
                        "setting `{key}` in {path} must be a string, number or boolean, not {other}"
                    ));
                }
            };
            Ok((key.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn settings_file(body: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(body.as_bytes()).expect("write");
        file
    }

    #[test]
    fn file_values_are_defaults_and_flags_win() {
        let file = settings_file("[facegate]\ndatabase = \"from-file\"\nmatch-threshold = 0.5\n");
        let path = file.path().to_str().expect("utf-8 path");
        let config = Config::parse_with_file(Some(path), ["facegate"]).expect("config");
        assert_eq!(config.database, "from-file");
        assert_eq!(config.face.match_threshold, 0.5);
        let config =
            Config::parse_with_file(Some(path), ["facegate", "--database", "from-flag"]).expect("config");
        assert_eq!(config.database, "from-flag");
    }

    #[test]
    fn unknown_file_settings_are_refused() {
        let file = settings_file("[facegate]\ndatabse = \"typo\"\n");
        let error = Config::parse_with_file(file.path().to_str(), ["facegate"]).expect_err("typo must fail");
        assert!(error.contains("databse"), "{error}");
    }

    #[test]
    fn no_command_serves_and_keys_commands_parse() {
        use commands::KeysCommand;
        let config = Config::parse_with_file(None, ["facegate"]).expect("config");
        assert_eq!(config.command, None);
        let config = Config::parse_with_file(
            None,
            [
                "facegate",
                "--database",
                "x",
                "keys",
                "rotate",
                "--settle-secs",
                "3",
            ],
        )
        .expect("config");
        assert_eq!(config.database, "x");
        assert_eq!(
            config.command,
            Some(Command::Keys(KeysCommand::Rotate { settle_secs: Some(3) }))
        );
        let config =
            Config::parse_with_file(None, ["facegate", "keys", "new", "--file", "k"]).expect("config");
        assert_eq!(
            config.command,
            Some(Command::Keys(KeysCommand::New {
                file: Some("k".into())
            }))
        );
    }

    #[test]
    fn the_shipped_settings_file_parses() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml");
        Config::parse_with_file(Some(path), ["facegate"]).expect("Leptos.toml must parse");
    }
}
