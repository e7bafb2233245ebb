#![allow(dead_code)]
//! Test harness: starts the real `gleh` binary on a random port with a fresh database
//! (a temp SQLite file, or a new PostgreSQL database that is dropped afterwards), and a
//! small HTTP client that handles cookies explicitly so tests can copy, replay and inspect
//! them.
//!
//! PostgreSQL: `DATABASE_URL_PG` (an admin URL, e.g. `postgres://postgres@127.0.0.1:5432/postgres`)
//! or, when unset, that default. Where no server answers, PostgreSQL variants are skipped —
//! except under CI (`CI` set), where they fail.

use std::{
    collections::HashMap,
    io::{BufRead as _, BufReader, Write as _},
    path::PathBuf,
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use sqlx::{AnyPool, Row as _};

pub const BIN: &str = env!("CARGO_BIN_EXE_gleh");
pub const SECRET: &str = "9f3c2b7e4d1a6f8e0b5c3d7a9e1f2b4c6d8e0a1b3c5d7e9f1a2b4c6d8e0f1a3b";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn pg_admin_url() -> String {
    std::env::var("DATABASE_URL_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Is PostgreSQL reachable? `None` means skip this variant.
pub async fn postgres_available() -> bool {
    sqlx::any::install_default_drivers();
    let ok = tokio::time::timeout(Duration::from_secs(3), AnyPool::connect(&pg_admin_url()))
        .await
        .map(|r| r.is_ok())
        .unwrap_or(false);
    if !ok && std::env::var_os("CI").is_some() {
        panic!(
            "PostgreSQL is not reachable at {} and CI is set",
            pg_admin_url()
        );
    }
    if !ok {
        eprintln!("PostgreSQL not reachable: skipping the PostgreSQL variant");
    }
    ok
}

/// One test database; dropped with the value.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        match backend {
            Backend::Sqlite => TestDb {
                url: format!("sqlite://{}", dir.path().join("gleh.db").display()),
                pg_name: None,
                _dir: dir,
            },
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                let mut raw = [0u8; 8];
                rand::fill(&mut raw[..]);
                let name = format!("gleh_t_{}", hex::encode(raw));
                let admin = AnyPool::connect(&pg_admin_url())
                    .await
                    .expect("connect to PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                let base = pg_admin_url();
                let cut = base.rfind('/').expect("database URL has a path");
                TestDb {
                    url: format!("{}/{name}", &base[..cut]),
                    pg_name: Some(name),
                    _dir: dir,
                }
            }
        }
    }

    pub fn dir(&self) -> PathBuf {
        self._dir.path().to_path_buf()
    }

    pub async fn pool(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPool::connect(&self.url)
            .await
            .expect("connect to the test database")
    }

    pub async fn count(&self, table: &str) -> i64 {
        let pool = self.pool().await;
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&pool)
            .await
            .expect("count")
            .get(0);
        pool.close().await;
        n
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let admin = pg_admin_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let pool = AnyPool::connect(&admin).await.ok()?;
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&pool)
                    .await
                    .ok()
                })
            })
            .join();
        }
    }
}

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
];

/// A `gleh` command with a clean environment, run in `dir`.
pub fn command(dir: &std::path::Path, env: &[(String, String)]) -> Command {
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
pub fn run(
    dir: &std::path::Path,
    env: &[(String, String)],
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
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

/// Environment for a production-mode server on plain HTTP (the seed's checks without TLS).
pub fn production_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GLEH_ENV", "production"),
        ("SECRET_KEY", SECRET),
        ("SESSION_COOKIE_SECURE", "false"),
    ]
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
        std::mem::replace(
            &mut self.db,
            TestDb {
                url: String::new(),
                pg_name: None,
                _dir: tempfile::tempdir().expect("tempdir"),
            },
        )
    }

    /// The child's process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("wait")
    }

    /// Sends SIGTERM (again) and waits for the process to exit.
    pub fn terminate_wait(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("wait")
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

/// An HTTP client with an explicit cookie jar (name → value).
pub struct Client {
    pub base: String,
    http: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub version: reqwest::Version,
    /// The server's leaf certificate (DER) on TLS connections.
    pub peer_cert: Option<Vec<u8>>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.body))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(String::from)
            .collect()
    }
}

pub struct Req<'a> {
    client: &'a mut Client,
    builder: reqwest::RequestBuilder,
    send_cookies: bool,
}

impl Req<'_> {
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.builder = self.builder.header(k, v);
        self
    }
    pub fn json(mut self, v: &Value) -> Self {
        self.builder = self
            .builder
            .header("content-type", "application/json")
            .body(serde_json::to_vec(v).expect("json"));
        self
    }
    pub fn body(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.builder = self.builder.header("content-type", content_type).body(body);
        self
    }
    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body("application/x-www-form-urlencoded", body)
    }
    /// Sends without the jar's cookies.
    pub fn no_cookies(mut self) -> Self {
        self.send_cookies = false;
        self
    }
    pub async fn send(self) -> Resp {
        self.try_send().await.expect("request failed")
    }
    /// Like `send`, but a connection or TLS failure is returned, not a panic.
    pub async fn try_send(self) -> Result<Resp, reqwest::Error> {
        let mut b = self.builder;
        if self.send_cookies && !self.client.cookies.is_empty() {
            let c: Vec<String> = self
                .client
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            b = b.header("cookie", c.join("; "));
        }
        let res = b.send().await?;
        let status = res.status();
        let version = res.version();
        let peer_cert = res
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|i| i.peer_certificate())
            .map(|c| c.to_vec());
        let headers = res.headers().clone();
        let body = res.text().await.expect("body");
        for sc in headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = sc.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                let expired = sc.to_ascii_lowercase().contains("max-age=0") || v.is_empty();
                if expired {
                    self.client.cookies.remove(k.trim());
                } else {
                    self.client
                        .cookies
                        .insert(k.trim().to_string(), v.to_string());
                }
            }
        }
        Ok(Resp {
            status,
            headers,
            body,
            version,
            peer_cert,
        })
    }
}

impl Client {
    /// A client that trusts `root_pem` for https:// bases.
    pub fn with_root(base: &str, root_pem: &str) -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("gleh-tests/1")
                .add_root_certificate(
                    reqwest::Certificate::from_pem(root_pem.as_bytes()).expect("root certificate"),
                )
                .tls_info(true)
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    pub fn new(base: &str) -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("gleh-tests/1")
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }
    pub fn req(&mut self, method: Method, path: &str) -> Req<'_> {
        let builder = self.http.request(method, format!("{}{}", self.base, path));
        Req {
            client: self,
            builder,
            send_cookies: true,
        }
    }
    pub fn get(&mut self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }
    pub fn post(&mut self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }
    /// The session cookie's value, whatever its configured name.
    pub fn session(&self) -> Option<String> {
        ["session", "__Host-session"]
            .iter()
            .find_map(|n| self.cookies.get(*n).cloned())
    }

    pub async fn register(&mut self, username: &str, password: &str) -> Resp {
        self.post("/api/register")
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
    }
    pub async fn login(&mut self, username: &str, password: &str) -> Resp {
        self.post("/api/login")
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
    }
    /// A CSRF token fetched with this client's cookies.
    pub async fn csrf(&mut self) -> String {
        let r = self.get("/csrf-token").send().await;
        assert_eq!(r.status, StatusCode::OK);
        r.json()["csrf_token"]
            .as_str()
            .expect("csrf_token")
            .to_string()
    }
}

/// Generates `mod NAME { sqlite, postgres }` running `async fn NAME(Backend)` on both.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::Backend;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::helpers::postgres_available().await {
                        super::$name(Backend::Postgres).await;
                    }
                }
            }
        )*
    };
}
