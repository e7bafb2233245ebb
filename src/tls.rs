//! Direct TLS with rustls: TLS 1.2 and 1.3 only, the ring provider's AEAD + forward-secret
//! suites (exactly Mozilla's "intermediate" list), ALPN h2 and http/1.1, and certificate
//! reload without a restart — on SIGHUP and when the files change on disk.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use anyhow::Context as _;
use axum_server::tls_rustls::RustlsConfig;
use rustls::{
    ServerConfig,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _},
};

/// Reads the PEM chain and key and builds the server configuration.
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading TLS_CERT {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("parsing TLS_CERT {}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("TLS_CERT {} holds no certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading TLS_KEY {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the TLS key does not match the certificate, or is unsupported")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // The server picks, strongest first (ASVS 12.1.2; testssl.sh flags client order).
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

/// The certificate's `notAfter`, as unix seconds.
pub fn not_after(cert: &Path) -> anyhow::Result<i64> {
    let first = CertificateDer::pem_file_iter(cert)?
        .next()
        .context("no certificate")??;
    let (_, parsed) = x509_parser::parse_x509_certificate(first.as_ref())
        .map_err(|e| anyhow::anyhow!("parsing the certificate: {e}"))?;
    Ok(parsed.validity().not_after.timestamp())
}

fn mtimes(paths: &[PathBuf]) -> Vec<Option<SystemTime>> {
    paths
        .iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect()
}

/// Reloads the certificate on SIGHUP and whenever either file's modification time changes
/// (checked every `poll`). A bad replacement is logged and the old certificate kept.
/// Open connections are unaffected; new handshakes use the new certificate.
pub fn spawn_reloader(rc: RustlsConfig, cert: PathBuf, key: PathBuf, poll: Duration) {
    tokio::spawn(async move {
        let files = [cert.clone(), key.clone()];
        let mut seen = mtimes(&files);
        #[cfg(unix)]
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(poll);
        loop {
            #[cfg(unix)]
            let reason = tokio::select! {
                _ = tick.tick() => "file_change",
                Some(_) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "sighup",
            };
            #[cfg(not(unix))]
            let reason = {
                tick.tick().await;
                "file_change"
            };
            let now = mtimes(&files);
            if reason == "file_change" && now == seen {
                continue;
            }
            seen = now;
            match server_config(&cert, &key) {
                Ok(config) => {
                    rc.reload_from_config(config);
                    let expiry = not_after(&cert).unwrap_or(0);
                    crate::metrics::set_certificate_expiry(expiry);
                    tracing::info!(event = "tls_reloaded", reason, not_after = expiry);
                }
                Err(e) => {
                    tracing::error!(event = "tls_reload_failed", reason, error = %format!("{e:#}"))
                }
            }
        }
    });
}
