//! The OPDS page parser (src/ebooks/opds.rs): any document. It refuses or returns a page
//! within its limits, every book with a Calibre number.
#![no_main]

use gleh_fuzz::ebooks::opds::{self, MAX_ENTRIES, MAX_LIST, MAX_SHORT, MAX_SUMMARY};
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let base = Url::parse("http://cw.test/cw/opds/new").expect("base");
    let Ok(page) = opds::parse(data, &base) else {
        return;
    };
    assert!(page.entries.len() + page.skipped <= MAX_ENTRIES);
    for e in &page.entries {
        assert!(e.id > 0);
        assert!(e.title.chars().count() <= MAX_SHORT);
        assert!(e.language.chars().count() <= MAX_SHORT);
        assert!(e.summary.chars().count() <= MAX_SUMMARY);
        assert!(e.authors.len() <= MAX_LIST && e.categories.len() <= MAX_LIST);
        assert!(e.acquisitions.len() <= MAX_LIST);
        for a in e.authors.iter().chain(&e.categories) {
            assert!(a.chars().count() <= MAX_SHORT);
        }
    }
});
