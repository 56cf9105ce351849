//! The key reader: typed access to the raw `key -> string` map that records
//! every key asked for. Unknown keys are the ones no section asked for, and
//! their "did you mean" suggestion is the nearest asked key, so the parser
//! itself is the one list of known keys.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::Patterns;

/// Per-table snapshot SELECT overrides are keys under this prefix.
pub(super) const OVERRIDE_PREFIX: &str = "snapshot.select.statement.overrides.";

/// Keys with a parameter inside them (`column.mask.with.12.chars`).
pub(super) const MASK_CHARS: (&str, &str) = ("column.mask.with.", ".chars");
pub(super) const MASK_HASH: &str = "column.mask.hash.";
pub(super) const TRUNCATE_CHARS: (&str, &str) = ("column.truncate.to.", ".chars");

/// Debezium and Kafka Connect keys with no meaning here, with the reason
/// logged when one is set: a registration JSON works unchanged.
const IGNORED: &[(&str, &str)] = &[
    (
        "schema.history.internal.kafka.bootstrap.servers",
        "schema history is kept with the offsets",
    ),
    (
        "schema.history.internal.kafka.topic",
        "schema history is kept with the offsets",
    ),
    (
        "database.history.kafka.bootstrap.servers",
        "schema history is kept with the offsets",
    ),
    (
        "database.history.kafka.topic",
        "schema history is kept with the offsets",
    ),
];

/// The `N` of a key shaped `<prefix>N<suffix>`.
pub(super) fn key_param<'a>(k: &'a str, (prefix, suffix): (&str, &str)) -> Option<&'a str> {
    k.strip_prefix(prefix)?.strip_suffix(suffix)
}

/// Keys whose name carries a parameter: a family of keys, read by pattern.
fn is_parameterized_key(k: &str) -> bool {
    k.starts_with(OVERRIDE_PREFIX)
        || k.starts_with(MASK_HASH)
        || key_param(k, MASK_CHARS).is_some()
        || key_param(k, TRUNCATE_CHARS).is_some()
}

/// Replaces `${env:NAME}` with the variable; the error names a variable that is not set.
pub(super) fn substitute_env(
    s: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${env:") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 6..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let var = &after[..end];
        out.push_str(&env(var).ok_or_else(|| var.to_string())?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn unknown_key_message(key: &str, known: &BTreeSet<String>) -> String {
    let best = known
        .iter()
        .map(|k| (levenshtein(key, k), k.as_str()))
        .min()
        .filter(|(d, k)| *d <= (k.len() / 3).max(3));
    match best {
        Some((_, k)) => format!("unknown key {key:?}; did you mean {k:?}?"),
        None => format!("unknown key {key:?}"),
    }
}

pub(super) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Typed, problem-collecting access to the raw keys; remembers each key
/// asked for.
pub(super) struct Reader<'a> {
    pub(super) raw: &'a BTreeMap<String, String>,
    pub(super) problems: &'a mut Vec<String>,
    asked: RefCell<BTreeSet<String>>,
}

impl<'a> Reader<'a> {
    /// A reader over `raw` that adds its problems to `problems`.
    pub(super) fn new(raw: &'a BTreeMap<String, String>, problems: &'a mut Vec<String>) -> Self {
        Self {
            raw,
            problems,
            asked: RefCell::default(),
        }
    }

    /// The raw value of `key`, untrimmed (for keys where empty means something).
    pub(super) fn raw_value(&self, key: &str) -> Option<&'a String> {
        self.asked.borrow_mut().insert(key.to_string());
        self.raw.get(key)
    }

    pub(super) fn opt_str(&self, key: &str) -> Option<String> {
        self.raw_value(key)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// Reports every key that no section asked for (with the nearest asked
    /// key as a suggestion), at `at` in the problem list; logs the ignored
    /// Kafka Connect keys.
    pub(super) fn report_unknown(self, at: usize) {
        let asked = self.asked.into_inner();
        let mut unknown = Vec::new();
        for k in self.raw.keys() {
            if asked.contains(k) || is_parameterized_key(k) {
                continue;
            }
            match IGNORED.iter().find(|(ignored, _)| ignored == k) {
                Some((_, why)) => tracing::warn!(key = %k, reason = why, "config key ignored"),
                None => unknown.push(unknown_key_message(k, &asked)),
            }
        }
        self.problems.splice(at..at, unknown);
    }

    pub(super) fn required(&mut self, key: &str) -> String {
        self.opt_str(key).unwrap_or_else(|| {
            self.problems.push(format!("{key}: required"));
            String::new()
        })
    }

    pub(super) fn opt_parse<T: std::str::FromStr>(&mut self, key: &str) -> Option<T> {
        let s = self.opt_str(key)?;
        match s.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.problems.push(format!(
                    "{key}: {s:?} is not a valid {}",
                    std::any::type_name::<T>()
                ));
                None
            }
        }
    }

    pub(super) fn parse_or<T: std::str::FromStr>(&mut self, key: &str, default: T) -> T {
        self.opt_parse(key).unwrap_or(default)
    }

    pub(super) fn millis_or(&mut self, key: &str, default: u64) -> Duration {
        Duration::from_millis(self.parse_or(key, default))
    }

    pub(super) fn bool_or(&mut self, key: &str, default: bool) -> bool {
        match self.opt_str(key).as_deref() {
            None => default,
            Some(s) if s.eq_ignore_ascii_case("true") => true,
            Some(s) if s.eq_ignore_ascii_case("false") => false,
            Some(s) => {
                self.problems
                    .push(format!("{key}: {s:?} is not true or false"));
                default
            }
        }
    }

    /// A `<prefix>N<suffix>` rule (`column.mask.with.N.chars`,
    /// `column.truncate.to.N.chars`): N and the column patterns of the
    /// value; `None` when `key` is not of that shape or is invalid (then the
    /// problem is recorded).
    pub(super) fn chars_rule(
        &mut self,
        key: &str,
        shape: (&str, &str),
    ) -> Option<(usize, Patterns)> {
        let n = key_param(key, shape)?;
        match n.parse::<usize>() {
            Ok(n) => Some((n, self.patterns(key)?)),
            Err(_) => {
                self.problems.push(format!(
                    "{key}: {n:?} is not a number of characters ({}N{})",
                    shape.0, shape.1
                ));
                None
            }
        }
    }

    /// One of a fixed set of names; an unknown one is reported with the list.
    pub(super) fn choice<T: Copy>(&mut self, key: &str, default: T, options: &[(&str, T)]) -> T {
        let Some(s) = self.opt_str(key) else {
            return default;
        };
        match options
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&s))
        {
            Some((_, v)) => *v,
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                self.problems.push(format!(
                    "{key}: unknown value {s:?}; one of {}",
                    names.join(", ")
                ));
                default
            }
        }
    }

    pub(super) fn patterns(&mut self, key: &str) -> Option<Patterns> {
        let s = self.opt_str(key)?;
        match Patterns::parse(&s) {
            Ok(p) => Some(p),
            Err(e) => {
                self.problems
                    .push(format!("{key}: invalid regular expression {e}"));
                None
            }
        }
    }
}
