//! The session cookie on the way in: finding its value among a request's `Cookie` headers
//! and decoding it into the raw 32-byte id. Self-contained (only `base64`), so that
//! `fuzz/` can include it as it is (fuzz/fuzz_targets/session_cookie.rs).

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD as B64};

/// The length of an encoded id: 32 bytes as unpadded base64url.
pub const ENCODED_LEN: usize = 43;

/// Decodes a cookie value into the raw id; anything but 32 base64url bytes is rejected.
pub fn decode(value: &str) -> Option<Vec<u8>> {
    if value.len() != ENCODED_LEN {
        return None;
    }
    B64.decode(value).ok().filter(|b| b.len() == 32)
}

/// The raw id as its cookie value.
pub fn encode(id: &[u8; 32]) -> String {
    B64.encode(id)
}

/// The value of the cookie `name` in the `Cookie` header values `headers` (each
/// `a=1; b=2`), the first one that names it; surrounding double quotes are removed.
pub fn find<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    headers
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let id = [9u8; 32];
        let v = encode(&id);
        assert_eq!(v.len(), ENCODED_LEN);
        assert_eq!(decode(&v).as_deref(), Some(&id[..]));
        for bad in [
            "",
            "abc",
            &"A".repeat(44),
            &"*".repeat(43),
            &format!("{}=", &v[..42]),
        ] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn finds_the_named_cookie() {
        let h = ["theme=dark; session=\"abc\"", "session=later"];
        assert_eq!(find(h, "session"), Some("abc"));
        assert_eq!(find(["a=1;b=2"], "b"), Some("2"));
        assert_eq!(find(["sessionx=1; session"], "session"), None);
    }
}
