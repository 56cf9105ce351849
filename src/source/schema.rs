//! Table schemas from `information_schema`.
//!
//! Used where no table map describes the table: snapshot chunks (read with
//! `SELECT`, not from the binlog) and the fallback for binlogs written with
//! `binlog_row_metadata=MINIMAL`. The mapping to [`ColumnType`] gives the
//! same types the table map would (`COLUMN_TYPE` carries precision, scale,
//! fractional seconds, ENUM/SET labels and BIT length), so snapshot reads
//! and streamed changes of one table have one schema.

use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::server::qerr;
use crate::error::Result;
use crate::model::{Column, ColumnDefault, ColumnType, SourceType, TableSchema};

/// A table's schema and the key its snapshot chunks are ordered by.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// Columns and primary key.
    pub schema: Arc<TableSchema>,
    /// Primary key, else the smallest unique key of NOT NULL columns,
    /// else empty (read in one chunk).
    pub chunk_key: Vec<usize>,
}

type ColumnRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<String>,
    String,
);

/// Loads `db.table`; `None` when it does not exist (or is a view).
pub async fn load_table(
    conn: &mut Conn,
    server: &str,
    db: &str,
    table: &str,
) -> Result<Option<TableInfo>> {
    let qe = || qerr(server, "reading information_schema");
    let kind: Option<String> = conn
        .exec_first(
            "SELECT TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (db, table),
        )
        .await
        .map_err(qe())?;
    if kind.as_deref() != Some("BASE TABLE") {
        return Ok(None);
    }
    let rows: Vec<ColumnRow> = conn
        .exec(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, NUMERIC_PRECISION, DATETIME_PRECISION, \
             CHARACTER_MAXIMUM_LENGTH, NUMERIC_SCALE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (db, table),
        )
        .await
        .map_err(qe())?;
    if rows.is_empty() {
        return Ok(None);
    }
    let columns: Vec<Column> = rows
        .into_iter()
        .map(
            |(
                name,
                data_type,
                column_type,
                nullable,
                charset,
                numeric_precision,
                datetime_precision,
                char_length,
                numeric_scale,
                column_default,
                extra,
            )| {
                let data_type = data_type.to_ascii_lowercase();
                let column_type = column_type.to_ascii_lowercase();
                let ty = column_type_from(
                    &data_type,
                    &column_type,
                    charset.as_deref(),
                    numeric_precision,
                    datetime_precision,
                );
                let length = match &ty {
                    ColumnType::Decimal { .. } => numeric_precision,
                    ColumnType::Bit { .. } => numeric_precision,
                    ColumnType::DateTime { .. }
                    | ColumnType::Timestamp { .. }
                    | ColumnType::Time { .. } => datetime_precision,
                    ColumnType::String { .. } | ColumnType::Bytes { .. }
                        if !data_type.contains("text") && !data_type.contains("blob") =>
                    {
                        char_length
                    }
                    ColumnType::Enum { .. } => Some(1),
                    _ => None,
                };
                let mut name_upper = data_type.to_ascii_uppercase();
                if column_type.contains("unsigned") {
                    name_upper.push_str(" UNSIGNED");
                }
                Column {
                    name,
                    ty,
                    nullable: nullable == "YES",
                    default: parse_default(column_default.as_deref(), &extra),
                    source: SourceType {
                        name: name_upper,
                        length: length.map(|l| l.min(u64::from(u32::MAX)) as u32),
                        scale: numeric_scale
                            .filter(|_| matches!(data_type.as_str(), "decimal" | "numeric"))
                            .map(|s| s as u32),
                    },
                }
            },
        )
        .collect();
    // (index name, non-unique, column, nullable) in index order.
    let stats: Vec<(String, i64, String, String)> = conn
        .exec(
            "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, NULLABLE FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            (db, table),
        )
        .await
        .map_err(qe())?;
    let index_of = |name: &str| {
        columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    };
    let mut unique: Vec<(String, Vec<usize>, bool)> = Vec::new();
    for (index, non_unique, column, nullable) in stats {
        if non_unique != 0 {
            continue;
        }
        let Some(i) = index_of(&column) else { continue };
        match unique.iter_mut().find(|(n, _, _)| *n == index) {
            Some((_, cols, all_not_null)) => {
                cols.push(i);
                *all_not_null &= nullable.is_empty();
            }
            None => unique.push((index, vec![i], nullable.is_empty())),
        }
    }
    let key: Vec<usize> = unique
        .iter()
        .find(|(n, _, _)| n == "PRIMARY")
        .map(|(_, cols, _)| cols.clone())
        .unwrap_or_default();
    let chunk_key = if key.is_empty() {
        unique
            .iter()
            .filter(|(_, _, not_null)| *not_null)
            .min_by_key(|(_, cols, _)| cols.len())
            .map(|(_, cols, _)| cols.clone())
            .unwrap_or_default()
    } else {
        key.clone()
    };
    // Without a primary key MySQL promotes the first unique key of NOT NULL
    // columns in its key order (`SHOW INDEX`; the binlog's table map says so
    // too), and Debezium keys the table by it: the snapshot must use the same
    // key as the stream, or the table's records would change key and partition.
    let key = if key.is_empty() {
        let keys = super::table_json::read_keys(conn, server, db, table)
            .await?
            .unwrap_or_default();
        keys.iter()
            .filter(|k| k.unique && !k.columns.is_empty())
            .map(|k| {
                k.columns
                    .iter()
                    .map(|n| index_of(n))
                    .collect::<Option<Vec<usize>>>()
            })
            .find_map(|cols| cols.filter(|cols| cols.iter().all(|&i| !columns[i].nullable)))
            .unwrap_or_default()
    } else {
        key
    };
    Ok(Some(TableInfo {
        schema: Arc::new(TableSchema {
            db: db.to_string(),
            table: table.to_string(),
            columns,
            key,
        }),
        chunk_key,
    }))
}

/// A column's DEFAULT from `information_schema.COLUMNS` (`COLUMN_DEFAULT`,
/// `EXTRA`). MySQL prints constants unquoted, SQL NULL for no default and
/// marks expressions `DEFAULT_GENERATED`; MariaDB quotes string constants,
/// prints `NULL` for no default and expressions as written. Expressions other
/// than the current time have no constant value and give `None`, as in
/// Debezium.
pub fn parse_default(raw: Option<&str>, extra: &str) -> Option<ColumnDefault> {
    let raw = raw?;
    let lower = raw.to_ascii_lowercase();
    let now = ["current_timestamp", "now", "localtimestamp", "localtime"];
    if let Some((f, rest)) = now.iter().find_map(|p| Some((*p, lower.strip_prefix(p)?))) {
        // Debezium's default converter knows only the bare function: with a
        // precision (`CURRENT_TIMESTAMP(3)`) the column has no default. (A
        // bare `now` is a string constant: MySQL prints those unquoted.)
        match rest {
            "()" => return Some(ColumnDefault::CurrentTimestamp),
            "" if f != "now" => return Some(ColumnDefault::CurrentTimestamp),
            r if r.starts_with('(') => return None,
            _ => {}
        }
    }
    if extra.to_ascii_uppercase().contains("DEFAULT_GENERATED") {
        return None;
    }
    if raw == "NULL" {
        return None;
    }
    if raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'') {
        return Some(ColumnDefault::Literal(
            raw[1..raw.len() - 1]
                .replace("''", "'")
                .replace("\\\\", "\\"),
        ));
    }
    if raw.contains('(') {
        return None;
    }
    Some(ColumnDefault::Literal(raw.to_string()))
}

/// What the catalog adds to table maps, by `(db, table)`: `(column, facts)`.
/// Also built from a `CREATE TABLE` read in the binlog
/// ([`CatalogColumn::declared`]).
pub type TableDefaults = std::collections::HashMap<(String, String), Vec<(String, CatalogColumn)>>;

/// What the binlog's table map does not say about a column.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogColumn {
    /// Its DEFAULT.
    pub default: Option<ColumnDefault>,
    /// A `FLOAT(M,D)`: Debezium types it as a DOUBLE (the table map only
    /// says FLOAT).
    pub float_as_double: bool,
}

impl CatalogColumn {
    /// The facts of a column from its `COLUMN_DEFAULT`, `EXTRA` and
    /// `COLUMN_TYPE` (as the catalog prints them or a `CREATE TABLE` writes them).
    fn new(default: Option<&str>, extra: &str, column_type: &str) -> Self {
        Self {
            default: parse_default(default, extra),
            float_as_double: is_float_with_scale(&column_type.to_ascii_lowercase()),
        }
    }

    /// The facts of the columns a `CREATE TABLE` statement declares: what
    /// Debezium's DDL parser knows of a table that may be gone from the
    /// catalog by the time the poll reads its rows.
    pub fn declared(table: &super::ddl::DeclaredTable) -> Vec<(String, CatalogColumn)> {
        table
            .columns
            .iter()
            .map(|c| {
                let facts = CatalogColumn::new(c.default.as_deref(), &c.extra, &c.column_type);
                (c.name.clone(), facts)
            })
            .collect()
    }
}

/// Constant DEFAULTs of every column of the server's user tables, in one
/// query, for the table-map path (table maps carry no defaults).
pub async fn load_defaults(conn: &mut Conn, server: &str) -> Result<TableDefaults> {
    let rows: Vec<(String, String, String, Option<String>, String, String)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_DEFAULT, EXTRA, COLUMN_TYPE FROM information_schema.COLUMNS \
             WHERE (COLUMN_DEFAULT IS NOT NULL OR COLUMN_TYPE LIKE 'float(%,%)') \
             AND TABLE_SCHEMA NOT IN ('mysql', 'sys', 'performance_schema', 'information_schema')",
        )
        .await
        .map_err(qerr(server, "reading column defaults"))?;
    let mut out = TableDefaults::new();
    for (db, table, column, raw, extra, column_type) in rows {
        let c = CatalogColumn::new(raw.as_deref(), &extra, &column_type);
        out.entry((db, table)).or_default().push((column, c));
    }
    Ok(out)
}

/// Base tables of the server, `(db, table)` in name order.
pub async fn list_tables(conn: &mut Conn, server: &str) -> Result<Vec<(String, String)>> {
    conn.query(
        "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' \
         ORDER BY TABLE_SCHEMA, TABLE_NAME",
    )
    .await
    .map_err(qerr(server, "listing tables"))
}

/// `TABLE_ROWS` of `tables` from `information_schema.TABLES`, one query a
/// table: with equality on schema and name the server opens only that
/// table, where a row-constructor `IN` makes MariaDB (and MySQL without
/// its data dictionary cache) open every table of the server.
pub async fn row_estimates(
    conn: &mut Conn,
    server: &str,
    tables: &[(String, String)],
) -> Result<Vec<((String, String), u64)>> {
    let mut out = Vec::with_capacity(tables.len());
    for (d, t) in tables {
        let rows: Option<Option<u64>> = conn
            .exec_first(
                "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (d.as_str(), t.as_str()),
            )
            .await
            .map_err(qerr(server, "estimating table sizes"))?;
        if let Some(Some(n)) = rows {
            out.push(((d.clone(), t.clone()), n));
        }
    }
    Ok(out)
}

/// `FLOAT(M,D)`, which Debezium's DDL parser types as a DOUBLE (a plain
/// `FLOAT` or `FLOAT(p)` stays a FLOAT).
fn is_float_with_scale(column_type: &str) -> bool {
    column_type.starts_with("float(") && column_type.contains(',')
}

/// The column type `information_schema.COLUMNS` describes.
pub fn column_type_from(
    data_type: &str,
    column_type: &str,
    charset: Option<&str>,
    numeric_precision: Option<u64>,
    datetime_precision: Option<u64>,
) -> ColumnType {
    let unsigned = column_type.contains("unsigned");
    let fsp = datetime_precision.unwrap_or(0).min(6) as u8;
    let paren = || {
        column_type
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(inner, _)| inner.to_string())
            .unwrap_or_default()
    };
    let labels = || {
        let inner = column_type
            .split_once('(')
            .and_then(|(_, rest)| rest.rsplit_once(')'))
            .map(|(inner, _)| inner)
            .unwrap_or_default();
        inner
            .trim_matches('\'')
            .split("','")
            .map(|s| s.replace("''", "'"))
            .collect::<Vec<_>>()
    };
    match data_type {
        "tinyint" => ColumnType::TinyInt { unsigned },
        "smallint" => ColumnType::SmallInt { unsigned },
        "mediumint" => ColumnType::MediumInt { unsigned },
        "int" | "integer" => ColumnType::Int { unsigned },
        "bigint" => ColumnType::BigInt { unsigned },
        "float" if is_float_with_scale(column_type) => ColumnType::Double,
        "float" => ColumnType::Float,
        "double" | "real" | "double precision" => ColumnType::Double,
        "decimal" | "numeric" => {
            let p = paren();
            let mut it = p.split(',').map(|x| x.trim().parse::<u8>().ok());
            ColumnType::Decimal {
                precision: it.next().flatten().unwrap_or(10),
                scale: it.next().flatten().unwrap_or(0),
            }
        }
        "binary" => ColumnType::Bytes {
            fixed: paren().trim().parse().ok(),
        },
        "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            ColumnType::Bytes { fixed: None }
        }
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => {
            ColumnType::String {
                charset: match charset {
                    Some("latin1") => 8,
                    Some("binary") => 63,
                    _ => 255,
                },
            }
        }
        "date" => ColumnType::Date,
        "datetime" => ColumnType::DateTime { fsp },
        "timestamp" => ColumnType::Timestamp { fsp },
        "time" => ColumnType::Time { fsp },
        "year" => ColumnType::Year,
        "json" => ColumnType::Json,
        "enum" => ColumnType::Enum { values: labels() },
        "set" => ColumnType::Set { values: labels() },
        "bit" => ColumnType::Bit {
            bits: numeric_precision.unwrap_or(1).min(64) as u16,
        },
        "point" => ColumnType::Point,
        "geometry" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" | "geomcollection" => ColumnType::Geometry,
        _ => ColumnType::Unsupported { mysql_type: 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_statement_gives_the_column_facts() {
        let d = super::super::ddl::declared_table(
            "CREATE TABLE later (id BIGINT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(20) NOT NULL DEFAULT '', \
             flag TINYINT(1) DEFAULT 1, f FLOAT(7,3), g FLOAT DEFAULT 2.5, c TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP(3))",
        )
        .expect("a plain CREATE TABLE");
        let facts = CatalogColumn::declared(&d);
        let of = |name: &str| facts.iter().find(|(n, _)| n == name).unwrap().1.clone();
        assert_eq!(of("id").default, None);
        assert_eq!(
            of("note").default,
            Some(ColumnDefault::Literal(String::new()))
        );
        assert_eq!(of("flag").default, Some(ColumnDefault::Literal("1".into())));
        assert!(of("f").float_as_double && !of("g").float_as_double);
        assert_eq!(of("g").default, Some(ColumnDefault::Literal("2.5".into())));
        assert_eq!(
            of("c").default,
            None,
            "CURRENT_TIMESTAMP(3): no default, as in Debezium"
        );
    }

    #[test]
    fn defaults_from_both_servers() {
        let lit = |s: &str| Some(ColumnDefault::Literal(s.into()));
        assert_eq!(parse_default(None, ""), None);
        assert_eq!(parse_default(Some("42"), ""), lit("42"));
        assert_eq!(parse_default(Some("abc"), ""), lit("abc"));
        assert_eq!(parse_default(Some("'it''s'"), ""), lit("it's"));
        assert_eq!(parse_default(Some("NULL"), ""), None);
        assert_eq!(
            parse_default(Some("CURRENT_TIMESTAMP"), "DEFAULT_GENERATED"),
            Some(ColumnDefault::CurrentTimestamp)
        );
        assert_eq!(parse_default(Some("current_timestamp(3)"), ""), None);
        assert_eq!(
            parse_default(Some("current_timestamp()"), ""),
            Some(ColumnDefault::CurrentTimestamp)
        );
        assert_eq!(parse_default(Some("(uuid())"), "DEFAULT_GENERATED"), None);
        assert_eq!(parse_default(Some("uuid()"), ""), None);
    }

    #[test]
    fn types_from_column_type() {
        assert_eq!(
            column_type_from("int", "int unsigned", None, None, None),
            ColumnType::Int { unsigned: true }
        );
        assert_eq!(
            column_type_from("decimal", "decimal(12,2)", None, Some(12), None),
            ColumnType::Decimal {
                precision: 12,
                scale: 2
            }
        );
        assert_eq!(
            column_type_from("enum", "enum('a','b''c')", Some("utf8mb4"), None, None),
            ColumnType::Enum {
                values: vec!["a".into(), "b'c".into()]
            }
        );
        assert_eq!(
            column_type_from("datetime", "datetime(3)", None, None, Some(3)),
            ColumnType::DateTime { fsp: 3 }
        );
        assert_eq!(
            column_type_from("bit", "bit(5)", None, Some(5), None),
            ColumnType::Bit { bits: 5 }
        );
        assert_eq!(
            column_type_from("varbinary", "varbinary(3)", None, None, None),
            ColumnType::Bytes { fixed: None }
        );
        assert_eq!(
            column_type_from("binary", "binary(4)", None, None, None),
            ColumnType::Bytes { fixed: Some(4) }
        );
        assert_eq!(
            column_type_from("varchar", "varchar(3)", Some("latin1"), None, None),
            ColumnType::String { charset: 8 }
        );
    }
}
