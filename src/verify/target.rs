//! What the URL names: the base to request, the TLS server name, the resolved addresses, and
//! the plain-HTTP address the §11 probe uses.

use std::net::SocketAddr;

use reqwest::Url;
use rustls::pki_types::ServerName;

use super::Args;

/// What the URL names.
pub struct Target {
    /// Scheme, host, port and path prefix, without a trailing slash.
    pub base: String,
    pub https: bool,
    /// The host as written (no brackets), for names and messages.
    pub host: String,
    pub server_name: Option<ServerName<'static>>,
    pub addrs: Vec<SocketAddr>,
    /// The plain-HTTP base to probe, and whether the user named it.
    pub http_base: String,
    pub http_explicit: bool,
}

fn base_of(url: &Url) -> String {
    format!(
        "{}{}",
        url.origin().ascii_serialization(),
        url.path().trim_end_matches('/')
    )
}

impl Target {
    pub(super) async fn parse(args: &Args) -> Result<Target, String> {
        let url =
            Url::parse(args.url.trim()).map_err(|e| format!("invalid URL {:?}: {e}", args.url))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            s => {
                return Err(format!(
                    "invalid URL {:?}: the scheme must be https (or http), not {s}",
                    args.url
                ));
            }
        };
        let (Some(host_str), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err(format!("invalid URL {:?}: no host", args.url));
        };
        let host_str = host_str.to_string();
        let host = host_str
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let server_name = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => Some(ServerName::IpAddress(ip.into())),
            Err(_) => ServerName::try_from(host.clone()).ok(),
        };
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(format!("{host_str}:{port}"))
            .await
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        if addrs.is_empty() {
            return Err(format!("cannot resolve {host}: no address"));
        }
        let base = base_of(&url);
        let (http_base, http_explicit) = match &args.http_url {
            Some(h) => {
                let u =
                    Url::parse(h.trim()).map_err(|e| format!("invalid --http-url {h:?}: {e}"))?;
                if u.scheme() != "http" || u.host().is_none() {
                    return Err(format!(
                        "invalid --http-url {h:?}: it must be an http:// URL"
                    ));
                }
                (base_of(&u), true)
            }
            None if https => (
                format!("http://{host_str}{}", url.path().trim_end_matches('/')),
                false,
            ),
            None => (base.clone(), false),
        };
        Ok(Target {
            base,
            https,
            host,
            server_name,
            addrs,
            http_base,
            http_explicit,
        })
    }
}
