//! A table as its `CREATE TABLE` statement declares it.

use super::lex::{tokens, Cursor, Tok};
use crate::source::table_json::{ColumnDef, KeyDef};

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
            // The first and the last character (which may be multi-byte).
            let mut inner = s[1..].chars();
            inner.next_back();
            inner.as_str().to_string()
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
