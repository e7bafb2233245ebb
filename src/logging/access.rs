//! The access line, one per request, written straight to its destination when the line is
//! JSON: the same line `json_line::JsonLine` writes for a `gleh::access` event
//! (`timestamp`, `level`, `event`, `request_id`, `method`, `path`, `status`, `latency_ms`,
//! `ip`, `target`), built with neither `core::fmt` nor a tracing event.
//!
//! Hand-written because it runs on every request: through tracing the line cost more
//! instructions than the session check it records (docs/performance.md "Hot paths").
//!
//! Lines for `LOG_DIR/access.log` are collected in memory and written together, at least
//! every `FLUSH_EVERY` (and at once past `FLUSH_AT` bytes, and when the server stops):
//! one `write` per request was a sixth of the time of a `GET /health`. A killed process
//! loses at most the last `FLUSH_EVERY` of access lines; events (`app.log`, stderr) are
//! written at once as before.
//! `LOG_LEVEL` still decides whether it is written (`http::frame` asks tracing first), and
//! where no destination is installed (`LOG_FORMAT=pretty` without `LOG_DIR`, unit tests'
//! captured subscribers) the line is a tracing event as before.

use std::{
    cell::RefCell,
    io::Write as _,
    sync::{Mutex, OnceLock},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tracing_subscriber::fmt::MakeWriter as _;

use super::{ACCESS_TARGET, file::Shared};

/// Longest an access line waits in memory.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Bytes of waiting lines that are written at once.
const FLUSH_AT: usize = 64 * 1024;

/// Where JSON access lines go.
pub(super) enum Sink {
    Stderr,
    /// `LOG_DIR/access.log`, through the lines waiting to be written.
    File(Shared, Mutex<Vec<u8>>),
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// Access lines go to stderr, one `write` each.
pub(super) fn install_stderr() {
    let _ = SINK.set(Sink::Stderr);
}

/// Access lines go to `file`, written by a thread of their own every `FLUSH_EVERY`.
pub(super) fn install_file(file: Shared) {
    if SINK.set(Sink::File(file, Mutex::new(Vec::new()))).is_err() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("gleh-access-log".into())
        .spawn(|| {
            loop {
                std::thread::sleep(FLUSH_EVERY);
                flush();
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(event = "access_log_writer_failed", error = %e);
    }
}

/// Writes the waiting access lines (the server calls it when it stops).
pub fn flush() {
    if let Some(Sink::File(file, pending)) = SINK.get() {
        let lines = std::mem::take(&mut *lock(pending));
        if !lines.is_empty() {
            let _ = file.make_writer().write_all(&lines);
        }
    }
}

fn lock(m: &Mutex<Vec<u8>>) -> std::sync::MutexGuard<'_, Vec<u8>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One request, as its access line records it.
pub struct Line<'a> {
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub latency_ms: f64,
    pub ip: &'a str,
}

thread_local! {
    /// The line being built (for stderr), and the second the cached date and time are of.
    static BUF: RefCell<(Vec<u8>, i64, [u8; 19])> = const { RefCell::new((Vec::new(), i64::MIN, [0; 19])) };
}

/// Writes `line` where JSON access lines go; `false` when no such place is installed (the
/// caller then logs it as a tracing event).
pub fn write(line: &Line<'_>) -> bool {
    let Some(sink) = SINK.get() else {
        return false;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    BUF.with(|cell| {
        let Ok(mut guard) = cell.try_borrow_mut() else {
            return;
        };
        let (buf, second, stamp) = &mut *guard;
        let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if secs != *second {
            *stamp = date_time(secs);
            *second = secs;
        }
        match sink {
            Sink::Stderr => {
                buf.clear();
                render(buf, stamp, now.subsec_micros(), line);
                let _ = std::io::stderr().write_all(buf);
            }
            Sink::File(file, pending) => {
                let mut waiting = lock(pending);
                render(&mut waiting, stamp, now.subsec_micros(), line);
                if waiting.len() >= FLUSH_AT {
                    let lines = std::mem::take(&mut *waiting);
                    drop(waiting);
                    let _ = file.make_writer().write_all(&lines);
                }
            }
        }
    });
    true
}

/// `YYYY-MM-DDTHH:MM:SS` (UTC) of a Unix time (once a second per thread).
fn date_time(secs: i64) -> [u8; 19] {
    let mut out = *b"1970-01-01T00:00:00";
    let text = crate::time::iso8601(secs);
    if let Some(head) = text.as_bytes().get(..19) {
        out.copy_from_slice(head);
    }
    out
}

/// The line, as `json_line::JsonLine` writes it.
fn render(buf: &mut Vec<u8>, stamp: &[u8; 19], micros: u32, l: &Line<'_>) {
    buf.extend_from_slice(b"{\"timestamp\":\"");
    buf.extend_from_slice(stamp);
    buf.push(b'.');
    let mut frac = *b"000000";
    let mut m = micros.min(999_999);
    for i in (0..6).rev() {
        frac[i] = b'0' + (m % 10) as u8;
        m /= 10;
    }
    buf.extend_from_slice(&frac);
    buf.extend_from_slice(b"Z\",\"level\":\"INFO\",\"event\":\"request\",\"request_id\":");
    string(buf, l.request_id);
    buf.extend_from_slice(b",\"method\":");
    string(buf, l.method);
    buf.extend_from_slice(b",\"path\":");
    string(buf, l.path);
    buf.extend_from_slice(b",\"status\":");
    buf.extend_from_slice(itoa::Buffer::new().format(l.status).as_bytes());
    buf.extend_from_slice(b",\"latency_ms\":");
    hundredths(buf, l.latency_ms);
    buf.extend_from_slice(b",\"ip\":");
    string(buf, l.ip);
    buf.extend_from_slice(b",\"target\":\"");
    buf.extend_from_slice(ACCESS_TARGET.as_bytes());
    buf.extend_from_slice(b"\"}\n");
}

/// A JSON string literal.
fn string(buf: &mut Vec<u8>, s: &str) {
    // serde_json's escaping; writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, s);
}

/// A non-negative number already rounded to hundredths, as `f64`'s `Display` prints it
/// (`12`, `0.5`, `3.25`).
fn hundredths(buf: &mut Vec<u8>, v: f64) {
    if !(0.0..1e15).contains(&v) {
        buf.extend_from_slice(b"null");
        return;
    }
    // Within range, checked above.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let h = (v * 100.0).round() as u64;
    buf.extend_from_slice(itoa::Buffer::new().format(h / 100).as_bytes());
    let frac = h % 100;
    if frac != 0 {
        buf.push(b'.');
        buf.push(b'0' + (frac / 10) as u8);
        if !frac.is_multiple_of(10) {
            buf.push(b'0' + (frac % 10) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_what_json_line_writes() {
        let mut buf = Vec::new();
        let line = Line {
            request_id: "00ff",
            method: "GET",
            path: "/a\"b\n",
            status: 200,
            latency_ms: 0.05,
            ip: "127.0.0.1",
        };
        render(&mut buf, &date_time(1_764_800_000), 42, &line);
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "{\"timestamp\":\"2025-12-03T22:13:20.000042Z\",\"level\":\"INFO\",\"event\":\"request\",\
             \"request_id\":\"00ff\",\"method\":\"GET\",\"path\":\"/a\\\"b\\n\",\"status\":200,\
             \"latency_ms\":0.05,\"ip\":\"127.0.0.1\",\"target\":\"gleh::access\"}\n"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["path"], "/a\"b\n");
    }

    #[test]
    fn latencies_print_as_display_does() {
        for v in [0.0, 0.05, 0.5, 1.0, 3.25, 12.3, 1234.56, 0.01, 99.99] {
            let mut buf = Vec::new();
            hundredths(&mut buf, v);
            assert_eq!(String::from_utf8(buf).unwrap(), format!("{v}"), "{v}");
        }
    }
}
