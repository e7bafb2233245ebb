//! The TLS certificate chain (`tls.chain`): each certificate in TLS_CERT must be issued, by name
//! and signature, by the next one; the chain must end at a Mozilla root (PASS), or at a
//! self-signed certificate (WARN: not publicly trusted), not at a missing intermediate (FAIL).
//! Holds the minimal DER reader the signature check needs.

use rustls::pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;

use super::{Report, env_var, tls::subject_of};

/// One DER TLV, and what follows it.
#[derive(Debug, PartialEq)]
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    /// Tag, length and content.
    whole: &'a [u8],
    rest: &'a [u8],
}

/// Reads one DER TLV (low tag numbers, definite lengths).
fn tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let tag = *input.first()?;
    let first = *input.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in input.get(2..2 + n)? {
            len = (len << 8) | *b as usize;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = input.get(..end)?;
    Some(Tlv {
        tag,
        content: &whole[header..],
        whole,
        rest: &input[end..],
    })
}

/// The parts of a signed certificate: (to-be-signed TLV, signature AlgorithmIdentifier content,
/// signature bytes).
fn signed_parts(der: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let tbs = tlv(tlv(der)?.content)?;
    let alg = tlv(tbs.rest)?;
    let sig = tlv(alg.rest)?;
    if sig.tag != 0x03 || sig.content.first() != Some(&0) {
        return None;
    }
    Some((tbs.whole, alg.content, &sig.content[1..]))
}

/// Does `signer_spki` (a SubjectPublicKeyInfo's content, without its SEQUENCE header) verify
/// the signature on `der`? `None` when the key's or the signature's algorithm is not supported.
fn signature_ok(der: &[u8], signer_spki: &[u8]) -> Option<bool> {
    let Some((tbs, sig_alg, sig)) = signed_parts(der) else {
        return Some(false);
    };
    let alg = tlv(signer_spki)?;
    let key_alg = alg.content;
    let bits = tlv(alg.rest)?;
    if bits.tag != 0x03 || bits.content.first() != Some(&0) {
        return Some(false);
    }
    let public_key = &bits.content[1..];
    let provider = rustls::crypto::ring::default_provider();
    let (mut key_known, mut sig_known) = (false, false);
    for alg in provider.signature_verification_algorithms.all {
        let key_match = alg.public_key_alg_id().as_ref() == key_alg;
        let sig_match = alg.signature_alg_id().as_ref() == sig_alg;
        key_known |= key_match;
        sig_known |= sig_match;
        if key_match && sig_match && alg.verify_signature(public_key, tbs, sig).is_ok() {
            return Some(true);
        }
    }
    // Both known but not verified (a wrong key, or a key of another type): a mismatch.
    if key_known && sig_known {
        Some(false)
    } else {
        None
    }
}

/// The content of a DER SEQUENCE (a Name or SubjectPublicKeyInfo without its header), the form
/// webpki-roots stores.
fn inner(der: &[u8]) -> &[u8] {
    tlv(der).map(|t| t.content).unwrap_or(der)
}

pub(super) fn check_chain(
    ders: &[CertificateDer<'_>],
    parsed: &[X509Certificate<'_>],
    r: &mut Report,
) {
    const WHAT: &str = "certificate chain";
    let n = parsed.len();
    let mut unverified = Vec::new();
    for i in 0..n.saturating_sub(1) {
        let (cert, next) = (&parsed[i], &parsed[i + 1]);
        if cert.issuer().as_raw() != next.subject().as_raw() {
            r.fail(
                "tls.chain",
                WHAT,
                format!(
                    "certificate {} ({}) is issued by {}, but the next certificate in the file is {}: put the leaf first, then each intermediate in order",
                    i + 1,
                    subject_of(cert),
                    cert.issuer(),
                    subject_of(next)
                ),
            );
            return;
        }
        if !next.is_ca() {
            r.fail(
                "tls.chain",
                WHAT,
                format!(
                    "certificate {} ({}) is not a CA certificate, yet it issued certificate {}",
                    i + 2,
                    subject_of(next),
                    i + 1
                ),
            );
            return;
        }
        match signature_ok(&ders[i], inner(next.public_key().raw)) {
            Some(true) => {}
            Some(false) => {
                r.fail(
                    "tls.chain",
                    WHAT,
                    format!(
                        "certificate {} ({}) names {} as its issuer, but its signature does not verify with that certificate's key (a different certificate of the same name?)",
                        i + 1,
                        subject_of(cert),
                        subject_of(next)
                    ),
                );
                return;
            }
            None => unverified.push(i + 1),
        }
    }
    let last = &parsed[n - 1];
    let last_der = &ders[n - 1];
    let issuer = inner(last.issuer().as_raw());
    let note = if unverified.is_empty() {
        String::new()
    } else {
        format!(
            " (signature algorithm not supported, signature not checked: certificate {:?})",
            unverified
        )
    };
    if last.issuer().as_raw() == last.subject().as_raw() {
        // Self-signed: a root (or a self-signed leaf).
        if signature_ok(last_der, inner(last.public_key().raw)) == Some(false) {
            r.fail(
                "tls.chain",
                WHAT,
                format!(
                    "certificate {n} ({}) looks self-signed but its signature does not verify",
                    subject_of(last)
                ),
            );
            return;
        }
        let spki = inner(last.public_key().raw);
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
        return;
    }
    let roots: Vec<_> = webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .filter(|ta| ta.subject.as_ref() == issuer)
        .collect();
    if roots.is_empty() {
        r.fail(
            "tls.chain",
            WHAT,
            format!(
                "chain incomplete: intermediate missing — certificate {n} ({}) is issued by {}, which is neither in {} nor a known root: append the intermediate certificate(s) after the leaf",
                subject_of(last),
                last.issuer(),
                env_var("TLS_CERT").unwrap_or_default()
            ),
        );
        return;
    }
    let verdicts: Vec<_> = roots
        .iter()
        .map(|ta| signature_ok(last_der, ta.subject_public_key_info.as_ref()))
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
mod tests {
    use super::*;
    use crate::doctor::{Check, Status};
    use rustls::pki_types::pem::PemObject as _;
    use x509_parser::prelude::FromDer as _;

    #[test]
    fn der_tlv_reads_short_and_long_lengths() {
        let short = [0x30, 0x02, 0x05, 0x00, 0xff];
        assert_eq!(
            tlv(&short),
            Some(Tlv {
                tag: 0x30,
                content: &[5, 0],
                whole: &short[..4],
                rest: &[0xff],
            })
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        let t = tlv(&long).expect("tlv");
        assert_eq!(t.content.len(), 0x80);
        assert!(t.rest.is_empty());
        assert!(tlv(&[0x04, 0x05, 1]).is_none());
    }

    /// Amazon Root CA 1, one of the Mozilla roots in webpki-roots (RSA, sha256WithRSAEncryption).
    const AMAZON_ROOT_CA_1: &str = "-----BEGIN CERTIFICATE-----
MIIDQTCCAimgAwIBAgITBmyfz5m/jAo54vB4ikPmljZbyjANBgkqhkiG9w0BAQsF
ADA5MQswCQYDVQQGEwJVUzEPMA0GA1UEChMGQW1hem9uMRkwFwYDVQQDExBBbWF6
b24gUm9vdCBDQSAxMB4XDTE1MDUyNjAwMDAwMFoXDTM4MDExNzAwMDAwMFowOTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoTBkFtYXpvbjEZMBcGA1UEAxMQQW1hem9uIFJv
b3QgQ0EgMTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBALJ4gHHKeNXj
ca9HgFB0fW7Y14h29Jlo91ghYPl0hAEvrAIthtOgQ3pOsqTQNroBvo3bSMgHFzZM
9O6II8c+6zf1tRn4SWiw3te5djgdYZ6k/oI2peVKVuRF4fn9tBb6dNqcmzU5L/qw
IFAGbHrQgLKm+a/sRxmPUDgH3KKHOVj4utWp+UhnMJbulHheb4mjUcAwhmahRWa6
VOujw5H5SNz/0egwLX0tdHA114gk957EWW67c4cX8jJGKLhD+rcdqsq08p8kDi1L
93FcXmn/6pUCyziKrlA4b9v7LWIbxcceVOF34GfID5yHI9Y/QCB/IIDEgEw+OyQm
jgSubJrIqg0CAwEAAaNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMC
AYYwHQYDVR0OBBYEFIQYzIU07LwMlJQuCFmcx7IQTgoIMA0GCSqGSIb3DQEBCwUA
A4IBAQCY8jdaQZChGsV2USggNiMOruYou6r4lK5IpDB/G/wkjUu0yKGX9rbxenDI
U5PMCCjjmCXPI6T53iHTfIUJrU6adTrCC2qJeHZERxhlbI1Bjjt/msv0tadQ1wUs
N+gDS63pYaACbvXy8MWy7Vu33PqUXHeeE6V/Uq2V8viTO96LXFvKWlJbYK8U90vv
o/ufQJVtMVT8QtPHRh8jrdkPSHCa2XV4cdFyQzR1bldZwgJcJmApzyMZFo6IQ6XU
5MsI+yMRQ+hDKXJioaldXgjUkK642M4UwtBV8ob2xJNDd2ZhwLnoQdeXeGADbkpy
rqXRfboQnoZsG4q5WTP468SQvvG5
-----END CERTIFICATE-----
";

    fn chain_verdict(ders: &[CertificateDer<'static>]) -> Check {
        let parsed: Vec<_> = ders
            .iter()
            .map(|d| X509Certificate::from_der(d).expect("parse").1)
            .collect();
        let mut r = Report::default();
        check_chain(ders, &parsed, &mut r);
        r.checks.pop().expect("one verdict")
    }

    #[test]
    fn a_mozilla_root_is_recognised_and_its_rsa_signature_verifies() {
        let der = CertificateDer::from_pem_slice(AMAZON_ROOT_CA_1.as_bytes()).expect("pem");
        let (_, root) = X509Certificate::from_der(&der).expect("parse");
        assert_eq!(signature_ok(&der, inner(root.public_key().raw)), Some(true));
        // A tampered signature does not verify.
        let mut bad = der.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            signature_ok(&bad, inner(root.public_key().raw)),
            Some(false)
        );

        let c = chain_verdict(&[der]);
        assert_eq!(c.status, Status::Pass, "{}", c.message);
        assert!(c.message.contains("publicly trusted root"), "{}", c.message);
    }

    #[test]
    fn a_certificate_naming_a_mozilla_root_must_be_signed_by_it() {
        use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, Issuer, KeyPair};
        let printable = |s: &str| DnValue::PrintableString(s.try_into().expect("printable"));
        // An impostor CA with exactly the Amazon root's name, and a leaf it signs.
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, printable("US"));
        dn.push(DnType::OrganizationName, printable("Amazon"));
        dn.push(DnType::CommonName, printable("Amazon Root CA 1"));
        ca.distinguished_name = dn;
        let issuer = Issuer::new(ca, KeyPair::generate().expect("key"));
        let leaf = CertificateParams::new(vec!["platform.test".to_string()])
            .expect("params")
            .signed_by(&KeyPair::generate().expect("key"), &issuer)
            .expect("leaf");
        let c = chain_verdict(&[leaf.der().clone()]);
        assert_eq!(c.status, Status::Fail, "{}", c.message);
        assert!(
            c.message.contains("does not verify with that root's key"),
            "{}",
            c.message
        );
    }
}
