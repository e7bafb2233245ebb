//! Auto-categorize: the original's keyword rules on a course title (docs/original.md,
//! gleh-spec §4.2), matched as whole words and case-insensitively, so "Trust" is not
//! "Rust" and "Training" is not "AI", while "C++" and "Node.js" still match.

/// Each category with the keywords (any one of them) that give it, in the original's order.
pub const RULES: &[(&str, &[&str])] = &[
    ("Python", &["python"]),
    ("Java", &["java"]),
    ("C++", &["c++"]),
    ("JavaScript", &["javascript", "js"]),
    (
        "DevOps",
        &[
            "devops",
            "docker",
            "ansible",
            "argo",
            "kubernetes",
            "gitlab",
        ],
    ),
    (
        "Data Structures",
        &["data structures", "algorithms", "leetcode"],
    ),
    ("Rust", &["rust"]),
    ("Linux", &["linux"]),
    ("AI", &["ai", "artificial intelligence", "machine learning"]),
];

/// A letter, digit or `_`: what a word is made of (as a regex `\w`).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The title as lower-case words and separators, whitespace runs made one space.
fn normalise(title: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(title.len());
    for c in title.chars() {
        if c.is_whitespace() {
            if out.last() != Some(&' ') {
                out.push(' ');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Whether `keyword` (lower case) occurs in `text` with no word character right before or
/// right after it.
fn contains_word(text: &[char], keyword: &str) -> bool {
    let k: Vec<char> = keyword.chars().collect();
    if k.is_empty() || k.len() > text.len() {
        return false;
    }
    (0..=text.len() - k.len()).any(|i| {
        text[i..i + k.len()] == k[..]
            && (i == 0 || !is_word(text[i - 1]) || !is_word(k[0]))
            && text
                .get(i + k.len())
                .is_none_or(|c| !is_word(*c) || !is_word(k[k.len() - 1]))
    })
}

/// The categories `title` gets, in rule order (empty when no rule matches).
pub fn categories_for(title: &str) -> Vec<&'static str> {
    let text = normalise(title);
    RULES
        .iter()
        .filter(|(_, keywords)| keywords.iter().any(|k| contains_word(&text, k)))
        .map(|(category, _)| *category)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only() {
        assert_eq!(categories_for("Trust and Safety"), Vec::<&str>::new());
        assert_eq!(categories_for("Training Day"), Vec::<&str>::new());
        assert_eq!(categories_for("Javanese Dance"), Vec::<&str>::new());
        assert_eq!(categories_for("Said the Pythonista"), Vec::<&str>::new());
        assert_eq!(categories_for("Rusty Nails"), Vec::<&str>::new());
        assert_eq!(categories_for("JSON for everyone"), Vec::<&str>::new());
        assert_eq!(categories_for("Cargo ships"), Vec::<&str>::new());
    }

    #[test]
    fn case_insensitive_words_and_symbols() {
        assert_eq!(categories_for("Intro to RUST"), ["Rust"]);
        assert_eq!(categories_for("rust"), ["Rust"]);
        assert_eq!(categories_for("C++ Primer"), ["C++"]);
        assert_eq!(categories_for("Modern c++"), ["C++"]);
        assert_eq!(categories_for("(C++), fast"), ["C++"]);
        assert_eq!(categories_for("Node.js in Action"), ["JavaScript"]);
        assert_eq!(categories_for("JS: the good parts"), ["JavaScript"]);
        assert_eq!(categories_for("JavaScript basics"), ["JavaScript"]);
        assert_eq!(categories_for("Java Concurrency"), ["Java"]);
        assert_eq!(categories_for("AI for Everyone"), ["AI"]);
        assert_eq!(categories_for("Applied machine   learning"), ["AI"]);
        assert_eq!(categories_for("Data\tStructures"), ["Data Structures"]);
        assert_eq!(categories_for("Docker-Compose"), ["DevOps"]);
    }

    #[test]
    fn several_rules_in_rule_order() {
        assert_eq!(
            categories_for("Linux, Rust and Python for AI"),
            ["Python", "Rust", "Linux", "AI"]
        );
        assert_eq!(
            categories_for("Kubernetes algorithms in Java"),
            ["Java", "DevOps", "Data Structures"]
        );
    }

    #[test]
    fn the_matcher_itself() {
        let t = normalise("a c++b x_rust rust_y");
        assert!(contains_word(&t, "c++"), "symbols end a word");
        assert!(!contains_word(&t, "rust"), "_ is a word character");
        assert!(!contains_word(&normalise(""), "ai"));
        assert!(!contains_word(&normalise("a"), "ai"));
        assert!(contains_word(&normalise("ai"), "ai"));
    }
}
