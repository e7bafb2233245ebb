//! The session cookie on the way in (src/auth/session/cookie.rs): any `Cookie` headers,
//! any value. A value is accepted only as the one encoding of 32 bytes.
#![no_main]

use gleh_fuzz::auth::session::cookie;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first line names the cookie, the others are `Cookie` header values.
    let mut lines = text.split('\n');
    let name = lines.next().unwrap_or("");
    let headers: Vec<&str> = lines.collect();
    if let Some(value) = cookie::find(headers.iter().copied(), name) {
        assert!(!value.contains(';'), "a value spans two cookies");
        assert!(headers.iter().any(|h| h.contains(value)));
        check(value);
    }
    check(text);
});

fn check(value: &str) {
    if let Some(id) = cookie::decode(value) {
        let id: [u8; 32] = id.try_into().expect("decode gives 32 bytes");
        assert_eq!(cookie::encode(&id), value, "two encodings of one id");
    }
}
