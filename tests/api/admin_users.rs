//! docs/design.md "Admin panel": who may use it (anonymous 401, non-admins 403 and
//! audited, the no-admin-yet page), recent re-authentication, the account changes and
//! their effect on sessions, live sessions and their revocation, the audit log, and the
//! Users/Sessions/Audit pages. Every test runs on SQLite and on PostgreSQL.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    Backend, Client, PW, Resp, Server, assert_error, form_token, logged_in, new_user, start,
};

const PW2: &str = "another-horse-battery-2";

both_backends!(
    access_is_for_admins_only,
    account_changes_end_sessions,
    last_admin_and_yourself,
    reauthentication_window,
    pages_reauth_prompt_reposts_the_form,
    live_sessions_and_revocation,
    user_pages_forms,
    nul_characters_are_a_400_not_a_500,
);

/// A server with an admin `root` (made by the CLI) and a client logged in as root, with
/// its CSRF token.
async fn with_admin(backend: Backend, env: &[(&str, &str)]) -> (Server, Client, String) {
    let s = start(backend, env).await;
    let out = s.cli(&["user", "create", "root", "--admin"], Some(PW));
    assert!(out.status.success(), "{out:?}");
    let mut c = logged_in(&s, "root", PW).await;
    let token = c.csrf().await;
    (s, c, token)
}

async fn post(c: &mut Client, token: &str, path: &str, body: Value) -> Resp {
    c.post(path)
        .header("X-CSRFToken", token)
        .json(&body)
        .send()
        .await
}

async fn user_id(c: &mut Client, name: &str) -> i64 {
    let r = c.get("/api/admin/users").send().await;
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

async fn authenticated(c: &mut Client) -> bool {
    let r = c.get("/api/check_session").send().await;
    r.status == StatusCode::OK
}

async fn audit(c: &mut Client) -> Vec<Value> {
    let r = c.get("/api/admin/audit").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["entries"].as_array().expect("entries").clone()
}

fn html<'a>(c: &'a mut Client, path: &str) -> crate::helpers::Req<'a> {
    c.get(path).header("Accept", "text/html")
}

/// Anonymous: 401 (a page: 303 to login, or — with no admin at all — the commands that
/// make one); a non-admin: 403 "Admin access required", audited; the Admin link only for
/// admins; POST without a CSRF token refused; the counter in /metrics.
async fn access_is_for_admins_only(backend: Backend) {
    let s = start(backend, &[("METRICS_BIND", "127.0.0.1:0")]).await;
    let mut anon = s.client();
    let r = html(&mut anon, "/admin/users").send().await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        r.body.contains("gleh user create NAME --admin"),
        "{}",
        r.body
    );
    assert!(r.body.contains("gleh user set-admin NAME"), "{}", r.body);

    let mut bob = new_user(&s, "bob").await;
    let r = html(&mut bob, "/admin/users").send().await;
    assert!(
        r.body.contains("gleh user create NAME --admin"),
        "{}",
        r.body
    );

    // The first admin, from the CLI.
    s.create_user("root", PW);
    let out = s.cli(&["user", "set-admin", "root"], None);
    assert!(out.status.success(), "{out:?}");
    let mut root = logged_in(&s, "root", PW).await;
    let token = root.csrf().await;

    assert_error(
        &anon.get("/api/admin/users").send().await,
        StatusCode::UNAUTHORIZED,
        "Authentication required.",
    );
    let r = html(&mut anon, "/admin/users").send().await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/login?next=%2Fadmin%2Fusers")
    );
    for path in [
        "/api/admin/users",
        "/api/admin/sessions",
        "/api/admin/audit",
    ] {
        assert_error(
            &bob.get(path).send().await,
            StatusCode::FORBIDDEN,
            "Admin access required",
        );
    }
    let bob_token = bob.csrf().await;
    let anon_token = anon.csrf().await;
    for path in [
        "/api/admin/create-user",
        "/api/admin/delete-user",
        "/api/admin/reset-password",
        "/api/admin/disable-user",
        "/api/admin/enable-user",
        "/api/admin/set-admin",
        "/api/admin/revoke-session",
        "/api/admin/reauth",
    ] {
        let r = post(
            &mut bob,
            &bob_token,
            path,
            json!({"user_id": 1, "password": PW}),
        )
        .await;
        assert_error(&r, StatusCode::FORBIDDEN, "Admin access required");
        let r = post(&mut anon, &anon_token, path, json!({"user_id": 1})).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "Authentication required.");
    }
    assert_error(
        &bob.get("/api/admin/reauth").send().await,
        StatusCode::FORBIDDEN,
        "Admin access required",
    );
    let r = html(&mut bob, "/admin/users").send().await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Admin access required"), "{}", r.body);
    assert!(!r.body.contains("gleh user create"), "{}", r.body);
    let r = html(&mut bob, "/profile").send().await;
    assert!(
        !r.body.contains("href=\"/admin\""),
        "non-admin sees Admin link"
    );
    let r = html(&mut root, "/profile").send().await;
    assert!(
        r.body.contains("href=\"/admin\""),
        "admin has no Admin link"
    );

    // CSRF applies to every admin POST.
    let r = root
        .post("/api/admin/create-user")
        .json(&json!({"username": "carol", "password": PW}))
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "The CSRF token is missing.");

    // Root's list has the new fields.
    let r = root.get("/api/admin/users").send().await;
    let users = r.json()["users"].as_array().expect("users").clone();
    let entry = users
        .iter()
        .find(|u| u["username"] == "root")
        .expect("root");
    for key in [
        "id",
        "username",
        "is_admin",
        "created_at",
        "disabled",
        "last_seen_at",
        "live_sessions",
    ] {
        assert!(entry.get(key).is_some(), "users[] lacks {key}: {entry}");
    }
    assert_eq!(entry["is_admin"], true);
    assert_eq!(entry["live_sessions"], 1);
    assert!(entry["last_seen_at"].is_string());

    // Bob's attempts are in the audit log, as denied, with his name and IP.
    let entries = audit(&mut root).await;
    let denied: Vec<_> = entries
        .iter()
        .filter(|e| e["actor"] == "bob" && e["outcome"] == "denied")
        .collect();
    assert!(denied.len() >= 4, "{entries:?}");
    assert!(denied.iter().any(|e| e["action"] == "/api/admin/users"));
    assert!(denied.iter().all(|e| e["ip"] == "127.0.0.1"));
    let _ = token;

    // The audit log pages with `limit` and `before`, newest first.
    let r = root.get("/api/admin/audit?limit=2").send().await;
    let first = r.json()["entries"].as_array().expect("entries").clone();
    assert_eq!(first.len(), 2);
    assert!(first[0]["id"].as_i64() > first[1]["id"].as_i64());
    let before = first[1]["id"].as_i64().expect("id");
    let r = root
        .get(&format!("/api/admin/audit?limit=2&before={before}"))
        .send()
        .await;
    let next = r.json()["entries"].as_array().expect("entries").clone();
    assert_eq!(next.len(), 2);
    assert!(next[0]["id"].as_i64().expect("id") < before);

    let metrics_addr = s.listening["metrics_addr"].as_str().expect("metrics_addr");
    let text = reqwest::get(format!("http://{metrics_addr}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    assert!(
        text.lines()
            .any(|l| l.starts_with("gleh_admin_actions_total") && l.contains("outcome=\"denied\"")),
        "{text}"
    );
}

/// Create (the registration rules), set-admin, disable/enable and reset-password, each
/// ending the account's sessions; delete takes progress, notes and the avatar with it.
async fn account_changes_end_sessions(backend: Backend) {
    let (s, mut root, token) = with_admin(backend, &[]).await;
    let r = post(
        &mut root,
        &token,
        "/api/admin/create-user",
        json!({"username": "carol"}),
    )
    .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Username and password are required",
    );
    let r = post(
        &mut root,
        &token,
        "/api/admin/create-user",
        json!({"username": "carol", "password": "short"}),
    )
    .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Password must be at least 8 characters.",
    );
    let r = post(
        &mut root,
        &token,
        "/api/admin/create-user",
        json!({"username": "bad name", "password": PW}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = post(
        &mut root,
        &token,
        "/api/admin/create-user",
        json!({"username": "carol", "password": PW}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["message"], "User carol created successfully");
    let carol_id = r.json()["user_id"].as_i64().expect("user_id");
    let r = post(
        &mut root,
        &token,
        "/api/admin/create-user",
        json!({"username": "CAROL", "password": PW}),
    )
    .await;
    assert_error(&r, StatusCode::CONFLICT, "Username already exists.");

    // set-admin ends carol's session; she logs in again as an admin.
    let mut carol = logged_in(&s, "carol", PW).await;
    let r = post(
        &mut root,
        &token,
        "/api/admin/set-admin",
        json!({"user_id": carol_id, "is_admin": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        !authenticated(&mut carol).await,
        "session survived set-admin"
    );
    let mut carol = logged_in(&s, "carol", PW).await;
    assert_eq!(
        carol.get("/api/admin/users").send().await.status,
        StatusCode::OK
    );
    let r = post(
        &mut root,
        &token,
        "/api/admin/set-admin",
        json!({"user_id": carol_id, "is_admin": false}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!authenticated(&mut carol).await);
    let r = post(
        &mut root,
        &token,
        "/api/admin/set-admin",
        json!({"user_id": carol_id}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "is_admin is required.");

    // disable: the live session dies on its next request; login as for a wrong password.
    let mut carol = logged_in(&s, "carol", PW).await;
    let r = post(
        &mut root,
        &token,
        "/api/admin/disable-user",
        json!({"user_id": carol_id}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["message"], "User carol disabled");
    assert!(
        !authenticated(&mut carol).await,
        "disabled user's session lives"
    );
    let r = s.client().login("carol", PW).await;
    assert_error(
        &r,
        StatusCode::UNAUTHORIZED,
        "Invalid username or password.",
    );
    let listed = root.get("/api/admin/users").send().await.json();
    let entry = listed["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["id"] == carol_id)
        .expect("carol")
        .clone();
    assert_eq!(entry["disabled"], true);
    assert_eq!(entry["live_sessions"], 0);
    let r = post(
        &mut root,
        &token,
        "/api/admin/enable-user",
        json!({"user_id": carol_id.to_string()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut carol = logged_in(&s, "carol", PW).await;

    // reset-password: the rules apply; every session ends; the new password works.
    let r = post(
        &mut root,
        &token,
        "/api/admin/reset-password",
        json!({"user_id": carol_id, "new_password": ""}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "New password is required");
    let r = post(
        &mut root,
        &token,
        "/api/admin/reset-password",
        json!({"user_id": carol_id, "new_password": "password"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        authenticated(&mut carol).await,
        "a refused reset ended a session"
    );
    let r = post(
        &mut root,
        &token,
        "/api/admin/reset-password",
        json!({"user_id": carol_id, "new_password": PW2}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["message"], "Password reset for user carol");
    assert!(!authenticated(&mut carol).await);
    assert_eq!(
        s.client().login("carol", PW).await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut carol = logged_in(&s, "carol", PW2).await;

    // delete: progress, notes, sessions and the avatar's bytes go; no orphans.
    let pool = s.db.pool().await;
    sqlx::query(
        "INSERT INTO courses (uid, title, created_at) VALUES ('admin-101', 'Admin One', 0)",
    )
    .execute(&pool)
    .await
    .expect("course");
    let ct = carol.csrf().await;
    let r = post(
        &mut carol,
        &ct,
        "/api/course/progress",
        json!({"course_uid": "admin-101", "status": "In Progress"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = post(
        &mut carol,
        &ct,
        "/api/course/note",
        json!({"course_uid": "admin-101", "content": "my note"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = carol
        .post("/api/profile/avatar")
        .header("X-CSRFToken", &ct)
        .body(
            &crate::helpers::multipart_type(),
            crate::helpers::multipart(&[crate::helpers::Part {
                name: "avatar",
                filename: Some("me.png"),
                data: &tiny_png(),
            }]),
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(s.db.count("avatars").await, 1, "avatar not stored");
    for sql in [
        "INSERT INTO ebook_notes (user_id, book_id, content, updated_at) \
         VALUES ($1, 'calibre-4', 'n', 0)",
        "INSERT INTO ebook_progress (user_id, book_id, status, last_read) \
         VALUES ($1, 'calibre-4', 'in_progress', 0)",
    ] {
        sqlx::query(sql)
            .bind(carol_id)
            .execute(&pool)
            .await
            .expect("e-book row");
    }

    let r = post(
        &mut root,
        &token,
        "/api/admin/delete-user",
        json!({"user_id": carol_id}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["message"], "User carol deleted successfully");
    assert!(!authenticated(&mut carol).await);
    for table in [
        "avatars",
        "course_progress",
        "course_notes",
        "ebook_notes",
        "ebook_progress",
    ] {
        assert_eq!(s.db.count(table).await, 0, "{table} rows left behind");
    }
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
        .bind(carol_id)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(left, 0);
    let r = post(
        &mut root,
        &token,
        "/api/admin/delete-user",
        json!({"user_id": carol_id}),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "User not found");
    let r = post(&mut root, &token, "/api/admin/delete-user", json!({})).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "user_id is required.");
    let r = post(
        &mut root,
        &token,
        "/api/admin/delete-user",
        json!({"user_id": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    pool.close().await;

    // Every change above is in the audit log with its outcome.
    let entries = audit(&mut root).await;
    for (action, outcome) in [
        ("create-user", "success"),
        ("create-user", "refused"),
        ("set-admin", "success"),
        ("disable-user", "success"),
        ("enable-user", "success"),
        ("reset-password", "success"),
        ("reset-password", "refused"),
        ("delete-user", "success"),
        ("delete-user", "refused"),
    ] {
        assert!(
            entries
                .iter()
                .any(|e| e["action"] == action && e["outcome"] == outcome && e["actor"] == "root"),
            "no {action}/{outcome} in {entries:?}"
        );
    }
    let text = serde_json::to_string(&entries).expect("json");
    assert!(
        !text.contains(PW) && !text.contains(PW2),
        "a password reached the audit log"
    );
}

/// A 1×1 PNG.
fn tiny_png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(4, 4, image::Rgb([10, 120, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// Not your own account; never the last enabled admin (CLI too); two admins demoting each
/// other at once cannot both succeed.
async fn last_admin_and_yourself(backend: Backend) {
    let (s, mut root, token) = with_admin(backend, &[]).await;
    let root_id = user_id(&mut root, "root").await;
    for (path, body) in [
        ("/api/admin/delete-user", json!({"user_id": root_id})),
        ("/api/admin/disable-user", json!({"user_id": root_id})),
        (
            "/api/admin/set-admin",
            json!({"user_id": root_id, "is_admin": false}),
        ),
        (
            "/api/admin/reset-password",
            json!({"user_id": root_id, "new_password": PW2}),
        ),
    ] {
        let r = post(&mut root, &token, path, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.body);
        assert!(
            r.json()["error"]
                .as_str()
                .unwrap_or("")
                .contains("your own account")
        );
    }
    assert!(authenticated(&mut root).await);
    for args in [
        &["user", "set-admin", "root", "--remove"][..],
        &["user", "disable", "root"][..],
        &["user", "delete", "root"][..],
    ] {
        let out = s.cli(args, None);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("last enabled admin"), "{args:?}: {err}");
    }

    // Two admins, each demoting the other at the same moment: one wins.
    let out = s.cli(&["user", "create", "second", "--admin"], Some(PW));
    assert!(out.status.success());
    let mut second = logged_in(&s, "second", PW).await;
    let second_token = second.csrf().await;
    let second_id = user_id(&mut root, "second").await;
    let (a, b) = tokio::join!(
        post(
            &mut root,
            &token,
            "/api/admin/set-admin",
            json!({"user_id": second_id, "is_admin": false}),
        ),
        post(
            &mut second,
            &second_token,
            "/api/admin/set-admin",
            json!({"user_id": root_id, "is_admin": false}),
        ),
    );
    let ok = [&a, &b]
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert!(ok <= 1, "both demotions succeeded: {} / {}", a.body, b.body);
    let out = s.cli(&["user", "list"], None);
    let list = String::from_utf8_lossy(&out.stdout).to_string();
    let admins = list
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some("yes"))
        .count();
    assert_eq!(admins, 1, "{list}");
}

/// A session's password counts for ADMIN_REAUTH_WINDOW; after it, account changes answer
/// 403 "Re-authentication required" (audited) until `POST /api/admin/reauth`, which is
/// limited as a login is.
async fn reauthentication_window(backend: Backend) {
    let (s, mut root, token) = with_admin(backend, &[]).await;
    s.create_user("dave", PW);
    let dave = user_id(&mut root, "dave").await;
    let r = root.get("/api/admin/reauth").send().await;
    assert_eq!(r.json()["recent"], true, "{}", r.body);
    let left = r.json()["seconds_left"].as_i64().expect("seconds_left");
    assert!((590..=600).contains(&left), "{left}");

    // The login was more than ADMIN_REAUTH_WINDOW ago.
    s.db.write_behind_the_server("UPDATE sessions SET reauth_at = reauth_at - 601")
        .await;
    let r = root.get("/api/admin/reauth").send().await;
    assert_eq!(r.json(), json!({"recent": false, "seconds_left": 0}));
    for (path, body) in [
        ("/api/admin/disable-user", json!({"user_id": dave})),
        ("/api/admin/delete-user", json!({"user_id": dave})),
        (
            "/api/admin/reset-password",
            json!({"user_id": dave, "new_password": PW2}),
        ),
        (
            "/api/admin/set-admin",
            json!({"user_id": dave, "is_admin": true}),
        ),
        (
            "/api/admin/create-user",
            json!({"username": "erin", "password": PW}),
        ),
        (
            "/api/admin/revoke-session",
            json!({"handle": "0123456789abcdef"}),
        ),
    ] {
        let r = post(&mut root, &token, path, body).await;
        assert_error(&r, StatusCode::FORBIDDEN, "Re-authentication required");
    }
    // Reading is still allowed.
    assert_eq!(
        root.get("/api/admin/users").send().await.status,
        StatusCode::OK
    );
    let entries = audit(&mut root).await;
    assert!(
        entries.iter().any(|e| e["action"] == "disable-user"
            && e["outcome"] == "denied"
            && e["detail"] == "re-authentication required"),
        "{entries:?}"
    );

    let r = post(
        &mut root,
        &token,
        "/api/admin/reauth",
        json!({"password": "wrong-one"}),
    )
    .await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "Password is incorrect.");
    let r = post(
        &mut root,
        &token,
        "/api/admin/reauth",
        json!({"password": PW}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["seconds_left"], 600);
    let r = post(
        &mut root,
        &token,
        "/api/admin/disable-user",
        json!({"user_id": dave}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Limited like a login: the per-IP AUTH_RATE_LIMIT (5 a minute, the login counted).
    let mut limited = None;
    for i in 0..6 {
        let r = post(
            &mut root,
            &token,
            "/api/admin/reauth",
            json!({"password": "wrong-one"}),
        )
        .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.header("retry-after").is_some());
            limited = Some(i);
            break;
        }
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    }
    assert!(limited.is_some(), "re-authentication is not rate-limited");
    let entries = audit(&mut root).await;
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "reauthenticate" && e["outcome"] == "refused")
    );
}

/// In the pages, a form refused for want of a recent password answers with a prompt that
/// keeps the form; the prompt's post answers 307 to the form's action, whose repost works.
async fn pages_reauth_prompt_reposts_the_form(backend: Backend) {
    let (s, mut root, _) = with_admin(backend, &[]).await;
    s.create_user("dave", PW);
    let dave = user_id(&mut root, "dave").await.to_string();
    s.db.write_behind_the_server("UPDATE sessions SET reauth_at = 0")
        .await;
    let page = html(&mut root, "/admin/users").send().await;
    assert_eq!(page.status, StatusCode::OK);
    let token = form_token(&page.body);
    let form = [("csrf_token", token.as_str()), ("user_id", dave.as_str())];
    let r = root
        .post("/admin/users/disable")
        .header("Accept", "text/html")
        .form(&form)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("name=\"reauth_password\""), "{}", r.body);
    assert!(
        r.body
            .contains("name=\"then\" value=\"/admin/users/disable\""),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(&format!("name=\"user_id\" value=\"{dave}\"")),
        "{}",
        r.body
    );
    let prompt_token = form_token(&r.body);

    // A wrong password: the prompt again, with the error.
    let wrong = [
        ("csrf_token", prompt_token.as_str()),
        ("then", "/admin/users/disable"),
        ("repost", "1"),
        ("user_id", dave.as_str()),
        ("reauth_password", "wrong-one"),
    ];
    let r = root
        .post("/admin/reauth")
        .header("Accept", "text/html")
        .form(&wrong)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert!(r.body.contains("Password is incorrect."));

    let right = [
        ("csrf_token", prompt_token.as_str()),
        ("then", "/admin/users/disable"),
        ("repost", "1"),
        ("user_id", dave.as_str()),
        ("reauth_password", PW),
    ];
    let r = root
        .post("/admin/reauth")
        .header("Accept", "text/html")
        .form(&right)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::TEMPORARY_REDIRECT, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/admin/users/disable")
    );
    // What the browser does with a 307: the same body to the same place.
    let r = root
        .post("/admin/users/disable")
        .header("Accept", "text/html")
        .form(&right)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/admin/users?done=disabled")
    );
    let r = html(&mut root, "/admin/users?done=disabled").send().await;
    assert!(r.body.contains("User disabled"), "{}", r.body);

    // An open redirect through `then` is not possible.
    let evil = [
        ("csrf_token", prompt_token.as_str()),
        ("then", "//evil.example/admin"),
        ("reauth_password", PW),
    ];
    let r = root
        .post("/admin/reauth")
        .header("Accept", "text/html")
        .form(&evil)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location").as_deref(), Some("/admin"));
}

/// Every live session, never its id or hash; revocation by handle ends exactly that one.
async fn live_sessions_and_revocation(backend: Backend) {
    let (s, mut root, token) = with_admin(backend, &[]).await;
    s.create_user("bob", PW);
    let mut bob1 = logged_in(&s, "bob", PW).await;
    let mut bob2 = logged_in(&s, "bob", PW).await;
    let r = root.get("/api/admin/sessions").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = r.json()["sessions"].as_array().expect("sessions").clone();
    assert_eq!(list.len(), 3, "{list:?}");
    let mine: Vec<_> = list.iter().filter(|l| l["current"] == true).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["username"], "root");
    for cookie in [bob1.session(), bob2.session(), root.session()] {
        let cookie = cookie.expect("cookie");
        assert!(!r.body.contains(&cookie), "a session id is listed");
    }
    for l in &list {
        let handle = l["handle"].as_str().expect("handle");
        assert_eq!(handle.len(), 16);
        assert!(l.get("id").is_none() && l.get("id_hash").is_none(), "{l}");
        assert_eq!(l["ip"], "127.0.0.1");
        assert_eq!(l["user_agent"], "gleh-tests/1");
    }
    // Revoke bob1's: it is the bob session created first.
    let mut bobs: Vec<_> = list.iter().filter(|l| l["username"] == "bob").collect();
    bobs.sort_by_key(|l| l["created_at"].as_i64());
    // Both were created in the same second; find bob1's by revoking and checking.
    let first = bobs[0]["handle"].as_str().expect("handle").to_string();
    let r = post(
        &mut root,
        &token,
        "/api/admin/revoke-session",
        json!({"handle": first}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let alive = [
        authenticated(&mut bob1).await,
        authenticated(&mut bob2).await,
    ];
    assert_eq!(alive.iter().filter(|a| **a).count(), 1, "{alive:?}");
    let r = post(
        &mut root,
        &token,
        "/api/admin/revoke-session",
        json!({"handle": first}),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "Session not found");
    let r = post(
        &mut root,
        &token,
        "/api/admin/revoke-session",
        json!({"handle": "nope"}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "A session handle is required.");
    assert!(authenticated(&mut root).await);

    // The page lists them and revokes with a form.
    let page = html(&mut root, "/admin/sessions").send().await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("this session"));
    let second = bobs[1]["handle"].as_str().expect("handle");
    let form_token = form_token(&page.body);
    let r = root
        .post("/admin/sessions/revoke")
        .header("Accept", "text/html")
        .form(&[("csrf_token", form_token.as_str()), ("handle", second)])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(!authenticated(&mut bob1).await && !authenticated(&mut bob2).await);
}

/// The Users page's forms: create (an error shown on the page, the name kept), make admin,
/// delete with its confirmation; the Audit page shows them.
async fn user_pages_forms(backend: Backend) {
    let (s, mut root, _) = with_admin(backend, &[]).await;
    let page = html(&mut root, "/admin/users").send().await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Your own account"), "{}", page.body);
    let token = form_token(&page.body);
    let r = root
        .post("/admin/users/create")
        .header("Accept", "text/html")
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "frank"),
            ("password", "short"),
        ])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Password must be at least 8 characters."));
    assert!(r.body.contains("value=\"frank\""));
    let r = root
        .post("/admin/users/create")
        .header("Accept", "text/html")
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "frank"),
            ("password", PW),
            ("is_admin", "1"),
        ])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/admin/users?done=created")
    );
    let frank = user_id(&mut root, "frank").await.to_string();
    let mut frank_client = logged_in(&s, "frank", PW).await;
    assert_eq!(
        frank_client.get("/api/admin/users").send().await.status,
        StatusCode::OK,
        "created as admin"
    );
    let r = root
        .post("/admin/users/set-admin")
        .header("Accept", "text/html")
        .form(&[
            ("csrf_token", token.as_str()),
            ("user_id", frank.as_str()),
            ("is_admin", "0"),
        ])
        .send()
        .await;
    assert_eq!(
        r.header("location").as_deref(),
        Some("/admin/users?done=admin-removed")
    );
    let r = root
        .post("/admin/users/delete")
        .header("Accept", "text/html")
        .form(&[
            ("csrf_token", token.as_str()),
            ("user_id", frank.as_str()),
            ("confirm", "1"),
        ])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = html(&mut root, "/admin/users?done=deleted").send().await;
    assert!(!page.body.contains(">frank<"), "{}", page.body);
    assert!(page.body.contains("User deleted"));
    // Without the token, nothing happens.
    let r = root
        .post("/admin/users/create")
        .header("Accept", "text/html")
        .form(&[("username", "gina"), ("password", PW)])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.body.contains("The CSRF token is missing."));
    let page = html(&mut root, "/admin/audit").send().await;
    assert_eq!(page.status, StatusCode::OK);
    for action in ["create-user", "set-admin", "delete-user"] {
        assert!(page.body.contains(action), "audit page lacks {action}");
    }
}

/// Found by fuzzing the admin API on PostgreSQL (docs/reliability.md "OpenAPI and
/// schemathesis"): a NUL in what an admin sends was quoted into the audit row (or stored
/// as the About text), which PostgreSQL's `text` refuses: a 500 instead of the 400. The
/// audit row now shows U+FFFD for every control character.
async fn nul_characters_are_a_400_not_a_500(backend: Backend) {
    let (_s, mut c, token) = with_admin(backend, &[]).await;
    let r = post(
        &mut c,
        &token,
        "/api/admin/about-content",
        json!({"content": "a\u{0}b"}),
    )
    .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "About content must not contain NUL characters.",
    );
    let r = post(
        &mut c,
        &token,
        "/api/admin/create-user",
        json!({"username": "x\u{0}yz", "password": "horse-battery-staple-9"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = post(
        &mut c,
        &token,
        "/api/admin/revoke-session",
        json!({"handle": "\u{0}"}),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "A session handle is required.");
    let r = c.get("/api/admin/audit").send().await;
    assert_eq!(r.status, StatusCode::OK);
    let entries = r.json()["entries"].as_array().cloned().unwrap_or_default();
    let created = entries
        .iter()
        .find(|e| e["action"] == "create-user")
        .expect("the refused create-user is audited");
    assert_eq!(created["target"], "username:x\u{FFFD}yz");
    assert_eq!(created["outcome"], "refused");
}
