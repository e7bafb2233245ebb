//! Backups (docs/deploy.md "Backups"): `gleh backup` of a live SQLite database and
//! pg_dump / pg_restore of a PostgreSQL one restore into a database on which a fresh server
//! serves the same users, courses, progress and notes, and the same session cookie is
//! still valid; a backup taken during a write load restores cleanly; `gleh backup` refuses
//! on PostgreSQL and never overwrites a file; `gleh doctor` looks at BACKUP_DIR.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, Client, PW, SECRET, Server, TestDb, env_vec, new_user_with_token, postgres_available,
    run, start,
};

const COURSE: &str = "backup-101";

async fn add_course(s: &Server) {
    let pool = s.db.pool().await;
    sqlx::query(
        "INSERT INTO courses (uid, title, description, categories, created_at) \
         VALUES ($1, 'Backed Up', 'A test course.', 'Testing', 0)",
    )
    .bind(COURSE)
    .execute(&pool)
    .await
    .expect("insert course");
    pool.close().await;
}

async fn post(c: &mut Client, token: &str, path: &str, body: Value) -> StatusCode {
    let r = c
        .post(path)
        .header("X-CSRFToken", token)
        .json(&body)
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.status
}

/// What a client sees of its data: its username, the catalog (uid, progress) and its note.
async fn view(c: &mut Client) -> (Value, Vec<(String, String)>, String) {
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let who = r.json()["username"].clone();
    let r = c.get("/api/content").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut courses: Vec<(String, String)> = r.json()["content"]
        .as_array()
        .expect("content")
        .iter()
        .map(|e| {
            (
                e["uid"].as_str().unwrap_or_default().to_string(),
                e["user_progress"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    courses.sort();
    let r = c.get(&format!("/api/course/{COURSE}/note")).send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let note = r.json()["content"].as_str().unwrap_or_default().to_string();
    (who, courses, note)
}

async fn count_users(url: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.expect("connect");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    n
}

/// Copies the live database of `s` into `fresh`: `gleh backup` (SQLite, while `s` runs) or
/// pg_dump | pg_restore (PostgreSQL). Returns how long the backup took.
fn backup_into(s: &Server, fresh: &TestDb) -> Duration {
    let started = Instant::now();
    if s.db.url.starts_with("sqlite:") {
        let file = fresh.url.trim_start_matches("sqlite://").to_string();
        let out = s.cli(&["backup", &file], None);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("integrity_check: ok"), "{stdout}");
        assert!(stdout.contains("is good"), "{stdout}");
        // A second backup to the same file is refused and leaves it alone.
        let out = s.cli(&["backup", &file], None);
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
        let out = s.cli(&["backup", "--check", &file], None);
        assert!(out.status.success());
    } else {
        let dump = fresh.dir().join("gleh.dump");
        let out = std::process::Command::new("pg_dump")
            .args(["--format=custom", "--file"])
            .arg(&dump)
            .arg(&s.db.url)
            .output()
            .expect("run pg_dump");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = std::process::Command::new("pg_restore")
            .args(["--no-owner", "--exit-on-error", "--dbname", &fresh.url])
            .arg(&dump)
            .output()
            .expect("run pg_restore");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let elapsed = started.elapsed();
    eprintln!("backup took {} ms", elapsed.as_millis());
    elapsed
}

async fn restores_with_sessions(backend: Backend) {
    let env = [("SECRET_KEY", SECRET), ("AUTH_RATE_LIMIT", "1000")];
    let s = start(backend, &env).await;
    add_course(&s).await;
    let (mut a, ta) = new_user_with_token(&s, "alice").await;
    post(
        &mut a,
        &ta,
        "/api/course/progress",
        json!({"course_uid": COURSE, "status": "Completed"}),
    )
    .await;
    post(
        &mut a,
        &ta,
        "/api/course/note",
        json!({"course_uid": COURSE, "content": "kept <b>whole</b>"}),
    )
    .await;
    let (mut b, tb) = new_user_with_token(&s, "bob").await;
    post(
        &mut b,
        &tb,
        "/api/course/progress",
        json!({"course_uid": COURSE, "status": "In Progress"}),
    )
    .await;
    let before_a = view(&mut a).await;
    let before_b = view(&mut b).await;
    assert_eq!(before_a.2, "kept <b>whole</b>");

    let fresh = TestDb::new(backend).await;
    backup_into(&s, &fresh);
    let users = count_users(&s.db.url).await;
    assert_eq!(count_users(&fresh.url).await, users);

    // The first server keeps running; a second one serves the restored copy.
    let r = Server::start_on(fresh, &env).await;
    let mut a2 = r.client();
    a2.cookies = a.cookies.clone();
    let mut b2 = r.client();
    b2.cookies = b.cookies.clone();
    assert_eq!(view(&mut a2).await, before_a);
    assert_eq!(view(&mut b2).await, before_b);
    // The restored session still writes (its CSRF token is the same session's).
    post(
        &mut a2,
        &ta,
        "/api/course/note",
        json!({"course_uid": COURSE, "content": "after"}),
    )
    .await;
    // And the password still logs in.
    let mut c = r.client();
    assert_eq!(c.login("bob", PW).await.status, StatusCode::OK);
}

crate::both_backends!(restores_with_sessions);

/// Registrations and notes keep arriving while the backup is taken; the copy is sound
/// and holds a consistent prefix of them.
async fn backup_under_write_load(backend: Backend) {
    let env = [("SECRET_KEY", SECRET), ("AUTH_RATE_LIMIT", "100000")];
    let s = start(backend, &env).await;
    add_course(&s).await;
    let (writer, token) = new_user_with_token(&s, "writer").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let registered = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for w in 0..2 {
        let stop = stop.clone();
        let registered = registered.clone();
        let mut c = s.client();
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let name = format!("load{w}x{n}");
                let r = c.register(&name, PW).await;
                assert!(r.status.is_success(), "{}", r.body);
                registered.lock().expect("names").push(name);
                n += 1;
            }
            n
        }));
    }
    {
        let stop = stop.clone();
        let mut c = writer;
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = json!({"course_uid": COURSE, "content": format!("note {n}")});
                post(&mut c, &token, "/api/course/note", body).await;
                n += 1;
            }
            n
        }));
    }
    // The backup starts once the load is under way (a few registrations in).
    for _ in 0..200 {
        if registered.lock().expect("names").len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Acknowledged before the backup began: in the copy.
    let before = registered.lock().expect("names").first().cloned();
    let fresh = TestDb::new(backend).await;
    let took = backup_into(&s, &fresh);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut written = 0;
    for t in tasks {
        written += t.await.expect("writer");
    }
    eprintln!(
        "{written} registrations and notes during the load; backup {} ms",
        took.as_millis()
    );
    let restored = count_users(&fresh.url).await;
    let live = count_users(&s.db.url).await;
    assert!(restored >= 2 && restored <= live, "{restored} of {live}");
    if backend == Backend::Sqlite {
        let file = fresh.url.trim_start_matches("sqlite://").to_string();
        let out = run(
            &fresh.dir(),
            &env_vec(&[("DATABASE_URL", &fresh.url)]),
            &["backup", "--check", &file],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let r = Server::start_on(fresh, &env).await;
    let mut c = r.client();
    let name = before.expect("a registration before the backup");
    assert_eq!(c.login(&name, PW).await.status, StatusCode::OK, "{name}");
}

crate::both_backends!(backup_under_write_load);

/// On PostgreSQL `gleh backup` writes nothing, exits 1 and prints the commands to use.
#[tokio::test]
async fn postgres_refuses_with_the_commands() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let file = db.dir().join("x.db");
    let out = run(
        &db.dir(),
        &env_vec(&[("DATABASE_URL", &db.url)]),
        &["backup", file.to_str().expect("utf-8")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pg_dump --format=custom"), "{err}");
    assert!(err.contains("pg_restore"), "{err}");
    assert!(!file.exists());
}

/// `backup.recent`: silent without BACKUP_DIR; WARN for an empty folder or a file older
/// than a day; PASS for a fresh one.
#[tokio::test]
async fn doctor_looks_at_backup_dir() {
    let db = TestDb::new(Backend::Sqlite).await;
    let dir = db.dir().join("backups");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let status = |extra: &[(&str, &str)]| -> Option<String> {
        let mut env = vec![("DATABASE_URL", db.url.as_str())];
        env.extend_from_slice(extra);
        let out = run(&db.dir(), &env_vec(&env), &["doctor", "--json"], None);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        v["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["id"] == "backup.recent")
            .map(|c| c["status"].as_str().unwrap_or_default().to_string())
    };
    let d = dir.to_str().expect("utf-8");
    assert_eq!(status(&[]), None);
    assert_eq!(status(&[("BACKUP_DIR", d)]).as_deref(), Some("warn"));
    let old = dir.join("gleh-old.db");
    std::fs::write(&old, b"x").expect("write");
    let two_days = std::time::SystemTime::now() - Duration::from_secs(2 * 86400);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .and_then(|f| f.set_modified(two_days))
        .expect("set mtime");
    assert_eq!(status(&[("BACKUP_DIR", d)]).as_deref(), Some("warn"));
    std::fs::write(dir.join("gleh-new.db"), b"x").expect("write");
    assert_eq!(status(&[("BACKUP_DIR", d)]).as_deref(), Some("pass"));
}

/// On a fresh database in development or test mode `gleh backup` migrates first, as every
/// command that needs the schema does, and the copy passes its check.
#[tokio::test]
async fn backup_of_a_fresh_database_migrates_first() {
    let db = TestDb::new(Backend::Sqlite).await;
    let file = db.dir().join("fresh-backup.db");
    let out = run(
        &db.dir(),
        &env_vec(&[("DATABASE_URL", &db.url)]),
        &["backup", file.to_str().expect("utf-8")],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("is good"), "{stdout}");
}
