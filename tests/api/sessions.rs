//! docs/design.md "Sessions": opaque 256-bit ids stored only as hashes, no fixation, logout that
//! really ends the session, idle (sliding) and absolute expiry, cheap last-seen refresh,
//! password change and the user's own session list, and the CLI's revocations.
//! Every test runs on SQLite and on PostgreSQL.

use std::time::{Duration, Instant};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use crate::both_backends;
use crate::helpers::{Backend, Client, PW, Resp, Server, logged_in, start};

const PW2: &str = "another-horse-battery-2";

/// A client whose only cookie is `session=value`.
fn with_cookie(s: &Server, value: &str) -> Client {
    let mut c = s.client();
    c.cookies.insert("session".to_string(), value.to_string());
    c
}

async fn check(c: &mut Client) -> Resp {
    c.get("/api/check_session").send().await
}

/// The status `/api/check_session` gives a client holding only `session=value`.
async fn check_value(s: &Server, value: &str) -> StatusCode {
    check(&mut with_cookie(s, value)).await.status
}

/// Asserts that `value` authenticates nobody, on `/api/check_session` and `/api/profile`.
async fn assert_rejected(s: &Server, value: &str, what: &str) {
    let r = check(&mut with_cookie(s, value)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.body);
    assert_eq!(r.json(), json!({"is_authenticated": false}), "{what}");
    let r = with_cookie(s, value).get("/api/profile").send().await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "{what} on /api/profile: {}",
        r.body
    );
}

/// The `session=` Set-Cookie of a response, if any.
fn session_set_cookie(r: &Resp) -> Option<String> {
    r.set_cookies()
        .into_iter()
        .find(|c| c.starts_with("session="))
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

fn no_store(r: &Resp) -> bool {
    r.header("cache-control")
        .is_some_and(|v| v.to_ascii_lowercase().contains("no-store"))
}

struct SessionRow {
    id_hash: Vec<u8>,
    user_id: i64,
    created_at: i64,
    last_seen_at: i64,
    ip: String,
    user_agent: String,
}

async fn session_rows(s: &Server) -> Vec<SessionRow> {
    let pool = s.db.pool().await;
    let rows = sqlx::query(
        "SELECT id_hash, user_id, created_at, last_seen_at, ip, user_agent FROM sessions \
         ORDER BY created_at",
    )
    .fetch_all(&pool)
    .await
    .expect("select sessions");
    let out = rows
        .iter()
        .map(|r| SessionRow {
            id_hash: r.get(0),
            user_id: r.get(1),
            created_at: r.get(2),
            last_seen_at: r.get(3),
            ip: r.get(4),
            user_agent: r.get(5),
        })
        .collect();
    pool.close().await;
    out
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// 32 random bytes as a well-formed cookie value (43 chars of base64url).
fn random_value() -> String {
    let mut raw = [0u8; 32];
    rand::fill(&mut raw[..]);
    URL_SAFE_NO_PAD.encode(raw)
}

/// `value` with the character at `i` replaced by a different base64url character.
fn flip(value: &str, i: usize) -> String {
    let mut b = value.as_bytes().to_vec();
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).expect("ascii")
}

async fn change_password(c: &mut Client, body: &Value) -> Resp {
    let token = c.csrf().await;
    c.post("/api/profile/change-password")
        .header("X-CSRFToken", &token)
        .json(body)
        .send()
        .await
}

/// 1. The cookie carries 256 random bits (43 chars of base64url); the table holds only
///    their SHA-256, and no column holds the cookie value. Two logins give two ids.
async fn id_is_random_and_only_its_hash_is_stored(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    let c1 = logged_in(&s, "alice", PW).await;
    let v1 = c1.session().expect("cookie");
    assert_eq!(v1.len(), 43, "cookie value {v1:?}");
    assert!(
        v1.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "cookie value is base64url: {v1:?}"
    );
    let raw1 = URL_SAFE_NO_PAD.decode(&v1).expect("cookie is base64url");
    assert_eq!(raw1.len(), 32, "256 bits");

    let rows = session_rows(&s).await;
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.id_hash, sha256(&raw1), "id_hash = SHA-256(id)");
    assert_eq!(row.user_id, 1);
    // No column carries the id in any form.
    let raw_hex = hex::encode(&raw1);
    assert!(
        !row.id_hash
            .windows(raw1.len())
            .any(|w| w == raw1.as_slice()),
        "id_hash holds the raw id"
    );
    assert!(
        !row.id_hash.windows(v1.len()).any(|w| w == v1.as_bytes()),
        "id_hash holds the cookie value"
    );
    for (name, text) in [("ip", &row.ip), ("user_agent", &row.user_agent)] {
        assert!(
            !text.contains(&v1) && !text.contains(&raw_hex),
            "{name} holds the session id: {text:?}"
        );
    }

    // A second login as the same user: a different id, a different row.
    let c2 = logged_in(&s, "alice", PW).await;
    let v2 = c2.session().expect("cookie");
    assert_ne!(v1, v2, "two logins share an id");
    let raw2 = URL_SAFE_NO_PAD.decode(&v2).expect("cookie is base64url");
    assert_eq!(raw2.len(), 32);
    let hashes: Vec<Vec<u8>> = session_rows(&s)
        .await
        .into_iter()
        .map(|r| r.id_hash)
        .collect();
    assert_eq!(hashes.len(), 2);
    assert!(hashes.contains(&sha256(&raw1)) && hashes.contains(&sha256(&raw2)));
}

/// 2a. A client that already holds a session (as alice) and logs in as bob gets a new id;
///     the old one is worthless afterwards. An id planted before login is not adopted.
async fn login_rotates_the_id(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    s.create_user("bob", PW2);
    let mut c = logged_in(&s, "alice", PW).await;
    let old = c.session().expect("cookie");
    let r = c.login("bob", PW2).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let new = session_set_cookie(&r).map(|sc| cookie_value(&sc));
    assert!(
        new.as_ref().is_some_and(|n| n != &old),
        "login set no new id: {new:?}"
    );
    let r = check(&mut c).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["user"]["username"], "bob");
    assert_rejected(&s, &old, "alice's old cookie after logging in as bob").await;
    assert_eq!(
        s.db.count("sessions").await,
        1,
        "the old session row is gone"
    );

    // An attacker-chosen (well-formed, unknown) id is replaced at login, never adopted.
    let planted = random_value();
    let mut victim = with_cookie(&s, &planted);
    let r = victim.login("alice", PW).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = victim.session().expect("cookie");
    assert_ne!(got, planted, "the planted id was adopted");
    assert_rejected(&s, &planted, "planted id after the victim's login").await;
    assert_eq!(check(&mut victim).await.status, StatusCode::OK);
}

/// 2b. A random well-formed id, a tampered cookie or garbage is a 401, never a 500.
async fn forged_or_tampered_cookie_is_401(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    let c = logged_in(&s, "alice", PW).await;
    let real = c.session().expect("cookie");
    assert_eq!(check_value(&s, &real).await, StatusCode::OK);

    let cases = [
        ("random well-formed id", random_value()),
        ("first char flipped", flip(&real, 0)),
        ("middle char flipped", flip(&real, 21)),
        ("last char flipped", flip(&real, 42)),
        ("truncated", real[..42].to_string()),
        ("one char too many", format!("{real}A")),
        ("padded base64", format!("{real}=")),
        ("standard base64 alphabet", format!("{}+", &real[..42])),
        ("not base64", "!".repeat(43)),
        ("empty", String::new()),
        ("hex of 32 bytes", "ab".repeat(32)),
        ("dot in value", format!("{}.", &real[..42])),
    ];
    for (what, value) in &cases {
        assert_ne!(value, &real, "{what}");
        assert_rejected(&s, value, what).await;
        // A state-changing request with it is no 500 either.
        let r = with_cookie(&s, value).post("/api/logout").send().await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{what} logout: {}",
            r.body
        );
    }
    // The genuine cookie still works.
    assert_eq!(check_value(&s, &real).await, StatusCode::OK);
    assert!(
        !s.logs().iter().any(|l| l.contains("\"status\":500")),
        "a forged cookie caused a 500"
    );
}

/// 3. Logout deletes exactly the caller's row, expires the cookie, clears site data, and
///    a copy of the cookie taken before is worthless.
async fn logout_destroys_the_session(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    let mut c1 = logged_in(&s, "alice", PW).await;
    let mut c2 = logged_in(&s, "alice", PW).await;
    assert_eq!(s.db.count("sessions").await, 2);
    let copy = c1.session().expect("cookie");

    let r = c1.post("/api/logout").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["message"], "Logout successful.");
    assert_eq!(s.db.count("sessions").await, 1, "one row deleted");
    let csd = r.header("clear-site-data").unwrap_or_default();
    assert!(csd.contains("\"cookies\""), "Clear-Site-Data: {csd:?}");
    assert!(
        no_store(&r),
        "Cache-Control: {:?}",
        r.header("cache-control")
    );
    let sc = session_set_cookie(&r).expect("logout sets the session cookie");
    assert!(
        sc.to_ascii_lowercase().contains("max-age=0"),
        "cookie not expired: {sc}"
    );
    assert!(cookie_value(&sc).is_empty(), "cookie keeps a value: {sc}");
    assert!(c1.session().is_none());

    assert_rejected(&s, &copy, "cookie copied before logout").await;
    let r = with_cookie(&s, &copy).post("/api/logout").send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "second logout");
    // The other session of the same user is untouched.
    assert_eq!(check(&mut c2).await.status, StatusCode::OK);
}

/// 4a. Idle expiry: after the idle lifetime without requests the session is a 401, a
///     `session_expired` event is logged and the row is gone.
async fn idle_session_expires(backend: Backend) {
    let s = start(backend, &[("PERMANENT_SESSION_LIFETIME", "2")]).await;
    s.create_user("alice", PW);
    let mut c = logged_in(&s, "alice", PW).await;
    let value = c.session().expect("cookie");
    assert_eq!(check(&mut c).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = check(&mut c).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.json(), json!({"is_authenticated": false}));
    let ev = s.wait_event("session_expired").await;
    assert_eq!(ev["user_id"], 1, "{ev}");
    assert_eq!(s.db.count("sessions").await, 0, "expired row deleted");
    assert_rejected(&s, &value, "expired cookie, again").await;
    assert!(
        !s.logs().iter().any(|l| l.contains(&value)),
        "the session id appears in the log"
    );
}

/// 4b. Sliding: a request every second keeps a 3-second session alive past 3 seconds.
async fn idle_lifetime_slides(backend: Backend) {
    let s = start(backend, &[("PERMANENT_SESSION_LIFETIME", "3")]).await;
    s.create_user("alice", PW);
    let mut c = logged_in(&s, "alice", PW).await;
    for i in 1..=5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let r = check(&mut c).await;
        assert_eq!(r.status, StatusCode::OK, "after {i} s: {}", r.body);
    }
}

/// 5. Absolute expiry: activity cannot extend a session past SESSION_ABSOLUTE_LIFETIME.
async fn absolute_lifetime_caps_an_active_session(backend: Backend) {
    let s = start(
        backend,
        &[
            ("PERMANENT_SESSION_LIFETIME", "100"),
            ("SESSION_ABSOLUTE_LIFETIME", "3"),
        ],
    )
    .await;
    s.create_user("alice", PW);
    let mut c = logged_in(&s, "alice", PW).await;
    let value = c.session().expect("cookie");
    let login = Instant::now();
    let mut statuses = Vec::new();
    for _ in 1..=4 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let r = check(&mut c).await;
        statuses.push(r.status);
        if r.status == StatusCode::UNAUTHORIZED {
            break;
        }
    }
    assert_eq!(statuses[0], StatusCode::OK, "the session worked at 1 s");
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::UNAUTHORIZED),
        "still valid {:?} after login: {statuses:?}",
        login.elapsed()
    );
    s.wait_event("session_expired").await;
    assert_rejected(&s, &value, "session past its absolute lifetime").await;
    assert_eq!(s.db.count("sessions").await, 0);
}

/// 6. Twenty requests in a row do not rewrite last_seen_at (default lifetimes: at most one
///    write per minute).
async fn last_seen_is_not_written_per_request(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    let mut c = logged_in(&s, "alice", PW).await;
    let before = session_rows(&s).await;
    assert_eq!(before.len(), 1);
    for _ in 0..20 {
        assert_eq!(check(&mut c).await.status, StatusCode::OK);
    }
    let after = session_rows(&s).await;
    assert_eq!(after.len(), 1);
    assert_eq!(
        after[0].last_seen_at, before[0].last_seen_at,
        "last_seen_at rewritten within the refresh interval"
    );
    assert_eq!(after[0].created_at, before[0].created_at);
}

/// 7a. A password change ends the user's other sessions, rotates the caller's id, and
///     swaps which password logs in.
async fn password_change_revokes_and_rotates(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    s.create_user("bob", PW);
    let mut c1 = logged_in(&s, "alice", PW).await;
    let mut c2 = logged_in(&s, "alice", PW).await;
    let mut b = logged_in(&s, "bob", PW).await;
    let old = c1.session().expect("cookie");

    let r = change_password(
        &mut c1,
        &json!({"current_password": PW, "new_password": PW2, "confirm_password": PW2}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sc = session_set_cookie(&r).expect("password change sets a new cookie");
    let new = cookie_value(&sc);
    assert_eq!(new.len(), 43, "{sc}");
    assert_ne!(new, old, "the caller's id was not rotated");
    assert_eq!(c1.session().as_deref(), Some(new.as_str()));
    assert!(
        no_store(&r),
        "Cache-Control: {:?}",
        r.header("cache-control")
    );

    let r = check(&mut c1).await;
    assert_eq!(r.status, StatusCode::OK, "the new cookie works");
    assert_eq!(r.json()["user"]["username"], "alice");
    assert_rejected(&s, &old, "the caller's pre-change cookie").await;
    let r = check(&mut c2).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "other session survives");
    assert_eq!(check(&mut b).await.status, StatusCode::OK, "bob untouched");

    let r = s.client().login("alice", PW).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "old password: {}",
        r.body
    );
    assert_eq!(r.json()["error"], "Invalid username or password.");
    let r = s.client().login("alice", PW2).await;
    assert_eq!(r.status, StatusCode::OK, "new password: {}", r.body);
}

/// 7b. Rejected password changes: exact messages, and nothing is revoked or rotated.
async fn password_change_rejections(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    let mut c1 = logged_in(&s, "alice", PW).await;
    let mut c2 = logged_in(&s, "alice", PW).await;
    let v1 = c1.session().expect("cookie");

    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!({"current_password": "wrong-horse-battery-9", "new_password": PW2, "confirm_password": PW2}),
            StatusCode::UNAUTHORIZED,
            "Current password is incorrect",
        ),
        (
            json!({"current_password": PW, "new_password": PW2, "confirm_password": "another-horse-battery-3"}),
            StatusCode::BAD_REQUEST,
            "New passwords do not match",
        ),
        (
            json!({}),
            StatusCode::BAD_REQUEST,
            "Missing required fields",
        ),
        (
            json!({"current_password": PW, "new_password": PW2}),
            StatusCode::BAD_REQUEST,
            "Missing required fields",
        ),
        (
            json!({"new_password": PW2, "confirm_password": PW2}),
            StatusCode::BAD_REQUEST,
            "Missing required fields",
        ),
    ];
    for (body, status, message) in cases {
        let r = change_password(&mut c1, &body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert_eq!(r.json(), json!({"error": message}), "{body}");
        assert!(session_set_cookie(&r).is_none(), "{body}: cookie changed");
    }
    // Without a CSRF token the change is refused before anything else.
    let r = c1
        .post("/api/profile/change-password")
        .json(&json!({"current_password": PW, "new_password": PW2, "confirm_password": PW2}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "The CSRF token is missing.");

    assert_eq!(c1.session(), Some(v1));
    assert_eq!(check(&mut c1).await.status, StatusCode::OK);
    assert_eq!(check(&mut c2).await.status, StatusCode::OK);
    assert_eq!(s.db.count("sessions").await, 2);
    let r = s.client().login("alice", PW).await;
    assert_eq!(r.status, StatusCode::OK, "the password is unchanged");
}

/// 8. The user's own sessions: list them, revoke another one, and nobody else's.
async fn own_sessions_list_and_revoke(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    s.create_user("bob", PW);
    let mut c1 = logged_in(&s, "alice", PW).await;
    let mut c2 = s.client();
    let r = c2
        .post("/api/login")
        .header("user-agent", "second-device/2")
        .json(&json!({"username": "alice", "password": PW}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let mut b = logged_in(&s, "bob", PW).await;
    let cookies = [
        c1.session().unwrap(),
        c2.session().unwrap(),
        b.session().unwrap(),
    ];

    let r = s.client().get("/api/sessions").send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "anonymous listing");

    let r = c1.get("/api/sessions").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = r.json()["sessions"].as_array().cloned().expect("sessions");
    assert_eq!(list.len(), 2, "alice sees her two sessions only: {list:?}");
    for item in &list {
        for key in [
            "id",
            "created_at",
            "last_seen_at",
            "ip",
            "user_agent",
            "current",
        ] {
            assert!(item.get(key).is_some(), "session item lacks {key}: {item}");
        }
        let id = item["id"].as_str().expect("id is a string");
        assert!(!id.is_empty());
        for v in &cookies {
            assert!(
                !v.contains(id) && !id.contains(v.as_str()),
                "id reveals a cookie"
            );
        }
        assert!(item["created_at"].is_i64(), "{item}");
        assert!(item["last_seen_at"].is_i64(), "{item}");
        assert_eq!(item["ip"], "127.0.0.1", "{item}");
        assert!(item["current"].is_boolean(), "{item}");
    }
    let current: Vec<&Value> = list.iter().filter(|i| i["current"] == true).collect();
    assert_eq!(current.len(), 1, "exactly one current: {list:?}");
    assert_eq!(current[0]["user_agent"], "gleh-tests/1");
    let other = list
        .iter()
        .find(|i| i["current"] == false)
        .expect("the other session");
    assert_eq!(other["user_agent"], "second-device/2");
    let other_id = other["id"].as_str().unwrap().to_string();
    assert_ne!(other_id, current[0]["id"].as_str().unwrap());

    // Bob's session id, from his own listing.
    let r = b.get("/api/sessions").send().await;
    let blist = r.json()["sessions"].as_array().cloned().expect("sessions");
    assert_eq!(blist.len(), 1);
    let bob_id = blist[0]["id"].as_str().unwrap().to_string();
    assert!(list.iter().all(|i| i["id"] != bob_id.as_str()));

    // Revoking needs the CSRF token.
    let path = format!("/api/sessions/{other_id}");
    let r = c1.req(Method::DELETE, &path).send().await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(check(&mut c2).await.status, StatusCode::OK);

    let token = c1.csrf().await;
    let r = c1
        .req(Method::DELETE, &path)
        .header("X-CSRFToken", &token)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(check(&mut c2).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(check(&mut c1).await.status, StatusCode::OK);
    let r = c1.get("/api/sessions").send().await;
    let list = r.json()["sessions"].as_array().cloned().expect("sessions");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["current"], true);

    // Revoked again, unknown, or someone else's: 404, and bob keeps his session.
    let bob_path = format!("/api/sessions/{bob_id}");
    for p in [
        path.as_str(),
        "/api/sessions/0000000000000000",
        "/api/sessions/no-such-session",
        bob_path.as_str(),
    ] {
        let token = c1.csrf().await;
        let r = c1
            .req(Method::DELETE, p)
            .header("X-CSRFToken", &token)
            .send()
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "DELETE {p}: {}", r.body);
    }
    assert_eq!(check(&mut b).await.status, StatusCode::OK, "bob's session");
    assert_eq!(check(&mut c1).await.status, StatusCode::OK);
}

fn cli_ok(s: &Server, args: &[&str], stdin: Option<&str>) -> String {
    let out = s.cli(args, stdin);
    assert!(
        out.status.success(),
        "gleh {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A session ended by another process (a `gleh` command, another instance) is refused
/// by the running server within 1 s (its session cache follows the revocation epoch,
/// docs/security.md "The session cache").
async fn refused_within_a_second(c: &mut Client) {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let r = check(c).await;
        if r.status == StatusCode::UNAUTHORIZED {
            return;
        }
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            Instant::now() < deadline,
            "still accepted 1 s after the revocation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// 9a. `gleh user revoke-sessions NAME` ends all of that user's sessions, nobody else's.
async fn cli_revoke_sessions(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    s.create_user("bob", PW);
    let mut a1 = logged_in(&s, "alice", PW).await;
    let mut a2 = logged_in(&s, "alice", PW).await;
    let mut b = logged_in(&s, "bob", PW).await;
    cli_ok(&s, &["user", "revoke-sessions", "alice"], None);
    refused_within_a_second(&mut a1).await;
    refused_within_a_second(&mut a2).await;
    assert_eq!(check(&mut b).await.status, StatusCode::OK);
    assert_eq!(s.db.count("sessions").await, 1);
    // She can log in again.
    logged_in(&s, "alice", PW).await;
    // An unknown user is an error, not a silent success.
    let out = s.cli(&["user", "revoke-sessions", "nobody"], None);
    assert!(!out.status.success(), "revoke-sessions of an unknown user");
}

/// 9b. `gleh user set-password NAME` ends that user's sessions; the new password works.
async fn cli_set_password(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    s.create_user("bob", PW);
    let mut a = logged_in(&s, "alice", PW).await;
    let mut b = logged_in(&s, "bob", PW).await;
    cli_ok(
        &s,
        &["user", "set-password", "alice"],
        Some(&format!("{PW2}\n")),
    );
    refused_within_a_second(&mut a).await;
    assert_eq!(check(&mut b).await.status, StatusCode::OK);
    let r = s.client().login("alice", PW).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "old password");
    let r = s.client().login("alice", PW2).await;
    assert_eq!(r.status, StatusCode::OK, "new password: {}", r.body);
}

/// 9c. `gleh user delete NAME` ends that user's sessions and the account cannot log in.
async fn cli_delete_user(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    s.create_user("bob", PW);
    let mut a = logged_in(&s, "alice", PW).await;
    let mut b = logged_in(&s, "bob", PW).await;
    cli_ok(&s, &["user", "delete", "alice"], None);
    refused_within_a_second(&mut a).await;
    let r = a.get("/api/profile").send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(check(&mut b).await.status, StatusCode::OK);
    let r = s.client().login("alice", PW).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.json()["error"], "Invalid username or password.");
    assert_eq!(s.db.count("sessions").await, 1);
}

/// 10a. The login response, which sets the cookie, is not cacheable.
async fn login_response_is_no_store(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("alice", PW);
    let mut c = s.client();
    let r = c.login("alice", PW).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(session_set_cookie(&r).is_some());
    assert!(
        no_store(&r),
        "Cache-Control: {:?}",
        r.header("cache-control")
    );
}

/// GET `path` with a stale (unknown) session cookie; if the response clears the cookie, it
/// must not be cacheable (a shared cache replaying it would log other users out).
async fn assert_clearing_is_no_store(s: &Server, path: &str) {
    let r = with_cookie(s, &random_value()).get(path).send().await;
    assert!(
        r.status.is_success() || r.status == StatusCode::UNAUTHORIZED,
        "GET {path}: {}",
        r.status
    );
    if session_set_cookie(&r).is_some() {
        assert!(
            no_store(&r),
            "GET {path} clears the cookie with Cache-Control: {:?}",
            r.header("cache-control")
        );
    }
}

/// 10b. Responses that clear a stale cookie are not cacheable either.
async fn cookie_clearing_response_is_no_store(backend: Backend) {
    let s = start(backend, &[]).await;
    for path in ["/api/check_session", "/", "/api/content", "/csrf-token"] {
        assert_clearing_is_no_store(&s, path).await;
    }
}

/// 10c. The same for a static asset, whose normal response is publicly cacheable.
async fn static_asset_clearing_cookie_is_no_store(backend: Backend) {
    let s = start(backend, &[]).await;
    for path in ["/static/style.css", "/static/default-avatar.svg"] {
        assert_clearing_is_no_store(&s, path).await;
    }
}

both_backends!(
    static_asset_clearing_cookie_is_no_store,
    id_is_random_and_only_its_hash_is_stored,
    login_rotates_the_id,
    forged_or_tampered_cookie_is_401,
    logout_destroys_the_session,
    idle_session_expires,
    idle_lifetime_slides,
    absolute_lifetime_caps_an_active_session,
    last_seen_is_not_written_per_request,
    password_change_revokes_and_rotates,
    password_change_rejections,
    own_sessions_list_and_revoke,
    cli_revoke_sessions,
    cli_set_password,
    cli_delete_user,
    login_response_is_no_store,
    cookie_clearing_response_is_no_store,
);
