//! Log output: JSON lines (one object per line, UTC RFC 3339 timestamps) or a compact human
//! format, to stderr. With `LOG_DIR`, events also go to `LOG_DIR/app.log` and access lines
//! (one per request) to `LOG_DIR/access.log` instead of stderr; both files rotate daily
//! (`app.log.YYYYMMDD`), keeping the last 30. Events carry an `event` field (`request`,
//! `login_success`, `login_failure`, `csrf_failure`, …); no event ever carries a password,
//! session id or token. An event logged while a request is served also carries the
//! request span's fields (`request_id`, `route`, `ip`) at the top level of its JSON line
//! (see `json_line`); the access line is written outside that span.

use std::{path::Path, sync::Mutex};

use file_rotate::{
    ContentLimit, FileRotate, TimeFrequency,
    compression::Compression,
    suffix::{AppendTimestamp, FileLimit},
};
use tracing::Metadata;
use tracing_subscriber::{
    EnvFilter, Layer, Registry, filter::filter_fn, fmt, layer::SubscriberExt as _,
    registry::LookupSpan, util::SubscriberInitExt as _,
};

use crate::config::LogFormat;

#[cfg(test)]
pub(crate) mod capture;
mod json_line;

pub const ACCESS_TARGET: &str = "gleh::access";
const KEEP_FILES: usize = 30;

fn is_access(meta: &Metadata<'_>) -> bool {
    meta.target() == ACCESS_TARGET
}

fn rotating(dir: &Path, name: &str) -> anyhow::Result<Mutex<FileRotate<AppendTimestamp>>> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    // Probe: fail now, clearly, rather than lose every line later.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    Ok(Mutex::new(FileRotate::new(
        path,
        AppendTimestamp::with_format(
            "%Y%m%d",
            FileLimit::MaxFiles(KEEP_FILES),
            file_rotate::suffix::DateFrom::DateYesterday,
        ),
        ContentLimit::Time(TimeFrequency::Daily),
        Compression::None,
        None,
    )))
}

type Boxed = Box<dyn Layer<Registry> + Send + Sync>;

/// JSON lines; span fields are kept as JSON (`JsonFields`) for `JsonLine` to merge.
fn json_layer<S, W>(writer: W) -> fmt::Layer<S, fmt::format::JsonFields, json_line::JsonLine, W>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> fmt::MakeWriter<'w> + 'static,
{
    fmt::layer()
        .fmt_fields(fmt::format::JsonFields::new())
        .event_format(json_line::JsonLine)
        .with_writer(writer)
}

pub fn init(format: LogFormat, log_dir: Option<&Path>) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_env("LOG_LEVEL")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let to_files = log_dir.is_some();
    let stderr_filter = filter_fn(move |meta| !(to_files && is_access(meta)));
    let stderr: Boxed = match format {
        LogFormat::Json => json_layer(std::io::stderr)
            .with_filter(stderr_filter)
            .boxed(),
        LogFormat::Pretty => fmt::layer()
            .compact()
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .with_filter(stderr_filter)
            .boxed(),
    };
    let mut layers = vec![stderr];
    if let Some(dir) = log_dir {
        layers.push(
            json_layer(rotating(dir, "app.log")?)
                .with_filter(filter_fn(|m| !is_access(m)))
                .boxed(),
        );
        layers.push(
            json_layer(rotating(dir, "access.log")?)
                .with_filter(filter_fn(is_access))
                .boxed(),
        );
    }
    let _ = tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init();
    Ok(())
}
