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
//! names (`lex.rs`); it also gives the statement's text as Debezium's parser
//! quotes it (`text.rs`) and a `CREATE TABLE`'s declared columns
//! (`declared.rs`), which describe a table created in the poll's backlog; the
//! columns of other tables are read from `information_schema` by the caller.
//! Anything it does not recognise (views, routines, users, grants) is not a
//! table change and yields `None`.

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

mod declared;
mod lex;
#[cfg(test)]
mod tests;
mod text;

use crate::source::table_json::quote;
pub use declared::{declared_table, is_text_type, DeclaredTable};
use lex::{tokens, Cursor, Tok};
pub use text::{normalize, statement_text};

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
    let database_event = |db: &str, statement: String| SchemaEvent {
        db: db.to_string(),
        table: None,
        kind: ChangeKind::Database,
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
            events.push(database_event(&database, whole.clone()));
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
            events.push(database_event(&database, whole.clone()));
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
