//! CSRF token verification (src/auth/csrf.rs): any presented token for any caller. No
//! token but one issued for that session (or that IP, agent and hour) is valid, and one
//! issued is valid exactly for its own binding.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use gleh_fuzz::auth::csrf::{self, ANON_LIFETIME_SECS, Check};
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 32] = [0x42; 32];

fuzz_target!(|data: &[u8]| {
    if data.len() < 10 {
        return;
    }
    let (head, rest) = data.split_at(10);
    let ip = if head[0] & 1 == 0 {
        IpAddr::V4(Ipv4Addr::new(head[1], head[2], head[3], head[4]))
    } else {
        IpAddr::V6(Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            0,
            0,
            0,
            head[1].into(),
            head[2].into(),
        ))
    };
    let now = i64::from(u32::from_be_bytes([head[5], head[6], head[7], head[8]]));
    let with_session = head[9] & 1 == 1;
    let text = String::from_utf8_lossy(rest);
    // `token|session hash|user agent`
    let mut parts = text.splitn(3, '|');
    let token = parts.next().unwrap_or("");
    let session = parts.next().unwrap_or("").as_bytes();
    let agent = parts.next().unwrap_or("");
    let session = with_session.then_some(session);

    // A presented token is never valid unless it is a token this key issued.
    let presented = csrf::verify(&KEY, token, session, ip, agent, now);
    if presented == Check::Valid {
        let other = [0x43; 32];
        assert_ne!(
            csrf::verify(&other, token, session, ip, agent, now),
            Check::Valid,
            "a token valid under two keys"
        );
    }

    // What this caller is issued verifies for them, and not for another session or agent.
    let issued = csrf::issue(&KEY, session, ip, agent, now);
    assert_eq!(
        csrf::verify(&KEY, &issued, session, ip, agent, now),
        Check::Valid
    );
    let mut other_session = session.unwrap_or(b"").to_vec();
    other_session.push(b'x');
    match session {
        Some(_) => assert_eq!(
            csrf::verify(&KEY, &issued, Some(&other_session), ip, agent, now),
            Check::Invalid
        ),
        None => {
            let other_agent = format!("{agent}x");
            assert_eq!(
                csrf::verify(&KEY, &issued, None, ip, &other_agent, now),
                Check::Invalid
            );
            assert_eq!(
                csrf::verify(&KEY, &issued, None, ip, agent, now + ANON_LIFETIME_SECS),
                Check::Expired
            );
        }
    }
});
