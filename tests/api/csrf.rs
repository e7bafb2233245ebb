//! CSRF protection (docs/design.md "CSRF"; src/http/guard.rs, src/csrf.rs): the synchronizer
//! token on state-changing requests, the cross-origin check (Sec-Fetch-Site, then Origin)
//! on every unsafe request, the exempt JSON-only auth routes, and how tokens are bound to a
//! session or, for anonymous callers, to the client's IP address and User-Agent.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Client, PW, Resp, Server, assert_error, new_user, start};

const MISSING: &str = "The CSRF token is missing.";
const INVALID: &str = "The CSRF token is invalid.";
const BLOCKED: &str = "Cross-origin request blocked.";

/// POST /api/profile (JSON) with the jar's cookies and the given extra headers.
async fn post_profile(c: &mut Client, headers: &[(&str, &str)], about_me: &str) -> Resp {
    let mut req = c.post("/api/profile");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.json(&json!({"about_me": about_me})).send().await
}

fn assert_updated(r: &Resp) {
    assert_eq!(r.status, StatusCode::OK, "body: {}", r.body);
    assert_eq!(r.json()["message"], "Profile updated successfully");
}

async fn about_me(c: &mut Client) -> Value {
    let r = c.get("/api/profile").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["user"]["about_me"].clone()
}

/// (1) No token on a state-changing request with a session: 400 "missing", logged.
async fn missing_token_is_400_and_logged(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = new_user(&s, "alice").await;
    let r = post_profile(&mut c, &[], "no token").await;
    assert_error(&r, StatusCode::BAD_REQUEST, MISSING);
    let ev = s.wait_event("csrf_failure").await;
    assert_eq!(ev["reason"], "missing", "{ev}");
    // Nothing was stored.
    assert_ne!(about_me(&mut c).await, "no token");
}

/// (2) Garbage, truncated or altered tokens: 400 "invalid".
async fn invalid_tokens_are_400(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = new_user(&s, "alice").await;
    let real = c.csrf().await;
    let truncated = real[..real.len() / 2].to_string();
    let truncated_by_one = real[..real.len() - 1].to_string();
    // Change one character in the middle (not the last one, whose low bits base64 may ignore).
    let mid = real.len() / 2;
    let mut changed: Vec<char> = real.chars().collect();
    changed[mid] = if changed[mid] == 'A' { 'B' } else { 'A' };
    let changed: String = changed.into_iter().collect();
    assert_ne!(changed, real);
    for bad in [
        "invalid-token",
        "x",
        "AAAA",
        "====",
        "!!!",
        "null",
        truncated.as_str(),
        truncated_by_one.as_str(),
        changed.as_str(),
    ] {
        let r = post_profile(&mut c, &[("X-CSRFToken", bad)], "bad token").await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "token {bad:?}: {}",
            r.body
        );
        assert_eq!(r.json(), json!({"error": INVALID}), "token {bad:?}");
    }
    // The real one still works (the failures did not burn the session).
    let r = post_profile(&mut c, &[("X-CSRFToken", &real)], "good token").await;
    assert_updated(&r);
    assert_eq!(about_me(&mut c).await, "good token");
}

/// (3) A valid session-bound token works in either header and in the HTML form field.
async fn valid_token_in_headers_and_form(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = new_user(&s, "alice").await;
    let t1 = c.csrf().await;
    let r = post_profile(&mut c, &[("X-CSRFToken", &t1)], "via X-CSRFToken").await;
    assert_updated(&r);
    assert_eq!(about_me(&mut c).await, "via X-CSRFToken");

    let t2 = c.csrf().await;
    assert_ne!(t1, t2, "tokens are masked differently on each fetch");
    let r = post_profile(&mut c, &[("X-CSRF-Token", &t2)], "via X-CSRF-Token").await;
    assert_updated(&r);
    assert_eq!(about_me(&mut c).await, "via X-CSRF-Token");
    // The first token is still good too.
    let r = post_profile(&mut c, &[("X-CSRFToken", &t1)], "first again").await;
    assert_updated(&r);

    let t3 = c.csrf().await;
    let r = c
        .post("/profile")
        .form(&[
            ("about_me", "via form field"),
            ("pronouns", "they/them"),
            ("csrf_token", &t3),
        ])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location").as_deref(), Some("/profile?saved=1"));
    let r = c.get("/api/profile").send().await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["user"]["about_me"], "via form field");
    assert_eq!(r.json()["user"]["pronouns"], "they/them");

    // The same form without the field is refused as missing, and changes nothing.
    let r = c
        .post("/profile")
        .form(&[("about_me", "form without token")])
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, MISSING);
    assert_eq!(about_me(&mut c).await, "via form field");
}

/// (4) User B's session token with user A's cookie: 400 "invalid".
async fn token_from_another_session_is_invalid(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut a = new_user(&s, "alice").await;
    let mut b = new_user(&s, "bob").await;
    let tb = b.csrf().await;
    let r = post_profile(&mut a, &[("X-CSRFToken", &tb)], "b's token").await;
    assert_error(&r, StatusCode::BAD_REQUEST, INVALID);
    assert_ne!(about_me(&mut a).await, "b's token");
    // A second session of the same user is another session too.
    let mut a2 = s.client();
    assert_eq!(a2.login("alice", PW).await.status, StatusCode::OK);
    let ta2 = a2.csrf().await;
    let r = post_profile(&mut a, &[("X-CSRFToken", &ta2)], "a2's token").await;
    assert_error(&r, StatusCode::BAD_REQUEST, INVALID);
    // Each session's own token works.
    let tb2 = b.csrf().await;
    assert_updated(&post_profile(&mut b, &[("X-CSRFToken", &tb2)], "bob's").await);
}

/// (5) Sec-Fetch-Site decides: cross-site and same-site are 403 even with a valid token.
async fn sec_fetch_site(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = new_user(&s, "alice").await;
    let t = c.csrf().await;
    for site in ["cross-site", "same-site"] {
        let r = post_profile(
            &mut c,
            &[("X-CSRFToken", &t), ("Sec-Fetch-Site", site)],
            site,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{site}: {}", r.body);
        assert_eq!(r.json(), json!({"error": BLOCKED}), "{site}");
        assert_ne!(about_me(&mut c).await, site);
    }
    let ev = s.wait_event("csrf_failure").await;
    assert_eq!(ev["reason"], "cross_origin", "{ev}");
    for site in ["same-origin", "none"] {
        let r = post_profile(
            &mut c,
            &[("X-CSRFToken", &t), ("Sec-Fetch-Site", site)],
            site,
        )
        .await;
        assert_updated(&r);
        assert_eq!(about_me(&mut c).await, site);
    }
    // Sec-Fetch-Site wins over Origin: same-origin with a foreign Origin is allowed...
    let r = post_profile(
        &mut c,
        &[
            ("X-CSRFToken", &t),
            ("Sec-Fetch-Site", "same-origin"),
            ("Origin", "https://evil.example"),
        ],
        "fetch metadata first",
    )
    .await;
    assert_updated(&r);
    // ...and cross-site with our own Origin is not.
    let own = s.base.clone();
    let r = post_profile(
        &mut c,
        &[
            ("X-CSRFToken", &t),
            ("Sec-Fetch-Site", "cross-site"),
            ("Origin", &own),
        ],
        "x",
    )
    .await;
    assert_error(&r, StatusCode::FORBIDDEN, BLOCKED);
    // An allowed origin still needs the token.
    let r = post_profile(&mut c, &[("Sec-Fetch-Site", "same-origin")], "x").await;
    assert_error(&r, StatusCode::BAD_REQUEST, MISSING);
}

/// (6) Without Sec-Fetch-Site, Origin must be this host; `null` is refused. The check covers
/// the token-exempt /api/login too.
async fn origin_check(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = new_user(&s, "alice").await;
    let t = c.csrf().await;
    let lookalike = format!("{}.evil.example", s.base);
    for origin in ["https://evil.example", "null", lookalike.as_str()] {
        let r = post_profile(&mut c, &[("X-CSRFToken", &t), ("Origin", origin)], origin).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{origin}: {}", r.body);
        assert_eq!(r.json(), json!({"error": BLOCKED}), "{origin}");
    }
    assert_ne!(about_me(&mut c).await, "https://evil.example");
    let own = format!("http://{}", s.addr);
    let r = post_profile(
        &mut c,
        &[("X-CSRFToken", &t), ("Origin", &own)],
        "own origin",
    )
    .await;
    assert_updated(&r);
    assert_eq!(about_me(&mut c).await, "own origin");

    // The exempt login is still cross-origin checked: no session is created.
    for headers in [
        [("Sec-Fetch-Site", "cross-site")],
        [("Origin", "https://evil.example")],
    ] {
        let mut anon = s.client();
        let mut req = anon.post("/api/login");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let r = req
            .json(&json!({"username": "alice", "password": PW}))
            .send()
            .await;
        assert_error(&r, StatusCode::FORBIDDEN, BLOCKED);
        assert!(anon.session().is_none(), "no session from a blocked login");
    }
    // The same login from this origin works.
    let mut anon = s.client();
    let r = anon
        .post("/api/login")
        .header("Sec-Fetch-Site", "same-origin")
        .json(&json!({"username": "alice", "password": PW}))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(anon.session().is_some());
}

/// (7) /api/register, /api/login and /api/logout need no token but take JSON only.
async fn exempt_routes_json_only(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = s.client();
    let r = c.register("carol", PW).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = c.login("carol", PW).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(c.session().is_some());

    // Non-JSON bodies are refused before any credential check.
    let mut anon = s.client();
    let r = anon
        .post("/api/login")
        .body("application/x-www-form-urlencoded", "username=a&password=b")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    let r = anon
        .post("/api/login")
        .body(
            "application/x-www-form-urlencoded",
            format!("username=carol&password={PW}"),
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    assert!(anon.session().is_none());
    let r = anon
        .post("/api/login")
        .body(
            "text/plain",
            json!({"username": "carol", "password": PW}).to_string(),
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    assert!(anon.session().is_none());
    let r = anon
        .post("/api/register")
        .body(
            "application/x-www-form-urlencoded",
            format!("username=dave&password={PW}"),
        )
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);

    // A form-encoded logout does not log out.
    let r = c
        .post("/api/logout")
        .body("application/x-www-form-urlencoded", "x=1")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.status, StatusCode::OK, "still logged in");

    // A tokenless logout (no body, as docs/checklist.md §14's curl sends it) works.
    let copy = c.cookies.clone();
    let r = c.post("/api/logout").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["message"], "Logout successful.");
    c.cookies = copy;
    let r = c.get("/api/check_session").send().await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // A JSON logout with a JSON content type works too.
    let r = c.login("carol", PW).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = c.post("/api/logout").json(&json!({})).send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn counts(s: &Server) -> [i64; 4] {
    [
        s.db.count("sessions").await,
        s.db.count("rate_limits").await,
        s.db.count("login_failures").await,
        s.db.count("users").await,
    ]
}

fn well_formed(t: &str) -> bool {
    t.len() >= 43
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// (8) Anonymous token fetches write nothing to the database; tokens are unique and
/// URL-safe.
async fn anonymous_tokens_create_no_rows(backend: Backend) {
    let s = start(backend, &[]).await;
    let before = counts(&s).await;
    let mut anon = s.client();
    for _ in 0..5 {
        let r = anon.get("/csrf-token").send().await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.set_cookies().is_empty(),
            "anonymous fetch sets no cookie: {:?}",
            r.set_cookies()
        );
    }
    assert_eq!(
        counts(&s).await,
        before,
        "sessions, rate_limits, login_failures, users"
    );

    let mut seen = HashSet::new();
    for _ in 0..50 {
        let t = anon.csrf().await;
        assert!(well_formed(&t), "token shape: {t:?}");
        assert!(seen.insert(t.clone()), "duplicate token {t}");
    }
    assert_eq!(counts(&s).await, before);

    // Session-bound tokens are unique and well-formed too.
    let mut c = new_user(&s, "alice").await;
    let mut seen = HashSet::new();
    for _ in 0..10 {
        let t = c.csrf().await;
        assert!(well_formed(&t), "token shape: {t:?}");
        assert!(seen.insert(t), "duplicate session token");
    }
}

/// (9) An anonymous token works only from the User-Agent it was issued to.
async fn anonymous_token_bound_to_user_agent(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = new_user(&s, "alice").await;
    let r = s
        .client()
        .get("/csrf-token")
        .header("user-agent", "agent-x/1")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let t = r.json()["csrf_token"].as_str().expect("token").to_string();

    let r = c
        .post("/api/profile")
        .header("user-agent", "agent-y/1")
        .header("X-CSRFToken", &t)
        .json(&json!({"about_me": "other agent"}))
        .send()
        .await;
    assert_error(&r, StatusCode::BAD_REQUEST, INVALID);
    // The harness's default agent is another agent as well.
    let r = post_profile(&mut c, &[("X-CSRFToken", &t)], "default agent").await;
    assert_error(&r, StatusCode::BAD_REQUEST, INVALID);

    let r = c
        .post("/api/profile")
        .header("user-agent", "agent-x/1")
        .header("X-CSRFToken", &t)
        .json(&json!({"about_me": "same agent"}))
        .send()
        .await;
    assert_updated(&r);
    assert_eq!(about_me(&mut c).await, "same agent");

    // The seed's way: token fetched without cookies by the same client, used with the cookie.
    let t = Client::new(&s.base).csrf().await;
    let r = post_profile(&mut c, &[("X-CSRFToken", &t)], "seed way").await;
    assert_updated(&r);
}

/// (10) A session-bound token dies with its session.
async fn session_token_dies_with_session(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = new_user(&s, "alice").await;
    let old = c.csrf().await;
    let old_cookie = c.session();
    let r = c.post("/api/logout").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c.login("alice", PW).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_ne!(
        c.session(),
        old_cookie,
        "a new session after logging in again"
    );
    let r = post_profile(&mut c, &[("X-CSRFToken", &old)], "old token").await;
    assert_error(&r, StatusCode::BAD_REQUEST, INVALID);
    assert_ne!(about_me(&mut c).await, "old token");
    let new = c.csrf().await;
    assert_updated(&post_profile(&mut c, &[("X-CSRFToken", &new)], "new token").await);
}

/// (11) Safe methods need no token, with or without a session.
async fn safe_methods_need_no_token(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut anon = s.client();
    let mut c = new_user(&s, "alice").await;
    for client in [&mut anon, &mut c] {
        for path in ["/", "/api/content", "/health", "/csrf-token"] {
            let r = client.get(path).send().await;
            assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.body);
            let r = client.req(Method::HEAD, path).send().await;
            assert_eq!(r.status, StatusCode::OK, "HEAD {path}");
        }
    }
    // Even a cross-site GET is fine: the cross-origin check is for unsafe methods only.
    let r = c
        .get("/api/profile")
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK);
    // No CSRF failure was logged for any of these.
    assert!(
        !s.log_events().iter().any(|v| v["event"] == "csrf_failure"),
        "no csrf_failure for safe requests"
    );
}

/// An HTML upload form (multipart/form-data) carries the token as its `csrf_token` field.
async fn multipart_form_field(backend: Backend) {
    let s = start(backend, &[]).await;
    let mut c = new_user(&s, "uploader").await;
    let token = c.csrf().await;
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let body = |token: Option<&str>| {
        let b = "gleh-test-boundary";
        let mut out = Vec::new();
        if let Some(t) = token {
            out.extend_from_slice(
                format!(
                    "--{b}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{t}\r\n"
                )
                .as_bytes(),
            );
        }
        out.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes(),
        );
        out.extend_from_slice(&png);
        out.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        out
    };
    let ct = "multipart/form-data; boundary=gleh-test-boundary";
    let r = c
        .post("/api/profile/avatar")
        .body(ct, body(None))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "The CSRF token is missing.");
    let r = c
        .post("/api/profile/avatar")
        .body(ct, body(Some("invalid-token")))
        .send()
        .await;
    assert_eq!(r.json()["error"], "The CSRF token is invalid.");
    let r = c
        .post("/api/profile/avatar")
        .body(ct, body(Some(&token)))
        .send()
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.json()["avatar_url"]
            .as_str()
            .unwrap_or("")
            .starts_with("/avatars/")
    );
}

both_backends!(
    multipart_form_field,
    missing_token_is_400_and_logged,
    invalid_tokens_are_400,
    valid_token_in_headers_and_form,
    token_from_another_session_is_invalid,
    sec_fetch_site,
    origin_check,
    exempt_routes_json_only,
    anonymous_tokens_create_no_rows,
    anonymous_token_bound_to_user_agent,
    session_token_dies_with_session,
    safe_methods_need_no_token,
);
