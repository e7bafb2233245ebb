//! A request span's fields as one JSON object, written straight into the span's string.
//!
//! Hand-written because tracing-subscriber's `JsonFields` first collects the fields into a
//! map of `serde_json::Value`s and then serialises it: measured with callgrind, that was
//! about 6,000 instructions of every request (docs/performance.md, "The house"). `JsonLine`
//! reads the object back when an event inside the span is written.

use std::fmt::{self, Write as _};

use tracing::{
    field::{Field, Visit},
    span::Record,
};
use tracing_subscriber::{
    field::RecordFields,
    fmt::{FormatFields, FormattedFields, format::Writer},
};

/// Formats span fields as `{"name":value,…}`.
pub struct SpanJson;

impl<'w> FormatFields<'w> for SpanJson {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        // Built on the stack and handed over in one piece: the span's string is then
        // allocated once, at its size, instead of growing byte by byte.
        let mut buf = StackBuf::default();
        buf.write_char('{')?;
        fields.record(&mut Object {
            out: &mut buf,
            first: true,
        });
        buf.write_char('}')?;
        match buf.as_str() {
            Some(s) => writer.write_str(s),
            // Longer than the buffer (not a request span): write it directly.
            None => {
                writer.write_char('{')?;
                fields.record(&mut Object {
                    out: &mut writer,
                    first: true,
                });
                writer.write_char('}')
            }
        }
    }

    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &Record<'_>,
    ) -> fmt::Result {
        let mut added = String::new();
        fields.record(&mut Object {
            out: &mut added,
            first: true,
        });
        if added.is_empty() {
            return Ok(());
        }
        if current.fields.len() > 2 && current.fields.ends_with('}') {
            current.fields.pop();
            current.fields.push(',');
        } else {
            current.fields.clear();
            current.fields.push('{');
        }
        current.fields.push_str(&added);
        current.fields.push('}');
        Ok(())
    }
}

/// A fixed buffer for the common, short case; `as_str` is `None` once it overflowed.
struct StackBuf {
    bytes: [u8; 256],
    len: usize,
    overflow: bool,
}

impl Default for StackBuf {
    fn default() -> Self {
        StackBuf {
            bytes: [0; 256],
            len: 0,
            overflow: false,
        }
    }
}

impl StackBuf {
    fn as_str(&self) -> Option<&str> {
        if self.overflow {
            return None;
        }
        std::str::from_utf8(&self.bytes[..self.len]).ok()
    }
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if self.overflow || end > self.bytes.len() {
            self.overflow = true;
            return Ok(());
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes `name:value` pairs, comma-separated, into `out`.
pub(super) struct Object<'a> {
    pub(super) out: &'a mut dyn fmt::Write,
    pub(super) first: bool,
}

impl Object<'_> {
    fn key(&mut self, field: &Field) {
        if !std::mem::take(&mut self.first) {
            let _ = self.out.write_char(',');
        }
        let name = field.name();
        let _ = write_string(self.out, name.strip_prefix("r#").unwrap_or(name));
        let _ = self.out.write_char(':');
    }
}

/// `s` as a JSON string literal: runs of ordinary characters are copied whole.
pub(super) fn write_string(out: &mut dyn fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(out).write_str(s)?;
    out.write_char('"')
}

/// A writer that JSON-escapes what goes through it (so `Debug` output needs no buffer).
struct Escaped<'a>(&'a mut dyn fmt::Write);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // The usual case (ids, routes, addresses): nothing to escape, one copy.
        if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            return self.0.write_str(s);
        }
        let mut start = 0;
        for (i, b) in s.bytes().enumerate() {
            let escape = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&s[start..i])?;
            if escape.is_empty() {
                write!(self.0, "\\u{b:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            start = i + 1;
        }
        self.0.write_str(&s[start..])
    }
}

impl Visit for Object<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.key(field);
        let _ = write_string(self.out, value);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.key(field);
        let _ = write!(self.out, "{value}");
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.key(field);
        let _ = write!(self.out, "{value}");
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.key(field);
        let _ = write!(self.out, "{value}");
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.key(field);
        let _ = if value.is_finite() {
            write!(self.out, "{value}")
        } else {
            self.out.write_str("null")
        };
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.key(field);
        let _ = self.out.write_char('"');
        let _ = write!(Escaped(self.out), "{value:?}");
        let _ = self.out.write_char('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_json() {
        let mut out = String::new();
        write_string(&mut out, "a\"b\\c\nd\u{1}é").unwrap();
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}é");
    }

    #[test]
    fn the_stack_buffer_gives_way_to_long_fields() {
        let mut buf = StackBuf::default();
        buf.write_str("short").unwrap();
        assert_eq!(buf.as_str(), Some("short"));
        buf.write_str(&"x".repeat(300)).unwrap();
        assert_eq!(buf.as_str(), None);
    }

    #[test]
    fn a_span_with_long_fields_is_still_one_object() {
        let long = "y\"".repeat(200);
        let ((), buf) = crate::logging::capture::capture(|| {
            tracing::error_span!("request", request_id = long.as_str(), n = 7)
                .in_scope(|| tracing::info!(event = "inside"));
        });
        let lines = buf.lines();
        let e: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(e["request_id"], long.as_str());
        assert_eq!(e["n"], 7);
        assert_eq!(e["event"], "inside");
    }
}
