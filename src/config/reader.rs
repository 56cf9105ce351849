//! The key reader: typed access to the raw `key -> string` map that records
//! every key asked for. Unknown keys are the ones no section asked for and
//! no table of `keys` ignores or refuses, and their "did you mean"
//! suggestion is the nearest asked key, so the parser itself is the one
//! list of the keys it reads.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::keys::{IGNORED, REFUSED};
use super::Patterns;

/// Per-table snapshot SELECT overrides are keys under this prefix.
pub(super) const OVERRIDE_PREFIX: &str = "snapshot.select.statement.overrides.";

/// Keys with a parameter inside them (`column.mask.with.12.chars`).
pub(super) const MASK_CHARS: (&str, &str) = ("column.mask.with.", ".chars");
pub(super) const MASK_HASH: &str = "column.mask.hash.";
pub(super) const TRUNCATE_CHARS: (&str, &str) = ("column.truncate.to.", ".chars");

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
    warnings: Vec<Warning>,
    old_names: BTreeMap<String, String>,
}

/// A key that is accepted but does not act as the user may expect: logged
/// at warn once the whole config was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Warning {
    /// The key.
    pub(super) key: String,
    /// Why it is ignored, or what it does here.
    pub(super) reason: String,
}

/// What a parse saw besides its result: the keys the parser asked for, the
/// old names it read, and the warnings it logged (for tests and
/// the key list in docs/configuration.md).
#[derive(Debug, Default)]
#[cfg_attr(not(test), allow(dead_code))]
pub(super) struct Recorded {
    pub(super) asked: BTreeSet<String>,
    /// Old name -> current name.
    pub(super) old_names: BTreeMap<String, String>,
    pub(super) warnings: Vec<Warning>,
}

impl<'a> Reader<'a> {
    /// A reader over `raw` that adds its problems to `problems`.
    pub(super) fn new(raw: &'a BTreeMap<String, String>, problems: &'a mut Vec<String>) -> Self {
        Self {
            raw,
            problems,
            asked: RefCell::default(),
            warnings: Vec::new(),
            old_names: BTreeMap::new(),
        }
    }

    /// Records that `old` is an older name of `key` (for docs/configuration.md).
    pub(super) fn old_name(&mut self, old: &str, key: &str) {
        self.old_names.insert(old.to_string(), key.to_string());
    }

    /// Records a warning about `key`, logged by [`Reader::finish`].
    pub(super) fn warn(&mut self, key: &str, reason: impl Into<String>) {
        self.warnings.push(Warning {
            key: key.to_string(),
            reason: reason.into(),
        });
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

    /// Ends the reading: reports every key that no section asked for, at
    /// `at` in the problem list: a refused key with why and what to use
    /// instead (one problem per refusal, naming its keys), an unknown one
    /// with the nearest asked key as a suggestion. Ignored keys and the
    /// other warnings are logged at warn.
    pub(super) fn finish(mut self, at: usize) -> Recorded {
        let asked = self.asked.into_inner();
        let mut unknown = Vec::new();
        let mut refusals: Vec<(usize, Vec<&str>)> = Vec::new();
        for (k, v) in self.raw {
            if asked.contains(k) || is_parameterized_key(k) {
                continue;
            }
            if let Some(i) = REFUSED.iter().position(|r| r.keys.covers(k, self.raw)) {
                if !REFUSED[i].accepts(k, v) {
                    match refusals.iter_mut().find(|(j, _)| *j == i) {
                        Some((_, keys)) => keys.push(k),
                        None => refusals.push((i, vec![k])),
                    }
                }
                continue;
            }
            match IGNORED.iter().find(|(keys, _)| keys.covers(k, self.raw)) {
                Some((_, why)) => self.warnings.push(Warning {
                    key: k.clone(),
                    reason: format!("ignored: {why}"),
                }),
                None => unknown.push(unknown_key_message(k, &asked)),
            }
        }
        unknown.extend(
            refusals
                .into_iter()
                .map(|(i, keys)| format!("{}: {}", keys.join(", "), REFUSED[i].why)),
        );
        self.problems.splice(at..at, unknown);
        for w in &self.warnings {
            tracing::warn!(key = %w.key, reason = %w.reason, "config key");
        }
        Recorded {
            asked,
            old_names: self.old_names,
            warnings: self.warnings,
        }
    }

    /// A key that has an older name (`topic.prefix`, once
    /// `database.server.name`): the value under `key`, else under `old`.
    /// Both set to different values is a problem naming both.
    pub(super) fn renamed(&mut self, key: &str, old: &str) -> Option<String> {
        self.old_name(old, key);
        let (new_value, old_value) = (self.opt_str(key), self.opt_str(old));
        if let (Some(n), Some(o)) = (&new_value, &old_value) {
            if n != o {
                self.problems.push(format!(
                    "{key} is {n:?} but its old name {old} is {o:?}; keep {key} alone"
                ));
            }
        }
        new_value.or(old_value)
    }

    /// [`Reader::renamed`] for a boolean: `true` and `TRUE` agree.
    pub(super) fn renamed_bool(&mut self, key: &str, old: &str, default: bool) -> bool {
        self.old_name(old, key);
        let new_value = self.bool_opt(key);
        let old_value = self.bool_opt(old);
        if let (Some(n), Some(o)) = (new_value, old_value) {
            if n != o {
                self.problems.push(format!(
                    "{key} is {n} but its old name {old} is {o}; keep {key} alone"
                ));
            }
        }
        new_value.or(old_value).unwrap_or(default)
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
                self.problems
                    .push(format!("{key}: {s:?} is not {}", expected::<T>()));
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
        self.bool_opt(key).unwrap_or(default)
    }

    /// A boolean key, `None` when unset or invalid (then the problem is recorded).
    pub(super) fn bool_opt(&mut self, key: &str) -> Option<bool> {
        match self.opt_str(key).as_deref() {
            None => None,
            Some(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Some(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Some(s) => {
                self.problems
                    .push(format!("{key}: {s:?} is not true or false"));
                None
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
        let value = self.opt_str(key);
        self.choice_of(key, value, default, options)
    }

    /// [`Reader::choice`] of a value already read (under `key` or an older name).
    pub(super) fn choice_of<T: Copy>(
        &mut self,
        key: &str,
        value: Option<String>,
        default: T,
        options: &[(&str, T)],
    ) -> T {
        let Some(s) = value else {
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
        let value = self.opt_str(key);
        self.patterns_of(key, value)
    }

    /// [`Reader::patterns`] of a value already read (under `key` or an older name).
    pub(super) fn patterns_of(&mut self, key: &str, value: Option<String>) -> Option<Patterns> {
        match Patterns::parse(&value?) {
            Ok(p) => Some(p),
            Err(e) => {
                self.problems
                    .push(format!("{key}: invalid regular expression {e}"));
                None
            }
        }
    }
}

/// What a value of `T` looks like, in words for a config problem (not
/// Rust's type name).
fn expected<T>() -> &'static str {
    match std::any::type_name::<T>() {
        "u16" => "a whole number from 0 to 65535",
        "u32" => "a whole number from 0 to 4294967295",
        "u64" | "usize" => "a whole number, 0 or more",
        "i16" => "a whole number from -32768 to 32767",
        "i32" => "a whole number from -2147483648 to 2147483647",
        "i64" => "a whole number",
        "f64" | "f32" => "a number",
        "bool" => "true or false",
        _ => "a valid value",
    }
}

/// The first line (1-based) with a `//` or `/*` comment outside a string.
pub(super) fn comment_line(text: &str) -> Option<usize> {
    let (mut in_string, mut escaped) = (false, false);
    let mut prev = '\0';
    let mut line = 1;
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if prev == '/' && (c == '/' || c == '*') {
            return Some(line);
        }
        prev = if in_string { '\0' } else { c };
    }
    None
}
