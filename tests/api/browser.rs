//! The UI in a real browser (issue 5, point 6): headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`; `.ci/run` installs them). One learner's
//! journey end to end: register, log in, search and filter the catalog, open a course, set
//! progress, save a note, edit the profile, upload an avatar (and see a refused one
//! explained), change the password, check that `document.cookie` cannot see the session
//! cookie (docs/checklist.md §11 Test 3), log out, and find the profile page closed.
//!
//! Along the way every page is checked for what the CSP and keyboard users rely on (no
//! inline script or style, a label for every control, the skip link first) and, at phone
//! width, for horizontal overflow.
//!
//! Without chromium or chromedriver the test is skipped, except under CI (`CI` set), where
//! it fails. On failure a screenshot is saved to `target/browser-failures/<test>.png`.
//! Set `GLEH_BROWSER_SHOTS=<dir>` to also keep a screenshot of each step.
//!
//! The same pages' forms and filters are also checked over plain HTTP on both backends
//! (the second half of this file): catalog parameters and escaping, the profile form, the
//! avatar form's errors, and the password form's session rotation.

use std::{
    net::TcpStream,
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{
    Client, ClientBuilder, Locator,
    actions::{InputSource as _, KeyAction, KeyActions},
    elements::Element,
    key::Key,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{
    Backend, Part, Server, form_token, free_port, logged_in, multipart, multipart_type, start,
};

const CHROMIUM: &str = "/usr/bin/chromium";
const USER: &str = "tidepool_learner";
const PW: &str = "correct-horse-battery-7";
const PW2: &str = "another-horse-staple-8";
const WAIT: Duration = Duration::from_secs(15);

/// Is the browser tooling here? `false` means skip (never under CI).
pub(crate) fn browser_available() -> bool {
    let chromium = Path::new(CHROMIUM).exists();
    let driver = Command::new("chromedriver")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if chromium && driver {
        return true;
    }
    let missing = match (chromium, driver) {
        (false, false) => "chromium and chromedriver",
        (false, true) => "chromium",
        _ => "chromedriver",
    };
    if std::env::var_os("CI").is_some() {
        panic!("{missing} not installed and CI is set (apt-get install chromium chromium-driver)");
    }
    eprintln!("{missing} not installed: skipping the browser test");
    false
}

/// chromedriver (and the browser it starts) in a process group of its own, killed as a
/// group when this is dropped, however the test ends.
struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Driver {
    fn start() -> Driver {
        let profile = tempfile::tempdir().expect("profile dir");
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn chromedriver");
        let driver = Driver {
            child,
            port,
            profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// A WebDriver session; `insecure_certs` lets the browser accept the tests' self-signed
    /// certificates (a direct-TLS server).
    async fn connect(&self, insecure_certs: bool) -> Client {
        let caps = json!({
            "acceptInsecureCerts": insecure_certs,
            "goog:chromeOptions": {
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", self.profile.path().display()),
                    "--window-size=1280,900",
                ],
                "binary": CHROMIUM,
            }
        });
        let caps = caps.as_object().cloned().expect("capabilities object");
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("WebDriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: chromedriver and every browser process it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn failure_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-failures")
}

pub(crate) async fn save_screenshot(c: &Client, path: &Path) {
    match c.screenshot().await {
        Ok(png) => {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            match std::fs::write(path, png) {
                Ok(()) => eprintln!("screenshot saved: {}", path.display()),
                Err(e) => eprintln!("could not save {}: {e}", path.display()),
            }
        }
        Err(e) => eprintln!("could not take a screenshot: {e}"),
    }
}

/// A screenshot of a step when `GLEH_BROWSER_SHOTS` names a folder.
pub(crate) async fn step_shot(c: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("GLEH_BROWSER_SHOTS") {
        save_screenshot(c, &Path::new(&dir).join(format!("{name}.png"))).await;
    }
}

/// Runs `journey` with a fresh browser; on a panic saves a screenshot named after the test.
pub(crate) async fn with_browser<F, Fut>(name: &str, base: String, journey: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    run_browser(name, base, false, journey).await;
}

/// `with_browser` for a direct-TLS server whose certificate the browser does not know
/// (the tests' self-signed ones): the session accepts it.
pub(crate) async fn with_tls_browser<F, Fut>(name: &str, base: String, journey: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    run_browser(name, base, true, journey).await;
}

async fn run_browser<F, Fut>(name: &str, base: String, insecure_certs: bool, journey: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let driver = Driver::start();
    let client = driver.connect(insecure_certs).await;
    let outcome = tokio::spawn(journey(client.clone(), base)).await;
    if let Err(e) = outcome {
        if let Ok(url) = client.current_url().await {
            eprintln!("browser was at {url}");
        }
        save_screenshot(&client, &failure_dir().join(format!("{name}.png"))).await;
        let _ = client.close().await;
        drop(driver);
        match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    let _ = client.close().await;
    drop(driver);
}

// ---------------------------------------------------------------------------------------
// Small WebDriver helpers.

pub(crate) async fn find(c: &Client, css: &str) -> Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
}

pub(crate) async fn text(c: &Client, css: &str) -> String {
    find(c, css).await.text().await.expect("element text")
}

pub(crate) async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

/// Polls `script` until it returns `expected`.
pub(crate) async fn wait_js(c: &Client, script: &str, expected: Value, what: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = js(c, script).await;
        if got == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {got} != {expected}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn path_and_query(c: &Client) -> String {
    let url = c.current_url().await.expect("current url");
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// Clicks `css` and waits until the browser has loaded the next page (the old document's
/// marker is gone and the new one is complete).
pub(crate) async fn click_and_load(c: &Client, css: &str) {
    js(c, "window.__gleh_old_page = true; return null").await;
    find(c, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
    let deadline = Instant::now() + WAIT;
    loop {
        let done = c
            .execute(
                "return window.__gleh_old_page === undefined && document.readyState === 'complete'",
                vec![],
            )
            .await
            .map(|v| v == Value::Bool(true))
            .unwrap_or(false);
        if done {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no new page after clicking {css}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn fill(c: &Client, css: &str, value: &str) {
    let e = find(c, css).await;
    e.clear()
        .await
        .unwrap_or_else(|err| panic!("clear {css}: {err}"));
    e.send_keys(value)
        .await
        .unwrap_or_else(|err| panic!("type into {css}: {err}"));
}

/// Presses and releases one key (a character or a `Key`) in the focused element.
async fn press(c: &Client, key: impl Into<char>) {
    let key = key.into();
    let keys = KeyActions::new("keyboard".to_string())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.expect("key press");
}

async fn focused(c: &Client) -> Value {
    js(
        c,
        "const e = document.activeElement; return [e.tagName.toLowerCase(), e.id || '', e.className || '']",
    )
    .await
}

/// What the CSP and keyboard users rely on, checked in the live page: no inline script or
/// style attribute, a label for every visible control, alt text on every image, the skip
/// link first in the tab order and pointing at `main`.
pub(crate) const PAGE_CHECKS: &str = r#"
const problems = [];
document.querySelectorAll('script').forEach(() => problems.push('script element'));
document.querySelectorAll('[style]').forEach(e => problems.push('style attribute on ' + e.tagName));
document.querySelectorAll('input, select, textarea').forEach(e => {
  if (e.type === 'hidden' || e.hidden) return;
  if (!e.labels || e.labels.length === 0) problems.push('unlabelled ' + e.tagName + ' ' + (e.name || e.id));
});
document.querySelectorAll('img').forEach(e => {
  if (!e.hasAttribute('alt')) problems.push('img without alt: ' + e.src);
});
const focusable = document.querySelector('a[href], button, input:not([type=hidden]), select, textarea');
if (!focusable || !focusable.classList.contains('skip-link')) problems.push('skip link is not first');
if (!document.querySelector('main#main')) problems.push('no main#main');
if (!document.documentElement.lang) problems.push('no lang');
return problems;
"#;

async fn check_page(c: &Client, what: &str) {
    let problems = js(c, PAGE_CHECKS).await;
    assert_eq!(problems, json!([]), "{what}: {problems}");
}

/// No sideways scrolling at phone width.
pub(crate) async fn check_phone_width(c: &Client, what: &str) {
    c.set_window_size(390, 844).await.expect("phone size");
    let r = js(
        c,
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]",
    )
    .await;
    let (scroll, client) = (r[0].as_i64().unwrap_or(0), r[1].as_i64().unwrap_or(0));
    step_shot(c, &format!("{what}-phone")).await;
    c.set_window_size(1280, 900).await.expect("desktop size");
    assert!(
        scroll <= client,
        "{what} overflows at phone width: {scroll} > {client}"
    );
}

async fn card_titles(c: &Client) -> Vec<String> {
    let v = js(
        c,
        "return [...document.querySelectorAll('.course-card .card-title')].map(e => e.textContent.trim())",
    )
    .await;
    serde_json::from_value(v).expect("titles")
}

/// A small PNG (a blue square with a yellow stripe).
fn write_png(path: &Path) {
    let img = image::RgbImage::from_fn(48, 48, |_, y| {
        if (20..28).contains(&y) {
            image::Rgb([242, 193, 78])
        } else {
            image::Rgb([29, 102, 128])
        }
    });
    img.save(path).expect("write png");
}

// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn learner_journey_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let data = tempfile::tempdir().expect("data dir");
    let content = concat!(env!("CARGO_MANIFEST_DIR"), "/content");
    let data_dir = data.path().display().to_string();
    let server = Server::start(
        Backend::Sqlite,
        &[("CONTENT_DIR", content), ("DATA_DIR", &data_dir)],
    )
    .await;
    let files = tempfile::tempdir().expect("upload dir");
    let good_png = files.path().join("tide-pool.png");
    write_png(&good_png);
    let bad_png = files.path().join("not-really.png");
    std::fs::write(&bad_png, b"this is text, not a picture").expect("write bad png");

    with_browser(
        "learner_journey_in_a_real_browser",
        server.base.clone(),
        move |c, base| async move {
            journey(&c, &base, &good_png, &bad_png).await;
        },
    )
    .await;
    drop(server);
}

async fn journey(c: &Client, base: &str, good_png: &Path, bad_png: &Path) {
    let url = |p: &str| format!("{base}{p}");

    // --- Register, then log in.
    c.goto(&url("/register")).await.expect("register page");
    check_page(c, "register").await;
    check_phone_width(c, "register").await;
    fill(c, "#username", USER).await;
    fill(c, "#password", PW).await;
    click_and_load(c, "form[action='/register'] button[type=submit]").await;
    assert_eq!(path_and_query(c).await, "/login?registered=1");
    assert!(text(c, ".alert-success").await.contains("Account created"));
    check_page(c, "login").await;
    step_shot(c, "login").await;

    fill(c, "#username", USER).await;
    fill(c, "#password", PW).await;
    click_and_load(c, "form[action='/login'] button[type=submit]").await;
    assert_eq!(path_and_query(c).await, "/");
    assert_eq!(text(c, ".nav-user").await, USER);

    // --- The catalog: every sample course, with a progress badge for this learner.
    step_shot(c, "catalog").await;
    let all = card_titles(c).await;
    assert_eq!(all.len(), 18, "{all:?}");
    assert_eq!(
        js(
            c,
            "return document.querySelectorAll('.course-card .badge-not-started').length"
        )
        .await,
        json!(18)
    );
    // Package thumbnails load (same origin, allowed by the CSP; lazily, so scroll to
    // them); the other courses get placeholder artwork.
    js(
        c,
        "document.querySelector('.course-card:last-child').scrollIntoView(); return null",
    )
    .await;
    wait_js(
        c,
        "return [...document.querySelectorAll('.card-thumb img')].filter(i => i.complete && i.naturalWidth > 0).length",
        json!(4),
        "package thumbnails shown",
    )
    .await;
    assert_eq!(
        js(
            c,
            "return document.querySelectorAll('.card-thumb .placeholder').length"
        )
        .await,
        json!(14)
    );
    check_page(c, "catalog").await;
    step_shot(c, "catalog-bottom").await;
    check_phone_width(c, "catalog").await;

    // The keyboard alone: Tab reaches the skip link first, Enter skips to the content,
    // the next Tab lands in the search box, and Enter there searches.
    c.goto(&url("/")).await.expect("catalog");
    press(c, Key::Tab).await;
    assert_eq!(focused(c).await, json!(["a", "", "skip-link"]));
    press(c, Key::Enter).await;
    assert_eq!(focused(c).await, json!(["main", "main", ""]));
    press(c, Key::Tab).await;
    assert_eq!(
        focused(c).await[1],
        json!("q"),
        "search box after the skip link"
    );
    step_shot(c, "keyboard-focus").await;
    js(c, "window.__gleh_old_page = true; return null").await;
    for ch in "python".chars() {
        press(c, ch).await;
    }
    press(c, Key::Enter).await;
    wait_js(
        c,
        "return window.__gleh_old_page === undefined && document.readyState === 'complete'",
        json!(true),
        "search submitted with Enter",
    )
    .await;

    // Search, then narrow by a subject; both stay in force together.
    assert_eq!(path_and_query(c).await, "/?q=python");
    let mut found = card_titles(c).await;
    found.sort();
    assert_eq!(
        found,
        [
            "Introduction to Computer Science and Programming in Python",
            "Programming with Python: A First Course"
        ],
    );
    click_and_load(c, ".filters a.chip[href$='category=Engineering']").await;
    assert_eq!(path_and_query(c).await, "/?q=python&category=Engineering");
    assert_eq!(
        card_titles(c).await,
        ["Programming with Python: A First Course"]
    );
    assert!(text(c, ".chip-on").await.contains("Engineering"));
    assert_eq!(
        find(c, "#q").await.prop("value").await.expect("value"),
        Some("python".to_string())
    );
    step_shot(c, "catalog-filtered").await;
    // Removing the subject keeps the search.
    click_and_load(c, ".chip-on").await;
    assert_eq!(path_and_query(c).await, "/?q=python");
    assert_eq!(card_titles(c).await.len(), 2);
    click_and_load(c, ".filters a.chip[href$='category=Engineering']").await;

    // --- The course page.
    click_and_load(c, ".course-card .card-title a").await;
    assert_eq!(
        path_and_query(c).await,
        "/course/gl-101-programming-with-python"
    );
    assert_eq!(
        text(c, "h1").await,
        "Programming with Python: A First Course"
    );
    assert_eq!(
        js(
            c,
            "const i = document.querySelector('.course-art img'); return i.complete && i.naturalWidth > 0"
        )
        .await,
        json!(true),
        "course thumbnail shown"
    );
    let launch = find(c, "a.launch").await;
    assert_eq!(
        launch.attr("href").await.expect("href").as_deref(),
        Some("/courses/gl-101-programming-with-python/index.html")
    );
    check_page(c, "course").await;

    // Progress.
    assert_eq!(text(c, ".hero-actions .status").await, "Not Started");
    find(c, "select#status")
        .await
        .select_by_value("In Progress")
        .await
        .expect("select status");
    click_and_load(c, ".progress-form button[type=submit]").await;
    assert_eq!(
        path_and_query(c).await,
        "/course/gl-101-programming-with-python"
    );
    assert_eq!(text(c, ".hero-actions .status").await, "In Progress");
    assert_eq!(
        js(c, "return document.querySelector('select#status').value").await,
        json!("In Progress")
    );

    // A note, with characters that must come back as text.
    let note = "Week 1: loops & lists. <b>Not bold</b>, \"quoted\".";
    fill(c, "#note", note).await;
    click_and_load(c, ".note-form button[type=submit]").await;
    assert_eq!(
        js(c, "return document.querySelector('#note').value").await,
        json!(note)
    );
    assert_eq!(
        js(c, "return document.querySelectorAll('.note-form b').length").await,
        json!(0)
    );
    step_shot(c, "course").await;
    check_phone_width(c, "course").await;

    // The catalog shows the progress.
    c.goto(&url("/")).await.expect("catalog");
    let badge = js(
        c,
        "const card = [...document.querySelectorAll('.course-card')].find(k => k.querySelector('.card-title').textContent.includes('Programming with Python: A First Course')); return card.querySelector('.badge').textContent",
    )
    .await;
    assert!(
        badge.as_str().unwrap_or("").contains("In Progress"),
        "{badge}"
    );
    assert!(text(c, ".learning-summary").await.contains("1 in progress"));

    // --- The profile: learning lists, edit form, avatar, password.
    c.goto(&url("/profile")).await.expect("profile");
    check_page(c, "profile").await;
    let learning = text(c, "section[aria-labelledby='learning-heading']").await;
    assert!(
        learning.contains("Programming with Python: A First Course"),
        "{learning}"
    );
    let notes = text(c, "section[aria-labelledby='notes-heading']").await;
    assert!(notes.contains("Week 1: loops & lists."), "{notes}");

    fill(c, "#about_me", "I like tide pools & <em>long</em> walks.").await;
    fill(c, "#gender", "non-binary").await;
    fill(c, "#pronouns", "they/them").await;
    click_and_load(c, "form[action='/profile'] button[type=submit]").await;
    assert_eq!(path_and_query(c).await, "/profile?saved=1");
    assert!(text(c, ".alert-success").await.contains("saved"));
    assert_eq!(
        text(c, ".profile-card .about").await,
        "I like tide pools & <em>long</em> walks."
    );
    let meta = text(c, ".profile-card .card-meta").await;
    assert!(
        meta.contains("they/them") && meta.contains("non-binary"),
        "{meta}"
    );

    // A file that is not an image is refused, with the reason next to the form.
    find(c, "#avatar")
        .await
        .send_keys(&bad_png.display().to_string())
        .await
        .expect("choose file");
    click_and_load(c, "form[action='/profile/avatar'] button[type=submit]").await;
    let refused = text(c, "section[aria-labelledby='avatar-heading'] .field-error").await;
    assert!(!refused.is_empty(), "avatar error shown by the form");
    let summary = text(c, ".alert-error").await;
    assert!(
        summary.starts_with("Your picture was not uploaded: ") && summary.contains(&refused),
        "{summary}"
    );
    assert!(
        find(c, "img.avatar")
            .await
            .attr("src")
            .await
            .expect("src")
            .is_some_and(|s| s.starts_with("/static/")),
        "still the default picture"
    );
    step_shot(c, "profile-avatar-refused").await;

    // A real picture.
    find(c, "#avatar")
        .await
        .send_keys(&good_png.display().to_string())
        .await
        .expect("choose file");
    click_and_load(c, "form[action='/profile/avatar'] button[type=submit]").await;
    assert_eq!(path_and_query(c).await, "/profile?avatar=1");
    assert!(text(c, ".alert-success").await.contains("picture"));
    let src = find(c, "img.avatar")
        .await
        .attr("src")
        .await
        .expect("src")
        .unwrap_or_default();
    assert!(src.starts_with("/avatars/"), "{src}");
    assert_eq!(
        js(
            c,
            "const i = document.querySelector('img.avatar'); return [i.complete, i.naturalWidth]"
        )
        .await,
        json!([true, 48]),
        "the uploaded avatar is shown"
    );
    step_shot(c, "profile").await;
    check_phone_width(c, "profile").await;

    // --- docs/checklist.md §11 Test 3: the session cookie exists but script cannot read it.
    let cookies = c.get_all_cookies().await.expect("cookies");
    let session = cookies
        .iter()
        .find(|k| k.name() == "session")
        .unwrap_or_else(|| panic!("no session cookie among {cookies:?}"));
    assert_eq!(session.http_only(), Some(true), "{session:?}");
    let old_session = session.value().to_string();
    let visible = js(c, "return document.cookie").await;
    assert!(
        !visible.as_str().unwrap_or("").contains("session"),
        "document.cookie shows the session: {visible}"
    );

    // --- Change the password: a wrong current one is explained; then it works and the
    // session cookie is replaced.
    fill(c, "#current_password", "not-my-password-1").await;
    fill(c, "#new_password", PW2).await;
    fill(c, "#confirm_password", PW2).await;
    click_and_load(c, "form[action='/profile/password'] button[type=submit]").await;
    let wrong = text(
        c,
        "section[aria-labelledby='password-heading'] .field-error",
    )
    .await;
    assert!(wrong.contains("Current password is incorrect"), "{wrong}");
    fill(c, "#current_password", PW).await;
    fill(c, "#new_password", PW2).await;
    fill(c, "#confirm_password", PW2).await;
    click_and_load(c, "form[action='/profile/password'] button[type=submit]").await;
    assert_eq!(path_and_query(c).await, "/profile?password=changed");
    assert!(text(c, ".alert-success").await.contains("Password changed"));
    assert_eq!(text(c, ".nav-user").await, USER, "still logged in");
    let new_session = c
        .get_named_cookie("session")
        .await
        .expect("session cookie after the change");
    assert_ne!(new_session.value(), old_session, "session id rotated");
    assert!(
        !js(c, "return document.cookie")
            .await
            .as_str()
            .unwrap_or("")
            .contains("session")
    );

    // --- Log out: the profile is closed again.
    click_and_load(c, ".site-nav form[action='/logout'] button[type=submit]").await;
    assert_eq!(path_and_query(c).await, "/");
    assert_eq!(text(c, ".site-nav a[href='/login']").await, "Log in");
    assert!(
        !c.get_all_cookies()
            .await
            .expect("cookies")
            .iter()
            .any(|k| k.name() == "session"),
        "session cookie cleared"
    );
    c.goto(&url("/profile"))
        .await
        .expect("profile after logout");
    assert_eq!(path_and_query(c).await, "/login?next=%2Fprofile");
    assert!(
        find(c, "form[action='/login']")
            .await
            .is_displayed()
            .await
            .unwrap_or(false)
    );

    // The new password is the one that works now.
    fill(c, "#username", USER).await;
    fill(c, "#password", PW2).await;
    click_and_load(c, "form[action='/login'] button[type=submit]").await;
    assert_eq!(path_and_query(c).await, "/profile");
    assert_eq!(text(c, "h1").await, USER);
}

// ---------------------------------------------------------------------------------------
// The same pages over plain HTTP, on both backends.

/// A development server (sample catalog and packages) whose auth limit these tests do not
/// run into.
async fn with_packages(backend: Backend) -> (Server, tempfile::TempDir) {
    let data = tempfile::tempdir().expect("data dir");
    let data_dir = data.path().display().to_string();
    let content = concat!(env!("CARGO_MANIFEST_DIR"), "/content");
    let s = start(
        backend,
        &[("CONTENT_DIR", content), ("DATA_DIR", &data_dir)],
    )
    .await;
    (s, data)
}

async fn html_page(c: &mut crate::helpers::Client, path: &str) -> crate::helpers::Resp {
    let r = c.get(path).header("accept", "text/html").send().await;
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8"),
        "{path}"
    );
    r
}

fn cards(body: &str) -> usize {
    body.matches(r#"<li class="course-card">"#).count()
}

async fn catalog_search_and_subject_filters(backend: Backend) {
    let (s, _data) = with_packages(backend).await;
    let mut c = s.client();

    let r = html_page(&mut c, "/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(cards(&r.body), 18);
    assert!(r.body.contains("Featured Courses"));
    assert!(
        !r.body.contains("badge-"),
        "no progress badges for visitors"
    );
    // Subjects link to the filtered catalog; package thumbnails and placeholders.
    assert!(
        r.body.contains(r#"href="/?category=Computer+Science""#),
        "{}",
        r.body
    );
    assert_eq!(
        r.body.matches(r#"<img src="/courses/gl-"#).count(),
        4,
        "package thumbnails"
    );
    assert_eq!(
        r.body.matches(r#"<span class="placeholder tone-"#).count(),
        14
    );

    // One subject; case does not matter; several subjects must all apply.
    let r = html_page(&mut c, "/?category=Mathematics").await;
    assert_eq!(cards(&r.body), 4, "{}", r.body);
    assert!(r.body.contains("Linear Algebra") && r.body.contains("Everyday Statistics"));
    assert!(!r.body.contains("Kitchen Chemistry"));
    let r = html_page(&mut c, "/?category=mathematics&category=Linear+Algebra").await;
    assert_eq!(cards(&r.body), 1);
    assert!(
        r.body
            .contains("<a href=\"/course/18-06-linear-algebra-spring-2010\">Linear Algebra</a>")
    );

    // Search and subject together; the search form keeps the subject, and removing the
    // subject keeps the search.
    let r = html_page(&mut c, "/?q=python&category=Engineering").await;
    assert_eq!(cards(&r.body), 1);
    assert!(r.body.contains("Programming with Python: A First Course"));
    assert!(
        r.body
            .contains(r#"<input type="hidden" name="category" value="Engineering">"#)
    );
    assert!(r.body.contains(r#"value="python""#));
    assert!(
        r.body.contains(r#"class="chip chip-on" href="/?q=python""#),
        "{}",
        r.body
    );

    // Nothing found: an empty state, not an empty page.
    let r = html_page(&mut c, "/?q=no+such+course+anywhere").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(cards(&r.body), 0);
    assert!(r.body.contains("No courses match your search"));
    assert!(r.body.contains(r#"href="/">Show all courses"#));

    // Whatever is typed into the address comes back escaped.
    let r = html_page(
        &mut c,
        "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E&category=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("<script>alert"), "{}", r.body);
    assert!(!r.body.contains("<img src=x"), "{}", r.body);
    assert!(r.body.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    // Odd parameters are ignored, not errors.
    let r = html_page(&mut c, "/?category=&category=+&q=&page=2").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(cards(&r.body), 18, "empty q and category mean no filter");
    let r = html_page(&mut c, "/?category=%FF&q=%FF%FE").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("No courses match your search"));
}

async fn progress_badges_and_profile_lists(backend: Backend) {
    let (s, _data) = with_packages(backend).await;
    s.create_user("ria", PW);
    let mut c = logged_in(&s, "ria", PW).await;
    let token = c.csrf().await;
    let r = c
        .post("/api/course/progress")
        .header("X-CSRFToken", &token)
        .json(&json!({"course_uid": "18-06-linear-algebra-spring-2010", "status": "Completed"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .post("/api/course/progress")
        .header("X-CSRFToken", &token)
        .json(&json!({"course_uid": "gl-110-seashore-ecology", "status": "In Progress"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .post("/api/course/note")
        .header("X-CSRFToken", &token)
        .json(&json!({"course_uid": "gl-110-seashore-ecology", "content": "Limpets <b>cling</b> & wait."}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let r = html_page(&mut c, "/").await;
    assert_eq!(r.body.matches("badge badge-completed").count(), 1);
    assert_eq!(r.body.matches("badge badge-in-progress").count(), 1);
    assert_eq!(r.body.matches("badge badge-not-started").count(), 16);
    assert!(r.body.contains("<strong>1</strong> in progress"));
    assert!(r.body.contains("<strong>1</strong> completed"));

    let r = html_page(&mut c, "/profile").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body
            .contains(r#"href="/course/18-06-linear-algebra-spring-2010""#)
    );
    assert!(r.body.contains(r#"href="/course/gl-110-seashore-ecology""#));
    assert!(!r.body.contains("<b>cling"), "{}", r.body);
    assert!(
        r.body
            .contains("Limpets &#60;b&#62;cling&#60;/b&#62; &#38; wait.")
    );
    assert!(
        r.body
            .contains(r#"<img class="avatar" src="/static/default-avatar.svg""#)
    );
    // The forms the page offers, each with the page's token.
    for action in [
        "/profile",
        "/profile/avatar",
        "/profile/password",
        "/logout",
    ] {
        assert!(
            r.body
                .contains(&format!(r#"method="post" action="{action}""#)),
            "{action}"
        );
    }
    assert!(r.body.contains(r#"enctype="multipart/form-data""#));
    // Another user sees none of it.
    s.create_user("sam", PW);
    let mut other = logged_in(&s, "sam", PW).await;
    let r = html_page(&mut other, "/profile").await;
    assert!(!r.body.contains("Limpets"));
    assert!(r.body.contains("You have not started a course yet."));
    let r = html_page(&mut other, "/").await;
    assert_eq!(r.body.matches("badge badge-not-started").count(), 18);
}

async fn profile_form_saves_and_explains(backend: Backend) {
    let (s, _data) = with_packages(backend).await;
    s.create_user("ria", PW);
    let mut c = logged_in(&s, "ria", PW).await;
    let token = form_token(&html_page(&mut c, "/profile").await.body);
    let r = c
        .post("/profile")
        .form(&[
            ("csrf_token", &token),
            ("about_me", "Line one\r\nline <two>"),
            ("gender", " non-binary "),
            ("pronouns", "they/them"),
        ])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location").as_deref(), Some("/profile?saved=1"));
    let p = c.get("/api/profile").send().await.json();
    assert_eq!(p["user"]["about_me"], "Line one\nline <two>");
    assert_eq!(p["user"]["gender"], "non-binary");
    assert_eq!(p["user"]["pronouns"], "they/them");
    let r = html_page(&mut c, "/profile?saved=1").await;
    assert!(r.body.contains("Your profile has been saved."));
    assert!(
        r.body
            .contains(r#"<input id="gender" name="gender" value="non-binary""#)
    );
    assert!(r.body.contains("line &#60;two&#62;"));

    // Too long: the page again, the reason at the top and by the form, nothing saved.
    let long = "p".repeat(33);
    let r = c
        .post("/profile")
        .header("accept", "text/html")
        .form(&[("csrf_token", &token), ("pronouns", &long)])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body
            .contains("Your profile was not saved: Pronouns must not exceed 32 characters.")
    );
    assert!(
        r.body
            .contains(r#"<p class="field-error">Pronouns must not exceed 32 characters.</p>"#)
    );
    assert_eq!(
        c.get("/api/profile").send().await.json()["user"]["pronouns"],
        "they/them"
    );
}

/// The profile page's avatar form as the browser posts it: (content type, body).
fn avatar_form(token: &str, filename: &str, data: &[u8]) -> (String, Vec<u8>) {
    let parts = [
        Part {
            name: "csrf_token",
            filename: None,
            data: token.as_bytes(),
        },
        Part {
            name: "avatar",
            filename: Some(filename),
            data,
        },
    ];
    (multipart_type(), multipart(&parts))
}

async fn avatar_form_uploads_and_explains(backend: Backend) {
    let (s, _data) = with_packages(backend).await;
    s.create_user("ria", PW);
    let mut c = logged_in(&s, "ria", PW).await;
    let token = form_token(&html_page(&mut c, "/profile").await.body);

    for (filename, data, why) in [
        ("notes.txt", b"hello".to_vec(), "Invalid file type"),
        (
            "fake.png",
            b"not a png at all".to_vec(),
            "Invalid or corrupted image file",
        ),
    ] {
        let (ct, body) = avatar_form(&token, filename, &data);
        let r = c
            .post("/profile/avatar")
            .header("accept", "text/html")
            .body(&ct, body)
            .send()
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{filename}: {}", r.body);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("text/html; charset=utf-8")
        );
        assert!(
            r.body.contains("Your picture was not uploaded: "),
            "{}",
            r.body
        );
        assert!(r.body.contains(why), "{filename}: {}", r.body);
        assert!(r.body.contains(r##"href="#avatar-heading""##));
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let png = dir.path().join("me.png");
    write_png(&png);
    let (ct, body) = avatar_form(&token, "me.png", &std::fs::read(&png).expect("png"));
    let r = c.post("/profile/avatar").body(&ct, body).send().await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location").as_deref(), Some("/profile?avatar=1"));
    let url = c.get("/api/profile").send().await.json()["user"]["avatar"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(url.starts_with("/avatars/"), "{url}");
    let r = html_page(&mut c, "/profile?avatar=1").await;
    assert!(r.body.contains("Your new profile picture is in place."));
    assert!(
        r.body
            .contains(&format!(r#"<img class="avatar" src="{url}""#))
    );
    // The form without its token is refused by the CSRF guard.
    let (ct, body) = avatar_form("", "me.png", &std::fs::read(&png).expect("png"));
    let r = c.post("/profile/avatar").body(&ct, body).send().await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.json()["error"].as_str().unwrap_or("").contains("CSRF"),
        "{}",
        r.body
    );
}

async fn post_password(
    c: &mut crate::helpers::Client,
    token: &str,
    current: &str,
    new: &str,
    confirm: &str,
) -> crate::helpers::Resp {
    c.post("/profile/password")
        .header("accept", "text/html")
        .form(&[
            ("csrf_token", token),
            ("current_password", current),
            ("new_password", new),
            ("confirm_password", confirm),
        ])
        .send()
        .await
}

async fn password_form_rotates_the_session(backend: Backend) {
    let (s, _data) = with_packages(backend).await;
    s.create_user("ria", PW);
    let mut c = logged_in(&s, "ria", PW).await;
    let mut elsewhere = logged_in(&s, "ria", PW).await;
    let token = form_token(&html_page(&mut c, "/profile").await.body);
    for (current, new, confirm, status, message) in [
        (
            "wrong-horse-battery-0",
            PW2,
            PW2,
            StatusCode::UNAUTHORIZED,
            "Current password is incorrect",
        ),
        (
            PW,
            PW2,
            "something-else-entirely-9",
            StatusCode::BAD_REQUEST,
            "New passwords do not match",
        ),
        (
            PW,
            PW,
            PW,
            StatusCode::BAD_REQUEST,
            "New password must be different from current password",
        ),
        (
            PW,
            "",
            "",
            StatusCode::BAD_REQUEST,
            "Missing required fields",
        ),
    ] {
        let r = post_password(&mut c, &token, current, new, confirm).await;
        assert_eq!(r.status, status, "{message}: {}", r.body);
        assert!(
            r.body
                .contains(&format!("Your password was not changed: {message}")),
            "{message}: {}",
            r.body
        );
        assert!(r.body.contains(r##"href="#password-heading""##));
    }
    // Nothing changed so far.
    assert_eq!(
        elsewhere.get("/api/profile").send().await.status,
        StatusCode::OK
    );

    let before = c.session().expect("session");
    let r = post_password(&mut c, &token, PW, PW2, PW2).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/profile?password=changed")
    );
    let after = c.session().expect("new session cookie");
    assert_ne!(before, after, "session rotated");
    assert!(
        r.set_cookies()
            .iter()
            .any(|k| k.starts_with("session=") && k.contains("HttpOnly")),
        "{:?}",
        r.set_cookies()
    );
    let r = html_page(&mut c, "/profile?password=changed").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Password changed."));
    // The other device and the old cookie are logged out; the new password is the one.
    assert_eq!(
        elsewhere.get("/api/profile").send().await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut old = s.client();
    old.cookies.insert("session".into(), before);
    assert_eq!(
        old.get("/api/profile").send().await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        s.client().login("ria", PW).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(s.client().login("ria", PW2).await.status, StatusCode::OK);
}

both_backends!(
    catalog_search_and_subject_filters,
    progress_badges_and_profile_lists,
    profile_form_saves_and_explains,
    avatar_form_uploads_and_explains,
    password_form_rotates_the_session,
);
