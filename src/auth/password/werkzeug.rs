//! The original GLEH's password hashes, as Werkzeug's `generate_password_hash` writes them
//! (docs/design.md "Moving from the original"): `scrypt:N:r:p$salt$hex` and
//! `pbkdf2:<sha1|sha256|sha512>:<iterations>$salt$hex`. The salt is used as its text's
//! bytes (Werkzeug encodes the salt string, it never decodes it); the hash is compared in
//! constant time. Only verification: an account with such a hash gets an Argon2id one at
//! its first successful login (`auth::account::login`).
//!
//! The stored parameters come from another program's database, so they are bounded before
//! any work: a hostile row cannot make one login allocate gigabytes or run for minutes.

use sha1::Sha1;
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq as _;

/// Largest scrypt working memory accepted, `128 · N · r` bytes (Werkzeug's default,
/// N = 32768, r = 8, needs 32 MiB).
const MAX_SCRYPT_MEMORY: u64 = 256 << 20;
/// Largest scrypt work accepted, `N · r · p` (the default is 2^18).
const MAX_SCRYPT_WORK: u64 = 1 << 22;
/// Most PBKDF2 iterations accepted (Werkzeug's defaults have been 150,000 to 1,000,000).
const MAX_PBKDF2_ITERATIONS: u32 = 5_000_000;
/// Longest salt and derived key accepted, in bytes.
const MAX_SALT: usize = 1024;
const MAX_KEY: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digest {
    Sha1,
    Sha256,
    Sha512,
}

/// A parsed Werkzeug hash whose parameters are within the bounds above.
#[derive(Debug, PartialEq, Eq)]
pub enum Legacy<'a> {
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: &'a str,
        key: Vec<u8>,
    },
    Pbkdf2 {
        digest: Digest,
        iterations: u32,
        salt: &'a str,
        key: Vec<u8>,
    },
}

/// The hash, if it is a Werkzeug format this hub can verify within its bounds.
pub fn parse(stored: &str) -> Option<Legacy<'_>> {
    let mut parts = stored.split('$');
    let (method, salt, hex_key) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || salt.is_empty() || salt.len() > MAX_SALT {
        return None;
    }
    if hex_key.is_empty() || hex_key.len() > 2 * MAX_KEY {
        return None;
    }
    let key = hex::decode(hex_key).ok()?;
    let mut m = method.split(':');
    match m.next()? {
        "scrypt" => {
            let n: u64 = m.next()?.parse().ok()?;
            let r: u32 = m.next()?.parse().ok()?;
            let p: u32 = m.next()?.parse().ok()?;
            if m.next().is_some() || n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
                return None;
            }
            let memory = 128u64.checked_mul(n)?.checked_mul(u64::from(r))?;
            let work = n.checked_mul(u64::from(r))?.checked_mul(u64::from(p))?;
            if memory > MAX_SCRYPT_MEMORY || work > MAX_SCRYPT_WORK {
                return None;
            }
            Some(Legacy::Scrypt {
                log_n: n.trailing_zeros() as u8,
                r,
                p,
                salt,
                key,
            })
        }
        "pbkdf2" => {
            let digest = match m.next()? {
                "sha1" => Digest::Sha1,
                "sha256" => Digest::Sha256,
                "sha512" => Digest::Sha512,
                _ => return None,
            };
            let iterations: u32 = m.next()?.parse().ok()?;
            if m.next().is_some() || iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
                return None;
            }
            Some(Legacy::Pbkdf2 {
                digest,
                iterations,
                salt,
                key,
            })
        }
        _ => None,
    }
}

/// Verifies `password` against a parsed hash (CPU-bound: call it on the blocking pool).
pub fn verify(password: &str, h: &Legacy<'_>) -> bool {
    let (expected, out) = match h {
        Legacy::Scrypt {
            log_n,
            r,
            p,
            salt,
            key,
        } => {
            let Ok(params) = scrypt::Params::new(*log_n, *r, *p) else {
                return false;
            };
            let mut out = vec![0u8; key.len()];
            if scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut out).is_err() {
                return false;
            }
            (key, out)
        }
        Legacy::Pbkdf2 {
            digest,
            iterations,
            salt,
            key,
        } => {
            let mut out = vec![0u8; key.len()];
            let (pw, salt) = (password.as_bytes(), salt.as_bytes());
            match digest {
                Digest::Sha1 => pbkdf2::pbkdf2_hmac::<Sha1>(pw, salt, *iterations, &mut out),
                Digest::Sha256 => pbkdf2::pbkdf2_hmac::<Sha256>(pw, salt, *iterations, &mut out),
                Digest::Sha512 => pbkdf2::pbkdf2_hmac::<Sha512>(pw, salt, *iterations, &mut out),
            }
            (key, out)
        }
    };
    bool::from(out.as_slice().ct_eq(expected.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Rows of the fixture written by the original with Werkzeug's own
    // `generate_password_hash` (the passwords are in its accounts.json).
    const ADMIN: &str = "scrypt:32768:8:1$B5u1MzV6UZcIN9VJ$d5e086b4af9415b2b70efd500074c71a23dd8e833989c5721cfb576b73abc8e229696510cb032b262e6072fd91b784d22a0979908b8579a0c0ee49e0ab79a3e6";
    const FRANK: &str = "scrypt:16384:8:1$7F1w7cVcrKRRadId$9f218c50d2b3691fb412527b2f174e53178398424164d8bd92112a982ac469805cdf7b7bd27aaca04cc4dabcbf853837c7848a8c74596ad09aed8bd00a07699b";
    const BOB: &str = "pbkdf2:sha256:600000$dhi4rADTLlLvKNMD$ca1c2af1abcb5dafce0aacab48dfa0aa84dcc2aece3d19aa534115331f733a28";
    const CAROL: &str = "pbkdf2:sha256:260000$vMWJjyeci0ikUsuB$34fdd765f4fd34752985d8d6c20f6062735e4b9acb4c5566e5acae18a7ac1376";
    // Computed with Python's hashlib.pbkdf2_hmac (what Werkzeug calls) for the other digests.
    const SHA1: &str = "pbkdf2:sha1:1000$salt-text$46ef8cef7485d928bfce7adac2bf4476ef9b9cbe";
    const SHA512: &str = "pbkdf2:sha512:1000$salt-text$c938c91fff6682494cc636fcd59e02aa0e3d5dfe225c2d8cbd24db564eba8423f490110e62c2d96dad1dbf521271aa99e318aaae5b5121f4d2082a8a0aacf6eb";

    fn check(stored: &str, password: &str) -> bool {
        verify(password, &parse(stored).expect("parses"))
    }

    #[test]
    fn fixture_hashes_verify() {
        assert!(check(ADMIN, "admin123"));
        assert!(!check(ADMIN, "admin1234"));
        assert!(check(FRANK, "Password123"));
        assert!(!check(FRANK, "password123"));
        assert!(check(BOB, "BobsOldPassw0rd"));
        assert!(!check(BOB, "BobsOldPassw0rD"));
        assert!(check(CAROL, "carol-pbkdf2-260k"));
        assert!(!check(CAROL, ""));
    }

    #[test]
    fn other_digests_verify() {
        assert!(check(SHA1, "pw"));
        assert!(!check(SHA1, "pW"));
        assert!(check(SHA512, "pw"));
        assert!(!check(SHA512, "px"));
    }

    #[test]
    fn hostile_or_unknown_formats_are_refused() {
        for bad in [
            "",
            "plain$$admin123",
            "sha1$salt$abcdef",
            "md5:1$salt$abcd",
            "scrypt:32768:8:1$salt",
            "scrypt:32768:8:1$$abcd",
            "scrypt:32768:8:1$salt$zz",
            "scrypt:30000:8:1$salt$abcd",   // N not a power of two
            "scrypt:1048576:8:1$salt$abcd", // 1 GiB of memory
            "scrypt:32768:8:64$salt$abcd",  // 64 times the default work
            "scrypt:32768:0:1$salt$abcd",
            "scrypt:32768:8:1:9$salt$abcd",
            "pbkdf2:sha256:0$salt$abcd",
            "pbkdf2:sha256:999999999$salt$abcd", // minutes of work
            "pbkdf2:md5:1000$salt$abcd",
            "pbkdf2:sha256$salt$abcd",
            "pbkdf2:sha256:1000$salt$abcd$more",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    /// `cargo test --bin gleh werkzeug::tests::timings -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn timings() {
        for (name, h, pw) in [
            ("scrypt 32768:8:1", ADMIN, "admin123"),
            ("scrypt 16384:8:1", FRANK, "Password123"),
            ("pbkdf2 sha256 600000", BOB, "BobsOldPassw0rd"),
            ("pbkdf2 sha256 260000", CAROL, "carol-pbkdf2-260k"),
        ] {
            let parsed = parse(h).unwrap();
            let t = std::time::Instant::now();
            for _ in 0..5 {
                assert!(verify(pw, &parsed));
            }
            eprintln!("{name}: {:?} per verification", t.elapsed() / 5);
        }
    }
}
