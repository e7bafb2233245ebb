//! What `gleh serve` does on SIGTERM or SIGINT, in the order that loses no request behind a
//! proxy (docs/deploy.md "Rolling restarts"):
//!
//! 1. Every answer from now on closes its connection (`http::closing`): `Connection: close`
//!    on HTTP/1.1, a GOAWAY on HTTP/2.
//! 2. The listening sockets are shut for reading: a new connection is refused at once (a
//!    proxy passes the request to another instance, as it may for any method, since nothing
//!    was sent) and the port is free for the replacement instance, which can start while
//!    this one drains. The sockets stay open, so the accepted connections live on.
//! 3. The connections end on their own: a busy one after its answer (step 1), an idle
//!    HTTP/1.1 one when its peer closes it — the shipped nginx file drops idle upstream
//!    connections after 5 s — or when `HTTP_HEADER_TIMEOUT` ends it here. Closing an idle
//!    connection ourselves instead would race a proxy that is sending a request down it at
//!    that moment: for a POST it may not retry, and the client gets a 502.
//! 4. When no connection is left, or `HTTP_HEADER_TIMEOUT` + 1 s has passed, the server
//!    shuts down gracefully: what remains (idle HTTP/2 connections get their GOAWAY) is
//!    given the rest of `DRAIN_TIMEOUT` to finish.
//!
//! Step 2 is a `shutdown(2)` of the listening socket (through socket2): axum-server only
//! stops accepting together with step 4, which is what closes idle connections at once.

use std::{
    net::{Shutdown, SocketAddr, TcpListener},
    time::{Duration, Instant},
};

use axum_server::Handle;

use super::DRAIN_TIMEOUT;

/// Runs steps 1–4 above; returns when the graceful shutdown has been asked for.
/// `listeners` are copies (`try_clone`) of the sockets the servers accept on.
pub async fn drain(
    handle: &Handle<SocketAddr>,
    listeners: &[TcpListener],
    header_timeout: Duration,
) {
    let started = Instant::now();
    crate::http::closing::begin();
    for l in listeners {
        if let Err(e) = socket2::SockRef::from(l).shutdown(Shutdown::Read) {
            tracing::warn!(event = "listener_shutdown_failed", error = %e);
        }
    }
    let idle_for = (header_timeout + Duration::from_secs(1)).min(DRAIN_TIMEOUT);
    let open = wait_for_connections(handle, idle_for).await;
    tracing::info!(
        event = "connections_drained",
        open_connections = open,
        waited_ms = started.elapsed().as_millis() as u64,
    );
    let rest = DRAIN_TIMEOUT.saturating_sub(started.elapsed());
    handle.graceful_shutdown(Some(rest));
}

/// Waits until `handle` has no connection left, or `limit` has passed; returns how many
/// are still open.
async fn wait_for_connections(handle: &Handle<SocketAddr>, limit: Duration) -> usize {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let n = handle.connection_count();
        if n == 0 || tokio::time::Instant::now() >= deadline {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
