//! Start-up, routing and shutdown of the HTTP server.

use std::{future::Future, process::ExitCode, sync::atomic::Ordering};

use axum::{
    Extension, Router,
    extract::{DefaultBodyLimit, Request},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use leptos::{config::LeptosOptions, prelude::provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower_http::{limit::RequestBodyLimitLayer, trace::TraceLayer};

use crate::{
    api,
    app::{App, shell},
    config::{Command, Config},
    error::AppError,
    health,
    http::drain::{Drain, InFlight},
    state::AppState,
};

pub(crate) use crate::startup::StartupError;

/// The binary's entry point.
pub async fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("facegate: {message}");
            return ExitCode::from(2);
        }
    };
    if config.command.is_none() {
        // OpenBLAS reads its settings before `main`: a slow choice needs a fresh start.
        crate::face::reexec_if_slow(config.face.worker_count());
    }
    init_tracing(&config.log_format);
    if let Some(Command::Eval(args)) = &config.command {
        return match crate::eval::run(&config, args).await {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("facegate eval: {message}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::Keys(command)) = &config.command {
        return match crate::at_rest::cli::run(&config, command).await {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("facegate keys: {message}");
                ExitCode::FAILURE
            }
        };
    }
    if let Some(Command::Clients(command)) = &config.command {
        return match crate::oidc::cli::run_clients(&config, command) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("facegate clients: {message}");
                ExitCode::FAILURE
            }
        };
    }
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("facegate: {error}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: &str) {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,facegate=info"));
    let builder = fmt().with_env_filter(filter);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Leptos' own settings (`[package.metadata.leptos]` of the settings file, `LEPTOS_*` env).
pub fn leptos_options() -> Result<LeptosOptions, StartupError> {
    let file = std::env::var("FACEGATE_CONFIG").unwrap_or_else(|_| crate::config::DEFAULT_CONFIG_FILE.into());
    let file = std::path::Path::new(&file).is_file().then_some(file);
    leptos::config::get_configuration(file.as_deref())
        .map(|conf| conf.leptos_options)
        .map_err(|e| StartupError::Config(e.to_string()))
}

/// Starts everything and serves until SIGINT/SIGTERM.
pub async fn run(config: Config) -> Result<(), StartupError> {
    let leptos_options = leptos_options()?;
    let addr = config.listen.unwrap_or(leptos_options.site_addr);
    let state = AppState::start(config, leptos_options).await?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|cause| StartupError::Bind { addr, cause })?;
    tracing::info!("facegate is ready at http://{addr}");
    serve(listener, state, shutdown_signal()).await
}

/// Serves `state` on `listener` until `shutdown` completes, then drains: `/healthz` answers 503
/// at once (a load balancer stops sending), requests are still accepted for the configured
/// grace, then no new connection is, and the requests running finish — until the deadline,
/// counted from the signal, after which this returns anyway. Used by `run` and the tests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let grace = state.config.shutdown_grace();
    let deadline = state.config.shutdown_deadline();
    let background = state.background.clone();
    let connection_limits = crate::http::listener::ConnectionLimits::new(&state.config.http);
    let drain = Drain::default();
    let _metrics_listener = crate::metrics::scrape::serve_separately(&state).await?;
    let app = router(state)
        .layer(middleware::from_fn({
            let drain = drain.clone();
            move |request: Request, next: Next| track_request(drain.clone(), request, next)
        }))
        .layer(Extension(drain.clone()));
    let (signalled, deadline_starts) = tokio::sync::oneshot::channel::<()>();
    let stop_accepting = {
        let drain = drain.clone();
        async move {
            shutdown.await;
            drain.draining.store(true, Ordering::SeqCst);
            let _ = signalled.send(());
            tracing::info!(
                in_flight = drain.in_flight(),
                grace_secs = grace.as_secs_f64(),
                deadline_secs = deadline.as_secs_f64(),
                "draining: /healthz answers 503; still accepting during the grace"
            );
            tokio::time::sleep(grace).await;
            tracing::info!(
                in_flight = drain.in_flight(),
                "no longer accepting; waiting for the requests running"
            );
        }
    };
    // Our listener, not `axum::serve`: it has a header-read timeout and a connection cap. It
    // records the peer address, which ClientInfo starts from (history, throttling, proxies).
    let served = crate::http::listener::serve(listener, app, connection_limits, stop_accepting);
    let deadline_passed = async move {
        match deadline_starts.await {
            Ok(()) => tokio::time::sleep(deadline).await,
            // The server ended without a signal (an error): nothing to wait for.
            Err(_) => std::future::pending().await,
        }
    };
    let stopped = tokio::select! {
        result = served => {
            result.map_err(StartupError::Serve).map(|()| {
                tracing::info!("every request finished");
            })
        }
        () = deadline_passed => {
            let cut = drain.in_flight();
            tracing::warn!(
                cut,
                deadline_secs = deadline.as_secs_f64(),
                "shutdown deadline passed: stopping with {cut} request(s) still running"
            );
            Ok(())
        }
    };
    // The loops stop at once; writes nobody waited for (an ended session's record) get a
    // moment to land.
    background.shutdown(BACKGROUND_DEADLINE).await;
    tracing::info!("stopped");
    stopped
}

/// How long the background writes still running at shutdown are waited for.
const BACKGROUND_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

async fn track_request(drain: Drain, request: Request, next: Next) -> Response {
    drain.in_flight.fetch_add(1, Ordering::SeqCst);
    let running = InFlight(drain);
    let mut response = next.run(request).await;
    // Not on a WebSocket upgrade, which needs its own `Connection: upgrade`.
    if running.0.is_draining() && response.status() != StatusCode::SWITCHING_PROTOCOLS {
        // Keep-alive clients reconnect, and so reach a server that is not stopping.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let max_body = state.config.max_body_bytes;
    let app = Router::new()
        .route(
            "/healthz",
            get(health::healthz).layer(Extension(health::DatabaseHealth::watch(
                state.db.clone(),
                &state.background,
            ))),
        )
        .merge(api::routes())
        .merge(crate::metrics::scrape::public_routes(&state))
        .merge(crate::oidc::routes::routes())
        .merge(crate::forward_auth::routes())
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::forward_auth::login_shortcut,
        ))
        // An oversized body is refused from its Content-Length before it is read (with our JSON
        // error); bodies without one are cut off at the same size while streaming.
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            refuse_oversized_body(max_body, request, next)
        }));
    let capacity = crate::http::Capacity {
        face_workers: state.faces.workers(),
        live_sockets: state.live.settings().session_cap(state.faces.workers()),
    };
    crate::http::protect(app, &state.config, capacity, &state.background)
        .layer(middleware::from_fn(crate::metrics::outcomes::observe_outcomes))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn refuse_oversized_body(max_body: usize, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_body as u64) {
        return AppError::PayloadTooLarge(format!(
            "The request is larger than {} MB. Send a smaller picture.",
            max_body / (1024 * 1024)
        ))
        .into_response();
    }
    next.run(request).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
