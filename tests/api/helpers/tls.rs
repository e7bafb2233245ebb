//! Self-signed certificates made at run time, and the environment of a direct-TLS server.

use std::path::Path;

use super::SECRET;

/// A self-signed certificate for `localhost` and `127.0.0.1` with common name `name`, valid
/// from 2020 until `days` from now: (cert PEM, key PEM).
pub fn make_cert(name: &str, days: i64) -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    let cert = params.self_signed(&key).expect("self-signed");
    (cert.pem(), key.serialize_pem())
}

/// `make_cert(name, days)` written to `dir` as `<name>.crt` and `<name>.key`: (cert path,
/// key path, cert PEM).
pub fn write_cert(dir: &Path, name: &str, days: i64) -> (String, String, String) {
    let (cert, key) = make_cert(name, days);
    let cert_path = dir.join(format!("{name}.crt"));
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&cert_path, &cert).expect("write cert");
    std::fs::write(&key_path, key).expect("write key");
    (
        cert_path.display().to_string(),
        key_path.display().to_string(),
        cert,
    )
}

/// Production mode with direct TLS from `cert` and `key` (paths), public at
/// `https://127.0.0.1`.
pub fn prod_tls_env<'a>(cert: &'a str, key: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("GLEH_ENV", "production"),
        ("SECRET_KEY", SECRET),
        ("TLS_CERT", cert),
        ("TLS_KEY", key),
        ("PUBLIC_URL", "https://127.0.0.1"),
    ]
}
