//! A small HTTP client that handles cookies explicitly, so tests can copy, replay and
//! inspect them.

use std::collections::HashMap;

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};

/// An HTTP client with an explicit cookie jar (name → value).
pub struct Client {
    pub base: String,
    http: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    pub version: reqwest::Version,
    /// The server's leaf certificate (DER) on TLS connections.
    pub peer_cert: Option<Vec<u8>>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.body))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(String::from)
            .collect()
    }
}

/// Asserts an error answer: `status` and exactly `{"error": message}`.
pub fn assert_error(r: &Resp, status: StatusCode, message: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.json(), json!({ "error": message }), "{}", r.body);
}

pub struct Req<'a> {
    client: &'a mut Client,
    builder: reqwest::RequestBuilder,
}

impl Req<'_> {
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.builder = self.builder.header(k, v);
        self
    }
    pub fn json(mut self, v: &Value) -> Self {
        self.builder = self
            .builder
            .header("content-type", "application/json")
            .body(serde_json::to_vec(v).expect("json"));
        self
    }
    pub fn body(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.builder = self.builder.header("content-type", content_type).body(body);
        self
    }
    pub fn form(self, pairs: &[(&str, &str)]) -> Self {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.body("application/x-www-form-urlencoded", body)
    }
    pub async fn send(self) -> Resp {
        self.try_send().await.expect("request failed")
    }
    /// Like `send`, but a connection or TLS failure is returned, not a panic.
    pub async fn try_send(self) -> Result<Resp, reqwest::Error> {
        let mut b = self.builder;
        if !self.client.cookies.is_empty() {
            let c: Vec<String> = self
                .client
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            b = b.header("cookie", c.join("; "));
        }
        let res = b.send().await?;
        let status = res.status();
        let version = res.version();
        let peer_cert = res
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|i| i.peer_certificate())
            .map(|c| c.to_vec());
        let headers = res.headers().clone();
        let body = res.text().await.expect("body");
        for sc in headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = sc.split(';').next().unwrap_or("");
            if let Some((k, v)) = pair.split_once('=') {
                let expired = sc.to_ascii_lowercase().contains("max-age=0") || v.is_empty();
                if expired {
                    self.client.cookies.remove(k.trim());
                } else {
                    self.client
                        .cookies
                        .insert(k.trim().to_string(), v.to_string());
                }
            }
        }
        Ok(Resp {
            status,
            headers,
            body,
            version,
            peer_cert,
        })
    }
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client::build(base, reqwest::Client::builder())
    }

    /// A client that trusts `root_pem` for https:// bases.
    pub fn with_root(base: &str, root_pem: &str) -> Client {
        let root = reqwest::Certificate::from_pem(root_pem.as_bytes()).expect("root certificate");
        Client::build(
            base,
            reqwest::Client::builder()
                .add_root_certificate(root)
                .tls_info(true),
        )
    }

    /// Redirects are not followed, so tests see each answer.
    fn build(base: &str, builder: reqwest::ClientBuilder) -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client {
            base: base.to_string(),
            http: builder
                .redirect(reqwest::redirect::Policy::none())
                .user_agent("gleh-tests/1")
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    pub fn req(&mut self, method: Method, path: &str) -> Req<'_> {
        let builder = self.http.request(method, format!("{}{}", self.base, path));
        Req {
            client: self,
            builder,
        }
    }
    pub fn get(&mut self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }
    pub fn post(&mut self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }
    /// The session cookie's value, whatever its configured name.
    pub fn session(&self) -> Option<String> {
        ["session", "__Host-session"]
            .iter()
            .find_map(|n| self.cookies.get(*n).cloned())
    }

    pub async fn register(&mut self, username: &str, password: &str) -> Resp {
        self.post("/api/register")
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
    }
    pub async fn login(&mut self, username: &str, password: &str) -> Resp {
        self.post("/api/login")
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
    }
    /// A CSRF token fetched with this client's cookies.
    pub async fn csrf(&mut self) -> String {
        let r = self.get("/csrf-token").send().await;
        assert_eq!(r.status, StatusCode::OK);
        r.json()["csrf_token"]
            .as_str()
            .expect("csrf_token")
            .to_string()
    }
}
