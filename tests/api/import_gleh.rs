//! Moving from the original (docs/design.md "Moving from the original"): the "password
//! change required" state of a weak login, `gleh import-gleh` of the fixture database
//! (`tests/fixtures/gleh-db/`, a copy of the fixture the project was given) as SQLite and
//! as a PostgreSQL dump, and backups.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{
        Backend, Client, PW, Server, TestDb, assert_error, env_vec, logged_in, postgres_available,
        run, start,
    },
};

/// A client held to "password change required" can reach only the password change,
/// logout and the session probes; changing the password clears it.
async fn assert_held_until_changed(c: &mut Client, current: &str) {
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["password_change_required"], true);
    for path in [
        "/api/content",
        "/api/profile",
        "/api/sessions",
        "/api/admin/users",
    ] {
        let r = c.get(path).send().await;
        assert_error(&r, StatusCode::FORBIDDEN, "Password change required");
    }
    for path in ["/", "/about", "/admin", "/course/x"] {
        let r = c.get(path).header("Accept", "text/html").send().await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.header("location").as_deref(), Some("/profile"), "{path}");
    }
    let r = c.get("/profile").header("Accept", "text/html").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("too short or too common"), "{}", r.body);
    let token = c.csrf().await;
    let r = c
        .post("/api/course/note")
        .header("X-CSRFToken", &token)
        .json(&json!({"course_uid": "x", "content": "y"}))
        .send()
        .await;
    assert_error(&r, StatusCode::FORBIDDEN, "Password change required");
    let r = c
        .post("/api/profile/change-password")
        .header("X-CSRFToken", &token)
        .json(&json!({"current_password": current, "new_password": PW, "confirm_password": PW}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.json()["password_change_required"], false);
    assert_eq!(c.get("/api/content").send().await.status, StatusCode::OK);
}

async fn weak_login_must_change_password(backend: Backend) {
    // An account made when the minimum was 8, on a hub that now asks for 16.
    let s = start(backend, &[("MIN_PASSWORD_LENGTH", "16")]).await;
    let env = env_vec(&[("DATABASE_URL", &s.db.url)]);
    let out = run(
        &s.db.dir(),
        &env,
        &["user", "create", "olduser"],
        Some("Tr0ub4dor-x\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = logged_in(&s, "olduser", "Tr0ub4dor-x").await;
    assert_held_until_changed(&mut c, "Tr0ub4dor-x").await;
    // A strong password's login is not held.
    let mut c = logged_in(&s, "olduser", PW).await;
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.json()["password_change_required"], false);
}

both_backends!(weak_login_must_change_password);

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gleh-db")
}

/// The original's database as a `SOURCE`: the SQLite file, or the PostgreSQL dump restored
/// with psql into a fresh database (kept alive by the returned `TestDb`).
async fn source(kind: Backend) -> Option<(String, Option<TestDb>)> {
    match kind {
        Backend::Sqlite => Some((
            format!("sqlite:///{}", fixtures().join("gleh.sqlite").display()),
            None,
        )),
        Backend::Postgres => {
            if !postgres_available().await {
                return None;
            }
            let db = TestDb::new(Backend::Postgres).await;
            let out = std::process::Command::new("psql")
                .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
                .arg(fixtures().join("gleh.pg.sql"))
                .output()
                .expect("run psql");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some((db.url.clone(), Some(db)))
        }
    }
}

fn import(s: &Server, args: &[&str]) -> (bool, Value, String) {
    let mut all = vec!["import-gleh"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = s.cli(&all, None);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.success(), json, stderr)
}

async fn stored_hash(s: &Server, username: &str) -> String {
    let pool = s.db.pool().await;
    let h: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&pool)
        .await
        .expect("user row");
    pool.close().await;
    h
}

async fn imports_the_original(target: Backend, from: Backend) {
    let Some((url, _keep)) = source(from).await else {
        return;
    };
    // A fake Calibre-Web with books 1–10, so the imported e-book rows of `calibre-4` and
    // `calibre-7` show on the hub's own book and profile pages.
    let (_fake, cw) = crate::ebooks::fake_calibre(10, 10).await;
    let s = crate::ebooks::hub(target, &cw, &[]).await;
    crate::ebooks::wait_for(&s, "healthy").await;
    // A dry run writes nothing and reports the same.
    let (ok, dry, err) = import(&s, &[&url, "--dry-run"]);
    assert!(ok, "{err}");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["counts"]["users"]["added"], 8);
    assert_eq!(s.db.count("users").await, 0);
    assert_eq!(s.db.count("course_notes").await, 0);
    assert_eq!(dry["counts"]["ebook_notes"]["added"], 1);
    assert_eq!(dry["counts"]["ebook_progress"]["added"], 2);
    assert_eq!(s.db.count("ebook_notes").await, 0);
    assert_eq!(s.db.count("ebook_progress").await, 0);

    let started = std::time::Instant::now();
    let (ok, report, err) = import(&s, &[&url]);
    eprintln!("import of the fixture: {:?}", started.elapsed());
    assert!(ok, "{err}");
    assert_eq!(report["counts"]["users"], json!({"added": 8, "present": 0}));
    assert_eq!(report["renamed"][0]["from"], "dave");
    assert_eq!(report["renamed"][0]["to"], "dave-2");
    assert_eq!(
        report["counts"]["ebook_notes"],
        json!({"added": 1, "present": 0})
    );
    assert_eq!(
        report["counts"]["ebook_progress"],
        json!({"added": 2, "present": 0})
    );
    assert_eq!(report["source"]["ebook_notes"], 2);
    let skipped = report["skipped"].to_string();
    assert!(skipped.contains("done!!"), "{skipped}");
    assert!(skipped.contains("calibre-notanumber"), "{skipped}");
    if from == Backend::Sqlite {
        assert!(skipped.contains("orphan: course 4"), "{skipped}");
        assert_eq!(report["counts"]["progress"]["added"], 3);
    }
    let changed = report["changed"].to_string();
    assert!(changed.contains("javascript:alert(1)"), "{changed}");
    // The packages are not in this hub's CONTENT_DIR/courses: the report says which.
    let missing = report["without_package"].to_string();
    assert!(missing.contains("18-06-spring-2010"), "{missing}");
    assert!(changed.contains("Legacy/package/index.html"), "{changed}");
    assert!(
        !report.to_string().contains("$B5u1MzV6UZcIN9VJ"),
        "a hash in the report"
    );

    // Every account logs in with the original's password; its hash becomes Argon2id.
    let accounts: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("accounts.json")).unwrap())
            .unwrap();
    let weak = ["admin", "testuser1", "frank"];
    for a in accounts.as_array().unwrap() {
        let (name, pw) = (
            a["username"].as_str().unwrap(),
            a["password"].as_str().unwrap(),
        );
        let here = if name == "dave" { "dave-2" } else { name };
        assert!(!stored_hash(&s, here).await.starts_with("$argon2"));
        let mut c = logged_in(&s, here, pw).await;
        assert!(
            stored_hash(&s, here).await.starts_with("$argon2id$"),
            "{here}"
        );
        let r = c.get("/api/check_session").send().await;
        assert_eq!(r.json()["user"]["is_admin"], a["admin"], "{here}");
        assert_eq!(
            r.json()["password_change_required"],
            weak.contains(&name),
            "{here}"
        );
        // And again, now against the Argon2id hash.
        logged_in(&s, here, pw).await;
        let mut bad = s.client();
        assert_eq!(
            bad.login(here, "wrong-password-1").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let mut admin = logged_in(&s, "admin", "admin123").await;
    assert_held_until_changed(&mut admin, "admin123").await;

    // Alice's note with a <script> tag is on its course page, escaped.
    let mut alice = logged_in(&s, "alice", "Alice-Learns-2025").await;
    let r = alice
        .get("/course/18-06-spring-2010")
        .header("Accept", "text/html")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("&#60;script&#62;steal()"), "{}", r.body);
    assert!(!r.body.contains("<script>steal()"));
    let content = alice.get("/api/content").send().await.json();
    let text = content.to_string();
    assert!(
        text.contains("Completed") && text.contains("In Progress"),
        "{text}"
    );

    // Her e-book note and reading progress, through the hub's own e-book API and pages.
    let r = alice.get("/api/textbook/calibre-4/note").send().await;
    assert_eq!(r.json(), json!({"content": "Chapter 3 is the key."}));
    let page = alice
        .get("/textbook/calibre-4")
        .header("Accept", "text/html")
        .send()
        .await;
    assert!(page.body.contains("Chapter 3 is the key."), "{}", page.body);
    let profile = alice
        .get("/profile")
        .header("Accept", "text/html")
        .send()
        .await;
    let reading = &profile.body[profile.body.find("reading-list").expect("reading")..];
    let finished_at = reading.find("finished-list").expect("finished");
    assert!(reading[..finished_at].contains("Book 4 "), "{reading}");
    assert!(reading[finished_at..].contains("Book 7 "), "{reading}");
    // She changes her note here; a second import keeps this hub's value.
    let t = alice.csrf().await;
    let r = alice
        .post("/api/textbook/note")
        .header("X-CSRFToken", &t)
        .json(&json!({"book_id": "calibre-4", "content": "rewritten here"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A second run adds nothing, and says so.
    let (ok, again, err) = import(&s, &[&url]);
    assert!(ok, "{err}");
    for t in [
        "users",
        "courses",
        "progress",
        "notes",
        "ebook_notes",
        "ebook_progress",
    ] {
        assert_eq!(again["counts"][t]["added"], 0, "{t}");
    }
    assert_eq!(again["counts"]["ebook_progress"]["present"], 2);
    assert_eq!(s.db.count("users").await, 8);
    assert_eq!(s.db.count("ebook_notes").await, 1);
    let r = alice.get("/api/textbook/calibre-4/note").send().await;
    assert_eq!(r.json(), json!({"content": "rewritten here"}));
    let out = s.cli(&["import-gleh", &url], None);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("nothing new: everything was imported before"),
        "{text}"
    );
}

async fn imports_the_sqlite_fixture(backend: Backend) {
    imports_the_original(backend, Backend::Sqlite).await;
}

async fn imports_the_postgres_dump(backend: Backend) {
    imports_the_original(backend, Backend::Postgres).await;
}

/// A database that is not the original's (here: this hub's own) is refused, nothing
/// written.
async fn refuses_a_source_that_is_not_the_original(backend: Backend) {
    let s = start(backend, &[]).await;
    s.create_user("keeper", PW);
    let (ok, _, err) = import(&s, &[&s.db.url.clone()]);
    assert!(!ok);
    assert!(err.contains("not a database of the original GLEH"), "{err}");
    let (ok, _, err) = import(&s, &["sqlite:///nonexistent/gleh.db"]);
    assert!(!ok);
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(s.db.count("users").await, 1);
}

/// The picture `/api/profile` names for the client's account.
async fn avatar_of(c: &mut Client) -> Value {
    c.get("/api/profile").send().await.json()["user"]["avatar"].clone()
}

/// `--avatars DIR` (the original's `static/avatars/`): alice's `2_portrait.png` goes through
/// the upload pipeline and is served as her picture, re-encoded; a dry run stores nothing;
/// a missing file or one that is not a picture leaves the default avatar and is reported.
async fn imports_avatars(backend: Backend) {
    let Some((url, _keep)) = source(Backend::Sqlite).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let avatars_arg = dir.path().to_str().unwrap();
    // Imported pictures live in the database, as uploads do (nothing under DATA_DIR).
    let stored_in = async |s: &Server| {
        assert!(!s.db.dir().join("data").join("avatars").exists());
        crate::avatar::stored_names(s).await.len()
    };

    // Missing, then not a picture: reported, default avatar kept.
    let s = start(backend, &[]).await;
    let (ok, report, err) = import(&s, &[&url, "--avatars", avatars_arg, "--dry-run"]);
    assert!(ok, "{err}");
    let reasons = report["avatars"].to_string();
    assert!(reasons.contains("2_portrait.png is not in"), "{reasons}");
    std::fs::write(dir.path().join("2_portrait.png"), b"GIF89a but not really").unwrap();
    let (ok, report, err) = import(&s, &[&url, "--avatars", avatars_arg]);
    assert!(ok, "{err}");
    assert_eq!(report["avatars_imported"], 0);
    assert_eq!(report["avatars"][0]["id"], 2);
    let reason = report["avatars"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("2_portrait.png: ") && reason.ends_with("default avatar kept"),
        "{reason}"
    );
    assert_eq!(stored_in(&s).await, 0);
    let mut alice = logged_in(&s, "alice", "Alice-Learns-2025").await;
    let default = avatar_of(&mut alice).await;
    assert!(!default.to_string().contains("/avatars/"), "{default}");

    // A real picture, into a fresh hub.
    let s = start(backend, &[]).await;
    // Bytes after the image's end: kept by a copy, gone after re-encoding.
    let mut picture = crate::avatar::png(300, 200);
    picture.extend_from_slice(b"TRAILING-MARKER");
    std::fs::write(dir.path().join("2_portrait.png"), &picture).unwrap();
    let (ok, report, err) = import(&s, &[&url, "--avatars", avatars_arg, "--dry-run"]);
    assert!(ok, "{err}");
    assert_eq!(report["avatars_imported"], 1, "{report}");
    assert_eq!(stored_in(&s).await, 0, "a dry run stored a picture");
    let (ok, report, err) = import(&s, &[&url, "--avatars", avatars_arg]);
    assert!(ok, "{err}");
    assert_eq!(report["avatars_imported"], 1, "{report}");
    assert_eq!(report["avatars"], json!([]));
    assert_eq!(stored_in(&s).await, 1);
    let mut alice = logged_in(&s, "alice", "Alice-Learns-2025").await;
    let at = avatar_of(&mut alice).await;
    let at = at.as_str().unwrap_or_default().to_string();
    assert!(at.starts_with("/avatars/"), "{at}");
    let (status, _, bytes) = crate::avatar::fetch(&s.base, &at).await;
    assert_eq!(status, StatusCode::OK);
    let served = image::load_from_memory(&bytes).expect("a picture");
    assert!(served.width() > 0 && served.height() > 0);
    let marker = b"TRAILING-MARKER";
    assert!(
        !bytes.windows(marker.len()).any(|w| w == marker),
        "served as uploaded, not re-encoded"
    );
    // Others keep the default; a second run leaves avatars as they are.
    let mut bob = logged_in(&s, "bob_old", "BobsOldPassw0rd").await;
    assert_eq!(avatar_of(&mut bob).await, default);
    let (ok, again, err) = import(&s, &[&url, "--avatars", avatars_arg]);
    assert!(ok, "{err}");
    assert_eq!(again["avatars_imported"], 0);
    assert_eq!(stored_in(&s).await, 1);
}

/// Rows the fixture does not hold but another database of the original may: a hash in a
/// format nobody can verify (imported as "no usable password", reported, fixed by
/// `gleh user set-password`), a name with a trailing newline and one with a space (renamed
/// and reported), a profile text beyond this hub's limit (kept whole), a status in another
/// case (imported) and an empty one (reported, skipped).
async fn imports_rows_the_fixture_lacks(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gleh.sqlite");
    std::fs::copy(fixtures().join("gleh.sqlite"), &path).unwrap();
    let long_about = "a".repeat(5000);
    {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let alice_hash: String =
            sqlx::query_scalar("SELECT password_hash FROM user WHERE username = 'alice'")
                .fetch_one(&pool)
                .await
                .unwrap();
        for (id, name, hash, about) in [
            (9, "eve\n", "md5$c2FsdA$0123456789abcdef", ""),
            (10, "grace hopper", alice_hash.as_str(), long_about.as_str()),
        ] {
            sqlx::query(
                "INSERT INTO user (id, username, password_hash, is_admin, avatar, about_me, created_at) \
                 VALUES ($1, $2, $3, 0, 'default_avatar.png', $4, '2024-05-01 10:00:00')",
            )
            .bind(id)
            .bind(name)
            .bind(hash)
            .bind(about)
            .execute(&pool)
            .await
            .unwrap();
        }
        for (id, status, user, course) in [(6, "COMPLETED", 10, 1), (7, "", 10, 2)] {
            sqlx::query(
                "INSERT INTO course_progress (id, status, user_id, course_id) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(status)
            .bind(user)
            .bind(course)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
    }
    let url = format!("sqlite:///{}", path.display());
    let s = start(backend, &[]).await;
    let (ok, report, err) = import(&s, &[&url]);
    assert!(ok, "{err}");
    assert_eq!(report["counts"]["users"]["added"], 10);
    let unusable = &report["unusable_passwords"];
    assert_eq!(unusable.as_array().map(Vec::len), Some(1), "{unusable}");
    assert_eq!(unusable[0]["username"], "eve");
    assert_eq!(unusable[0]["method"], "md5");
    assert!(
        !report.to_string().contains("0123456789abcdef"),
        "a hash in the report"
    );
    let renamed = report["renamed"].to_string();
    assert!(
        renamed.contains(r#""from":"eve\n","#) && renamed.contains(r#""to":"eve""#),
        "{renamed}"
    );
    assert!(renamed.contains(r#""to":"grace_hopper""#), "{renamed}");
    let skipped = report["skipped"].to_string();
    assert!(
        skipped.contains(r#"{"id":7,"reason":"status \"\" is not"#),
        "{skipped}"
    );

    // No usable password: refused exactly as a wrong one, until an operator sets one.
    let mut c = s.client();
    let r = c.login("eve", "anything-at-all-1").await;
    let mut wrong = s.client();
    let w = wrong.login("alice", "anything-at-all-1").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json(), w.json());
    let out = s.cli(&["user", "set-password", "eve"], Some(&format!("{PW}\n")));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    logged_in(&s, "eve", PW).await;

    // The renamed account logs in with its original password; its long text is whole.
    let mut grace = logged_in(&s, "grace_hopper", "Alice-Learns-2025").await;
    let profile = grace.get("/api/profile").send().await.json();
    assert_eq!(profile["user"]["about_me"], long_about.as_str());
    let completed = profile["courses_completed"].to_string();
    assert!(completed.contains("6-0001-fall-2016"), "{profile}");
}

both_backends!(
    imports_rows_the_fixture_lacks,
    imports_avatars,
    imports_the_sqlite_fixture,
    imports_the_postgres_dump,
    refuses_a_source_that_is_not_the_original
);
