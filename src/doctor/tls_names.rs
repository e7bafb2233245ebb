//! The certificate's names (`tls.names`): the host of PUBLIC_URL must be covered by the leaf
//! certificate's SAN entries (or its CN when it has none), wildcards matched as RFC 6125 says.

use std::net::IpAddr;

use x509_parser::{certificate::X509Certificate, extensions::GeneralName};

use super::{Report, env_var, short_list};

/// The host of an http(s) URL, lower-case, without port, brackets or trailing dot.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let hostport = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = if let Some(v6) = hostport.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        hostport.split(':').next().unwrap_or("")
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// RFC 6125 matching: exact (case-insensitive), or a wildcard standing for exactly the
/// left-most label (`*.example.com` covers `a.example.com`, not `example.com` or `a.b.example.com`).
fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    if pattern == host {
        return true;
    }
    if let Some(suffix) = pattern.strip_prefix("*.") {
        if host.parse::<IpAddr>().is_ok() || !suffix.contains('.') {
            return false;
        }
        if let Some((first, rest)) = host.split_once('.') {
            return !first.is_empty() && rest == suffix;
        }
    }
    false
}

enum Name {
    Dns(String),
    Ip(IpAddr),
}

/// The names a certificate is valid for: its SAN entries, or its CN when it has no SAN.
fn cert_names(c: &X509Certificate<'_>) -> Vec<Name> {
    if let Ok(Some(san)) = c.subject_alternative_name() {
        return san
            .value
            .general_names
            .iter()
            .filter_map(|g| match g {
                GeneralName::DNSName(d) => Some(Name::Dns(d.to_string())),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => <[u8; 4]>::try_from(*b)
                        .ok()
                        .map(|a| Name::Ip(IpAddr::from(a))),
                    16 => <[u8; 16]>::try_from(*b)
                        .ok()
                        .map(|a| Name::Ip(IpAddr::from(a))),
                    _ => None,
                },
                _ => None,
            })
            .collect();
    }
    c.subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .map(|cn| Name::Dns(cn.to_string()))
        .collect()
}

pub(super) fn check_names(leaf: &X509Certificate<'_>, r: &mut Report) {
    const WHAT: &str = "certificate names";
    let names = cert_names(leaf);
    let shown: Vec<String> = names
        .iter()
        .map(|n| match n {
            Name::Dns(d) => d.clone(),
            Name::Ip(ip) => ip.to_string(),
        })
        .collect();
    let listed = if shown.is_empty() {
        "no names".to_string()
    } else {
        short_list(&shown, 6)
    };
    let Some(public_url) = env_var("PUBLIC_URL") else {
        r.warn(
            "tls.names",
            WHAT,
            format!(
                "PUBLIC_URL is not set, so the certificate's names ({listed}) cannot be checked"
            ),
        );
        return;
    };
    let Some(host) = url_host(&public_url) else {
        r.fail(
            "tls.names",
            WHAT,
            format!("PUBLIC_URL {public_url} has no host"),
        );
        return;
    };
    let ip = host.parse::<IpAddr>().ok();
    let covered = names.iter().any(|n| match (n, ip) {
        (Name::Ip(a), Some(b)) => *a == b,
        (Name::Dns(d), None) => dns_name_matches(d, &host),
        _ => false,
    });
    if covered {
        r.pass(
            "tls.names",
            WHAT,
            format!("{host} (from PUBLIC_URL) is covered by {listed}"),
        );
    } else {
        r.fail(
            "tls.names",
            WHAT,
            format!("{host} (from PUBLIC_URL) is not covered: the certificate is for {listed}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_exactly_one_label() {
        assert!(dns_name_matches("platform.test", "platform.test"));
        assert!(dns_name_matches("Platform.TEST.", "platform.test"));
        assert!(dns_name_matches("*.example.com", "a.example.com"));
        assert!(!dns_name_matches("*.example.com", "example.com"));
        assert!(!dns_name_matches("*.example.com", "a.b.example.com"));
        assert!(!dns_name_matches("*.com", "example.com"));
        assert!(!dns_name_matches("*.example.com", "aexample.com"));
        assert!(!dns_name_matches("other.test", "platform.test"));
    }

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(
            url_host("https://Platform.Test:8443/x?y").as_deref(),
            Some("platform.test")
        );
        assert_eq!(url_host("https://u:p@h.test/").as_deref(), Some("h.test"));
        assert_eq!(url_host("https://[::1]:8443").as_deref(), Some("::1"));
        assert_eq!(
            url_host("https://platform.edu.").as_deref(),
            Some("platform.edu")
        );
        assert_eq!(url_host("https://"), None);
    }
}
