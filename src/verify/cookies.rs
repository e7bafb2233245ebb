//! Cookies as `verify` handles them: `Set-Cookie` parsing, the session cookie among a
//! response's cookies, and a small jar (so a cookie can be captured, replayed or left out).

use super::client::Resp;

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
