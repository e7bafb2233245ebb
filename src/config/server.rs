//! Listeners and transport: BIND, PUBLIC_URL, TLS_CERT/TLS_KEY, HTTP_REDIRECT_BIND,
//! METRICS_BIND, TLS_RELOAD_INTERVAL, HTTP_HEADER_TIMEOUT and TRUSTED_PROXIES.

use std::{path::PathBuf, time::Duration};

use ipnet::IpNet;

use super::{env::Vars, validate};

/// The listener part of [`super::Config`] (the fields of the same names).
pub(super) struct Server {
    pub(super) bind: String,
    pub(super) public_url: String,
    pub(super) tls: Option<(PathBuf, PathBuf)>,
    pub(super) http_redirect_bind: Option<String>,
    pub(super) metrics_bind: Option<String>,
    pub(super) tls_reload_interval: Duration,
    pub(super) header_timeout: Duration,
    pub(super) trusted_proxies: Vec<IpNet>,
}

impl Server {
    pub(super) fn from_env(vars: &mut Vars) -> Server {
        let bind = vars
            .address("BIND", "127.0.0.1:8000")
            .unwrap_or_else(|| "127.0.0.1:8000".to_string());
        let public_url = vars
            .get("PUBLIC_URL")
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{bind}"));
        vars.report(validate::public_url(&public_url));
        let tls = tls_files(vars);
        let http_redirect_bind = vars.address("HTTP_REDIRECT_BIND", "0.0.0.0:80");
        let metrics_bind = vars.address("METRICS_BIND", "0.0.0.0:80");
        let tls_reload_interval = vars.number("TLS_RELOAD_INTERVAL", 10u64).max(1);
        let header_timeout = vars.number("HTTP_HEADER_TIMEOUT", 10u64).max(1);
        let trusted_proxies = trusted_proxies(vars);
        Server {
            bind,
            public_url,
            tls,
            http_redirect_bind,
            metrics_bind,
            tls_reload_interval: Duration::from_secs(tls_reload_interval),
            header_timeout: Duration::from_secs(header_timeout),
            trusted_proxies,
        }
    }
}

/// The certificate chain and key, which come as a pair or not at all.
fn tls_files(vars: &mut Vars) -> Option<(PathBuf, PathBuf)> {
    match (vars.get("TLS_CERT"), vars.get("TLS_KEY")) {
        (Some(c), Some(k)) => Some((PathBuf::from(c), PathBuf::from(k))),
        (None, None) => None,
        _ => {
            vars.problem("TLS_CERT and TLS_KEY must be set together".to_string());
            None
        }
    }
}

/// Proxies whose forwarded headers are believed: CIDRs, or single addresses.
fn trusted_proxies(vars: &mut Vars) -> Vec<IpNet> {
    let mut nets = Vec::new();
    for s in vars.list("TRUSTED_PROXIES", "127.0.0.1/32,::1/128") {
        let parsed = s
            .parse::<IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from));
        match parsed {
            Ok(net) => nets.push(net),
            Err(_) => vars.problem(format!("TRUSTED_PROXIES: {s:?} is not an address or CIDR")),
        }
    }
    nets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_listen_on_loopback() {
        let mut vars = Vars::from_pairs(&[]);
        let s = Server::from_env(&mut vars);
        assert!(vars.problems.is_empty(), "{:?}", vars.problems);
        assert_eq!(s.bind, "127.0.0.1:8000");
        assert_eq!(s.public_url, "http://127.0.0.1:8000");
        assert!(s.tls.is_none() && s.http_redirect_bind.is_none() && s.metrics_bind.is_none());
        assert_eq!(s.tls_reload_interval, Duration::from_secs(10));
        assert_eq!(s.trusted_proxies.len(), 2);
    }

    #[test]
    fn values_are_read_and_problems_kept_in_order() {
        let mut vars = Vars::from_pairs(&[
            ("PUBLIC_URL", "https://platform.test//"),
            ("TLS_KEY", "/k.pem"),
            ("TLS_RELOAD_INTERVAL", "0"),
            ("TRUSTED_PROXIES", "10.0.0.1, zz ,10.0.0.0/8"),
        ]);
        let s = Server::from_env(&mut vars);
        assert_eq!(s.public_url, "https://platform.test");
        assert_eq!(s.tls_reload_interval, Duration::from_secs(1));
        let nets: Vec<String> = s.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(nets, ["10.0.0.1/32", "10.0.0.0/8"]);
        assert_eq!(
            vars.problems,
            [
                "TLS_CERT and TLS_KEY must be set together",
                "TRUSTED_PROXIES: \"zz\" is not an address or CIDR",
            ]
        );
    }
}
