//! TLS certificate and key files: `tls.files` (TLS_CERT and TLS_KEY set, parsed, the key
//! usable) and `tls.key-match`; then the key file (`tls_key`), the dates (`tls_expiry`), the
//! chain (`tls_chain`) and the leaf's names (`tls_names`).

use std::{fs, sync::Arc};

use rustls::{
    crypto::ring::sign::any_supported_type,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _},
    sign::{CertifiedKey, SigningKey},
};
use x509_parser::{certificate::X509Certificate, prelude::FromDer as _};

use super::{
    Report, env_var, tls_chain::check_chain, tls_expiry::check_expiry, tls_key::check_key_file,
    tls_names::check_names,
};

/// The certificate file, parsed.
struct Loaded {
    cert_path: String,
    key_path: String,
    ders: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

const FILES: &str = "TLS certificate and key";

pub(super) fn check_tls(r: &mut Report) {
    let Some((cert_path, key_path)) = tls_paths(r) else {
        return;
    };
    let loaded = match load_tls(&cert_path, &key_path) {
        Ok(l) => l,
        Err((full, plain)) => return r.fail_plain("tls.files", FILES, &full, &plain),
    };
    let Some(parsed) = parse_certificates(&loaded, r) else {
        return;
    };
    let signing_key = match any_supported_type(&loaded.key) {
        Ok(k) => k,
        Err(e) => {
            return r.fail_plain(
                "tls.files",
                FILES,
                &format!("the key in {} cannot be used: {e}", loaded.key_path),
                &format!("the key in {} cannot be used", loaded.key_path),
            );
        }
    };
    r.pass(
        "tls.files",
        FILES,
        format!(
            "{} certificate(s) in {}, the {:?} private key in {}",
            parsed.len(),
            loaded.cert_path,
            signing_key.algorithm(),
            loaded.key_path
        ),
    );
    check_key_match(&loaded, signing_key, r);
    check_key_file(&loaded.key_path, r);
    check_expiry(&parsed, r);
    check_chain(&loaded.ders, &parsed, r);
    check_names(&parsed[0], r);
}

/// TLS_CERT and TLS_KEY, set together; `None` (reported) otherwise.
fn tls_paths(r: &mut Report) -> Option<(String, String)> {
    match (env_var("TLS_CERT"), env_var("TLS_KEY")) {
        (None, None) => {
            r.warn(
                "tls.files",
                FILES,
                "TLS_CERT and TLS_KEY are not set: no direct TLS — make sure a TLS proxy sits in front",
            );
            None
        }
        (Some(_), None) => {
            r.fail("tls.files", FILES, "TLS_CERT is set but TLS_KEY is not");
            None
        }
        (None, Some(_)) => {
            r.fail("tls.files", FILES, "TLS_KEY is set but TLS_CERT is not");
            None
        }
        (Some(c), Some(k)) => Some((c, k)),
    }
}

/// Every certificate in the file, parsed; `None` (reported) when one does not parse.
fn parse_certificates<'a>(loaded: &'a Loaded, r: &mut Report) -> Option<Vec<X509Certificate<'a>>> {
    let mut parsed = Vec::new();
    for (i, der) in loaded.ders.iter().enumerate() {
        match X509Certificate::from_der(der) {
            Ok((_, c)) => parsed.push(c),
            Err(e) => {
                let plain = format!(
                    "certificate {} in {} does not parse",
                    i + 1,
                    loaded.cert_path
                );
                r.fail_plain("tls.files", FILES, &format!("{plain}: {e}"), &plain);
                return None;
            }
        }
    }
    Some(parsed)
}

/// `tls.key-match`: the key belongs to the leaf certificate.
fn check_key_match(loaded: &Loaded, signing_key: Arc<dyn SigningKey>, r: &mut Report) {
    const MATCH: &str = "key matches certificate";
    match CertifiedKey::new(loaded.ders.clone(), signing_key).keys_match() {
        Ok(()) => r.pass(
            "tls.key-match",
            MATCH,
            "the key's public key is the leaf certificate's",
        ),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => r.fail(
            "tls.key-match",
            MATCH,
            format!(
                "the key in {} does not belong to the first certificate in {}",
                loaded.key_path, loaded.cert_path
            ),
        ),
        Err(e) => r.warn_plain(
            "tls.key-match",
            MATCH,
            &format!("cannot be compared: {e}"),
            "cannot be compared",
        ),
    }
}

/// Why the files cannot be loaded: the reason with the error's text, and without it.
type Unloadable = (String, String);

/// `plain`, and `plain: e` for the command line.
fn because(plain: String, e: impl std::fmt::Display) -> Unloadable {
    (format!("{plain}: {e}"), plain)
}

fn load_tls(cert_path: &str, key_path: &str) -> Result<Loaded, Unloadable> {
    for (var, path) in [("TLS_CERT", cert_path), ("TLS_KEY", key_path)] {
        match fs::metadata(path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                let why = format!("{var} {path} is not a file");
                return Err((why.clone(), why));
            }
            Err(e) => return Err(because(format!("{var} {path} cannot be read"), e)),
        }
    }
    let ders = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| because(format!("TLS_CERT {cert_path}"), e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| because(format!("TLS_CERT {cert_path} is not valid PEM"), e))?;
    if ders.is_empty() {
        let why = format!("TLS_CERT {cert_path} holds no PEM CERTIFICATE block");
        return Err((why.clone(), why));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            let why = format!("TLS_KEY {key_path} holds no PEM private key");
            (why.clone(), why)
        }
        e => because(
            format!("TLS_KEY {key_path} is not a valid PEM private key"),
            e,
        ),
    })?;
    Ok(Loaded {
        cert_path: cert_path.to_string(),
        key_path: key_path.to_string(),
        ders,
        key,
    })
}

pub(super) fn subject_of(c: &X509Certificate<'_>) -> String {
    let s = c.subject().to_string();
    if s.is_empty() {
        "(empty subject)".to_string()
    } else {
        s
    }
}
