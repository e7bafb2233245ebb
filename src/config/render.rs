//! `gleh config`: the effective configuration, one `NAME: value` line each, secrets redacted.
//! The deployment checklist's §7 four come first, in Python's spelling (`True`/`False`), so the
//! checklist's pre-deployment validation reads as written (docs/deploy.md).

use std::fmt::Write as _;

use super::{Config, LogFormat};

impl Config {
    /// Lines printed by `gleh config`: the checklist's §7 four first, then the rest.
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
        line("SECRET_KEY", &self.shown_secret());
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
        line("ADMIN_REAUTH_WINDOW", &self.admin_reauth_window.as_secs());
        line("MAX_REQUEST_BODY_SIZE", &self.max_body_size);
        line("COURSE_UPLOAD_MAX_BYTES", &self.course_upload_max_bytes);
        line("MIN_PASSWORD_LENGTH", &self.min_password_length);
        line("AUTH_RATE_LIMIT", &self.auth_rate_limit);
        line("LOG_FORMAT", &self.log_format.as_str());
        let log_dir = self
            .log_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "<unset: stderr>".to_string());
        line("LOG_DIR", &log_dir);
        line("CONTENT_DIR", &self.content_dir.display());
        line("DATA_DIR", &self.data_dir.display());
        let backup_dir = self
            .backup_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "<unset>".to_string());
        line("BACKUP_DIR", &backup_dir);
        match &self.calibre {
            None => line("CALIBRE_WEB_URL", &"<unset: no e-books>"),
            Some(c) => {
                line("CALIBRE_WEB_URL", &redact_url(&c.url));
                let (user, password) = match &c.credentials {
                    Some((u, p)) => (u.clone(), format!("<redacted, {} bytes>", p.len())),
                    None => ("<unset>".to_string(), "<unset>".to_string()),
                };
                line("CALIBRE_WEB_USERNAME", &user);
                line("CALIBRE_WEB_PASSWORD", &password);
                line("CALIBRE_WEB_EXTERNAL_URL", &c.external_url);
                line("CALIBRE_REFRESH_INTERVAL", &c.refresh_interval.as_secs());
            }
        }
        out
    }

    /// The secret key's length, never the key.
    fn shown_secret(&self) -> String {
        match &self.secret_key {
            Some(k) => format!("<redacted, {} bytes>", k.len()),
            None => "<unset: random per start>".to_string(),
        }
    }
}

impl LogFormat {
    /// The LOG_FORMAT spelling.
    fn as_str(self) -> &'static str {
        match self {
            LogFormat::Json => "json",
            LogFormat::Pretty => "pretty",
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; a password given as
/// a query parameter (`?password=secret`, `sslpassword=`) is hidden the same way.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => match authority[..at].find(':') {
            Some(colon) => format!("{}:***{}", &authority[..colon], &authority[at..]),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.to_ascii_lowercase().contains("password") => {
                        format!("{k}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", pairs.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{}{authority}{tail}", &url[..scheme_end + 3])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env::Vars;

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
        assert_eq!(
            redact_url("postgres://u@db/gleh?sslmode=require&password=hunter2&SSLPASSWORD=x"),
            "postgres://u@db/gleh?sslmode=require&password=***&SSLPASSWORD=***"
        );
        assert_eq!(
            redact_url("postgres://u:p%40ss@db:5432/gleh?application_name=a@b"),
            "postgres://u:***@db:5432/gleh?application_name=a@b"
        );
    }

    #[test]
    fn the_checklist_four_come_first_and_secrets_are_redacted() {
        let vars = Vars::from_pairs(&[
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef"),
            ("DATABASE_URL", "postgres://u:hunter2@db/gleh"),
        ]);
        let text = Config::from_vars(vars).expect("valid").describe();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..4],
            [
                "SESSION_COOKIE_SECURE: False",
                "SESSION_COOKIE_HTTPONLY: True",
                "SESSION_COOKIE_SAMESITE: Lax",
                "PERMANENT_SESSION_LIFETIME: 86400",
            ]
        );
        assert!(lines.contains(&"SECRET_KEY: <redacted, 32 bytes>"));
        assert!(lines.contains(&"DATABASE_URL: postgres://u:***@db/gleh"));
        assert!(!text.contains("hunter2") && !text.contains("0123456789abcdef"));
        assert_eq!(lines.last(), Some(&"CALIBRE_WEB_URL: <unset: no e-books>"));
        let vars = Vars::from_pairs(&[
            ("CALIBRE_WEB_URL", "http://cw:8083"),
            ("CALIBRE_WEB_USERNAME", "hub"),
            ("CALIBRE_WEB_PASSWORD", "calibre-pw-1"),
        ]);
        let text = Config::from_vars(vars).expect("valid").describe();
        assert!(text.contains("CALIBRE_WEB_PASSWORD: <redacted, 12 bytes>"));
        assert!(text.contains("CALIBRE_WEB_EXTERNAL_URL: /calibre-web"));
        assert!(!text.contains("calibre-pw-1"));
    }
}
