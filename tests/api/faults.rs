//! Faults survived (issue 12 point 4), each driven against the real binary under load:
//!
//! - SIGKILL in the middle of a write load (registrations, logins, progress, notes, avatar
//!   uploads): after a restart on the same data, `PRAGMA integrity_check` is `ok`, no
//!   half-written row and no orphan avatar row exists (every stored picture is its
//!   account's current one, every account's picture is stored), every acknowledged (2xx)
//!   write is there, and the sessions issued before the kill still work. On SQLite and
//!   PostgreSQL.
//! - PostgreSQL stopped in the middle of a load (a private cluster this test starts with
//!   `initdb`/`pg_ctl`, never the machine's shared one): every request answers 503 within
//!   5 s and `/health/deep` names the database; PostgreSQL back, the service is back within
//!   5 s without restarting the hub.
//! - The disk full (SQLite and `DATA_DIR` on a small tmpfs this test mounts): writes, avatar
//!   uploads among them, answer 507 with a clear JSON error and one log line each, reads
//!   keep working, nothing is corrupted, and the service is back when space returns.
//! - `LOG_DIR` unwritable at start and vanishing while running: the hub keeps serving and
//!   says so on stderr. `DATA_DIR` unwritable or unreachable: nothing fails, avatar uploads
//!   included (their bytes are in the database); the start logs that the folder an older
//!   version kept avatars in cannot be read.
//!
//! Mounting needs root; where the test cannot mount (or finds no PostgreSQL binaries) it
//! says so and skips, except under CI, where it fails.

use std::{
    collections::{HashMap, HashSet},
    io::Write as _,
    path::{Path, PathBuf},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::both_backends;
use crate::helpers::{
    Backend, Client, PW, Part, Resp, Server, TestDb, free_port, logged_in, multipart,
    multipart_type, new_user_with_token, start,
};

/// The designed answer to a full disk (src/http/error.rs).
const STORAGE_FULL: &str = "The server is out of storage space; try again later.";
const STATUSES: [&str; 3] = ["Not Started", "In Progress", "Completed"];

both_backends!(sigkill_during_writes);

// ---------------------------------------------------------------------------------------
// A minimal client for the load: every failure is a value (a killed server must not panic
// a task half way through reading a body), one session cookie.
// ---------------------------------------------------------------------------------------

#[derive(Clone)]
struct Raw {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
    token: Option<String>,
}

struct Answer {
    status: StatusCode,
    body: String,
    set_cookie: Option<String>,
}

impl Raw {
    fn new(base: &str) -> Raw {
        Raw {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
            cookie: None,
            token: None,
        }
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Result<Answer, reqwest::Error> {
        let mut rb = rb;
        if let Some(c) = &self.cookie {
            rb = rb.header("cookie", c);
        }
        if let Some(t) = &self.token {
            rb = rb.header("x-csrftoken", t);
        }
        let res = rb.send().await?;
        let status = res.status();
        let set_cookie = res
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        let body = res.text().await?;
        Ok(Answer {
            status,
            body,
            set_cookie,
        })
    }

    async fn get(&self, path: &str) -> Result<Answer, reqwest::Error> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    async fn post_json(&self, path: &str, v: &Value) -> Result<Answer, reqwest::Error> {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .body(v.to_string()),
        )
        .await
    }

    async fn upload(&self, png: &[u8]) -> Result<Answer, reqwest::Error> {
        let body = multipart(&[Part {
            name: "avatar",
            filename: Some("me.png"),
            data: png,
        }]);
        self.send(
            self.http
                .post(format!("{}/api/profile/avatar", self.base))
                .header("content-type", multipart_type())
                .body(body),
        )
        .await
    }

    /// Registers and logs in `name`; `Ok(false)` when the server answered but refused.
    async fn join(&mut self, name: &str) -> Result<bool, reqwest::Error> {
        let body = json!({"username": name, "password": PW});
        let r = self.post_json("/api/register", &body).await?;
        if !r.status.is_success() {
            return Ok(false);
        }
        let r = self.post_json("/api/login", &body).await?;
        let Some(cookie) = r.set_cookie.filter(|_| r.status == StatusCode::OK) else {
            return Ok(false);
        };
        self.cookie = Some(cookie);
        let r = self.get("/csrf-token").await?;
        let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        self.token = v["csrf_token"].as_str().map(str::to_string);
        Ok(self.token.is_some())
    }
}

fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(24, 24, |x, y| {
        image::Rgb([seed, (x * 10) as u8, (y * 10) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// A value written for one key: the last acknowledged one and, when the kill came while a
/// write was in flight, the one that may or may not have committed.
#[derive(Clone, Debug, Default)]
struct Written {
    acked: Option<String>,
    in_flight: Option<String>,
}

impl Written {
    /// Is `stored` a value the store may hold after the kill?
    fn allows(&self, stored: Option<&str>) -> bool {
        let ok = |v: &Option<String>| v.as_deref() == stored;
        ok(&self.acked) || (self.in_flight.is_some() && ok(&self.in_flight))
    }
}

/// What one load task had acknowledged when the server died.
#[derive(Default)]
struct Record {
    /// name → the session cookie it was given.
    users: Vec<(String, String)>,
    /// A registration that was in flight at the kill (it may or may not exist).
    maybe_user: Option<String>,
    progress: HashMap<(String, String), Written>,
    notes: HashMap<(String, String), Written>,
    /// name → avatar URL acknowledged (and whether an upload was in flight).
    avatars: HashMap<String, Written>,
}

/// One task: new users one after another, each doing a few writes of every kind, until a
/// request fails (the server was killed) or `stop`.
async fn writer(base: String, task: usize, courses: Vec<String>, stop: Arc<AtomicBool>) -> Record {
    let mut rec = Record::default();
    let mut n = 0;
    'users: while !stop.load(Ordering::Relaxed) {
        n += 1;
        let name = format!("kill{task}x{n}");
        let mut c = Raw::new(&base);
        rec.maybe_user = Some(name.clone());
        match c.join(&name).await {
            Ok(true) => {}
            Ok(false) => panic!("registration of {name} refused while the server was up"),
            Err(_) => break,
        }
        rec.maybe_user = None;
        let cookie = c.cookie.clone().unwrap_or_default();
        rec.users.push((name.clone(), cookie));
        for step in 0..6usize {
            if stop.load(Ordering::Relaxed) {
                break 'users;
            }
            let course = courses[(task + step) % courses.len()].clone();
            let key = (name.clone(), course.clone());
            match step % 3 {
                0 => {
                    let status = STATUSES[(n + step) % 3].to_string();
                    let w = rec.progress.entry(key).or_default();
                    w.in_flight = Some(status.clone());
                    let body = json!({"course_uid": course, "status": status});
                    match c.post_json("/api/course/progress", &body).await {
                        Ok(r) => {
                            assert_eq!(r.status, StatusCode::OK, "progress: {}", r.body);
                            w.acked = w.in_flight.take();
                        }
                        Err(_) => break 'users,
                    }
                }
                1 => {
                    let content = format!("note {task}-{n}-{step} {}", "x".repeat(500));
                    let w = rec.notes.entry(key).or_default();
                    w.in_flight = Some(content.clone());
                    let body = json!({"course_uid": course, "content": content});
                    match c.post_json("/api/course/note", &body).await {
                        Ok(r) => {
                            assert_eq!(r.status, StatusCode::OK, "note: {}", r.body);
                            w.acked = w.in_flight.take();
                        }
                        Err(_) => break 'users,
                    }
                }
                _ => {
                    let w = rec.avatars.entry(name.clone()).or_default();
                    w.in_flight = Some(String::new());
                    match c.upload(&png((task * 31 + n * 7 + step) as u8)).await {
                        Ok(r) => {
                            assert_eq!(r.status, StatusCode::OK, "avatar: {}", r.body);
                            let v: Value = serde_json::from_str(&r.body).expect("json");
                            w.acked = v["avatar_url"].as_str().map(str::to_string);
                            w.in_flight = None;
                        }
                        Err(_) => break 'users,
                    }
                }
            }
        }
    }
    rec
}

fn sigkill(pid: u32) {
    // SAFETY: kill(2) on the child this test spawned; no memory is involved.
    let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    assert_eq!(rc, 0, "kill -KILL {pid}");
}

async fn course_uids(c: &mut Client) -> Vec<String> {
    let r = c.get("/api/content").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let uids: Vec<String> = r.json()["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter_map(|e| e["uid"].as_str().map(str::to_string))
        .collect();
    assert!(uids.len() >= 2, "the sample catalog has courses: {uids:?}");
    uids
}

/// Rows as (username, course uid, text) from `course_progress` or `course_notes`.
async fn rows(db: &TestDb, table: &str, column: &str) -> HashMap<(String, String), String> {
    let pool = db.pool().await;
    let sql = format!(
        "SELECT u.username, c.uid, t.{column} AS v FROM {table} t \
         JOIN users u ON u.id = t.user_id JOIN courses c ON c.id = t.course_id"
    );
    let out = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&pool)
        .await
        .expect("read rows")
        .into_iter()
        .map(|r| {
            (
                (r.get::<String, _>("username"), r.get::<String, _>("uid")),
                r.get::<String, _>("v"),
            )
        })
        .collect();
    pool.close().await;
    out
}

async fn sigkill_during_writes(backend: Backend) {
    let data = tempfile::tempdir().expect("tempdir");
    let data_dir = data.path().to_string_lossy().into_owned();
    let env = [
        ("DATA_DIR", data_dir.as_str()),
        ("AUTH_RATE_LIMIT", "100000"),
    ];
    let s = start(backend, &env).await;
    let courses = {
        let (mut c, _) = new_user_with_token(&s, "reader").await;
        course_uids(&mut c).await
    };

    // Eight writers; the kill comes at a moment unrelated to any one of them.
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..8)
        .map(|t| tokio::spawn(writer(s.base.clone(), t, courses.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    sigkill(s.pid());
    let mut recs = Vec::new();
    for t in tasks {
        recs.push(t.await.expect("writer task"));
    }
    stop.store(true, Ordering::Relaxed);
    let db = s.stop();
    let acked_users: usize = recs.iter().map(|r| r.users.len()).sum();
    let acked_writes: usize = recs
        .iter()
        .map(|r| r.progress.len() + r.notes.len() + r.avatars.len())
        .sum();
    assert!(
        acked_users >= 8 && acked_writes >= 8,
        "the load was running when the server was killed ({acked_users} users, {acked_writes} keys written)"
    );
    eprintln!("sigkill: {acked_users} users and {acked_writes} keys acknowledged before the kill");

    // The database itself, before the server touches it again.
    if backend == Backend::Sqlite {
        let pool = db.pool().await;
        let check: String = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&pool)
            .await
            .expect("integrity_check")
            .get(0);
        assert_eq!(check, "ok");
        let fk = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&pool)
            .await
            .expect("foreign_key_check");
        assert!(fk.is_empty(), "{} rows break a foreign key", fk.len());
        pool.close().await;
    }

    let s = Server::start_on(db, &env).await;

    // No half-written row: every user has a name and a hash that verifies (it logs in);
    // every progress and note row is one of the values sent for its key.
    let progress = rows(&s.db, "course_progress", "status").await;
    let notes = rows(&s.db, "course_notes", "content").await;
    let known: HashSet<String> = recs
        .iter()
        .flat_map(|r| {
            r.users
                .iter()
                .map(|u| u.0.clone())
                .chain(r.maybe_user.clone())
        })
        .chain(["reader".to_string()])
        .collect();
    let pool = s.db.pool().await;
    let users: Vec<(String, String, String)> =
        sqlx::query("SELECT username, password_hash, avatar FROM users")
            .fetch_all(&pool)
            .await
            .expect("users")
            .into_iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
    pool.close().await;
    for (name, hash, _) in &users {
        assert!(known.contains(name), "unexpected user {name}");
        assert!(hash.starts_with("$argon2id$"), "{name}'s hash is not whole");
    }
    for rec in &recs {
        for (key, w) in &rec.progress {
            let stored = progress.get(key).map(String::as_str);
            assert!(
                w.allows(stored),
                "progress {key:?}: stored {stored:?}, sent {w:?}"
            );
        }
        for (key, w) in &rec.notes {
            let stored = notes.get(key).map(String::as_str);
            assert!(
                w.allows(stored),
                "note {key:?}: stored {stored:?}, sent {w:?}"
            );
        }
    }
    for key in progress.keys().chain(notes.keys()) {
        assert!(
            recs.iter()
                .any(|r| r.progress.contains_key(key) || r.notes.contains_key(key)),
            "a row nobody wrote: {key:?}"
        );
    }

    // No orphan avatar row: every stored picture is the current one of the account it
    // belongs to (an upload killed half way left nothing, a replaced picture is gone), and
    // every account's picture is stored. Nothing was written under DATA_DIR.
    let named: HashSet<&str> = users
        .iter()
        .map(|u| u.2.as_str())
        .filter(|a| !a.is_empty())
        .collect();
    let pool = s.db.pool().await;
    let stored: Vec<(String, String)> = sqlx::query(
        "SELECT a.name, COALESCE(u.avatar, '') AS named FROM avatars a \
         LEFT JOIN users u ON u.id = a.user_id",
    )
    .fetch_all(&pool)
    .await
    .expect("avatars")
    .into_iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    pool.close().await;
    for (name, current) in &stored {
        assert_eq!(name, current, "orphan avatar row {name}");
    }
    let stored: HashSet<&str> = stored.iter().map(|(n, _)| n.as_str()).collect();
    for a in &named {
        assert!(stored.contains(a), "avatar {a} is named but not stored");
    }
    let written: Vec<_> = std::fs::read_dir(data.path())
        .expect("DATA_DIR")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert!(written.is_empty(), "written under DATA_DIR: {written:?}");

    // Every acknowledged write is there, and the sessions issued before the kill work.
    let mut checked_sessions = 0;
    for rec in &recs {
        for (name, cookie) in &rec.users {
            let mut c = Raw::new(&s.base);
            c.cookie = Some(cookie.clone());
            let r = c.get("/api/check_session").await.expect("check_session");
            let v: Value = serde_json::from_str(&r.body).expect("json");
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert_eq!(
                v["is_authenticated"], true,
                "{name}'s session after the restart: {}",
                r.body
            );
            checked_sessions += 1;
            if let Some(w) = rec.avatars.get(name) {
                let r = c.get("/api/profile").await.expect("profile");
                let v: Value = serde_json::from_str(&r.body).expect("json");
                let url = v["user"]["avatar"].as_str().unwrap_or_default().to_string();
                let uploaded = url.starts_with("/avatars/");
                let ok = match &w.acked {
                    Some(acked) => *acked == url || (w.in_flight.is_some() && uploaded),
                    None => !uploaded || w.in_flight.is_some(),
                };
                assert!(ok, "{name}'s avatar: {url}, sent {w:?}");
                if uploaded {
                    let r = c.get(&url).await.expect("avatar");
                    assert_eq!(r.status, StatusCode::OK, "{name}'s avatar {url} is served");
                }
            }
        }
    }
    assert_eq!(checked_sessions, acked_users);
    // A user registered before the kill logs in with their password.
    let first = &recs[0].users[0].0;
    logged_in(&s, first, PW).await;
}

// ---------------------------------------------------------------------------------------
// PostgreSQL stopped and started again
// ---------------------------------------------------------------------------------------

/// A private PostgreSQL cluster in a temporary folder, owned by the `postgres` user (initdb
/// refuses root), on a random port; stopped and removed on drop.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop()
}

fn skip(why: &str) -> bool {
    if std::env::var_os("CI").is_some() {
        panic!("{why}, and CI is set");
    }
    eprintln!("skipping: {why}");
    true
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let bin = pg_bin()?;
        let dir = tempfile::Builder::new()
            .prefix("gleh-pg-")
            .tempdir_in("/tmp")
            .ok()?;
        let owner = if is_root() {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return None;
            }
            Some("postgres")
        } else {
            None
        };
        let c = Cluster {
            dir,
            bin,
            port: free_port(),
        };
        let data = c.data();
        let out = c
            .run(
                owner,
                "initdb",
                &["-A", "trust", "-U", "postgres", "-E", "UTF8", "-D", &data],
            )
            .ok()?;
        if !out.status.success() {
            eprintln!("initdb: {}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        c.ctl_start().then_some(c)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(
        &self,
        owner: Option<&str>,
        tool: &str,
        args: &[&str],
    ) -> std::io::Result<std::process::Output> {
        let exe = self.bin.join(tool);
        let mut cmd = match owner {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        cmd.args(args).current_dir(self.dir.path()).output()
    }

    fn owner(&self) -> Option<&'static str> {
        is_root().then_some("postgres")
    }

    fn ctl_start(&self) -> bool {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("pg.log").display().to_string();
        let data = self.data();
        let out = self.run(
            self.owner(),
            "pg_ctl",
            &[
                "-D", &data, "-o", &opts, "-l", &log, "-w", "-t", "30", "start",
            ],
        );
        match out {
            Ok(o) if o.status.success() => true,
            Ok(o) => {
                eprintln!(
                    "pg_ctl start: {}{}",
                    String::from_utf8_lossy(&o.stdout),
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                false
            }
            Err(e) => {
                eprintln!("pg_ctl start: {e}");
                false
            }
        }
    }

    fn ctl_stop(&self) {
        let data = self.data();
        let out = self
            .run(
                self.owner(),
                "pg_ctl",
                &["-D", &data, "-m", "fast", "-w", "stop"],
            )
            .expect("pg_ctl stop");
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run(
            self.owner(),
            "pg_ctl",
            &["-D", &data, "-m", "immediate", "-w", "stop"],
        );
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// One request's outcome in the background load.
struct Sample {
    sent: Instant,
    took: Duration,
    status: Option<StatusCode>,
    body: String,
}

/// Reads and writes as one logged-in user, until `stop`; every outcome recorded.
async fn steady_load(c: Raw, course: String, stop: Arc<AtomicBool>) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let sent = Instant::now();
        let r = match i % 3 {
            0 => c.get("/api/check_session").await,
            1 => c.get("/api/profile").await,
            _ => {
                let body = json!({"course_uid": course, "status": STATUSES[i % 3]});
                c.post_json("/api/course/progress", &body).await
            }
        };
        let (status, body) = match r {
            Ok(a) => (Some(a.status), a.body),
            Err(e) => (None, e.to_string()),
        };
        out.push(Sample {
            sent,
            took: sent.elapsed(),
            status,
            body,
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_back() {
    let Some(pg) = Cluster::start() else {
        skip("no private PostgreSQL cluster could be started (initdb/pg_ctl)");
        return;
    };
    let mut db = TestDb::new(Backend::Sqlite).await;
    db.url = pg.url();
    let s = Server::start_on(db, &[("AUTH_RATE_LIMIT", "1000")]).await;
    let (mut c, token) = new_user_with_token(&s, "steady").await;
    let course = course_uids(&mut c).await.remove(0);
    let mut raw = Raw::new(&s.base);
    raw.cookie = c.session().map(|v| format!("session={v}"));
    raw.token = Some(token);

    let stop = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..4)
        .map(|_| tokio::spawn(steady_load(raw.clone(), course.clone(), stop.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;

    pg.ctl_stop();
    let stopped = Instant::now();
    // /health/deep names the database while it is down, within 5 s.
    let health = Raw::new(&s.base);
    let sent = Instant::now();
    let r = health.get("/health/deep").await.expect("health/deep");
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "health/deep took {:?}",
        sent.elapsed()
    );
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["status"], "unhealthy", "{}", r.body);
    assert_eq!(
        v["components"]["database"]["status"], "unhealthy",
        "{}",
        r.body
    );
    tokio::time::sleep(Duration::from_secs(4)).await;

    assert!(pg.ctl_start(), "PostgreSQL did not start again");
    let back = Instant::now();
    // Back within 5 s of PostgreSQL accepting connections, the hub never restarted.
    let deadline = back + Duration::from_secs(5);
    loop {
        let r = health.get("/health/deep").await.expect("health/deep");
        if r.status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not back 5 s after PostgreSQL: {}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for t in load {
        samples.extend(t.await.expect("load task"));
    }

    let mut down_503 = 0;
    for x in &samples {
        let status = x
            .status
            .unwrap_or_else(|| panic!("a request failed at the socket: {}", x.body));
        assert!(
            x.took < Duration::from_secs(5),
            "a request took {:?} ({status})",
            x.took
        );
        assert!(
            status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}: {}",
            x.body
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            let v: Value = serde_json::from_str(&x.body).expect("503 is JSON");
            assert!(
                v["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{}",
                x.body
            );
            down_503 += 1;
        }
        // Sent while the database was down: 503 — once the fast shutdown has finished and
        // the session cache has seen its poll fail (at most its 500 ms freshness after the
        // last good poll, docs/security.md "The session cache"), so from 1 s on.
        if x.sent > stopped + Duration::from_secs(1) && x.sent + x.took < back {
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{}", x.body);
        }
        // Sent a second after the service was back: 200.
        if x.sent > deadline {
            assert_eq!(status, StatusCode::OK, "{}", x.body);
        }
    }
    assert!(down_503 > 0, "no request saw the database down");
    let after = samples
        .iter()
        .filter(|x| x.sent > back && x.status == Some(StatusCode::OK))
        .count();
    assert!(after > 0, "no request succeeded after PostgreSQL came back");
    // The session survived (it lives in PostgreSQL).
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.json()["is_authenticated"], true, "{}", r.body);
}

// ---------------------------------------------------------------------------------------
// The disk full
// ---------------------------------------------------------------------------------------

/// A tmpfs of `size` mounted on a new folder; unmounted (lazily) on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        if !is_root() {
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, mode: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(self.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mount -o remount,{mode}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system of `path` with one file until it refuses more; returns it.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0xA5u8; 64 * 1024];
    let mut small = false;
    loop {
        let res = if small {
            f.write_all(&chunk[..512])
        } else {
            f.write_all(&chunk)
        };
        match res {
            Ok(()) => {}
            Err(_) if !small => small = true,
            Err(_) => break,
        }
    }
    let _ = f.sync_all();
    path
}

/// The log lines of one request (by `x-request-id`) other than its access line.
/// The log lines of one request (its access line aside). The log is written by a
/// background writer, so a line may land just after the answer: wait up to 2 s for the
/// first, then a little more for any second one.
async fn lines_of(s: &Server, request_id: &str) -> Vec<Value> {
    let read = || -> Vec<Value> {
        s.log_events()
            .into_iter()
            .filter(|v| v["request_id"] == request_id && v["event"] != "request")
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while read().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    read()
}

async fn note(c: &mut Client, token: &str, uid: &str, text: &str) -> Result<Resp, reqwest::Error> {
    c.post("/api/course/note")
        .header("X-CSRFToken", token)
        .json(&json!({"course_uid": uid, "content": text}))
        .try_send()
        .await
}

async fn up(c: &mut Client, token: &str, bytes: Vec<u8>) -> Result<Resp, reqwest::Error> {
    let body = multipart(&[Part {
        name: "avatar",
        filename: Some("a.png"),
        data: &bytes,
    }]);
    c.post("/api/profile/avatar")
        .header("X-CSRFToken", token)
        .body(&multipart_type(), body)
        .try_send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_full() {
    let Some(fs) = Tmpfs::mount("6m") else {
        skip("cannot mount a tmpfs (needs root)");
        return;
    };
    let db_path = fs.path().join("gleh.db");
    let data_dir = fs.path().join("data");
    let mut db = TestDb::new(Backend::Sqlite).await;
    db.url = format!("sqlite://{}", db_path.display());
    let data = data_dir.display().to_string();
    let s = Server::start_on(db, &[("DATA_DIR", &data), ("AUTH_RATE_LIMIT", "1000")]).await;
    let (mut c, token) = new_user_with_token(&s, "filler").await;
    let courses = course_uids(&mut c).await;
    let r = note(&mut c, &token, &courses[0], "before the disk filled")
        .await
        .expect("note");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = up(&mut c, &token, png(1)).await.expect("upload");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before_avatar = r.json()["avatar_url"]
        .as_str()
        .expect("avatar_url")
        .to_string();

    let filler = fill(fs.path());

    // Writes: notes of 20,000 characters on every course until the database needs a page
    // it cannot get; each answer is a 200 (space left in a page) or the designed 507.
    let mut full = None;
    'fill: for round in 0..20 {
        for uid in &courses {
            let text = format!("{round} {}", "n".repeat(19_990));
            let r = note(&mut c, &token, uid, &text)
                .await
                .expect("note while full");
            if r.status == StatusCode::OK {
                continue;
            }
            assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.body);
            assert_eq!(r.json(), json!({"error": STORAGE_FULL}));
            full = Some(r);
            break 'fill;
        }
    }
    let full = full.expect("no write was refused on a full disk");
    let id = full.header("x-request-id").expect("request id");
    let lines = lines_of(&s, &id).await;
    assert_eq!(
        lines.len(),
        1,
        "one log line for the refused write: {lines:?}"
    );
    assert_eq!(lines[0]["level"], "ERROR", "{lines:?}");

    // An avatar cannot be stored either: the same clear answer, one line.
    let r = up(&mut c, &token, png(2)).await.expect("upload while full");
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.body);
    assert_eq!(r.json(), json!({"error": STORAGE_FULL}));
    let id = r.header("x-request-id").expect("request id");
    let lines = lines_of(&s, &id).await;
    assert_eq!(lines.len(), 1, "{lines:?}");

    // Reads keep working, and the avatar stored before is still served.
    for path in [
        "/api/content",
        "/api/check_session",
        "/api/profile",
        &before_avatar,
    ] {
        let r = c.get(path).send().await;
        assert_eq!(r.status, StatusCode::OK, "{path} while full: {}", r.body);
    }

    // Space back: the service is back, no restart.
    std::fs::remove_file(&filler).expect("remove filler");
    let r = note(&mut c, &token, &courses[0], "after the disk was freed")
        .await
        .expect("note");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = up(&mut c, &token, png(3)).await.expect("upload");
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .get(&format!("/api/course/{}/note", courses[0]))
        .send()
        .await;
    assert_eq!(r.json()["content"], "after the disk was freed");

    // Nothing corrupted.
    let db = s.stop();
    let pool = db.pool().await;
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await
        .expect("integrity_check")
        .get(0);
    assert_eq!(check, "ok");
    pool.close().await;
    // Avatars are rows of that database: nothing was written under DATA_DIR.
    assert!(
        !data_dir.join("avatars").exists(),
        "an avatar file was written"
    );
    drop(db);
}

// ---------------------------------------------------------------------------------------
// LOG_DIR and DATA_DIR
// ---------------------------------------------------------------------------------------

async fn serves(s: &Server) {
    let (mut c, token) = new_user_with_token(s, &format!("u{}", free_port())).await;
    for path in ["/api/content", "/api/check_session", "/api/profile"] {
        let r = c.get(path).send().await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    let uid = course_uids(&mut c).await.remove(0);
    let r = c
        .post("/api/course/progress")
        .header("X-CSRFToken", &token)
        .json(&json!({"course_uid": uid, "status": "Completed"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_dir_unwritable_at_start() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"").expect("file");
    let log_dir = file.join("logs").display().to_string();
    let s = start(Backend::Sqlite, &[("LOG_DIR", &log_dir)]).await;
    let v = s.wait_event("log_dir_unavailable").await;
    assert_eq!(v["level"], "WARN", "{v}");
    assert_eq!(v["dir"], log_dir.as_str(), "{v}");
    serves(&s).await;
    // The access lines, which would go to access.log, are on stderr instead (written within
    // 100 ms: src/logging/access.rs).
    let count = || {
        s.log_events()
            .into_iter()
            .filter(|v| v["event"] == "request")
            .count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while count() < 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let access = count();
    assert!(access >= 4, "{access} access lines on stderr");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_dir_vanishing_while_running() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("logs");
    let log_dir = dir.display().to_string();
    let s = start(Backend::Sqlite, &[("LOG_DIR", &log_dir)]).await;
    serves(&s).await;
    assert!(dir.join("access.log").exists());
    std::fs::remove_dir_all(&dir).expect("remove LOG_DIR");
    let v = s.wait_event("log_dir_unavailable").await;
    assert_eq!(v["dir"], log_dir.as_str(), "{v}");
    serves(&s).await;
    // The hub recreates the folder and goes on writing there.
    s.wait_event("log_dir_restored").await;
    serves(&s).await;
    // Access lines are written within 100 ms (src/logging/access.rs).
    let read = || std::fs::read_to_string(dir.join("access.log")).unwrap_or_default();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while read().lines().count() < 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let access = read();
    assert!(access.lines().count() >= 4, "{access}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dir_unwritable() {
    // A path through a file (any user), then a read-only mount (root only).
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"").expect("file");
    let through_file = file.join("data").display().to_string();
    data_dir_is_not_needed(&through_file, true).await;
    match Tmpfs::mount("1m") {
        Some(fs) => {
            fs.remount("ro");
            data_dir_is_not_needed(&fs.path().display().to_string(), false).await;
        }
        None => {
            skip("cannot mount a read-only tmpfs (needs root)");
        }
    }
}

/// Nothing writes under `DATA_DIR` any more; the start only reads `DATA_DIR/avatars` for
/// the files of an older version (src/avatar/adopt.rs). With an account naming such a file,
/// a folder that cannot be read (`unreadable`: a path through a file) is one warning at
/// start; a read-only one is simply read. Either way everything works, avatar uploads
/// included.
async fn data_dir_is_not_needed(data_dir: &str, unreadable: bool) {
    let s = start(Backend::Sqlite, &[("DATA_DIR", data_dir)]).await;
    s.create_user("nodata", PW);
    // An account naming a picture an older version kept as a file, then a restart.
    let pool = s.db.pool().await;
    sqlx::query("UPDATE users SET avatar = '0123456789abcdef0123456789abcdef.png'")
        .execute(&pool)
        .await
        .expect("name a file");
    pool.close().await;
    let db = s.stop();
    let s = Server::start_on(db, &[("DATA_DIR", data_dir), ("AUTH_RATE_LIMIT", "1000")]).await;
    let warned: Vec<Value> = s
        .log_events()
        .into_iter()
        .filter(|v| v["event"] == "avatar_files_unreadable")
        .collect();
    if unreadable {
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert_eq!(warned[0]["level"], "WARN", "{warned:?}");
    } else {
        assert!(warned.is_empty(), "{warned:?}");
    }
    let mut c = logged_in(&s, "nodata", PW).await;
    let token = c.csrf().await;
    let r = c
        .post("/api/profile/avatar")
        .header("X-CSRFToken", &token)
        .body(
            &multipart_type(),
            multipart(&[Part {
                name: "avatar",
                filename: Some("a.png"),
                data: &png(9),
            }]),
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{data_dir}: {}", r.body);
    let url = r.json()["avatar_url"]
        .as_str()
        .expect("avatar_url")
        .to_string();
    assert_eq!(c.get(&url).send().await.status, StatusCode::OK);
    // Nothing else depends on DATA_DIR.
    serves(&s).await;
    let r = c.get("/api/profile").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
