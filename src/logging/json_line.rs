//! The JSON line format: `timestamp`, `level`, the event's fields, then the fields of the
//! spans the event is in (innermost first; a field the event or an inner span already
//! has is not repeated, so the event's own value wins), then `target`. One object per
//! line; every key appears once.

use std::fmt;

use super::span_fields::{Object, write_string};
use serde_json::Value;
use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{
    fmt::{
        FmtContext, FormatEvent, FormatFields, FormattedFields,
        format::Writer,
        time::{FormatTime, SystemTime},
    },
    registry::LookupSpan,
};

pub struct JsonLine;

/// The event's own fields, written as they are visited (`span_fields::Object` does the
/// JSON), except the `log` crate's: `log.target` is kept to stand for the target, the other
/// `log.*` fields are left out.
struct EventFields<'a> {
    object: Object<'a>,
    log_target: Option<String>,
}

impl EventFields<'_> {
    /// Whether `f` is an ordinary field (to be written); else it is noted or dropped.
    fn ordinary(&mut self, f: &Field, value: Option<&str>) -> bool {
        match f.name() {
            "log.target" => {
                self.log_target = value.map(str::to_string);
                false
            }
            name => !name.starts_with("log."),
        }
    }
}

impl Visit for EventFields<'_> {
    fn record_f64(&mut self, f: &Field, v: f64) {
        if self.ordinary(f, None) {
            self.object.record_f64(f, v);
        }
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        if self.ordinary(f, None) {
            self.object.record_i64(f, v);
        }
    }
    fn record_u64(&mut self, f: &Field, v: u64) {
        if self.ordinary(f, None) {
            self.object.record_u64(f, v);
        }
    }
    fn record_bool(&mut self, f: &Field, v: bool) {
        if self.ordinary(f, None) {
            self.object.record_bool(f, v);
        }
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        if self.ordinary(f, Some(v)) {
            self.object.record_str(f, v);
        }
    }
    fn record_debug(&mut self, f: &Field, v: &dyn fmt::Debug) {
        if f.name() == "log.target" {
            self.log_target = Some(format!("{v:?}"));
        } else if self.ordinary(f, None) {
            self.object.record_debug(f, v);
        }
    }
}

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        writer.write_str("{\"timestamp\":\"")?;
        SystemTime.format_time(&mut writer)?;
        writer.write_str("\",\"level\":\"")?;
        writer.write_str(meta.level().as_str())?;
        writer.write_char('"')?;
        // The event's fields straight into the line (the access line, the most frequent,
        // has no span: nothing else is needed for it).
        let mut fields = EventFields {
            object: Object {
                out: &mut writer,
                first: false,
            },
            log_target: None,
        };
        event.record(&mut fields);
        let log_target = fields.log_target;
        // Then the spans' fields, innermost first, each name once: a name the event or an
        // inner span already wrote is skipped.
        let mut seen: Vec<String> = Vec::new();
        for span in ctx.event_scope().into_iter().flatten() {
            let ext = span.extensions();
            // With `SpanJson` (see `logging::json_layer`) the span's fields are a JSON object.
            let Some(formatted) = ext.get::<FormattedFields<N>>() else {
                continue;
            };
            let Ok(Value::Object(map)) = serde_json::from_str::<Value>(formatted) else {
                continue;
            };
            for (k, v) in map {
                let taken = seen.contains(&k)
                    || event
                        .fields()
                        .any(|f| f.name().strip_prefix("r#").unwrap_or(f.name()) == k);
                if !taken {
                    writer.write_char(',')?;
                    write_string(&mut writer, &k)?;
                    write!(writer, ":{v}")?;
                    seen.push(k);
                }
            }
        }
        writer.write_str(",\"target\":")?;
        write_string(&mut writer, log_target.as_deref().unwrap_or(meta.target()))?;
        writer.write_str("}\n")
    }
}

#[cfg(test)]
mod tests;
