//! Several `gleh serve` instances on one database, as docs/deploy.md "Several instances"
//! runs them: the same database (one PostgreSQL database, or one SQLite file that the
//! processes share), the same `SECRET_KEY` and `CONTENT_DIR`, a `DATA_DIR` each, every one
//! on its own loopback port.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::{Backend, Client, SECRET, Server, TestDb};

pub struct Cluster {
    /// The instances, started one after the other (the first one migrates the database).
    pub nodes: Vec<Server>,
    /// The shared `CONTENT_DIR` (with its `courses/`).
    pub content: tempfile::TempDir,
    /// Each instance's own `DATA_DIR`.
    _data: Vec<tempfile::TempDir>,
    /// Owns the database; declared last, so it is dropped after every server has stopped.
    pub db: TestDb,
}

impl Cluster {
    /// `n` development-mode instances on one fresh database, with the per-IP auth limit
    /// raised to 1000 (as `helpers::start`), plus `extra`.
    pub async fn start(backend: Backend, n: usize, extra: &[(&str, &str)]) -> Cluster {
        let db = TestDb::new(backend).await;
        let content = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(content.path().join("courses")).expect("courses dir");
        let content_dir = content.path().to_str().expect("utf-8 path").to_string();
        let mut nodes = Vec::with_capacity(n);
        let mut data = Vec::with_capacity(n);
        for _ in 0..n {
            let d = tempfile::tempdir().expect("tempdir");
            let data_dir = d.path().to_str().expect("utf-8 path").to_string();
            let mut env = vec![
                ("AUTH_RATE_LIMIT", "1000"),
                ("SECRET_KEY", SECRET),
                ("CONTENT_DIR", content_dir.as_str()),
                ("DATA_DIR", data_dir.as_str()),
            ];
            env.extend_from_slice(extra);
            nodes.push(Server::start_on(db.share(), &env).await);
            data.push(d);
        }
        Cluster {
            nodes,
            content,
            _data: data,
            db,
        }
    }

    /// Replaces instance `i` as a rolling restart does (docs/deploy.md "Rolling restarts"):
    /// SIGTERM to it, and, as soon as it has stopped listening, a new instance with the same
    /// configuration on the same port, while the old one drains. Returns the old one's exit
    /// status and how long it took to exit after the signal.
    pub async fn restart(&mut self, i: usize) -> (std::process::ExitStatus, Duration) {
        let port = self.nodes[i].port();
        let env: Vec<(String, String)> = self.nodes[i]
            .env
            .iter()
            .filter(|(k, _)| k != "BIND" && k != "DATABASE_URL")
            .cloned()
            .collect();
        let since = Instant::now();
        self.nodes[i].signal_term();
        self.nodes[i].wait_event("shutdown_requested").await;
        let bind = format!("127.0.0.1:{port}");
        let mut all: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.push(("BIND", bind.as_str()));
        let new = Server::start_on(self.db.share(), &all).await;
        let mut old = std::mem::replace(&mut self.nodes[i], new);
        let status = old
            .exited_within(Duration::from_secs(35))
            .await
            .expect("the old instance exits within DRAIN_TIMEOUT");
        (status, since.elapsed())
    }

    /// A client of instance `i` holding `c`'s cookies (the same browser, another instance).
    pub fn on(&self, i: usize, c: &Client) -> Client {
        let mut other = self.nodes[i].client();
        other.cookies = c.cookies.clone();
        other
    }
}

/// Polls `GET /api/check_session` with `c` every 50 ms until the session is refused (401),
/// and returns how long after `since` that was; fails if it is still accepted 1 s after
/// `since` (docs/security.md "The session cache": a revocation reaches every instance
/// within 1 s).
pub async fn refused_within_a_second(c: &mut Client, since: Instant, what: &str) -> Duration {
    loop {
        let r = c.get("/api/check_session").send().await;
        let took = since.elapsed();
        if r.status == StatusCode::UNAUTHORIZED {
            return took;
        }
        assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.body);
        assert!(
            took < Duration::from_secs(1),
            "{what}: the session is still accepted {took:?} after the revocation"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
