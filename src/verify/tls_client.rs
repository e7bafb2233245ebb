//! The TLS side of `verify`'s clients: rustls with the ring provider, verifying against the
//! Mozilla roots (webpki-roots), or accepting any certificate while recording whether it
//! would have verified (for `--insecure` and for reporting a bad chain without stopping).

use std::sync::{Arc, Mutex};

use rustls::{
    ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::CryptoProvider,
    pki_types::{CertificateDer, ServerName, UnixTime},
};

use super::client::Http;

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn mozilla_roots() -> Arc<RootCertStore> {
    Arc::new(RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    })
}

/// Runs the WebPKI checks (chain to a Mozilla root, validity dates, host name), records the
/// verdict, and accepts the certificate whatever it is. Handshake signatures are still
/// verified, so the peer must hold the certificate's key.
#[derive(Debug)]
pub struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    verdict: Mutex<Option<Result<(), Error>>>,
}

impl Recording {
    pub fn new() -> anyhow::Result<Recording> {
        let inner =
            WebPkiServerVerifier::builder_with_provider(mozilla_roots(), provider()).build()?;
        Ok(Recording {
            inner,
            verdict: Mutex::new(None),
        })
    }
    pub fn verdict(&self) -> Option<Result<(), Error>> {
        self.verdict.lock().ok().and_then(|v| v.clone())
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let r = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
            .map(|_| ());
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some(r);
        }
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The client configuration for HTTP requests: TLS 1.2/1.3, and either full verification
/// against the Mozilla roots or (`verify == false`) any certificate.
pub fn client_config(verify: bool) -> anyhow::Result<ClientConfig> {
    let builder =
        ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    Ok(if verify {
        builder
            .with_root_certificates(mozilla_roots())
            .with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Recording::new()?))
            .with_no_client_auth()
    })
}

/// A client for the deployment: verifying the chain against the Mozilla roots, or not.
pub fn build(base: &str, verify: bool) -> Result<Http, String> {
    let tls = client_config(verify).map_err(|e| e.to_string())?;
    Http::new(base, tls, false).map_err(|e| e.to_string())
}

/// The same for the load test: a new connection per request.
pub fn build_fresh(base: &str, verify: bool) -> Result<Http, String> {
    let tls = client_config(verify).map_err(|e| e.to_string())?;
    Http::new(base, tls, true).map_err(|e| e.to_string())
}
