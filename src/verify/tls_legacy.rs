//! Whether the server accepts TLS 1.0 or 1.1, found by sending a hand-built ClientHello
//! offering only that version (rustls cannot speak them) and reading the first record of the
//! answer. No dependency on an installed `openssl` and its security level. Blocking code.

use std::{io::Write as _, net::SocketAddr, time::Duration};

use super::tls_probe::connect;

pub const TLS1_0: u16 = 0x0301;
pub const TLS1_1: u16 = 0x0302;

#[derive(Debug, PartialEq, Eq)]
pub enum Legacy {
    /// The server answered with a ServerHello for the offered version.
    Accepted(String),
    /// Anything else: an alert, a closed connection, another version, silence.
    Refused(String),
}

fn push16(v: &mut Vec<u8>, n: usize) {
    v.extend_from_slice(&(n as u16).to_be_bytes());
}

/// A ClientHello offering only `version` (TLS 1.0 or 1.1) with classic CBC suites
/// (ECDHE-RSA/ECDSA-AES-SHA, RSA-AES-SHA, 3DES), SNI when `sni` is a DNS name, and the
/// curves and point formats those suites need. No supported_versions extension, so the
/// server cannot pick anything newer.
pub fn client_hello(version: u16, sni: Option<&str>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    let mut random = [0u8; 32];
    rand::fill(&mut random[..]);
    body.extend_from_slice(&random);
    body.push(0); // no session id
    let suites: [u16; 8] = [
        0xc013, // ECDHE-RSA-AES128-SHA
        0xc014, // ECDHE-RSA-AES256-SHA
        0xc009, // ECDHE-ECDSA-AES128-SHA
        0xc00a, // ECDHE-ECDSA-AES256-SHA
        0x002f, // TLS_RSA_WITH_AES_128_CBC_SHA
        0x0035, // TLS_RSA_WITH_AES_256_CBC_SHA
        0x000a, // TLS_RSA_WITH_3DES_EDE_CBC_SHA
        0x00ff, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    ];
    push16(&mut body, suites.len() * 2);
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    let mut ext = Vec::new();
    if let Some(name) = sni {
        let name = name.as_bytes();
        ext.extend_from_slice(&[0, 0]); // server_name
        push16(&mut ext, name.len() + 5);
        push16(&mut ext, name.len() + 3);
        ext.push(0); // host_name
        push16(&mut ext, name.len());
        ext.extend_from_slice(name);
    }
    // supported_groups: x25519, secp256r1, secp384r1
    ext.extend_from_slice(&[0x00, 0x0a, 0, 8, 0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]);
    // ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0b, 0, 2, 1, 0]);
    push16(&mut body, ext.len());
    body.extend_from_slice(&ext);

    let mut hs = vec![1u8]; // ClientHello
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    push16(&mut record, hs.len());
    record.extend_from_slice(&hs);
    record
}

fn alert_name(code: u8) -> String {
    match code {
        10 => "unexpected_message".into(),
        40 => "handshake_failure".into(),
        47 => "illegal_parameter".into(),
        50 => "decode_error".into(),
        70 => "protocol_version".into(),
        71 => "insufficient_security".into(),
        80 => "internal_error".into(),
        112 => "unrecognized_name".into(),
        n => format!("#{n}"),
    }
}

fn legacy_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        other => format!("version 0x{other:04x}"),
    }
}

/// Reads the server's first record after a legacy ClientHello and classifies it.
pub fn read_answer(sock: &mut impl std::io::Read, offered: u16) -> Legacy {
    let mut head = [0u8; 5];
    if let Err(e) = sock.read_exact(&mut head) {
        return Legacy::Refused(match e.kind() {
            std::io::ErrorKind::UnexpectedEof => "connection closed without a ServerHello".into(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                "no answer (timed out)".into()
            }
            _ => format!("connection ended: {e}"),
        });
    }
    let len = usize::from(u16::from_be_bytes([head[3], head[4]])).min(1 << 14);
    let mut rec = vec![0u8; len];
    let got = sock.read_exact(&mut rec).is_ok();
    match head[0] {
        0x15 if got && len >= 2 => Legacy::Refused(format!("alert {}", alert_name(rec[1]))),
        0x16 if got && len >= 6 && rec[0] == 2 => {
            let version = u16::from_be_bytes([rec[4], rec[5]]);
            if version != offered {
                return Legacy::Refused(format!(
                    "the ServerHello is for {}, not {}",
                    legacy_name(version),
                    legacy_name(offered)
                ));
            }
            let sid = rec.get(38).copied().unwrap_or(0) as usize;
            let suite = rec
                .get(39 + sid..41 + sid)
                .map(|b| format!(", suite 0x{:02x}{:02x}", b[0], b[1]))
                .unwrap_or_default();
            Legacy::Accepted(format!("ServerHello {}{suite}", legacy_name(version)))
        }
        0x15 | 0x16 => Legacy::Refused("a truncated or unexpected TLS record".into()),
        b => Legacy::Refused(format!("not a TLS answer (first byte 0x{b:02x})")),
    }
}

/// Offers only `version` (TLS1_0 or TLS1_1); `Err` when no TCP connection could be made.
pub fn legacy_probe(
    addrs: &[SocketAddr],
    sni: Option<&str>,
    version: u16,
    timeout: Duration,
) -> Result<Legacy, String> {
    let mut sock = connect(addrs, timeout)?;
    if let Err(e) = sock.write_all(&client_hello(version, sni)) {
        return Ok(Legacy::Refused(format!("connection ended: {e}")));
    }
    Ok(read_answer(&mut sock, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_hello(version: u16) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&[7u8; 32]);
        body.push(0);
        body.extend_from_slice(&[0xc0, 0x13, 0]);
        let mut hs = vec![2u8, 0, 0, body.len() as u8];
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 0x03, 0x01, 0, hs.len() as u8];
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn a_server_hello_for_the_offered_version_is_acceptance() {
        assert_eq!(
            read_answer(&mut &server_hello(TLS1_0)[..], TLS1_0),
            Legacy::Accepted("ServerHello TLS 1.0, suite 0xc013".into())
        );
        assert!(matches!(
            read_answer(&mut &server_hello(0x0303)[..], TLS1_1),
            Legacy::Refused(_)
        ));
        assert_eq!(
            read_answer(&mut &[0x15, 3, 1, 0, 2, 2, 70][..], TLS1_0),
            Legacy::Refused("alert protocol_version".into())
        );
        assert!(matches!(
            read_answer(&mut &[][..], TLS1_0),
            Legacy::Refused(_)
        ));
        assert!(matches!(
            read_answer(&mut &b"HTTP/1.1 400 Bad Request\r\n"[..], TLS1_0),
            Legacy::Refused(_)
        ));
    }

    #[test]
    fn the_client_hello_is_well_formed() {
        let h = client_hello(TLS1_1, Some("platform.edu"));
        assert_eq!(&h[..3], &[0x16, 3, 1]);
        assert_eq!(usize::from(u16::from_be_bytes([h[3], h[4]])), h.len() - 5);
        assert_eq!(h[5], 1);
        assert_eq!(&h[9..11], &[3, 2]);
        assert!(h.windows(12).any(|w| w == b"platform.edu"));
    }
}
