//! The HTTP side of `verify`: a reqwest client on the project's rustls stack that never
//! follows redirects and handles cookies explicitly (so a cookie can be captured, replayed
//! or left out on purpose); the jar and `Set-Cookie` parsing are in `cookies.rs`.

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

use super::cookies::Jar;

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
    /// `Connection: close` (docs/checklist.md §15's `ab -H "Connection: close"`).
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
