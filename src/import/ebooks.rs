//! The original's e-book notes (`ebook_note`, ids `calibre-<n>`) and Calibre reading
//! progress (`calibre_reading_progress`). This hub has no e-book tables yet, so they are
//! checked and counted but not written: once the tables exist, `plan` returns these rows
//! in the `db::import::Batch` (two more fields) and `db::import::apply` inserts them, like
//! course notes.

use std::collections::HashSet;

use crate::db::legacy::Snapshot;

use super::Report;

/// `calibre-<n>`: the only e-book id form the original's Calibre pages wrote.
pub fn is_calibre_id(id: &str) -> bool {
    id.strip_prefix("calibre-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Checks the e-book rows and counts the usable ones in the report.
pub fn plan(s: &Snapshot, users: &HashSet<i64>, r: &mut Report) {
    let mut usable = 0;
    for n in &s.ebook_notes {
        if !users.contains(&n.user_id) {
            r.skip(
                "ebook_note",
                n.id,
                format!("orphan: user {} no longer exists", n.user_id),
            );
        } else if !is_calibre_id(&n.ebook_id) {
            r.skip(
                "ebook_note",
                n.id,
                format!("e-book id {:?} is not of the form calibre-<n>", n.ebook_id),
            );
        } else {
            usable += 1;
        }
    }
    for p in &s.calibre_progress {
        if !users.contains(&p.user_id) {
            r.skip(
                "calibre_reading_progress",
                p.id,
                format!("orphan: user {} no longer exists", p.user_id),
            );
        } else if !is_calibre_id(&p.ebook_id) {
            r.skip(
                "calibre_reading_progress",
                p.id,
                format!("e-book id {:?} is not of the form calibre-<n>", p.ebook_id),
            );
        } else {
            usable += 1;
        }
    }
    r.ebook_rows = usable;
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
}
