//! The answers of an instance that is shutting down (src/server/shutdown.rs): once `begin`
//! has been called, every answer is the last one on its connection — `Connection: close` on
//! HTTP/1.x, a GOAWAY on HTTP/2 — so that no proxy keeps an idle connection to an instance
//! that is going away and later sends a request down it while it closes (docs/deploy.md
//! "Rolling restarts").

use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::{HeaderMap, HeaderValue, Version, header};
use axum_server::ConnectionShutdown;

static CLOSING: AtomicBool = AtomicBool::new(false);

/// From now on, every answer closes its connection.
pub fn begin() {
    CLOSING.store(true, Ordering::Relaxed);
}

/// Whether `begin` has been called.
fn active() -> bool {
    CLOSING.load(Ordering::Relaxed)
}

/// Marks an answer to a request of `version` as its connection's last, when closing.
/// `conn` is the connection's handle, which axum-server puts in every request's extensions.
pub(super) fn apply(version: Version, conn: Option<&ConnectionShutdown>, headers: &mut HeaderMap) {
    mark(active(), version, conn, headers);
}

fn mark(
    closing: bool,
    version: Version,
    conn: Option<&ConnectionShutdown>,
    headers: &mut HeaderMap,
) {
    if !closing {
        return;
    }
    if version < Version::HTTP_2 {
        // hyper closes an HTTP/1.1 connection after an answer that says so, and the proxy
        // reading the header does not put the connection back in its pool.
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    } else if let Some(conn) = conn {
        // HTTP/2 forbids the header; a GOAWAY tells the client which streams were served.
        conn.graceful_shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_marks_http1_answers_only_once_begun() {
        let mut h = HeaderMap::new();
        mark(false, Version::HTTP_11, None, &mut h);
        assert!(h.get(header::CONNECTION).is_none());
        mark(true, Version::HTTP_11, None, &mut h);
        assert_eq!(
            h.get(header::CONNECTION).map(|v| v.as_bytes()),
            Some(&b"close"[..])
        );
        let mut h2 = HeaderMap::new();
        mark(true, Version::HTTP_2, None, &mut h2);
        assert!(h2.is_empty(), "no Connection header on HTTP/2");
    }
}
