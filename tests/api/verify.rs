//! `gleh verify URL` (issue 4): the post-deployment checklist as one command. It passes
//! against a direct-TLS `gleh`, and against deliberately broken deployments the right check
//! FAILs with a message naming the cause: Secure flag off, a plain-HTTP listener that logs
//! in, HSTS missing, CSRF not enforced, a logout that does not revoke (a client-side-cookie
//! stand-in), TLS 1.0/1.1 accepted, a session that outlives --session-timeout. An
//! unreachable URL is exit 2. Every run stays within the default auth rate limit.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::both_backends;
use crate::helpers::{
    Backend, PW, SECRET, Server, free_port, make_cert, prod_tls_env, tool, write_cert,
};

/// Every check id, in the order verify prints them.
const IDS: &[&str] = &[
    "health.head",
    "health.content",
    "health.status",
    "tls.protocol",
    "tls.legacy-1.0",
    "tls.legacy-1.1",
    "tls.chain",
    "tls.expiry",
    "https.redirect",
    "cookie.secure",
    "cookie.httponly",
    "cookie.samesite",
    "cookie.path",
    "cookie.domain",
    "cookie.prefix",
    "https.hsts",
    "auth.register",
    "auth.login",
    "auth.session",
    "auth.profile",
    "csrf.token",
    "csrf.valid",
    "csrf.invalid",
    "csrf.missing",
    "csrf.cross-site",
    "logout.status",
    "logout.profile",
    "logout.replay",
    "session.timeout",
    "load.content",
    "headers.csp",
    "headers.nosniff",
    "headers.referrer",
    "headers.coop",
    "leak.errors",
    "leak.server",
    "body.limit",
    "cleanup.account",
];

/// Checks a self-signed certificate cannot pass (with --insecure they SKIP), and the
/// session timeout, which runs only when asked for.
const SKIPPED_BY_DEFAULT: &[&str] = &["tls.chain", "session.timeout"];

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// id → (status word, whole line), from the text output.
    fn lines(&self) -> BTreeMap<String, (String, String)> {
        self.stdout
            .lines()
            .filter_map(|l| {
                let mut w = l.splitn(3, ' ');
                let status = w.next()?;
                let id = w.next()?;
                ["PASS", "FAIL", "WARN", "SKIP"]
                    .contains(&status)
                    .then(|| (id.to_string(), (status.to_string(), l.to_string())))
            })
            .collect()
    }
    fn status(&self, id: &str) -> String {
        self.lines()
            .get(id)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| panic!("no line for {id}:\n{}", self.stdout))
    }
    fn line(&self, id: &str) -> String {
        self.lines()
            .get(id)
            .map(|(_, l)| l.clone())
            .unwrap_or_else(|| panic!("no line for {id}:\n{}", self.stdout))
    }
    fn with_status(&self, status: &str) -> BTreeSet<String> {
        self.lines()
            .into_iter()
            .filter(|(_, (s, _))| s == status)
            .map(|(id, _)| id)
            .collect()
    }
    /// Asserts that exactly `ids` FAIL (exit 1), each line naming `needles[i]`.
    fn assert_fails(&self, expected: &[(&str, &str)]) {
        let want: BTreeSet<String> = expected.iter().map(|(id, _)| id.to_string()).collect();
        assert_eq!(
            self.with_status("FAIL"),
            want,
            "failed checks:\n{}",
            self.stdout
        );
        assert_eq!(self.code, 1, "exit status with a FAIL:\n{}", self.stdout);
        for (id, needle) in expected {
            let line = self.line(id);
            assert!(line.contains(needle), "{id} should say {needle:?}: {line}");
        }
    }
}

/// Runs `gleh verify ARGS` from an empty directory, in an environment where the server
/// could not start (production mode without SECRET_KEY or DATABASE_URL): verify is a
/// client and needs no server configuration.
async fn verify(args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("tempdir");
        let env = [("GLEH_ENV".to_string(), "production".to_string())];
        let out = crate::helpers::command(dir.path(), &env)
            .arg("verify")
            .args(&args)
            .output()
            .expect("run gleh verify");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("verify thread")
}

/// A production-mode direct-TLS `gleh` with a redirect listener, plus `extra` env.
async fn tls_gleh(backend: Backend, dir: &std::path::Path, extra: &[(&str, &str)]) -> Server {
    let (cert_path, key_path, _) = write_cert(dir, "verify-test", 90);
    let mut env = prod_tls_env(&cert_path, &key_path);
    env.push(("HTTP_REDIRECT_BIND", "127.0.0.1:0"));
    env.extend_from_slice(extra);
    Server::start(backend, &env).await
}

fn redirect_url(s: &Server) -> String {
    format!(
        "http://{}",
        s.listening["redirect_addr"]
            .as_str()
            .expect("redirect_addr")
    )
}

/// Login and registration requests that reached `gleh`, from its access log.
fn auth_requests(s: &Server) -> usize {
    s.log_events()
        .iter()
        .filter(|e| {
            e["event"] == "request"
                && e["method"] == "POST"
                && (e["path"] == "/api/login" || e["path"] == "/api/register")
        })
        .count()
}

fn rate_limited(s: &Server) -> bool {
    s.log_events()
        .iter()
        .any(|e| e["event"] == "rate_limit_exceeded")
}

/// The deployment as it should be: every check passes (self-signed, so --insecure), in
/// section order, within the auth rate limit, and the throwaway account is gone afterwards.
/// `--json` with an existing account reports the same, and leaves the account as it was.
async fn good_deployment_passes(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let s = tls_gleh(backend, dir.path(), &[]).await;
    let http = redirect_url(&s);
    let run = verify(&["--insecure", "--http-url", &http, &s.base]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let lines = run.lines();
    let printed: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split(' ').nth(1))
        .filter(|id| lines.contains_key(*id))
        .collect();
    assert_eq!(printed, IDS, "every id, once, in section order");
    for id in IDS {
        let want = if SKIPPED_BY_DEFAULT.contains(id) {
            "SKIP"
        } else {
            "PASS"
        };
        assert_eq!(run.status(id), want, "{}", run.line(id));
    }
    let summary = run.stdout.lines().last().unwrap_or_default();
    assert!(summary.starts_with("RESULT PASS: 0 failed"), "{summary}");
    assert!(
        run.line("tls.expiry").contains("days left"),
        "{}",
        run.line("tls.expiry")
    );
    assert!(
        run.line("https.redirect").contains("301"),
        "{}",
        run.line("https.redirect")
    );
    assert!(
        run.line("load.content")
            .contains("100 requests, 10 concurrent")
    );
    assert!(
        !run.stdout.contains('\x1b'),
        "no colours when stdout is not a terminal"
    );

    let calls = auth_requests(&s);
    assert!(
        calls <= 5,
        "{calls} login/register requests: over the default limit of 5"
    );
    assert_eq!(calls, 3, "register, login, login for the cleanup");
    assert!(!rate_limited(&s));
    assert_eq!(
        s.db.count("users").await,
        0,
        "the throwaway account was deleted"
    );
    assert!(
        s.log_events()
            .iter()
            .any(|e| e["event"] == "account_deleted"),
        "deleted through DELETE /api/account"
    );

    // --json, with an existing account: the same results, and the account untouched.
    s.create_user("operator_test", PW);
    let json = verify(&[
        "--insecure",
        "--json",
        "--http-url",
        &http,
        "--username",
        "operator_test",
        "--password",
        PW,
        &s.base,
    ])
    .await;
    assert_eq!(json.code, 0, "{}\n{}", json.stdout, json.stderr);
    let doc: Value = serde_json::from_str(&json.stdout).expect("--json prints one JSON document");
    assert_eq!(doc["result"], "pass");
    assert_eq!(doc["summary"]["fail"], 0);
    let checks = doc["checks"].as_array().expect("checks");
    let ids: Vec<&str> = checks.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, IDS);
    for c in checks {
        let id = c["id"].as_str().unwrap();
        let want = if ["auth.register", "cleanup.account"].contains(&id) {
            "SKIP".to_string()
        } else {
            run.status(id)
        };
        assert_eq!(
            c["status"].as_str().unwrap().to_uppercase(),
            want,
            "{id}: {c}"
        );
        assert!(c["seen"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
    }
    assert_eq!(doc["auth_requests"], 1, "one login with --username");
    assert!(doc["load"]["requests_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(auth_requests(&s), 4);
    assert!(!rate_limited(&s));
    let pool = s.db.pool().await;
    let about: String = sqlx::query("SELECT about_me FROM users WHERE username = 'operator_test'")
        .fetch_one(&pool)
        .await
        .map(|r| sqlx::Row::get(&r, 0))
        .expect("the account is kept");
    assert_eq!(about, "", "the profile update wrote back what was there");
}

/// SESSION_COOKIE_SECURE=false on an https deployment: cookie.secure FAILs, naming it.
async fn insecure_cookie_fails(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let s = tls_gleh(backend, dir.path(), &[("SESSION_COOKIE_SECURE", "false")]).await;
    let run = verify(&["--insecure", "--http-url", &redirect_url(&s), &s.base]).await;
    run.assert_fails(&[("cookie.secure", "no Secure flag")]);
    assert_eq!(
        run.status("cookie.prefix"),
        "WARN",
        "{}",
        run.line("cookie.prefix")
    );
    assert!(auth_requests(&s) <= 5);
}

/// Port 80 serving the app (a plain-HTTP `gleh` on the same database) instead of a
/// redirect: docs/checklist.md §11 Test 2's login POST over HTTP logs in, and https.redirect FAILs saying so.
async fn http_listener_that_logs_in_fails(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let s = tls_gleh(backend, dir.path(), &[]).await;
    let mut env = crate::helpers::production_env();
    env.push(("DATABASE_URL", s.db.url.as_str()));
    let plain = Server::start(backend, &env).await;
    let run = verify(&["--insecure", "--http-url", &plain.base, &s.base]).await;
    run.assert_fails(&[("https.redirect", "logged in over plain HTTP: 200")]);
    assert!(
        plain
            .log_events()
            .iter()
            .any(|e| e["event"] == "login_success"),
        "the probe really logged in over HTTP"
    );
    let calls = auth_requests(&s) + auth_requests(&plain);
    assert!(calls <= 5, "{calls} auth requests");
    assert!(!rate_limited(&s) && !rate_limited(&plain));
    assert_eq!(s.db.count("users").await, 0, "cleaned up");
}

/// PERMANENT_SESSION_LIFETIME=2 and --session-timeout 2: the idle session is rejected;
/// with the extra login the run still makes at most 5 auth requests.
async fn session_timeout_passes(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let s = tls_gleh(backend, dir.path(), &[("PERMANENT_SESSION_LIFETIME", "2")]).await;
    let run = verify(&[
        "--insecure",
        "--session-timeout",
        "2",
        "--requests",
        "20",
        "--http-url",
        &redirect_url(&s),
        &s.base,
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.status("session.timeout"),
        "PASS",
        "{}",
        run.line("session.timeout")
    );
    assert!(
        run.line("session.timeout")
            .contains("rejected after 4 s idle")
    );
    assert_eq!(
        auth_requests(&s),
        4,
        "register, login, timeout login, cleanup login"
    );
    assert!(!rate_limited(&s));
    assert_eq!(s.db.count("users").await, 0);
}

both_backends!(
    good_deployment_passes,
    insecure_cookie_fails,
    http_listener_that_logs_in_fails,
    session_timeout_passes
);

/// An unreachable or invalid URL: exit 2 ("could not run"), nothing checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_is_exit_2() {
    let run = verify(&["https://127.0.0.1:1/"]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("could not run: cannot connect"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    let run = verify(&["--json", "https://127.0.0.1:1/"]).await;
    assert_eq!(run.code, 2);
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(doc["result"], "error");
    assert!(doc["error"].as_str().unwrap().contains("cannot connect"));
    for bad in ["ftp://127.0.0.1/", "not a url", "https://"] {
        let run = verify(&[bad]).await;
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("invalid"), "{bad}: {}", run.stderr);
    }
}

/// A server that still speaks TLS 1.0 and 1.1 (openssl s_server at security level 0):
/// both legacy checks FAIL with what the server answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_tls_accepted_fails() {
    let Some(openssl) = tool("openssl", "the legacy TLS check") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = make_cert("verify-test", 90);
    std::fs::write(dir.path().join("c.pem"), cert).unwrap();
    std::fs::write(dir.path().join("k.pem"), key).unwrap();
    let port = free_port();
    let mut server = std::process::Command::new(openssl)
        .current_dir(dir.path())
        .args([
            "s_server", "-quiet", "-www", "-cert", "c.pem", "-key", "k.pem",
        ])
        // Five connections (this test's readiness check, verify's reachability check, its
        // TLS 1.2/1.3 handshake and the two legacy probes), then exit: the HTTP checks then
        // fail fast instead of waiting on s_server's `-www` answers.
        .args(["-naccept", "5"])
        .args([
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "s_server did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let run = verify(&[
        "--insecure",
        "--requests",
        "1",
        &format!("https://127.0.0.1:{port}/"),
    ])
    .await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(run.code, 1, "{}", run.stdout);
    for id in ["tls.legacy-1.0", "tls.legacy-1.1"] {
        assert_eq!(run.status(id), "FAIL", "{}", run.line(id));
        assert!(
            run.line(id).contains("accepted: ServerHello TLS 1."),
            "{}",
            run.line(id)
        );
    }
}

/// Kills a helper process when the test ends, even on a panic.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The nginx deployment (deploy/nginx/gleh.conf on loopback ports, self-signed) in front of
/// a production `gleh`: every check passes, the 413 comes from nginx, and its Server
/// header names no version. Needs nginx; skipped without it, except under CI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_deployment_passes() {
    let Some(nginx) = tool("nginx", "the nginx deployment check") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (cert, key) = make_cert("verify-test", 90);
    std::fs::write(d.join("cert.pem"), cert).unwrap();
    std::fs::write(d.join("key.pem"), key).unwrap();
    let (https, http) = (free_port(), free_port());
    let public = format!("https://127.0.0.1:{https}");
    let s = Server::start(
        Backend::Sqlite,
        &[
            ("GLEH_ENV", "production"),
            ("SECRET_KEY", SECRET),
            ("SESSION_COOKIE_SECURE", "true"),
            ("PUBLIC_URL", &public),
        ],
    )
    .await;
    let upstream = s.addr.rsplit(':').next().unwrap().to_string();
    let mut site = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/nginx/gleh.conf"
    ))
    .expect("deploy/nginx/gleh.conf");
    for (from, to) in [
        (
            "listen 443 ssl http2;",
            format!("listen 127.0.0.1:{https} ssl http2;"),
        ),
        ("listen 80;", format!("listen 127.0.0.1:{http};")),
        ("listen [::]:443 ssl http2;", String::new()),
        ("listen [::]:80;", String::new()),
        (
            "server 127.0.0.1:8000 ",
            format!("server 127.0.0.1:{upstream} "),
        ),
        (
            "/etc/letsencrypt/live/platform.edu/fullchain.pem",
            d.join("cert.pem").display().to_string(),
        ),
        (
            "/etc/letsencrypt/live/platform.edu/privkey.pem",
            d.join("key.pem").display().to_string(),
        ),
    ] {
        assert!(
            site.contains(from),
            "deploy/nginx/gleh.conf has no {from:?}"
        );
        site = site.replace(from, &to);
    }
    let p = d.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {p}/nginx.pid;\nerror_log {p}/error.log;\n\
         events {{ worker_connections 256; }}\nhttp {{\n default_type application/octet-stream;\n\
         access_log {p}/access.log;\n client_body_temp_path {p}/body;\n proxy_temp_path {p}/proxy;\n\
         fastcgi_temp_path {p}/fastcgi;\n uwsgi_temp_path {p}/uwsgi;\n scgi_temp_path {p}/scgi;\n{site}\n}}\n"
    );
    std::fs::write(d.join("nginx.conf"), conf).unwrap();
    let _nginx = KillOnDrop(
        std::process::Command::new(&nginx)
            .arg("-p")
            .arg(d)
            .arg("-c")
            .arg(d.join("nginx.conf"))
            .arg("-e")
            .arg(d.join("error.log"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn nginx"),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while [https, http]
        .iter()
        .any(|p| std::net::TcpStream::connect(("127.0.0.1", *p)).is_err())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(d.join("error.log")).unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let run = verify(&[
        "--insecure",
        "--http-url",
        &format!("http://127.0.0.1:{http}"),
        &public,
    ])
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for id in IDS {
        let want = if SKIPPED_BY_DEFAULT.contains(id) {
            "SKIP"
        } else {
            "PASS"
        };
        assert_eq!(run.status(id), want, "{}", run.line(id));
    }
    assert!(
        run.line("leak.server").contains("server: nginx"),
        "{}",
        run.line("leak.server")
    );
    assert!(
        run.line("body.limit").contains("413"),
        "{}",
        run.line("body.limit")
    );
    assert!(auth_requests(&s) <= 5);
    assert_eq!(s.db.count("users").await, 0);
}

/// A small GLEH look-alike over TLS, with switchable flaws, for what a real `gleh` cannot be
/// configured to get wrong.
mod standin {
    use std::{
        collections::HashMap,
        sync::{Arc, Mutex},
    };

    use axum::{
        Router,
        body::Bytes,
        extract::{DefaultBodyLimit, Request, State},
        http::{HeaderMap, HeaderValue, StatusCode, header},
        middleware::{self, Next},
        response::{IntoResponse, Response},
        routing::{delete, get, post},
    };
    use axum_server::tls_rustls::RustlsConfig;
    use serde_json::{Value, json};
    use sha2::{Digest as _, Sha256};

    #[derive(Clone, Copy, Default)]
    pub struct Flaws {
        /// No Strict-Transport-Security header.
        pub no_hsts: bool,
        /// Any CSRF token, or none, is accepted (the cross-origin check stays).
        pub csrf_unchecked: bool,
        /// Client-side signed-cookie sessions: logout only asks the browser to forget.
        pub cookie_sessions: bool,
        /// A cookie named `session` with `Path=/api; Domain=…; SameSite=None`, no HttpOnly.
        pub bad_cookie: bool,
        /// No CSP, nosniff, Referrer-Policy or COOP headers.
        pub no_headers: bool,
        /// Version banners in `Server`/`X-Powered-By` and a stack trace in the 404 page.
        pub leaky: bool,
        /// Bodies of any size are read.
        pub no_body_limit: bool,
        /// The certificate's days left (default 90).
        pub cert_days: Option<i64>,
    }

    impl Flaws {
        fn cookie(&self) -> &'static str {
            if self.bad_cookie {
                "session"
            } else {
                "__Host-session"
            }
        }
    }

    #[derive(Default)]
    struct Data {
        /// username → (password, about_me)
        users: HashMap<String, (String, String)>,
        /// server-side sessions: cookie value → username
        sessions: HashMap<String, String>,
    }

    #[derive(Clone)]
    struct App {
        flaws: Flaws,
        token: String,
        secret: String,
        data: Arc<Mutex<Data>>,
    }

    fn reply(status: u16, v: Value) -> Response {
        let status = StatusCode::from_u16(status).unwrap();
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            v.to_string(),
        )
            .into_response()
    }

    fn random() -> String {
        let mut b = [0u8; 16];
        rand::fill(&mut b[..]);
        hex::encode(b)
    }

    fn sign(secret: &str, user: &str) -> String {
        hex::encode(Sha256::digest(format!("{secret}:{user}")))
    }

    fn cookie_value(h: &HeaderMap, name: &str) -> Option<String> {
        h.get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    impl App {
        fn user(&self, h: &HeaderMap) -> Option<String> {
            let v = cookie_value(h, self.flaws.cookie())?;
            let data = self.data.lock().unwrap();
            if self.flaws.cookie_sessions {
                let (user, sig) = v.split_once('.')?;
                (sig == sign(&self.secret, user) && data.users.contains_key(user))
                    .then(|| user.to_string())
            } else {
                data.sessions.get(&v).cloned()
            }
        }
        fn csrf(&self, h: &HeaderMap) -> Option<Response> {
            if let Some(site) = h.get("sec-fetch-site")
                && site != "same-origin"
                && site != "none"
            {
                return Some(reply(
                    403,
                    json!({"error": "Cross-origin request blocked."}),
                ));
            }
            if self.flaws.csrf_unchecked {
                return None;
            }
            match h.get("x-csrftoken").and_then(|v| v.to_str().ok()) {
                Some(t) if t == self.token => None,
                Some(_) => Some(reply(400, json!({"error": "The CSRF token is invalid."}))),
                None => Some(reply(400, json!({"error": "The CSRF token is missing."}))),
            }
        }
    }

    fn body(b: &Bytes) -> Option<(String, String)> {
        let v: Value = serde_json::from_slice(b).ok()?;
        Some((
            v["username"].as_str()?.to_string(),
            v["password"].as_str()?.to_string(),
        ))
    }

    async fn register(State(app): State<App>, b: Bytes) -> Response {
        let Some((user, pw)) = body(&b) else {
            return reply(400, json!({"error": "Username and password are required."}));
        };
        app.data
            .lock()
            .unwrap()
            .users
            .insert(user, (pw, String::new()));
        reply(201, json!({"message": "User registered successfully."}))
    }

    async fn login(State(app): State<App>, b: Bytes) -> Response {
        let Some((user, pw)) = body(&b) else {
            return reply(400, json!({"error": "Username and password are required."}));
        };
        let mut data = app.data.lock().unwrap();
        if data.users.get(&user).map(|(p, _)| p) != Some(&pw) {
            return reply(401, json!({"error": "Invalid username or password."}));
        }
        let value = if app.flaws.cookie_sessions {
            format!("{user}.{}", sign(&app.secret, &user))
        } else {
            let v = random();
            data.sessions.insert(v.clone(), user.clone());
            v
        };
        let mut res = reply(
            200,
            json!({"message": "Login successful.", "user": {"username": user}}),
        );
        let name = app.flaws.cookie();
        let c = if app.flaws.bad_cookie {
            format!("{name}={value}; Path=/api; Domain=127.0.0.1; SameSite=None; Secure")
        } else {
            format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax")
        };
        res.headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_str(&c).unwrap());
        res
    }

    async fn logout(State(app): State<App>, h: HeaderMap) -> Response {
        if app.user(&h).is_none() {
            return reply(401, json!({"error": "Not logged in."}));
        }
        if let Some(v) = cookie_value(&h, app.flaws.cookie()) {
            app.data.lock().unwrap().sessions.remove(&v);
        }
        let mut res = reply(200, json!({"message": "Logout successful."}));
        let c = format!("{}=; Path=/; Max-Age=0; Secure", app.flaws.cookie());
        res.headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_str(&c).unwrap());
        res
    }

    async fn check_session(State(app): State<App>, h: HeaderMap) -> Response {
        match app.user(&h) {
            Some(u) => reply(
                200,
                json!({"is_authenticated": true, "user": {"username": u}}),
            ),
            None => reply(401, json!({"is_authenticated": false})),
        }
    }

    async fn profile_page(State(app): State<App>, h: HeaderMap) -> Response {
        match app.user(&h) {
            Some(u) => (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                format!("<h1>{u}</h1>"),
            )
                .into_response(),
            None => reply(401, json!({"error": "Authentication required."})),
        }
    }

    async fn get_profile(State(app): State<App>, h: HeaderMap) -> Response {
        let Some(u) = app.user(&h) else {
            return reply(401, json!({"error": "Authentication required."}));
        };
        let about = app.data.lock().unwrap().users[&u].1.clone();
        reply(200, json!({"user": {"username": u, "about_me": about}}))
    }

    async fn post_profile(State(app): State<App>, h: HeaderMap, b: Bytes) -> Response {
        if let Some(refused) = app.csrf(&h) {
            return refused;
        }
        let Some(u) = app.user(&h) else {
            return reply(401, json!({"error": "Authentication required."}));
        };
        let Ok(v) = serde_json::from_slice::<Value>(&b) else {
            return reply(400, json!({"error": "Malformed JSON."}));
        };
        if let Some(a) = v["about_me"].as_str() {
            app.data.lock().unwrap().users.get_mut(&u).unwrap().1 = a.to_string();
        }
        reply(200, json!({"message": "Profile updated successfully"}))
    }

    async fn delete_account(State(app): State<App>, h: HeaderMap, b: Bytes) -> Response {
        if let Some(refused) = app.csrf(&h) {
            return refused;
        }
        let Some(u) = app.user(&h) else {
            return reply(401, json!({"error": "Authentication required."}));
        };
        let pw = serde_json::from_slice::<Value>(&b)
            .ok()
            .and_then(|v| v["password"].as_str().map(String::from));
        let mut data = app.data.lock().unwrap();
        if data.users.get(&u).map(|(p, _)| p) != pw.as_ref() {
            return reply(401, json!({"error": "Password is incorrect."}));
        }
        data.users.remove(&u);
        data.sessions.retain(|_, user| *user != u);
        reply(200, json!({"message": "Account deleted."}))
    }

    async fn headers(State(app): State<App>, req: Request, next: Next) -> Response {
        let mut res = next.run(req).await;
        let h = res.headers_mut();
        let mut set = |k: &'static str, v: &'static str| {
            h.insert(k, HeaderValue::from_static(v));
        };
        if !app.flaws.no_headers {
            set(
                "content-security-policy",
                "default-src 'none'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'",
            );
            set("x-content-type-options", "nosniff");
            set("referrer-policy", "strict-origin-when-cross-origin");
            set("cross-origin-opener-policy", "same-origin");
        }
        if app.flaws.leaky {
            set("server", "standin/1.2.3");
            set("x-powered-by", "Express");
        }
        if !app.flaws.no_hsts {
            set(
                "strict-transport-security",
                "max-age=31536000; includeSubDomains",
            );
        }
        res
    }

    /// Serves the stand-in on https://127.0.0.1:PORT and a redirect listener on plain
    /// HTTP; returns (https base, http base). Both live as long as the test's runtime.
    pub async fn start(flaws: Flaws) -> (String, String) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let app = App {
            flaws,
            token: random(),
            secret: random(),
            data: Arc::default(),
        };
        let router = Router::new()
            .route("/", get(|| async { "stand-in" }))
            .route(
                "/api/content",
                get(|| async { reply(200, json!({"content": []})) }),
            )
            .route(
                "/health",
                get(|| async { reply(200, json!({"status": "ok"})) }),
            )
            .route(
                "/csrf-token",
                get(|State(app): State<App>| async move {
                    reply(200, json!({"csrf_token": app.token}))
                }),
            )
            .route("/api/register", post(register))
            .route("/api/login", post(login))
            .route("/api/logout", post(logout))
            .route("/api/check_session", get(check_session))
            .route("/profile", get(profile_page))
            .route("/api/profile", get(get_profile).post(post_profile))
            .route("/api/account", delete(delete_account))
            .fallback(|State(app): State<App>| async move {
                if app.flaws.leaky {
                    let trace = "thread 'main' panicked at src/main.rs:3:5\nstack backtrace: …";
                    return (StatusCode::NOT_FOUND, trace).into_response();
                }
                reply(404, json!({"error": "Not found."}))
            })
            .layer(if flaws.no_body_limit {
                DefaultBodyLimit::disable()
            } else {
                DefaultBodyLimit::max(5 << 20)
            })
            .layer(middleware::from_fn_with_state(app.clone(), headers))
            .with_state(app);
        let (cert, key) = super::make_cert("verify-test", flaws.cert_days.unwrap_or(90));
        let tls = RustlsConfig::from_pem(cert.into_bytes(), key.into_bytes())
            .await
            .expect("TLS config");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = axum_server::from_tcp_rustls(listener, tls).unwrap();
        tokio::spawn(server.serve(router.into_make_service()));
        let redirect = Router::new().fallback(move |req: Request| async move {
            let to = format!("https://127.0.0.1:{port}{}", req.uri().path());
            (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response()
        });
        let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let plain_addr = plain.local_addr().unwrap();
        tokio::spawn(
            axum_server::from_tcp(plain)
                .unwrap()
                .serve(redirect.into_make_service()),
        );
        (
            format!("https://127.0.0.1:{port}"),
            format!("http://{plain_addr}"),
        )
    }
}

async fn verify_standin(flaws: standin::Flaws, extra: &[&str]) -> Run {
    let (https, http) = standin::start(flaws).await;
    let mut args = vec![
        "--insecure",
        "--requests",
        "20",
        "--http-url",
        http.as_str(),
    ];
    args.extend_from_slice(extra);
    args.push(https.as_str());
    verify(&args).await
}

/// The faithful stand-in passes every check: so each flaw below fails only its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standin_without_flaws_passes() {
    let run = verify_standin(standin::Flaws::default(), &[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.with_status("FAIL").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_missing_fails() {
    let flaws = standin::Flaws {
        no_hsts: true,
        ..Default::default()
    };
    let run = verify_standin(flaws, &[]).await;
    run.assert_fails(&[("https.hsts", "no Strict-Transport-Security header")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_not_enforced_fails() {
    let flaws = standin::Flaws {
        csrf_unchecked: true,
        ..Default::default()
    };
    let run = verify_standin(flaws, &[]).await;
    run.assert_fails(&[
        ("csrf.invalid", "accepted (200 Profile updated successfully) — the server does not check the CSRF token"),
        ("csrf.missing", "the server does not require a CSRF token"),
    ]);
}

/// Client-side cookie sessions: logout clears the browser's copy (so /profile afterwards is
/// a 401 and logout.profile passes), but the replayed cookie still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_without_revocation_fails() {
    let flaws = standin::Flaws {
        cookie_sessions: true,
        ..Default::default()
    };
    let run = verify_standin(flaws, &[]).await;
    run.assert_fails(&[(
        "logout.replay",
        "logout does not revoke the session server-side: the cookie captured before logout still authenticates",
    )]);
    assert_eq!(run.status("logout.profile"), "PASS");
}

/// Sessions that never expire, checked with --session-timeout 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_outliving_the_timeout_fails() {
    let run = verify_standin(standin::Flaws::default(), &["--session-timeout", "1"]).await;
    run.assert_fails(&[("session.timeout", "still authenticated after 3 s idle")]);
    assert_eq!(
        run.status("cleanup.account"),
        "PASS",
        "the live session is reused for the cleanup"
    );
}

/// A certificate that does not chain to a trusted root, checked without --insecure: only
/// tls.chain FAILs (the rest goes on over the accepted certificate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_fails_without_insecure() {
    let (https, http) = standin::start(standin::Flaws::default()).await;
    let run = verify(&["--requests", "5", "--http-url", &http, &https]).await;
    run.assert_fails(&[("tls.chain", "not issued by a publicly trusted CA")]);
}

/// Days left: FAIL under 7, WARN under 30.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_certificate_warns_then_fails() {
    let days_left = |run: &Run| -> i64 {
        let line = run.line("tls.expiry");
        let (before, _) = line.rsplit_once(" days left").expect("days left");
        before
            .rsplit('(')
            .next()
            .unwrap()
            .parse()
            .expect("a number of days")
    };
    let soon = standin::Flaws {
        cert_days: Some(20),
        ..Default::default()
    };
    let run = verify_standin(soon, &[]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        run.status("tls.expiry"),
        "WARN",
        "{}",
        run.line("tls.expiry")
    );
    assert!(
        (19..=20).contains(&days_left(&run)),
        "{}",
        run.line("tls.expiry")
    );
    let very_soon = standin::Flaws {
        cert_days: Some(5),
        ..Default::default()
    };
    let run = verify_standin(very_soon, &[]).await;
    run.assert_fails(&[("tls.expiry", "days left")]);
    assert!(
        (4..=5).contains(&days_left(&run)),
        "{}",
        run.line("tls.expiry")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_cookie_attributes_fail() {
    let flaws = standin::Flaws {
        bad_cookie: true,
        ..Default::default()
    };
    let run = verify_standin(flaws, &[]).await;
    run.assert_fails(&[
        ("cookie.httponly", "no HttpOnly flag"),
        ("cookie.samesite", "SameSite=none"),
        ("cookie.path", "Path=/api"),
        ("cookie.domain", "Domain=127.0.0.1"),
    ]);
    assert_eq!(run.status("cookie.secure"), "PASS");
    assert_eq!(run.status("cookie.prefix"), "WARN");
    assert!(
        run.stdout
            .match_indices("session=")
            .all(|(i, m)| run.stdout[i + m.len()..].starts_with('…')),
        "cookie values are never printed:\n{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_security_headers_fail() {
    let flaws = standin::Flaws {
        no_headers: true,
        ..Default::default()
    };
    let run = verify_standin(flaws, &[]).await;
    run.assert_fails(&[
        ("headers.csp", "no Content-Security-Policy on /"),
        ("headers.nosniff", "no x-content-type-options"),
        ("headers.referrer", "no referrer-policy"),
        ("headers.coop", "no cross-origin-opener-policy"),
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaks_and_unlimited_bodies_fail() {
    let flaws = standin::Flaws {
        leaky: true,
        no_body_limit: true,
        ..Default::default()
    };
    let run = verify_standin(flaws, &[]).await;
    run.assert_fails(&[
        ("leak.errors", "a stack trace"),
        ("leak.server", "server: standin/1.2.3"),
        ("body.limit", "the 6 MiB body was read"),
    ]);
    assert!(run.line("leak.server").contains("x-powered-by: Express"));
}
