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
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Punct(char),
}

/// Splits SQL into words, identifiers and punctuation, dropping comments and
/// string literals' contents (never needed here).
fn tokens(sql: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let b: Vec<char> = sql.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
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
            out.push(if q == '`' {
                Tok::Quoted(s)
            } else {
                Tok::Punct('"')
            });
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
            out.push(Tok::Punct('\''));
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '$') {
                i += 1;
            }
            out.push(Tok::Word(b[start..i].iter().collect()));
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

struct Cursor {
    toks: Vec<Tok>,
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
    let mut c = Cursor {
        toks: tokens(sql),
        i: 0,
    };
    let target = |(db, table): (String, String), kind| DdlTarget { db, table, kind };
    let mut targets = Vec::new();
    let mut truncate = false;
    let mut database = default_db.to_string();
    if c.eat_kw("CREATE") {
        c.eat_kws(&["OR", "REPLACE"]);
        c.eat_kw("TEMPORARY");
        if c.eat_kw("TABLE") {
            c.eat_kws(&["IF", "NOT", "EXISTS"]);
            targets.push(target(c.table_name(default_db)?, TableChangeKind::Create));
        } else if c.eat_kw("DATABASE") || c.eat_kw("SCHEMA") {
            c.eat_kws(&["IF", "NOT", "EXISTS"]);
            database = c.ident()?;
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
        } else {
            return None;
        }
    } else if c.eat_kw("DROP") {
        c.eat_kw("TEMPORARY");
        if c.eat_kw("TABLE") || c.eat_kw("TABLES") {
            c.eat_kws(&["IF", "EXISTS"]);
            loop {
                targets.push(target(c.table_name(default_db)?, TableChangeKind::Drop));
                if !c.eat_punct(',') {
                    break;
                }
            }
        } else if c.eat_kw("DATABASE") || c.eat_kw("SCHEMA") {
            c.eat_kws(&["IF", "EXISTS"]);
            database = c.ident()?;
        } else if c.eat_kw("INDEX") {
            c.eat_kws(&["IF", "EXISTS"]);
            c.ident()?;
            if !c.eat_kw("ON") {
                return None;
            }
            targets.push(target(c.table_name(default_db)?, TableChangeKind::Alter));
        } else {
            return None;
        }
    } else if c.eat_kw("RENAME") {
        if !(c.eat_kw("TABLE") || c.eat_kw("TABLES")) {
            return None;
        }
        loop {
            let old = c.table_name(default_db)?;
            if !c.eat_kw("TO") {
                return None;
            }
            let new = c.table_name(default_db)?;
            targets.push(target(old, TableChangeKind::Drop));
            targets.push(target(new, TableChangeKind::Alter));
            if !c.eat_punct(',') {
                break;
            }
        }
    } else if c.eat_kw("TRUNCATE") {
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
    })
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
