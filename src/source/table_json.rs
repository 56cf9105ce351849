//! Debezium's `tableChanges[].table`: a table as Debezium's MySQL DDL parser
//! models it after reading the table's `SHOW CREATE TABLE` text.
//!
//! Debezium builds the model from DDL text, so each attribute follows the
//! text, not the server's catalog: `length` and `scale` are the numbers in
//! the type's parentheses (`tinyint(1)` has length 1, `int` none, ENUM 1,
//! SET the length of its labels joined by commas), `typeName` is the type
//! word with `UNSIGNED`/`ZEROFILL`, `enumValues` are the quoted labels,
//! `defaultValueExpression` is the DEFAULT literal as printed (the current
//! time as `1970-01-01 00:00:00`, expressions as null), `generated` means
//! AUTO_INCREMENT, and a table without a primary key takes its first unique
//! key of NOT NULL columns as one. `information_schema.COLUMNS.COLUMN_TYPE`
//! is the type text `SHOW CREATE TABLE` prints, and `SHOW INDEX` lists keys
//! in its order, so both are read from there.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use serde_json::{json, Value};

use super::ddl::{is_text_type, DeclaredTable};
use super::server::qerr;
use crate::error::Result;

/// A column as `information_schema.COLUMNS` describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnDef {
    /// `COLUMN_NAME`.
    pub name: String,
    /// `COLUMN_TYPE` (`decimal(8,3) unsigned`, `enum('a','b')`).
    pub column_type: String,
    /// `IS_NULLABLE = 'YES'`.
    pub nullable: bool,
    /// `CHARACTER_SET_NAME`.
    pub charset: Option<String>,
    /// `COLUMN_DEFAULT`.
    pub default: Option<String>,
    /// `EXTRA`.
    pub extra: String,
    /// `COLUMN_COMMENT`, as `SHOW CREATE TABLE` prints it (quotes doubled).
    pub comment: String,
    /// Read from a `CREATE TABLE` statement rather than the server: the
    /// type and DEFAULT are as written.
    pub declared: bool,
}

/// A key as `SHOW INDEX` lists it, in the table's key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyDef {
    /// `Key_name`.
    pub name: String,
    /// `Non_unique = 0`.
    pub unique: bool,
    /// Its columns (expression parts left out).
    pub columns: Vec<String>,
}

/// The type word of a `COLUMN_TYPE` (`decimal`, `enum`), lower case.
fn type_word(column_type: &str) -> String {
    column_type
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The text inside the type's parentheses, if any.
fn paren(column_type: &str) -> Option<&str> {
    let open = column_type.find('(')?;
    let close = column_type.rfind(')')?;
    (close > open).then(|| &column_type[open + 1..close])
}

/// ENUM/SET labels as written, quotes included (`'a'`, `'it''s'`).
fn labels(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = inner.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\'' {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < b.len() {
            if b[i] == b'\\' {
                i += 2;
                continue;
            }
            if b[i] == b'\'' {
                if b.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        let end = (i + 1).min(b.len());
        out.push(inner[start..end].to_string());
        i = end;
    }
    out
}

/// Debezium's `typeName`: the type word, with `UNSIGNED` or `UNSIGNED
/// ZEROFILL`.
fn type_name(column_type: &str) -> String {
    let lower = column_type.to_ascii_lowercase();
    let tail = match lower.rfind(')') {
        Some(i) => &lower[i..],
        None => &lower[..],
    };
    let mut name = type_word(column_type).to_ascii_uppercase();
    let words: Vec<&str> = tail
        .split(|c: char| c.is_whitespace() || c == ')')
        .collect();
    if words.contains(&"zerofill") {
        name.push_str(" UNSIGNED ZEROFILL");
    } else if words.contains(&"unsigned") {
        name.push_str(" UNSIGNED");
    }
    name
}

/// The `java.sql.Types` code Debezium's MySQL DDL parser gives a type word.
fn jdbc_type(word: &str) -> i32 {
    match word {
        "tinyint" | "smallint" => 5,
        "mediumint" | "int" | "integer" | "year" => 4,
        "bigint" => -5,
        "float" => 6,
        "double" => 8,
        "real" => 7,
        "decimal" | "dec" | "fixed" => 3,
        "numeric" => 2,
        "bit" => -7,
        "bool" | "boolean" => 16,
        "serial" => -5,
        "long" => 12,
        "nchar" => -15,
        "nvarchar" => -9,
        "char" | "enum" | "set" => 1,
        "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => 12,
        "binary" => -2,
        "varbinary" => -3,
        "tinyblob" | "blob" | "mediumblob" | "longblob" => 2004,
        "date" => 91,
        "time" => 92,
        "datetime" => 93,
        "timestamp" => 2014,
        _ => 1111,
    }
}

/// `length` and `scale` as Debezium's parser reads them from the type.
fn length_scale(column_type: &str) -> (Option<i64>, Option<i64>) {
    let word = type_word(column_type);
    let Some(inner) = paren(column_type) else {
        return (None, None);
    };
    match word.as_str() {
        "enum" => (Some(1), None),
        "set" => {
            let n = labels(inner).len() as i64;
            (Some((n * 2 - 1).max(0)), None)
        }
        _ => {
            let mut parts = inner.split(',').map(|p| p.trim().parse::<i64>().ok());
            let length = parts.next().flatten();
            let scale = parts.next().flatten();
            (length, scale)
        }
    }
}

/// MySQL's escaping of a string literal in `SHOW CREATE TABLE`
/// (`append_unescaped`: `'` doubled, `\\`, NUL, CR, LF and ^Z
/// backslashed), which Debezium keeps (it only strips the quotes).
fn escaped(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            '\u{1a}' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out
}

/// Debezium's `defaultValueExpression` for a column's `COLUMN_DEFAULT`
/// (or its DEFAULT as written, for a declared column).
fn default_expression(c: &ColumnDef) -> Option<String> {
    let raw = c.default.as_deref()?;
    let lower = raw.to_ascii_lowercase();
    if ["current_timestamp", "now(", "localtimestamp", "localtime"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return Some("1970-01-01 00:00:00".into());
    }
    if c.declared {
        // Debezium's parser strips a string's quotes and nothing else, and
        // cuts `b'…'`, `x'…'`, `0x…` to their characters 2..n-1.
        if raw.eq_ignore_ascii_case("null") || raw.starts_with('(') {
            return None;
        }
        if raw.len() >= 2 && (raw.starts_with('\'') || raw.starts_with('"')) {
            // The first and the last character (which may be multi-byte).
            let mut inner = raw[1..].chars();
            inner.next_back();
            return Some(inner.as_str().to_string());
        }
        if ["b'", "x'", "0x", "0b"]
            .iter()
            .any(|p| lower.starts_with(p))
            && raw.len() > 2
        {
            return Some(raw.chars().skip(2).take(raw.chars().count() - 3).collect());
        }
        return Some(raw.to_string());
    }
    if c.extra.to_ascii_uppercase().contains("DEFAULT_GENERATED") || raw == "NULL" {
        return None;
    }
    let word = type_word(&c.column_type);
    // MariaDB quotes string constants and prints expressions as written.
    let raw = if raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'') {
        raw[1..raw.len() - 1].replace("''", "'")
    } else if raw.contains('(') {
        return None;
    } else {
        raw.to_string()
    };
    if word == "bit" {
        // b'101' is printed as such; Debezium keeps the digits.
        let digits = raw
            .strip_prefix("b'")
            .and_then(|r| r.strip_suffix('\''))
            .unwrap_or(&raw);
        return Some(digits.to_string());
    }
    if let Some(hex) = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
        // information_schema shows binary strings in hex; SHOW CREATE TABLE
        // prints their bytes.
        if hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                .collect();
            return Some(escaped(&String::from_utf8_lossy(&bytes)));
        }
    }
    Some(escaped(&raw))
}

/// Debezium's `primaryKeyColumnNames`: the primary key, else the first
/// unique key (in the table's key order) whose columns are all NOT NULL.
fn key_columns(columns: &[ColumnDef], keys: &[KeyDef]) -> Vec<String> {
    if let Some(pk) = keys.iter().find(|k| k.name == "PRIMARY") {
        return pk.columns.clone();
    }
    for k in keys.iter().filter(|k| k.unique && !k.columns.is_empty()) {
        let cols: Option<Vec<&ColumnDef>> = k
            .columns
            .iter()
            .map(|n| columns.iter().find(|c| c.name.eq_ignore_ascii_case(n)))
            .collect();
        let Some(cols) = cols else { continue };
        if cols.iter().all(|c| !c.nullable) {
            return cols.iter().map(|c| c.name.clone()).collect();
        }
    }
    Vec::new()
}

/// The `table` object of a table change.
pub fn table_json(
    columns: &[ColumnDef],
    keys: &[KeyDef],
    charset: Option<&str>,
    comment: Option<&str>,
    with_comments: bool,
) -> Value {
    let pk = key_columns(columns, keys);
    let cols: Vec<Value> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let word = type_word(&c.column_type);
            let name = type_name(&c.column_type);
            let (length, scale) = length_scale(&c.column_type);
            let enum_values = match word.as_str() {
                "enum" | "set" => json!(labels(paren(&c.column_type).unwrap_or(""))),
                _ => Value::Null,
            };
            let extra = c.extra.to_ascii_lowercase();
            let auto = extra.contains("auto_increment");
            let in_pk = pk.iter().any(|p| p == &c.name);
            json!({
                "name": c.name,
                "jdbcType": jdbc_type(&word),
                "nativeType": null,
                "typeName": name,
                "typeExpression": name,
                "charsetName": c.charset,
                "length": length,
                "scale": scale,
                "position": i + 1,
                "optional": c.nullable && !in_pk,
                "autoIncremented": auto,
                "generated": auto,
                "comment": (with_comments && !c.comment.is_empty()).then_some(c.comment.as_str()),
                "defaultValueExpression": default_expression(c),
                "enumValues": enum_values,
            })
        })
        .collect();
    json!({
        "defaultCharsetName": charset,
        "primaryKeyColumnNames": pk,
        "columns": cols,
        "comment": comment.filter(|c| with_comments && !c.is_empty()),
    })
}

/// `` `name` `` with backticks doubled, as Debezium quotes identifiers.
pub fn quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `db.table`'s keys in the table's key order (`SHOW INDEX`); `None` when
/// it is gone.
pub async fn read_keys(
    conn: &mut Conn,
    server: &str,
    db: &str,
    table: &str,
) -> Result<Option<Vec<KeyDef>>> {
    let index: Vec<mysql_async::Row> = match conn
        .query(format!("SHOW INDEX FROM {}.{}", quote(db), quote(table)))
        .await
    {
        Ok(rows) => rows,
        // Dropped (or its database) since it was found.
        Err(mysql_async::Error::Server(e)) if e.code == 1146 || e.code == 1049 => return Ok(None),
        Err(e) => return Err(qerr(server, "reading the table's keys")(e)),
    };
    let mut keys: Vec<KeyDef> = Vec::new();
    for r in index {
        let name: Option<String> = r.get("Key_name");
        let non_unique: Option<i64> = r.get("Non_unique");
        let column: Option<Option<String>> = r.get("Column_name");
        let Some(name) = name else { continue };
        let key = match keys.iter_mut().rev().find(|k| k.name == name) {
            Some(k) => k,
            None => {
                keys.push(KeyDef {
                    name: name.clone(),
                    unique: non_unique == Some(0),
                    columns: Vec::new(),
                });
                keys.last_mut().expect("pushed")
            }
        };
        if let Some(Some(c)) = column {
            key.columns.push(c);
        }
    }
    Ok(Some(keys))
}

/// The tables of `dbs` as [`table_json`] reads them, with three catalog
/// queries for all of them (and `SHOW INDEX` for a table without a primary
/// key but with a unique one, whose key order matters), by `(db, table)`.
pub async fn read_tables_json(
    conn: &mut Conn,
    server: &str,
    dbs: &[String],
    with_comments: bool,
) -> Result<std::collections::HashMap<(String, String), Value>> {
    use std::collections::HashMap;
    let mut out = HashMap::new();
    if dbs.is_empty() {
        return Ok(out);
    }
    let qe = || qerr(server, "reading information_schema");
    let marks = vec!["?"; dbs.len()].join(",");
    let params = mysql_async::Params::Positional(dbs.iter().map(|d| d.as_str().into()).collect());
    type Meta = (String, String, Option<String>, Option<String>);
    let metas: Vec<Meta> = conn
        .exec(
            format!(
                "SELECT t.TABLE_SCHEMA, t.TABLE_NAME, c.CHARACTER_SET_NAME, t.TABLE_COMMENT FROM information_schema.TABLES t \
                 LEFT JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY c ON c.COLLATION_NAME = t.TABLE_COLLATION \
                 WHERE t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_SCHEMA IN ({marks})"
            ),
            params.clone(),
        )
        .await
        .map_err(qe())?;
    type Row = (
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
    );
    let rows: Vec<Row> = conn
        .exec(
            format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, COLUMN_DEFAULT, EXTRA, COLUMN_COMMENT \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ({marks}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
            ),
            params.clone(),
        )
        .await
        .map_err(qe())?;
    let mut columns: HashMap<(String, String), Vec<ColumnDef>> = HashMap::new();
    for (db, table, name, column_type, nullable, charset, default, extra, comment) in rows {
        columns.entry((db, table)).or_default().push(ColumnDef {
            name,
            column_type,
            nullable: nullable == "YES",
            charset,
            default,
            extra,
            // As SHOW CREATE TABLE prints it (Debezium keeps that).
            comment: escaped(&comment),
            declared: false,
        });
    }
    let stats: Vec<(String, String, String, i64, Option<String>)> = conn
        .exec(
            format!(
                "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA IN ({marks}) ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
            ),
            params,
        )
        .await
        .map_err(qe())?;
    let mut keys: HashMap<(String, String), Vec<KeyDef>> = HashMap::new();
    for (db, table, name, non_unique, column) in stats {
        let list = keys.entry((db, table)).or_default();
        let key = match list.iter_mut().rev().find(|k| k.name == name) {
            Some(k) => k,
            None => {
                list.push(KeyDef {
                    name,
                    unique: non_unique == 0,
                    columns: Vec::new(),
                });
                list.last_mut().expect("pushed")
            }
        };
        if let Some(c) = column {
            key.columns.push(c);
        }
    }
    for (i, (db, table, charset, comment)) in metas.into_iter().enumerate() {
        if i % 64 == 63 {
            // Many tables: let the lease renewal run in between.
            tokio::task::yield_now().await;
        }
        let key = (db, table);
        let Some(cols) = columns.remove(&key) else {
            continue;
        };
        let mut table_keys = keys.remove(&key).unwrap_or_default();
        if !table_keys.iter().any(|k| k.name == "PRIMARY") && table_keys.iter().any(|k| k.unique) {
            match read_keys(conn, server, &key.0, &key.1).await? {
                Some(k) => table_keys = k,
                None => continue,
            }
        }
        let json = table_json(
            &cols,
            &table_keys,
            charset.as_deref(),
            comment.map(|c| escaped(&c)).as_deref(),
            with_comments,
        );
        out.insert(key, json);
    }
    Ok(out)
}

/// [`table_json`] for `db.table` as it is now; `None` when it does not
/// exist (any more) or is not a base table.
pub async fn read_table_json(
    conn: &mut Conn,
    server: &str,
    db: &str,
    table: &str,
    with_comments: bool,
) -> Result<Option<Value>> {
    let qe = || qerr(server, "reading information_schema");
    type Meta = (String, Option<String>, Option<String>);
    let meta: Option<Meta> = conn
        .exec_first(
            "SELECT t.TABLE_TYPE, c.CHARACTER_SET_NAME, t.TABLE_COMMENT FROM information_schema.TABLES t \
             LEFT JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY c ON c.COLLATION_NAME = t.TABLE_COLLATION \
             WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?",
            (db, table),
        )
        .await
        .map_err(qe())?;
    let Some((kind, charset, comment)) = meta else {
        return Ok(None);
    };
    if kind != "BASE TABLE" {
        return Ok(None);
    }
    type Row = (
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        String,
    );
    let rows: Vec<Row> = conn
        .exec(
            "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, COLUMN_DEFAULT, EXTRA, COLUMN_COMMENT \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (db, table),
        )
        .await
        .map_err(qe())?;
    if rows.is_empty() {
        return Ok(None);
    }
    let columns: Vec<ColumnDef> = rows
        .into_iter()
        .map(
            |(name, column_type, nullable, charset, default, extra, comment)| ColumnDef {
                name,
                column_type,
                nullable: nullable == "YES",
                charset,
                default,
                extra,
                // As SHOW CREATE TABLE prints it (Debezium keeps that).
                comment: escaped(&comment),
                declared: false,
            },
        )
        .collect();
    let Some(keys) = read_keys(conn, server, db, table).await? else {
        return Ok(None);
    };
    Ok(Some(table_json(
        &columns,
        &keys,
        charset.as_deref(),
        comment.map(|c| escaped(&c)).as_deref(),
        with_comments,
    )))
}

/// [`table_json`] for a table as its `CREATE TABLE` statement declares it
/// (Debezium's model of a table created while streaming): text columns
/// without a character set take the table's, a table without one its
/// database's.
pub async fn declared_table_json(
    conn: &mut Conn,
    server: &str,
    db: &str,
    mut table: DeclaredTable,
    with_comments: bool,
) -> Result<Value> {
    if table.charset.is_none() {
        table.charset = conn
            .exec_first(
                "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (db,),
            )
            .await
            .map_err(qerr(server, "reading the database's character set"))?;
    }
    for c in &mut table.columns {
        if c.charset.is_none() && is_text_type(&type_word(&c.column_type)) {
            c.charset.clone_from(&table.charset);
        }
    }
    Ok(table_json(
        &table.columns,
        &table.keys,
        table.charset.as_deref(),
        table.comment.as_deref(),
        with_comments,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, ty: &str) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            column_type: ty.into(),
            nullable: true,
            ..Default::default()
        }
    }

    #[test]
    fn lengths_follow_the_type_text() {
        assert_eq!(length_scale("tinyint(1)"), (Some(1), None));
        assert_eq!(length_scale("int"), (None, None));
        assert_eq!(length_scale("decimal(8,3) unsigned"), (Some(8), Some(3)));
        assert_eq!(length_scale("float(7,3)"), (Some(7), Some(3)));
        assert_eq!(length_scale("datetime(6)"), (Some(6), None));
        assert_eq!(length_scale("enum('a','b','c')"), (Some(1), None));
        assert_eq!(length_scale("set('x','y','z')"), (Some(5), None));
        assert_eq!(length_scale("set('a,b')"), (Some(1), None));
        assert_eq!(type_name("decimal(8,3) unsigned"), "DECIMAL UNSIGNED");
        assert_eq!(
            type_name("int(10) unsigned zerofill"),
            "INT UNSIGNED ZEROFILL"
        );
        assert_eq!(type_name("enum('unsigned')"), "ENUM");
        assert_eq!(
            labels("'a','it''s','c\\'d'"),
            vec!["'a'", "'it''s'", "'c\\'d'"]
        );
    }

    #[test]
    fn defaults_as_show_create_table_prints_them() {
        let d = |ty: &str, raw: &str, extra: &str| {
            default_expression(&ColumnDef {
                column_type: ty.into(),
                default: Some(raw.into()),
                extra: extra.into(),
                ..Default::default()
            })
        };
        assert_eq!(d("bit(8)", "b'101'", ""), Some("101".into()));
        assert_eq!(d("varbinary(10)", "0x0102", ""), Some("\u{1}\u{2}".into()));
        assert_eq!(
            d("timestamp(3)", "CURRENT_TIMESTAMP(3)", "DEFAULT_GENERATED"),
            Some("1970-01-01 00:00:00".into())
        );
        assert_eq!(d("varchar(36)", "uuid()", "DEFAULT_GENERATED"), None);
        assert_eq!(d("varchar(5)", "it's", ""), Some("it''s".into()));
        assert_eq!(d("varchar(5)", "'it''s'", ""), Some("it''s".into()));
        assert_eq!(d("varchar(5)", "a\\b", ""), Some("a\\\\b".into()));
        assert_eq!(d("decimal(10,2)", "1.50", ""), Some("1.50".into()));
    }

    #[test]
    fn first_not_null_unique_key_stands_in_for_a_primary_key() {
        let mut id = col("id", "int");
        id.nullable = false;
        let v = col("v", "varchar(10)");
        let keys = vec![
            KeyDef {
                name: "v".into(),
                unique: true,
                columns: vec!["v".into()],
            },
            KeyDef {
                name: "id".into(),
                unique: true,
                columns: vec!["id".into()],
            },
        ];
        let t = table_json(&[id, v], &keys, Some("utf8mb4"), Some("c"), false);
        assert_eq!(t["primaryKeyColumnNames"], json!(["id"]));
        assert_eq!(t["comment"], Value::Null);
        assert_eq!(t["columns"][0]["optional"], json!(false));
        assert_eq!(t["columns"][1]["jdbcType"], json!(12));
    }
}
