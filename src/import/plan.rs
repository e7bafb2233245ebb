//! The import's decisions, made on what was read and before anything is written: new names,
//! usable hashes, course fields, statuses and orphans. Pure; every decision that changes or
//! drops something is written to the report.

use std::collections::{HashMap, HashSet};

use crate::{
    auth::password::{Format, UNUSABLE_HASH},
    catalog::{is_http_url, is_safe_relative},
    db::{
        catalog::Course,
        import::{Attached, Batch, NewUser},
        legacy::{self, Snapshot},
    },
    domain::{MAX_USERNAME, ProgressStatus, Username, username_key},
    time::now,
};

use super::{Report, ebooks};

/// Plans the whole import. `taken`: this hub's username keys; `imported`: the original
/// users an earlier run brought in (they are not renamed or reported again).
pub fn plan(
    s: &Snapshot,
    taken: &HashSet<String>,
    imported: &HashMap<i64, i64>,
    with_avatars: bool,
    r: &mut Report,
) -> Batch {
    r.source.users = s.users.len();
    r.source.courses = s.courses.len();
    r.source.progress = s.progress.len();
    r.source.notes = s.notes.len();
    r.source.ebook_notes = s.ebook_notes.len();
    r.source.ebook_progress = s.calibre_progress.len();
    r.unused = s.unused.iter().map(|(t, n)| (t.to_string(), *n)).collect();
    let mut batch = Batch::default();
    let mut taken = taken.clone();
    for u in &s.users {
        if imported.contains_key(&u.id) {
            batch.users.push(placeholder(u));
            continue;
        }
        batch.users.push(user(u, &mut taken, with_avatars, r));
    }
    let user_ids: HashSet<i64> = s.users.iter().map(|u| u.id).collect();
    let mut uids: HashMap<i64, String> = HashMap::new();
    for c in &s.courses {
        if let Some(course) = course(c, r) {
            uids.insert(c.id, course.uid.clone());
            batch.courses.push(course);
        }
    }
    for p in &s.progress {
        let Some(uid) = attach(
            r,
            "course_progress",
            p.id,
            p.user_id,
            p.course_id,
            &user_ids,
            &uids,
        ) else {
            continue;
        };
        let status = p.status.trim();
        let Some(known) = ProgressStatus::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(status))
        else {
            r.skip(
                "course_progress",
                p.id,
                format!(
                    "status {:?} is not Not Started, In Progress or Completed",
                    p.status
                ),
            );
            continue;
        };
        batch.progress.push(Attached {
            source_user: p.user_id,
            uid,
            value: known.as_str().to_string(),
        });
    }
    for n in &s.notes {
        let Some(uid) = attach(
            r,
            "course_note",
            n.id,
            n.user_id,
            n.course_id,
            &user_ids,
            &uids,
        ) else {
            continue;
        };
        batch.notes.push(Attached {
            source_user: n.user_id,
            uid,
            value: storable(r, "course_note", n.id, "content", &n.content),
        });
    }
    (batch.ebook_notes, batch.ebook_progress) = ebooks::plan(s, &user_ids, r);
    batch
}

/// The course uid a progress row or note attaches to, or `None` (reported) when its user
/// or course no longer exists in the original.
fn attach(
    r: &mut Report,
    table: &'static str,
    id: i64,
    user_id: i64,
    course_id: i64,
    users: &HashSet<i64>,
    uids: &HashMap<i64, String>,
) -> Option<String> {
    if !users.contains(&user_id) {
        r.skip(
            table,
            id,
            format!("orphan: user {user_id} no longer exists"),
        );
        return None;
    }
    match uids.get(&course_id) {
        Some(uid) => Some(uid.clone()),
        None => {
            r.skip(
                table,
                id,
                format!("orphan: course {course_id} no longer exists"),
            );
            None
        }
    }
}

/// A user already imported by an earlier run: `db::import::apply` leaves it alone.
fn placeholder(u: &legacy::User) -> NewUser {
    NewUser {
        source_id: u.id,
        username: String::new(),
        key: String::new(),
        password_hash: String::new(),
        is_admin: false,
        about_me: String::new(),
        gender: String::new(),
        pronouns: String::new(),
        created_at: 0,
    }
}

fn user(u: &legacy::User, taken: &mut HashSet<String>, avatars: bool, r: &mut Report) -> NewUser {
    let username = new_name(&u.username, taken);
    if username != u.username {
        let why = if Username::parse(&u.username).is_err() {
            "not a valid username here (3–64 of A–Z a–z 0–9 _ -)"
        } else {
            "the same as an earlier account's name, ignoring case"
        };
        r.rename(u.id, &u.username, &username, why);
    }
    let stored = u.password_hash.trim();
    let password_hash = match Format::of(stored) {
        Format::Argon2 | Format::Werkzeug => stored.to_string(),
        Format::Unusable => {
            r.unusable(u.id, &username, stored);
            UNUSABLE_HASH.to_string()
        }
    };
    let created_at = match parse_datetime(&u.created_at) {
        Some(t) => t,
        None => {
            r.change(
                "user",
                u.id,
                format!(
                    "created_at {:?} unreadable: set to the import's time",
                    u.created_at
                ),
            );
            now()
        }
    };
    let avatar = u.avatar.trim();
    if !avatars && !avatar.is_empty() && avatar != "default_avatar.png" {
        r.avatar(
            u,
            &format!("{avatar} not imported (run with --avatars DIR)"),
        );
    }
    NewUser {
        source_id: u.id,
        key: username_key(&username),
        username,
        password_hash,
        is_admin: u.is_admin != 0,
        about_me: storable(r, "user", u.id, "about_me", &u.about_me),
        gender: storable(r, "user", u.id, "gender", &u.gender),
        pronouns: storable(r, "user", u.id, "pronouns", &u.pronouns),
        created_at,
    }
}

/// The name an original username gets here: itself when valid and not taken in any case;
/// else its valid form (surrounding whitespace dropped, other characters `_`, padded to 3,
/// cut to 64), with `-2`, `-3`… until free. Marks it taken.
pub fn new_name(original: &str, taken: &mut HashSet<String>) -> String {
    let name = if Username::parse(original).is_ok() && !taken.contains(&username_key(original)) {
        original.to_string()
    } else {
        let mut base: String = original
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(MAX_USERNAME)
            .collect();
        if base.trim_matches('_').is_empty() {
            base = "user".into();
        }
        if base.len() < 3 {
            base.push_str("-user");
        }
        let mut candidate = base.clone();
        let mut n = 2;
        while taken.contains(&username_key(&candidate)) {
            let suffix = format!("-{n}");
            let keep = MAX_USERNAME - suffix.len();
            candidate = format!("{}{suffix}", &base[..base.len().min(keep)]);
            n += 1;
        }
        candidate
    };
    taken.insert(username_key(&name));
    name
}

/// The course as this hub stores it, with the original's legacy forms mapped; `None`
/// (reported) for a row without a uid.
fn course(c: &legacy::Course, r: &mut Report) -> Option<Course> {
    let uid = c.uid.trim();
    if uid.is_empty() || uid.contains('\0') {
        r.skip("course", c.id, "no uid".to_string());
        return None;
    }
    let mut title = storable(r, "course", c.id, "title", &c.title);
    if title.trim().is_empty() {
        r.change(
            "course",
            c.id,
            format!("empty title: the uid {uid:?} stands in"),
        );
        title = uid.to_string();
    }
    let path = match map_path(&c.path) {
        Mapped::Same(p) => p,
        Mapped::Legacy(p) => {
            r.change("course", c.id, format!("legacy path {:?} → {p:?}", c.path));
            p
        }
        Mapped::NoLaunch(p) => {
            r.change(
                "course",
                c.id,
                format!("path {:?} gives no launch link here", c.path),
            );
            p
        }
    };
    let mut license_url = c.license_url.trim().to_string();
    if !license_url.is_empty() && !is_http_url(&license_url) {
        r.change(
            "course",
            c.id,
            format!(
                "license_url {:?} dropped: not an http(s) URL",
                c.license_url
            ),
        );
        license_url.clear();
    }
    let mut thumbnail = c.thumbnail.trim().to_string();
    if thumbnail.contains("default") {
        r.change(
            "course",
            c.id,
            format!(
                "thumbnail {:?} is the original's placeholder: none",
                c.thumbnail
            ),
        );
        thumbnail.clear();
    }
    if !c.ocw_url.trim().is_empty() {
        r.change(
            "course",
            c.id,
            format!(
                "ocw_url {:?} not kept: this hub has no such field",
                c.ocw_url
            ),
        );
    }
    let mut f = |field: &'static str, v: &str| storable(r, "course", c.id, field, v);
    Some(Course {
        uid: uid.to_string(),
        title,
        description: f("description", &c.description),
        categories: f("categories", &c.categories),
        thumbnail,
        instructor: f("instructor", &c.instructor),
        course_number: f("course_number", &c.course_number),
        term: f("term", &c.term),
        year: f("year", &c.year),
        level: f("level", &c.level),
        department: f("department", &c.department),
        path,
        license_url,
        learning_resources: f("learning_resources", &c.learning_resources),
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Mapped {
    Same(String),
    Legacy(String),
    NoLaunch(String),
}

/// The original's `launch_url` rules, applied once: a relative path stays; a legacy
/// absolute path (Unix or Windows, `/` or `\`) containing a `courses` folder maps to what
/// follows it; anything else is kept as it was and gives no launch link.
fn map_path(raw: &str) -> Mapped {
    let p = raw.trim();
    if p.is_empty() || is_safe_relative(p) {
        return Mapped::Same(p.to_string());
    }
    let slashed = p.replace('\\', "/");
    if let Some(i) = slashed.to_ascii_lowercase().find("/courses/") {
        let rest = &slashed[i + "/courses/".len()..];
        if is_safe_relative(rest) {
            return Mapped::Legacy(rest.to_string());
        }
    }
    Mapped::NoLaunch(p.to_string())
}

/// A text value as it can be stored: whole, except NUL characters, which PostgreSQL text
/// cannot hold (dropped, and the original text reported).
pub(super) fn storable(
    r: &mut Report,
    table: &'static str,
    id: i64,
    field: &str,
    v: &str,
) -> String {
    if v.contains('\0') {
        r.change(
            table,
            id,
            format!("{field}: NUL characters removed from {v:?}"),
        );
        v.replace('\0', "")
    } else {
        v.to_string()
    }
}

/// The original's DATETIME text (`2025-03-14 09:26:53.000000`, SQLite; `2025-03-14
/// 09:26:53`, PostgreSQL), as unix seconds, UTC.
pub(super) fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.strip_suffix("+00").unwrap_or(s);
    let t = humantime::parse_rfc3339_weak(s).ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_valid_and_unique() {
        let mut taken = HashSet::new();
        assert_eq!(new_name("Dave", &mut taken), "Dave");
        assert_eq!(new_name("dave", &mut taken), "dave-2");
        assert_eq!(new_name("DAVE", &mut taken), "DAVE-3");
        assert_eq!(new_name("eve\n", &mut taken), "eve");
        assert_eq!(new_name("eve", &mut taken), "eve-2");
        assert_eq!(new_name("émile r.", &mut taken), "_mile_r_");
        assert_eq!(new_name("x", &mut taken), "x-user");
        assert_eq!(new_name("", &mut taken), "user");
        assert_eq!(new_name("  ", &mut taken), "user-2");
        let long = "a".repeat(70);
        assert_eq!(new_name(&long, &mut taken), "a".repeat(64));
        assert_eq!(new_name(&long, &mut taken), format!("{}-2", "a".repeat(62)));
    }

    #[test]
    fn legacy_paths_map_as_the_original_launched_them() {
        assert_eq!(
            map_path("x/index.html"),
            Mapped::Same("x/index.html".into())
        );
        assert_eq!(
            map_path("/srv/gleh/courses/x/index.html"),
            Mapped::Legacy("x/index.html".into())
        );
        assert_eq!(
            map_path("J:\\courses\\Legacy\\package\\index.html"),
            Mapped::Legacy("Legacy/package/index.html".into())
        );
        assert_eq!(
            map_path("C:\\stuff\\index.html"),
            Mapped::NoLaunch("C:\\stuff\\index.html".into())
        );
        assert_eq!(map_path(""), Mapped::Same(String::new()));
    }

    #[test]
    fn datetimes_of_both_engines() {
        assert_eq!(
            parse_datetime("2025-03-14 09:26:53.000000"),
            Some(1_741_944_413)
        );
        assert_eq!(parse_datetime("2025-03-14 09:26:53"), Some(1_741_944_413));
        assert_eq!(parse_datetime("2025-03-14T09:26:53"), Some(1_741_944_413));
        assert_eq!(parse_datetime(""), None);
        assert_eq!(parse_datetime("yesterday"), None);
    }
}
