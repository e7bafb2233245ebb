//! Progress and notes (docs/original.md "Progress and notes", issue 5 point 3): the JSON API and the course
//! page's form posts, their validation, per-user isolation, login and CSRF requirements, and
//! how they show in `/api/content` and `/api/profile`. Every test runs on SQLite and on
//! PostgreSQL.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, Client, Resp, Server, assert_error, new_user_with_token, start};

const COURSE: &str = "learn-101";
const COURSE2: &str = "learn-202";
const COURSE3: &str = "learn-303";
/// A uid with characters that must be escaped in a URL path.
const ODD_COURSE: &str = "18.06 linear/algebra";

both_backends!(
    progress_statuses,
    notes_get_set_clear,
    users_are_isolated,
    anonymous_is_401,
    csrf_token_required,
    content_and_profile_reflect_progress_and_notes,
    course_page_form_posts,
);

async fn with_courses(backend: Backend) -> Server {
    let s = start(backend, &[]).await;
    let pool = s.db.pool().await;
    for (uid, title, thumb) in [
        (COURSE, "Learning One", "learn-101/thumb.jpg"),
        (COURSE2, "Learning Two", ""),
        (COURSE3, "Learning Three", ""),
        (ODD_COURSE, "Linear Algebra", ""),
    ] {
        sqlx::query(
            "INSERT INTO courses (uid, title, thumbnail, description, categories, created_at) \
             VALUES ($1, $2, $3, 'A test course.', 'Testing', 0)",
        )
        .bind(uid)
        .bind(title)
        .bind(thumb)
        .execute(&pool)
        .await
        .expect("insert course");
    }
    pool.close().await;
    s
}

async fn post_json(c: &mut Client, token: &str, path: &str, body: &Value) -> Resp {
    c.post(path)
        .header("X-CSRFToken", token)
        .json(body)
        .send()
        .await
}

async fn set_progress(c: &mut Client, token: &str, uid: &str, status: &str) -> Resp {
    post_json(
        c,
        token,
        "/api/course/progress",
        &json!({"course_uid": uid, "status": status}),
    )
    .await
}

async fn save_note(c: &mut Client, token: &str, uid: &str, content: &str) -> Resp {
    post_json(
        c,
        token,
        "/api/course/note",
        &json!({"course_uid": uid, "content": content}),
    )
    .await
}

fn note_path(uid: &str) -> String {
    let enc: String = uid
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("/api/course/{enc}/note")
}

async fn get_note(c: &mut Client, uid: &str) -> String {
    let r = c.get(&note_path(uid)).send().await;
    assert_eq!(r.status, StatusCode::OK, "GET note {uid}: {}", r.body);
    r.json()["content"]
        .as_str()
        .expect("content is a string")
        .to_string()
}

/// The `/api/content` entry for `uid`.
async fn content_entry(c: &mut Client, uid: &str) -> Value {
    let r = c.get("/api/content").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["content"]
        .as_array()
        .expect("content array")
        .iter()
        .find(|e| e["uid"] == uid)
        .unwrap_or_else(|| panic!("{uid} not in /api/content"))
        .clone()
}

async fn progress_of(c: &mut Client, uid: &str) -> String {
    content_entry(c, uid).await["user_progress"]
        .as_str()
        .expect("user_progress")
        .to_string()
}

fn assert_bad_request(r: &Resp, what: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.body);
    assert!(
        r.json()["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: {}",
        r.body
    );
}

async fn progress_statuses(backend: Backend) {
    let s = with_courses(backend).await;
    let (mut c, t) = new_user_with_token(&s, "alice").await;
    assert_eq!(progress_of(&mut c, COURSE).await, "Not Started");

    for status in ["In Progress", "Completed", "Not Started", "In Progress"] {
        let r = set_progress(&mut c, &t, COURSE, status).await;
        assert_eq!(r.status, StatusCode::OK, "{status}: {}", r.body);
        assert_eq!(
            r.json(),
            json!({"message": "Progress updated successfully."})
        );
        assert_eq!(progress_of(&mut c, COURSE).await, status);
    }
    // An upsert: one row however often it changes.
    assert_eq!(s.db.count("course_progress").await, 1);

    // Anything but the three exact statuses is refused and changes nothing.
    for bad in [
        json!({"course_uid": COURSE, "status": "completed"}),
        json!({"course_uid": COURSE, "status": "Completed "}),
        json!({"course_uid": COURSE, "status": "Done"}),
        json!({"course_uid": COURSE, "status": ""}),
        json!({"course_uid": COURSE, "status": 5}),
        json!({"course_uid": COURSE, "status": ["Completed"]}),
        json!({"course_uid": COURSE, "status": null}),
        json!({"course_uid": COURSE}),
        json!({"status": "Completed"}),
        json!({"course_uid": 7, "status": "Completed"}),
        json!({}),
    ] {
        let r = post_json(&mut c, &t, "/api/course/progress", &bad).await;
        assert_bad_request(&r, &bad.to_string());
    }
    let r = set_progress(&mut c, &t, COURSE, "Finished").await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Status must be one of: Not Started, In Progress, Completed.",
    );
    assert_eq!(progress_of(&mut c, COURSE).await, "In Progress");

    // Unknown courses, including uids no course could have.
    for uid in ["no-such-course", "", "nul\u{0}byte", &"x".repeat(300)] {
        let r = set_progress(&mut c, &t, uid, "Completed").await;
        assert_error(&r, StatusCode::NOT_FOUND, "Course not found.");
    }
    // Not JSON.
    let r = c
        .post("/api/course/progress")
        .header("X-CSRFToken", &t)
        .body("text/plain", "course_uid=learn-101&status=Completed")
        .send()
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    let r = c
        .post("/api/course/progress")
        .header("X-CSRFToken", &t)
        .body("application/json", "{not json")
        .send()
        .await;
    assert_bad_request(&r, "malformed JSON");
    assert_eq!(s.db.count("course_progress").await, 1);
}

async fn notes_get_set_clear(backend: Backend) {
    let s = with_courses(backend).await;
    let (mut c, t) = new_user_with_token(&s, "alice").await;

    assert_eq!(get_note(&mut c, COURSE).await, "");
    let r = c.get(&note_path("no-such-course")).send().await;
    assert_error(&r, StatusCode::NOT_FOUND, "Course not found.");
    let r = c.get("/api/course/nul%00byte/note").send().await;
    assert_error(&r, StatusCode::NOT_FOUND, "Course not found.");

    let r = save_note(&mut c, &t, COURSE, "Read chapter 2.\nTry the problem set.").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), json!({"message": "Note saved successfully."}));
    assert_eq!(
        get_note(&mut c, COURSE).await,
        "Read chapter 2.\nTry the problem set."
    );
    assert_eq!(
        content_entry(&mut c, COURSE).await["user_note"],
        "Read chapter 2.\nTry the problem set."
    );

    // Exactly 20,000 characters (multi-byte ones count as one) is allowed; one more is not.
    let longest = "é".repeat(20_000);
    let r = save_note(&mut c, &t, COURSE, &longest).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get_note(&mut c, COURSE).await, longest);
    let r = save_note(&mut c, &t, COURSE, &"a".repeat(20_001)).await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Note must not exceed 20000 characters.",
    );
    assert_eq!(get_note(&mut c, COURSE).await, longest);

    // Control characters other than tabs and line breaks, and non-strings, are refused.
    let r = save_note(&mut c, &t, COURSE, "nul\u{0}byte").await;
    assert_bad_request(&r, "NUL in note");
    let r = post_json(
        &mut c,
        &t,
        "/api/course/note",
        &json!({"course_uid": COURSE, "content": 42}),
    )
    .await;
    assert_bad_request(&r, "numeric note");
    let r = post_json(&mut c, &t, "/api/course/note", &json!({"content": "x"})).await;
    assert_bad_request(&r, "note without course_uid");
    let r = save_note(&mut c, &t, "no-such-course", "x").await;
    assert_error(&r, StatusCode::NOT_FOUND, "Course not found.");
    assert_eq!(get_note(&mut c, COURSE).await, longest);

    // The empty note clears it; so does a missing content (the original's default).
    let r = save_note(&mut c, &t, COURSE, "").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get_note(&mut c, COURSE).await, "");
    save_note(&mut c, &t, COURSE, "again").await;
    let r = post_json(
        &mut c,
        &t,
        "/api/course/note",
        &json!({"course_uid": COURSE}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get_note(&mut c, COURSE).await, "");
    assert_eq!(content_entry(&mut c, COURSE).await["user_note"], "");

    // Odd uids work through the URL.
    save_note(&mut c, &t, ODD_COURSE, "odd").await;
    assert_eq!(get_note(&mut c, ODD_COURSE).await, "odd");
    assert_eq!(s.db.count("course_notes").await, 2);
}

async fn users_are_isolated(backend: Backend) {
    let s = with_courses(backend).await;
    let (mut a, ta) = new_user_with_token(&s, "alice").await;
    let (mut b, tb) = new_user_with_token(&s, "bob").await;

    assert_eq!(
        set_progress(&mut a, &ta, COURSE, "Completed").await.status,
        StatusCode::OK
    );
    assert_eq!(
        save_note(&mut a, &ta, COURSE, "alice's secret")
            .await
            .status,
        StatusCode::OK
    );

    // Bob sees none of it, anywhere.
    assert_eq!(get_note(&mut b, COURSE).await, "");
    let e = content_entry(&mut b, COURSE).await;
    assert_eq!(
        (e["user_progress"].as_str(), e["user_note"].as_str()),
        (Some("Not Started"), Some(""))
    );
    let p = b.get("/api/profile").send().await.json();
    assert_eq!(p["courses_completed"], json!([]));
    assert_eq!(p["courses_in_progress"], json!([]));
    assert_eq!(p["notes"], json!([]));
    assert!(!b.get("/api/profile").send().await.body.contains("secret"));
    // Nor does an anonymous visitor.
    let e = content_entry(&mut s.client(), COURSE).await;
    assert_eq!(
        (e["user_progress"].as_str(), e["user_note"].as_str()),
        (Some("Not Started"), Some(""))
    );

    // Bob's writes only touch his own rows, whatever he puts in the body.
    assert_eq!(
        set_progress(&mut b, &tb, COURSE, "In Progress")
            .await
            .status,
        StatusCode::OK
    );
    let r = post_json(
        &mut b,
        &tb,
        "/api/course/note",
        &json!({"course_uid": COURSE, "content": "bob's", "user_id": 1, "username": "alice"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(get_note(&mut a, COURSE).await, "alice's secret");
    assert_eq!(progress_of(&mut a, COURSE).await, "Completed");
    assert_eq!(get_note(&mut b, COURSE).await, "bob's");
    assert_eq!(progress_of(&mut b, COURSE).await, "In Progress");
    // Bob clearing his note leaves Alice's.
    save_note(&mut b, &tb, COURSE, "").await;
    assert_eq!(get_note(&mut a, COURSE).await, "alice's secret");

    // Each user's token only works for that user's session.
    let r = set_progress(&mut b, &ta, COURSE, "Completed").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(progress_of(&mut b, COURSE).await, "In Progress");

    assert_eq!(s.db.count("course_progress").await, 2);
    assert_eq!(s.db.count("course_notes").await, 2);
}

async fn anonymous_is_401(backend: Backend) {
    let s = with_courses(backend).await;
    let mut anon = s.client();
    let r = anon.get(&note_path(COURSE)).send().await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "Authentication required.");
    // With a valid (anonymous) CSRF token the request gets past the guard and is refused.
    let t = anon.csrf().await;
    let r = set_progress(&mut anon, &t, COURSE, "Completed").await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "Authentication required.");
    let r = save_note(&mut anon, &t, COURSE, "x").await;
    assert_error(&r, StatusCode::UNAUTHORIZED, "Authentication required.");
    for path in ["/course/learn-101/progress", "/course/learn-101/note"] {
        let r = anon
            .post(path)
            .form(&[
                ("status", "Completed"),
                ("content", "x"),
                ("csrf_token", &t),
            ])
            .send()
            .await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "Authentication required.");
    }
    assert_eq!(s.db.count("course_progress").await, 0);
    assert_eq!(s.db.count("course_notes").await, 0);
}

async fn csrf_token_required(backend: Backend) {
    let s = with_courses(backend).await;
    let (mut c, t) = new_user_with_token(&s, "alice").await;
    for (path, body) in [
        (
            "/api/course/progress",
            json!({"course_uid": COURSE, "status": "Completed"}),
        ),
        (
            "/api/course/note",
            json!({"course_uid": COURSE, "content": "x"}),
        ),
    ] {
        let r = c.post(path).json(&body).send().await;
        assert_error(&r, StatusCode::BAD_REQUEST, "The CSRF token is missing.");
        let r = post_json(&mut c, "not-a-token", path, &body).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "The CSRF token is invalid.");
    }
    for (path, field, value) in [
        ("/course/learn-101/progress", "status", "Completed"),
        ("/course/learn-101/note", "content", "x"),
    ] {
        let r = c.post(path).form(&[(field, value)]).send().await;
        assert_error(&r, StatusCode::BAD_REQUEST, "The CSRF token is missing.");
        // A cross-site form post is blocked even with the right token.
        let r = c
            .post(path)
            .header("Sec-Fetch-Site", "cross-site")
            .form(&[(field, value), ("csrf_token", &t)])
            .send()
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    assert_eq!(s.db.count("course_progress").await, 0);
    assert_eq!(s.db.count("course_notes").await, 0);
    // And with the token it works.
    assert_eq!(
        set_progress(&mut c, &t, COURSE, "Completed").await.status,
        StatusCode::OK
    );
}

async fn content_and_profile_reflect_progress_and_notes(backend: Backend) {
    let s = with_courses(backend).await;
    let (mut c, t) = new_user_with_token(&s, "alice").await;

    let p = c.get("/api/profile").send().await.json();
    assert_eq!(p["courses_in_progress"], json!([]));
    assert_eq!(p["courses_completed"], json!([]));
    assert_eq!(p["notes"], json!([]));

    let long_note = format!("{}{}", "n".repeat(100), "tail that is cut off");
    for (uid, status) in [
        (COURSE, "In Progress"),
        (COURSE2, "Completed"),
        (COURSE3, "Not Started"),
    ] {
        assert_eq!(
            set_progress(&mut c, &t, uid, status).await.status,
            StatusCode::OK
        );
    }
    for (uid, note) in [
        (COURSE, long_note.as_str()),
        (COURSE2, "short note"),
        (COURSE3, ""),
    ] {
        assert_eq!(
            save_note(&mut c, &t, uid, note).await.status,
            StatusCode::OK
        );
    }

    // /api/content: every course, with this user's status and full note.
    for (uid, status, note) in [
        (COURSE, "In Progress", long_note.as_str()),
        (COURSE2, "Completed", "short note"),
        (COURSE3, "Not Started", ""),
        (ODD_COURSE, "Not Started", ""),
    ] {
        let e = content_entry(&mut c, uid).await;
        assert_eq!(e["type"], "course");
        assert_eq!(e["user_progress"], status, "{uid}");
        assert_eq!(e["user_note"], note, "{uid}");
    }

    // /api/profile: the original's shapes. A course set back to "Not Started" is in neither
    // list; empty notes are not listed; notes are cut to 100 characters plus "...".
    let r = c.get("/api/profile").send().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = r.json();
    assert_eq!(
        p["courses_in_progress"],
        json!([{"uid": COURSE, "title": "Learning One", "thumbnail": "learn-101/thumb.jpg",
                "status": "In Progress"}])
    );
    assert_eq!(
        p["courses_completed"],
        json!([{"uid": COURSE2, "title": "Learning Two", "thumbnail": "", "status": "Completed"}])
    );
    let notes = p["notes"].as_array().expect("notes").clone();
    assert_eq!(notes.len(), 2, "{notes:?}");
    let find = |uid: &str| {
        notes
            .iter()
            .find(|n| n["course_uid"] == uid)
            .unwrap_or_else(|| panic!("no note for {uid}"))
            .clone()
    };
    assert_eq!(
        find(COURSE),
        json!({"type": "course", "course_uid": COURSE, "course_title": "Learning One",
               "content": format!("{}...", "n".repeat(100))})
    );
    assert_eq!(
        find(COURSE2),
        json!({"type": "course", "course_uid": COURSE2, "course_title": "Learning Two",
               "content": "short note"})
    );
    assert_eq!(p["reading_list"], json!([]));

    // Completing the in-progress course moves it.
    set_progress(&mut c, &t, COURSE, "Completed").await;
    let p = c.get("/api/profile").send().await.json();
    assert_eq!(p["courses_in_progress"], json!([]));
    let completed: Vec<&str> = p["courses_completed"]
        .as_array()
        .expect("completed")
        .iter()
        .filter_map(|e| e["uid"].as_str())
        .collect();
    assert_eq!(completed.len(), 2);
    assert!(completed.contains(&COURSE) && completed.contains(&COURSE2));
}

async fn course_page_form_posts(backend: Backend) {
    let s = with_courses(backend).await;
    let (mut c, t) = new_user_with_token(&s, "alice").await;

    let r = c
        .post("/course/learn-101/progress")
        .form(&[("status", "In Progress"), ("csrf_token", &t)])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location").as_deref(), Some("/course/learn-101"));
    assert_eq!(progress_of(&mut c, COURSE).await, "In Progress");

    let r = c
        .post("/course/learn-101/note")
        .form(&[("content", "line one\r\nline two"), ("csrf_token", &t)])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.header("location").as_deref(), Some("/course/learn-101"));
    // Stored with LF line breaks, as the page's maxlength counts them.
    assert_eq!(get_note(&mut c, COURSE).await, "line one\nline two");

    // The uid is escaped in the redirect.
    let r = c
        .post("/course/18.06%20linear%2Falgebra/progress")
        .form(&[("status", "Completed"), ("csrf_token", &t)])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.header("location").as_deref(),
        Some("/course/18.06%20linear%2Falgebra")
    );
    assert_eq!(progress_of(&mut c, ODD_COURSE).await, "Completed");

    // The same validation as the JSON API.
    for (path, pairs, status) in [
        (
            "/course/learn-101/progress",
            vec![("status", "Done")],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/course/learn-101/progress",
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "/course/nope/progress",
            vec![("status", "Completed")],
            StatusCode::NOT_FOUND,
        ),
        (
            "/course/nope/note",
            vec![("content", "x")],
            StatusCode::NOT_FOUND,
        ),
    ] {
        let mut pairs = pairs.clone();
        pairs.push(("csrf_token", &t));
        let r = c.post(path).form(&pairs).send().await;
        assert_eq!(r.status, status, "{path}: {}", r.body);
        assert!(r.json()["error"].is_string(), "{}", r.body);
    }
    let too_long = "a".repeat(20_001);
    let r = c
        .post("/course/learn-101/note")
        .form(&[("content", too_long.as_str()), ("csrf_token", &t)])
        .send()
        .await;
    assert_error(
        &r,
        StatusCode::BAD_REQUEST,
        "Note must not exceed 20000 characters.",
    );
    assert_eq!(progress_of(&mut c, COURSE).await, "In Progress");
    assert_eq!(get_note(&mut c, COURSE).await, "line one\nline two");

    // 20,000 characters as the page counts them (a line break is one) fit, although the
    // browser sends the break as CRLF.
    let at_limit = format!("{}\r\n{}", "a".repeat(10_000), "b".repeat(9_999));
    let r = c
        .post("/course/learn-101/note")
        .form(&[("content", at_limit.as_str()), ("csrf_token", &t)])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(get_note(&mut c, COURSE).await.chars().count(), 20_000);

    // An empty content field clears the note.
    let r = c
        .post("/course/learn-101/note")
        .form(&[("content", ""), ("csrf_token", &t)])
        .send()
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(get_note(&mut c, COURSE).await, "");
}
