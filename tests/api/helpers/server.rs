//! The real `gleh` binary: CLI sub-commands with a clean environment, and `gleh serve` on a
//! random port with its JSON log captured.

use std::{
    io::{BufRead as _, BufReader, Write as _},
    path::Path,
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{Backend, Client, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_gleh");
pub const SECRET: &str = "9f3c2b7e4d1a6f8e0b5c3d7a9e1f2b4c6d8e0a1b3c5d7e9f1a2b4c6d8e0f1a3b";

/// A running `gleh serve`.
pub struct Server {
    child: Child,
    pub base: String,
    pub addr: String,
    /// The server's `listening` log event (addr, url, redirect_addr, metrics_addr, ready_ms).
    pub listening: Value,
    logs: Arc<Mutex<Vec<String>>>,
    pub env: Vec<(String, String)>,
    pub db: TestDb,
}

/// Environment variables the tests must not inherit from the developer's shell.
const SCRUB: &[&str] = &[
    "GLEH_ENV",
    "FLASK_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "BIND",
    "PUBLIC_URL",
    "TLS_CERT",
    "TLS_KEY",
    "HTTP_REDIRECT_BIND",
    "TRUSTED_PROXIES",
    "SESSION_COOKIE_SECURE",
    "DATA_DIR",
    "METRICS_BIND",
    "TLS_RELOAD_INTERVAL",
    "HTTP_HEADER_TIMEOUT",
    "NOTIFY_SOCKET",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_NAME",
    "PERMANENT_SESSION_LIFETIME",
    "SESSION_ABSOLUTE_LIFETIME",
    "MAX_REQUEST_BODY_SIZE",
    "MIN_PASSWORD_LENGTH",
    "AUTH_RATE_LIMIT",
    "LOG_FORMAT",
    "LOG_DIR",
    "LOG_LEVEL",
    "CONTENT_DIR",
    "RUST_LOG",
    "CALIBRE_WEB_URL",
    "CALIBRE_WEB_USERNAME",
    "CALIBRE_WEB_PASSWORD",
    "CALIBRE_WEB_EXTERNAL_URL",
    "CALIBRE_REFRESH_INTERVAL",
];

/// A `gleh` command with a clean environment, run in `dir`.
pub fn command(dir: &Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for k in SCRUB {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Runs a CLI sub-command, optionally feeding `stdin`.
pub fn run(dir: &Path, env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command(dir, env)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gleh");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).expect("write stdin");
        }
    }
    child.wait_with_output().expect("wait for gleh")
}

pub fn env_vec(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Environment for a production-mode server on plain HTTP (docs/checklist.md's checks without TLS).
pub fn production_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GLEH_ENV", "production"),
        ("SECRET_KEY", SECRET),
        ("SESSION_COOKIE_SECURE", "false"),
    ]
}

/// A development server with the per-IP auth limit raised to 1000, so that tests that log
/// in often but are not about rate limiting never reach it, plus `extra`.
pub async fn start(backend: Backend, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![("AUTH_RATE_LIMIT", "1000")];
    env.extend_from_slice(extra);
    Server::start(backend, &env).await
}

impl Server {
    /// Development mode (sample catalog seeded) on `backend`, with extra `env`.
    pub async fn start(backend: Backend, env: &[(&str, &str)]) -> Server {
        let db = TestDb::new(backend).await;
        Server::start_on(db, env).await
    }

    /// Starts on an existing database (e.g. to restart a server).
    pub async fn start_on(db: TestDb, env: &[(&str, &str)]) -> Server {
        let mut all = env_vec(&[("BIND", "127.0.0.1:0"), ("LOG_FORMAT", "json")]);
        all.push(("DATABASE_URL".into(), db.url.clone()));
        all.extend(env_vec(env));
        let production = all
            .iter()
            .any(|(k, v)| (k == "GLEH_ENV" || k == "FLASK_ENV") && v == "production");
        if production {
            let out = run(&db.dir(), &all, &["migrate"], None);
            assert!(
                out.status.success(),
                "gleh migrate failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut child = command(&db.dir(), &all)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn gleh serve");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel::<Option<Value>>();
        {
            let logs = logs.clone();
            std::thread::spawn(move || {
                let mut sent = false;
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if !sent && line.contains("\"event\":\"listening\"") {
                        let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                        let _ = tx.send(Some(v));
                        sent = true;
                    }
                    logs.lock().expect("logs lock").push(line);
                }
                if !sent {
                    let _ = tx.send(None);
                }
            });
        }
        let listening = rx
            .recv_timeout(Duration::from_secs(30))
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "gleh did not start; log:\n{}",
                    logs.lock().map(|l| l.join("\n")).unwrap_or_default()
                )
            });
        let addr = listening["addr"].as_str().unwrap_or_default().to_string();
        Server {
            child,
            base: listening["url"].as_str().unwrap_or_default().to_string(),
            addr,
            listening,
            logs,
            env: all,
            db,
        }
    }

    /// Stops the server and hands back its database (for a restart on the same data).
    pub fn stop(mut self) -> TestDb {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.db, TestDb::placeholder())
    }

    /// The child's process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal_term();
        self.child.wait().expect("wait")
    }

    /// Sends SIGTERM and returns at once.
    pub fn signal_term(&self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }

    /// The exit status once the process has exited, polled without blocking the runtime;
    /// `None` if it is still running after `limit`.
    pub async fn exited_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .expect("the server's port")
    }

    /// Everything the server has logged so far (one JSON object per line).
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Log lines parsed as JSON, panicking on any line that is not.
    pub fn log_events(&self) -> Vec<Value> {
        self.logs()
            .iter()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|_| panic!("log line is not JSON: {l}"))
            })
            .collect()
    }

    /// Waits briefly until a log event named `event` appears; returns it.
    pub async fn wait_event(&self, event: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(v) = self.log_events().into_iter().find(|v| v["event"] == event) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "no {event} event in log:\n{}",
                self.logs().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs a CLI sub-command against this server's database and configuration.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run(&self.db.dir(), &self.env, args, stdin)
    }

    /// Creates a user through the CLI.
    pub fn create_user(&self, username: &str, password: &str) {
        let out = self.cli(
            &["user", "create", username],
            Some(&format!("{password}\n")),
        );
        assert!(
            out.status.success(),
            "user create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// A client for a direct-TLS server whose certificate is `root_pem` (self-signed or CA).
    pub fn tls_client(&self, root_pem: &str) -> Client {
        Client::with_root(&self.base, root_pem)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
