//! The chain check against a real Mozilla root, and an impostor of the same name.

use super::*;
use crate::doctor::{
    der::{inner, signature_ok},
    report::{Check, Status},
};
use rustls::pki_types::pem::PemObject as _;
use x509_parser::prelude::FromDer as _;

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
