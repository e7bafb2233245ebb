//! The HTTP side of `verify`: a reqwest client on the project's rustls stack that never
//! follows redirects and handles cookies explicitly (so a cookie can be captured, replayed
//! or left out on purpose), a small cookie jar, and `Set-Cookie` parsing.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;

/// Bodies are read up to this many bytes; the rest is dropped.
const MAX_BODY: usize = 1 << 20;

pub const USER_AGENT: &str = concat!("gleh-verify/", env!("CARGO_PKG_VERSION"));

/// Paths whose POST counts against the server's auth rate limit.
pub fn is_auth_path(path: &str) -> bool {
    matches!(path, "/api/login" | "/api/register")
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    /// Scheme, authority and any path prefix, without a trailing slash.
    pub base: String,
    /// Login and registration requests sent (the server allows 5 a minute by default).
    pub auth_calls: Arc<AtomicU32>,
    /// Every distinct `Server` / `X-Powered-By` header value seen.
    pub banners: Arc<Mutex<BTreeSet<String>>>,
}

#[derive(Clone)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
    /// `401 Authentication required.`: the status and the server's message, for reports.
    pub fn summary(&self) -> String {
        let message = self.json().and_then(|v| {
            ["error", "message"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(String::from))
        });
        match message {
            Some(m) => format!("{} {}", self.status.as_u16(), short(&m, 80)),
            None => self.status.to_string(),
        }
    }
}

/// The first `max` characters of `s`, with an ellipsis when cut.
pub fn short(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

/// An error and its causes, on one line.
pub fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

impl Http {
    /// `fresh_connections`: one new connection per request, HTTP/1.1 with
    /// `Connection: close` (the seed's `ab -H "Connection: close"`).
    pub fn new(
        base: &str,
        tls: rustls::ClientConfig,
        fresh_connections: bool,
    ) -> anyhow::Result<Http> {
        let mut tls = tls;
        tls.alpn_protocols = if fresh_connections {
            vec![b"http/1.1".to_vec()]
        } else {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        };
        let mut b = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .no_proxy();
        if fresh_connections {
            b = b.pool_max_idle_per_host(0).http1_only();
        }
        Ok(Http {
            client: b.build()?,
            base: base.trim_end_matches('/').to_string(),
            auth_calls: Arc::new(AtomicU32::new(0)),
            banners: Arc::new(Mutex::new(BTreeSet::new())),
        })
    }

    pub fn auth_calls(&self) -> u32 {
        self.auth_calls.load(Ordering::Relaxed)
    }

    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        self.url_req(method, &format!("{}{path}", self.base), path)
    }

    /// A request to an absolute URL (the plain-HTTP probe); `path` is for the auth count.
    pub fn url_req(&self, method: Method, url: &str, path: &str) -> Req<'_> {
        Req {
            http: self,
            counts: method == Method::POST && is_auth_path(path),
            builder: self.client.request(method, url),
        }
    }
    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }
}

pub struct Req<'a> {
    http: &'a Http,
    counts: bool,
    builder: reqwest::RequestBuilder,
}

impl Req<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }
    /// Sends the jar's cookies (none when the jar is empty).
    pub fn cookies(mut self, jar: &Jar) -> Self {
        if let Some(h) = jar.header() {
            self.builder = self.builder.header("cookie", h);
        }
        self
    }
    pub fn json(mut self, v: &Value) -> Self {
        self.builder = self
            .builder
            .header("content-type", "application/json")
            .body(serde_json::to_vec(v).unwrap_or_default());
        self
    }
    pub fn body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.builder = self.builder.header("content-type", content_type).body(body);
        self
    }
    /// Does not count this request as an auth attempt (the caller decides afterwards).
    pub fn uncounted(mut self) -> Self {
        self.counts = false;
        self
    }

    /// Sends; a connection, TLS or timeout failure is an `Err` with its causes.
    pub async fn send(self) -> Result<Resp, String> {
        if self.counts {
            self.http.auth_calls.fetch_add(1, Ordering::Relaxed);
        }
        let mut res = self.builder.send().await.map_err(|e| error_text(&e))?;
        let status = res.status();
        let headers = res.headers().clone();
        if let Ok(mut seen) = self.http.banners.lock() {
            for name in ["server", "x-powered-by", "x-aspnet-version"] {
                for v in headers.get_all(name).iter().filter_map(|v| v.to_str().ok()) {
                    seen.insert(format!("{name}: {v}"));
                }
            }
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| error_text(&e))? {
            if body.len() < MAX_BODY {
                body.extend_from_slice(&chunk);
            }
        }
        Ok(Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// One parsed `Set-Cookie` header.
pub struct SetCookie {
    pub name: String,
    pub value: String,
    /// Attribute names in lower case, with their values.
    pub attrs: Vec<(String, Option<String>)>,
    /// The attributes as sent.
    raw: Vec<String>,
}

impl SetCookie {
    pub fn parse(header: &str) -> Option<SetCookie> {
        let mut parts = header.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        let raw: Vec<String> = parts
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        let attrs = raw
            .iter()
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().to_string())),
                None => (p.trim().to_ascii_lowercase(), None),
            })
            .filter(|(k, _)| !k.is_empty())
            .collect();
        Some(SetCookie {
            name: name.to_string(),
            value: value.trim().trim_matches('"').to_string(),
            attrs,
            raw,
        })
    }
    pub fn has(&self, attr: &str) -> bool {
        self.attrs.iter().any(|(k, _)| k == attr)
    }
    pub fn attr(&self, attr: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == attr)
            .and_then(|(_, v)| v.as_deref())
    }
    /// Does this header delete the cookie (empty value, `Max-Age` ≤ 0, or an old `Expires`)?
    pub fn deletes(&self) -> bool {
        self.value.is_empty()
            || self
                .attr("max-age")
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v <= 0)
            || self
                .attr("expires")
                .and_then(httpdate_year)
                .is_some_and(|y| y < 2000)
    }
    /// The header as text with the value hidden: `name=…; Path=/; Secure`.
    pub fn redacted(&self) -> String {
        let mut s = format!("{}=…", self.name);
        for a in &self.raw {
            s.push_str("; ");
            s.push_str(a);
        }
        s
    }
}

/// The year of an HTTP date (`Thu, 01 Jan 1970 00:00:00 GMT`), enough to spot a deletion.
fn httpdate_year(v: &str) -> Option<i32> {
    v.split([' ', '-'])
        .filter_map(|w| w.parse::<i32>().ok())
        .find(|n| *n > 31)
}

/// The session cookie among a response's `Set-Cookie` headers: the first whose name
/// contains "session", else the first that sets a value.
pub fn session_cookie(resp: &Resp) -> Option<SetCookie> {
    let all: Vec<SetCookie> = resp
        .set_cookies()
        .into_iter()
        .filter_map(SetCookie::parse)
        .filter(|c| !c.deletes())
        .collect();
    let pos = all
        .iter()
        .position(|c| c.name.to_ascii_lowercase().contains("session"))
        .unwrap_or(0);
    all.into_iter().nth(pos)
}

/// Cookies by name, as a client keeps them.
#[derive(Clone, Default, Debug)]
pub struct Jar(Vec<(String, String)>);

impl Jar {
    /// Applies a response's `Set-Cookie` headers.
    pub fn update(&mut self, resp: &Resp) {
        for c in resp.set_cookies().into_iter().filter_map(SetCookie::parse) {
            self.0.retain(|(n, _)| *n != c.name);
            if !c.deletes() {
                self.0.push((c.name, c.value));
            }
        }
    }
    pub fn header(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        Some(
            self.0
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_parsing() {
        let c = SetCookie::parse(
            "__Host-session=abc; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=3600",
        )
        .unwrap();
        assert_eq!(c.name, "__Host-session");
        assert!(c.has("secure") && c.has("httponly") && !c.has("domain"));
        assert_eq!(c.attr("samesite"), Some("Lax"));
        assert!(!c.deletes());
        assert_eq!(
            c.redacted(),
            "__Host-session=…; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=3600"
        );
        assert!(SetCookie::parse("session=; Max-Age=0").unwrap().deletes());
        assert!(
            SetCookie::parse("session=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
                .unwrap()
                .deletes()
        );
        assert!(
            !SetCookie::parse("session=x; Expires=Thu, 01 Jan 2099 00:00:00 GMT")
                .unwrap()
                .deletes()
        );
    }
}
