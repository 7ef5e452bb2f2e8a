//! The subcommands' arguments (`facegate keys|clients|eval …`): parsed with the settings, run
//! by their own modules (`at_rest::cli`, `oidc::cli`, `eval`).

use std::path::PathBuf;

#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeysCommand {
    /// Create a key file holding one new random key (mode 0600). Never overwrites a file.
    New {
        /// Where to create it [default: the template-key-file setting]
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Re-encrypt every stored face template and PIN hash under a new key, while servers keep running.
    ///
    /// Adds the new key as the active one, waits for running servers to reload the key file,
    /// re-encrypts every record, then removes the keys no record uses any more
    /// (docs/security.md, "Rotating the key"). Uses the database and key file settings.
    Rotate {
        /// Seconds to wait for running servers to reload the key file
        /// [default: twice template-key-reload-secs, plus one]
        #[arg(long)]
        settle_secs: Option<u64>,
    },
    /// Seal the face encodings and PIN hashes that older versions stored unencrypted.
    ///
    /// A server never uses nor seals such records by itself: whoever can write the database could
    /// plant a face or a PIN that way. Run this once after upgrading, check the users it names,
    /// then restart the servers (docs/security.md, "Plain records").
    MigratePlain,
    /// The OpenID Connect signing keys: `new`, `rotate`, `retire` (docs/oidc.md).
    #[command(subcommand)]
    Signing(SigningKeysCommand),
}

#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum ClientsCommand {
    /// Register a client in the clients file (oidc-clients-file). Prints a generated secret once.
    Add {
        /// The client_id
        id: String,
        /// Name shown on the consent page [default: the id]
        #[arg(long)]
        name: Option<String>,
        /// An allowed redirect URI, matched exactly (repeat for several)
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// An allowed post-logout redirect URI, matched exactly (repeat for several)
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A public client (no secret; PKCE S256 required)
        #[arg(long, conflicts_with = "secret_env")]
        public: bool,
        /// Take the secret from this environment variable instead of generating one
        #[arg(long)]
        secret_env: Option<String>,
        /// Allowed scopes, space-separated
        #[arg(long, default_value = "openid profile email")]
        scopes: String,
        /// Issue refresh tokens to this client
        #[arg(long)]
        refresh_tokens: bool,
        /// A different `sub` for this client (pairwise)
        #[arg(long)]
        pairwise_subject: bool,
    },
    /// List the registered clients (no secrets).
    List,
    /// Remove a client.
    Remove { id: String },
    /// Read a secret from standard input, print its Argon2id hash (for writing the file by hand).
    HashSecret,
}

#[derive(clap::Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum SigningKeysCommand {
    /// Create the signing key file (oidc-key-file) with one new key. Never overwrites.
    New {
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Put a new key in front; the old one stays published (JWKS) and accepted until `retire`.
    Rotate,
    /// Remove every key but the active one: tokens they signed stop being accepted.
    Retire,
}

/// What `facegate eval` takes.
#[derive(clap::Args, Debug, Clone, PartialEq)]
pub(crate) struct EvalArgs {
    /// A folder holding one folder per person, each with that person's photos (JPEG, PNG, WebP).
    pub(crate) dir: PathBuf,
    /// Where `eval.json` and `det.png` go.
    #[arg(long, default_value = "target/eval")]
    pub(crate) out: PathBuf,
    /// The false match rate to find a threshold for.
    #[arg(long, default_value_t = 0.001)]
    pub(crate) target_fmr: f64,
}
