//! CSRF tokens: a synchronizer token bound to the server-side session (HMAC of the session
//! id's hash), or, for callers without a session, a signed and time-limited token bound to
//! the caller's IP address and User-Agent — no database row for anonymous callers. Every
//! response masks the token with fresh random bytes (BREACH), so two fetches differ.
//!
//! Hand-written: the CSRF crates for axum use double-submit cookies that are not bound to a
//! server-side session (see docs/dependencies.md "1. CSRF"); the binding is the point here.

use std::net::IpAddr;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// Lifetime of an anonymous token (Flask-WTF's WTF_CSRF_TIME_LIMIT).
pub const ANON_LIFETIME_SECS: i64 = 3600;

const SESSION_LEN: usize = 32;
const ANON_LEN: usize = 40;

#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Valid,
    Invalid,
    Expired,
}

fn mac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut m =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    for p in parts {
        m.update(&(p.len() as u32).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

fn mask(payload: &[u8]) -> String {
    let mut out = vec![0u8; payload.len() * 2];
    let (m, x) = out.split_at_mut(payload.len());
    rand::fill(m);
    for i in 0..payload.len() {
        x[i] = m[i] ^ payload[i];
    }
    B64.encode(out)
}

fn unmask(token: &str) -> Option<Vec<u8>> {
    if token.len() > 200 {
        return None;
    }
    let raw = B64.decode(token.trim()).ok()?;
    if raw.len() % 2 != 0 {
        return None;
    }
    let (m, x) = raw.split_at(raw.len() / 2);
    Some(m.iter().zip(x).map(|(a, b)| a ^ b).collect())
}

fn session_payload(key: &[u8; 32], session_hash: &[u8]) -> [u8; 32] {
    mac(key, &[b"session", session_hash])
}

fn anon_payload(key: &[u8; 32], expires: i64, ip: IpAddr, user_agent: &str) -> [u8; ANON_LEN] {
    let exp = expires.to_be_bytes();
    let ip = ip.to_string();
    let sig = mac(key, &[b"anon", &exp, ip.as_bytes(), user_agent.as_bytes()]);
    let mut out = [0u8; ANON_LEN];
    out[..8].copy_from_slice(&exp);
    out[8..].copy_from_slice(&sig);
    out
}

/// A token for the caller: session-bound when there is a session, else anonymous.
pub fn issue(
    key: &[u8; 32],
    session_hash: Option<&[u8]>,
    ip: IpAddr,
    user_agent: &str,
    now: i64,
) -> String {
    match session_hash {
        Some(h) => mask(&session_payload(key, h)),
        None => mask(&anon_payload(key, now + ANON_LIFETIME_SECS, ip, user_agent)),
    }
}

/// Checks a presented token. A session-bound token is valid only for its own session; an
/// anonymous token only from the IP address and User-Agent it was issued to, and only until
/// it expires.
pub fn verify(
    key: &[u8; 32],
    token: &str,
    session_hash: Option<&[u8]>,
    ip: IpAddr,
    user_agent: &str,
    now: i64,
) -> Check {
    let Some(payload) = unmask(token) else {
        return Check::Invalid;
    };
    match payload.len() {
        SESSION_LEN => match session_hash {
            Some(h) if bool::from(session_payload(key, h).ct_eq(&payload)) => Check::Valid,
            _ => Check::Invalid,
        },
        ANON_LEN => {
            let mut exp = [0u8; 8];
            exp.copy_from_slice(&payload[..8]);
            let expires = i64::from_be_bytes(exp);
            let expected = anon_payload(key, expires, ip, user_agent);
            if !bool::from(expected.ct_eq(&payload[..])) {
                Check::Invalid
            } else if expires <= now {
                Check::Expired
            } else {
                Check::Valid
            }
        }
        _ => Check::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: [u8; 32] = [7; 32];

    #[test]
    fn session_tokens_bind_to_their_session_and_are_masked() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let a = issue(&K, Some(b"session-a"), ip, "ua", 100);
        let a2 = issue(&K, Some(b"session-a"), ip, "ua", 100);
        assert_ne!(a, a2, "masking gives a different string each time");
        assert_eq!(
            verify(&K, &a, Some(b"session-a"), ip, "ua", 100),
            Check::Valid
        );
        assert_eq!(
            verify(&K, &a2, Some(b"session-a"), ip, "ua", 100),
            Check::Valid
        );
        assert_eq!(
            verify(&K, &a, Some(b"session-b"), ip, "ua", 100),
            Check::Invalid
        );
        assert_eq!(verify(&K, &a, None, ip, "ua", 100), Check::Invalid);
        assert_eq!(
            verify(&K, "invalid-token", Some(b"session-a"), ip, "ua", 100),
            Check::Invalid
        );
    }

    #[test]
    fn anonymous_tokens_bind_to_ip_and_agent_and_expire() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let t = issue(&K, None, ip, "curl/8", 100);
        assert_eq!(verify(&K, &t, None, ip, "curl/8", 100), Check::Valid);
        assert_eq!(verify(&K, &t, Some(b"s"), ip, "curl/8", 100), Check::Valid);
        assert_eq!(verify(&K, &t, None, other, "curl/8", 100), Check::Invalid);
        assert_eq!(verify(&K, &t, None, ip, "firefox", 100), Check::Invalid);
        assert_eq!(
            verify(&K, &t, None, ip, "curl/8", 100 + ANON_LIFETIME_SECS),
            Check::Expired
        );
        assert_eq!(
            verify(&[8; 32], &t, None, ip, "curl/8", 100),
            Check::Invalid
        );
    }
}
