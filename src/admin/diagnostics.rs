//! The admin panel's diagnostics (docs/design.md "Admin panel"): the database (reachable,
//! how fast), its migrations, the content folder, the TLS certificate's days left, free
//! disk for the logs, the Calibre-Web library's synchronisation, and `gleh doctor`'s lines. Each part has a `status` (`ok`, `warn`,
//! `fail`) and a short fixed message: never an error's text, never a secret. The file
//! system and doctor's checks block, so they run on the blocking pool.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use serde::Serialize;

use crate::{
    db::Backend,
    doctor::{self, LOG_MIN_FREE_BYTES, Line},
    ebooks::Health,
    http::{ApiError, ApiResult},
    state::AppState,
    time::now,
};

/// How long the database gets to answer.
const DB_TIMEOUT: Duration = Duration::from_secs(5);
/// Below this many days left, the certificate is a warning (doctor fails under 30 too).
const CERT_WARN_DAYS: i64 = 30;
/// At most this many entries of `CONTENT_DIR/courses` are looked at.
const MAX_PACKAGE_ENTRIES: usize = 100_000;

#[derive(Serialize)]
pub struct Diagnostics {
    pub database: Database,
    pub migrations: Migrations,
    pub content: Content,
    pub tls: Tls,
    pub log_disk: LogDisk,
    pub calibre: CalibreWeb,
    pub doctor: Doctor,
}

/// The e-book library: whether the last synchronisation with Calibre-Web worked, and the
/// stored copy's size and age (a failure is a warning: the last good copy is served).
#[derive(Serialize)]
pub struct CalibreWeb {
    pub status: &'static str,
    pub configured: bool,
    pub books: Option<i64>,
    pub last_success: Option<i64>,
    pub last_attempt: Option<i64>,
    pub last_duration_ms: Option<u64>,
    /// The last failure's reason (a fixed sentence), when the last attempt failed.
    pub last_error: Option<String>,
    pub message: &'static str,
}

#[derive(Serialize)]
pub struct Database {
    pub status: &'static str,
    pub backend: &'static str,
    pub reachable: bool,
    pub latency_ms: Option<f64>,
    pub message: &'static str,
}

#[derive(Serialize)]
pub struct Migrations {
    pub status: &'static str,
    pub applied: Option<usize>,
    pub pending: Vec<String>,
    pub message: &'static str,
}

#[derive(Serialize)]
pub struct Content {
    pub status: &'static str,
    pub exists: bool,
    pub readable: bool,
    pub course_packages: Option<usize>,
    pub message: &'static str,
}

#[derive(Serialize)]
pub struct Tls {
    pub status: &'static str,
    pub configured: bool,
    pub days_left: Option<i64>,
    pub message: &'static str,
}

#[derive(Serialize)]
pub struct LogDisk {
    pub status: &'static str,
    pub configured: bool,
    pub free_bytes: Option<u64>,
    pub min_free_bytes: u64,
    pub message: &'static str,
}

#[derive(Serialize)]
pub struct Doctor {
    pub checks: Vec<Check>,
    pub summary: Summary,
}

#[derive(Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: &'static str,
    pub message: String,
}

#[derive(Serialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

/// Every part, gathered now.
pub async fn gather(state: &AppState) -> ApiResult<Diagnostics> {
    let database = database(state).await;
    let migrations = if database.reachable {
        migrations(state).await
    } else {
        Migrations {
            status: "fail",
            applied: None,
            pending: Vec::new(),
            message: "Unknown: the database is out of reach.",
        }
    };
    let config = state.config.clone();
    let (content, local) = tokio::task::spawn_blocking(move || {
        (content(&config.content_dir), doctor::local_checks(&config))
    })
    .await
    .map_err(ApiError::internal)?;
    let tls = tls(state.config.tls.is_some(), local.cert_not_after);
    let log_disk = log_disk(state.config.log_dir.is_some(), local.log_free_bytes);
    let calibre = calibre(state).await;
    let mut checks = vec![
        Check {
            id: "db.reachable",
            status: if database.reachable { "pass" } else { "fail" },
            message: format!("database reachable — {}", database.message),
        },
        Check {
            id: "db.migrated",
            status: if migrations.status == "ok" {
                "pass"
            } else {
                "fail"
            },
            message: format!("database migrations — {}", migrations.message),
        },
    ];
    checks.extend(local.lines.into_iter().map(
        |Line {
             id,
             status,
             message,
         }| Check {
            id,
            status,
            message,
        },
    ));
    checks.push(Check {
        id: "calibre.sync",
        status: match calibre.status {
            "ok" => "pass",
            "fail" => "fail",
            _ => "warn",
        },
        message: format!("Calibre-Web library — {}", calibre.message),
    });
    let count = |s: &str| checks.iter().filter(|c| c.status == s).count();
    let summary = Summary {
        pass: count("pass"),
        warn: count("warn"),
        fail: count("fail"),
    };
    Ok(Diagnostics {
        database,
        migrations,
        content,
        tls,
        log_disk,
        calibre,
        doctor: Doctor { checks, summary },
    })
}

async fn calibre(state: &AppState) -> CalibreWeb {
    let lib = &state.ebooks;
    let st = lib.status();
    let books = tokio::time::timeout(DB_TIMEOUT, crate::db::ebooks::count(&state.db))
        .await
        .ok()
        .and_then(Result::ok);
    let (status, message) = match lib.health() {
        Health::Disabled => ("ok", "CALIBRE_WEB_URL is not set: no e-books."),
        Health::Starting => ("warn", "The first synchronisation has not finished yet."),
        Health::Healthy => ("ok", "The last synchronisation with Calibre-Web worked."),
        Health::Degraded => (
            "warn",
            "The last synchronisation failed: the last good copy is served.",
        ),
    };
    CalibreWeb {
        status,
        configured: lib.enabled(),
        books,
        last_success: st.last_success,
        last_attempt: st.last_attempt,
        last_duration_ms: st.duration_ms,
        last_error: st.last_error,
        message,
    }
}

async fn database(state: &AppState) -> Database {
    let backend = match state.db.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let started = Instant::now();
    let answered = tokio::time::timeout(DB_TIMEOUT, state.db.ping()).await;
    let ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    match answered {
        Ok(true) => Database {
            status: "ok",
            backend,
            reachable: true,
            latency_ms: Some(ms),
            message: "The database answers.",
        },
        Ok(false) => Database {
            status: "fail",
            backend,
            reachable: false,
            latency_ms: None,
            message: "The database refused the query.",
        },
        Err(_) => Database {
            status: "fail",
            backend,
            reachable: false,
            latency_ms: None,
            message: "The database did not answer within 5 s.",
        },
    }
}

async fn migrations(state: &AppState) -> Migrations {
    match tokio::time::timeout(DB_TIMEOUT, state.db.migration_status()).await {
        Ok(Ok((applied, pending))) if pending.is_empty() => Migrations {
            status: "ok",
            applied: Some(applied),
            pending,
            message: "Every migration is applied.",
        },
        Ok(Ok((applied, pending))) => Migrations {
            status: "fail",
            applied: Some(applied),
            pending,
            message: "Migrations are pending: run `gleh migrate`.",
        },
        _ => Migrations {
            status: "fail",
            applied: None,
            pending: Vec::new(),
            message: "The migration table cannot be read.",
        },
    }
}

/// `CONTENT_DIR/courses`: there, readable, and how many course packages (folders with
/// an `index.html` or a `data.json`) it holds.
fn content(content_dir: &Path) -> Content {
    let dir = content_dir.join("courses");
    let fail = |exists, message| Content {
        status: "fail",
        exists,
        readable: false,
        course_packages: None,
        message,
    };
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return fail(true, "CONTENT_DIR/courses is not a folder."),
        Err(_) => return fail(false, "CONTENT_DIR/courses does not exist."),
    }
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return fail(true, "CONTENT_DIR/courses cannot be read.");
    };
    let packages = entries
        .take(MAX_PACKAGE_ENTRIES)
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| e.path().join("index.html").is_file() || e.path().join("data.json").is_file())
        .count();
    Content {
        status: "ok",
        exists: true,
        readable: true,
        course_packages: Some(packages),
        message: "CONTENT_DIR/courses is readable.",
    }
}

fn tls(configured: bool, not_after: Option<i64>) -> Tls {
    if !configured {
        return Tls {
            status: "ok",
            configured,
            days_left: None,
            message: "TLS_CERT is not set: TLS ends at a proxy in front.",
        };
    }
    let Some(until) = not_after else {
        return Tls {
            status: "fail",
            configured,
            days_left: None,
            message: "The certificate in TLS_CERT cannot be read.",
        };
    };
    let days = (until - now()).div_euclid(86_400);
    let (status, message) = if until <= now() {
        ("fail", "A certificate in TLS_CERT has expired.")
    } else if days < CERT_WARN_DAYS {
        (
            "warn",
            "A certificate in TLS_CERT expires within 30 days: renew it.",
        )
    } else {
        (
            "ok",
            "The certificates in TLS_CERT are valid for more than 30 days.",
        )
    };
    Tls {
        status,
        configured,
        days_left: Some(days),
        message,
    }
}

fn log_disk(configured: bool, free: Option<u64>) -> LogDisk {
    let (status, message) = match (configured, free) {
        (false, _) => ("ok", "LOG_DIR is not set: logs go to standard error."),
        (true, None) => ("warn", "The free space of LOG_DIR cannot be read."),
        (true, Some(b)) if b >= LOG_MIN_FREE_BYTES => ("ok", "At least 10 GB free for logs."),
        (true, Some(_)) => (
            "warn",
            "Less than 10 GB free for logs (the deployment checklist asks for 10 GB).",
        ),
    };
    LogDisk {
        status,
        configured,
        free_bytes: free,
        min_free_bytes: LOG_MIN_FREE_BYTES,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_days_are_graded() {
        let day = 86_400;
        assert_eq!(tls(false, None).status, "ok");
        assert_eq!(tls(true, None).status, "fail");
        assert_eq!(tls(true, Some(now() - day)).status, "fail");
        let soon = tls(true, Some(now() + 10 * day + 60));
        assert_eq!((soon.status, soon.days_left), ("warn", Some(10)));
        assert_eq!(tls(true, Some(now() + 90 * day)).status, "ok");
    }

    #[test]
    fn log_space_under_10_gb_warns() {
        assert_eq!(log_disk(false, None).status, "ok");
        assert_eq!(log_disk(true, None).status, "warn");
        assert_eq!(log_disk(true, Some(9_000_000_000)).status, "warn");
        assert_eq!(log_disk(true, Some(LOG_MIN_FREE_BYTES)).status, "ok");
    }

    #[test]
    fn course_packages_are_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(!content(dir.path()).exists);
        let courses = dir.path().join("courses");
        for (name, file) in [
            ("a", "index.html"),
            ("b", "data.json"),
            ("c", "x.txt"),
            (".h", "index.html"),
        ] {
            std::fs::create_dir_all(courses.join(name)).expect("mkdir");
            std::fs::write(courses.join(name).join(file), "x").expect("write");
        }
        std::fs::write(courses.join("loose.zip"), "x").expect("write");
        let c = content(dir.path());
        assert_eq!(
            (c.status, c.readable, c.course_packages),
            ("ok", true, Some(2))
        );
    }
}
