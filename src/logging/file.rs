//! A log file under `LOG_DIR` that outlives its folder: when the folder cannot be written
//! at start, or vanishes (or its file is deleted) while the hub runs, the hub keeps serving,
//! says so once on stderr (`log_dir_unavailable`), and a watchdog thread reopens the file
//! as soon as it can (`log_dir_restored`). Meanwhile `app.log`'s lines are on stderr anyway
//! and `access.log`'s go to stderr instead.
//!
//! Hand-written rather than a crate's reopening writer: the rotation is `file_rotate`'s,
//! and what is added is only the "file gone → reopen" check and the fallback to stderr,
//! which neither `file_rotate` nor `tracing-appender` offers.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use file_rotate::{
    ContentLimit, FileRotate, TimeFrequency,
    compression::Compression,
    suffix::{AppendTimestamp, FileLimit},
};
use tracing_subscriber::fmt::MakeWriter;

const KEEP_FILES: usize = 30;
/// How often the watchdog looks for the files (one `stat` each).
const CHECK_EVERY: Duration = Duration::from_secs(1);

type Rotating = FileRotate<AppendTimestamp>;

/// Opens (creating the folder) `dir/name`, rotating daily and keeping `KEEP_FILES`.
fn open(dir: &Path, name: &str) -> io::Result<Rotating> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    // Probe: fail now, clearly, rather than lose every line later.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    Ok(FileRotate::new(
        path,
        AppendTimestamp::with_format(
            "%Y%m%d",
            FileLimit::MaxFiles(KEEP_FILES),
            file_rotate::suffix::DateFrom::DateYesterday,
        ),
        ContentLimit::Time(TimeFrequency::Daily),
        Compression::None,
        None,
    ))
}

/// One log file; `None` while it cannot be written.
pub struct LogFile {
    dir: PathBuf,
    name: &'static str,
    /// Write to stderr while the file is unavailable (access lines, which are not on stderr
    /// otherwise).
    fallback_to_stderr: bool,
    file: Mutex<Option<Rotating>>,
}

/// A `MakeWriter` over a shared `LogFile`.
#[derive(Clone)]
pub struct Shared(pub Arc<LogFile>);

impl LogFile {
    /// Opens `dir/name`; on failure the file starts unavailable and the error is returned
    /// beside it, for the caller to report once logging is up.
    pub fn open(
        dir: &Path,
        name: &'static str,
        fallback_to_stderr: bool,
    ) -> (Shared, Option<io::Error>) {
        let (file, error) = match open(dir, name) {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(e)),
        };
        let shared = Shared(Arc::new(LogFile {
            dir: dir.to_path_buf(),
            name,
            fallback_to_stderr,
            file: Mutex::new(file),
        }));
        (shared, error)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Rotating>> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One watchdog step: drops the file when it is gone from the folder, reopens it when
    /// it can. Returns what changed (the caller logs it, holding no lock).
    fn check(&self) -> Option<Change> {
        let mut file = self.lock();
        match file.as_ref() {
            Some(_) => match std::fs::metadata(self.dir.join(self.name)) {
                Ok(_) => None,
                Err(e) => {
                    *file = None;
                    Some(Change::Lost(e))
                }
            },
            None => match open(&self.dir, self.name) {
                Ok(f) => {
                    *file = Some(f);
                    Some(Change::Restored)
                }
                Err(_) => None,
            },
        }
    }
}

enum Change {
    Lost(io::Error),
    Restored,
}

/// Logs, once, that `LOG_DIR` cannot be written.
pub fn report_unavailable(dir: &Path, error: &io::Error) {
    tracing::warn!(
        event = "log_dir_unavailable",
        dir = %dir.display(),
        error = %error,
        message = "LOG_DIR cannot be written: the hub keeps serving and logs to stderr only until it can",
    );
}

/// Starts the watchdog thread over `files` (all in `dir`). It runs until the process ends.
pub fn watch(dir: PathBuf, files: Vec<Shared>, initially_unavailable: bool) {
    let spawned = std::thread::Builder::new()
        .name("log-dir-watchdog".into())
        .spawn(move || {
            let mut unavailable = initially_unavailable;
            loop {
                std::thread::sleep(CHECK_EVERY);
                let mut lost = None;
                let mut restored = false;
                for f in &files {
                    match f.0.check() {
                        Some(Change::Lost(e)) => lost = Some(e),
                        Some(Change::Restored) => restored = true,
                        None => {}
                    }
                }
                let all_open = files.iter().all(|f| f.0.lock().is_some());
                if let Some(e) = lost
                    && !unavailable
                {
                    unavailable = true;
                    report_unavailable(&dir, &e);
                }
                if restored && all_open && unavailable {
                    unavailable = false;
                    tracing::info!(event = "log_dir_restored", dir = %dir.display());
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(event = "log_dir_watchdog_failed", error = %e);
    }
}

/// The writer for one line: the file, or stderr / nowhere while it is unavailable.
pub struct Writer<'a> {
    file: MutexGuard<'a, Option<Rotating>>,
    fallback_to_stderr: bool,
}

impl Write for Writer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf),
            None if self.fallback_to_stderr => io::stderr().write(buf),
            None => Ok(buf.len()),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.write_all(buf),
            None if self.fallback_to_stderr => io::stderr().write_all(buf),
            None => Ok(()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl<'a> MakeWriter<'a> for Shared {
    type Writer = Writer<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        Writer {
            file: self.0.lock(),
            fallback_to_stderr: self.0.fallback_to_stderr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vanished_file_is_dropped_and_reopened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("logs");
        let (f, err) = LogFile::open(&dir, "app.log", false);
        assert!(err.is_none());
        f.make_writer().write_all(b"one\n").unwrap();
        assert!(f.0.check().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(f.0.check(), Some(Change::Lost(_))));
        // Unavailable: lines are dropped, not errors.
        f.make_writer().write_all(b"lost\n").unwrap();
        assert!(matches!(f.0.check(), Some(Change::Restored)));
        f.make_writer().write_all(b"two\n").unwrap();
        f.make_writer().flush().unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("app.log")).unwrap(),
            "two\n"
        );
    }

    #[test]
    fn unwritable_at_start_is_reported_not_fatal() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        let (f, err) = LogFile::open(&file.join("logs"), "app.log", false);
        assert!(err.is_some());
        f.make_writer().write_all(b"dropped\n").unwrap();
        assert!(f.0.check().is_none());
    }
}
