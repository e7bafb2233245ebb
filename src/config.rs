//! Effective configuration: environment variables (and a `.env` file in the working
//! directory, loaded by `main`), with per-environment defaults and the production guard.
//!
//! Every variable is documented in README.md ("Configuration").

use std::{fmt::Write as _, net::SocketAddr, path::PathBuf, time::Duration};

use ipnet::IpNet;

/// The example key printed in the seed checklist (§3). Never accepted in production.
const SEED_EXAMPLE_KEY: &str = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Env {
    Development,
    Production,
    Test,
}

impl Env {
    pub fn as_str(self) -> &'static str {
        match self {
            Env::Development => "development",
            Env::Production => "production",
            Env::Test => "test",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    Lax,
    Strict,
}

impl SameSite {
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Clone)]
pub struct Config {
    pub env: Env,
    /// The server secret; `None` only in development/test, where a random one is used.
    pub secret_key: Option<String>,
    pub database_url: String,
    pub bind: String,
    pub public_url: String,
    /// PEM certificate chain and private key: serve HTTPS on `bind`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Plain-HTTP listener that answers every request with a 301 to https.
    pub http_redirect_bind: Option<String>,
    /// Listener for `/metrics` (Prometheus); off unless set.
    pub metrics_bind: Option<String>,
    /// How often the certificate files are checked for changes.
    pub tls_reload_interval: Duration,
    /// Time a client has to send a request's headers; also how long an idle HTTP/1.1
    /// keep-alive connection stays open.
    pub header_timeout: Duration,
    pub trusted_proxies: Vec<IpNet>,
    pub cookie_secure: bool,
    pub cookie_httponly: bool,
    pub cookie_samesite: SameSite,
    pub cookie_name: String,
    pub idle_lifetime: Duration,
    pub absolute_lifetime: Duration,
    pub max_body_size: usize,
    pub min_password_length: usize,
    pub auth_rate_limit: u32,
    pub log_format: LogFormat,
    pub log_dir: Option<PathBuf>,
    pub content_dir: PathBuf,
    /// Where uploaded files (avatars) are kept; never served as a directory.
    pub data_dir: PathBuf,
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

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_bool(name: &str, value: &str, problems: &mut Vec<String>) -> bool {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => true,
        "0" | "false" | "no" | "off" => false,
        _ => {
            problems.push(format!("{name} must be true or false (got {value:?})"));
            false
        }
    }
}

fn parse_num<T: std::str::FromStr>(name: &str, default: T, problems: &mut Vec<String>) -> T {
    match var(name) {
        None => default,
        Some(v) => v.trim().parse().unwrap_or_else(|_| {
            problems.push(format!(
                "{name} must be a non-negative whole number (got {v:?})"
            ));
            default
        }),
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigErrors> {
        let mut problems = Vec::new();
        let env = match var("GLEH_ENV").or_else(|| var("FLASK_ENV")) {
            None => Env::Development,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "development" | "dev" => Env::Development,
                "production" | "prod" => Env::Production,
                "test" | "testing" => Env::Test,
                other => {
                    problems.push(format!(
                        "GLEH_ENV must be development, production or test (got {other:?})"
                    ));
                    Env::Development
                }
            },
        };
        let prod = env == Env::Production;

        let secret_key = var("SECRET_KEY");
        if prod {
            match &secret_key {
                None => problems
                    .push("SECRET_KEY is not set: generate one with `gleh gen-secret`".to_string()),
                Some(k) if k.trim() == SEED_EXAMPLE_KEY => problems.push(
                    "SECRET_KEY is the example value from the deployment checklist: generate a new one with `gleh gen-secret`"
                        .to_string(),
                ),
                Some(k) if k.len() < 32 => problems.push(format!(
                    "SECRET_KEY is too short ({} bytes; at least 32 required, 64 hex characters recommended)",
                    k.len()
                )),
                Some(k) if distinct_chars(k) < 8 => problems.push(
                    "SECRET_KEY has too few distinct characters to be random: generate one with `gleh gen-secret`"
                        .to_string(),
                ),
                Some(_) => {}
            }
        }

        let database_url_env = var("DATABASE_URL");
        if prod && database_url_env.is_none() {
            problems.push(
                "DATABASE_URL is not set: use postgres://… (or sqlite://PATH for a single server)"
                    .to_string(),
            );
        }
        let database_url = database_url_env
            .clone()
            .unwrap_or_else(|| "sqlite://gleh.db".to_string());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            problems.push("DATABASE_URL must start with sqlite:// or postgres://".to_string());
        }

        let bind = var("BIND").unwrap_or_else(|| "127.0.0.1:8000".to_string());
        if bind.parse::<SocketAddr>().is_err() {
            problems.push(format!(
                "BIND must be an address like 127.0.0.1:8000 (got {bind:?})"
            ));
        }
        let public_url = var("PUBLIC_URL")
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{bind}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            problems.push(format!(
                "PUBLIC_URL must start with http:// or https:// (got {public_url:?})"
            ));
        }

        let tls = match (var("TLS_CERT"), var("TLS_KEY")) {
            (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
            (None, None) => None,
            _ => {
                problems.push("TLS_CERT and TLS_KEY must be set together".to_string());
                None
            }
        };
        let mut listener = |name: &str| {
            let v = var(name)?;
            if v.parse::<SocketAddr>().is_err() {
                problems.push(format!(
                    "{name} must be an address like 0.0.0.0:80 (got {v:?})"
                ));
            }
            Some(v)
        };
        let http_redirect_bind = listener("HTTP_REDIRECT_BIND");
        let metrics_bind = listener("METRICS_BIND");

        let tls_reload_interval = parse_num("TLS_RELOAD_INTERVAL", 10u64, &mut problems).max(1);
        let header_timeout = parse_num("HTTP_HEADER_TIMEOUT", 10u64, &mut problems).max(1);

        let trusted_proxies = var("TRUSTED_PROXIES")
            .unwrap_or_else(|| "127.0.0.1/32,::1/128".to_string())
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .filter_map(|s| {
                let parsed = s
                    .parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from));
                match parsed {
                    Ok(net) => Some(net),
                    Err(_) => {
                        problems.push(format!("TRUSTED_PROXIES: {s:?} is not an address or CIDR"));
                        None
                    }
                }
            })
            .collect();

        let cookie_secure = match var("SESSION_COOKIE_SECURE") {
            Some(v) => parse_bool("SESSION_COOKIE_SECURE", &v, &mut problems),
            None => prod,
        };
        let cookie_httponly = match var("SESSION_COOKIE_HTTPONLY") {
            Some(v) => parse_bool("SESSION_COOKIE_HTTPONLY", &v, &mut problems),
            None => true,
        };
        if !cookie_httponly && prod {
            problems.push("SESSION_COOKIE_HTTPONLY=false is not allowed in production".to_string());
        }
        let cookie_samesite = match var("SESSION_COOKIE_SAMESITE").as_deref().map(str::trim) {
            None => SameSite::Lax,
            Some(v) if v.eq_ignore_ascii_case("lax") => SameSite::Lax,
            Some(v) if v.eq_ignore_ascii_case("strict") => SameSite::Strict,
            Some(v) => {
                problems.push(format!(
                    "SESSION_COOKIE_SAMESITE must be Lax or Strict (got {v:?}); None is not supported"
                ));
                SameSite::Lax
            }
        };
        let cookie_name = var("SESSION_COOKIE_NAME").unwrap_or_else(|| {
            if cookie_secure {
                "__Host-session"
            } else {
                "session"
            }
            .to_string()
        });
        if cookie_name.starts_with("__Host-") && !cookie_secure {
            problems.push(
                "SESSION_COOKIE_NAME starts with __Host- but SESSION_COOKIE_SECURE is false: browsers would drop it"
                    .to_string(),
            );
        }
        if !cookie_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            problems
                .push("SESSION_COOKIE_NAME may only contain letters, digits, - _ .".to_string());
        }

        let idle = parse_num(
            "PERMANENT_SESSION_LIFETIME",
            if prod { 3600 } else { 86400 },
            &mut problems,
        );
        let absolute = parse_num(
            "SESSION_ABSOLUTE_LIFETIME",
            if prod { 43200 } else { 604800 },
            &mut problems,
        );
        if idle == 0 || absolute == 0 {
            problems.push("session lifetimes must be at least 1 second".to_string());
        }
        let max_body_size = parse_num("MAX_REQUEST_BODY_SIZE", 5_242_880usize, &mut problems);
        let min_password_length = parse_num("MIN_PASSWORD_LENGTH", 8usize, &mut problems);
        if min_password_length < 8 && prod {
            problems.push("MIN_PASSWORD_LENGTH below 8 is not allowed in production".to_string());
        }
        let auth_rate_limit = parse_num("AUTH_RATE_LIMIT", 5u32, &mut problems);
        if auth_rate_limit == 0 {
            problems.push("AUTH_RATE_LIMIT must be at least 1".to_string());
        }
        let log_format = match var("LOG_FORMAT").as_deref() {
            None => {
                if prod {
                    LogFormat::Json
                } else {
                    LogFormat::Pretty
                }
            }
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(v) => {
                problems.push(format!("LOG_FORMAT must be json or pretty (got {v:?})"));
                LogFormat::Pretty
            }
        };
        let log_dir = var("LOG_DIR").map(PathBuf::from);
        let content_dir =
            PathBuf::from(var("CONTENT_DIR").unwrap_or_else(|| "./content".to_string()));
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "./data".to_string()));

        if !problems.is_empty() {
            return Err(ConfigErrors(problems));
        }
        Ok(Config {
            env,
            secret_key,
            database_url,
            bind,
            public_url,
            tls,
            http_redirect_bind,
            metrics_bind,
            tls_reload_interval: Duration::from_secs(tls_reload_interval),
            header_timeout: Duration::from_secs(header_timeout),
            trusted_proxies,
            cookie_secure,
            cookie_httponly,
            cookie_samesite,
            cookie_name,
            idle_lifetime: Duration::from_secs(idle),
            absolute_lifetime: Duration::from_secs(absolute),
            max_body_size,
            min_password_length,
            auth_rate_limit,
            log_format,
            log_dir,
            content_dir,
            data_dir,
        })
    }

    pub fn is_production(&self) -> bool {
        self.env == Env::Production
    }

    /// Lines printed by `gleh config`: the seed's §7 four first, in Python's spelling, then
    /// the rest of the effective configuration with secrets redacted.
    pub fn describe(&self) -> String {
        let py = |b: bool| if b { "True" } else { "False" };
        let mut out = String::new();
        let mut line = |k: &str, v: &dyn std::fmt::Display| {
            let _ = writeln!(out, "{k}: {v}");
        };
        line("SESSION_COOKIE_SECURE", &py(self.cookie_secure));
        line("SESSION_COOKIE_HTTPONLY", &py(self.cookie_httponly));
        line("SESSION_COOKIE_SAMESITE", &self.cookie_samesite.as_str());
        line("PERMANENT_SESSION_LIFETIME", &self.idle_lifetime.as_secs());
        line(
            "SESSION_ABSOLUTE_LIFETIME",
            &self.absolute_lifetime.as_secs(),
        );
        line("SESSION_COOKIE_NAME", &self.cookie_name);
        line("GLEH_ENV", &self.env.as_str());
        let secret = match &self.secret_key {
            Some(k) => format!("<redacted, {} bytes>", k.len()),
            None => "<unset: random per start>".to_string(),
        };
        line("SECRET_KEY", &secret);
        line("DATABASE_URL", &redact_url(&self.database_url));
        line("BIND", &self.bind);
        let (cert, key) = match &self.tls {
            Some((c, k)) => (c.display().to_string(), k.display().to_string()),
            None => ("<unset: plain HTTP>".to_string(), "<unset>".to_string()),
        };
        line("TLS_CERT", &cert);
        line("TLS_KEY", &key);
        let unset = "<unset>".to_string();
        line(
            "HTTP_REDIRECT_BIND",
            self.http_redirect_bind.as_ref().unwrap_or(&unset),
        );
        line("METRICS_BIND", self.metrics_bind.as_ref().unwrap_or(&unset));
        line("TLS_RELOAD_INTERVAL", &self.tls_reload_interval.as_secs());
        line("HTTP_HEADER_TIMEOUT", &self.header_timeout.as_secs());
        line("PUBLIC_URL", &self.public_url);
        let proxies: Vec<String> = self.trusted_proxies.iter().map(|n| n.to_string()).collect();
        line("TRUSTED_PROXIES", &proxies.join(","));
        line("MAX_REQUEST_BODY_SIZE", &self.max_body_size);
        line("MIN_PASSWORD_LENGTH", &self.min_password_length);
        line("AUTH_RATE_LIMIT", &self.auth_rate_limit);
        line(
            "LOG_FORMAT",
            &match self.log_format {
                LogFormat::Json => "json",
                LogFormat::Pretty => "pretty",
            },
        );
        let log_dir = self
            .log_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "<unset: stderr>".to_string());
        line("LOG_DIR", &log_dir);
        line("CONTENT_DIR", &self.content_dir.display());
        line("DATA_DIR", &self.data_dir.display());
        out
    }

    /// Warnings worth a log line at start (not fatal).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.secret_key.is_none() {
            w.push("SECRET_KEY is not set: using a random key for this run (sessions and CSRF tokens end at restart)".to_string());
        }
        if self.is_production() && !self.cookie_secure {
            w.push("SESSION_COOKIE_SECURE=false in production: session cookies will travel over plain HTTP".to_string());
        }
        if self.is_production() && std::env::var("PUBLIC_URL").is_err() {
            w.push("PUBLIC_URL is not set: set it to the public https:// origin".to_string());
        }
        w
    }
}

fn distinct_chars(s: &str) -> usize {
    let mut seen: Vec<char> = s.chars().collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("postgresql://gammons_user:STRONG@prod-db.internal/gammons_prod"),
            "postgresql://gammons_user:***@prod-db.internal/gammons_prod"
        );
        assert_eq!(redact_url("sqlite://gleh.db"), "sqlite://gleh.db");
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
    }
}
