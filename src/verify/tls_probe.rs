//! TLS facts reqwest does not expose: the negotiated protocol and suite, the certificate
//! chain and its validity against the Mozilla roots, read from a rustls handshake of our own.
//! The TLS 1.0/1.1 probe is in `tls_legacy.rs`. Blocking code: callers run it on a blocking
//! thread.

use std::{
    io::Write as _,
    net::{SocketAddr, TcpStream},
    sync::Arc,
    time::Duration,
};

use rustls::{
    CertificateError, ClientConfig, ClientConnection, Error,
    pki_types::{CertificateDer, ServerName},
};
use x509_parser::extensions::GeneralName;

use super::tls_client::{Recording, provider};

pub fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, String> {
    let mut last = "no address".to_string();
    for a in addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(timeout));
                let _ = s.set_write_timeout(Some(timeout));
                return Ok(s);
            }
            Err(e) => last = format!("{a}: {e}"),
        }
    }
    Err(last)
}

pub struct Handshake {
    /// "TLS 1.3" or "TLS 1.2".
    pub version: String,
    pub modern: bool,
    pub suite: String,
    pub alpn: Option<String>,
    /// Leaf first, as the server sent it.
    pub chain: Vec<CertificateDer<'static>>,
    /// The chain's validity for the host against the Mozilla roots.
    pub verdict: Result<(), String>,
}

fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".into(),
        other => format!("{other:?}"),
    }
}

/// A human reason for a certificate the WebPKI checks refused.
pub fn explain(e: &Error, host: &str) -> String {
    match e {
        Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => {
                "not issued by a publicly trusted CA (self-signed, private CA, or intermediate missing)".into()
            }
            CertificateError::NotValidForName
            | CertificateError::NotValidForNameContext { .. } => {
                format!("not valid for the name {host}")
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired".into(),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "not valid yet".into()
            }
            CertificateError::Revoked => "revoked".into(),
            CertificateError::Other(o) => o.to_string(),
            other => format!("{other:?}"),
        },
        other => other.to_string(),
    }
}

/// A TLS 1.2/1.3 handshake with `server`, recording what was negotiated and whether the
/// chain is valid for `host`.
pub fn handshake(
    addrs: &[SocketAddr],
    server: ServerName<'static>,
    timeout: Duration,
) -> Result<Handshake, String> {
    let host = match &server {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => String::new(),
    };
    let recorder = Arc::new(Recording::new().map_err(|e| e.to_string())?);
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let mut conn = ClientConnection::new(Arc::new(config), server).map_err(|e| e.to_string())?;
    let mut sock = connect(addrs, timeout)?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut sock) {
            return Err(format!("TLS handshake failed: {e}"));
        }
    }
    let _ = conn.writer().flush();
    conn.send_close_notify();
    let _ = conn.complete_io(&mut sock);
    let verdict = match recorder.verdict() {
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => Err(explain(&e, &host)),
        None => Err("the certificate was not checked".into()),
    };
    Ok(Handshake {
        version: conn
            .protocol_version()
            .map(version_name)
            .unwrap_or_else(|| "unknown".into()),
        modern: matches!(
            conn.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2 | rustls::ProtocolVersion::TLSv1_3)
        ),
        suite: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        chain: conn
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default(),
        verdict,
    })
}

/// What the leaf certificate says about itself.
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub names: Vec<String>,
    pub not_after: i64,
}

pub fn cert_info(der: &[u8]) -> Option<CertInfo> {
    let (_, c) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = c.subject_alternative_name() {
        for g in &san.value.general_names {
            match g {
                GeneralName::DNSName(d) => names.push(d.to_string()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => names.extend(
                        <[u8; 4]>::try_from(*b)
                            .ok()
                            .map(|a| std::net::IpAddr::from(a).to_string()),
                    ),
                    16 => names.extend(
                        <[u8; 16]>::try_from(*b)
                            .ok()
                            .map(|a| std::net::IpAddr::from(a).to_string()),
                    ),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    Some(CertInfo {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        names,
        not_after: c.validity().not_after.timestamp(),
    })
}
