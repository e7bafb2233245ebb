//! The JSON line format: `timestamp`, `level`, the event's fields, then the fields of the
//! spans the event is in (innermost first; a field the event or an inner span already
//! has is not repeated, so the event's own value wins), then `target`. One object per
//! line; every key appears once.

use std::fmt;

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

/// The fields of one line, in order, each name once.
#[derive(Default)]
struct Fields {
    list: Vec<(String, Value)>,
    /// For events forwarded from the `log` crate: the real target.
    log_target: Option<String>,
}

impl Fields {
    fn push(&mut self, name: &str, value: Value) {
        if !self.list.iter().any(|(k, _)| k == name) {
            self.list.push((name.to_string(), value));
        }
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, f: &Field, v: f64) {
        self.record(f, Value::from(v));
    }
    fn record_i64(&mut self, f: &Field, v: i64) {
        self.record(f, Value::from(v));
    }
    fn record_u64(&mut self, f: &Field, v: u64) {
        self.record(f, Value::from(v));
    }
    fn record_bool(&mut self, f: &Field, v: bool) {
        self.record(f, Value::from(v));
    }
    fn record_str(&mut self, f: &Field, v: &str) {
        self.record(f, Value::from(v));
    }
    fn record_debug(&mut self, f: &Field, v: &dyn fmt::Debug) {
        self.record(f, Value::from(format!("{v:?}")));
    }
}

impl Fields {
    fn record(&mut self, f: &Field, value: Value) {
        match f.name() {
            "log.target" => self.log_target = value.as_str().map(str::to_string),
            name if name.starts_with("log.") => {}
            name => self.push(name.strip_prefix("r#").unwrap_or(name), value),
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
        let mut fields = Fields::default();
        event.record(&mut fields);
        for span in ctx.event_scope().into_iter().flatten() {
            let ext = span.extensions();
            // With `SpanJson` (see `logging::json_layer`) the span's fields are a JSON object.
            let Some(formatted) = ext.get::<FormattedFields<N>>() else {
                continue;
            };
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(formatted) {
                for (k, v) in map {
                    fields.push(&k, v);
                }
            }
        }
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        let meta = event.metadata();
        let target = fields.log_target.as_deref().unwrap_or(meta.target());
        write!(
            writer,
            "{{\"timestamp\":{},\"level\":{}",
            Value::from(timestamp),
            Value::from(meta.level().as_str())
        )?;
        for (k, v) in &fields.list {
            write!(writer, ",{}:{v}", Value::from(k.as_str()))?;
        }
        writeln!(writer, ",\"target\":{}}}", Value::from(target))
    }
}

#[cfg(test)]
mod tests;
