//! Courses, as an admin manages them: list, scan `CONTENT_DIR/courses` (the importer of
//! `gleh courses import`), delete a course (with its progress and notes, and on request
//! its package folder), auto-categorize by title, and upload a package as a zip
//! (`catalog::upload`). Every action is audited through `run`; deleting and replacing
//! need a recent password.

use std::path::PathBuf;

use axum::{
    body::Body,
    http::{HeaderMap, header},
};

use super::{Op, run};
use crate::{
    auth::{Session, admin::require_recent},
    catalog::{self, categorize::categories_for, upload},
    db::catalog::{self as db_catalog, Listed},
    http::{ApiError, ApiResult, Ctx},
    state::AppState,
    time::now,
};

/// `CONTENT_DIR/courses`, where packages live.
pub fn courses_root(state: &AppState) -> PathBuf {
    state.config.content_dir.join("courses")
}

/// Every course, in catalog order.
pub async fn list(state: &AppState) -> ApiResult<Vec<Listed>> {
    Ok(db_catalog::list_with_ids(&state.db).await?)
}

/// What a scan found.
pub struct Scanned {
    pub new: usize,
    pub existing: usize,
    pub skipped: usize,
}

impl Scanned {
    pub fn total(&self) -> usize {
        self.new + self.existing
    }
    pub fn message(&self) -> String {
        format!(
            "Scan complete: {} new, {} existing, {} skipped.",
            self.new, self.existing, self.skipped
        )
    }
}

/// Imports every package folder under `CONTENT_DIR/courses`: new ones are added, known
/// ones updated with what their `data.json` says (a folder without one keeps its stored
/// categories and other fields).
pub async fn scan(state: &AppState, ctx: &Ctx, s: &Session) -> ApiResult<Scanned> {
    let op = Op {
        action: "scan-courses",
        target: "",
        sudo: false,
    };
    run(state, ctx, s, op, async {
        let root = courses_root(state);
        let is_dir = tokio::fs::metadata(&root).await.is_ok_and(|m| m.is_dir());
        if !is_dir {
            return Err(ApiError::bad_request("Courses directory not found"));
        }
        let report = catalog::import::import_dir(&state.db, &root, now()).await?;
        state.content_cache.clear();
        for p in &report.problems {
            tracing::warn!(event = "course_scan_skipped", detail = %p);
        }
        let scanned = Scanned {
            new: report.imported,
            existing: report.updated,
            skipped: report.skipped,
        };
        let message = scanned.message();
        Ok((scanned, message))
    })
    .await
}

/// What a deletion removed.
pub struct Deleted {
    /// The package folder was removed too.
    pub files: bool,
}

/// Deletes the course `id` with every progress row and note on it; with `files`, also its
/// package folder `CONTENT_DIR/courses/<uid>` (a direct child only; a symlink is removed
/// as a link, never followed). The folder is moved aside first and put back if the
/// database refuses.
pub async fn delete(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    id: i64,
    files: bool,
) -> ApiResult<Deleted> {
    let target = format!("course:{id}");
    let op = Op {
        action: "delete-course",
        target: &target,
        sudo: true,
    };
    run(state, ctx, s, op, async {
        let Some(course) = db_catalog::find_by_id(&state.db, id).await? else {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "Course not found",
            ));
        };
        let trashed = if files {
            let root = courses_root(state);
            let uid = course.uid.clone();
            tokio::task::spawn_blocking(move || upload::trash(&root, &uid))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::from)?
        } else {
            None
        };
        let deleted = match db_catalog::delete(&state.db, id).await {
            Ok(deleted) => {
                state.content_cache.clear();
                deleted
            }
            Err(e) => {
                if let Some(t) = trashed {
                    let _ = tokio::task::spawn_blocking(move || t.restore()).await;
                }
                return Err(e.into());
            }
        };
        if !deleted {
            return Err(ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                "Course not found",
            ));
        }
        let removed = trashed.is_some();
        if let Some(t) = trashed {
            match tokio::task::spawn_blocking(move || t.purge()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(event = "course_files_remove_failed", error = %e),
                Err(e) => tracing::error!(event = "course_files_remove_failed", error = %e),
            }
        }
        let message = if removed {
            format!("deleted {} and its folder", course.uid)
        } else {
            format!("deleted {}", course.uid)
        };
        Ok((Deleted { files: removed }, message))
    })
    .await
}

/// Sets the categories of every course whose title matches a rule of
/// `catalog::categorize` (whole words, any case); returns how many courses changed.
pub async fn autocategorize(state: &AppState, ctx: &Ctx, s: &Session) -> ApiResult<usize> {
    let op = Op {
        action: "autocategorize",
        target: "",
        sudo: false,
    };
    run(state, ctx, s, op, async {
        let changes: Vec<(i64, String)> = db_catalog::list_with_ids(&state.db)
            .await?
            .into_iter()
            .filter_map(|l| {
                let found = categories_for(&l.course.title).join(",");
                (!found.is_empty() && found != l.course.categories).then_some((l.id, found))
            })
            .collect();
        db_catalog::set_categories(&state.db, &changes).await?;
        state.content_cache.clear();
        let n = changes.len();
        Ok((n, format!("{n} courses categorized")))
    })
    .await
}

/// A yes/no form or query value: `1`, `true`, `on` or `yes`.
pub fn flag(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|v| matches!(v.trim(), "1" | "true" | "on" | "yes"))
}

/// An upload request as it arrived.
pub struct UploadRequest<'a> {
    pub body: Body,
    pub content_type: Option<&'a str>,
    pub content_length: Option<u64>,
    /// `?replace=1`.
    pub replace: bool,
}

impl UploadRequest<'_> {
    /// The request's body with its `Content-Type` and `Content-Length`.
    pub fn new(headers: &HeaderMap, body: Body, replace: bool) -> UploadRequest<'_> {
        UploadRequest {
            body,
            content_type: headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            content_length: headers
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
            replace,
        }
    }
}

/// Receives, checks, extracts, installs and imports an uploaded package zip
/// (`catalog::upload`). Replacing an existing course needs a recent password: asked for
/// in the query, that is checked before the body is read.
pub async fn upload(
    state: &AppState,
    ctx: &Ctx,
    s: &Session,
    req: UploadRequest<'_>,
) -> ApiResult<upload::Installed> {
    let action = "upload-course";
    if req.replace {
        // Refused (and audited) before a byte of the body is read.
        require_recent(state, ctx, s, action, "").await?;
    }
    let root = courses_root(state);
    let max = state.config.course_upload_max_bytes;
    let spooled =
        match upload::spool(&root, req.body, req.content_type, req.content_length, max).await {
            Ok(s) => s,
            Err(e) => return Err(audited(state, ctx, s, action, e).await),
        };
    let replace = req.replace || spooled.replace;
    let (spooled, plan) = match upload::inspect(spooled).await {
        Ok(p) => p,
        Err(e) => return Err(audited(state, ctx, s, action, e).await),
    };
    let target = format!("course:{}", plan.folder);
    let op = Op {
        action,
        target: &target,
        sudo: replace,
    };
    run(state, ctx, s, op, async {
        let done = upload::install(&state.db, &root, spooled, plan, replace, now()).await?;
        state.content_cache.clear();
        let message = if done.replaced {
            format!("replaced {}", done.folder)
        } else {
            format!("uploaded {}", done.folder)
        };
        Ok((done, message))
    })
    .await
}

/// A refusal that happened before the action could be named fully, audited as refused.
async fn audited(state: &AppState, ctx: &Ctx, s: &Session, action: &str, e: ApiError) -> ApiError {
    let op = Op {
        action,
        target: "",
        sudo: false,
    };
    match run(state, ctx, s, op, async { Err::<((), String), _>(e) }).await {
        Err(e) => e,
        Ok(()) => ApiError::internal("an audited refusal succeeded"),
    }
}
