//! An OCW package's `data.json`, read as the original read it (docs/original.md "OCW
//! course import"). Uses nothing of the crate but `catalog::is_safe_relative`
//! (`catalog/urls.rs`), so that `fuzz/` can include it (fuzz/fuzz_targets/data_json.rs).

use std::collections::BTreeSet;

use serde_json::Value;

/// Metadata read from a `data.json`; `None` where the file does not say.
#[derive(Debug, Default, PartialEq)]
pub struct Meta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub instructor: Option<String>,
    pub course_number: Option<String>,
    pub term: Option<String>,
    pub year: Option<String>,
    pub level: Option<String>,
    pub department: Option<String>,
    pub categories: Option<String>,
    /// Relative to the package folder (the `./` prefix removed).
    pub image_src: Option<String>,
    pub learning_resources: Option<String>,
    pub license_url: Option<String>,
}

/// Text fit for the database: no control characters but newlines and tabs (PostgreSQL
/// refuses NUL), trimmed.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .trim()
        .to_string()
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(clean(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A string list (`["a", "b"]`, or a lone string) as its non-empty items.
fn list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(scalar)
                .filter(|s| !s.is_empty())
                .collect(),
        ),
        Value::Null => None,
        other => scalar(other).map(|s| vec![s]),
    }
}

fn field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).filter(|v| !v.is_null())
}

fn instructor_name(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => {
            let title = o.get("title").and_then(scalar).unwrap_or_default();
            if !title.is_empty() {
                return Some(title);
            }
            let first = o.get("first_name").and_then(scalar).unwrap_or_default();
            let last = o.get("last_name").and_then(scalar).unwrap_or_default();
            let full = format!("{first} {last}").trim().to_string();
            (!full.is_empty()).then_some(full)
        }
        other => scalar(other).filter(|s| !s.is_empty()),
    }
}

/// A topic name usable in the comma-separated categories column.
fn topic_name(v: &Value) -> Option<String> {
    let s = scalar(v)?.replace(',', " ");
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!s.is_empty()).then_some(s)
}

/// Parses a `data.json`; returns its metadata and notes on fields that were ignored.
pub fn parse_data_json(bytes: &[u8]) -> Result<(Meta, Vec<String>), String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text =
        std::str::from_utf8(bytes).map_err(|_| "data.json is not valid UTF-8".to_string())?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("data.json is not valid JSON ({e})"))?;
    let Value::Object(obj) = value else {
        return Err("data.json is not a JSON object".into());
    };
    let mut notes = Vec::new();
    let text_field = |name: &str| field(&obj, name).and_then(scalar);
    let joined = |name: &str| field(&obj, name).and_then(list).map(|l| l.join(", "));

    let instructor = field(&obj, "instructors").map(|v| match v {
        Value::Array(items) => items
            .iter()
            .filter_map(instructor_name)
            .collect::<Vec<_>>()
            .join(", "),
        other => instructor_name(other).unwrap_or_default(),
    });
    let categories = field(&obj, "topics").map(|v| {
        let mut set = BTreeSet::new();
        let paths: Vec<&Value> = match v {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        };
        for path in paths {
            match path {
                Value::Array(parts) => set.extend(parts.iter().filter_map(topic_name)),
                other => set.extend(topic_name(other)),
            }
        }
        set.into_iter().collect::<Vec<_>>().join(",")
    });
    let image_src = match field(&obj, "image_src").map(|v| (v, scalar(v))) {
        None => None,
        Some((_, Some(src))) => {
            let mut src = src.as_str();
            while let Some(rest) = src.strip_prefix("./") {
                src = rest;
            }
            if src.is_empty() || crate::catalog::is_safe_relative(src) {
                Some(src.to_string())
            } else {
                notes.push(format!(
                    "image_src {:?} is not a path inside the package; no thumbnail taken",
                    src.chars().take(100).collect::<String>()
                ));
                None
            }
        }
        Some((_, None)) => {
            notes.push("image_src is not a string; no thumbnail taken".into());
            None
        }
    };
    let learning_resources = field(&obj, "learning_resource_types")
        .map(|v| serde_json::to_string(v).unwrap_or_default());
    let license_url = field(&obj, "course_image_metadata")
        .and_then(|m| m.get("license"))
        .and_then(scalar);

    let meta = Meta {
        title: text_field("course_title").filter(|t| !t.is_empty()),
        description: text_field("course_description"),
        instructor,
        course_number: text_field("primary_course_number"),
        term: text_field("term"),
        year: text_field("year"),
        level: joined("level"),
        department: joined("department_numbers"),
        categories,
        image_src,
        learning_resources,
        license_url,
    };
    Ok((meta, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_json_fields_as_the_original_reads_them() {
        let json = br#"{
            "course_title": "Seashore Ecology",
            "course_description": "Tides and\u0000 pools.",
            "instructors": [{"title": "Dr. Ada Reef"}, {"first_name": "Ben", "last_name": "Kelp"}, {"title": ""}],
            "primary_course_number": "GL.110",
            "term": "Spring",
            "year": 2025,
            "level": ["Undergraduate", "Graduate"],
            "department_numbers": ["GL", "Biology"],
            "topics": [["Science", "Biology", "Ecology"], ["Science", "Earth Science"], ["Oceans, Coasts"]],
            "image_src": "./././thumb.png",
            "learning_resource_types": ["Lecture Notes", "Problem Sets"],
            "course_image_metadata": {"license": "https://creativecommons.org/licenses/by-sa/4.0/"}
        }"#;
        let (m, notes) = parse_data_json(json).unwrap();
        assert!(notes.is_empty());
        assert_eq!(m.title.as_deref(), Some("Seashore Ecology"));
        assert_eq!(m.description.as_deref(), Some("Tides and pools."));
        assert_eq!(m.instructor.as_deref(), Some("Dr. Ada Reef, Ben Kelp"));
        assert_eq!(m.year.as_deref(), Some("2025"));
        assert_eq!(m.level.as_deref(), Some("Undergraduate, Graduate"));
        assert_eq!(m.department.as_deref(), Some("GL, Biology"));
        assert_eq!(
            m.categories.as_deref(),
            Some("Biology,Earth Science,Ecology,Oceans Coasts,Science")
        );
        assert_eq!(m.image_src.as_deref(), Some("thumb.png"));
        assert_eq!(
            m.learning_resources.as_deref(),
            Some(r#"["Lecture Notes","Problem Sets"]"#)
        );
        assert_eq!(
            m.license_url.as_deref(),
            Some("https://creativecommons.org/licenses/by-sa/4.0/")
        );
    }

    #[test]
    fn absent_fields_stay_unknown_and_bad_files_are_errors() {
        let (m, _) = parse_data_json(b"\xEF\xBB\xBF{\"course_title\": \"\"}").unwrap();
        assert_eq!(m, Meta::default());
        assert!(
            parse_data_json(b"{nope")
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(
            parse_data_json(b"[1]")
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(
            parse_data_json(b"{\"a\": \"\xff\"}")
                .unwrap_err()
                .contains("UTF-8")
        );
        let (m, notes) = parse_data_json(br#"{"image_src": "../../etc/passwd"}"#).unwrap();
        assert_eq!(m.image_src, None);
        assert_eq!(notes.len(), 1);
    }
}
