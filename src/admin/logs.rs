//! The tail of `LOG_DIR/app.log` for the admin panel: the newest JSON lines, filtered by
//! level (that level and more severe) and by event name, read backwards from the end of
//! the file in chunks, so a large file is never loaded whole. The lines hold no secret
//! (docs/design.md "Logs and metrics"); every line is redacted again anyway
//! (`redact`), in case a future event forgets.

use std::{
    fs::File,
    io::{self, Read as _, Seek as _, SeekFrom},
    path::{Path, PathBuf},
};

use serde_json::Value;

use crate::{
    http::{ApiError, ApiResult},
    state::AppState,
};

pub const DEFAULT_LINES: usize = 50;
pub const MAX_LINES: usize = 1000;
/// How far back a filtered search goes: at most this many bytes from the end.
pub const MAX_SCAN_BYTES: u64 = 32 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;
/// A longer line is skipped (the hub writes none that long).
const MAX_LINE: usize = 1024 * 1024;
const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];

/// What to show: how many lines, and the filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub lines: usize,
    /// An index into `LEVELS`: lines at this level or above.
    pub min_level: Option<usize>,
    pub event: Option<String>,
}

impl Filter {
    /// From the query's `lines`, `level` and `event` (each optional; blank means unset).
    /// `lines` above 1000 is taken as 1000.
    pub fn parse(
        lines: Option<&str>,
        level: Option<&str>,
        event: Option<&str>,
    ) -> ApiResult<Filter> {
        fn blank(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|v| !v.is_empty())
        }
        let lines = match blank(lines) {
            None => DEFAULT_LINES,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n >= 1 => n.min(MAX_LINES as u64) as usize,
                _ => {
                    return Err(ApiError::bad_request(
                        "lines must be a number from 1 to 1000.",
                    ));
                }
            },
        };
        let min_level = match blank(level) {
            None => None,
            Some(v) => Some(
                LEVELS
                    .iter()
                    .position(|l| l.eq_ignore_ascii_case(v))
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "level must be one of error, warn, info, debug, trace.",
                        )
                    })?,
            ),
        };
        let event = match blank(event) {
            None => None,
            Some(v)
                if v.len() <= 64
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                Some(v.to_string())
            }
            Some(_) => {
                return Err(ApiError::bad_request(
                    "event must be an event name (letters, digits, '_').",
                ));
            }
        };
        Ok(Filter {
            lines,
            min_level,
            event,
        })
    }

    fn matches(&self, line: &Value) -> bool {
        if let Some(min) = self.min_level {
            let level = line["level"].as_str().unwrap_or("");
            match LEVELS.iter().position(|l| l.eq_ignore_ascii_case(level)) {
                Some(i) if i >= min => {}
                _ => return false,
            }
        }
        match &self.event {
            Some(e) => line["event"].as_str() == Some(e.as_str()),
            None => true,
        }
    }
}

/// A cheap test on the raw line before it is parsed: a line the hub wrote can match only
/// if it holds `"event":"NAME"` and one of the wanted `"level":"…"` (the JSON line format
/// writes both without spaces); `Filter::matches` decides on the parsed line.
struct Prefilter {
    event: Option<String>,
    levels: Vec<String>,
}

impl Prefilter {
    fn of(f: &Filter) -> Prefilter {
        Prefilter {
            event: f.event.as_ref().map(|e| format!("\"event\":\"{e}\"")),
            levels: match f.min_level {
                Some(min) => LEVELS[min..]
                    .iter()
                    .map(|l| format!("\"level\":\"{l}\""))
                    .collect(),
                None => Vec::new(),
            },
        }
    }

    fn may_match(&self, raw: &str) -> bool {
        self.event.as_ref().is_none_or(|e| raw.contains(e.as_str()))
            && (self.levels.is_empty() || self.levels.iter().any(|l| raw.contains(l.as_str())))
    }
}

/// The answer: the lines (oldest first), or why there are none.
pub enum Tail {
    /// LOG_DIR is not set: the logs go to standard error only.
    NoLogDir,
    Lines {
        lines: Vec<Value>,
        /// The search stopped at `MAX_SCAN_BYTES` before finding enough lines.
        cut_short: bool,
    },
}

/// The newest lines of `LOG_DIR/app.log` that pass `filter`, on the blocking pool.
pub async fn tail(state: &AppState, filter: Filter) -> ApiResult<Tail> {
    let Some(dir) = state.config.log_dir.clone() else {
        return Ok(Tail::NoLogDir);
    };
    let path: PathBuf = dir.join("app.log");
    let read = tokio::task::spawn_blocking(move || read_tail(&path, &filter, MAX_SCAN_BYTES))
        .await
        .map_err(ApiError::internal)?;
    match read {
        Ok((lines, cut_short)) => Ok(Tail::Lines { lines, cut_short }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Tail::Lines {
            lines: Vec::new(),
            cut_short: false,
        }),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// Reads `path` backwards: the last `filter.lines` lines that parse as JSON objects and
/// match, oldest first, each redacted; and whether `max_scan` bytes were read first.
pub fn read_tail(path: &Path, filter: &Filter, max_scan: u64) -> io::Result<(Vec<Value>, bool)> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut pos = len;
    let mut found = Vec::new();
    // The bytes after `pos` not yet split into lines (the start of a line cut by a chunk).
    let mut carry: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    let pre = Prefilter::of(filter);
    let take = |line: &[u8], found: &mut Vec<Value>| {
        if found.len() < filter.lines
            && let Ok(raw) = std::str::from_utf8(line)
            && pre.may_match(raw)
            && let Some(v) = parse_line(raw)
            && filter.matches(&v)
        {
            found.push(redact(v));
        }
    };
    while pos > 0 && found.len() < filter.lines && len - pos < max_scan {
        let n = CHUNK.min(pos as usize);
        pos -= n as u64;
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut chunk[..n])?;
        let mut buf = chunk[..n].to_vec();
        buf.extend_from_slice(&carry);
        let mut end = buf.len();
        while let Some(nl) = buf[..end].iter().rposition(|&b| b == b'\n') {
            take(&buf[nl + 1..end], &mut found);
            end = nl;
            if found.len() >= filter.lines {
                break;
            }
        }
        buf.truncate(end);
        carry = if buf.len() > MAX_LINE {
            Vec::new()
        } else {
            buf
        };
    }
    if pos == 0 {
        take(&carry, &mut found);
    }
    let cut_short = found.len() < filter.lines && pos > 0;
    found.reverse();
    Ok((found, cut_short))
}

fn parse_line(line: &str) -> Option<Value> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() {
        return None;
    }
    match serde_json::from_str::<Value>(line) {
        Ok(v @ Value::Object(_)) => Some(v),
        _ => None,
    }
}

/// Field names whose values are never shown, whatever they hold.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "cookie",
    "session",
    "authorization",
    "api_key",
    "apikey",
];
/// `NAME=value` inside a text: the value is hidden.
const SECRET_ASSIGNMENTS: &[&str] = &[
    "password=",
    "passwd=",
    "secret=",
    "token=",
    "session=",
    "cookie:",
];
const REDACTED: &str = "[redacted]";

/// Hides the values of secret-looking fields (at any depth), and secret-looking
/// `name=value` pieces inside text values.
pub fn redact(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    if SECRET_KEYS.iter().any(|s| lower.contains(s)) && !is_count(&v) {
                        (k, Value::from(REDACTED))
                    } else {
                        (k, redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        Value::String(s) => Value::String(redact_text(&s)),
        other => other,
    }
}

/// A number or a boolean (`sessions_live: 3`, `session_expired: true`) says nothing secret.
fn is_count(v: &Value) -> bool {
    v.is_number() || v.is_boolean() || v.is_null()
}

/// `… password=hunter2 …` → `… password=[redacted] …` (case-insensitive; the value ends
/// at white space, `&`, `;`, `,` or a quote).
fn redact_text(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    if !SECRET_ASSIGNMENTS.iter().any(|m| lower.contains(m)) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let hit = SECRET_ASSIGNMENTS
            .iter()
            .find(|m| lower[i..].starts_with(*m));
        match hit {
            Some(m) => {
                out.push_str(&s[i..i + m.len()]);
                i += m.len();
                // `cookie: value`: the blanks after the colon are kept.
                let blanks = s[i..].len() - s[i..].trim_start().len();
                out.push_str(&s[i..i + blanks]);
                i += blanks;
                let rest = &s[i..];
                let value_len = rest
                    .find(|c: char| c.is_whitespace() || matches!(c, '&' | ';' | ',' | '"' | '\''))
                    .unwrap_or(rest.len());
                if value_len > 0 {
                    out.push_str(REDACTED);
                }
                i += value_len;
            }
            None => {
                let c = s[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Write as _;

    fn filter(lines: usize, level: Option<&str>, event: Option<&str>) -> Filter {
        Filter::parse(Some(&lines.to_string()), level, event).expect("valid filter")
    }

    fn log_file(lines: &[String]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        for l in lines {
            writeln!(f, "{l}").expect("write");
        }
        f
    }

    fn line(i: usize, level: &str, event: &str) -> String {
        json!({"timestamp": "2026-01-01T00:00:00Z", "level": level, "event": event, "i": i})
            .to_string()
    }

    #[test]
    fn the_query_is_checked() {
        let f = Filter::parse(None, None, None).expect("defaults");
        assert_eq!((f.lines, f.min_level, f.event), (50, None, None));
        assert_eq!(
            Filter::parse(Some("5000"), None, None)
                .expect("clamped")
                .lines,
            1000
        );
        assert_eq!(
            Filter::parse(Some(""), Some(" "), Some(""))
                .expect("blank")
                .lines,
            50
        );
        for bad in ["0", "-1", "ten", "1.5"] {
            assert!(Filter::parse(Some(bad), None, None).is_err(), "{bad}");
        }
        assert_eq!(
            Filter::parse(None, Some("Warn"), None)
                .expect("level")
                .min_level,
            Some(3)
        );
        assert!(Filter::parse(None, Some("loud"), None).is_err());
        assert!(Filter::parse(None, None, Some("login_success")).is_ok());
        assert!(Filter::parse(None, None, Some("a b")).is_err());
        assert!(Filter::parse(None, None, Some(&"x".repeat(65))).is_err());
    }

    #[test]
    fn the_newest_lines_come_back_oldest_first_across_chunks() {
        // Lines of ~1 KiB, so 400 of them span several 64 KiB chunks.
        let pad = "p".repeat(1000);
        let lines: Vec<String> = (0..400)
            .map(|i| json!({"level": "INFO", "event": "e", "i": i, "pad": pad}).to_string())
            .collect();
        let f = log_file(&lines);
        let (got, cut) =
            read_tail(f.path(), &filter(150, None, None), MAX_SCAN_BYTES).expect("read");
        assert!(!cut);
        let idx: Vec<i64> = got.iter().map(|v| v["i"].as_i64().expect("i")).collect();
        assert_eq!(idx, (250..400).collect::<Vec<_>>());
        // More asked than there are: every line, the first one included.
        let (got, _) =
            read_tail(f.path(), &filter(1000, None, None), MAX_SCAN_BYTES).expect("read");
        assert_eq!(got.len(), 400);
        assert_eq!(got[0]["i"], 0);
    }

    #[test]
    fn level_and_event_filter() {
        let lines = vec![
            line(0, "INFO", "login_success"),
            line(1, "WARN", "login_failure"),
            line(2, "ERROR", "internal_error"),
            "not json".to_string(),
            line(3, "INFO", "request"),
            line(4, "WARN", "login_failure"),
        ];
        let f = log_file(&lines);
        let ids = |flt: Filter| -> Vec<i64> {
            read_tail(f.path(), &flt, MAX_SCAN_BYTES)
                .expect("read")
                .0
                .iter()
                .map(|v| v["i"].as_i64().expect("i"))
                .collect()
        };
        assert_eq!(ids(filter(50, Some("warn"), None)), vec![1, 2, 4]);
        assert_eq!(ids(filter(50, Some("error"), None)), vec![2]);
        assert_eq!(ids(filter(50, None, Some("login_failure"))), vec![1, 4]);
        assert_eq!(ids(filter(1, None, Some("login_failure"))), vec![4]);
        assert_eq!(
            ids(filter(50, Some("error"), Some("login_failure"))),
            Vec::<i64>::new()
        );
        assert_eq!(ids(filter(2, None, None)), vec![3, 4]);
    }

    #[test]
    fn a_search_stops_at_the_scan_limit() {
        let lines: Vec<String> = (0..5000).map(|i| line(i, "INFO", "request")).collect();
        let f = log_file(&lines);
        let (got, cut) = read_tail(
            f.path(),
            &filter(10, None, Some("nothing_like_it")),
            100_000,
        )
        .expect("read");
        assert!(got.is_empty());
        assert!(cut);
    }

    #[test]
    fn secret_looking_fields_are_hidden() {
        let v = json!({
            "event": "x", "password": "hunter2", "new_password": "a", "session_id": "abc",
            "csrf_token": "t", "Cookie": "session=abc", "sessions_live": 3,
            "nested": {"api_key": "k", "ok": "fine"},
            "list": [{"token": "t"}],
            "message": "connect failed: password=hunter2 user=bob; Token=xyz&x=1",
            "header": "cookie: session=abc123",
        });
        let r = redact(v);
        let text = r.to_string();
        for secret in ["hunter2", "abc", "\"t\"", "\"k\"", "xyz"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(r["sessions_live"], 3);
        assert_eq!(r["nested"]["ok"], "fine");
        assert_eq!(r["event"], "x");
        assert_eq!(
            r["message"],
            "connect failed: password=[redacted] user=bob; Token=[redacted]&x=1"
        );
    }
}
