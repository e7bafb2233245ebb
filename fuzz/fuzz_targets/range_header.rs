//! The `Range` header of a course file (src/routes/courses/range.rs): any header, any
//! file length. A range served names bytes of the file; and the decision is tower-http
//! ServeFile's wherever ServeFile's is right.
#![no_main]

use gleh_fuzz::routes::courses::range::{Decision, decide};
use libfuzzer_sys::fuzz_target;

/// ServeFile's decision, as src/routes/courses/range.rs describes it: one range, parsed and
/// validated by `http-range-header`; anything else unsatisfiable.
fn serve_file(header: &str, len: u64) -> Option<std::ops::RangeInclusive<u64>> {
    let parsed = http_range_header::parse_range_header(header).ok()?;
    if parsed.ranges.len() != 1 {
        return None;
    }
    parsed.validate(len).ok()?.pop()
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    // Small lengths (0 included) are where the edges are; sometimes a huge one.
    let len = match data[0] {
        0..=239 => u64::from(data[0] % 16),
        b => u64::MAX - u64::from(b - 240),
    };
    let Ok(header) = std::str::from_utf8(&data[1..]) else {
        return;
    };
    let decided = decide(Some(header), len);
    if let Decision::Part(r) = &decided {
        assert!(
            r.start() <= r.end() && *r.end() < len,
            "{header:?} of {len}: {r:?}"
        );
    }
    match serve_file(header, len) {
        Some(r) if *r.end() < len => assert_eq!(decided, Decision::Part(r)),
        _ => assert_eq!(decided, Decision::Unsatisfiable, "{header:?} of {len}"),
    }
});
