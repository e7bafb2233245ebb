//! The request context: who is asking (the real client IP behind trusted proxies), over
//! which scheme, and the id that ties the response, the access line and every log event
//! of the request together (docs/design.md "Logs and metrics").

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};
use ipnet::IpNet;

use super::ApiError;

/// Per-request facts every handler and log line may need.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub request_id: String,
    pub ip: IpAddr,
    pub https: bool,
    pub user_agent: String,
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

/// Marker put on requests that arrived over direct TLS (see `http::stack`).
#[derive(Clone, Copy)]
pub struct DirectTls;

impl Ctx {
    /// A fresh context for `parts`: a new random request id, the client IP and scheme
    /// as seen through `trusted` proxies.
    pub(super) fn new(parts: &Parts, trusted: &[IpNet]) -> Ctx {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let mut id = [0u8; 12];
        rand::fill(&mut id[..]);
        Ctx {
            request_id: hex::encode(id),
            ip: client_ip(peer, &parts.headers, trusted),
            https: parts.extensions.get::<DirectTls>().is_some()
                || forwarded_https(peer, &parts.headers, trusted),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(200).collect())
                .unwrap_or_default(),
        }
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
