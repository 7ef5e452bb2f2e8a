//! What the HTTP layer's handlers reach (axum's state): the identity layer ([`Accounts`]), the
//! OpenID Connect provider, forward-auth grants, the background tasks' owner, and the parts the
//! handlers read directly. Only handlers import this; services get their parts (`FromRef`).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::{
    accounts::ssr::{Accounts, LoginTickets, Passkeys, SessionStore},
    at_rest::{TemplateCipher, keyring::SETTING, stored},
    background::Background,
    changes::ChangeFeed,
    config::Config,
    db::Db,
    face::FaceEngine,
    forward_auth::grants::ForwardGrants,
    gallery::Gallery,
    live::ssr::LiveStore,
    startup::StartupError,
};

/// Enrolled users past which the face alone should not sign anyone in (see the warning below).
const LARGE_GALLERY: usize = 10_000;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub(crate) leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub db: Db,
    pub faces: FaceEngine,
    pub gallery: Gallery,
    /// Every live session, so a signed-in page view reads memory, not the database.
    pub sessions: SessionStore,
    /// Keeps the gallery and the sessions in step with the other instances on this database.
    pub(crate) changes: ChangeFeed,
    pub live: LiveStore,
    /// Faces that passed, waiting for their PIN.
    pub(crate) tickets: LoginTickets,
    pub(crate) passkeys: Passkeys,
    /// Seals and opens the stored face templates (`crate::at_rest`).
    pub templates: TemplateCipher,
    /// The OpenID Connect provider's signing keys and clients (`crate::oidc`).
    pub(crate) oidc: crate::oidc::Provider,
    /// Forward-auth cookies of the applications behind a reverse proxy (`crate::forward_auth`).
    pub forward_grants: ForwardGrants,
    /// Registering, logging in, sessions, passkeys: the identity layer, apart from HTTP.
    pub(crate) accounts: Accounts,
    /// Owns the background loops; `server::serve` stops them at shutdown.
    pub(crate) background: Background,
}

impl AppState {
    /// Reads the template key file, loads the models, then connects to the database (with a
    /// bounded retry), makes sure its indexes exist, reports records stored plain (never used)
    /// and loads the gallery. Local checks first: they fail fast and need no network.
    pub async fn start(config: Config, leptos_options: LeptosOptions) -> Result<Self, StartupError> {
        config.face.validate().map_err(StartupError::Config)?;
        config.live.validate().map_err(StartupError::Config)?;
        config
            .forward_auth
            .validate(&config.http)
            .map_err(StartupError::Config)?;
        let templates = TemplateCipher::load(&config.template_key_file)
            .map_err(|e| StartupError::TemplateKey(format!("{e} (setting {SETTING})")))?;
        let oidc = crate::oidc::Provider::start(&config.oidc).map_err(StartupError::Config)?;
        // Loading ~120 MB of models per worker blocks for a while: not on the async runtime.
        let (models_dir, settings) = (config.models_dir.clone(), config.face.clone());
        let faces = tokio::task::spawn_blocking(move || FaceEngine::start(&models_dir, &settings))
            .await
            .map_err(|e| StartupError::Config(format!("model loading failed: {e}")))?
            .map_err(StartupError::Models)?;
        let db = Db::connect(&config.mongodb_uri, &config.database, config.db_connect_timeout())
            .await
            .map_err(StartupError::Database)?;
        // Plain records are never sealed here: whoever can write the database could plant a face
        // or a PIN that way. The operator seals them on purpose (`facegate keys migrate-plain`).
        let plain = stored::count_plain(&db).await.map_err(StartupError::Loading)?;
        if plain > 0 {
            tracing::error!(
                users = plain,
                "users with face encodings or a PIN hash stored unencrypted (by an older version, or planted) are not used: run `facegate keys migrate-plain` to seal them"
            );
        }
        // Follow the change log from here on, then load: nothing another instance does during
        // the load is missed.
        let background = Background::new();
        let changes = ChangeFeed::open(db.clone(), background.clone())
            .await
            .map_err(StartupError::Loading)?;
        let gallery = Gallery::load(&db, &templates)
            .await
            .map_err(StartupError::Gallery)?;
        let sessions = crate::db::sessions::all_live(&db, config.accounts.session_idle())
            .await
            .map_err(StartupError::Loading)?;
        for session in &sessions {
            gallery.record_login(&session.user_id, session.created_at);
        }
        for (user_id, at) in crate::accounts::ssr::audit::latest_logins(&db)
            .await
            .map_err(StartupError::Loading)?
        {
            gallery.record_login(&user_id, at);
        }
        let sessions = SessionStore::from_sessions(sessions);
        let forward_grants = ForwardGrants::default();
        forward_grants.sweep_in_background(sessions.clone(), &background);
        tracing::info!(sessions = sessions.len(), "sessions loaded");
        // A stranger's chance of matching someone within the threshold grows with the number
        // enrolled (docs/accuracy.md, "Many enrolled"): past this size only the PIN keeps them out.
        if gallery.len() > LARGE_GALLERY
            && config.accounts.second_factor != crate::accounts::ssr::SecondFactorPolicy::Always
        {
            tracing::warn!(
                users = gallery.len(),
                "with this many enrolled users a stranger's face often falls within the match threshold of someone: set second-factor = always"
            );
        }
        templates.watch(config.template_key_reload(), &background);
        let live = LiveStore::new(config.live.clone(), faces.workers());
        live.share_replays(db.clone(), &background)
            .await
            .map_err(StartupError::Loading)?;
        // Passkeys belong to the public origin's host name (localhost when none is set).
        let origin = config
            .http
            .public_origin
            .as_ref()
            .map(|origin| webauthn_rs::prelude::Url::parse(origin.as_str()))
            .transpose()
            .map_err(|e| StartupError::Config(format!("public-origin: {e}")))?;
        let passkeys = Passkeys::new(origin.as_ref()).map_err(StartupError::Config)?;
        passkeys.load_owners(&db).await.map_err(StartupError::Loading)?;
        crate::db::housekeeping::spawn(
            &background,
            db.clone(),
            config.accounts.session_idle(),
            config.accounts.audit_retention(),
        );
        crate::oidc::store::spawn_housekeeping(&background, db.clone());
        let config = Arc::new(config);
        let accounts = Accounts {
            config: Arc::clone(&config),
            db: db.clone(),
            faces: faces.clone(),
            gallery: gallery.clone(),
            live: live.clone(),
            sessions: sessions.clone(),
            changes: changes.clone(),
            tickets: LoginTickets::default(),
            passkeys: passkeys.clone(),
            templates: templates.clone(),
            background: background.clone(),
        };
        changes.spawn_follower(accounts.clone(), &background);
        let state = Self {
            sessions,
            changes,
            live,
            tickets: accounts.tickets.clone(),
            passkeys,
            leptos_options,
            config,
            db,
            faces,
            gallery,
            templates,
            oidc,
            forward_grants,
            accounts,
            background,
        };
        Ok(state)
    }
}
