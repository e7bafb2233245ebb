//! Effective configuration: environment variables (and a `.env` file in the working
//! directory, loaded by `cli::run`), with per-environment defaults and the production guard.
//!
//! Every variable is documented in README.md ("Configuration"); the contract is
//! docs/design.md "Configuration". `Config::from_env` reads one concern at a time, each in
//! its own file (`storage`, `server`, `session`, `limits`, `logs`), through the readers of
//! `env`; the checks that judge a value are in `validate`, and `gleh config`'s output is
//! `render`. Problems are collected, never returned early, so a refused start names them all.

mod calibre;
mod env;
mod limits;
mod logs;
mod render;
mod server;
mod session;
mod storage;
mod validate;

use std::{fmt::Write as _, path::PathBuf, time::Duration};

use ipnet::IpNet;

pub use calibre::Calibre;
pub use render::redact_url;
pub(crate) use validate::{SEED_EXAMPLE_KEY, distinct_chars};

use env::Vars;
use limits::Limits;
use logs::Logs;
use server::Server;
use session::Session;
use storage::Storage;

/// The environment a process runs in (GLEH_ENV, or FLASK_ENV as the original app spelled it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Env {
    /// The default: relaxed cookies, pretty logs, migrations on start.
    Development,
    /// Strict defaults and the production guard.
    Production,
    /// As development; for test runs.
    Test,
}

impl Env {
    /// The GLEH_ENV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Env::Development => "development",
            Env::Production => "production",
            Env::Test => "test",
        }
    }

    /// GLEH_ENV (or FLASK_ENV); development when unset or unknown (an unknown one is a problem).
    fn from_env(vars: &mut Vars) -> Env {
        let Some(v) = vars.get("GLEH_ENV").or_else(|| vars.get("FLASK_ENV")) else {
            return Env::Development;
        };
        match v.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" => Env::Development,
            "production" | "prod" => Env::Production,
            "test" | "testing" => Env::Test,
            other => {
                vars.problem(format!(
                    "GLEH_ENV must be development, production or test (got {other:?})"
                ));
                Env::Development
            }
        }
    }
}

/// The session cookie's SameSite attribute (None is refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
}

impl SameSite {
    /// The attribute's value, as sent in `Set-Cookie`.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
        }
    }
}

/// How log lines are written to stderr (LOG_FORMAT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line (the production default).
    Json,
    /// Human-readable lines (the development default).
    Pretty,
}

/// The whole configuration, read once at start. Each field names its variable.
#[derive(Clone)]
pub struct Config {
    /// GLEH_ENV.
    pub env: Env,
    /// SECRET_KEY, the server secret; `None` only in development/test, where a random one is used.
    pub secret_key: Option<String>,
    /// DATABASE_URL: `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// BIND: the main listener's address.
    pub bind: String,
    /// PUBLIC_URL without a trailing slash (default `http://BIND`).
    pub public_url: String,
    /// TLS_CERT and TLS_KEY, the PEM certificate chain and private key: serve HTTPS on `bind`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// HTTP_REDIRECT_BIND: a plain-HTTP listener that answers every request with a 301 to https.
    pub http_redirect_bind: Option<String>,
    /// METRICS_BIND: the listener for `/metrics` (Prometheus); off unless set.
    pub metrics_bind: Option<String>,
    /// TLS_RELOAD_INTERVAL: how often the certificate files are checked for changes.
    pub tls_reload_interval: Duration,
    /// HTTP_HEADER_TIMEOUT: time a client has to send a request's headers; also how long an
    /// idle HTTP/1.1 keep-alive connection stays open.
    pub header_timeout: Duration,
    /// TRUSTED_PROXIES: the peers whose X-Forwarded-For and X-Forwarded-Proto are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// SESSION_COOKIE_SECURE (default: on in production).
    pub cookie_secure: bool,
    /// SESSION_COOKIE_HTTPONLY (always on in production).
    pub cookie_httponly: bool,
    /// SESSION_COOKIE_SAMESITE.
    pub cookie_samesite: SameSite,
    /// SESSION_COOKIE_NAME (default `__Host-session` when Secure, else `session`).
    pub cookie_name: String,
    /// PERMANENT_SESSION_LIFETIME: a session ends after this long without a request.
    pub idle_lifetime: Duration,
    /// SESSION_ABSOLUTE_LIFETIME: a session ends this long after login, however busy.
    pub absolute_lifetime: Duration,
    /// ADMIN_REAUTH_WINDOW: how long after entering their password an admin may change
    /// accounts or delete data without entering it again.
    pub admin_reauth_window: Duration,
    /// MAX_REQUEST_BODY_SIZE in bytes; larger bodies get 413.
    pub max_body_size: usize,
    /// COURSE_UPLOAD_MAX_BYTES: the largest course zip an admin may upload.
    pub course_upload_max_bytes: u64,
    /// MIN_PASSWORD_LENGTH: the shortest password accepted.
    pub min_password_length: usize,
    /// AUTH_RATE_LIMIT: login and registration attempts a minute per client.
    pub auth_rate_limit: u32,
    /// LOG_FORMAT.
    pub log_format: LogFormat,
    /// LOG_DIR: also write `app.log` and `access.log` there.
    pub log_dir: Option<PathBuf>,
    /// CONTENT_DIR: the folder of course packages.
    pub content_dir: PathBuf,
    /// DATA_DIR: only read, for the avatar files an older version kept in `DATA_DIR/avatars/`
    /// (moved into the database: `avatar::adopt`); nothing is written there.
    pub data_dir: PathBuf,
    /// BACKUP_DIR: where the operator keeps backups; `gleh doctor` warns when it holds
    /// none younger than a day.
    pub backup_dir: Option<PathBuf>,
    /// CALIBRE_WEB_URL and its companions; `None`: the hub has no e-books.
    pub calibre: Option<Calibre>,
}

/// A configuration that could not be used, with one human line per problem.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, line) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_char('\n')?;
            }
            f.write_str(line)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigErrors> {
        Config::from_vars(Vars::from_process())
    }

    /// Reads every concern in turn (the order of the problem lines), then builds the config.
    fn from_vars(mut vars: Vars) -> Result<Config, ConfigErrors> {
        let env = Env::from_env(&mut vars);
        let prod = env == Env::Production;
        let secret_key = vars.get("SECRET_KEY");
        vars.report(validate::secret_key(secret_key.as_deref(), prod));
        let storage = Storage::from_env(&mut vars, prod);
        let server = Server::from_env(&mut vars);
        let session = Session::from_env(&mut vars, prod);
        let limits = Limits::from_env(&mut vars, prod);
        let logs = Logs::from_env(&mut vars, prod);
        let calibre = Calibre::from_env(&mut vars);
        if !vars.problems.is_empty() {
            return Err(ConfigErrors(vars.problems));
        }
        Ok(Config {
            env,
            secret_key,
            database_url: storage.database_url,
            bind: server.bind,
            public_url: server.public_url,
            tls: server.tls,
            http_redirect_bind: server.http_redirect_bind,
            metrics_bind: server.metrics_bind,
            tls_reload_interval: server.tls_reload_interval,
            header_timeout: server.header_timeout,
            trusted_proxies: server.trusted_proxies,
            cookie_secure: session.cookie_secure,
            cookie_httponly: session.cookie_httponly,
            cookie_samesite: session.cookie_samesite,
            cookie_name: session.cookie_name,
            idle_lifetime: session.idle_lifetime,
            absolute_lifetime: session.absolute_lifetime,
            admin_reauth_window: session.admin_reauth_window,
            max_body_size: limits.max_body_size,
            course_upload_max_bytes: limits.course_upload_max_bytes,
            min_password_length: limits.min_password_length,
            auth_rate_limit: limits.auth_rate_limit,
            log_format: logs.format,
            log_dir: logs.dir,
            content_dir: storage.content_dir,
            data_dir: storage.data_dir,
            backup_dir: storage.backup_dir,
            calibre,
        })
    }

    pub fn is_production(&self) -> bool {
        self.env == Env::Production
    }
}

#[cfg(test)]
mod tests;
