//! The small SQL tokenizer the DDL classifier and the `CREATE TABLE` reader share:
//! MySQL's comments, quoting and qualified names.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    Word(String),
    Quoted(String),
    Punct(char),
}

/// Splits SQL into words, identifiers and punctuation, dropping comments and
/// string literals' contents (never needed here), each with its span of
/// character offsets `[start, end)`.
pub(super) fn tokens(sql: &str) -> Vec<(Tok, usize, usize)> {
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

pub(super) struct Cursor {
    pub(super) toks: Vec<Tok>,
    /// Character spans of `toks`.
    pub(super) spans: Vec<(usize, usize)>,
    pub(super) i: usize,
}

impl Cursor {
    pub(super) fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.i), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    pub(super) fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.peek_kw(kw);
        if hit {
            self.i += 1;
        }
        hit
    }

    pub(super) fn eat_kws(&mut self, kws: &[&str]) -> bool {
        let save = self.i;
        for k in kws {
            if !self.eat_kw(k) {
                self.i = save;
                return false;
            }
        }
        true
    }

    pub(super) fn eat_punct(&mut self, p: char) -> bool {
        let hit = self.toks.get(self.i) == Some(&Tok::Punct(p));
        if hit {
            self.i += 1;
        }
        hit
    }

    pub(super) fn ident(&mut self) -> Option<String> {
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
    pub(super) fn table_name(&mut self, default_db: &str) -> Option<(String, String)> {
        let first = self.ident()?;
        if self.eat_punct('.') {
            let second = self.ident()?;
            Some((first, second))
        } else {
            Some((default_db.to_string(), first))
        }
    }
}
