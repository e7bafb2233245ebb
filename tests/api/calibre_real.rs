//! E-books against a real Calibre-Web (issue 10, points 6 and 7; docs/design.md
//! "E-books"). One Calibre-Web for the whole test: `calibredb` (Debian's `calibre`) builds a
//! library from eight EPUBs that `calibre_real.py` writes (title, author, a subject, a PNG
//! cover); Calibre-Web (`cps` from the venv at `GLEH_CALIBRE_WEB_VENV`, default
//! /opt/calibreweb) runs on a free loopback port with three books per OPDS page and
//! reverse-proxy header login on (`X-Remote-User`). Then:
//!
//! - gleh synchronises the library through the real feed (three pages), lists every book in
//!   `/api/content`, serves a cover from `/api/calibre/cover/<n>` and the book page;
//! - real nginx runs `deploy/nginx/gleh.conf` with `deploy/nginx/calibre-web.conf` included
//!   (the harness of tests/api/nginx.rs) in front of gleh and Calibre-Web: a hub user logged
//!   in through nginx is that user in Calibre-Web, a forged `X-Remote-User: admin` gets
//!   nobody in (without a session: the hub's login; with another user's session: still that
//!   user), a hub user Calibre-Web does not know lands on Calibre-Web's own login, and after
//!   the hub's logout the old cookie no longer opens `/calibre-web/`.
//!
//! Without `calibredb` or the venv's `cps` (or nginx, curl) the test is skipped, except under
//! CI (`CI` set), where it fails (`.ci/run` installs them).

use std::{
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, PW, SECRET, Server, free_port, tool};
use crate::nginx::{
    CLIENT_IP, PROXY_IP, Ports, curl, ipv6_loopback, render_main, render_site, replace, start_nginx,
};

const HELPER: &str = include_str!("calibre_real.py");
/// Calibre-Web's account for the hub's HTTP Basic calls (set with `cps -s`, which checks
/// Calibre-Web's password rules; the default admin123 does not pass them).
const CW_ADMIN: &str = "admin";
const CW_PASSWORD: &str = "Gleh-Calibre-7x!";
const BOOKS: usize = 8;
const PER_PAGE: usize = 3;

/// The venv holding Calibre-Web (`bin/cps`, `bin/python`).
fn venv() -> PathBuf {
    std::env::var_os("GLEH_CALIBRE_WEB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/calibreweb"))
}

/// `calibredb` and the venv's `cps`, or `None` (skip; never under CI).
fn calibre_available() -> Option<(PathBuf, PathBuf)> {
    let cps = venv().join("bin/cps");
    let calibredb = tool("calibredb", "the real Calibre-Web test")?;
    if cps.is_file() {
        return Some((calibredb, venv()));
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{} is missing and CI is set (.ci/run: python3 -m venv {v} && {v}/bin/pip install calibreweb)",
            cps.display(),
            v = venv().display()
        );
    }
    eprintln!(
        "{} is missing: skipping the real Calibre-Web test",
        cps.display()
    );
    None
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .env("QT_QPA_PLATFORM", "offscreen")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A running Calibre-Web in a process group of its own, killed as a group when dropped.
struct CalibreWeb {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl CalibreWeb {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("cw.log")).unwrap_or_default()
    }
}

impl Drop for CalibreWeb {
    fn drop(&mut self) {
        let pid = self.child.id() as i32;
        // The whole group: cps and anything it started.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{pid}")])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The library, Calibre-Web's settings and Calibre-Web itself, ready to answer.
fn start_calibre_web(calibredb: &Path, venv: &Path, dir: &Path, users: &[&str]) -> CalibreWeb {
    let started = Instant::now();
    let python = venv.join("bin/python");
    let helper = dir.join("calibre_real.py");
    std::fs::write(&helper, HELPER).expect("write calibre_real.py");
    let books = dir.join("books");
    run(
        Command::new(&python)
            .arg(&helper)
            .arg("books")
            .arg(&books)
            .arg(BOOKS.to_string()),
        "writing the EPUBs",
    );
    let lib = dir.join("library");
    let mut epubs: Vec<PathBuf> = std::fs::read_dir(&books)
        .expect("books dir")
        .map(|e| e.expect("entry").path())
        .collect();
    epubs.sort();
    let added = run(
        Command::new(calibredb)
            .arg("add")
            .arg("--library-path")
            .arg(&lib)
            .args(&epubs),
        "calibredb add",
    );
    assert!(added.contains("Added book ids: 1, 2, 3"), "{added}");
    // `cps -s` creates app.db (settings, users) and exits without listening anywhere.
    let app_db = dir.join("app.db");
    let cps = venv.join("bin/cps");
    run(
        Command::new(&cps)
            .arg("-p")
            .arg(&app_db)
            .arg("-o")
            .arg(dir.join("cw.log"))
            .arg("-s")
            .arg(format!("{CW_ADMIN}:{CW_PASSWORD}")),
        "cps -s (creating app.db)",
    );
    let port = free_port();
    run(
        Command::new(&python)
            .arg(&helper)
            .arg("configure")
            .arg(&app_db)
            .arg(&lib)
            .arg(port.to_string())
            .arg(PER_PAGE.to_string())
            .args(users),
        "configuring app.db",
    );
    let child = Command::new(&cps)
        .arg("-p")
        .arg(&app_db)
        .arg("-i")
        .arg("127.0.0.1")
        .arg("-o")
        .arg(dir.join("cw.log"))
        .arg("-m")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn cps");
    let mut cw = CalibreWeb {
        child,
        port,
        dir: dir.to_path_buf(),
    };
    // Ready when it accepts connections (it binds once its databases are open).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = cw.child.try_wait() {
            panic!("Calibre-Web exited ({status}):\n{}", cw.log());
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Calibre-Web did not listen:\n{}",
            cw.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "real Calibre-Web: library of {BOOKS} books and ready on port {port} in {} ms",
        started.elapsed().as_millis()
    );
    cw
}

/// `/health/deep`'s calibre_web component, polled until it is healthy with every book.
async fn wait_synchronised(s: &Server) -> Value {
    let mut c = s.client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = c.get("/health/deep").send().await.json();
        let cw = &v["components"]["calibre_web"];
        if cw["status"] == "healthy" && cw["books"] == BOOKS {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "never synchronised: {v}\n{:?}",
            s.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `name` shown in Calibre-Web's top bar (`<span class="hidden-sm">NAME</span>` of the
/// account link), if the page is one of Calibre-Web's signed-in pages.
fn calibre_user(body: &str) -> Option<String> {
    let at = body.find("id=\"top_user\"")?;
    let rest = &body[at..];
    let span = rest.find("hidden-sm\">")? + "hidden-sm\">".len();
    let end = rest[span..].find('<')?;
    Some(rest[span..span + end].trim().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_calibre_web_library_and_single_sign_on() {
    let Some((calibredb, venv)) = calibre_available() else {
        return;
    };
    let what = "the real Calibre-Web test";
    let (Some(nginx), Some(curl_bin)) = (tool("nginx", what), tool("curl", what)) else {
        return;
    };
    let t0 = Instant::now();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().to_path_buf();
    let cw_dir = d.join("calibre-web");
    std::fs::create_dir_all(&cw_dir).expect("calibre-web dir");
    let cw = {
        let (calibredb, venv, cw_dir) = (calibredb.clone(), venv.clone(), cw_dir.clone());
        tokio::task::spawn_blocking(move || {
            start_calibre_web(&calibredb, &venv, &cw_dir, &["reader"])
        })
        .await
        .expect("start Calibre-Web")
    };

    // gleh in production shape (as tests/api/nginx.rs runs it), reading the real feed.
    let (https, http) = (free_port(), free_port());
    let cw_url = format!("http://127.0.0.1:{}", cw.port);
    let public = format!("https://127.0.0.1:{https}");
    let trusted = format!("{PROXY_IP}/32");
    let s = Server::start(
        Backend::Sqlite,
        &[
            ("GLEH_ENV", "production"),
            ("SECRET_KEY", SECRET),
            ("SESSION_COOKIE_SECURE", "true"),
            ("TRUSTED_PROXIES", &trusted),
            ("PUBLIC_URL", &public),
            ("CALIBRE_WEB_URL", &cw_url),
            ("CALIBRE_WEB_USERNAME", CW_ADMIN),
            ("CALIBRE_WEB_PASSWORD", CW_PASSWORD),
        ],
    )
    .await;
    let sync_started = Instant::now();
    let health = wait_synchronised(&s).await;
    eprintln!(
        "gleh synchronised {BOOKS} books ({PER_PAGE} a page) in {} ms: {}",
        sync_started.elapsed().as_millis(),
        health["components"]["calibre_web"]
    );

    // Every book, from every page of the feed, in /api/content.
    let mut anon = s.client();
    let content = anon.get("/api/content").send().await.json();
    let books: Vec<&Value> = content["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter(|i| i["type"] == "ebook")
        .collect();
    assert_eq!(books.len(), BOOKS, "{content}");
    for n in 1..=BOOKS {
        let b = books
            .iter()
            .find(|b| b["uid"] == format!("calibre-{n}"))
            .unwrap_or_else(|| panic!("calibre-{n} missing: {content}"));
        assert_eq!(b["title"], format!("Real Book {n:02}"), "{b}");
        assert_eq!(b["author"], format!("Writer {n:02}"), "{b}");
        assert_eq!(b["path"], format!("/textbook/calibre-{n}"));
        assert_eq!(b["cover_path"], format!("/api/calibre/cover/{n}"));
        assert_eq!(b["reader_url"], format!("/calibre-web/read/{n}/epub"));
        let subject = if n % 2 == 1 { "Algebra" } else { "Geometry" };
        assert!(
            b["categories"]
                .as_array()
                .is_some_and(|c| c.contains(&Value::from(subject))),
            "{b}"
        );
    }
    // A cover, fetched from Calibre-Web with the hub's credentials (Calibre-Web sends JPEG).
    let c = anon.get("/api/calibre/cover/3").send().await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    let ctype = c.header("content-type").unwrap_or_default();
    assert!(ctype.starts_with("image/"), "{ctype}");
    assert!(c.header("etag").is_some());
    // The book page.
    let page = anon
        .get("/textbook/calibre-3")
        .header("accept", "text/html")
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Real Book 03") && page.body.contains("Writer 03"),
        "{}",
        page.body
    );
    eprintln!("library checks done at {} ms", t0.elapsed().as_millis());

    // nginx: gleh.conf with calibre-web.conf included, in front of gleh and Calibre-Web.
    let ck = rcgen::generate_simple_self_signed(vec![
        "platform.edu".to_string(),
        "127.0.0.1".to_string(),
    ])
    .expect("self-signed certificate");
    let (cert, key) = (d.join("cert.pem"), d.join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).expect("write cert");
    std::fs::write(&key, ck.signing_key.serialize_pem()).expect("write key");
    let upstream = s.port();
    let ports = Ports {
        https,
        http,
        upstream,
        ipv6: ipv6_loopback(https) && ipv6_loopback(http),
    };
    let mut site = render_site(&ports, &cert, &key);
    let snippet_path = d.join("gleh-calibre-web.conf");
    // As the snippet's header says: the upstream beside gleh_app, the include inside the
    // HTTPS server. Calibre-Web is reached from 127.0.0.1 (in its trusted proxies).
    let mut snippet = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/deploy/nginx/calibre-web.conf"
    ))
    .expect("read deploy/nginx/calibre-web.conf");
    // The cookie map exactly as the snippet's header gives it.
    let map: String = snippet
        .lines()
        .skip_while(|l| !l.starts_with("#     map $http_cookie"))
        .take_while(|l| l.starts_with("#     "))
        .map(|l| format!("{}\n", &l["#     ".len()..]))
        .collect();
    assert!(
        map.ends_with("}\n"),
        "no cookie map in the snippet's header: {map}"
    );
    replace(
        &mut site,
        "upstream gleh_app {",
        &format!(
            "upstream calibre_web {{ server 127.0.0.1:{}; keepalive 8; }}\n{map}\nupstream gleh_app {{",
            cw.port
        ),
        1,
    );
    // A probe of what the map leaves of a request's cookies for Calibre-Web.
    replace(
        &mut site,
        "    location / {",
        &format!(
            "    include {};\n\n    location = /_probe_calibre_cookie {{ return 200 \"[$gleh_calibre_cookie]\"; }}\n\n    location / {{",
            snippet_path.display()
        ),
        1,
    );
    assert!(snippet.contains("proxy_set_header Cookie $gleh_calibre_cookie;"));
    // gleh's auth check from nginx's address, as for every other request (TRUSTED_PROXIES).
    replace(
        &mut snippet,
        "proxy_pass http://gleh_app/auth/check;",
        &format!("proxy_pass http://gleh_app/auth/check;\n    proxy_bind {PROXY_IP};"),
        1,
    );
    std::fs::write(&snippet_path, snippet).expect("write the snippet");
    std::fs::write(d.join("nginx.conf"), render_main(&d, &site)).expect("write nginx.conf");
    let ngx = start_nginx(&nginx, &d, &ports);
    let run_curl = |args: &[&str]| curl(&curl_bin, &d, args);
    let tls = format!("https://127.0.0.1:{https}");
    let cw_home = format!("{tls}/calibre-web/");

    // The hub's session cookie never goes on to Calibre-Web; its other cookies do.
    for (sent, kept) in [
        ("a=1; __Host-session=SECRET; session=cw", "a=1; session=cw"),
        ("__Host-session=SECRET; session=cw", "session=cw"),
        ("session=cw; __Host-session=SECRET", "session=cw; "),
        ("__Host-session=SECRET", ""),
        ("session=cw", "session=cw"),
    ] {
        let r = run_curl(&[
            "-H",
            &format!("Cookie: {sent}"),
            &format!("{tls}/_probe_calibre_cookie"),
        ]);
        assert_eq!(r.body, format!("[{kept}]"), "{sent}");
    }

    // No session: the hub's login, with the way back; a forged header changes nothing.
    for forged in [None, Some("X-Remote-User: admin")] {
        let mut args = vec![cw_home.as_str()];
        if let Some(h) = forged {
            args = vec!["-H", h, cw_home.as_str()];
        }
        let r = run_curl(&args);
        assert_eq!(r.status, 302, "{forged:?}: {}\n{}", r.body, ngx.error_log());
        assert_eq!(
            r.header("location"),
            Some(format!("{tls}/login?next=/calibre-web/").as_str()),
            "{forged:?}"
        );
        assert!(calibre_user(&r.body).is_none());
    }
    // Calibre-Web itself, asked directly with the forged header from a non-proxy address,
    // ignores it (its trusted-proxy list is 127.0.0.1 and ::1).
    let direct = format!("http://127.0.0.1:{}/", cw.port);
    let r = run_curl(&["-H", "X-Remote-User: admin", &direct]);
    assert_eq!(r.status, 302, "direct from {CLIENT_IP}: {}", r.body);
    assert!(r.header("location").unwrap_or("").contains("/login"));

    // A hub user logged in through nginx is that user in Calibre-Web.
    s.create_user("reader", PW);
    s.create_user("stranger", PW);
    let login = |user: &str| {
        let r = run_curl(&[
            "-X",
            "POST",
            &format!("{tls}/api/login"),
            "-H",
            "Content-Type: application/json",
            "-d",
            &format!(r#"{{"username": "{user}", "password": "{PW}"}}"#),
        ]);
        assert_eq!(r.status, 200, "login {user}: {}", r.body);
        let set = r.header("set-cookie").expect("Set-Cookie").to_string();
        set.split(';').next().expect("cookie pair").to_string()
    };
    let cookie = login("reader");
    let r = run_curl(&["-b", &cookie, &cw_home]);
    assert_eq!(r.status, 200, "{}\n{}", r.body, cw.log());
    assert_eq!(calibre_user(&r.body).as_deref(), Some("reader"));
    assert!(
        r.body.contains("/calibre-web/"),
        "Calibre-Web's links carry the prefix"
    );
    // Calibre-Web's cookies stay under /calibre-web/, away from the hub's.
    for sc in r.all("set-cookie") {
        assert!(sc.contains("Path=/calibre-web"), "{sc}");
    }
    // The book pages too (the hub's Read button leads to /calibre-web/read/<n>/epub).
    let r = run_curl(&["-b", &cookie, &format!("{tls}/calibre-web/book/3")]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Real Book 03"));
    let r = run_curl(&["-b", &cookie, &format!("{tls}/calibre-web/read/3/epub")]);
    assert_eq!(r.status, 200, "the reader: {}", r.body);
    // With reader's session, a forged admin header is overwritten: still reader, no admin page.
    let r = run_curl(&["-b", &cookie, "-H", "X-Remote-User: admin", &cw_home]);
    assert_eq!(calibre_user(&r.body).as_deref(), Some("reader"));
    let r = run_curl(&[
        "-b",
        &cookie,
        "-H",
        "X-Remote-User: admin",
        &format!("{tls}/calibre-web/admin/view"),
    ]);
    assert_ne!(r.status, 200, "reader reached Calibre-Web's admin page");

    // A hub user Calibre-Web does not know: Calibre-Web does not create one, it shows its
    // own login (under the prefix); nobody is signed in.
    let stranger = login("stranger");
    let r = run_curl(&["-b", &stranger, &cw_home]);
    assert_eq!(r.status, 302, "{}", r.body);
    // Over https: Calibre-Web learns the scheme from X-Scheme, else it would send the
    // browser to http://.
    let to = r.header("location").unwrap_or("");
    assert!(
        to.starts_with(&format!("{tls}/calibre-web/login")) || to.starts_with("/calibre-web/login"),
        "{:?}",
        r.headers
    );
    // Its login form sets Calibre-Web's own session cookie: scoped to /calibre-web/, so it
    // never reaches or shadows the hub's cookie.
    let r = run_curl(&["-b", &stranger, &format!("{tls}/calibre-web/login")]);
    assert_eq!(r.status, 200, "{}", r.body);
    let set = r.all("set-cookie");
    eprintln!("Calibre-Web's login page sets: {set:?}");
    assert!(!set.is_empty(), "{:?}", r.headers);
    for sc in set {
        assert!(sc.contains("Path=/calibre-web"), "{sc}");
        assert!(sc.to_ascii_lowercase().contains("; secure"), "{sc}");
    }

    // Logout through nginx; the old cookie no longer opens Calibre-Web.
    let r = run_curl(&["-b", &cookie, &format!("{tls}/csrf-token")]);
    let token = r.json()["csrf_token"]
        .as_str()
        .expect("csrf_token")
        .to_string();
    let r = run_curl(&[
        "-X",
        "POST",
        "-b",
        &cookie,
        "-H",
        &format!("X-CSRFToken: {token}"),
        "-H",
        &format!("Origin: {tls}"),
        &format!("{tls}/api/logout"),
    ]);
    assert_eq!(r.status, 200, "logout: {}", r.body);
    let r = run_curl(&["-b", &cookie, &cw_home]);
    assert_eq!(r.status, 302, "after logout: {}", r.body);
    assert_eq!(
        r.header("location"),
        Some(format!("{tls}/login?next=/calibre-web/").as_str())
    );
    assert!(calibre_user(&r.body).is_none());

    // No 500s, and the password never left the server.
    for l in s.logs() {
        assert!(!l.contains(CW_PASSWORD), "password in a log line");
    }
    assert!(!content.to_string().contains(CW_PASSWORD));
    eprintln!(
        "real Calibre-Web test: {} ms in all",
        t0.elapsed().as_millis()
    );
}
