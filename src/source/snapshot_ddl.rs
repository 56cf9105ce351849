//! The schema part of an initial snapshot, as Debezium's MySQL connector
//! writes it to the schema change topic before the first snapshot row
//! (`BinlogSnapshotChangeEventSource.readTableStructure`), all at the
//! snapshot's position with `source.snapshot = "true"`:
//!
//! 1. `SET character_set_server=…, collation_server=…` (database `""`);
//! 2. `DROP TABLE IF EXISTS `db`.`t`` for every table, in name order;
//! 3. per database (in the same order): `DROP DATABASE IF EXISTS`,
//!    `CREATE DATABASE … CHARSET … COLLATE …`, `USE`, then each table's
//!    `SHOW CREATE TABLE` text with the table.
//!
//! Which tables, as Debezium with its schema history settings: by default
//! (`schema.history.internal.store.only.captured.tables.ddl=false`) every
//! base table of every database but the system ones; with
//! `store.only.captured.databases.ddl=true` those of the captured databases;
//! with `store.only.captured.tables.ddl=true` only the captured tables the
//! snapshot reads. Databases without such tables are not written.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::ddl::statement_text;
use super::server::qerr;
use super::table_json::{quote, read_tables_json};
use crate::config::Config;
use crate::error::Result;
use crate::model::{BinlogPosition, SchemaChange, SourceInfo};

/// Databases Debezium leaves out (`BUILT_IN_DB_NAMES`).
const BUILT_IN: &[&str] = &["mysql", "performance_schema", "sys", "information_schema"];

/// Debezium's `setStatementFor`: variables in name order; a value with a
/// comma or semicolon quoted. (Its closing `;` is not part of the event.)
pub fn set_statement(mut vars: Vec<(String, String)>) -> String {
    vars.sort();
    let parts: Vec<String> = vars
        .into_iter()
        .map(|(k, v)| match v.contains(',') || v.contains(';') {
            true => format!("{k}='{v}'"),
            false => format!("{k}={v}"),
        })
        .collect();
    format!("SET {}", parts.join(", "))
}

/// Debezium's order of tables: `TableId` ids (`db.table`) compared as Java
/// strings (UTF-16 code units).
pub fn sort_tables(tables: &mut [(String, String)]) {
    tables.sort_by(|a, b| {
        let ka = format!("{}.{}", a.0, a.1);
        let kb = format!("{}.{}", b.0, b.1);
        ka.encode_utf16().cmp(kb.encode_utf16())
    });
}

/// The tables whose schema the snapshot writes, `captured` telling the
/// tables the snapshot reads, in Debezium's order.
pub fn schema_tables(
    config: &Config,
    all: &[(String, String)],
    captured: impl Fn(&str, &str) -> bool,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = all
        .iter()
        .filter(|(d, t)| {
            if config.store_only_captured_tables_ddl {
                captured(d, t)
            } else if config.store_only_captured_databases_ddl {
                config.filter.includes_database(d)
            } else {
                !BUILT_IN.contains(&d.as_str())
            }
        })
        .cloned()
        .collect();
    sort_tables(&mut out);
    out
}

/// The schema change events of a snapshot at `at` of `tables` (in
/// order, from [`schema_tables`]).
pub async fn read_schema_snapshot(
    conn: &mut Conn,
    server: &str,
    config: &Config,
    tables: &[(String, String)],
    at: &BinlogPosition,
    ts_sec: u32,
) -> Result<Vec<SchemaChange>> {
    let source = SourceInfo {
        position: at.clone(),
        row: 0,
        ts_sec,
        server_id: 0,
        gtid: None,
        thread: None,
        snapshot: Some("true"),
        query: None,
    };
    let event = |db: &str, table: Option<&str>, ddl: String, changes: Vec<serde_json::Value>| {
        SchemaChange {
            database: db.to_string(),
            ddl,
            table_changes: changes,
            table: table.map(str::to_string),
            source: source.clone(),
        }
    };
    let id = |db: &str, t: &str| format!("\"{db}\".\"{t}\"");
    let vars: Vec<(String, String)> = conn
        .query("SHOW VARIABLES WHERE Variable_name IN ('character_set_server','collation_server')")
        .await
        .map_err(qerr(server, "reading the server's character set"))?;
    let mut out = vec![event("", None, set_statement(vars), Vec::new())];
    for (db, t) in tables {
        out.push(event(
            db,
            Some(t),
            format!("DROP TABLE IF EXISTS {}.{}", quote(db), quote(t)),
            vec![serde_json::json!({"type": "DROP", "id": id(db, t), "table": null})],
        ));
    }
    let locales: Vec<(String, Option<String>, Option<String>)> = conn
        .query(
            "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA",
        )
        .await
        .map_err(qerr(server, "reading the databases' character sets"))?;
    let mut dbs: Vec<String> = tables.iter().map(|(d, _)| d.clone()).collect();
    dbs.dedup();
    let mut shapes = read_tables_json(conn, server, &dbs, config.include_schema_comments).await?;
    let mut i = 0;
    while i < tables.len() {
        let db = tables[i].0.clone();
        let n = tables[i..].iter().take_while(|(d, _)| *d == db).count();
        out.push(event(
            &db,
            None,
            format!("DROP DATABASE IF EXISTS {}", quote(&db)),
            Vec::new(),
        ));
        let mut create = format!("CREATE DATABASE {}", quote(&db));
        if let Some((_, charset, collation)) = locales.iter().find(|(d, _, _)| *d == db) {
            if let Some(c) = charset {
                create.push_str(&format!(" CHARSET {c}"));
            }
            if let Some(c) = collation {
                create.push_str(&format!(" COLLATE {c}"));
            }
        }
        out.push(event(&db, None, create, Vec::new()));
        out.push(event(&db, None, format!("USE {}", quote(&db)), Vec::new()));
        for (_, t) in &tables[i..i + n] {
            let shown: Option<mysql_async::Row> = match conn
                .query_first(format!("SHOW CREATE TABLE {}.{}", quote(&db), quote(t)))
                .await
            {
                Ok(row) => row,
                // Dropped (or its database) since it was listed.
                Err(mysql_async::Error::Server(e)) if e.code == 1146 || e.code == 1049 => None,
                Err(e) => return Err(qerr(server, "reading SHOW CREATE TABLE")(e)),
            };
            // Binary DEFAULTs are printed as their bytes.
            let Some(ddl) = shown
                .and_then(|r| r.get::<Vec<u8>, _>(1))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
            else {
                continue;
            };
            let Some(table) = shapes.remove(&(db.clone(), t.clone())) else {
                continue;
            };
            out.push(event(
                &db,
                Some(t),
                statement_text(&ddl),
                vec![serde_json::json!({"type": "CREATE", "id": id(&db, t), "table": table})],
            ));
        }
        i += n;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_statement_as_debezium_writes_it() {
        let v = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            set_statement(vec![
                v("collation_server", "utf8mb4_0900_ai_ci"),
                v("character_set_server", "utf8mb4")
            ]),
            "SET character_set_server=utf8mb4, collation_server=utf8mb4_0900_ai_ci"
        );
    }

    #[test]
    fn tables_in_java_string_order() {
        let mut t = vec![
            ("a".to_string(), "x".to_string()),
            ("a-b".to_string(), "y".to_string()),
            ("a_b".to_string(), "z".to_string()),
        ];
        sort_tables(&mut t);
        let names: Vec<&str> = t.iter().map(|(d, _)| d.as_str()).collect();
        // '-' < '.' < '_'
        assert_eq!(names, vec!["a-b", "a", "a_b"]);
    }
}
