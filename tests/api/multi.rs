//! Several instances on one database (issue 13 point 1; docs/deploy.md "Several
//! instances"): two or three real `gleh serve` processes on loopback ports share one
//! database (a PostgreSQL database; on SQLite, one file the processes share), one
//! `SECRET_KEY` and one `CONTENT_DIR`, each with its own `DATA_DIR` (`helpers::Cluster`).
//! What one instance does, the others honour: sessions and their revocation (within the
//! session cache's 1 s bound, docs/security.md "The session cache", measured here and
//! printed), the login limits, uploaded avatars and courses; and the shipped nginx file
//! with both instances as its upstreams keeps logins and reads working whichever instance
//! answers. A lost database connection empties the session cache (PostgreSQL).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::admin_courses::package;
use crate::avatar::{fetch, png};
use crate::both_backends;
use crate::helpers::{
    Backend, Client, Cluster, PW, Part, Relay, Resp, Server, TestDb, logged_in, multipart,
    multipart_type, postgres_available, refused_within_a_second,
};
use crate::nginx::cluster_behind_nginx;

const PW2: &str = "another-horse-battery-2";

both_backends!(
    a_session_is_shared_by_the_instances,
    revocations_reach_every_instance,
    login_limits_count_across_instances,
    an_avatar_uploaded_on_one_is_served_by_another,
    an_uploaded_course_launches_on_another,
    through_nginx_with_two_upstreams,
);

async fn check(c: &mut Client) -> Resp {
    c.get("/api/check_session").send().await
}

/// `c`'s session is live and belongs to `user`.
async fn assert_session(c: &mut Client, user: &str, what: &str) {
    let r = check(c).await;
    assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.body);
    assert_eq!(r.json()["user"]["username"], user, "{what}: {}", r.body);
}

fn report(what: &str, delay: Duration) {
    eprintln!(
        "multi-instance: {what}: refused {} ms after",
        delay.as_millis()
    );
}

/// A login through A is a session on B (check_session, profile); a CSRF token A issued is
/// accepted by B (the same SECRET_KEY); a logout through B ends the session on A — which
/// had it in its session cache — within the cache's bound.
async fn a_session_is_shared_by_the_instances(backend: Backend) {
    let k = Cluster::start(backend, 2, &[]).await;
    k.nodes[0].create_user("alice", PW);
    let mut on_a = logged_in(&k.nodes[0], "alice", PW).await;
    assert_session(&mut on_a, "alice", "on A").await;
    let mut on_b = k.on(1, &on_a);
    assert_session(&mut on_b, "alice", "A's session on B").await;
    let r = on_b.get("/api/profile").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["user"]["username"], "alice", "{}", r.body);
    let r = on_b
        .get("/profile")
        .header("Accept", "text/html")
        .send()
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the profile page on B: {}",
        r.body
    );

    // A's token, B's write; then A reads what B wrote.
    let token = on_a.csrf().await;
    let r = on_b
        .post("/api/profile")
        .header("X-CSRFToken", &token)
        .json(&json!({"about_me": "written through B"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "A's token on B: {}", r.body);
    let r = on_a.get("/api/profile").send().await;
    assert!(r.body.contains("written through B"), "{}", r.body);

    // Logout through B; A had the row cached a moment ago.
    assert_session(&mut on_a, "alice", "on A before the logout").await;
    let r = on_b.post("/api/logout").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let since = Instant::now();
    let delay = refused_within_a_second(&mut on_a, since, "logout on B, the session on A").await;
    report("logout on B, session on A", delay);
    let r = on_a.get("/api/profile").send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

/// The user `name`'s id, from the admin API.
async fn user_id(admin: &mut Client, name: &str) -> i64 {
    let r = admin.get("/api/admin/users").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["username"] == name)
        .unwrap_or_else(|| panic!("no user {name} in {}", r.body))["id"]
        .as_i64()
        .expect("id")
}

/// `c`'s session as clients of instances B and C, each of which has just served it (so
/// both have the row in their session cache).
async fn held_on_b_and_c(k: &Cluster, c: &Client, user: &str) -> (Client, Client) {
    let (mut b, mut c2) = (k.on(1, c), k.on(2, c));
    assert_session(&mut b, user, "on B").await;
    assert_session(&mut c2, user, "on C").await;
    (b, c2)
}

/// Polls both B and C until each refuses; returns the later delay.
async fn refused_on_b_and_c(
    b: &mut Client,
    c: &mut Client,
    since: Instant,
    what: &str,
) -> Duration {
    let (on_b, on_c) = (format!("{what}: on B"), format!("{what}: on C"));
    let (db, dc) = tokio::join!(
        refused_within_a_second(b, since, &on_b),
        refused_within_a_second(c, since, &on_c),
    );
    report(&format!("{what}, on B"), db);
    report(&format!("{what}, on C"), dc);
    db.max(dc)
}

/// Three instances. A password change on A, an admin disabling an account on A, and
/// `gleh user revoke-sessions` run against the shared database: each ends the session on
/// B and on C — which had just served it — within 1 s, polled every 50 ms.
async fn revocations_reach_every_instance(backend: Backend) {
    let k = Cluster::start(backend, 3, &[]).await;
    let a = &k.nodes[0];
    let out = a.cli(
        &["user", "create", "root", "--admin"],
        Some(&format!("{PW}\n")),
    );
    assert!(out.status.success(), "{out:?}");
    for name in ["bob", "carol", "dave"] {
        a.create_user(name, PW);
    }
    let mut root = logged_in(a, "root", PW).await;
    let root_token = root.csrf().await;
    let mut delays = Vec::new();

    // A password change through A: every other session of bob's ends.
    let mut changer = logged_in(a, "bob", PW).await;
    let other = logged_in(&k.nodes[1], "bob", PW).await;
    let (mut b, mut c) = held_on_b_and_c(&k, &other, "bob").await;
    let token = changer.csrf().await;
    let r = changer
        .post("/api/profile/change-password")
        .header("X-CSRFToken", &token)
        .json(&json!({
            "current_password": PW,
            "new_password": PW2,
            "confirm_password": PW2,
        }))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let since = Instant::now();
    delays.push(refused_on_b_and_c(&mut b, &mut c, since, "password change on A").await);
    // The changer's new session is good everywhere; the old password nowhere.
    let mut new_on_c = k.on(2, &changer);
    assert_session(&mut new_on_c, "bob", "the changer's new session on C").await;
    let r = k.nodes[1].client().login("bob", PW).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "old password on B");

    // An admin disables carol through A.
    let carol = logged_in(&k.nodes[2], "carol", PW).await;
    let (mut b, mut c) = held_on_b_and_c(&k, &carol, "carol").await;
    let id = user_id(&mut root, "carol").await;
    let r = root
        .post("/api/admin/disable-user")
        .header("X-CSRFToken", &root_token)
        .json(&json!({"user_id": id}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let since = Instant::now();
    delays.push(refused_on_b_and_c(&mut b, &mut c, since, "account disabled on A").await);
    let r = k.nodes[1].client().login("carol", PW).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a disabled account on B"
    );

    // `gleh user revoke-sessions dave`, a process of its own on the shared database.
    let dave = logged_in(a, "dave", PW).await;
    let (mut b, mut c) = held_on_b_and_c(&k, &dave, "dave").await;
    let out = a.cli(&["user", "revoke-sessions", "dave"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let since = Instant::now();
    delays.push(refused_on_b_and_c(&mut b, &mut c, since, "gleh user revoke-sessions").await);

    // Nobody else lost a session: root's and bob's new one are all that is left.
    assert_session(&mut root, "root", "the admin on A").await;
    assert_eq!(k.db.count("sessions").await, 2);
    let worst = delays.iter().max().copied().unwrap_or_default();
    assert!(
        worst < Duration::from_secs(1),
        "slowest revocation {worst:?} (all: {delays:?})"
    );
}

/// One login attempt through `s` from the client address `ip` (the peer is loopback, a
/// trusted proxy by default, so X-Forwarded-For names the client).
async fn attempt(s: &Server, ip: &str, user: &str, pw: &str) -> Resp {
    s.client()
        .post("/api/login")
        .header("X-Forwarded-For", ip)
        .json(&json!({"username": user, "password": pw}))
        .send()
        .await
}

/// The per-IP limit (AUTH_RATE_LIMIT=5 a minute) and the per-account back-off (from the
/// 5th failure) count attempts spread over A and B: the limit trips at the same total
/// count as on one instance (tests/api/auth.rs `ip_rate_limit`, `account_backoff`), and
/// then on both.
async fn login_limits_count_across_instances(backend: Backend) {
    let k = Cluster::start(backend, 2, &[("AUTH_RATE_LIMIT", "5")]).await;
    let (a, b) = (&k.nodes[0], &k.nodes[1]);
    a.create_user("gina", PW);

    // Per IP: five attempts, alternating, each for another unknown name (no back-off).
    for i in 1..=5 {
        let s = &k.nodes[i % 2];
        let r = attempt(s, "203.0.113.1", &format!("mallory{i}"), PW2).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "IP attempt #{i}: {}",
            r.body
        );
    }
    for (n, s) in [("A", a), ("B", b)] {
        let r = attempt(s, "203.0.113.1", "gina", PW).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "6th IP attempt on {n}: {}",
            r.body
        );
        assert!(r.body.contains("Too many attempts"), "{}", r.body);
        assert!(r.header("retry-after").is_some(), "{:?}", r.headers);
    }
    // Another address still has its budget.
    let r = attempt(b, "203.0.113.2", "gina", PW).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Per account: five failures, alternating, each from another address (no IP limit).
    for i in 1..=5 {
        let s = &k.nodes[i % 2];
        let r = attempt(s, &format!("198.51.100.{i}"), "gina", PW2).await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "account failure #{i}: {}",
            r.body
        );
    }
    for (n, s, ip) in [("A", a, "198.51.100.6"), ("B", b, "198.51.100.7")] {
        let r = attempt(s, ip, "gina", PW).await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "the right password after 5 failures, on {n}: {}",
            r.body
        );
        assert!(r.body.contains("Too many failed attempts"), "{}", r.body);
    }
}

/// An avatar uploaded through A is in B's profile answer and served by B, byte for byte.
/// It holds because avatars live in the shared database (migration
/// `20261208000001_avatars`), not in each instance's own DATA_DIR.
async fn an_avatar_uploaded_on_one_is_served_by_another(backend: Backend) {
    let k = Cluster::start(backend, 2, &[]).await;
    k.nodes[0].create_user("alice", PW);
    let mut on_a = logged_in(&k.nodes[0], "alice", PW).await;
    let token = on_a.csrf().await;
    let r = on_a
        .post("/api/profile/avatar")
        .header("X-CSRFToken", &token)
        .body(
            &multipart_type(),
            multipart(&[Part {
                name: "avatar",
                filename: Some("me.png"),
                data: &png(64, 48),
            }]),
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let url = r.json()["avatar_url"]
        .as_str()
        .expect("avatar_url")
        .to_string();
    let (status, _, from_a) = fetch(&k.nodes[0].base, &url).await;
    assert_eq!(status, StatusCode::OK, "A serves {url}");

    let mut on_b = k.on(1, &on_a);
    let r = on_b.get("/api/profile").send().await;
    assert_eq!(r.json()["user"]["avatar"], url.as_str(), "{}", r.body);
    let (status, headers, from_b) = fetch(&k.nodes[1].base, &url).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "B does not serve the avatar uploaded through A ({url}): {headers:?}"
    );
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    assert_eq!(from_b, from_a, "B serves other bytes");
}

/// A course zip uploaded through A's admin API is in the catalog on B, its page renders
/// there and its launch page is served by B (CONTENT_DIR is shared). B's `/api/content`
/// lists it once its catalog JSON is rebuilt (at most 2 s, src/routes/api/content.rs).
async fn an_uploaded_course_launches_on_another(backend: Backend) {
    let k = Cluster::start(backend, 2, &[]).await;
    let out = k.nodes[0].cli(
        &["user", "create", "root", "--admin"],
        Some(&format!("{PW}\n")),
    );
    assert!(out.status.success(), "{out:?}");
    let mut b = k.nodes[1].client();
    // B has built its catalog JSON before the upload.
    let r = b.get("/api/content").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("multi-101"), "{}", r.body);

    let mut root = logged_in(&k.nodes[0], "root", PW).await;
    let token = root.csrf().await;
    let zip = package(
        "multi-101",
        "Shared Shores",
        "<h1>Shared Shores launch</h1>",
    );
    let r = root
        .post("/api/admin/upload-course")
        .header("X-CSRFToken", &token)
        .body(
            &multipart_type(),
            multipart(&[Part {
                name: "file",
                filename: Some("shores.zip"),
                data: &zip,
            }]),
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["folder"], "multi-101", "{}", r.body);
    let uploaded = Instant::now();
    let launch = k.content.path().join("courses/multi-101/index.html");
    assert!(
        launch.is_file(),
        "not in the shared CONTENT_DIR: {launch:?}"
    );

    let r = b.get("/course/multi-101").send().await;
    assert_eq!(r.status, StatusCode::OK, "the course page on B: {}", r.body);
    assert!(r.body.contains("Shared Shores"), "{}", r.body);
    assert!(
        r.body.contains("/courses/multi-101/index.html"),
        "no launch link on B's page: {}",
        r.body
    );
    let r = b.get("/courses/multi-101/index.html").send().await;
    assert_eq!(r.status, StatusCode::OK, "the launch page on B: {}", r.body);
    assert!(r.body.contains("Shared Shores launch"), "{}", r.body);

    loop {
        let r = b.get("/api/content").send().await;
        let listed = r.json()["content"]
            .as_array()
            .expect("content")
            .iter()
            .any(|c| c["uid"] == "multi-101");
        if listed {
            break;
        }
        assert!(
            uploaded.elapsed() < Duration::from_secs(3),
            "B's /api/content still lacks the course {:?} after the upload",
            uploaded.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The shipped deploy/nginx/gleh.conf, its upstream listing both instances (rendered as
/// tests/api/nginx.rs renders it, plus the second `server` line): logins and reads through
/// nginx spread over both instances (each answer's `x-request-id` is found in exactly one
/// instance's access log) and keep working; a logout through nginx ends the session on
/// both within the cache's bound.
async fn through_nginx_with_two_upstreams(backend: Backend) {
    let Some((k, front)) = cluster_behind_nginx(backend, 2, "the multi-instance nginx test").await
    else {
        return;
    };
    let client = || front.client();

    // Which instance answered, by the answer's request id in the access logs.
    let served_by = |r: &Resp| -> usize {
        let id = r.header("x-request-id").expect("x-request-id");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found: Vec<usize> = k
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    s.log_events()
                        .iter()
                        .any(|v| v["event"] == "request" && v["request_id"] == id.as_str())
                })
                .map(|(i, _)| i)
                .collect();
            if found.len() == 1 {
                return found[0];
            }
            assert!(found.is_empty(), "request {id} in several logs: {found:?}");
            assert!(
                Instant::now() < deadline,
                "request {id} in no instance's log"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };

    let mut hits = [0usize; 2];
    let mut clients = Vec::new();
    for n in 0..4 {
        let mut c = client();
        let r = c.login("alice", PW).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "login #{n} through nginx: {}",
            r.body
        );
        hits[served_by(&r)] += 1;
        clients.push(c);
    }
    for round in 0..3 {
        for (n, c) in clients.iter_mut().enumerate() {
            for path in ["/api/check_session", "/api/profile", "/api/content"] {
                let r = c.get(path).send().await;
                assert_eq!(
                    r.status,
                    StatusCode::OK,
                    "round {round}, client {n}, {path}: {}",
                    r.body
                );
                if path == "/api/check_session" {
                    assert_eq!(r.json()["user"]["username"], "alice", "{}", r.body);
                }
                hits[served_by(&r)] += 1;
            }
        }
    }
    assert!(
        hits[0] > 0 && hits[1] > 0,
        "nginx did not spread the requests: {hits:?}"
    );
    for s in &k.nodes {
        for v in s.log_events().iter().filter(|v| v["event"] == "request") {
            assert!(v["status"].as_u64().is_some_and(|s| s < 500), "{v}");
        }
    }

    // Logout through nginx: the session is refused through nginx, whichever instance
    // answers, within the bound; the other clients' sessions live on.
    let mut leaving = clients.pop().expect("a client");
    let copy = leaving.cookies.clone();
    let r = leaving.post("/api/logout").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let since = Instant::now();
    let mut replay = client();
    replay.cookies = copy;
    let delay = refused_within_a_second(&mut replay, since, "logout through nginx").await;
    report("logout through nginx", delay);
    // Refused on both from then on.
    let mut seen = [false; 2];
    for _ in 0..6 {
        let r = check(&mut replay).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
        seen[served_by(&r)] = true;
    }
    assert_eq!(seen, [true, true], "refusals not seen from both instances");
    for c in &mut clients {
        assert_session(c, "alice", "another session after the logout").await;
    }
}

/// The instance's log lines at level ERROR.
fn errors(s: &Server) -> String {
    let lines: Vec<String> = s
        .logs()
        .into_iter()
        .filter(|l| l.contains(r#""level":"ERROR""#))
        .collect();
    lines.join("\n")
}

/// PostgreSQL: the instance reaches its database through a `Relay`; the test cuts it
/// (every connection of the instance reset, new ones too) and meanwhile revokes the
/// session directly in the database. The instance had the session cached; from at most
/// 1 s on it must not serve it (a failed epoch read empties and disables its cache,
/// docs/security.md "The session cache" point 4): 503 while the database is out of reach,
/// 401 once the link is back — never the revoked session's 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_connection_empties_the_session_cache() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let address = db.pg_address();
    let relay = Relay::to(&address).await;
    let mut through = db.share();
    through.url = through
        .url
        .replacen(&address, &format!("127.0.0.1:{}", relay.port), 1);
    let s = Server::start_on(through, &[("AUTH_RATE_LIMIT", "1000")]).await;
    s.create_user("alice", PW);
    let mut c = logged_in(&s, "alice", PW).await;
    assert_session(&mut c, "alice", "before").await;
    assert_session(&mut c, "alice", "cached").await;

    relay.cut();
    let pool = db.pool().await;
    sqlx::query("DELETE FROM sessions")
        .execute(&pool)
        .await
        .expect("revoke while the instance is cut off");
    pool.close().await;
    let revoked = Instant::now();

    // Cut off: the cached row may be served for at most the cache's bound, then never.
    let mut statuses = Vec::new();
    let mut first_refusal = None;
    while revoked.elapsed() < Duration::from_millis(1600) {
        let r = check(&mut c).await;
        let at = revoked.elapsed();
        if r.status == StatusCode::OK {
            assert!(
                first_refusal.is_none() && at < Duration::from_secs(1),
                "the revoked session served at {at:?} while the database is cut off \
                 (first refused at {first_refusal:?}): {statuses:?}"
            );
        } else {
            assert_eq!(
                r.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "at {at:?}: {}; the instance's errors:\n{}",
                r.body,
                errors(&s)
            );
            first_refusal.get_or_insert(at);
        }
        statuses.push((at.as_millis(), r.status.as_u16()));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first = first_refusal.expect("never refused while cut off");
    eprintln!(
        "multi-instance: database cut off: the revoked session refused (503) {} ms after",
        first.as_millis()
    );

    // Back: the revocation is read from the database.
    relay.restore();
    let back = Instant::now();
    loop {
        let r = check(&mut c).await;
        assert_ne!(
            r.status,
            StatusCode::OK,
            "the revoked session served: {}",
            r.body
        );
        if r.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "still {} {:?} after the database came back",
            r.status,
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    logged_in(&s, "alice", PW).await;
    drop(s);
    drop(db);
}
