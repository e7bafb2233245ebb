//! Passwords and accounts (docs/design.md "Passwords and accounts"): registration rules, the
//! password policy, Argon2id storage, login answers that reveal nothing, the per-IP and
//! per-account limits (kept in the database), the client IP behind trusted proxies, and the
//! log events these produce. Each test runs on SQLite and on PostgreSQL.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::both_backends;
use crate::helpers::{Backend, Client, Resp, Server, start};

/// A password that satisfies the policy and contains none of the usernames used here.
const GOOD_PW: &str = "correct-horse-battery-1";
const OTHER_PW: &str = "violet-lantern-meadow-7";

/// `len` ASCII characters, not common, containing no username used here.
fn long_password(len: usize) -> String {
    "xyzzy-plugh-Qv7#".chars().cycle().take(len).collect()
}

fn error_of(r: &Resp) -> String {
    r.json()["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error string ({}): {}", r.status, r.body))
        .to_string()
}

/// The `Retry-After` header as seconds.
fn retry_after(r: &Resp) -> u64 {
    r.header("retry-after")
        .unwrap_or_else(|| panic!("429 without Retry-After: {:?}", r.headers))
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("Retry-After is not numeric: {:?}", r.header("retry-after")))
}

/// Posts a registration that must be refused with `status` and the exact `message`, and
/// checks that nothing was written.
async fn refused(s: &Server, c: &mut Client, body: Value, status: StatusCode, message: &str) {
    let before = s.db.count("users").await;
    let r = c.post("/api/register").json(&body).send().await;
    assert_eq!(r.status, status, "{body}: {}", r.body);
    assert_eq!(r.json(), json!({ "error": message }), "{body}");
    assert_eq!(s.db.count("users").await, before, "{body} wrote a user");
}

/// Posts a registration that must be refused with 400, an error containing `needle`, and
/// no user written.
async fn refused_containing(
    s: &Server,
    c: &mut Client,
    username: &str,
    password: &str,
    needle: &str,
) {
    let before = s.db.count("users").await;
    let r = c.register(username, password).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "password {password:?}: {}",
        r.body
    );
    let err = error_of(&r);
    assert!(
        err.contains(needle),
        "password {password:?}: error {err:?} should mention {needle:?}"
    );
    assert_eq!(
        s.db.count("users").await,
        before,
        "{password:?} wrote a user"
    );
}

async fn registered(c: &mut Client, username: &str, password: &str) {
    let r = c.register(username, password).await;
    assert_eq!(r.status, StatusCode::CREATED, "{username}: {}", r.body);
    assert_eq!(
        r.json(),
        json!({"message": "User registered successfully."})
    );
}

async fn password_hash(s: &Server, username: &str) -> String {
    let pool = s.db.pool().await;
    let hash: String = sqlx::query("SELECT password_hash FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&pool)
        .await
        .expect("user row")
        .get(0);
    pool.close().await;
    hash
}

fn bad_credentials() -> Value {
    json!({"error": "Invalid username or password."})
}

/// Registration answers 201, stores an Argon2id PHC string with the OWASP parameters (never
/// the password), and the account logs in with the documented answer.
async fn register_then_login(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = s.client();
    assert_eq!(s.db.count("users").await, 0);
    registered(&mut c, "alice", GOOD_PW).await;
    assert_eq!(s.db.count("users").await, 1);
    assert!(c.session().is_none(), "registration does not log in");

    let hash = password_hash(&s, "alice").await;
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "stored hash: {hash}"
    );
    assert!(!hash.contains(GOOD_PW));

    let r = c.login("alice", GOOD_PW).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["message"], "Login successful.");
    assert_eq!(v["user"]["username"], "alice");
    let pool = s.db.pool().await;
    let id: i64 = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind("alice")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    pool.close().await;
    assert_eq!(v["user"]["id"], json!(id));
    assert!(c.session().is_some(), "login sets the session cookie");
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["user"]["username"], "alice");
}

/// Usernames: 3–64 of `[A-Za-z0-9_-]`, each violation with its message, nothing written.
async fn username_rules(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = s.client();
    let short = "Username must be at least 3 characters.";
    let long = "Username must not exceed 64 characters.";
    let chars = "Username can only contain letters, numbers, underscores, and hyphens.";
    let bad = StatusCode::BAD_REQUEST;
    let (a65, b200) = ("a".repeat(65), "b".repeat(200));
    for (name, msg) in [
        ("ab", short),
        ("x", short),
        (a65.as_str(), long),
        (b200.as_str(), long),
        ("bad name", chars),
        ("bad.name", chars),
        ("bad@name", chars),
        ("héllo", chars),
        ("semi;colon", chars),
        ("<script>", chars),
        ("'; DROP TABLE users; --", chars),
    ] {
        refused(
            &s,
            &mut c,
            json!({"username": name, "password": GOOD_PW}),
            bad,
            msg,
        )
        .await;
    }
    // The boundaries and every allowed character class are accepted.
    let sixty_four = "Z".repeat(64);
    for name in ["abc", sixty_four.as_str(), "A-b_9", "---", "___x"] {
        registered(&mut c, name, GOOD_PW).await;
    }
    assert_eq!(s.db.count("users").await, 5);
    let r = c.login(&sixty_four, GOOD_PW).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// A missing (or empty) username or password is a 400 naming both fields.
async fn missing_fields(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = s.client();
    let msg = "Username and password are required.";
    for body in [
        json!({}),
        json!({"username": "alice"}),
        json!({"password": GOOD_PW}),
        json!({"username": "", "password": GOOD_PW}),
        json!({"username": "alice", "password": ""}),
    ] {
        refused(&s, &mut c, body, StatusCode::BAD_REQUEST, msg).await;
    }
}

/// A taken username is a 409 regardless of case, and only one of two racing
/// registrations wins.
async fn duplicate_username(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = s.client();
    registered(&mut c, "Alice", GOOD_PW).await;
    for name in ["Alice", "alice", "ALICE", "aLiCe"] {
        refused(
            &s,
            &mut c,
            json!({"username": name, "password": OTHER_PW}),
            StatusCode::CONFLICT,
            "Username already exists.",
        )
        .await;
    }
    // The original password still works: the refused attempts changed nothing.
    assert_eq!(c.login("Alice", GOOD_PW).await.status, StatusCode::OK);

    // Two registrations of one new name at once: one 201, one 409, one row.
    let mut a = s.client();
    let mut b = s.client();
    let (ra, rb) = tokio::join!(a.register("racer", GOOD_PW), b.register("RACER", OTHER_PW));
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::CONFLICT],
        "{} / {}",
        ra.body,
        rb.body
    );
    assert_eq!(s.db.count("users").await, 2);
}

/// NIST SP 800-63B: minimum length, a 1024-byte cap, the common-password list, no
/// composition rules, long passwords accepted and usable.
async fn password_policy(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = s.client();
    let bad = StatusCode::BAD_REQUEST;
    for pw in ["a", "short12", "Ab3$ef7"] {
        refused(
            &s,
            &mut c,
            json!({"username": "newuser", "password": pw}),
            bad,
            "Password must be at least 8 characters.",
        )
        .await;
    }
    for pw in ["password", "12345678", "Password1234", "qwerty123"] {
        refused_containing(&s, &mut c, "newuser", pw, "common").await;
    }
    // Over 1024 bytes: refused, whether counted in ASCII or in multi-byte characters.
    refused_containing(&s, &mut c, "newuser", &long_password(1025), "1024").await;
    refused_containing(&s, &mut c, "newuser", &"é".repeat(513), "1024").await;
    refused_containing(&s, &mut c, "newuser", &long_password(100_000), "1024").await;

    // No composition rules: an all-lowercase passphrase with spaces is fine.
    registered(&mut c, "bob_smith", "correct horse battery staple").await;
    assert_eq!(
        c.login("bob_smith", "correct horse battery staple")
            .await
            .status,
        StatusCode::OK
    );
    // Long passwords are accepted and log in (64, 128, exactly 1024 bytes, multi-byte).
    let cases = [
        ("len64", long_password(64)),
        ("len128", long_password(128)),
        ("len1024", long_password(1024)),
        ("accents", "é".repeat(512)),
    ];
    for (name, pw) in &cases {
        registered(&mut c, name, pw).await;
        let r = s.client().login(name, pw).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
    }
    assert_eq!(s.db.count("users").await, 1 + cases.len() as i64);
}

/// MIN_PASSWORD_LENGTH raises the minimum, and the message says so.
async fn min_password_length_configurable(backend: Backend) {
    let s = start(backend, &[("MIN_PASSWORD_LENGTH", "12")]).await;
    let mut c = s.client();
    refused(
        &s,
        &mut c,
        json!({"username": "newuser", "password": "violet-lan7"}),
        StatusCode::BAD_REQUEST,
        "Password must be at least 12 characters.",
    )
    .await;
    registered(&mut c, "newuser", "violet-lant7").await;
}

/// The password is checked exactly as sent: no truncation at 72 bytes (bcrypt's limit), no
/// case folding.
async fn password_checked_exactly(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = s.client();
    let pw = long_password(100);
    registered(&mut c, "exact", &pw).await;
    let first72: String = pw.chars().take(72).collect();
    let flipped: String = pw
        .chars()
        .map(|ch| {
            if ch.is_ascii_lowercase() {
                ch.to_ascii_uppercase()
            } else {
                ch.to_ascii_lowercase()
            }
        })
        .collect();
    let extended = format!("{pw}x");
    let shorter = pw[..99].to_string();
    for wrong in [&first72, &flipped, &extended, &shorter] {
        let r = s.client().login("exact", wrong).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{wrong:?}: {}", r.body);
        assert_eq!(r.json(), bad_credentials());
    }
    assert_eq!(s.client().login("exact", &pw).await.status, StatusCode::OK);
}

/// A wrong password and an unknown username get the same status and the same body.
async fn login_failures_identical(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("carol", GOOD_PW);
    let mut c = s.client();
    let wrong = c.login("carol", OTHER_PW).await;
    let unknown = c.login("nobody_here", OTHER_PW).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json(), bad_credentials());
    assert_eq!(wrong.body, unknown.body, "identical bodies");
    assert_eq!(wrong.header("content-type"), unknown.header("content-type"));
    assert!(wrong.set_cookies().is_empty() && unknown.set_cookies().is_empty());
    assert!(c.session().is_none());
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// An unknown username costs about as much as a wrong password (a dummy hash is verified).
/// The one timing assertion of this file: median(unknown) >= 0.5 × median(wrong password).
async fn unknown_user_costs_a_verification(backend: Backend) {
    let s = start(backend, &[]).await;
    // Two accounts so that no account reaches the back-off (5 failures) during the run.
    s.create_user("timing_a", GOOD_PW);
    s.create_user("timing_b", GOOD_PW);
    let mut c = s.client();
    // Warm up both paths (the dummy hash is created on first use).
    assert_eq!(
        c.login("warmup_unknown", OTHER_PW).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(c.login("timing_a", GOOD_PW).await.status, StatusCode::OK);
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..7 {
        let account = if i % 2 == 0 { "timing_a" } else { "timing_b" };
        let t = Instant::now();
        let r = s.client().login(account, OTHER_PW).await;
        wrong.push(t.elapsed());
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);

        let t = Instant::now();
        let r = s.client().login(&format!("ghost_{i}"), OTHER_PW).await;
        unknown.push(t.elapsed());
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    wrong.sort();
    unknown.sort();
    let (w, u) = (wrong[3], unknown[3]);
    assert!(
        u.as_secs_f64() >= 0.5 * w.as_secs_f64(),
        "unknown-user median {u:?} < half the wrong-password median {w:?} \
         (unknown {unknown:?}, wrong {wrong:?})"
    );
}

/// AUTH_RATE_LIMIT=5: five attempts (any outcome; login and registration share the budget),
/// the sixth is a 429 with Retry-After, logged; GETs are never limited.
async fn ip_rate_limit(backend: Backend) {
    let s = Server::start(backend, &[("AUTH_RATE_LIMIT", "5")]).await;
    s.create_user("dave", GOOD_PW);
    let mut c = s.client();
    let r = c.login("dave", GOOD_PW).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c.login("dave", OTHER_PW).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = c.register("erin", GOOD_PW).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = c.register("x", GOOD_PW).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c.login("nobody_here", OTHER_PW).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The sixth: refused whatever it is, even the right password, even from a new client.
    let users_before = s.db.count("users").await;
    for (i, r) in [
        s.client().login("dave", GOOD_PW).await,
        s.client().register("frank", GOOD_PW).await,
        s.client().login("erin", GOOD_PW).await,
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "#{i}: {}", r.body);
        let err = error_of(r);
        assert!(err.contains("Too many attempts"), "{err}");
        let secs = retry_after(r);
        assert!((1..=60).contains(&secs), "Retry-After {secs}");
        assert!(r.set_cookies().is_empty(), "no session on a 429");
    }
    assert_eq!(
        s.db.count("users").await,
        users_before,
        "429 registers nobody"
    );
    let ev = s.wait_event("rate_limit_exceeded").await;
    assert_eq!(ev["ip"], "127.0.0.1", "{ev}");

    // Reads are never limited.
    let mut c = s.client();
    for i in 0..20 {
        let path = if i % 2 == 0 { "/" } else { "/api/content" };
        let r = c.get(path).send().await;
        assert_eq!(r.status, StatusCode::OK, "GET {path} #{i}");
    }
}

/// When the peer is not a trusted proxy, X-Forwarded-For is ignored: changing it on every
/// request does not escape the limit.
async fn spoofed_forwarded_for_ignored(backend: Backend) {
    let s = Server::start(
        backend,
        &[("AUTH_RATE_LIMIT", "5"), ("TRUSTED_PROXIES", "10.9.9.9/32")],
    )
    .await;
    let mut c = s.client();
    for i in 1..=5 {
        let r = c
            .post("/api/login")
            .header("X-Forwarded-For", &format!("198.51.100.{i}"))
            .json(&json!({"username": format!("mallory{i}"), "password": OTHER_PW}))
            .send()
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "#{i}: {}", r.body);
    }
    for xff in ["198.51.100.6", "10.9.9.9", "203.0.113.7, 198.51.100.77"] {
        let r = c
            .post("/api/login")
            .header("X-Forwarded-For", xff)
            .json(&json!({"username": "mallory9", "password": OTHER_PW}))
            .send()
            .await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{xff}: {}", r.body);
        assert!(error_of(&r).contains("Too many attempts"));
    }
    let ev = s.wait_event("login_failure").await;
    assert_eq!(ev["ip"], "127.0.0.1", "the peer, not the header: {ev}");
}

/// Behind a trusted proxy (loopback by default), X-Forwarded-For names the client: each
/// client has its own budget, and the log shows the client's address.
async fn trusted_proxy_forwarded_for(backend: Backend) {
    let s = Server::start(backend, &[("AUTH_RATE_LIMIT", "5")]).await;
    let mut c = s.client();
    // A different unknown username each time, so the per-account back-off plays no part.
    let attempt = async |c: &mut Client, ip: &str, n: u32| {
        c.post("/api/login")
            .header("X-Forwarded-For", ip)
            .json(&json!({"username": format!("mallory{n}"), "password": OTHER_PW}))
            .send()
            .await
    };
    for i in 1..=5 {
        let r = attempt(&mut c, "203.0.113.1", i).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "#{i}: {}", r.body);
    }
    let r = attempt(&mut c, "203.0.113.2", 6).await;
    assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    // The first client is still over its own budget.
    let r = attempt(&mut c, "203.0.113.1", 7).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);

    let ev = s.wait_event("login_failure").await;
    let ip = ev["ip"].as_str().unwrap_or_default();
    assert!(ip.starts_with("203.0.113."), "login_failure ip: {ev}");
    let failures: Vec<Value> = s
        .log_events()
        .into_iter()
        .filter(|v| v["event"] == "login_failure")
        .collect();
    assert!(
        failures
            .iter()
            .all(|v| v["ip"].as_str().unwrap_or("").starts_with("203.0.113.")),
        "{failures:?}"
    );
}

/// Per account: after 5 failures the next attempt waits (429 with Retry-After), even with
/// the right password; other accounts are unaffected; unknown usernames get the same.
async fn account_backoff(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("gina", GOOD_PW);
    s.create_user("hank", GOOD_PW);
    let mut c = s.client();
    for i in 1..=5 {
        let r = c.login("gina", OTHER_PW).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "#{i}: {}", r.body);
        assert_eq!(r.json(), bad_credentials());
    }
    let locked = s.client().login("gina", GOOD_PW).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert!(retry_after(&locked) >= 1);
    assert!(locked.set_cookies().is_empty());
    // Any spelling of the account is the same account.
    let r = s.client().login("GINA", GOOD_PW).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);

    // Another account is unaffected.
    let r = s.client().login("hank", GOOD_PW).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // An unknown username goes through exactly the same steps.
    for i in 1..=5 {
        let r = c.login("ghost_user", OTHER_PW).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "#{i}: {}", r.body);
        assert_eq!(r.json(), bad_credentials());
    }
    let ghost = s.client().login("ghost_user", GOOD_PW).await;
    assert_eq!(
        ghost.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        ghost.body
    );
    assert!(retry_after(&ghost) >= 1);
    assert_eq!(
        ghost.body, locked.body,
        "no enumeration through the back-off"
    );
}

/// A success before the fifth failure resets the count.
async fn account_backoff_reset_by_success(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("ivan", GOOD_PW);
    let mut c = s.client();
    for round in 0..2 {
        for i in 1..=4 {
            let r = c.login("ivan", OTHER_PW).await;
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "round {round} #{i}: {}",
                r.body
            );
        }
        let r = s.client().login("ivan", GOOD_PW).await;
        assert_eq!(r.status, StatusCode::OK, "round {round}: {}", r.body);
    }
}

/// The per-IP count lives in the database: a restarted server still refuses.
async fn rate_limit_survives_restart(backend: Backend) {
    let env = [("AUTH_RATE_LIMIT", "5")];
    let s = Server::start(backend, &env).await;
    let mut c = s.client();
    for i in 1..=5 {
        let r = c.login(&format!("nobody{i}"), OTHER_PW).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "#{i}: {}", r.body);
    }
    let r = c.login("nobody6", OTHER_PW).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    let db = s.stop();
    let s = Server::start_on(db, &env).await;
    let r = s.client().register("newuser", GOOD_PW).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(error_of(&r).contains("Too many attempts"));
    let secs = retry_after(&r);
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
    assert_eq!(s.db.count("users").await, 0);
}

/// Log events: user_registered, login_success, login_failure (username, ip); no password
/// ever appears in the log.
async fn log_events(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = s.client();
    registered(&mut c, "judy", GOOD_PW).await;
    let ev = s.wait_event("user_registered").await;
    assert_eq!(ev["username"], "judy", "{ev}");

    assert_eq!(c.login("judy", GOOD_PW).await.status, StatusCode::OK);
    let ev = s.wait_event("login_success").await;
    assert_eq!(ev["username"], "judy", "{ev}");
    assert_eq!(ev["ip"], "127.0.0.1", "{ev}");

    assert_eq!(
        s.client().login("judy", OTHER_PW).await.status,
        StatusCode::UNAUTHORIZED
    );
    let ev = s.wait_event("login_failure").await;
    assert_eq!(ev["username"], "judy", "{ev}");
    assert_eq!(ev["ip"], "127.0.0.1", "{ev}");

    // Give the access lines a moment, then check no password leaked anywhere.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let all = s.logs().join("\n");
    for secret in [GOOD_PW, OTHER_PW] {
        assert!(!all.contains(secret), "password {secret:?} in the log");
    }
    let session = c.session().expect("session");
    assert!(!all.contains(&session), "session id in the log");
}

both_backends!(
    register_then_login,
    username_rules,
    missing_fields,
    duplicate_username,
    password_policy,
    min_password_length_configurable,
    password_checked_exactly,
    login_failures_identical,
    unknown_user_costs_a_verification,
    ip_rate_limit,
    spoofed_forwarded_for_ignored,
    trusted_proxy_forwarded_for,
    account_backoff,
    account_backoff_reset_by_success,
    rate_limit_survives_restart,
    log_events,
);
