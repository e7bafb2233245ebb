//! E-books against a fake Calibre-Web (docs/design.md "E-books"): a small axum server on
//! a random loopback port, inside the test, serves an OPDS acquisition feed under a
//! sub-path (`/cw/opds/new?offset=N`, root-relative hrefs, `rel="next"` paging), asks for
//! HTTP Basic credentials, serves PNG covers (and an HTML "cover" for book 2), and can be
//! switched to down (503) or to refusing the credentials. On both databases:
//! synchronisation of every page, `/api/content`, the book page (404s, no write on GET),
//! the Read button, notes and progress, covers with their cache and ETag, the last good
//! copy while Calibre-Web is down and the recovery, `/auth/check`, and that the Calibre
//! password reaches no answer and no log line.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU8, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode as AxStatus, header},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Client, PW, Server, assert_error, form_token, logged_in, start};

pub(crate) const CW_USER: &str = "hub";
pub(crate) const CW_PASSWORD: &str = "cw-pass-5d1f0a9e-never-shown";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

pub(crate) const UP: u8 = 0;
pub(crate) const DOWN: u8 = 1;
pub(crate) const WRONG_AUTH: u8 = 2;
/// `/opds/new` streams entries for ever (no Content-Length, never ends).
pub(crate) const ENDLESS: u8 = 3;
/// `/opds/new` is a 100 MiB feed, sent chunked (no Content-Length).
pub(crate) const HUGE: u8 = 4;
/// `/opds/new` is a 100 MiB feed that says so in its Content-Length.
pub(crate) const HUGE_DECLARED: u8 = 5;
/// Every route answers its headers only after a minute.
pub(crate) const SLOW: u8 = 6;
/// `/opds/new` sends its headers at once, then one byte every half second, for ever.
pub(crate) const TRICKLE: u8 = 7;
/// `/opds` and `/opds/new` answer an HTML page with 200.
pub(crate) const HTML: u8 = 8;

pub(crate) struct Fake {
    books: usize,
    per_page: usize,
    pub(crate) mode: AtomicU8,
    /// Requests to `/opds/search/…` and `/opds/osd`.
    pub(crate) search_calls: AtomicUsize,
    pub(crate) feed_calls: AtomicUsize,
    cover_calls: AtomicUsize,
}

#[derive(Clone)]
struct FakeState(Arc<Fake>);

fn authorised(fake: &Fake, headers: &HeaderMap) -> bool {
    let want = base64::engine::general_purpose::STANDARD.encode(format!("{CW_USER}:{CW_PASSWORD}"));
    fake.mode.load(Ordering::SeqCst) != WRONG_AUTH
        && headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            == Some(&format!("Basic {want}"))
}

async fn refusal(fake: &Fake, headers: &HeaderMap) -> Option<Response> {
    if fake.mode.load(Ordering::SeqCst) == SLOW {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    if fake.mode.load(Ordering::SeqCst) == DOWN {
        return Some((AxStatus::SERVICE_UNAVAILABLE, "down").into_response());
    }
    if !authorised(fake, headers) {
        return Some(
            (
                AxStatus::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Basic realm=\"calibre-web\"")],
                "auth",
            )
                .into_response(),
        );
    }
    None
}

/// Book n (1-based): title "Book n", author, two subjects, an epub link, a cover.
fn entry(n: usize) -> String {
    let subject = if n.is_multiple_of(2) {
        "Mathematics"
    } else {
        "Physics"
    };
    format!(
        r#"  <entry>
    <title>Book {n} &amp; Co</title>
    <id>urn:uuid:{n}</id>
    <author><name>Author {n}</name></author>
    <published>2024-01-{d:02}T00:00:00+00:00</published>
    <dc:language>en</dc:language>
    <category scheme="http://www.bisg.org/standards/bisac_subject/" term="{subject}" label="{subject}"/>
    <category term="Shelf {m}" label="Shelf {m}"/>
    <summary type="html">&lt;p&gt;About &lt;b&gt;book {n}&lt;/b&gt;&lt;/p&gt;</summary>
    <link type="image/jpeg" href="/cw/opds/cover/{n}" rel="http://opds-spec.org/image"/>
    <link type="image/jpeg" href="/cw/opds/cover/{n}" rel="http://opds-spec.org/image/thumbnail"/>
    <link rel="http://opds-spec.org/acquisition" href="/cw/opds/download/{n}/epub/"
          length="100" title="EPUB" type="application/epub+zip"/>
  </entry>
"#,
        d = n % 28 + 1,
        m = n % 3
    )
}

async fn feed(
    State(FakeState(fake)): State<FakeState>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    fake.feed_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = refusal(&fake, &headers).await {
        return r;
    }
    if let Some(r) = hostile(fake.mode.load(Ordering::SeqCst)) {
        return r;
    }
    let offset: usize = q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let end = (offset + fake.per_page).min(fake.books);
    let mut body = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/terms/" xmlns:opds="http://opds-spec.org/">
  <id>urn:uuid:feed</id>
  <title>New Books</title>
  <link rel="start" href="/cw/opds" type="application/atom+xml;profile=opds-catalog"/>
  <link rel="search" href="/cw/opds/osd" type="application/opensearchdescription+xml"/>
"#,
    );
    if end < fake.books {
        body.push_str(&format!(
            "  <link rel=\"next\"\n        href=\"/cw/opds/new?offset={end}\"\n        type=\"application/atom+xml;profile=opds-catalog\"/>\n"
        ));
    }
    for n in offset + 1..=end {
        body.push_str(&entry(n));
    }
    body.push_str("</feed>\n");
    ([(header::CONTENT_TYPE, "application/atom+xml")], body).into_response()
}

async fn cover(
    State(FakeState(fake)): State<FakeState>,
    headers: HeaderMap,
    Path(n): Path<usize>,
) -> Response {
    fake.cover_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = refusal(&fake, &headers).await {
        return r;
    }
    if n == 2 {
        return ([(header::CONTENT_TYPE, "text/html")], "<html>login</html>").into_response();
    }
    ([(header::CONTENT_TYPE, "image/png")], PNG).into_response()
}

const FEED_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/terms/">
  <id>urn:uuid:feed</id>
  <title>New Books</title>
"#;

/// The answers of the hostile modes: endless, huge, trickling or HTML feeds.
fn hostile(mode: u8) -> Option<Response> {
    use axum::body::{Body, Bytes};
    use futures_util::stream;
    const HUNDRED_MIB: usize = 100 * 1024 * 1024;
    let entries = || {
        let chunk = Bytes::from((1..=50).map(entry).collect::<String>());
        stream::iter(std::iter::once(Bytes::from_static(FEED_HEAD.as_bytes())))
            .chain(stream::repeat(chunk))
    };
    let atom = [(header::CONTENT_TYPE, "application/atom+xml")];
    fn ok(b: Bytes) -> Result<Bytes, std::convert::Infallible> {
        Ok(b)
    }
    use futures_util::StreamExt as _;
    match mode {
        ENDLESS => Some((atom, Body::from_stream(entries().map(ok))).into_response()),
        HUGE | HUGE_DECLARED => {
            // Exactly 100 MiB: the head, entries, padding, the end of the feed.
            let tail = "</feed>\n";
            let mut left = HUNDRED_MIB - FEED_HEAD.len() - tail.len();
            let body = entries()
                .skip(1)
                .map(move |c| {
                    let n = c.len().min(left);
                    left -= n;
                    c.slice(..n)
                })
                .take_while(|c| std::future::ready(!c.is_empty()));
            let body = stream::iter([Bytes::from_static(FEED_HEAD.as_bytes())])
                .chain(body)
                .chain(stream::iter([Bytes::from_static(tail.as_bytes())]));
            let mut r = (atom, Body::from_stream(body.map(ok))).into_response();
            if mode == HUGE_DECLARED {
                r.headers_mut()
                    .insert(header::CONTENT_LENGTH, HUNDRED_MIB.into());
            }
            Some(r)
        }
        TRICKLE => {
            let body = stream::unfold(true, |first| async move {
                if !first {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                let b = if first {
                    Bytes::from_static(FEED_HEAD.as_bytes())
                } else {
                    Bytes::from_static(b" ")
                };
                Some((ok(b), false))
            });
            Some((atom, Body::from_stream(body)).into_response())
        }
        HTML => Some(
            (
                [(header::CONTENT_TYPE, "text/html")],
                "<!DOCTYPE html><html><body>Please log in</body></html>",
            )
                .into_response(),
        ),
        _ => None,
    }
}

/// Calibre-Web's root catalog: a navigation feed with its two search links.
async fn root(State(FakeState(fake)): State<FakeState>, headers: HeaderMap) -> Response {
    if let Some(r) = refusal(&fake, &headers).await {
        return r;
    }
    if fake.mode.load(Ordering::SeqCst) == HTML {
        return hostile(HTML).unwrap_or_default();
    }
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:uuid:root</id>
  <title>Calibre-Web</title>
  <link rel="search"
        href="/cw/opds/osd" type="application/opensearchdescription+xml"/>
  <link type="application/atom+xml" rel="search" title="Search"
        href="/cw/opds/search/{searchTerms}"/>
  <entry><title>New</title><id>/cw/opds/new</id>
    <link rel="subsection" href="/cw/opds/new" type="application/atom+xml;profile=opds-catalog"/>
  </entry>
</feed>
"#;
    ([(header::CONTENT_TYPE, "application/atom+xml")], body).into_response()
}

/// Calibre-Web's OpenSearch description.
async fn osd(State(FakeState(fake)): State<FakeState>, headers: HeaderMap) -> Response {
    fake.search_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = refusal(&fake, &headers).await {
        return r;
    }
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">
  <LongName>Calibre-Web</LongName>
  <ShortName>Calibre-Web</ShortName>
  <Description>Calibre-Web ebook catalog</Description>
  <Url type="text/html" template="/cw/search?query={searchTerms}"/>
  <Url type="application/atom+xml" template="/cw/opds/search/{searchTerms}"/>
  <InputEncoding>UTF-8</InputEncoding>
</OpenSearchDescription>
"#;
    (
        [(
            header::CONTENT_TYPE,
            "application/opensearchdescription+xml",
        )],
        body,
    )
        .into_response()
}

/// `/opds/search/<terms>`: the books whose title contains the terms (any case).
async fn search(
    State(FakeState(fake)): State<FakeState>,
    headers: HeaderMap,
    Path(terms): Path<String>,
) -> Response {
    fake.search_calls.fetch_add(1, Ordering::SeqCst);
    if let Some(r) = refusal(&fake, &headers).await {
        return r;
    }
    let terms = terms.to_lowercase();
    let mut body = FEED_HEAD.to_string();
    for n in 1..=fake.books {
        if format!("book {n} & co").contains(&terms) {
            body.push_str(&entry(n));
        }
    }
    body.push_str("</feed>\n");
    ([(header::CONTENT_TYPE, "application/atom+xml")], body).into_response()
}

/// Starts the fake Calibre-Web; its base URL is `http://127.0.0.1:PORT/cw`.
pub(crate) async fn fake_calibre(books: usize, per_page: usize) -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake {
        books,
        per_page,
        mode: AtomicU8::new(UP),
        search_calls: AtomicUsize::new(0),
        feed_calls: AtomicUsize::new(0),
        cover_calls: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/cw/opds", get(root))
        .route("/cw/opds/osd", get(osd))
        .route("/cw/opds/search/{terms}", get(search))
        .route("/cw/opds/new", get(feed))
        .route("/cw/opds/cover/{n}", get(cover))
        .with_state(FakeState(fake.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the fake Calibre-Web");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (fake, format!("http://{addr}/cw"))
}

pub(crate) async fn hub(backend: Backend, url: &str, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("CALIBRE_WEB_URL", url),
        ("CALIBRE_WEB_USERNAME", CW_USER),
        ("CALIBRE_WEB_PASSWORD", CW_PASSWORD),
    ];
    env.extend_from_slice(extra);
    start(backend, &env).await
}

pub(crate) async fn admin(s: &Server) -> Client {
    let out = s.cli(
        &["user", "create", "root", "--admin"],
        Some(&format!("{PW}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    logged_in(s, "root", PW).await
}

/// `/health/deep`'s calibre_web component, polled until its status is `want`.
pub(crate) async fn wait_for(s: &Server, want: &str) -> Value {
    let mut c = s.client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = c.get("/health/deep").send().await;
        let v = r.json();
        if v["components"]["calibre_web"]["status"] == want {
            return v;
        }
        assert!(Instant::now() < deadline, "calibre_web never {want}: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn ebooks(content: &Value) -> Vec<Value> {
    content["content"]
        .as_array()
        .expect("content")
        .iter()
        .filter(|i| i["type"] == "ebook")
        .cloned()
        .collect()
}

pub(crate) async fn sync_now(c: &mut Client) -> crate::helpers::Resp {
    let t = c.csrf().await;
    c.post("/api/admin/sync-ebooks")
        .header("X-CSRFToken", &t)
        .send()
        .await
}

fn no_secret(s: &Server, bodies: &[&str]) {
    for b in bodies {
        assert!(!b.contains(CW_PASSWORD), "password in an answer");
    }
    assert!(
        s.logs().iter().all(|l| !l.contains(CW_PASSWORD)),
        "password in a log line"
    );
}

async fn library_is_synchronised_and_served(backend: Backend) {
    let (fake, url) = fake_calibre(25, 10).await;
    let s = hub(backend, &url, &[]).await;
    let health = wait_for(&s, "healthy").await;
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["components"]["calibre_web"]["books"], 25);
    assert_eq!(fake.feed_calls.load(Ordering::SeqCst), 3, "three pages");

    // /api/content: the courses, then every book in feed order, in the original's shape.
    let mut anon = s.client();
    let content = anon.get("/api/content").send().await.json();
    let items = content["content"].as_array().expect("items");
    let first_book = items
        .iter()
        .position(|i| i["type"] == "ebook")
        .expect("books");
    assert!(first_book > 0 && items[..first_book].iter().all(|i| i["type"] == "course"));
    let books = ebooks(&content);
    assert_eq!(books.len(), 25);
    assert_eq!(
        books[2],
        json!({"type": "ebook", "uid": "calibre-3", "title": "Book 3 & Co",
               "author": "Author 3", "path": "/textbook/calibre-3",
               "reader_url": "/calibre-web/read/3/epub",
               "cover_path": "/api/calibre/cover/3",
               "categories": ["Physics", "Shelf 0"]})
    );
    assert_eq!(books[24]["uid"], "calibre-25", "the last page too");

    // The book page: shown from the stored copy; malformed and unknown ids are 404.
    let page = anon
        .get("/textbook/calibre-3")
        .header("accept", "text/html")
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Book 3 ") && page.body.contains("About book 3"));
    for bad in [
        "calibre-999",
        "calibre-x",
        "3",
        "calibre-03x",
        "calibre-1%2F2",
    ] {
        let r = anon.get(&format!("/textbook/{bad}")).send().await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }

    // A reader: GET writes nothing; Read records and redirects; notes and progress.
    s.create_user("reader", PW);
    let mut u = logged_in(&s, "reader", PW).await;
    let page = u
        .get("/textbook/calibre-4")
        .header("accept", "text/html")
        .send()
        .await;
    let profile = u.get("/profile").header("accept", "text/html").send().await;
    assert!(!profile.body.contains("Book 4 "), "no write on GET");
    let token = form_token(&page.body);
    let read = u
        .post("/textbook/calibre-4/read")
        .form(&[("csrf_token", &token)])
        .send()
        .await;
    assert_eq!(read.status, StatusCode::SEE_OTHER);
    assert_eq!(
        read.header("location").as_deref(),
        Some("/calibre-web/read/4/epub")
    );
    let profile = u.get("/profile").header("accept", "text/html").send().await;
    let reading = &profile.body[profile.body.find("Currently Reading").expect("section")..];
    assert!(reading.contains("Book 4 "));
    let t = u.csrf().await;
    let r = u
        .post("/api/textbook/note")
        .header("X-CSRFToken", &t)
        .json(&json!({"book_id": "calibre-4", "content": "chapter 2 <b>"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = u.get("/api/textbook/calibre-4/note").send().await;
    assert_eq!(r.json(), json!({"content": "chapter 2 <b>"}));
    let r = u.get("/api/textbook/calibre-5/note").send().await;
    assert_eq!(r.json(), json!({"content": ""}));
    for (id, status) in [("calibre-999", 404), ("nope", 404)] {
        let r = u
            .post("/api/textbook/note")
            .header("X-CSRFToken", &t)
            .json(&json!({"book_id": id, "content": "x"}))
            .send()
            .await;
        assert_error(
            &r,
            StatusCode::from_u16(status).expect("code"),
            "Book not found.",
        );
    }
    let r = u
        .post("/api/textbook/note")
        .header("X-CSRFToken", &t)
        .json(&json!({"book_id": "calibre-4", "content": "a".repeat(20_001)}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = u
        .post("/api/textbook/progress")
        .header("X-CSRFToken", &t)
        .json(&json!({"book_id": "calibre-4", "status": "completed"}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let profile = u.get("/profile").header("accept", "text/html").send().await;
    assert!(profile.body.contains("Finished") && profile.body.contains("chapter 2 "));
    let mut other = anon.get("/api/textbook/calibre-4/note").send().await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    other = s
        .client()
        .get("/textbook/calibre-4")
        .header("accept", "text/html")
        .send()
        .await;
    assert!(!other.body.contains("chapter 2"));

    // Covers: fetched once, then served from the cache with an ETag; HTML is no cover.
    let calls = fake.cover_calls.load(Ordering::SeqCst);
    let c1 = anon.get("/api/calibre/cover/3").send().await;
    assert_eq!(c1.status, StatusCode::OK);
    assert_eq!(c1.header("content-type").as_deref(), Some("image/png"));
    let etag = c1.header("etag").expect("etag");
    assert!(
        c1.header("cache-control")
            .expect("cache")
            .contains("max-age")
    );
    let c2 = anon
        .get("/api/calibre/cover/3")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(c2.status, StatusCode::NOT_MODIFIED);
    let c3 = anon.get("/api/calibre/cover/3").send().await;
    assert_eq!(c3.status, StatusCode::OK);
    assert_eq!(
        fake.cover_calls.load(Ordering::SeqCst),
        calls + 1,
        "one Calibre call"
    );
    for bad in ["2", "999", "abc", "3.png", "-1", "99999999999999999999"] {
        let r = anon.get(&format!("/api/calibre/cover/{bad}")).send().await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }

    // Catalog search and subject filters cover the books; Featured Textbooks on the home page.
    let home = anon.get("/").header("accept", "text/html").send().await;
    assert!(
        home.body.contains("Featured Textbooks") && home.body.contains("/textbook/calibre-1\"")
    );
    let found = anon
        .get("/?q=Author+17")
        .header("accept", "text/html")
        .send()
        .await;
    assert!(
        found.body.contains("/textbook/calibre-17\"")
            && !found.body.contains("/textbook/calibre-16\"")
    );
    let by_subject = anon
        .get("/?category=Shelf+2")
        .header("accept", "text/html")
        .send()
        .await;
    assert!(
        by_subject.body.contains("/textbook/calibre-2\"")
            && !by_subject.body.contains("/textbook/calibre-3\"")
    );

    // /auth/check for nginx.
    let r = u.get("/auth/check").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-remote-user").as_deref(), Some("reader"));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let r = anon
        .get("/auth/check")
        .header("x-remote-user", "admin")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("x-remote-user").is_none());
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));

    // The admin's count.
    let mut a = admin(&s).await;
    let st = a.get("/api/admin/status").send().await.json();
    assert_eq!(st["ebooks_count"], 25);
    no_secret(&s, &[&content.to_string(), &st.to_string()]);
}

async fn the_last_good_copy_outlives_an_outage(backend: Backend) {
    let (fake, url) = fake_calibre(12, 5).await;
    let s = hub(backend, &url, &[("CALIBRE_REFRESH_INTERVAL", "10")]).await;
    wait_for(&s, "healthy").await;
    let mut a = admin(&s).await;

    fake.mode.store(DOWN, Ordering::SeqCst);
    let r = sync_now(&mut a).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.body);
    assert!(
        r.json()["error"]
            .as_str()
            .expect("error")
            .contains("HTTP 503")
    );
    let h = s.client().get("/health/deep").send().await;
    assert_eq!(h.status, StatusCode::OK, "degraded is not failed");
    assert_eq!(h.json()["status"], "degraded");
    assert_eq!(h.json()["components"]["calibre_web"]["status"], "degraded");
    let content = s.client().get("/api/content").send().await.json();
    assert_eq!(ebooks(&content).len(), 12, "the last good copy is served");
    let d = a.get("/api/admin/diagnostics").send().await.json();
    assert_eq!(d["calibre"]["status"], "warn");
    assert_eq!(d["calibre"]["books"], 12);
    assert!(
        d["doctor"]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["id"] == "calibre.sync" && c["status"] == "warn")
    );
    let page = a
        .get("/admin/diagnostics")
        .header("accept", "text/html")
        .send()
        .await;
    assert!(
        page.body.contains("Calibre-Web") && page.body.contains("the last good copy is served")
    );

    fake.mode.store(WRONG_AUTH, Ordering::SeqCst);
    let r = sync_now(&mut a).await;
    assert!(
        r.json()["error"]
            .as_str()
            .expect("error")
            .contains("refused the credentials")
    );

    // Recovery by itself, within the refresh interval.
    fake.mode.store(UP, Ordering::SeqCst);
    wait_for(&s, "healthy").await;
    let r = sync_now(&mut a).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["ebooks_count"], 12);
    let audit = a.get("/api/admin/audit").send().await;
    assert!(audit.body.contains("sync-ebooks"), "{}", audit.body);
    no_secret(&s, &[&d.to_string(), &page.body]);
}

async fn no_calibre_means_no_ebooks(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = s.client();
    let content = c.get("/api/content").send().await.json();
    assert!(ebooks(&content).is_empty());
    let h = c.get("/health/deep").send().await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json()["components"]["calibre_web"]["status"], "disabled");
    for p in ["/textbook/calibre-1", "/api/calibre/cover/1"] {
        assert_eq!(c.get(p).send().await.status, StatusCode::NOT_FOUND, "{p}");
    }
    let mut a = admin(&s).await;
    let r = sync_now(&mut a).await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "E-books are not configured (CALIBRE_WEB_URL is not set).",
    );
    assert!(
        s.logs().iter().all(|l| !l.contains("ebooks_sync")),
        "no log line without Calibre"
    );
}

/// 2,000 books in pages of 100: the walk and the store take seconds, not minutes.
async fn two_thousand_books(backend: Backend) {
    let (fake, url) = fake_calibre(2_000, 100).await;
    let s = hub(backend, &url, &[]).await;
    wait_for(&s, "healthy").await;
    let mut a = admin(&s).await;
    let started = Instant::now();
    let r = sync_now(&mut a).await;
    let took = started.elapsed();
    assert_eq!(r.json()["ebooks_count"], 2_000);
    assert_eq!(fake.feed_calls.load(Ordering::SeqCst), 40);
    let d = a.get("/api/admin/diagnostics").send().await.json();
    eprintln!(
        "sync of 2000 books ({backend:?}): {} ms in the server, {} ms for the request",
        d["calibre"]["last_duration_ms"],
        took.as_millis()
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    let content = s.client().get("/api/content").send().await.json();
    assert_eq!(ebooks(&content).len(), 2_000);
}

both_backends!(
    library_is_synchronised_and_served,
    the_last_good_copy_outlives_an_outage,
    no_calibre_means_no_ebooks,
    two_thousand_books,
);
