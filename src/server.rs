//! `gleh serve`: checks, migrations (automatic outside production), the listener, periodic
//! clean-up, and graceful shutdown on SIGTERM/SIGINT.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use tokio::net::TcpListener;

use crate::{
    catalog,
    config::{Config, Env},
    db::{Db, now},
    password::Hasher,
    ratelimit, routes, session,
    state::{AppState, Keys},
};

pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let db = Db::connect(&config.database_url).await?;
    let keys = Keys::derive(config.secret_key.as_deref());
    Ok(AppState {
        config: Arc::new(config),
        db,
        hasher: Hasher::new(),
        keys: Arc::new(keys),
    })
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    for w in config.warnings() {
        tracing::warn!(event = "config_warning", message = %w);
    }
    let state = build_state(config).await?;
    let config = state.config.clone();
    if config.env == Env::Production {
        let pending = state.db.pending().await?;
        if !pending.is_empty() {
            anyhow::bail!(
                "{} database migration(s) pending ({}): run `gleh migrate` first",
                pending.len(),
                pending.join(", ")
            );
        }
    } else {
        let applied = state.db.migrate().await?;
        if applied > 0 {
            tracing::info!(event = "migrations_applied", count = applied);
        }
        if config.env == Env::Development {
            let seeded = catalog::seed_if_empty(&state.db, now()).await?;
            if seeded > 0 {
                tracing::info!(event = "sample_catalog_seeded", courses = seeded);
            }
        }
    }

    let listener = TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let addr = listener.local_addr()?;
    tracing::info!(
        event = "listening",
        addr = %addr,
        url = %format!("http://{addr}"),
        env = config.env.as_str(),
        ready_ms = started.elapsed().as_millis() as u64,
    );

    let janitor = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let now = now();
                if let Err(e) = session::purge_expired(&state.db, &state.config, now).await {
                    tracing::warn!(event = "purge_failed", error = %e);
                }
                if let Err(e) = ratelimit::purge(&state.db, now).await {
                    tracing::warn!(event = "purge_failed", error = %e);
                }
            }
        })
    };

    let app = routes::router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    janitor.abort();
    tracing::info!(event = "stopped");
    Ok(())
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
    tracing::info!(event = "shutdown_requested");
}
