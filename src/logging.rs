//! Log output: JSON lines (one object per line, UTC RFC 3339 timestamps) or a compact human
//! format, to stderr. With `LOG_DIR`, events also go to `LOG_DIR/app.log` and access lines
//! (one per request) to `LOG_DIR/access.log` instead of stderr; both files rotate daily
//! (`app.log.YYYYMMDD`), keeping the last 30. Events carry an `event` field (`request`,
//! `login_success`, `login_failure`, `csrf_failure`, …); no event ever carries a password,
//! session id or token. An event logged while a request is served also carries the
//! request span's fields (`request_id`, `route`, `ip`) at the top level of its JSON line
//! (see `json_line`); the access line is written outside that span. A `LOG_DIR` that
//! cannot be written, at start or later, never stops the hub (`file`).

use std::path::Path;

use tracing::Metadata;
use tracing_subscriber::{
    EnvFilter, Layer, Registry,
    filter::Targets,
    fmt::{self, writer::MakeWriterExt as _},
    layer::SubscriberExt as _,
    registry::LookupSpan,
    util::SubscriberInitExt as _,
};

use crate::config::LogFormat;

pub mod access;
#[cfg(test)]
pub(crate) mod capture;
mod file;
mod json_line;
mod span_fields;

pub const ACCESS_TARGET: &str = "gleh::access";

fn is_access(meta: &Metadata<'_>) -> bool {
    meta.target() == ACCESS_TARGET
}

type Boxed = Box<dyn Layer<Registry> + Send + Sync>;

/// JSON lines; span fields are kept as JSON (`SpanJson`) for `JsonLine` to merge.
fn json_layer<S, W>(writer: W) -> fmt::Layer<S, span_fields::SpanJson, json_line::JsonLine, W>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> fmt::MakeWriter<'w> + 'static,
{
    fmt::layer()
        .fmt_fields(span_fields::SpanJson)
        .event_format(json_line::JsonLine)
        .with_writer(writer)
}

/// The `LOG_LEVEL` filter. A plain list of `target=level` directives (all the docs show)
/// becomes `Targets`; anything richer (span or field directives) an `EnvFilter`, which
/// tracks every span and takes a shared lock on every enter and exit of each request's
/// span: measurable on the hot paths of a two-core machine (docs/performance.md).
enum Filter {
    Targets(Box<Targets>),
    Env(Box<EnvFilter>),
}

fn filter(spec: Option<&str>) -> Filter {
    const DEFAULT: &str = "info,sqlx=warn,tower_http=warn";
    let default = || {
        Targets::new()
            .with_default(tracing::Level::INFO)
            .with_target("sqlx", tracing::Level::WARN)
            .with_target("tower_http", tracing::Level::WARN)
    };
    let spec = spec.unwrap_or(DEFAULT);
    if let Ok(targets) = spec.parse::<Targets>() {
        return Filter::Targets(Box::new(targets));
    }
    match EnvFilter::try_new(spec) {
        Ok(env) => Filter::Env(Box::new(env)),
        Err(_) => Filter::Targets(Box::new(default())),
    }
}

/// One subscriber: the `LOG_LEVEL` filter over one JSON layer (or, for `LOG_FORMAT=pretty`
/// with `LOG_DIR`, a pretty stderr layer and a JSON file layer). Where a line goes (stderr,
/// `app.log`, `access.log`) is decided by the writer from the event's target, not by
/// per-layer filters, which would add work to every span of every request.
pub fn init(format: LogFormat, log_dir: Option<&Path>) -> anyhow::Result<()> {
    let filter = filter(std::env::var("LOG_LEVEL").ok().as_deref());
    // A LOG_DIR that cannot be written is reported once logging is up, not fatal
    // (`logging::file`); access lines then go to stderr.
    let mut unavailable = None;
    let files = log_dir.map(|dir| {
        let (app, e1) = file::LogFile::open(dir, "app.log", false);
        let (access, e2) = file::LogFile::open(dir, "access.log", true);
        unavailable = e1.or(e2);
        file::watch(
            dir.to_path_buf(),
            vec![app.clone(), access.clone()],
            unavailable.is_some(),
        );
        (app, access)
    });
    let to_files = files.is_some();
    // JSON access lines skip tracing's formatting (`access`).
    match (&files, format) {
        (Some((_, access)), _) => access::install_file(access.clone()),
        (None, LogFormat::Json) => access::install_stderr(),
        (None, LogFormat::Pretty) => {}
    }
    // With LOG_DIR, access lines go to access.log only.
    let stderr = std::io::stderr.with_filter(move |m: &Metadata<'_>| !(to_files && is_access(m)));
    let files = files.map(|(app, access)| {
        app.with_filter(|m: &Metadata<'_>| !is_access(m))
            .and(access.with_filter(is_access))
    });
    let layer: Boxed = match (format, files) {
        (LogFormat::Json, None) => json_layer(stderr).boxed(),
        (LogFormat::Json, Some(files)) => json_layer(stderr.and(files)).boxed(),
        (LogFormat::Pretty, files) => {
            let pretty = fmt::layer()
                .compact()
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_writer(stderr);
            match files {
                None => pretty.boxed(),
                Some(files) => pretty.and_then(json_layer(files)).boxed(),
            }
        }
    };
    let layered = tracing_subscriber::registry().with(layer);
    let _ = match filter {
        Filter::Targets(t) => layered.with(*t).try_init(),
        Filter::Env(e) => layered.with(*e).try_init(),
    };
    if let (Some(dir), Some(e)) = (log_dir, unavailable) {
        file::report_unavailable(dir, &e);
    }
    Ok(())
}
