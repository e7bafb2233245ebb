//! The original's e-book notes (`ebook_note`) and Calibre reading progress
//! (`calibre_reading_progress`), planned into the `db::import::Batch` and written by
//! `db::import::apply` in the import's one transaction, into `ebook_notes` and
//! `ebook_progress` (the tables `ebooks::reading` reads, keyed by user and `calibre-<n>`).
//! A row this hub already has for that user and book keeps this hub's value (docs/design.md
//! "Moving from the original").

use std::collections::HashSet;

use crate::db::{import::EbookRow, legacy::Snapshot};

use super::{Report, plan::parse_datetime};

/// `calibre-<n>`: the only e-book id form the original's Calibre pages wrote.
pub fn is_calibre_id(id: &str) -> bool {
    id.strip_prefix("calibre-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The original's reading status as this hub stores it (`ebooks::reading::STATUSES`):
/// `in_progress` or `completed`, in any case, with a space or `-` for the `_`; empty (a
/// NULL, which the original's default `in_progress` never left) is `in_progress`.
fn status(raw: &str) -> Option<&'static str> {
    let s = raw.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    match s.as_str() {
        "" | "in_progress" => Some("in_progress"),
        "completed" => Some("completed"),
        _ => None,
    }
}

/// The usable e-book notes and reading progress rows (users that exist, `calibre-<n>`
/// ids, known statuses); every other row is reported with its reason.
pub fn plan(s: &Snapshot, users: &HashSet<i64>, r: &mut Report) -> (Vec<EbookRow>, Vec<EbookRow>) {
    let mut notes = Vec::new();
    for n in &s.ebook_notes {
        if !users.contains(&n.user_id) {
            r.skip(
                "ebook_note",
                n.id,
                format!("orphan: user {} no longer exists", n.user_id),
            );
        } else if !is_calibre_id(n.ebook_id.trim()) {
            r.skip(
                "ebook_note",
                n.id,
                format!("e-book id {:?} is not of the form calibre-<n>", n.ebook_id),
            );
        } else {
            notes.push(EbookRow {
                source_user: n.user_id,
                book_id: n.ebook_id.trim().to_string(),
                value: super::plan::storable(r, "ebook_note", n.id, "content", &n.content),
                at: None,
            });
        }
    }
    let mut progress = Vec::new();
    for p in &s.calibre_progress {
        if !users.contains(&p.user_id) {
            r.skip(
                "calibre_reading_progress",
                p.id,
                format!("orphan: user {} no longer exists", p.user_id),
            );
            continue;
        }
        if !is_calibre_id(p.ebook_id.trim()) {
            r.skip(
                "calibre_reading_progress",
                p.id,
                format!("e-book id {:?} is not of the form calibre-<n>", p.ebook_id),
            );
            continue;
        }
        let Some(status) = status(&p.status) else {
            r.skip(
                "calibre_reading_progress",
                p.id,
                format!("status {:?} is not in_progress or completed", p.status),
            );
            continue;
        };
        if p.progress_percent != 0 {
            r.change(
                "calibre_reading_progress",
                p.id,
                format!(
                    "progress_percent {} not kept: this hub records only the status",
                    p.progress_percent
                ),
            );
        }
        let at = parse_datetime(&p.last_read);
        if at.is_none() {
            r.change(
                "calibre_reading_progress",
                p.id,
                format!(
                    "last_read {:?} unreadable: set to the import's time",
                    p.last_read
                ),
            );
        }
        progress.push(EbookRow {
            source_user: p.user_id,
            book_id: p.ebook_id.trim().to_string(),
            value: status.to_string(),
            at,
        });
    }
    (notes, progress)
}

#[cfg(test)]
mod tests {
    #[test]
    fn calibre_ids() {
        assert!(super::is_calibre_id("calibre-4"));
        for bad in ["calibre-", "calibre-notanumber", "4", "calibre-4x", ""] {
            assert!(!super::is_calibre_id(bad), "{bad}");
        }
    }

    #[test]
    fn statuses() {
        for (raw, want) in [
            ("in_progress", Some("in_progress")),
            ("In Progress", Some("in_progress")),
            ("", Some("in_progress")),
            ("COMPLETED", Some("completed")),
            ("done", None),
        ] {
            assert_eq!(super::status(raw), want, "{raw:?}");
        }
    }
}
