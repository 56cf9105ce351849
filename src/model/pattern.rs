//! Debezium's include/exclude lists: comma-separated, anchored regular
//! expressions matched against whole identifiers (`db`, `db.table`,
//! `db.table.column`).

use regex::Regex;

/// A comma-separated list of anchored regular expressions, as Debezium's
/// include/exclude lists.
#[derive(Debug, Clone)]
pub struct Patterns(Vec<Regex>);

impl Patterns {
    /// Parses a comma-separated list; names the pattern that is not a valid regex.
    pub fn parse(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Regex::new(&format!("^(?:{p})$")).map_err(|e| format!("{p:?}: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Patterns)
    }

    /// Whether any pattern matches the whole identifier.
    pub fn matches(&self, ident: &str) -> bool {
        self.0.iter().any(|r| r.is_match(ident))
    }
}
