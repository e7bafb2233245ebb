//! The TLS certificate chain (`tls.chain`): each certificate in TLS_CERT must be issued, by name
//! and signature, by the next one; the chain must end at a Mozilla root (PASS), or at a
//! self-signed certificate (WARN: not publicly trusted), not at a missing intermediate (FAIL).
//! The DER reading and signature check are in `der.rs`.

use rustls::pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;

use super::{
    Report,
    der::{inner, signature_ok},
    env_var,
    tls::subject_of,
};

const WHAT: &str = "certificate chain";

pub(super) fn check_chain(
    ders: &[CertificateDer<'_>],
    parsed: &[X509Certificate<'_>],
    r: &mut Report,
) {
    let unverified = match links(ders, parsed) {
        Ok(unverified) => unverified,
        Err(why) => return r.fail("tls.chain", WHAT, why),
    };
    let n = parsed.len();
    let end = End {
        n,
        cert: &parsed[n - 1],
        der: &ders[n - 1],
        note: if unverified.is_empty() {
            String::new()
        } else {
            format!(
                " (signature algorithm not supported, signature not checked: certificate {:?})",
                unverified
            )
        },
    };
    if end.cert.issuer().as_raw() == end.cert.subject().as_raw() {
        self_signed_end(&end, r);
    } else {
        root_issued_end(&end, r);
    }
}

/// Each certificate is issued, by name and signature, by the next one in the file. `Ok` with
/// the (1-based) certificates whose signature algorithm could not be checked, or the FAIL text.
fn links(
    ders: &[CertificateDer<'_>],
    parsed: &[X509Certificate<'_>],
) -> Result<Vec<usize>, String> {
    let mut unverified = Vec::new();
    for i in 0..parsed.len().saturating_sub(1) {
        let (cert, next) = (&parsed[i], &parsed[i + 1]);
        if cert.issuer().as_raw() != next.subject().as_raw() {
            return Err(format!(
                "certificate {} ({}) is issued by {}, but the next certificate in the file is {}: put the leaf first, then each intermediate in order",
                i + 1,
                subject_of(cert),
                cert.issuer(),
                subject_of(next)
            ));
        }
        if !next.is_ca() {
            return Err(format!(
                "certificate {} ({}) is not a CA certificate, yet it issued certificate {}",
                i + 2,
                subject_of(next),
                i + 1
            ));
        }
        match signature_ok(&ders[i], inner(next.public_key().raw)) {
            Some(true) => {}
            Some(false) => {
                return Err(format!(
                    "certificate {} ({}) names {} as its issuer, but its signature does not verify with that certificate's key (a different certificate of the same name?)",
                    i + 1,
                    subject_of(cert),
                    subject_of(next)
                ));
            }
            None => unverified.push(i + 1),
        }
    }
    Ok(unverified)
}

/// The last certificate in the file: where the chain ends.
struct End<'a, 'c> {
    /// How many certificates the file holds (the last one's number).
    n: usize,
    cert: &'a X509Certificate<'c>,
    der: &'a CertificateDer<'c>,
    /// Appended to a verdict when some signatures could not be checked.
    note: String,
}

/// A self-signed end: a Mozilla root passes; a private CA or a self-signed leaf warns.
fn self_signed_end(end: &End<'_, '_>, r: &mut Report) {
    let (n, last, note) = (end.n, end.cert, &end.note);
    let spki = inner(last.public_key().raw);
    if signature_ok(end.der, spki) == Some(false) {
        return r.fail(
            "tls.chain",
            WHAT,
            format!(
                "certificate {n} ({}) looks self-signed but its signature does not verify",
                subject_of(last)
            ),
        );
    }
    let issuer = inner(last.issuer().as_raw());
    let public = webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .any(|ta| ta.subject.as_ref() == issuer && ta.subject_public_key_info.as_ref() == spki);
    if public {
        r.pass(
            "tls.chain",
            WHAT,
            format!(
                "complete: {n} certificate(s) up to the publicly trusted root {} (sending the root itself is unnecessary){note}",
                subject_of(last)
            ),
        );
    } else if n == 1 {
        r.warn(
            "tls.chain",
            WHAT,
            format!(
                "a self-signed certificate ({}): complete, but not publicly trusted — browsers will refuse it unless it is installed",
                subject_of(last)
            ),
        );
    } else {
        r.warn(
            "tls.chain",
            WHAT,
            format!(
                "complete: {n} certificates up to {}, a private CA — not publicly trusted: clients need that CA installed{note}",
                subject_of(last)
            ),
        );
    }
}

/// An end issued by someone else: that issuer must be a Mozilla root whose key signed it.
fn root_issued_end(end: &End<'_, '_>, r: &mut Report) {
    let (n, last, note) = (end.n, end.cert, &end.note);
    let issuer = inner(last.issuer().as_raw());
    let roots: Vec<_> = webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .filter(|ta| ta.subject.as_ref() == issuer)
        .collect();
    if roots.is_empty() {
        return r.fail(
            "tls.chain",
            WHAT,
            format!(
                "chain incomplete: intermediate missing — certificate {n} ({}) is issued by {}, which is neither in {} nor a known root: append the intermediate certificate(s) after the leaf",
                subject_of(last),
                last.issuer(),
                env_var("TLS_CERT").unwrap_or_default()
            ),
        );
    }
    let verdicts: Vec<_> = roots
        .iter()
        .map(|ta| signature_ok(end.der, ta.subject_public_key_info.as_ref()))
        .collect();
    if verdicts.iter().all(|v| *v == Some(false)) {
        r.fail(
            "tls.chain",
            WHAT,
            format!(
                "certificate {n} ({}) names the root {} as its issuer, but its signature does not verify with that root's key",
                subject_of(last),
                last.issuer()
            ),
        );
    } else {
        r.pass(
            "tls.chain",
            WHAT,
            format!(
                "complete: {n} certificate(s) up to the publicly trusted root {}{note}",
                last.issuer()
            ),
        );
    }
}

#[cfg(test)]
mod tests;
