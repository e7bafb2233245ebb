//! Whether a course file request's `Range` header can be served: the decision tower-http's
//! `ServeFile` makes (one range, parsed and validated by `http-range-header`; a header it
//! cannot parse, or several ranges, is a 416), with the rule `ServeFile` misses: a range
//! must name bytes that exist, so no range of an EMPTY file is satisfiable — `ServeFile`
//! answers `bytes=0-0` of an empty file 206 with `content-range: bytes 0-0/0`
//! (found by fuzz/fuzz_targets/range_header.rs; docs/reliability.md "Fuzzing").
//! `files::course_file` turns such a 206 into the 416 this module decides.
//!
//! Uses nothing of the crate, so that `fuzz/` can include it.

use std::ops::RangeInclusive;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No `Range` header: the whole file (200).
    Whole,
    /// These bytes, `start <= end < len` (206).
    Part(RangeInclusive<u64>),
    /// 416 with `content-range: bytes */len`.
    Unsatisfiable,
}

/// The decision for a file of `len` bytes and the request's `Range` header, if any.
pub fn decide(header: Option<&str>, len: u64) -> Decision {
    let Some(header) = header else {
        return Decision::Whole;
    };
    let Ok(parsed) = http_range_header::parse_range_header(header) else {
        return Decision::Unsatisfiable;
    };
    if parsed.ranges.len() != 1 {
        return Decision::Unsatisfiable;
    }
    match parsed.validate(len).map(|mut r| r.pop()) {
        Ok(Some(r)) if r.start() <= r.end() && *r.end() < len => Decision::Part(r),
        _ => Decision::Unsatisfiable,
    }
}

/// The `content-range` value of a 416 for a file of `len` bytes.
pub fn unsatisfied(len: u64) -> String {
    format!("bytes */{len}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_of_a_file() {
        assert_eq!(decide(None, 10), Decision::Whole);
        assert_eq!(decide(Some("bytes=2-4"), 10), Decision::Part(2..=4));
        assert_eq!(decide(Some("bytes=5-"), 10), Decision::Part(5..=9));
        assert_eq!(decide(Some("bytes=-3"), 10), Decision::Part(7..=9));
        assert_eq!(decide(Some("bytes=8-100"), 10), Decision::Part(8..=9));
        for bad in [
            "bytes=10-",
            "bytes=-11",
            "bytes=4-2",
            "bytes=0-1,3-4",
            "lines=1-2",
            "",
        ] {
            assert_eq!(decide(Some(bad), 10), Decision::Unsatisfiable, "{bad}");
        }
    }

    /// The fuzzer's finding (docs/reliability.md "Fuzzing"): an empty file has no byte.
    #[test]
    fn no_range_of_an_empty_file() {
        for h in ["bytes=0-0", "bytes=0-", "bytes=0-100", "bytes=-1"] {
            assert_eq!(decide(Some(h), 0), Decision::Unsatisfiable, "{h}");
        }
        assert_eq!(decide(None, 0), Decision::Whole);
        assert_eq!(unsatisfied(0), "bytes */0");
    }
}
