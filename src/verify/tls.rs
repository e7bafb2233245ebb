//! TLS: the negotiated protocol, TLS 1.0 and 1.1 refused, the chain valid for the host, and
//! the certificate's days left; then the HTTP client every later check uses (verifying the
//! chain when it validates, accepting it otherwise so the other checks still run).

use std::time::{Duration, UNIX_EPOCH};

use super::{
    TIMEOUT, Verifier,
    client::short,
    tls_client::build,
    tls_legacy::{self, Legacy},
    tls_probe::{self, CertInfo, Handshake},
};

/// `YYYY-MM-DD` of a Unix time.
fn date(unix: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64);
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .chars()
        .take(10)
        .collect()
}

impl Verifier {
    /// TLS: protocol, legacy versions, chain, expiry; then builds the HTTP client.
    pub async fn tls(&mut self) -> Result<(), String> {
        if !self.target.https {
            self.report.fail(
                "tls.protocol",
                format!("{} is plain http://: no TLS at all", self.target.base),
            );
            self.report
                .skip_all("tls.", "not run: the URL is not https://");
            self.http = Some(build(&self.target.base, false)?);
            return Ok(());
        }
        let Some(name) = self.target.server_name.clone() else {
            return Err(format!(
                "{} is not a valid TLS server name",
                self.target.host
            ));
        };
        let addrs = self.target.addrs.clone();
        let hs = tokio::task::spawn_blocking(move || tls_probe::handshake(&addrs, name, TIMEOUT))
            .await
            .map_err(|e| e.to_string())?;
        match &hs {
            Ok(h) => self.handshake_checks(h),
            Err(e) => {
                self.report.fail("tls.protocol", e.clone());
                self.report.skip("tls.chain", "not run: no TLS handshake");
                self.report.skip("tls.expiry", "not run: no TLS handshake");
            }
        }
        self.legacy_versions().await?;
        self.tls_verify = matches!(&hs, Ok(h) if h.verdict.is_ok());
        self.http = Some(build(&self.target.base, self.tls_verify)?);
        Ok(())
    }

    /// What one TLS 1.2/1.3 handshake shows: protocol, chain and expiry.
    fn handshake_checks(&mut self, h: &Handshake) {
        let alpn = h.alpn.as_deref().unwrap_or("none");
        let seen = format!("{}, {}, ALPN {alpn}", h.version, h.suite);
        if h.modern {
            self.report.pass("tls.protocol", seen);
        } else {
            self.report.fail("tls.protocol", seen);
        }
        let info = h.chain.first().and_then(|c| tls_probe::cert_info(c));
        self.chain_check(&h.verdict, info.as_ref());
        self.expiry_check(info.as_ref());
    }

    /// An invalid chain is a FAIL, or a SKIP with `--insecure`; the checks go on either way.
    fn chain_check(&mut self, verdict: &Result<(), String>, info: Option<&CertInfo>) {
        let issuer = info
            .map(|i| format!("subject {}, issuer {}", i.subject, i.issuer))
            .unwrap_or_default();
        let r = &mut self.report;
        match (verdict, self.args.insecure) {
            (Ok(()), _) => r.pass(
                "tls.chain",
                format!("valid for {} against the Mozilla roots, {issuer}", self.target.host),
            ),
            (Err(why), false) => r.fail(
                "tls.chain",
                format!("{why}; {issuer} — the other checks go on accepting it (or pass --insecure for a staging certificate)"),
            ),
            (Err(why), true) => r.skip(
                "tls.chain",
                format!("not required with --insecure; it does not validate: {why}; {issuer}"),
            ),
        }
    }

    /// Days left on the leaf: FAIL under 7, WARN under 30.
    fn expiry_check(&mut self, info: Option<&CertInfo>) {
        let Some(i) = info else {
            return self
                .report
                .fail("tls.expiry", "the server sent no readable certificate");
        };
        let days = (i.not_after - crate::time::now()).div_euclid(86_400);
        let names = if i.names.is_empty() {
            String::new()
        } else {
            format!(", names {}", short(&i.names.join(" "), 80))
        };
        let seen = if days < 0 {
            format!(
                "expired {} days ago, on {}{names}",
                -days,
                date(i.not_after)
            )
        } else {
            format!("{days} days left, until {}{names}", date(i.not_after))
        };
        if days < 7 {
            self.report.fail("tls.expiry", seen);
        } else if days < 30 {
            self.report
                .warn("tls.expiry", format!("{seen} — renew it soon"));
        } else {
            self.report.pass("tls.expiry", seen);
        }
    }

    /// TLS 1.0 and 1.1 must be refused; a probe that cannot connect is a SKIP.
    async fn legacy_versions(&mut self) -> Result<(), String> {
        let sni = match &self.target.server_name {
            Some(rustls::pki_types::ServerName::DnsName(d)) => Some(d.as_ref().to_string()),
            _ => None,
        };
        for (id, version) in [
            ("tls.legacy-1.0", tls_legacy::TLS1_0),
            ("tls.legacy-1.1", tls_legacy::TLS1_1),
        ] {
            let (addrs, sni) = (self.target.addrs.clone(), sni.clone());
            let answer = tokio::task::spawn_blocking(move || {
                tls_legacy::legacy_probe(&addrs, sni.as_deref(), version, TIMEOUT)
            })
            .await
            .map_err(|e| e.to_string())?;
            match answer {
                Ok(Legacy::Refused(why)) => self.report.pass(id, format!("refused: {why}")),
                Ok(Legacy::Accepted(what)) => self.report.fail(id, format!("accepted: {what}")),
                Err(e) => self
                    .report
                    .skip(id, format!("could not connect to test it: {e}")),
            }
        }
        Ok(())
    }
}
