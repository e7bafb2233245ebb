//! Restarts without failed requests (issue 13 point 3; docs/deploy.md "Rolling restarts";
//! src/server/shutdown.rs): on SIGTERM an instance refuses new connections at once and
//! frees its port for the replacement, answers what it has started, marks those answers
//! `Connection: close`, leaves its idle keep-alive connections for the peer to close, and
//! exits 0. Through the shipped nginx file, clients reading and writing all the while see
//! no error and nothing but 2xx while each instance in turn is replaced. A binary one
//! migration behind the database serves it, and `gleh migrate --check` tells it so.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::both_backends;
use crate::helpers::{Backend, PW, Server, TestDb, logged_in, run};
use crate::nginx::cluster_behind_nginx;

both_backends!(
    sigterm_finishes_what_it_started_and_refuses_the_rest,
    a_rolling_restart_through_nginx_fails_no_request,
    an_older_binary_serves_a_newer_database_and_knows_it,
);

/// Reads one HTTP/1.1 answer (head and a `Content-Length` body) from `s`; returns the head
/// (lower-cased) and the body.
async fn read_answer(s: &mut tokio::net::TcpStream) -> (String, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut chunk))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        assert!(n > 0, "connection closed before a full answer: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().expect("content-length"));
            if buf.len() >= end + 4 + len {
                return (head, text[end + 4..end + 4 + len].to_string());
            }
        }
    }
}

/// The connection is closed by the server (EOF) within a few seconds.
async fn closed_by_server(s: &mut tokio::net::TcpStream) -> bool {
    let mut b = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

/// SIGTERM while one request is half sent and another connection is idle: new connections
/// are refused and the port can be bound by a replacement at once; the idle connection
/// still carries a request, answered with `Connection: close`; the half-sent request is
/// answered in full; then the process exits 0.
async fn sigterm_finishes_what_it_started_and_refuses_the_rest(backend: Backend) {
    let mut s = Server::start(backend, &[]).await;
    s.create_user("alice", PW);
    let mut c = logged_in(&s, "alice", PW).await;
    let token = c.csrf().await;
    let cookie: Vec<String> = c.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let cookie = cookie.join("; ");
    drop(c); // its pooled connections would otherwise wait out the drain
    let addr = s.addr.clone();

    // An idle keep-alive connection, as a proxy keeps them.
    let mut idle = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let get = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    idle.write_all(get.as_bytes()).await.expect("write");
    let (head, _) = read_answer(&mut idle).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(!head.contains("connection: close"), "{head}");

    // A write whose body is half sent when the signal comes.
    let body = json!({"about_me": "sent across a shutdown"}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut busy = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/profile HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nX-CSRFToken: {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        body.len()
    );
    busy.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let signalled = Instant::now();
    s.signal_term();
    s.wait_event("shutdown_requested").await;

    // Refused at once, and the port is free for the replacement while this one drains.
    let refused = loop {
        match tokio::net::TcpStream::connect(&addr).await {
            Err(_) => break signalled.elapsed(),
            Ok(_) => {
                assert!(
                    signalled.elapsed() < Duration::from_secs(2),
                    "new connections still accepted 2 s after SIGTERM"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    let replacement =
        std::net::TcpListener::bind(&addr).expect("the port is free for a replacement");
    drop(replacement);
    assert!(
        s.exited_within(Duration::ZERO).await.is_none(),
        "the instance is still draining"
    );

    // The idle connection still carries a request; its answer is its last.
    idle.write_all(get.as_bytes()).await.expect("write");
    let (head, _) = read_answer(&mut idle).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert!(closed_by_server(&mut idle).await, "closed after its answer");

    // The half-sent write completes, and is answered in full.
    busy.write_all(rest.as_bytes())
        .await
        .expect("write the rest");
    let (head, answer) = read_answer(&mut busy).await;
    assert!(head.starts_with("http/1.1 200"), "{head}\n{answer}");
    assert!(head.contains("connection: close"), "{head}");
    assert!(closed_by_server(&mut busy).await, "closed after its answer");

    let status = s
        .exited_within(Duration::from_secs(15))
        .await
        .expect("exits once its connections are done");
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status}");
    let drained = s.wait_event("connections_drained").await;
    assert_eq!(drained["open_connections"], 0, "{drained}");
    s.wait_event("stopped").await;
    eprintln!(
        "rolling: refused new connections {} ms after SIGTERM, exited after {} ms",
        refused.as_millis(),
        took.as_millis()
    );

    // The write is there.
    let db: TestDb = s.stop();
    let s = Server::start_on(db, &[]).await;
    let mut c = logged_in(&s, "alice", PW).await;
    let r = c.get("/api/profile").send().await;
    assert!(r.body.contains("sent across a shutdown"), "{}", r.body);
}

/// Clients through the shipped nginx file read the catalog and their session and write
/// their profile without pause while each of three instances in turn gets SIGTERM and a
/// replacement starts on its port: no request fails, every answer is a 2xx.
async fn a_rolling_restart_through_nginx_fails_no_request(backend: Backend) {
    let Some((mut k, front)) = cluster_behind_nginx(backend, 3, "the rolling-restart test").await
    else {
        return;
    };

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();
    for w in 0..8 {
        let mut c = front.client();
        let r = c.login("alice", PW).await;
        assert_eq!(r.status, StatusCode::OK, "login #{w}: {}", r.body);
        let token = c.csrf().await;
        let (stop, done, failures) = (stop.clone(), done.clone(), failures.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let outcome = match n % 3 {
                    0 => c.get("/api/content").try_send().await,
                    1 => c.get("/api/check_session").try_send().await,
                    _ => {
                        c.post("/api/profile")
                            .header("X-CSRFToken", &token)
                            .json(&json!({"about_me": format!("worker {w}, write {n}")}))
                            .try_send()
                            .await
                    }
                };
                match outcome {
                    Ok(r) if r.status.is_success() => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => failures
                        .lock()
                        .expect("lock")
                        .push(format!("worker {w}: {} {}", r.status, r.body)),
                    Err(e) => failures
                        .lock()
                        .expect("lock")
                        .push(format!("worker {w}: {e}")),
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..k.nodes.len() {
        let before = done.load(Ordering::Relaxed);
        let (status, took) = k.restart(i).await;
        assert!(status.success(), "instance {i} exited with {status}");
        eprintln!(
            "rolling: instance {i} replaced; the old one exited {} ms after SIGTERM; {} requests meanwhile",
            took.as_millis(),
            done.load(Ordering::Relaxed) - before
        );
        // The replacement serves before the next one goes, and nginx has taken it back:
        // an instance that refused a connection is skipped for `fail_timeout` (2 s).
        let mut c = k.nodes[i].client();
        let r = c.get("/health").send().await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("worker");
    }
    let failures = failures.lock().expect("lock").clone();
    let total = done.load(Ordering::Relaxed);
    eprintln!(
        "rolling: {total} requests through nginx, {} failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} requests failed during the rolling restart:\n{}\nnginx:\n{}",
        failures.len(),
        total + failures.len(),
        failures.join("\n"),
        front.nginx.error_log()
    );
    assert!(total > 100, "only {total} requests ran");
    // Every replacement answered some of them.
    for (i, s) in k.nodes.iter().enumerate() {
        let served = s
            .log_events()
            .iter()
            .filter(|v| v["event"] == "request" && v["path"] != "/health")
            .count();
        assert!(served > 0, "the replacement of instance {i} served nothing");
    }
}

/// A newer binary's migration (a version this binary does not know) in the database: this
/// binary still starts and serves, says so in its log, and `gleh migrate --check` exits 3;
/// `gleh migrate` exits 0. Before that, the exit codes for up to date (0) and pending (1).
async fn an_older_binary_serves_a_newer_database_and_knows_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let env = vec![("DATABASE_URL".to_string(), db.url.clone())];
    let check = || run(&db.dir(), &env, &["migrate", "--check"], None);

    let out = check();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a fresh database: pending\n{text}"
    );
    assert!(text.contains("pending: 20261128000001_init"), "{text}");
    let out = run(&db.dir(), &env, &["migrate"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = check();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("database is up to date"), "{text}");

    // What a newer binary's `gleh migrate` would have recorded.
    let blob = match backend {
        Backend::Sqlite => "X'00'",
        Backend::Postgres => "'\\x00'::bytea",
    };
    let pool = db.pool().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (29991231000001, 'from a newer release', TRUE, {blob}, 1)"
    )))
    .execute(&pool)
    .await
    .expect("record a newer migration");
    pool.close().await;

    let out = check();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("this binary is behind") && text.contains("29991231000001"),
        "{text}"
    );
    let out = run(&db.dir(), &env, &["migrate"], None);
    assert!(
        out.status.success(),
        "gleh migrate on a newer database: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // It serves: development mode (which migrates at start) and production (which checks).
    for extra in [vec![], crate::helpers::production_env()] {
        let s = Server::start_on(db.share(), &extra).await;
        let warned = s.wait_event("database_newer").await;
        assert!(warned.to_string().contains("29991231000001"), "{warned}");
        let name = format!("user{}", extra.len());
        s.create_user(&name, PW);
        let mut c = logged_in(&s, &name, PW).await;
        let r = c.get("/api/check_session").send().await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
}
