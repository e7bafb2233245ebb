//! What an import did (or, with `--dry-run`, would do): counts per table, then every
//! renamed, skipped or changed item with its reason; as text for people, JSON for machines.
//! Never a password or a hash: an unusable hash is described by its method name only.

use std::path::Path;

use serde::Serialize;

use crate::db::{import::Tally, legacy};

/// Rows read from the original, per table.
#[derive(Debug, Default, Serialize)]
pub struct SourceRows {
    pub users: usize,
    pub courses: usize,
    pub progress: usize,
    pub notes: usize,
    pub ebook_notes: usize,
    pub ebook_progress: usize,
}

/// Rows added here and rows already here, per table.
#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub users: Tally,
    pub courses: Tally,
    pub progress: Tally,
    pub notes: Tally,
    pub ebook_notes: Tally,
    pub ebook_progress: Tally,
}

#[derive(Debug, Serialize)]
pub struct Renamed {
    pub id: i64,
    pub from: String,
    pub to: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct Unusable {
    pub id: i64,
    pub username: String,
    /// The method part of the stored string (`plain`, `md5`…), never the hash.
    pub method: String,
}

/// A row of the original, and what happened to it or one of its fields.
#[derive(Debug, Serialize)]
pub struct Item {
    pub table: &'static str,
    pub id: i64,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub source: SourceRows,
    pub counts: Counts,
    pub renamed: Vec<Renamed>,
    pub unusable_passwords: Vec<Unusable>,
    pub changed: Vec<Item>,
    pub skipped: Vec<Item>,
    pub avatars: Vec<Item>,
    pub avatars_imported: u64,
    /// Tables the original's routes never used, with their row counts: not imported.
    pub unused: Vec<(String, i64)>,
    /// Where this hub serves course packages from.
    pub courses_dir: String,
    /// Imported courses whose launch page is not under `courses_dir` (yet): their launch
    /// is a 404 until their folder is copied there.
    pub without_package: Vec<String>,
}

impl Report {
    pub fn new(dry_run: bool, content_dir: &Path) -> Report {
        Report {
            dry_run,
            source: SourceRows::default(),
            counts: Counts::default(),
            renamed: Vec::new(),
            unusable_passwords: Vec::new(),
            changed: Vec::new(),
            skipped: Vec::new(),
            avatars: Vec::new(),
            avatars_imported: 0,
            unused: Vec::new(),
            courses_dir: content_dir.join("courses").display().to_string(),
            without_package: Vec::new(),
        }
    }

    pub fn rename(&mut self, id: i64, from: &str, to: &str, reason: &str) {
        self.renamed.push(Renamed {
            id,
            from: from.to_string(),
            to: to.to_string(),
            reason: reason.to_string(),
        });
    }

    pub fn unusable(&mut self, id: i64, username: &str, stored: &str) {
        let method = match stored.split_once('$') {
            Some((m, _)) if m.len() <= 32 && !m.is_empty() => m.to_string(),
            _ if stored.is_empty() => "(none)".to_string(),
            _ => "(unrecognised)".to_string(),
        };
        self.unusable_passwords.push(Unusable {
            id,
            username: username.to_string(),
            method,
        });
    }

    pub fn change(&mut self, table: &'static str, id: i64, reason: String) {
        self.changed.push(Item { table, id, reason });
    }

    pub fn skip(&mut self, table: &'static str, id: i64, reason: String) {
        self.skipped.push(Item { table, id, reason });
    }

    pub fn avatar(&mut self, u: &legacy::User, reason: &str) {
        self.avatars.push(Item {
            table: "user",
            id: u.id,
            reason: reason.to_string(),
        });
    }

    /// Did this run add anything?
    pub fn added_anything(&self) -> bool {
        let c = &self.counts;
        c.users.added
            + c.courses.added
            + c.progress.added
            + c.notes.added
            + c.ebook_notes.added
            + c.ebook_progress.added
            > 0
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let verb = if self.dry_run { "would add" } else { "added" };
        if self.dry_run {
            let _ = writeln!(s, "dry run: nothing was written");
        }
        let line = |s: &mut String, name: &str, read: usize, t: &Tally| {
            let _ = writeln!(
                s,
                "{name:<15} {read:>6} read, {:>6} {verb}, {:>6} already here",
                t.added, t.present
            );
        };
        line(&mut s, "users", self.source.users, &self.counts.users);
        line(&mut s, "courses", self.source.courses, &self.counts.courses);
        line(
            &mut s,
            "progress",
            self.source.progress,
            &self.counts.progress,
        );
        line(&mut s, "notes", self.source.notes, &self.counts.notes);
        line(
            &mut s,
            "e-book notes",
            self.source.ebook_notes,
            &self.counts.ebook_notes,
        );
        line(
            &mut s,
            "e-book progress",
            self.source.ebook_progress,
            &self.counts.ebook_progress,
        );
        for (table, n) in &self.unused {
            let _ = writeln!(
                s,
                "{table}: {n} row(s), not imported (unused by the original's pages)"
            );
        }
        if !self.added_anything() && !self.dry_run {
            let _ = writeln!(s, "nothing new: everything was imported before");
        }
        for r in &self.renamed {
            let _ = writeln!(
                s,
                "renamed user {}: {:?} → {:?} ({})",
                r.id, r.from, r.to, r.reason
            );
        }
        for u in &self.unusable_passwords {
            let _ = writeln!(
                s,
                "no usable password: user {} {:?} (hash method {}); set one with `gleh user set-password {}`",
                u.id, u.username, u.method, u.username
            );
        }
        for i in &self.changed {
            let _ = writeln!(s, "changed {} {}: {}", i.table, i.id, i.reason);
        }
        for i in &self.skipped {
            let _ = writeln!(s, "skipped {} {}: {}", i.table, i.id, i.reason);
        }
        for i in &self.avatars {
            let _ = writeln!(s, "avatar of user {}: {}", i.id, i.reason);
        }
        if self.avatars_imported > 0 {
            let _ = writeln!(s, "avatars: {} {verb}", self.avatars_imported);
        }
        let _ = writeln!(
            s,
            "course packages are served from {}: copy the original's course folders there \
             (or `gleh courses import DIR --copy`)",
            self.courses_dir
        );
        if !self.without_package.is_empty() {
            let _ = writeln!(
                s,
                "{} course(s) have no package there yet, so their launch is a 404 until it is: {}",
                self.without_package.len(),
                self.without_package.join(", ")
            );
        }
        s
    }
}
