//! Which tables a DDL statement in the binlog touches.
//!
//! MySQL logs DDL as `QUERY_EVENT`s holding the statement text and the
//! session's default database. Row decoding never depends on this: every
//! rows event is preceded by a table map that carries the table's columns as
//! they were when the row was written (with `binlog_row_metadata=FULL`, names,
//! signedness, charsets, ENUM/SET labels and the primary key), so rows after
//! an `ALTER TABLE` decode with the new shape and rows before it with the old
//! one, also when a poll resumes in between.
//!
//! What DDL is needed for is Debezium's schema change topic: the statement,
//! the database and, per table, whether it was created, altered or dropped.
//! This module only classifies the statement and names its tables, with a
//! small tokenizer that understands MySQL's comments, quoting and qualified
//! names; the columns of a created or altered table are read from
//! `information_schema` by the caller. Anything it does not recognise (views,
//! routines, users, grants) is not a table change and yields `None`.

use super::table_json::{ColumnDef, KeyDef};

/// What a statement does to one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableChangeKind {
    /// `CREATE TABLE`.
    Create,
    /// `ALTER TABLE`, `CREATE/DROP INDEX`, the new name of a `RENAME`.
    Alter,
    /// `DROP TABLE`, the old name of a `RENAME`.
    Drop,
}

impl TableChangeKind {
    /// Debezium's `tableChanges[].type`.
    #[cfg(test)]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Alter => "ALTER",
            Self::Drop => "DROP",
        }
    }
}

/// A table a statement touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdlTarget {
    /// Database (the statement's qualifier, else the session's default).
    pub db: String,
    /// Table name.
    pub table: String,
    /// What happened to it.
    pub kind: TableChangeKind,
}

/// A classified DDL statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ddl {
    /// The database the statement belongs to (`databaseName`).
    pub database: String,
    /// Tables it changes, in statement order.
    pub targets: Vec<DdlTarget>,
    /// `TRUNCATE TABLE`: rows gone, shape unchanged.
    pub truncate: bool,
    /// The schema change events Debezium publishes for it, in order.
    pub events: Vec<SchemaEvent>,
}

/// What one schema change event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A table created (`tableChanges` CREATE).
    Create,
    /// A table altered or renamed (`tableChanges` ALTER, under its new name).
    Alter,
    /// A table dropped (`tableChanges` DROP).
    Drop,
    /// About a database: no `tableChanges`.
    Database,
    /// A statement Debezium's parser takes no change from (an index, ALTER
    /// DATABASE, events, FLUSH…): published as written, like `Database`.
    Statement,
}

/// One schema change event as Debezium's MySQL connector publishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaEvent {
    /// `databaseName` (may be empty: no session database).
    pub db: String,
    /// The table it changes.
    pub table: Option<String>,
    /// What happened.
    pub kind: ChangeKind,
    /// `ddl`: the statement as Debezium's parser quotes it.
    pub statement: String,
    /// The table's name before a rename, `(db, table)`.
    pub renamed_from: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Punct(char),
}

/// Splits SQL into words, identifiers and punctuation, dropping comments and
/// string literals' contents (never needed here), each with its span of
/// character offsets `[start, end)`.
fn tokens(sql: &str) -> Vec<(Tok, usize, usize)> {
    let mut out = Vec::new();
    let b: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '#' || (c == '-' && b.get(i + 1) == Some(&'-')) {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            // Versioned comments (`/*!50100 ... */`) hold SQL the server ran;
            // their text is kept, the markers dropped.
            if b.get(i + 2) == Some(&'!') {
                i += 3;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                continue;
            }
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '*' && b.get(i + 1) == Some(&'/') {
            i += 2;
        } else if c == '`' || c == '"' {
            let q = c;
            let mut s = String::new();
            i += 1;
            while i < b.len() {
                if b[i] == q {
                    if b.get(i + 1) == Some(&q) {
                        s.push(q);
                        i += 2;
                        continue;
                    }
                    break;
                }
                s.push(b[i]);
                i += 1;
            }
            i += 1;
            let tok = if q == '`' {
                Tok::Quoted(s)
            } else {
                Tok::Punct('"')
            };
            out.push((tok, start, i.min(b.len())));
        } else if c == '\'' {
            i += 1;
            while i < b.len() {
                if b[i] == '\\' {
                    i += 2;
                    continue;
                }
                if b[i] == '\'' {
                    if b.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            out.push((Tok::Punct('\''), start, i.min(b.len())));
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '$') {
                i += 1;
            }
            out.push((Tok::Word(b[start..i].iter().collect()), start, i));
        } else {
            out.push((Tok::Punct(c), start, i + 1));
            i += 1;
        }
    }
    out
}

struct Cursor {
    toks: Vec<Tok>,
    /// Character spans of `toks`.
    spans: Vec<(usize, usize)>,
    i: usize,
}

impl Cursor {
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.i), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.peek_kw(kw);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn eat_kws(&mut self, kws: &[&str]) -> bool {
        let save = self.i;
        for k in kws {
            if !self.eat_kw(k) {
                self.i = save;
                return false;
            }
        }
        true
    }

    fn eat_punct(&mut self, p: char) -> bool {
        let hit = self.toks.get(self.i) == Some(&Tok::Punct(p));
        if hit {
            self.i += 1;
        }
        hit
    }

    fn ident(&mut self) -> Option<String> {
        match self.toks.get(self.i)? {
            Tok::Word(w) | Tok::Quoted(w) => {
                let w = w.clone();
                self.i += 1;
                Some(w)
            }
            Tok::Punct(_) => None,
        }
    }

    /// `name` or `db.name`.
    fn table_name(&mut self, default_db: &str) -> Option<(String, String)> {
        let first = self.ident()?;
        if self.eat_punct('.') {
            let second = self.ident()?;
            Some((first, second))
        } else {
            Some((default_db.to_string(), first))
        }
    }
}

/// Classifies `sql`, run with `default_db` as the session's database.
/// `None` when it is not a statement about tables or databases.
pub fn parse_ddl(sql: &str, default_db: &str) -> Option<Ddl> {
    // Debezium parses (and quotes from) the statement with double-quoted
    // strings made single-quoted.
    let text = normalize(sql);
    let chars: Vec<char> = text.chars().collect();
    let (toks, spans): (Vec<Tok>, Vec<(usize, usize)>) = tokens(&text)
        .into_iter()
        .map(|(t, a, b)| (t, (a, b)))
        .unzip();
    let mut c = Cursor { toks, spans, i: 0 };
    let slice = |a: usize, b: usize| {
        chars[a.min(chars.len())..b.min(chars.len())]
            .iter()
            .collect::<String>()
    };
    // The statement from its first token to its last (comments and a
    // closing `;` left out), as Debezium's parser quotes it.
    let whole = {
        let first = c.spans.first().map_or(0, |s| s.0);
        let last = c
            .toks
            .iter()
            .zip(&c.spans)
            .rev()
            .find(|(t, _)| **t != Tok::Punct(';'))
            .map_or(first, |(_, s)| s.1);
        slice(first, last)
    };
    let raw = sql.trim().to_string();
    let target = |(db, table): (String, String), kind| DdlTarget { db, table, kind };
    let mut targets = Vec::new();
    let mut events = Vec::new();
    let mut truncate = false;
    let mut database = default_db.to_string();
    let table_event = |t: &DdlTarget, kind: ChangeKind, statement: String| SchemaEvent {
        db: t.db.clone(),
        table: Some(t.table.clone()),
        kind,
        statement,
        renamed_from: None,
    };
    let session_event = |statement: String| SchemaEvent {
        db: default_db.to_string(),
        table: None,
        kind: ChangeKind::Statement,
        statement,
        renamed_from: None,
    };
    if c.eat_kw("CREATE") {
        c.eat_kws(&["OR", "REPLACE"]);
        c.eat_kw("TEMPORARY");
        if c.eat_kw("TABLE") {
            c.eat_kws(&["IF", "NOT", "EXISTS"]);
            targets.push(target(c.table_name(default_db)?, TableChangeKind::Create));
            events.push(table_event(&targets[0], ChangeKind::Create, whole.clone()));
        } else if c.eat_kw("DATABASE") || c.eat_kw("SCHEMA") {
            c.eat_kws(&["IF", "NOT", "EXISTS"]);
            database = c.ident()?;
            events.push(SchemaEvent {
                db: database.clone(),
                table: None,
                kind: ChangeKind::Database,
                statement: whole.clone(),
                renamed_from: None,
            });
        } else {
            let _ = c.eat_kw("UNIQUE") || c.eat_kw("FULLTEXT") || c.eat_kw("SPATIAL");
            if !c.eat_kw("INDEX") {
                return None;
            }
            c.eat_kws(&["IF", "NOT", "EXISTS"]);
            c.ident()?;
            if !c.eat_kw("ON") {
                return None;
            }
            targets.push(target(c.table_name(default_db)?, TableChangeKind::Alter));
            // An index changes no column: Debezium's parser signals
            // nothing and the statement is published as it came.
            events.push(session_event(raw.clone()));
        }
    } else if c.eat_kw("ALTER") {
        let _ = c.eat_kw("ONLINE") || c.eat_kw("IGNORE");
        if c.eat_kw("TABLE") {
            c.eat_kws(&["IF", "EXISTS"]);
            let name = c.table_name(default_db)?;
            // `ALTER TABLE a ... RENAME [TO|AS] b` (not RENAME COLUMN/INDEX/KEY).
            let mut renamed = None;
            while c.i < c.toks.len() {
                if c.eat_kw("RENAME") {
                    if c.peek_kw("COLUMN") || c.peek_kw("INDEX") || c.peek_kw("KEY") {
                        continue;
                    }
                    let _ = c.eat_kw("TO") || c.eat_kw("AS");
                    renamed = c.table_name(&name.0);
                } else {
                    c.i += 1;
                }
            }
            match renamed {
                Some(new) => {
                    targets.push(target(name, TableChangeKind::Drop));
                    targets.push(target(new, TableChangeKind::Alter));
                }
                None => targets.push(target(name, TableChangeKind::Alter)),
            }
            // One change: the table under its (new) name.
            let last = targets.last().expect("pushed above");
            let mut e = table_event(last, ChangeKind::Alter, whole.clone());
            if targets.len() == 2 {
                e.renamed_from = Some((targets[0].db.clone(), targets[0].table.clone()));
            }
            events.push(e);
        } else if c.eat_kw("DATABASE") || c.eat_kw("SCHEMA") {
            if let Some(db) = c.ident() {
                if ![
                    "CHARACTER",
                    "DEFAULT",
                    "CHARSET",
                    "COLLATE",
                    "ENCRYPTION",
                    "READ",
                ]
                .iter()
                .any(|k| db.eq_ignore_ascii_case(k))
                {
                    database = db;
                }
            }
            events.push(session_event(raw.clone()));
        } else {
            return None;
        }
    } else if c.eat_kw("DROP") {
        c.eat_kw("TEMPORARY");
        if c.eat_kw("TABLE") || c.eat_kw("TABLES") {
            c.eat_kws(&["IF", "EXISTS"]);
            // Debezium writes one statement per table: the text up to the
            // first name, the qualified name, RESTRICT/CASCADE.
            let prefix = slice(
                c.spans.first().map_or(0, |s| s.0),
                c.spans.get(c.i).map_or(0, |s| s.0),
            );
            loop {
                targets.push(target(c.table_name(default_db)?, TableChangeKind::Drop));
                if !c.eat_punct(',') {
                    break;
                }
            }
            let suffix = if c.peek_kw("RESTRICT") {
                " RESTRICT"
            } else if c.peek_kw("CASCADE") {
                " CASCADE"
            } else {
                ""
            };
            for t in &targets {
                let name = match t.db.as_str() {
                    "" => quote(&t.table),
                    db => format!("{}.{}", quote(db), quote(&t.table)),
                };
                events.push(table_event(
                    t,
                    ChangeKind::Drop,
                    format!("{prefix}{name}{suffix}"),
                ));
            }
        } else if c.eat_kw("DATABASE") || c.eat_kw("SCHEMA") {
            c.eat_kws(&["IF", "EXISTS"]);
            database = c.ident()?;
            events.push(SchemaEvent {
                db: database.clone(),
                table: None,
                kind: ChangeKind::Database,
                statement: whole.clone(),
                renamed_from: None,
            });
        } else if c.eat_kw("INDEX") {
            c.eat_kws(&["IF", "EXISTS"]);
            c.ident()?;
            if !c.eat_kw("ON") {
                return None;
            }
            targets.push(target(c.table_name(default_db)?, TableChangeKind::Alter));
            events.push(session_event(raw.clone()));
        } else {
            return None;
        }
    } else if c.eat_kw("RENAME") {
        if !(c.eat_kw("TABLE") || c.eat_kw("TABLES")) {
            return None;
        }
        // Debezium writes one statement per pair: `RENAME TABLE a TO b`.
        let prefix = slice(
            c.spans.first().map_or(0, |s| s.0),
            c.spans.get(c.i).map_or(0, |s| s.0),
        );
        loop {
            let from = c.spans.get(c.i).map_or(0, |s| s.0);
            let old = c.table_name(default_db)?;
            if !c.eat_kw("TO") {
                return None;
            }
            let new = c.table_name(default_db)?;
            let to = c.spans.get(c.i.wrapping_sub(1)).map_or(from, |s| s.1);
            let renamed_from = Some(old.clone());
            targets.push(target(old, TableChangeKind::Drop));
            targets.push(target(new, TableChangeKind::Alter));
            let t = targets.last().expect("pushed above");
            let mut e = table_event(t, ChangeKind::Alter, format!("{prefix}{}", slice(from, to)));
            e.renamed_from = renamed_from;
            events.push(e);
            if !c.eat_punct(',') {
                break;
            }
        }
    } else if c.eat_kw("TRUNCATE") {
        // A `t` event, no schema change.
        c.eat_kw("TABLE");
        targets.push(target(c.table_name(default_db)?, TableChangeKind::Alter));
        truncate = true;
    } else {
        return None;
    }
    if let Some(t) = targets.first() {
        database = t.db.clone();
    }
    Some(Ddl {
        database,
        targets,
        truncate,
        events,
    })
}

/// Debezium's `source.table` for the events of one database of a
/// statement: the names of the tables they touch, joined by commas in the
/// iteration order of a `java.util.HashSet` of their `db.table` ids.
pub fn joined_tables(db: &str, tables: &[&str]) -> Option<String> {
    let mut distinct: Vec<&str> = Vec::new();
    for t in tables {
        if !distinct.contains(t) {
            distinct.push(t);
        }
    }
    if distinct.is_empty() {
        return None;
    }
    let java_hash = |s: &str| {
        s.encode_utf16()
            .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
    };
    // HashMap's table size for a copy of `n` entries, and its spread hash.
    let n = distinct.len();
    let cap = ((n as f64 / 0.75) as usize + 1).max(16).next_power_of_two();
    let bucket = |t: &&str| {
        let id = if db.is_empty() {
            t.to_string()
        } else {
            format!("{db}.{t}")
        };
        let h = java_hash(&id) as u32;
        ((h ^ (h >> 16)) as usize) & (cap - 1)
    };
    // Stable: entries of one bucket keep their insertion order.
    distinct.sort_by_key(bucket);
    Some(distinct.join(","))
}

/// Whether Debezium leaves the statement out of its DDL handling: its
/// default `schema.history.internal.ddl.filter` (server-generated temporary
/// table drops, RDS housekeeping, SAVEPOINT, accounts and privileges,
/// ANALYZE/OPTIMIZE/REPAIR, views and routines and triggers) and DML
/// logged as a statement.
pub fn debezium_filters(sql: &str) -> bool {
    use std::sync::LazyLock;
    const SET_FOR: &str = r"(?:SET STATEMENT\s+.*?FOR\s+)?";
    static FILTER: LazyLock<regex::RegexSet> = LazyLock::new(|| {
        let patterns = [
            r"DROP TEMPORARY TABLE IF EXISTS .+ /\* generated by server \*/".to_string(),
            r"(SET STATEMENT .*)?INSERT INTO (mysql\.)?rds_heartbeat2\(.*\) values \(.*\) ON DUPLICATE KEY UPDATE value = .*".into(),
            r"(SET STATEMENT .*)?DELETE FROM (mysql\.)?rds_sysinfo.*".into(),
            r"(SET STATEMENT .*)?INSERT INTO (mysql\.)?rds_sysinfo\(.*\) values \(.*\)".into(),
            r"(SET STATEMENT .*)?INSERT INTO (mysql\.)?rds_monitor\(.*\) values \(.*\) ON DUPLICATE KEY UPDATE value = .*".into(),
            r"(SET STATEMENT .*)?INSERT INTO (mysql\.)?rds_monitor\(.*\) values \(.*\)".into(),
            r"(SET STATEMENT .*)?DELETE FROM (mysql\.)?rds_monitor.*".into(),
            r"FLUSH RELAY LOGS.*".into(),
            r"SAVEPOINT .*".into(),
            r"\s*#\s*Dummy event.*".into(),
            r"(SET STATEMENT .*)?REPLACE INTO .*".into(),
            format!(r"{SET_FOR}(?:GRANT|REVOKE)\s+.*"),
            format!(r"{SET_FOR}(?:ANALYZE|OPTIMIZE|REPAIR)\s+(?:NO_WRITE_TO_BINLOG\s+|LOCAL\s+)?TABLE\s+.*"),
            format!(r"{SET_FOR}(CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+)?(?:IF\s+(?:NOT\s+)?EXISTS\s+)?(USER|ROLE)\b.*"),
            format!(r"{SET_FOR}(CREATE|ALTER|DROP)\s+(?:OR\s+REPLACE\s+)?(?:ALGORITHM\s*=\s*[^\s]+\s+)?(?:DEFINER\s*=\s*[^\s]+\s+)?(?:SQL\s+SECURITY\s+[^\s]+\s+)?(VIEW|FUNCTION|PROCEDURE|TRIGGER)\s+.*"),
            // DML logged as a statement (Debezium's isDmlStatement).
            r"(?:SET STATEMENT .*? FOR )?(?:INSERT|UPDATE|DELETE|REPLACE) .*".into(),
            r"XA .*".into(),
        ];
        regex::RegexSet::new(patterns.iter().map(|p| format!("(?is)^(?:{p})$")))
            .expect("valid patterns")
    });
    let sql = sql.trim();
    let upper = sql.to_ascii_uppercase();
    if upper.starts_with("TRUNCATE ") || upper.contains(" TRUNCATE TABLE ") {
        return false;
    }
    FILTER.is_match(sql)
}

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

/// `` `name` `` with backticks doubled.
fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
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

/// A table as a `CREATE TABLE` statement declares it: columns in the shape
/// `information_schema` gives (the type as written, DEFAULT as written),
/// keys in statement order, and the table's declared charset and comment.
/// What Debezium's parser reads when the table is gone by the time the
/// poller reads the server. `None` when the statement is not a plain
/// `CREATE TABLE (...)` (`LIKE`, `AS SELECT` without columns).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredTable {
    /// Columns in order; `charset` is only the declared one.
    pub columns: Vec<ColumnDef>,
    /// Keys in order.
    pub keys: Vec<KeyDef>,
    /// `DEFAULT CHARSET` (or the one of `COLLATE`).
    pub charset: Option<String>,
    /// `COMMENT`.
    pub comment: Option<String>,
}

/// Whether a type word takes a character set.
pub fn is_text_type(word: &str) -> bool {
    matches!(
        word,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set"
    )
}

/// Parses a `CREATE TABLE` statement ([`DeclaredTable`]).
pub fn declared_table(sql: &str) -> Option<DeclaredTable> {
    let chars: Vec<char> = sql.chars().collect();
    let (toks, spans): (Vec<Tok>, Vec<(usize, usize)>) =
        tokens(sql).into_iter().map(|(t, a, b)| (t, (a, b))).unzip();
    let raw = |a: usize, b: usize| {
        chars[a.min(chars.len())..b.min(chars.len())]
            .iter()
            .collect::<String>()
    };
    let mut c = Cursor { toks, spans, i: 0 };
    if !c.eat_kw("CREATE") {
        return None;
    }
    c.eat_kw("TEMPORARY");
    if !c.eat_kw("TABLE") {
        return None;
    }
    c.eat_kws(&["IF", "NOT", "EXISTS"]);
    c.table_name("")?;
    if !c.eat_punct('(') {
        return None;
    }
    let unquote = |s: &str| {
        let s = s.trim();
        if s.len() >= 2 && (s.starts_with('\'') || s.starts_with('"')) {
            s[1..s.len() - 1].to_string()
        } else {
            s.to_string()
        }
    };
    let charset_of_collation = |s: &str| s.split('_').next().unwrap_or(s).to_ascii_lowercase();
    let mut t = DeclaredTable::default();
    // Skips a balanced `( ... )` starting at the cursor.
    fn skip_parens(c: &mut Cursor) {
        if !c.eat_punct('(') {
            return;
        }
        let mut depth = 1;
        while c.i < c.toks.len() && depth > 0 {
            match c.toks[c.i] {
                Tok::Punct('(') => depth += 1,
                Tok::Punct(')') => depth -= 1,
                _ => {}
            }
            c.i += 1;
        }
    }
    // Column names of a `(a, b(10), c DESC)` key list.
    fn key_list(c: &mut Cursor) -> Vec<String> {
        let mut out = Vec::new();
        if !c.eat_punct('(') {
            return out;
        }
        let mut depth = 1;
        let mut expect_name = true;
        while c.i < c.toks.len() && depth > 0 {
            match &c.toks[c.i] {
                Tok::Punct('(') => depth += 1,
                Tok::Punct(')') => depth -= 1,
                Tok::Punct(',') if depth == 1 => expect_name = true,
                Tok::Word(w) | Tok::Quoted(w) if depth == 1 && expect_name => {
                    out.push(w.clone());
                    expect_name = false;
                }
                _ => {}
            }
            c.i += 1;
        }
        out
    }
    // Skips to the `,` or `)` that ends a definition.
    fn to_end(c: &mut Cursor) {
        while c.i < c.toks.len() {
            match c.toks[c.i] {
                Tok::Punct(',') | Tok::Punct(')') => return,
                Tok::Punct('(') => skip_parens(c),
                _ => c.i += 1,
            }
        }
    }
    loop {
        if c.eat_kw("CONSTRAINT")
            && !["PRIMARY", "UNIQUE", "FOREIGN", "CHECK"]
                .iter()
                .any(|k| c.peek_kw(k))
        {
            c.ident();
        }
        if c.eat_kw("PRIMARY") {
            c.eat_kw("KEY");
            while c.i < c.toks.len() && c.toks[c.i] != Tok::Punct('(') {
                c.i += 1;
            }
            let cols = key_list(&mut c);
            t.keys.push(KeyDef {
                name: "PRIMARY".into(),
                unique: true,
                columns: cols,
            });
            to_end(&mut c);
        } else if c.eat_kw("UNIQUE") {
            while c.i < c.toks.len() && c.toks[c.i] != Tok::Punct('(') {
                c.i += 1;
            }
            let cols = key_list(&mut c);
            t.keys.push(KeyDef {
                name: String::new(),
                unique: true,
                columns: cols,
            });
            to_end(&mut c);
        } else if ["KEY", "INDEX", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK"]
            .iter()
            .any(|k| c.peek_kw(k))
        {
            to_end(&mut c);
        } else {
            // A column: name, type, attributes.
            let name = c.ident()?;
            let ty_start = c.spans.get(c.i)?.0;
            if !matches!(c.toks.get(c.i)?, Tok::Word(_)) {
                return None;
            }
            c.i += 1;
            let mut ty_end = c.spans[c.i - 1].1;
            if c.toks.get(c.i) == Some(&Tok::Punct('(')) {
                skip_parens(&mut c);
                ty_end = c.spans[c.i - 1].1;
            }
            while c.peek_kw("UNSIGNED") || c.peek_kw("SIGNED") || c.peek_kw("ZEROFILL") {
                c.i += 1;
                ty_end = c.spans[c.i - 1].1;
            }
            let mut col = ColumnDef {
                name,
                column_type: raw(ty_start, ty_end),
                nullable: true,
                declared: true,
                ..Default::default()
            };
            let mut collation_charset = None;
            while c.i < c.toks.len() {
                match c.toks[c.i].clone() {
                    Tok::Punct(',') | Tok::Punct(')') => break,
                    Tok::Punct('(') => skip_parens(&mut c),
                    _ if c.eat_kws(&["NOT", "NULL"]) => col.nullable = false,
                    _ if c.eat_kw("NULL") => col.nullable = true,
                    _ if c.eat_kw("AUTO_INCREMENT") => col.extra = "auto_increment".into(),
                    _ if c.eat_kw("PRIMARY") => {
                        c.eat_kw("KEY");
                        col.nullable = false;
                        t.keys.push(KeyDef {
                            name: "PRIMARY".into(),
                            unique: true,
                            columns: vec![col.name.clone()],
                        });
                    }
                    _ if c.eat_kw("UNIQUE") => {
                        c.eat_kw("KEY");
                        t.keys.push(KeyDef {
                            name: String::new(),
                            unique: true,
                            columns: vec![col.name.clone()],
                        });
                    }
                    _ if c.eat_kw("COMMENT") => {
                        if let Some(s) = c.spans.get(c.i) {
                            col.comment = unquote(&raw(s.0, s.1));
                            c.i += 1;
                        }
                    }
                    _ if c.eat_kw("CHARSET") || c.eat_kws(&["CHARACTER", "SET"]) => {
                        col.charset = c.ident().map(|s| s.to_ascii_lowercase());
                    }
                    _ if c.eat_kw("COLLATE") => {
                        collation_charset = c.ident().map(|s| charset_of_collation(&s));
                    }
                    _ if c.eat_kw("DEFAULT") => {
                        let from = c.spans.get(c.i).map_or(0, |s| s.0);
                        if c.toks.get(c.i) == Some(&Tok::Punct('(')) {
                            skip_parens(&mut c);
                            col.default = Some("(expression)".into());
                        } else {
                            let _ = c.eat_punct('-') || c.eat_punct('+');
                            let first = c.toks.get(c.i).cloned();
                            c.i += 1;
                            // `1.5` is three tokens.
                            while c.toks.get(c.i) == Some(&Tok::Punct('.'))
                                && matches!(c.toks.get(c.i + 1), Some(Tok::Word(_)))
                            {
                                c.i += 2;
                            }
                            // `b'101'`, `x'0A'`, `_utf8mb4'x'`, `NOW()`.
                            if matches!(first, Some(Tok::Word(_)))
                                && matches!(
                                    c.toks.get(c.i),
                                    Some(Tok::Punct('\'')) | Some(Tok::Punct('('))
                                )
                            {
                                if c.toks.get(c.i) == Some(&Tok::Punct('(')) {
                                    skip_parens(&mut c);
                                } else {
                                    c.i += 1;
                                }
                            }
                            let to = c.spans.get(c.i - 1).map_or(from, |s| s.1);
                            let text = raw(from, to);
                            let upper = text.to_ascii_uppercase();
                            col.default = if upper == "NULL" {
                                None
                            } else if text.starts_with('_') && text.contains('\'') {
                                // A charset introducer: the string alone.
                                text.find('\'').map(|q| text[q..].to_string())
                            } else {
                                Some(text)
                            };
                        }
                    }
                    _ => c.i += 1,
                }
            }
            if col.charset.is_none() {
                col.charset = collation_charset;
            }
            if col.default.as_deref() == Some("(expression)") {
                col.extra = "DEFAULT_GENERATED".into();
            }
            t.columns.push(col);
        }
        if c.eat_punct(',') {
            continue;
        }
        if c.eat_punct(')') {
            break;
        }
        return None;
    }
    // Table options.
    while c.i < c.toks.len() {
        if c.eat_kw("CHARSET") || c.eat_kws(&["CHARACTER", "SET"]) {
            c.eat_punct('=');
            t.charset = c.ident().map(|s| s.to_ascii_lowercase());
        } else if c.eat_kw("COLLATE") {
            c.eat_punct('=');
            if let Some(s) = c.ident() {
                t.charset.get_or_insert_with(|| charset_of_collation(&s));
            }
        } else if c.eat_kw("COMMENT") {
            c.eat_punct('=');
            if let Some(s) = c.spans.get(c.i) {
                t.comment = Some(unquote(&raw(s.0, s.1)));
                c.i += 1;
            }
        } else {
            c.i += 1;
        }
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kinds(sql: &str) -> Vec<(String, String, &'static str)> {
        parse_ddl(sql, "inv")
            .unwrap()
            .targets
            .into_iter()
            .map(|t| (t.db, t.table, t.kind.as_str()))
            .collect()
    }

    fn t(db: &str, table: &str, kind: &'static str) -> (String, String, &'static str) {
        (db.into(), table.into(), kind)
    }

    #[test]
    fn table_statements() {
        assert_eq!(
            kinds("CREATE TABLE IF NOT EXISTS `a b` (id INT)"),
            vec![t("inv", "a b", "CREATE")]
        );
        assert_eq!(
            kinds("/* c */ alter table shop.orders add column x int after y"),
            vec![t("shop", "orders", "ALTER")]
        );
        assert_eq!(
            kinds("DROP TABLE `t1`,`other`.`t2` /* generated by server */"),
            vec![t("inv", "t1", "DROP"), t("other", "t2", "DROP")]
        );
        assert_eq!(
            kinds("RENAME TABLE a TO b, c TO d"),
            vec![
                t("inv", "a", "DROP"),
                t("inv", "b", "ALTER"),
                t("inv", "c", "DROP"),
                t("inv", "d", "ALTER")
            ]
        );
        assert_eq!(
            kinds("ALTER TABLE a RENAME COLUMN x TO y"),
            vec![t("inv", "a", "ALTER")]
        );
        assert_eq!(
            kinds("ALTER TABLE a RENAME TO b"),
            vec![t("inv", "a", "DROP"), t("inv", "b", "ALTER")]
        );
        assert_eq!(
            kinds("CREATE UNIQUE INDEX i ON t (a)"),
            vec![t("inv", "t", "ALTER")]
        );
        let tr = parse_ddl("TRUNCATE TABLE `t`", "inv").unwrap();
        assert!(tr.truncate);
        assert_eq!(tr.targets[0].table, "t");
    }

    #[test]
    fn database_statements_and_others() {
        let d = parse_ddl("CREATE DATABASE shop", "").unwrap();
        assert_eq!((d.database.as_str(), d.targets.len()), ("shop", 0));
        let d = parse_ddl("DROP SCHEMA IF EXISTS `x`", "").unwrap();
        assert_eq!(d.database, "x");
        assert_eq!(parse_ddl("CREATE VIEW v AS SELECT 1", "inv"), None);
        assert_eq!(parse_ddl("GRANT SELECT ON *.* TO u", "inv"), None);
        assert_eq!(parse_ddl("CREATE USER 'x'@'%'", "inv"), None);
        assert_eq!(parse_ddl("", "inv"), None);
    }

    fn events(sql: &str) -> Vec<(String, Option<String>, ChangeKind, String)> {
        parse_ddl(sql, "inv")
            .unwrap()
            .events
            .into_iter()
            .map(|e| (e.db, e.table, e.kind, e.statement))
            .collect()
    }

    #[test]
    fn statements_as_debezium_quotes_them() {
        use ChangeKind::*;
        let e = |db: &str, t: Option<&str>, k, s: &str| {
            (db.to_string(), t.map(String::from), k, s.to_string())
        };
        assert_eq!(
            events("-- DDL: x\nALTER TABLE ints ADD COLUMN extra VARCHAR(5) DEFAULT \"new\" AFTER t; -- end"),
            vec![e("inv", Some("ints"), Alter, "ALTER TABLE ints ADD COLUMN extra VARCHAR(5) DEFAULT 'new' AFTER t")]
        );
        assert_eq!(
            events("DROP TABLE `later2`, o.`x` /* generated by server */"),
            vec![
                e("inv", Some("later2"), Drop, "DROP TABLE `inv`.`later2`"),
                e("o", Some("x"), Drop, "DROP TABLE `o`.`x`")
            ]
        );
        assert_eq!(
            events("drop table if exists t cascade"),
            vec![e(
                "inv",
                Some("t"),
                Drop,
                "drop table if exists `inv`.`t` CASCADE"
            )]
        );
        assert_eq!(
            events("RENAME TABLE later TO later2, a TO o.b"),
            vec![
                e("inv", Some("later2"), Alter, "RENAME TABLE later TO later2"),
                e("o", Some("b"), Alter, "RENAME TABLE a TO o.b")
            ]
        );
        assert_eq!(
            events("ALTER TABLE a RENAME TO b"),
            vec![e("inv", Some("b"), Alter, "ALTER TABLE a RENAME TO b")]
        );
        assert_eq!(events("TRUNCATE TABLE t"), vec![]);
        assert_eq!(
            events(" /* x */ CREATE INDEX i ON t (a)  "),
            vec![e("inv", None, Statement, "/* x */ CREATE INDEX i ON t (a)")]
        );
        assert_eq!(
            events("CREATE DATABASE d CHARACTER SET utf8mb4;"),
            vec![e(
                "d",
                None,
                Database,
                "CREATE DATABASE d CHARACTER SET utf8mb4"
            )]
        );
        assert_eq!(
            normalize(r#"a "it's" 'x"y' `q"r` -- "c""#),
            r#"a 'it''s' 'x"y' `q"r` -- "c""#
        );
        assert_eq!(
            normalize("CREATE TABLE  rank (lead INT, n VARCHAR(3) DEFAULT 'rank')"),
            "CREATE TABLE `rank` (`lead` INT, n VARCHAR(3) DEFAULT 'rank')"
        );
    }

    #[test]
    fn declared_tables() {
        let t = declared_table(
            "CREATE TABLE later (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(20) NOT NULL DEFAULT '', \
             flag TINYINT(1) DEFAULT 1, d DECIMAL(8,3) UNSIGNED DEFAULT -1.5 COMMENT 'c', \
             s VARCHAR(3) CHARACTER SET latin1, ts TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3), b BIT(8) DEFAULT b'101', \
             e ENUM('a','b') DEFAULT 'b', UNIQUE KEY u (note, flag), KEY k (flag)) DEFAULT CHARSET=utf8mb4",
        )
        .unwrap();
        let cols: Vec<(&str, &str, bool, Option<&str>)> = t
            .columns
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.column_type.as_str(),
                    c.nullable,
                    c.default.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            cols,
            vec![
                ("id", "BIGINT", false, None),
                ("note", "VARCHAR(20)", false, Some("''")),
                ("flag", "TINYINT(1)", true, Some("1")),
                ("d", "DECIMAL(8,3) UNSIGNED", true, Some("-1.5")),
                ("s", "VARCHAR(3)", true, None),
                ("ts", "TIMESTAMP(3)", true, Some("CURRENT_TIMESTAMP(3)")),
                ("b", "BIT(8)", true, Some("b'101'")),
                ("e", "ENUM('a','b')", true, Some("'b'")),
            ]
        );
        assert_eq!(t.columns[0].extra, "auto_increment");
        assert_eq!(t.columns[3].comment, "c");
        assert_eq!(t.columns[4].charset.as_deref(), Some("latin1"));
        assert_eq!(t.charset.as_deref(), Some("utf8mb4"));
        assert_eq!(t.keys[0].columns, vec!["id"]);
        assert_eq!(t.keys[1].columns, vec!["note", "flag"]);
        assert_eq!(t.keys.len(), 2);
        assert_eq!(declared_table("CREATE TABLE a LIKE b"), None);
    }

    #[test]
    fn statement_text_from_first_token_to_last() {
        assert_eq!(
            statement_text(
                "CREATE TABLE `t` (\n  `id` int\n)\n/*!50100 PARTITION BY HASH (`id`) */"
            ),
            "CREATE TABLE `t` (\n  `id` int\n)\n/*!50100 PARTITION BY HASH (`id`)"
        );
        assert_eq!(
            statement_text("  -- c\n DROP DATABASE d ; "),
            "DROP DATABASE d"
        );
    }

    #[test]
    fn debeziums_ddl_filter() {
        for sql in [
            "DROP TEMPORARY TABLE IF EXISTS `t` /* generated by server */",
            "GRANT SELECT ON *.* TO 'u'@'%'",
            "CREATE USER IF NOT EXISTS 'u'@'%' IDENTIFIED WITH 'x' AS 'y'",
            "create definer=`root`@`%` view v as select 1",
            "CREATE OR REPLACE ALGORITHM=MERGE VIEW v AS SELECT 1",
            "DROP PROCEDURE p",
            "ANALYZE NO_WRITE_TO_BINLOG TABLE t",
            "INSERT INTO t VALUES (1)",
            "SAVEPOINT s",
        ] {
            assert!(debezium_filters(sql), "{sql}");
        }
        for sql in [
            "DROP TABLE `t` /* generated by server */",
            "CREATE TABLE t (id INT)",
            "TRUNCATE TABLE t",
            "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1",
            "RENAME USER a TO b",
        ] {
            assert!(!debezium_filters(sql), "{sql}");
        }
    }

    #[test]
    fn tables_in_java_hash_set_order() {
        assert_eq!(joined_tables("d", &[]), None);
        assert_eq!(joined_tables("d", &["a", "a"]).as_deref(), Some("a"));
        // Buckets of 16: "d.a" 6, "d.b" 9; "d.x" 15, "d.y" 14.
        assert_eq!(joined_tables("d", &["b", "a"]).as_deref(), Some("a,b"));
        assert_eq!(joined_tables("d", &["x", "y"]).as_deref(), Some("y,x"));
    }

    proptest! {
        #[test]
        fn never_panics(sql in ".{0,80}") {
            let _ = parse_ddl(&sql, "db");
        }

        #[test]
        fn quoted_names_round_trip(name in "[a-zA-Z0-9 _$-]{1,20}") {
            let sql = format!("ALTER TABLE `{}` ADD c INT", name.replace('`', "``"));
            let d = parse_ddl(&sql, "db").unwrap();
            prop_assert_eq!(&d.targets[0].table, &name);
        }
    }
}
