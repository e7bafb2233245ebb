//! `gleh serve`: checks, migrations (automatic outside production), the listeners (HTTP or
//! direct TLS on `BIND`, the optional HTTP→HTTPS redirect and metrics listeners), periodic
//! clean-up, systemd readiness, and graceful shutdown on SIGTERM/SIGINT.
//!
//! Connection hygiene: request headers must arrive within `HTTP_HEADER_TIMEOUT` (slow
//! clients are cut off; the same timer closes an idle HTTP/1.1 keep-alive connection),
//! HTTP/2 connections are pinged and dropped when the peer is gone, a TLS handshake gets
//! 10 s, and every request is answered within 30 s
//! (`http::stack::REQUEST_TIMEOUT`). On SIGTERM the listeners refuse new connections, every
//! answer closes its connection, and the connections get up to `DRAIN_TIMEOUT` to end
//! (`shutdown`: the order that loses no request behind a proxy).

mod shutdown;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{Router, extract::Request, http::StatusCode, response::IntoResponse};
use axum_server::{Handle, tls_rustls::RustlsConfig};
use hyper_util::rt::TokioTimer;
use tokio::task::JoinHandle;

use crate::{
    auth::{password::Hasher, rate_limit, session},
    catalog,
    config::{Config, Env},
    db::Db,
    http::{self, ApiError},
    metrics, routes,
    state::{AppState, Keys},
    time::now,
    tls,
};

pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let db = Db::connect(&config.database_url).await?;
    let keys = Keys::derive(config.secret_key.as_deref());
    let ebooks = crate::ebooks::Library::new(config.calibre.clone())?;
    Ok(AppState {
        config: Arc::new(config),
        db,
        hasher: Hasher::new(),
        keys: Arc::new(keys),
        content_cache: Arc::default(),
        ebooks: Arc::new(ebooks),
    })
}

async fn prepare_database(state: &AppState) -> anyhow::Result<()> {
    let config = &state.config;
    let status = state.db.status().await?;
    if !status.newer.is_empty() {
        // Expand/contract (migrations/README.md): the schema still serves this binary.
        tracing::warn!(
            event = "database_newer",
            versions = ?status.newer,
            message = "the database has migrations this binary does not know: upgrade it",
        );
    }
    if config.env == Env::Production {
        let pending = status.pending;
        if !pending.is_empty() {
            anyhow::bail!(
                "{} database migration(s) pending ({}): run `gleh migrate` first",
                pending.len(),
                pending.join(", ")
            );
        }
        return Ok(());
    }
    let applied = state.db.migrate().await?;
    if applied > 0 {
        tracing::info!(event = "migrations_applied", count = applied);
    }
    if config.env == Env::Development {
        let seeded = catalog::seed_if_empty(&state.db, &config.content_dir, now()).await?;
        if seeded > 0 {
            tracing::info!(event = "sample_catalog_seeded", courses = seeded);
        }
    }
    Ok(())
}

/// Applies the connection timeouts to a server's HTTP builder.
fn tune<A: axum_server::Address, Acc>(server: &mut axum_server::Server<A, Acc>, config: &Config) {
    let b = server.http_builder();
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .keep_alive(true);
    b.http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20))
        .max_concurrent_streams(128);
}

fn bind(addr: &str) -> anyhow::Result<std::net::TcpListener> {
    let listener =
        std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Every request to the redirect listener: 301 to the same host, path and query on https.
fn redirect_app(config: &Config, https_port: u16) -> Router {
    let public = config
        .public_url
        .strip_prefix("https://")
        .map(str::to_string);
    Router::new().fallback(move |req: Request| {
        let public = public.clone();
        async move {
            let host = public.or_else(|| {
                let h = req.headers().get(axum::http::header::HOST)?.to_str().ok()?;
                let name = match h.rsplit_once(':') {
                    Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
                    _ => h,
                };
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-[]:".contains(&b))
                {
                    return None;
                }
                Some(if https_port == 443 {
                    name.to_string()
                } else {
                    format!("{name}:{https_port}")
                })
            });
            let Some(host) = host else {
                return ApiError::bad_request("Missing or invalid Host header.").into_response();
            };
            let target = format!(
                "https://{host}{}",
                req.uri()
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/")
            );
            (
                StatusCode::MOVED_PERMANENTLY,
                [
                    (axum::http::header::LOCATION, target),
                    (axum::http::header::CACHE_CONTROL, "no-store".to_string()),
                    (
                        axum::http::header::X_CONTENT_TYPE_OPTIONS,
                        "nosniff".to_string(),
                    ),
                ],
            )
                .into_response()
        }
    })
}

/// The certificate, loaded before anything else so that a bad one stops the start.
fn load_tls(config: &Config) -> anyhow::Result<Option<RustlsConfig>> {
    let Some((cert, key)) = &config.tls else {
        return Ok(None);
    };
    let server_config = tls::server_config(cert, key)?;
    metrics::set_certificate_expiry(tls::not_after(cert)?);
    Ok(Some(RustlsConfig::from_config(server_config)))
}

/// Where the listeners ended up, and the main one's task.
struct Listening {
    main: JoinHandle<std::io::Result<()>>,
    /// Copies of the listening sockets, for `shutdown::drain`.
    sockets: Vec<std::net::TcpListener>,
    addr: SocketAddr,
    redirect_addr: Option<SocketAddr>,
    metrics_addr: Option<SocketAddr>,
}

/// Binds `BIND` (and the redirect listener), starts serving the app on them, and the
/// metrics listener when `metrics` is installed.
async fn listen(
    state: &AppState,
    tls_config: Option<RustlsConfig>,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    handle: &Handle<SocketAddr>,
) -> anyhow::Result<Listening> {
    let config = &state.config;
    let listener = bind(&config.bind)?;
    let addr = listener.local_addr()?;
    let mut sockets = vec![listener.try_clone()?];
    let redirect_listener = match &config.http_redirect_bind {
        Some(a) => Some(bind(a)?),
        None => None,
    };
    if let Some(l) = &redirect_listener {
        sockets.push(l.try_clone()?);
    }
    let metrics_addr = match (&config.metrics_bind, metrics) {
        (Some(bind), Some(m)) => Some(metrics::serve(bind, m).await?),
        _ => None,
    };
    let app = http::stack::apply(routes::router(), state.clone())
        .into_make_service_with_connect_info::<SocketAddr>();
    let main = match tls_config {
        Some(rc) => {
            if let Some((cert, key)) = &config.tls {
                let poll = config.tls_reload_interval;
                tls::spawn_reloader(rc.clone(), cert.clone(), key.clone(), poll);
            }
            let mut server = axum_server::from_tcp_rustls(listener, rc)?.handle(handle.clone());
            tune(&mut server, config);
            tokio::spawn(server.serve(app))
        }
        None => {
            let mut server = axum_server::from_tcp(listener)?.handle(handle.clone());
            tune(&mut server, config);
            tokio::spawn(server.serve(app))
        }
    };
    let redirect_addr = match redirect_listener {
        Some(l) => {
            let a = l.local_addr()?;
            let mut server = axum_server::from_tcp(l)?.handle(handle.clone());
            tune(&mut server, config);
            tokio::spawn(server.serve(redirect_app(config, addr.port()).into_make_service()));
            Some(a)
        }
        None => None,
    };
    Ok(Listening {
        main,
        sockets,
        addr,
        redirect_addr,
        metrics_addr,
    })
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    for w in config.warnings() {
        tracing::warn!(event = "config_warning", message = %w);
    }
    let metrics_handle = match &config.metrics_bind {
        Some(_) => Some(metrics::install()?),
        None => None,
    };
    let tls_config = load_tls(&config)?;
    let scheme = if tls_config.is_some() {
        "https"
    } else {
        "http"
    };
    let state = build_state(config).await?;
    prepare_database(&state).await?;
    // Avatars an older version kept as files: moved into the database (src/avatar/adopt.rs).
    // A folder that cannot be read is logged, never fatal: the pictures stay named and
    // `gleh migrate` or the next start moves them.
    match crate::avatar::adopt::adopt_files(&state.db, &state.config.data_dir).await {
        Ok(a) if a == Default::default() => {}
        Ok(a) => tracing::info!(
            event = "avatar_files_moved",
            moved = a.moved,
            missing = a.missing,
        ),
        Err(e) => tracing::warn!(event = "avatar_files_unreadable", error = format!("{e:#}")),
    }

    let handle: Handle<SocketAddr> = Handle::new();
    let up = listen(&state, tls_config, metrics_handle, &handle).await?;
    tracing::info!(
        event = "listening",
        addr = %up.addr,
        url = %format!("{scheme}://{}", up.addr),
        redirect_addr = up.redirect_addr.map(|a| a.to_string()),
        metrics_addr = up.metrics_addr.map(|a| a.to_string()),
        env = state.config.env.as_str(),
        ready_ms = started.elapsed().as_millis() as u64,
    );
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);

    let janitor = spawn_janitor(state.clone());
    let poller = spawn_session_cache_poller(state.clone());
    crate::ebooks::sync::spawn(state.clone());
    shutdown_signal().await;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    tracing::info!(
        event = "shutdown_requested",
        in_flight_connections = handle.connection_count()
    );
    shutdown::drain(&handle, &up.sockets, state.config.header_timeout).await;
    let _ = up.main.await;
    janitor.abort();
    poller.abort();
    tracing::info!(event = "stopped");
    crate::logging::access::flush();
    Ok(())
}

/// Reads the revocation epoch every `POLL_EVERY`, so that the session cache follows the
/// revocations of other instances and commands (src/db/session_cache.rs). A poll that does
/// not answer within `FRESH_FOR` counts as failed: the cache empties and turns off.
fn spawn_session_cache_poller(state: AppState) -> tokio::task::JoinHandle<()> {
    use crate::db::session_cache::{FRESH_FOR, POLL_EVERY};
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let started = state.db.session_cache.poll_started();
            let polled =
                tokio::time::timeout(FRESH_FOR, crate::db::sessions::poll_epoch(&state.db)).await;
            if polled.is_err() {
                state.db.session_cache.polled(started, None);
            }
        }
    })
}

fn spawn_janitor(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let now = now();
            if let Err(e) = session::purge_expired(&state.db, &state.config, now).await {
                tracing::warn!(event = "purge_failed", error = %e);
            }
            if let Err(e) = rate_limit::purge(&state.db, now).await {
                tracing::warn!(event = "purge_failed", error = %e);
            }
            if let Ok(n) = crate::db::sessions::count(&state.db).await {
                metrics::set_sessions_live(n);
            }
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
