//! The request context: who is asking (the real client IP behind trusted proxies), over
//! which scheme, and the id that ties the response, the access line and every log event
//! of the request together (docs/design.md "Logs and metrics").

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};
use ipnet::IpNet;

use super::ApiError;

/// Per-request facts every handler and log line may need; cloned by reference (the
/// stack, the guard and handlers each hold it).
#[derive(Clone, Debug)]
pub struct Ctx(Arc<Facts>);

#[derive(Debug)]
pub struct Facts {
    pub request_id: String,
    pub ip: IpAddr,
    /// `ip` as text, written once for the span and the access line.
    pub ip_text: String,
    pub https: bool,
    pub user_agent: String,
}

impl std::ops::Deref for Ctx {
    type Target = Facts;
    fn deref(&self) -> &Facts {
        &self.0
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `ip` as text: the common IPv4 case without `core::fmt`'s padding machinery.
fn ip_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let mut out = String::with_capacity(15);
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(itoa::Buffer::new().format(octet));
            }
            out
        }
        IpAddr::V6(_) => ip.to_string(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| ApiError::internal("request context missing"))
    }
}

impl Ctx {
    /// A fresh context for `parts`: a new random request id, the client IP and scheme
    /// as seen through `trusted` proxies; `direct_tls` when this process terminates TLS
    /// itself (every request then came over https).
    pub(super) fn new(parts: &Parts, trusted: &[IpNet], direct_tls: bool) -> Ctx {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let mut id = [0u8; 12];
        rand::fill(&mut id[..]);
        let mut hex = [0u8; 24];
        for (i, b) in id.iter().enumerate() {
            hex[2 * i] = HEX[usize::from(b >> 4)];
            hex[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        let ip = client_ip(peer, &parts.headers, trusted);
        Ctx(Arc::new(Facts {
            // ASCII hex digits only.
            request_id: String::from_utf8_lossy(&hex).into_owned(),
            ip,
            ip_text: ip_text(ip),
            https: direct_tls || forwarded_https(peer, &parts.headers, trusted),
            // At most 200 characters (a string of at most 200 bytes is copied whole).
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| {
                    if s.len() <= 200 {
                        s.to_string()
                    } else {
                        s.chars().take(200).collect()
                    }
                })
                .unwrap_or_default(),
        }))
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy, in which case
/// the right-most `X-Forwarded-For` hop that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    while let Some(ip) = hops.pop() {
        if !is_trusted(&ip) || hops.is_empty() {
            return ip;
        }
    }
    peer
}

/// Did a trusted proxy say the client used https?
fn forwarded_https(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&peer))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().eq_ignore_ascii_case("https"))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn client_ip_trusts_only_configured_proxies() {
        let trusted = nets(&["127.0.0.1/32"]);
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            client_ip(peer, &h, &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        let untrusted: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(client_ip(untrusted, &h, &trusted), untrusted);
        assert_eq!(client_ip(peer, &HeaderMap::new(), &trusted), peer);
    }
}
