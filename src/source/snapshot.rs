//! Snapshot chunks under a short table lock.
//!
//! RDS and Aurora refuse `FLUSH TABLES WITH READ LOCK`, so a consistent
//! snapshot cannot freeze the whole server. Instead each chunk is read as
//!
//! ```sql
//! LOCK TABLES db.t READ;                 -- waits for open write transactions on t
//! SHOW BINARY LOG STATUS;                -- P: the binlog position of this state of t
//! SELECT ... FROM db.t WHERE (k) > (?) ORDER BY k LIMIT n + 1;
//! UNLOCK TABLES;
//! ```
//!
//! `LOCK TABLES ... READ` takes a shared metadata lock that conflicts with
//! the write locks of open transactions on `t` and keeps new writes out, so
//! while it is held every committed change to `t` is in the binlog before
//! P and none after: the chunk is exactly `t`'s rows at P. The poller
//! places it in the stream at P, which keeps the global order. Writers to
//! `t` wait only for the position query and one keyset-paginated `SELECT`
//! (milliseconds for a few thousand rows by primary key); the hold time is
//! measured and reported.
//!
//! The session runs with `time_zone = '+00:00'` so TIMESTAMP values come
//! back in UTC, and `lock_wait_timeout` bounds the wait for the lock; a
//! timeout is not an error here: the chunk is retried by a later poll.

use std::time::{Duration, Instant};

use base64::Engine as _;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params, Value};

use super::schema::{load_table, TableInfo};
use super::server::{connect, current_position, qerr};
use super::table_json::quote;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{BinlogPosition, KeyValue};
use crate::model::{Cell, ColumnType};

/// MySQL's `ER_LOCK_WAIT_TIMEOUT`.
const LOCK_WAIT_TIMEOUT: u16 = 1205;

/// One chunk of a table, read at one binlog position.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Rows in key order, converted to cells.
    pub rows: Vec<Vec<Cell>>,
    /// Key of the last row (the next chunk starts after it).
    pub last_key: Option<Vec<KeyValue>>,
    /// Whether the table has rows after this chunk.
    pub more: bool,
    /// The binlog position the rows are the state of.
    pub position: BinlogPosition,
    /// How long the table was locked.
    pub lock_held: Duration,
}

/// Reads snapshot chunks on a connection of its own.
#[derive(Debug)]
pub struct ChunkReader {
    conn: Conn,
    server: String,
    /// To reach the server again when the reader must be killed.
    config: Config,
}

impl ChunkReader {
    /// Connects and prepares the session (UTC, lock wait bound).
    pub async fn connect(config: &Config, lock_timeout: Duration) -> Result<Self> {
        let server = config.server();
        let mut conn = connect(config).await?;
        let secs = lock_timeout.as_secs().max(1);
        conn.query_drop(format!(
            "SET SESSION time_zone = '+00:00', SESSION lock_wait_timeout = {secs}"
        ))
        .await
        .map_err(qerr(&server, "preparing the snapshot session"))?;
        Ok(Self {
            conn,
            server,
            config: config.clone(),
        })
    }

    /// The table's schema and chunk key; `None` when it no longer exists.
    pub async fn table(&mut self, db: &str, table: &str) -> Result<Option<TableInfo>> {
        load_table(&mut self.conn, &self.server, db, table).await
    }

    /// Reads the rows after `cursor` (at most `limit`; the whole table when
    /// it has no usable key). `None` when the lock was not granted within
    /// the lock timeout.
    pub async fn read_chunk(
        &mut self,
        info: &TableInfo,
        cursor: Option<&[KeyValue]>,
        limit: usize,
        select_override: Option<&str>,
    ) -> Result<Option<Chunk>> {
        let t = &*info.schema;
        let table = format!("{}.{}", quote(&t.db), quote(&t.table));
        let cols: Vec<String> = t.columns.iter().map(|c| quote(&c.name)).collect();
        let keys: Vec<String> = info
            .chunk_key
            .iter()
            .map(|&i| quote(&t.columns[i].name))
            .collect();
        let from = match select_override {
            Some(sql) => format!("({sql}) AS snapshot_override"),
            None => table.clone(),
        };
        let mut sql = format!("SELECT {} FROM {from}", cols.join(", "));
        let mut params: Vec<Value> = Vec::new();
        if !keys.is_empty() {
            if let Some(cursor) = cursor {
                let marks = vec!["?"; keys.len()].join(", ");
                sql.push_str(&format!(" WHERE ({}) > ({marks})", keys.join(", ")));
                params.extend(cursor.iter().map(key_param));
            }
            sql.push_str(&format!(
                " ORDER BY {} LIMIT {}",
                keys.join(", "),
                limit + 1
            ));
        }
        let server = self.server.clone();
        let err = |during: &'static str| qerr(&server, during);
        match self
            .conn
            .query_drop(format!("LOCK TABLES {table} READ"))
            .await
        {
            Ok(()) => {}
            Err(mysql_async::Error::Server(e)) if e.code == LOCK_WAIT_TIMEOUT => {
                tracing::warn!(table = %format!("{}.{}", t.db, t.table), "snapshot lock not granted in time; the chunk is retried by a later poll");
                return Ok(None);
            }
            Err(e) => {
                return Err(err(
                    "locking the table for a snapshot chunk (needs LOCK TABLES)",
                )(e))
            }
        }
        let locked = Instant::now();
        let read = async {
            let (position, _executed): (BinlogPosition, Option<String>) =
                current_position(&mut self.conn, &self.server).await?;
            let params = if params.is_empty() {
                Params::Empty
            } else {
                Params::Positional(params)
            };
            let rows: Vec<mysql_async::Row> = self
                .conn
                .exec(sql.as_str(), params)
                .await
                .map_err(err("reading a snapshot chunk"))?;
            Ok::<_, Error>((position, rows))
        }
        .await;
        let unlock = self.conn.query_drop("UNLOCK TABLES").await;
        let lock_held = locked.elapsed();
        let (position, rows) = read?;
        unlock.map_err(err("unlocking the table"))?;

        let more = !keys.is_empty() && rows.len() > limit;
        let mut out = Vec::with_capacity(rows.len().min(limit));
        let mut last_key = None;
        for row in rows
            .into_iter()
            .take(if keys.is_empty() { usize::MAX } else { limit })
        {
            let values = row.unwrap();
            if !info.chunk_key.is_empty() {
                last_key = Some(
                    info.chunk_key
                        .iter()
                        .map(|&i| key_value(&values[i], &t.columns[i].ty))
                        .collect(),
                );
            }
            let cells = values
                .into_iter()
                .zip(&t.columns)
                .map(|(v, c)| cell_from_snapshot(v, &c.ty))
                .collect();
            out.push(cells);
        }
        Ok(Some(Chunk {
            rows: out,
            last_key,
            more,
            position,
            lock_held,
        }))
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self.conn.disconnect().await;
    }

    /// Ends a reader stuck in the middle of a query (perhaps holding its
    /// table lock): `KILL`s its connection from a new one. Dropping it is
    /// not enough: mysql_async drains a dropped connection in a background
    /// task before closing it, and a Lambda frozen after the invocation
    /// would keep the lock until it thaws. A user may always kill its own
    /// connections.
    pub async fn abort(self) {
        let id = self.conn.id();
        drop(self.conn);
        match connect(&self.config).await {
            Ok(mut c) => {
                if let Err(e) = c.query_drop(format!("KILL {id}")).await {
                    tracing::warn!(error = %e, connection = id, "could not kill the stuck snapshot reader; the server ends it with its socket");
                }
                let _ = c.disconnect().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, connection = id, "could not reach the server to kill the stuck snapshot reader")
            }
        }
    }
}

fn key_param(k: &KeyValue) -> Value {
    match k {
        KeyValue::Int(i) => Value::Int(*i),
        KeyValue::UInt(u) => Value::UInt(*u),
        KeyValue::Text(s) => Value::Bytes(s.clone().into_bytes()),
        KeyValue::Bytes(b) => Value::Bytes(
            base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap_or_default(),
        ),
    }
}

fn key_value(v: &Value, ty: &ColumnType) -> KeyValue {
    match v {
        Value::Int(i) => KeyValue::Int(*i),
        Value::UInt(u) => KeyValue::UInt(*u),
        Value::Bytes(b) if matches!(ty, ColumnType::Bytes { .. }) => {
            KeyValue::Bytes(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::Bytes(b) => KeyValue::Text(String::from_utf8_lossy(b).into_owned()),
        other => KeyValue::Text(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// Converts a value read with `SELECT` (binary protocol, UTF-8 session,
/// UTC time zone) to the cell the binlog decoder would produce for it.
pub fn cell_from_snapshot(v: Value, ty: &ColumnType) -> Cell {
    match (v, ty) {
        (Value::NULL, _) => Cell::Null,
        (Value::Int(i), ColumnType::Year) => Cell::Year(i as u16),
        (Value::Int(i), t) if t.is_unsigned() => Cell::UInt(i as u64),
        (Value::Int(i), _) => Cell::Int(i),
        (Value::UInt(u), ColumnType::Year) => Cell::Year(u as u16),
        (Value::UInt(u), _) => Cell::UInt(u),
        // Debezium reads snapshots over JDBC's text protocol, where MySQL prints a
        // FLOAT with six significant digits (16777217 as 1.67772e7); the binary
        // protocol used here has the exact value, so it is rounded the same way.
        (Value::Float(f), ColumnType::Float) => Cell::Float(float_as_text(f)),
        (Value::Float(f), _) => Cell::Float(f),
        (Value::Double(d), ColumnType::Float) => Cell::Float(float_as_text(d as f32)),
        (Value::Double(d), _) => Cell::Double(d),
        (Value::Bytes(b), ColumnType::Decimal { .. }) => {
            Cell::Decimal(String::from_utf8_lossy(&b).into_owned())
        }
        // The server's own text, as Debezium's snapshot keeps it
        // (`{"a": 1, "b": [1, 2]}`, `1.50`, `1e300`).
        (Value::Bytes(b), ColumnType::Json) => Cell::Json(String::from_utf8_lossy(&b).into_owned()),
        (Value::Bytes(b), ColumnType::Year) => {
            Cell::Year(String::from_utf8_lossy(&b).parse().unwrap_or_default())
        }
        (
            Value::Bytes(b),
            ColumnType::Bytes { .. }
            | ColumnType::Bit { .. }
            | ColumnType::Geometry
            | ColumnType::Point,
        ) => Cell::Bytes(b),
        // The session character set is UTF-8, so the server converted text.
        (Value::Bytes(b), _) => Cell::Text(
            String::from_utf8(b)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        ),
        (Value::Date(year, month, day, ..), ColumnType::Date) => Cell::Date { year, month, day },
        (
            Value::Date(year, month, day, hour, minute, second, micros),
            ColumnType::Timestamp { .. },
        ) => {
            if year == 0 {
                Cell::Timestamp { secs: 0, micros: 0 }
            } else {
                Cell::timestamp_utc(year, month, day, hour, minute, second, micros)
            }
        }
        (Value::Date(year, month, day, hour, minute, second, micros), _) => Cell::DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micros,
        },
        (Value::Time(neg, days, h, m, s, us), _) => Cell::time(neg, days, h, m, s, us),
    }
}

/// A FLOAT as MySQL's text protocol carries it: six significant digits.
fn float_as_text(f: f32) -> f32 {
    format!("{f:.5e}").parse().unwrap_or(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_cells_match_binlog_cells() {
        let ts = cell_from_snapshot(
            Value::Date(2024, 5, 1, 10, 11, 12, 345_000),
            &ColumnType::Timestamp { fsp: 3 },
        );
        assert_eq!(
            ts,
            Cell::Timestamp {
                secs: 1_714_558_272,
                micros: 345_000
            }
        );
        let json = cell_from_snapshot(
            Value::Bytes(br#"{"a": [1, 2]}"#.to_vec()),
            &ColumnType::Json,
        );
        assert_eq!(json, Cell::Json(r#"{"a": [1, 2]}"#.into()));
        assert_eq!(
            cell_from_snapshot(Value::Float(16_777_217.0), &ColumnType::Float),
            Cell::Float(16_777_200.0)
        );
        assert_eq!(
            cell_from_snapshot(Value::Int(2024), &ColumnType::Year),
            Cell::Year(2024)
        );
        assert_eq!(
            cell_from_snapshot(
                Value::Time(true, 1, 2, 0, 0, 5),
                &ColumnType::Time { fsp: 6 }
            ),
            Cell::Time {
                micros: -(26 * 3_600_000_000 + 5)
            }
        );
    }

    #[test]
    fn key_values_round_trip_to_params() {
        let k = key_value(
            &Value::Bytes(vec![0, 255]),
            &ColumnType::Bytes { fixed: None },
        );
        assert_eq!(key_param(&k), Value::Bytes(vec![0, 255]));
        let k = key_value(
            &Value::Bytes(b"abc".to_vec()),
            &ColumnType::String { charset: 255 },
        );
        assert_eq!(k, KeyValue::Text("abc".into()));
        assert_eq!(key_param(&KeyValue::Int(-4)), Value::Int(-4));
    }
}
