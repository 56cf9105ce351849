//! A statement's text as Debezium's parser quotes it.

use super::lex::{tokens, Tok};

/// A statement as Debezium's parser quotes it: double-quoted strings made
/// single-quoted ([`normalize`]), from its first token to its last
/// (comments, a versioned comment's closing `*/` and a closing `;` left
/// out).
pub fn statement_text(sql: &str) -> String {
    let text = normalize(sql);
    let toks = tokens(&text);
    let first = toks.first().map_or(0, |t| t.1);
    let last = toks
        .iter()
        .rev()
        .find(|t| t.0 != Tok::Punct(';'))
        .map_or(first, |t| t.2);
    text.chars()
        .skip(first)
        .take(last.saturating_sub(first))
        .collect()
}

/// Debezium's `DdlNormalizer` for a server without ANSI_QUOTES: outside
/// comments, single-quoted strings and backticked names, a double-quoted
/// string becomes single-quoted (its `'` doubled).
pub fn normalize(sql: &str) -> String {
    let b: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    // Text outside comments, strings and names, not yet written.
    let mut plain = String::new();
    let copy_until =
        |out: &mut String, from: usize, to: usize| out.extend(&b[from..to.min(b.len())]);
    while i < b.len() {
        let c = b[i];
        let start = i;
        let special = c == '#'
            || c == '\''
            || c == '`'
            || c == '"'
            || (c == '-' && b.get(i + 1) == Some(&'-'))
            || (c == '/' && b.get(i + 1) == Some(&'*') && b.get(i + 2) != Some(&'!'));
        if special && !plain.is_empty() {
            out.push_str(&reserved_backticked(&plain));
            plain.clear();
        }
        if c == '#' || (c == '-' && b.get(i + 1) == Some(&'-')) {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            copy_until(&mut out, start, i);
        } else if c == '/' && b.get(i + 1) == Some(&'*') && b.get(i + 2) != Some(&'!') {
            i += 2;
            while i < b.len() && !(b[i] == '*' && b.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i = (i + 2).min(b.len());
            copy_until(&mut out, start, i);
        } else if c == '\'' || c == '`' {
            i += 1;
            while i < b.len() {
                if c == '\'' && b[i] == '\\' {
                    i += 2;
                    continue;
                }
                if b[i] == c {
                    if b.get(i + 1) == Some(&c) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
            copy_until(&mut out, start, i);
        } else if c == '"' {
            let mut body = String::new();
            i += 1;
            let mut closed = false;
            while i < b.len() {
                if b[i] == '\\' && i + 1 < b.len() {
                    body.push(b[i]);
                    body.push(b[i + 1]);
                    i += 2;
                    continue;
                }
                if b[i] == '"' {
                    if b.get(i + 1) == Some(&'"') {
                        body.push_str("\"\"");
                        i += 2;
                        continue;
                    }
                    closed = true;
                    i += 1;
                    break;
                }
                body.push(b[i]);
                i += 1;
            }
            if closed {
                out.push('\'');
                out.push_str(&body.replace('\'', "''"));
                out.push('\'');
            } else {
                copy_until(&mut out, start, i);
            }
        } else {
            plain.push(c);
            i += 1;
        }
    }
    out.push_str(&reserved_backticked(&plain));
    out
}

/// Debezium's `DdlNormalizer.addBackticksToReservedKeywords`: window
/// function names used as a table name, a column name or a label get
/// backticks.
fn reserved_backticked(plain: &str) -> String {
    use std::sync::LazyLock;
    const KW: &str = "CUME_DIST|DENSE_RANK|FIRST_VALUE|JSON_TABLE|LAG|LAST_VALUE|LEAD|NTH_VALUE|NTILE|PERCENT_RANK|RANK|ROW_NUMBER";
    static RULES: LazyLock<[regex::Regex; 3]> = LazyLock::new(|| {
        [
            regex::Regex::new(&format!(
                r"(?i)\b(CREATE\s+TABLE|ALTER\s+TABLE|DROP\s+TABLE|FROM|JOIN|LEFT\s+JOIN|RIGHT\s+JOIN|INNER\s+JOIN|OUTER\s+JOIN|INTO)\s+({KW})\b"
            )),
            regex::Regex::new(&format!(
                r"(?i)\b({KW})\s+((?:VAR)?CHAR|INT|BIGINT|DECIMAL|NUMERIC|FLOAT|DOUBLE|JSON|TEXT|BLOB|DATE|DATETIME|TIMESTAMP|TIME|YEAR|ENUM|SET|BINARY|VARBINARY|BIT|BOOL|BOOLEAN)\b"
            )),
            regex::Regex::new(&format!(r"(?i)\b({KW})\s*:")),
        ]
        .map(|r| r.expect("valid pattern"))
    });
    if !RULES.iter().any(|r| r.is_match(plain)) {
        return plain.to_string();
    }
    let s = RULES[0].replace_all(plain, "${1} `${2}`");
    let s = RULES[1].replace_all(&s, "`${1}` ${2}");
    RULES[2].replace_all(&s, "`${1}`:").into_owned()
}
