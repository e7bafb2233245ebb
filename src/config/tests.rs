//! `Config::from_vars` as a whole: defaults per environment, and the production guard's
//! lines in their exact text and order.

use super::*;

#[test]
fn development_needs_nothing() {
    let c = Config::from_vars(Vars::from_pairs(&[])).expect("defaults are valid");
    assert_eq!(c.env, Env::Development);
    assert!(c.secret_key.is_none() && !c.is_production());
    assert_eq!(c.database_url, "sqlite://gleh.db");
    assert_eq!(c.log_format, LogFormat::Pretty);
    assert!(!c.cookie_secure && c.cookie_httponly);
    assert_eq!(c.cookie_name, "session");
}

#[test]
fn flask_env_is_accepted_and_unknown_environments_refused() {
    let c = Config::from_vars(Vars::from_pairs(&[
        ("FLASK_ENV", "Prod"),
        ("SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        ("DATABASE_URL", "sqlite://x.db"),
    ]))
    .expect("valid");
    assert!(c.is_production());
    assert_eq!(c.log_format, LogFormat::Json);
    let Err(ConfigErrors(lines)) = Config::from_vars(Vars::from_pairs(&[("GLEH_ENV", "Staging")]))
    else {
        panic!("an unknown GLEH_ENV must be refused");
    };
    assert_eq!(
        lines,
        ["GLEH_ENV must be development, production or test (got \"staging\")"]
    );
}

#[test]
fn the_production_guard_names_every_problem_in_order() {
    let Err(ConfigErrors(lines)) = Config::from_vars(Vars::from_pairs(&[
        ("GLEH_ENV", "production"),
        ("SECRET_KEY", " "),
        ("DATABASE_URL", "mysql://x"),
        ("BIND", "nope"),
        ("PUBLIC_URL", "ftp://x"),
        ("TLS_CERT", "/x"),
        ("HTTP_REDIRECT_BIND", "bad"),
        ("METRICS_BIND", "bad2"),
        ("TLS_RELOAD_INTERVAL", "-1"),
        ("HTTP_HEADER_TIMEOUT", "x"),
        ("TRUSTED_PROXIES", "1.2.3.4,zz,,10.0.0.0/33"),
        ("SESSION_COOKIE_SECURE", "maybe"),
        ("SESSION_COOKIE_HTTPONLY", "false"),
        ("SESSION_COOKIE_SAMESITE", "None"),
        ("SESSION_COOKIE_NAME", "__Host-a b"),
        ("PERMANENT_SESSION_LIFETIME", "0"),
        ("SESSION_ABSOLUTE_LIFETIME", "x"),
        ("MAX_REQUEST_BODY_SIZE", "-5"),
        ("MIN_PASSWORD_LENGTH", "4"),
        ("AUTH_RATE_LIMIT", "0"),
        ("LOG_FORMAT", "xml"),
    ])) else {
        panic!("the guard must refuse this configuration");
    };
    assert_eq!(
        lines,
        [
            "SECRET_KEY is not set: generate one with `gleh gen-secret`",
            "DATABASE_URL must start with sqlite:// or postgres://",
            "BIND must be an address like 127.0.0.1:8000 (got \"nope\")",
            "PUBLIC_URL must start with http:// or https:// (got \"ftp://x\")",
            "TLS_CERT and TLS_KEY must be set together",
            "HTTP_REDIRECT_BIND must be an address like 0.0.0.0:80 (got \"bad\")",
            "METRICS_BIND must be an address like 0.0.0.0:80 (got \"bad2\")",
            "TLS_RELOAD_INTERVAL must be a non-negative whole number (got \"-1\")",
            "HTTP_HEADER_TIMEOUT must be a non-negative whole number (got \"x\")",
            "TRUSTED_PROXIES: \"zz\" is not an address or CIDR",
            "TRUSTED_PROXIES: \"10.0.0.0/33\" is not an address or CIDR",
            "SESSION_COOKIE_SECURE must be true or false (got \"maybe\")",
            "SESSION_COOKIE_HTTPONLY=false is not allowed in production",
            "SESSION_COOKIE_SAMESITE must be Lax or Strict (got \"None\"); None is not supported",
            "SESSION_COOKIE_NAME starts with __Host- but SESSION_COOKIE_SECURE is false: browsers would drop it",
            "SESSION_COOKIE_NAME may only contain letters, digits, - _ .",
            "SESSION_ABSOLUTE_LIFETIME must be a non-negative whole number (got \"x\")",
            "session lifetimes must be at least 1 second",
            "MAX_REQUEST_BODY_SIZE must be a non-negative whole number (got \"-5\")",
            "MIN_PASSWORD_LENGTH below 8 is not allowed in production",
            "AUTH_RATE_LIMIT must be at least 1",
            "LOG_FORMAT must be json or pretty (got \"xml\")",
        ]
    );
}

#[test]
fn errors_print_one_line_each() {
    let e = ConfigErrors(vec!["a".into(), "b".into()]);
    assert_eq!(e.to_string(), "a\nb");
}
