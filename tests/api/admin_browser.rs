//! The admin panel in a real browser (issue 9, "Tests"): an operator bootstraps the first
//! admin with the CLI, logs in, creates a user, uploads a course zip watching the progress
//! bar, disables the user and reads the audit log. Headless Chromium over WebDriver, with
//! the helpers of `browser.rs`; skipped without Chromium except under CI.

use std::path::Path;

use fantoccini::Client;
use serde_json::json;

use crate::admin_courses::{noise, zip_of};
use crate::browser::{
    browser_available, check_phone_width, click_and_load, fill, find, js, path_and_query,
    step_shot, text, with_browser,
};
use crate::helpers::{Backend, PW, Server};

const ROOT: &str = "harbourmaster";

/// The admin pages' own check: as `browser::PAGE_CHECKS`, but a same-origin script file
/// is allowed (the Courses tab's upload progress); an inline one never is.
const ADMIN_PAGE_CHECKS: &str = r#"
const problems = [];
document.querySelectorAll('script').forEach(s => {
  if (!s.src || new URL(s.src).origin !== location.origin || s.textContent.trim()) problems.push('inline or foreign script');
});
document.querySelectorAll('[style]').forEach(e => problems.push('style attribute on ' + e.tagName));
document.querySelectorAll('input, select, textarea').forEach(e => {
  if (e.type === 'hidden' || e.hidden) return;
  if (!e.labels || e.labels.length === 0) problems.push('unlabelled ' + e.tagName + ' ' + (e.name || e.id));
});
const focusable = document.querySelector('a[href], button, input:not([type=hidden]), select, textarea');
if (!focusable || !focusable.classList.contains('skip-link')) problems.push('skip link is not first');
return problems;
"#;

async fn check_admin_page(c: &Client, what: &str) {
    let problems = js(c, ADMIN_PAGE_CHECKS).await;
    assert_eq!(problems, json!([]), "{what}: {problems}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_journey_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let content = tempfile::tempdir().expect("content dir");
    std::fs::create_dir_all(content.path().join("courses")).expect("courses dir");
    let content_dir = content.path().display().to_string();
    let server = Server::start(Backend::Sqlite, &[("CONTENT_DIR", &content_dir)]).await;
    let out = server.cli(&["user", "create", ROOT, "--admin"], Some(PW));
    assert!(out.status.success(), "{out:?}");
    let files = tempfile::tempdir().expect("upload dir");
    let zip = files.path().join("harbour-tides.zip");
    write_course_zip(&zip);

    with_browser(
        "admin_journey_in_a_real_browser",
        server.base.clone(),
        move |c, base| async move {
            journey(&c, &base, &zip).await;
        },
    )
    .await;
    drop(server);
    drop(content);
}

/// A course package zip: one top-level folder with `index.html`, `data.json` and 4 MiB
/// of incompressible video stand-in, so the upload takes several progress events.
fn write_course_zip(path: &Path) {
    let video = noise(4 << 20);
    let zip = zip_of(&[
        (
            "harbour-tides/index.html",
            b"<h1>Harbour tides</h1>".as_slice(),
        ),
        (
            "harbour-tides/data.json",
            br#"{"course_title": "Harbour Tides", "topics": [["Science", "Ocean"]]}"#.as_slice(),
        ),
        ("harbour-tides/static_resources/tides.mp4", video.as_slice()),
    ]);
    std::fs::write(path, zip).expect("write zip");
}

/// Records the highest value the upload progress bar is set to in `sessionStorage`, so it
/// can be read after the page has moved on.
const WATCH_PROGRESS: &str = r#"
const bar = document.getElementById('upload-bar');
const d = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value');
sessionStorage.setItem('gleh-bar', '0');
Object.defineProperty(bar, 'value', {
  configurable: true,
  get() { return d.get.call(this); },
  set(v) {
    const seen = Number(sessionStorage.getItem('gleh-bar') || 0);
    sessionStorage.setItem('gleh-bar', String(Math.max(seen, Number(v))));
    sessionStorage.setItem('gleh-bar-shown', String(!document.getElementById('upload-progress').hidden));
    d.set.call(this, v);
  },
});
return null;
"#;

async fn journey(c: &Client, base: &str, zip: &Path) {
    let url = |p: &str| format!("{base}{p}");

    // --- Log in as the admin the CLI made; the login returns to the admin page.
    c.goto(&url("/login?next=/admin/users"))
        .await
        .expect("login page");
    fill(c, "#username", ROOT).await;
    fill(c, "#password", PW).await;
    click_and_load(c, "form[action='/login'] button[type=submit]").await;
    assert_eq!(path_and_query(c).await, "/admin/users");
    assert_eq!(text(c, ".site-nav a[href='/admin']").await, "Admin");
    check_admin_page(c, "users").await;
    step_shot(c, "admin-users").await;

    // --- Create a user.
    fill(c, "#new-username", "deckhand").await;
    fill(c, "#new-password", "correct-horse-battery-9").await;
    click_and_load(c, "form[action='/admin/users/create'] button[type=submit]").await;
    assert_eq!(path_and_query(c).await, "/admin/users?done=created");
    assert!(text(c, ".alert-success").await.contains("User created"));
    let row = js(
        c,
        "return [...document.querySelectorAll('.admin-table tbody tr')].find(r => r.querySelector('.admin-name').textContent === 'deckhand').id",
    )
    .await;
    let row = row.as_str().expect("deckhand's row").to_string();
    check_phone_width(c, "admin-users").await;

    // --- Upload a course zip, watching the progress bar; it is imported at once.
    click_and_load(c, ".admin-tabs a[href='/admin/courses']").await;
    check_admin_page(c, "courses").await;
    js(c, WATCH_PROGRESS).await;
    find(c, "#upload-file")
        .await
        .send_keys(&zip.display().to_string())
        .await
        .expect("choose the zip");
    click_and_load(c, "#upload-form button[type=submit]").await;
    assert_eq!(path_and_query(c).await, "/admin/courses?done=uploaded");
    assert_eq!(
        js(
            c,
            "return [sessionStorage.getItem('gleh-bar'), sessionStorage.getItem('gleh-bar-shown')]"
        )
        .await,
        json!(["100", "true"]),
        "the progress bar did not reach 100%"
    );
    assert!(text(c, ".alert-success").await.contains("uploaded"));
    assert_eq!(
        text(c, "a[href='/courses/harbour-tides/index.html']").await,
        "Harbour Tides"
    );
    step_shot(c, "admin-courses").await;
    c.goto(&url("/admin/users")).await.expect("users page");

    // --- Disable them.
    click_and_load(
        c,
        &format!("#{row} form[action='/admin/users/disable'] button"),
    )
    .await;
    assert_eq!(path_and_query(c).await, "/admin/users?done=disabled");
    assert!(
        find(c, &format!("#{row} .pill-off"))
            .await
            .text()
            .await
            .expect("pill")
            == "disabled"
    );
    step_shot(c, "admin-users-disabled").await;

    // --- The audit log shows what was done.
    click_and_load(c, ".admin-tabs a[href='/admin/audit']").await;
    check_admin_page(c, "audit").await;
    let actions = js(
        c,
        "return [...document.querySelectorAll('.admin-table tbody tr')].map(r => r.querySelector('code').textContent + ' ' + r.querySelector('.pill').textContent)",
    )
    .await;
    let actions: Vec<String> = serde_json::from_value(actions).expect("actions");
    for want in [
        "create-user success",
        "upload-course success",
        "disable-user success",
    ] {
        assert!(
            actions.iter().any(|a| a == want),
            "{want} not in {actions:?}"
        );
    }
    step_shot(c, "admin-audit").await;
    check_phone_width(c, "admin-audit").await;

    // --- Sessions: this one is marked.
    click_and_load(c, ".admin-tabs a[href='/admin/sessions']").await;
    assert!(text(c, ".admin-table").await.contains("this session"));
    step_shot(c, "admin-sessions").await;

    // --- The other tabs render and pass the page checks.
    for (tab, shot) in [
        ("/admin", "admin-dashboard"),
        ("/admin/diagnostics", "admin-diagnostics"),
        ("/admin/logs", "admin-logs"),
    ] {
        click_and_load(c, &format!(".admin-tabs a[href='{tab}']")).await;
        assert_eq!(path_and_query(c).await, tab);
        check_admin_page(c, shot).await;
        step_shot(c, shot).await;
    }

    // --- About: Markdown in, escaped HTML out on the public page.
    click_and_load(c, ".admin-tabs a[href='/admin/about']").await;
    fill(c, "#content", "# Harbour hub\n\nTides <b>daily</b>.").await;
    click_and_load(c, "form[action='/admin/about'] button[type=submit]").await;
    c.goto(&url("/about")).await.expect("about page");
    assert_eq!(text(c, "main h1").await, "Harbour hub");
    assert!(text(c, "main").await.contains("Tides <b>daily</b>."));
    assert_eq!(
        js(c, "return document.querySelectorAll('main b').length").await,
        json!(0)
    );
    step_shot(c, "about").await;
}
