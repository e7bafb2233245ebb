//! The OCW `data.json` import (src/catalog/import/data_json.rs): any file. What it
//! returns is fit for the database and a path it keeps stays inside the package.
#![no_main]

use gleh_fuzz::catalog::{import::data_json::parse_data_json, is_safe_relative};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok((meta, _notes)) = parse_data_json(data) else {
        return;
    };
    if let Some(src) = &meta.image_src {
        assert!(src.is_empty() || is_safe_relative(src), "{src:?}");
    }
    for text in [
        &meta.title,
        &meta.description,
        &meta.instructor,
        &meta.course_number,
        &meta.term,
        &meta.level,
        &meta.department,
        &meta.categories,
        &meta.license_url,
    ]
    .into_iter()
    .flatten()
    {
        assert!(!text.contains('\0'), "NUL reaches the database");
        assert_eq!(text.trim(), text);
    }
    if let Some(c) = &meta.categories {
        assert!(c.is_empty() || c.split(',').all(|t| !t.is_empty()), "{c:?}");
    }
    if let Some(t) = &meta.title {
        assert!(!t.is_empty());
    }
});
