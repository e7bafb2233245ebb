//! Reading the environment: each value by name, with its default, and one problem line per
//! value that cannot be used. `cli::run` has already loaded `.env` into the process
//! environment (the real environment wins), so only the process environment is read here.

use std::{net::SocketAddr, str::FromStr};

/// Looks a variable up by name.
type Lookup = Box<dyn Fn(&str) -> Option<String>>;

/// The variables, and the problems found while reading them (in reading order).
pub(super) struct Vars {
    lookup: Lookup,
    pub(super) problems: Vec<String>,
}

impl Vars {
    /// The process environment.
    pub(super) fn from_process() -> Vars {
        Vars::with(|name| std::env::var(name).ok())
    }

    /// A fixed set of variables, for tests.
    #[cfg(test)]
    pub(super) fn from_pairs(pairs: &[(&str, &str)]) -> Vars {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Vars::with(move |name| map.get(name).cloned())
    }

    fn with(lookup: impl Fn(&str) -> Option<String> + 'static) -> Vars {
        Vars {
            lookup: Box::new(lookup),
            problems: Vec::new(),
        }
    }

    /// Records one problem.
    pub(super) fn problem(&mut self, line: String) {
        self.problems.push(line);
    }

    /// Records the problems of a check (an `Option<String>` or a list), in order.
    pub(super) fn report(&mut self, problems: impl IntoIterator<Item = String>) {
        self.problems.extend(problems);
    }

    /// The value of `name`; a blank value counts as unset.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.trim().is_empty())
    }

    /// The value of `name`, or `default`.
    pub(super) fn text(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_string())
    }

    /// A boolean (`true/false`, `1/0`, `yes/no`, `on/off`); `false` when it is none of them.
    pub(super) fn flag(&mut self, name: &str, default: bool) -> bool {
        let Some(value) = self.get(name) else {
            return default;
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => {
                self.problems
                    .push(format!("{name} must be true or false (got {value:?})"));
                false
            }
        }
    }

    /// A whole number; `default` when unset or unreadable.
    pub(super) fn number<T: FromStr>(&mut self, name: &str, default: T) -> T {
        let Some(value) = self.get(name) else {
            return default;
        };
        value.trim().parse().unwrap_or_else(|_| {
            self.problems.push(format!(
                "{name} must be a non-negative whole number (got {value:?})"
            ));
            default
        })
    }

    /// A listen address like `example`, kept as written (a problem when it does not parse).
    pub(super) fn address(&mut self, name: &str, example: &str) -> Option<String> {
        let value = self.get(name)?;
        if value.parse::<SocketAddr>().is_err() {
            self.problems.push(format!(
                "{name} must be an address like {example} (got {value:?})"
            ));
        }
        Some(value)
    }

    /// A comma-separated list (items trimmed, empty ones dropped), or `default`'s items.
    pub(super) fn list(&self, name: &str, default: &str) -> Vec<String> {
        self.text(name, default)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_are_unset() {
        let vars = Vars::from_pairs(&[("A", "  "), ("B", " x ")]);
        assert_eq!(vars.get("A"), None);
        assert_eq!(vars.get("B").as_deref(), Some(" x "));
        assert_eq!(vars.text("A", "dflt"), "dflt");
        assert_eq!(vars.get("C"), None);
    }

    #[test]
    fn flags_accept_four_spellings_and_report_the_rest() {
        let mut vars = Vars::from_pairs(&[("ON", " Yes"), ("OFF", "0"), ("BAD", "maybe")]);
        assert!(vars.flag("ON", false));
        assert!(!vars.flag("OFF", true));
        assert!(vars.flag("UNSET", true));
        assert!(!vars.flag("BAD", true));
        assert_eq!(vars.problems, ["BAD must be true or false (got \"maybe\")"]);
    }

    #[test]
    fn numbers_fall_back_to_the_default() {
        let mut vars = Vars::from_pairs(&[("N", " 42 "), ("NEG", "-1")]);
        assert_eq!(vars.number("N", 7u64), 42);
        assert_eq!(vars.number("NEG", 7u64), 7);
        assert_eq!(vars.number("UNSET", 7u64), 7);
        assert_eq!(
            vars.problems,
            ["NEG must be a non-negative whole number (got \"-1\")"]
        );
    }

    #[test]
    fn addresses_are_kept_as_written() {
        let mut vars = Vars::from_pairs(&[("OK", "0.0.0.0:80"), ("BAD", "nope")]);
        assert_eq!(vars.address("OK", "x").as_deref(), Some("0.0.0.0:80"));
        assert_eq!(vars.address("BAD", "0.0.0.0:80").as_deref(), Some("nope"));
        assert_eq!(vars.address("UNSET", "x"), None);
        assert_eq!(
            vars.problems,
            ["BAD must be an address like 0.0.0.0:80 (got \"nope\")"]
        );
    }

    #[test]
    fn lists_drop_empty_items() {
        let vars = Vars::from_pairs(&[("L", " a, ,b ,,")]);
        assert_eq!(vars.list("L", "z"), ["a", "b"]);
        assert_eq!(vars.list("UNSET", "x,y"), ["x", "y"]);
    }
}
