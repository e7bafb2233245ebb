//! Direct TLS, the redirect listener, connection timeouts, graceful shutdown, metrics,
//! log files and systemd readiness — issue 3's server-side points, against the real binary.

use std::{
    io::{Read as _, Write as _},
    net::TcpStream,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Client, Server, prod_tls_env, tool, write_cert};

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// `openssl s_client` with extra args; true when the handshake succeeded.
fn s_client(openssl: &Path, addr: &str, args: &[&str]) -> bool {
    let out = Command::new(openssl)
        .args(["s_client", "-connect", addr, "-servername", "localhost"])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("openssl");
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && text.contains("Cipher is") && !text.contains("Cipher is (NONE)")
}

/// HTTPS on BIND with HTTP/2 and HTTP/1.1, HSTS, a `__Host-session` Secure cookie, and the
/// seed's flow over TLS.
async fn https_serves_the_app(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(dir.path(), "server", 90);
    let s = Server::start(backend, &prod_tls_env(&cert, &key)).await;
    assert!(s.base.starts_with("https://"), "{}", s.base);
    s.create_user("test_user", "test_password");
    let mut c = s.tls_client(&pem);
    let r = c.get("/").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.version, reqwest::Version::HTTP_2, "ALPN picks h2");
    assert_eq!(
        r.header("strict-transport-security").as_deref(),
        Some("max-age=31536000; includeSubDomains")
    );
    let r = c.login("test_user", "test_password").await;
    assert_eq!(r.status, StatusCode::OK);
    let cookie = r.set_cookies().into_iter().next().expect("cookie");
    assert!(cookie.starts_with("__Host-session="), "{cookie}");
    for flag in ["; Path=/", "; Secure", "; HttpOnly", "; SameSite=Lax"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.json()["is_authenticated"], true);
    // An error response over HTTPS carries HSTS too.
    let r = c.get("/api/nope").send().await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.header("strict-transport-security").is_some());
}

/// TLS 1.2 and 1.3 only, and only AEAD + forward-secret suites (Mozilla intermediate).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_versions_and_ciphers() {
    let Some(openssl) = tool("openssl", "the TLS version and cipher check") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = write_cert(dir.path(), "server", 90);
    let s = Server::start(Backend::Sqlite, &prod_tls_env(&cert, &key)).await;
    let addr = s.addr.clone();
    assert!(s_client(&openssl, &addr, &["-tls1_3"]), "TLS 1.3 offered");
    assert!(s_client(&openssl, &addr, &["-tls1_2"]), "TLS 1.2 offered");
    assert!(
        !s_client(
            &openssl,
            &addr,
            &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]
        ),
        "TLS 1.1 refused"
    );
    assert!(
        !s_client(&openssl, &addr, &["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]),
        "TLS 1.0 refused"
    );
    for good in [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
    ] {
        assert!(
            s_client(&openssl, &addr, &["-tls1_2", "-cipher", good]),
            "{good} offered"
        );
    }
    for bad in [
        "ECDHE-ECDSA-AES128-SHA",
        "ECDHE-ECDSA-AES256-SHA384",
        "AES128-GCM-SHA256",
        "AES128-SHA",
    ] {
        assert!(
            !s_client(&openssl, &addr, &["-tls1_2", "-cipher", bad]),
            "{bad} refused"
        );
    }
}

/// A replaced certificate is served without a restart — on SIGHUP and on file change —
/// while a connection opened before the reload keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_reload() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem_a) = write_cert(dir.path(), "a", 90);
    let mut env = prod_tls_env(&cert, &key);
    env.push(("TLS_RELOAD_INTERVAL", "1"));
    let s = Server::start(Backend::Sqlite, &env).await;
    let mut old = s.tls_client(&pem_a);
    let before = old
        .get("/health")
        .send()
        .await
        .peer_cert
        .expect("peer cert");

    // Replace the files (another name on disk, then moved into place like certbot does).
    let tmp = tempfile::tempdir().unwrap();
    let (c2, k2, pem_b) = write_cert(tmp.path(), "b", 90);
    std::fs::copy(&c2, &cert).unwrap();
    std::fs::copy(&k2, &key).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut fresh = Client::with_root(&s.base, &pem_b);
        let r = fresh.req(reqwest::Method::GET, "/health");
        if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(2), r.try_send()).await
            && r.peer_cert.as_ref().is_some_and(|c| c != &before)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "new certificate not served after a file change"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    s.wait_event("tls_reloaded").await;
    // The connection opened before the reload is still up, on the old certificate.
    let r = old.get("/health").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.peer_cert.as_deref(),
        Some(before.as_slice()),
        "same connection kept"
    );

    // SIGHUP: certificate C.
    let (c3, k3, pem_c) = write_cert(tmp.path(), "c", 90);
    std::fs::copy(&c3, &cert).unwrap();
    std::fs::copy(&k3, &key).unwrap();
    Command::new("kill")
        .args(["-HUP", &s.pid().to_string()])
        .status()
        .unwrap();
    let reloads = || {
        s.log_events()
            .iter()
            .filter(|e| e["event"] == "tls_reloaded")
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while reloads() < 2 {
        assert!(Instant::now() < deadline, "no reload after SIGHUP");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A broken replacement is refused and the server keeps serving.
    std::fs::write(&cert, "not a certificate").unwrap();
    Command::new("kill")
        .args(["-HUP", &s.pid().to_string()])
        .status()
        .unwrap();
    s.wait_event("tls_reload_failed").await;
    let r = Client::with_root(&s.base, &pem_c)
        .get("/health")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "still serving certificate C");
}

/// HTTP_REDIRECT_BIND: every request, docs/checklist.md §11 Test 2's login POST included, gets a 301 to the
/// same host, path and query on https — and nobody is logged in.
async fn redirect_listener(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = write_cert(dir.path(), "server", 90);
    let mut env = prod_tls_env(&cert, &key);
    env.retain(|(k, _)| *k != "PUBLIC_URL");
    env.push(("HTTP_REDIRECT_BIND", "127.0.0.1:0"));
    let s = Server::start(backend, &env).await;
    s.create_user("test_user", "test_password");
    let http = format!(
        "http://{}",
        s.listening["redirect_addr"]
            .as_str()
            .expect("redirect_addr")
    );
    let port = s.addr.rsplit(':').next().unwrap().to_string();
    let mut c = Client::new(&http);
    let r = c.login("test_user", "test_password").await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("https://127.0.0.1:{port}/api/login").as_str())
    );
    assert!(r.set_cookies().is_empty(), "no cookie over plain HTTP");
    let r = c.get("/course/x?y=1&z=2").send().await;
    assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("https://127.0.0.1:{port}/course/x?y=1&z=2").as_str())
    );
    assert!(
        !s.log_events()
            .iter()
            .any(|e| e["event"] == "login_success" || e["event"] == "login_failure")
    );
}

/// A client that sends its headers too slowly is cut off; so is an idle keep-alive
/// connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed() {
    let s = Server::start(Backend::Sqlite, &[("HTTP_HEADER_TIMEOUT", "1")]).await;
    // Slowloris: half a request line, then silence.
    let mut slow = TcpStream::connect(&s.addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(6))).unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "slow client cut off"
    );

    // Idle keep-alive: one full request, then nothing.
    let mut idle = TcpStream::connect(&s.addr).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    let started = Instant::now();
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match idle.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("idle connection not closed: {e}"),
        }
    }
    assert!(String::from_utf8_lossy(&all).starts_with("HTTP/1.1 200"));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "idle keep-alive closed"
    );
}

/// SIGTERM: stop accepting, let the in-flight request finish, exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests() {
    let mut s = Server::start(Backend::Sqlite, &[]).await;
    s.create_user("test_user", "test_password");
    let body = br#"{"username": "test_user", "password": "test_password"}"#;
    let mut conn = TcpStream::connect(&s.addr).unwrap();
    write!(
        conn,
        "POST /api/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        s.addr,
        body.len()
    )
    .unwrap();
    conn.write_all(&body[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-TERM", &s.pid().to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // New connections are refused while the old one finishes.
    assert!(
        TcpStream::connect(&s.addr).is_err(),
        "listener closed after SIGTERM"
    );
    conn.write_all(&body[10..]).unwrap();
    let mut answer = String::new();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = conn.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "in-flight login answered: {answer}"
    );
    let status = s.terminate();
    assert!(status.success(), "exit status {status:?}");
}

/// /metrics on its own listener, never on the public one.
async fn metrics_listener(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(dir.path(), "server", 90);
    let mut env = prod_tls_env(&cert, &key);
    env.push(("METRICS_BIND", "127.0.0.1:0"));
    env.push(("AUTH_RATE_LIMIT", "2"));
    let s = Server::start(backend, &env).await;
    s.create_user("test_user", "test_password");
    let mut c = s.tls_client(&pem);
    assert_eq!(
        c.login("test_user", "test_password").await.status,
        StatusCode::OK
    );
    assert_eq!(
        c.login("test_user", "wrong-password").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        c.login("test_user", "wrong-password").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    let r = c
        .post("/api/profile")
        .json(&json!({"about_me": "x"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        c.get("/metrics").send().await.status,
        StatusCode::NOT_FOUND,
        "not on the public listener"
    );

    let metrics_url = format!(
        "http://{}",
        s.listening["metrics_addr"].as_str().expect("metrics_addr")
    );
    let r = Client::new(&metrics_url).get("/metrics").send().await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.body;
    for needle in [
        "gleh_http_requests_total{route=\"/api/login\",status=\"200\"} 1",
        "gleh_logins_total{outcome=\"success\"} 1",
        "gleh_logins_total{outcome=\"failure\"} 1",
        "gleh_csrf_failures_total{reason=\"missing\"} 1",
        "gleh_rate_limit_hits_total{scope=\"ip\"} 1",
        "gleh_tls_certificate_expiry_timestamp_seconds",
        "gleh_http_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    let expiry: f64 = text
        .lines()
        .find(|l| l.starts_with("gleh_tls_certificate_expiry_timestamp_seconds "))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .expect("expiry value");
    let days = (expiry - time_now().unix_timestamp() as f64) / 86400.0;
    assert!(
        (89.0..=91.0).contains(&days),
        "certificate expiry in ~90 days: {days}"
    );
}

/// LOG_DIR: events in app.log, one access line per request in access.log.
async fn log_files(backend: Backend) {
    let logs = tempfile::tempdir().unwrap();
    let dir = logs.path().display().to_string();
    let s = Server::start(backend, &[("LOG_DIR", dir.as_str())]).await;
    s.create_user("test_user", "test_password");
    let mut c = s.client();
    c.login("test_user", "test_password").await;
    c.login("test_user", "nope-nope-nope").await;
    c.get("/api/content").send().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let read = |name: &str| -> Vec<Value> {
        std::fs::read_to_string(logs.path().join(name))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    };
    let app = read("app.log");
    let access = read("access.log");
    assert!(app.iter().any(|e| e["event"] == "login_success"));
    assert!(
        app.iter()
            .any(|e| e["event"] == "login_failure" && e["ip"] == "127.0.0.1")
    );
    assert!(
        app.iter().all(|e| e["event"] != "request"),
        "no access lines in app.log"
    );
    assert_eq!(access.len(), 3, "one access line per request: {access:?}");
    assert!(access.iter().all(|e| e["event"] == "request"));
    assert!(
        !s.logs().iter().any(|l| l.contains("\"event\":\"request\"")),
        "access lines leave stderr"
    );
}

/// Type=notify: READY=1 once listening, STOPPING=1 on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systemd_notify() {
    use std::os::unix::net::UnixDatagram;
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let path = sock_path.display().to_string();
    let mut s = Server::start(Backend::Sqlite, &[("NOTIFY_SOCKET", path.as_str())]).await;
    let mut buf = [0u8; 256];
    let n = sock.recv(&mut buf).expect("READY message");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("READY=1"));
    let status = s.terminate();
    assert!(status.success());
    let n = sock.recv(&mut buf).expect("STOPPING message");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("STOPPING=1"));
}

/// The full header set of an HTML page, a JSON answer and an error over HTTPS (a snapshot:
/// volatile headers — date, request id, length — are left out).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(dir.path(), "server", 90);
    let s = Server::start(Backend::Sqlite, &prod_tls_env(&cert, &key)).await;
    let mut c = s.tls_client(&pem);
    let common = [
        "content-security-policy: default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        "x-content-type-options: nosniff",
        "x-frame-options: DENY",
        "referrer-policy: strict-origin-when-cross-origin",
        "cross-origin-opener-policy: same-origin",
        "cross-origin-resource-policy: same-origin",
        "permissions-policy: camera=(), microphone=(), geolocation=(), payment=()",
        "strict-transport-security: max-age=31536000; includeSubDomains",
        "cache-control: no-store",
    ];
    for (path, status, content_type) in [
        ("/", 200, "text/html; charset=utf-8"),
        ("/api/content", 200, "application/json; charset=utf-8"),
        ("/api/nope", 404, "application/json; charset=utf-8"),
    ] {
        let r = c.get(path).send().await;
        assert_eq!(r.status.as_u16(), status, "{path}");
        let mut seen: Vec<String> = r
            .headers
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "date" | "x-request-id" | "content-length" | "vary"
                )
            })
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("?")))
            .collect();
        seen.sort();
        let mut expected: Vec<String> = common.iter().map(|s| s.to_string()).collect();
        expected.push(format!("content-type: {content_type}"));
        expected.sort();
        assert_eq!(seen, expected, "header set of {path}");
    }
}

both_backends!(
    https_serves_the_app,
    redirect_listener,
    metrics_listener,
    log_files
);
