//! The original's Werkzeug hashes (src/auth/password/werkzeug.rs): any stored string is
//! refused or parsed within the bounds, and verified without panicking when its work is
//! tiny; a hash made here from the input verifies its password and no other.
#![no_main]

use gleh_fuzz::auth::password::werkzeug::{Legacy, parse, verify};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(h) = parse(text) {
        let tiny = match &h {
            Legacy::Scrypt { log_n, r, p, .. } => {
                (1u64 << log_n) * u64::from(*r) * u64::from(*p) <= 256
            }
            Legacy::Pbkdf2 { iterations, .. } => *iterations <= 64,
        };
        if tiny {
            let _ = verify("password", &h);
        }
    }

    // `password$salt$iterations`: a PBKDF2-SHA256 hash with a few iterations.
    let mut parts = text.splitn(3, '$');
    let (Some(pw), Some(salt), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    if salt.is_empty() || salt.contains('$') || salt.len() > 64 {
        return;
    }
    let iterations = 1 + u32::from(n.bytes().next().unwrap_or(0) % 8);
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(pw.as_bytes(), salt.as_bytes(), iterations, &mut key);
    let stored = format!("pbkdf2:sha256:{iterations}${salt}${}", hex::encode(key));
    let h = parse(&stored).expect("a well-formed hash is parsed");
    assert!(verify(pw, &h));
    assert!(!verify(&format!("{pw}x"), &h));
});
