//! Debezium-compatible change events.
//!
//! A [`RowChange`] becomes one to three Kafka records, as Debezium's MySQL
//! connector writes them:
//!
//! * insert → `op: "c"`; update → `op: "u"`; delete → `op: "d"` followed by
//!   a tombstone (same key, null value) when `tombstones.on.delete` is set;
//! * an update that changes the primary key → a delete of the old key (plus
//!   tombstone) and a create of the new key, so compacted topics keep only
//!   the live key.
//!
//! Keys and values are Kafka Connect JSON: with `schemas.enable` they are
//! `{"schema": ..., "payload": ...}` as `JsonConverter` writes them (field
//! order type, fields, optional, name, version, parameters, field), without
//! it just the payload. The schema part depends only on the table, so it is
//! rendered once per table shape and spliced into every record.
//!
//! The key bytes are what a Java producer would hash, so the partition we
//! pick with Kafka's murmur2 (see [`crate::sink::partition_for`]) is the one
//! Debezium on Kafka Connect would have picked.

mod types;

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use crate::change::{Cell, Op, RowChange, TableSchema};
use crate::config::Config;

pub use types::{civil_from_days, column_schema, days_from_civil, write_cell};

/// The `version` written in every `source` block.
pub const CONNECTOR_VERSION: &str = concat!("binlog-poller-", env!("CARGO_PKG_VERSION"));

/// A record ready for Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Topic name.
    pub topic: Arc<str>,
    /// Serialized key; `None` for tables without a primary key.
    pub key: Option<Vec<u8>>,
    /// Serialized value; `None` for a tombstone.
    pub value: Option<Vec<u8>>,
    /// Record timestamp, milliseconds since the epoch.
    pub timestamp_ms: i64,
}

impl Record {
    /// Bytes this record adds to a produce request (key and value).
    pub fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len) + self.value.as_ref().map_or(0, Vec::len)
    }
}

/// Options that shape the output, taken from [`Config`].
#[derive(Debug, Clone)]
pub struct EncoderOptions {
    /// `topic.prefix`.
    pub topic_prefix: String,
    /// `key.converter.schemas.enable`.
    pub key_schemas: bool,
    /// `value.converter.schemas.enable`.
    pub value_schemas: bool,
    /// `tombstones.on.delete`.
    pub tombstones: bool,
    /// `heartbeat.topics.prefix`.
    pub heartbeat_topics_prefix: String,
}

impl From<&Config> for EncoderOptions {
    fn from(c: &Config) -> Self {
        Self {
            topic_prefix: c.topic_prefix.clone(),
            key_schemas: c.key_schemas,
            value_schemas: c.value_schemas,
            tombstones: c.tombstones_on_delete,
            heartbeat_topics_prefix: c.heartbeat_topics_prefix.clone(),
        }
    }
}

/// Per-table pieces that do not change from record to record.
#[derive(Debug)]
struct TableCodec {
    schema: Arc<TableSchema>,
    topic: Arc<str>,
    key_schema: Option<String>,
    value_schema: String,
}

/// Turns row changes into records.
#[derive(Debug)]
pub struct EventEncoder {
    opts: EncoderOptions,
    tables: HashMap<(String, String), Arc<TableCodec>>,
    /// Pre-rendered `source` fields that never change.
    source_prefix: String,
}

impl EventEncoder {
    /// An encoder with the given options.
    pub fn new(opts: EncoderOptions) -> Self {
        let mut source_prefix = String::from("{\"version\":");
        source_prefix.push_str(&Json::from(CONNECTOR_VERSION).to_string());
        source_prefix.push_str(",\"connector\":\"mysql\",\"name\":");
        source_prefix.push_str(&Json::from(opts.topic_prefix.as_str()).to_string());
        Self {
            opts,
            tables: HashMap::new(),
            source_prefix,
        }
    }

    /// The data topic of a table: `<topic.prefix>.<db>.<table>`.
    pub fn topic_for(&self, db: &str, table: &str) -> String {
        format!("{}.{}.{}", self.opts.topic_prefix, db, table)
    }

    fn codec(&mut self, schema: &Arc<TableSchema>) -> Arc<TableCodec> {
        if let Some(c) = self.tables.get(&(schema.db.clone(), schema.table.clone())) {
            if Arc::ptr_eq(&c.schema, schema) || *c.schema == **schema {
                return Arc::clone(c);
            }
        }
        let codec = Arc::new(self.build_codec(schema));
        self.tables.insert(
            (schema.db.clone(), schema.table.clone()),
            Arc::clone(&codec),
        );
        codec
    }

    fn build_codec(&self, t: &Arc<TableSchema>) -> TableCodec {
        let base = format!("{}.{}.{}", self.opts.topic_prefix, t.db, t.table);
        let key_schema = (!t.key.is_empty()).then(|| {
            let fields: Vec<Json> = t
                .key
                .iter()
                .map(|&i| column_schema(&t.columns[i]))
                .collect();
            json!({"type": "struct", "fields": fields, "optional": false, "name": format!("{base}.Key")})
                .to_string()
        });
        let row_fields: Vec<Json> = t.columns.iter().map(column_schema).collect();
        let row = |field: &str| json!({"type": "struct", "fields": row_fields, "optional": true, "name": format!("{base}.Value"), "field": field});
        let value_schema = json!({
            "type": "struct",
            "fields": [
                row("before"),
                row("after"),
                source_schema(),
                transaction_schema(),
                {"type": "string", "optional": false, "field": "op"},
                {"type": "int64", "optional": true, "field": "ts_ms"},
                {"type": "int64", "optional": true, "field": "ts_us"},
                {"type": "int64", "optional": true, "field": "ts_ns"}
            ],
            "optional": false,
            "name": format!("{base}.Envelope"),
            "version": 2
        })
        .to_string();
        TableCodec {
            schema: Arc::clone(t),
            topic: base.into(),
            key_schema,
            value_schema,
        }
    }

    /// A Debezium heartbeat: topic `<heartbeat.topics.prefix>.<topic.prefix>`,
    /// key `io.debezium.connector.common.ServerNameKey {serverName}`, value
    /// `io.debezium.connector.common.Heartbeat {ts_ms}`.
    pub fn heartbeat(&self, ts_ms: i64) -> Record {
        let name = Json::from(self.opts.topic_prefix.as_str()).to_string();
        let key = if self.opts.key_schemas {
            format!(
                r#"{{"schema":{{"type":"struct","fields":[{{"type":"string","optional":false,"field":"serverName"}}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1}},"payload":{{"serverName":{name}}}}}"#
            )
        } else {
            format!(r#"{{"serverName":{name}}}"#)
        };
        let value = if self.opts.value_schemas {
            format!(
                r#"{{"schema":{{"type":"struct","fields":[{{"type":"int64","optional":false,"field":"ts_ms"}}],"optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1}},"payload":{{"ts_ms":{ts_ms}}}}}"#
            )
        } else {
            format!(r#"{{"ts_ms":{ts_ms}}}"#)
        };
        Record {
            topic: format!(
                "{}.{}",
                self.opts.heartbeat_topics_prefix, self.opts.topic_prefix
            )
            .into(),
            key: Some(key.into_bytes()),
            value: Some(value.into_bytes()),
            timestamp_ms: ts_ms,
        }
    }

    /// Appends the records for one change to `out`. `now_us` is the
    /// processing time (microseconds since the epoch) for `ts_ms`.
    pub fn encode(&mut self, change: &RowChange, now_us: i64, out: &mut Vec<Record>) {
        let codec = self.codec(&change.table);
        let t = &*change.table;
        match change.op {
            Op::Update => {
                let (Some(before), Some(after)) = (&change.before, &change.after) else {
                    return;
                };
                if !t.key.is_empty() && t.key.iter().any(|&i| before[i] != after[i]) {
                    // A primary-key change: Debezium emits delete + tombstone
                    // of the old key and a create of the new one.
                    self.push(
                        &codec,
                        change,
                        Op::Delete,
                        Some(before),
                        None,
                        before,
                        now_us,
                        out,
                    );
                    self.push(
                        &codec,
                        change,
                        Op::Create,
                        None,
                        Some(after),
                        after,
                        now_us,
                        out,
                    );
                } else {
                    self.push(
                        &codec,
                        change,
                        Op::Update,
                        Some(before),
                        Some(after),
                        after,
                        now_us,
                        out,
                    );
                }
            }
            Op::Delete => {
                if let Some(before) = &change.before {
                    self.push(
                        &codec,
                        change,
                        Op::Delete,
                        Some(before),
                        None,
                        before,
                        now_us,
                        out,
                    );
                }
            }
            Op::Create | Op::Read => {
                if let Some(after) = &change.after {
                    self.push(
                        &codec,
                        change,
                        change.op,
                        None,
                        Some(after),
                        after,
                        now_us,
                        out,
                    );
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &self,
        codec: &TableCodec,
        change: &RowChange,
        op: Op,
        before: Option<&[Cell]>,
        after: Option<&[Cell]>,
        key_row: &[Cell],
        now_us: i64,
        out: &mut Vec<Record>,
    ) {
        let t = &*change.table;
        let key = codec.key_schema.as_ref().map(|ks| {
            let mut buf = Vec::with_capacity(64 + if self.opts.key_schemas { ks.len() } else { 0 });
            if self.opts.key_schemas {
                buf.extend_from_slice(b"{\"schema\":");
                buf.extend_from_slice(ks.as_bytes());
                buf.extend_from_slice(b",\"payload\":");
            }
            write_row(&mut buf, t, key_row, Some(&t.key));
            if self.opts.key_schemas {
                buf.push(b'}');
            }
            buf
        });
        let mut v = Vec::with_capacity(
            256 + if self.opts.value_schemas {
                codec.value_schema.len()
            } else {
                0
            },
        );
        if self.opts.value_schemas {
            v.extend_from_slice(b"{\"schema\":");
            v.extend_from_slice(codec.value_schema.as_bytes());
            v.extend_from_slice(b",\"payload\":");
        }
        v.extend_from_slice(b"{\"before\":");
        match before {
            Some(row) => write_row(&mut v, t, row, None),
            None => v.extend_from_slice(b"null"),
        }
        v.extend_from_slice(b",\"after\":");
        match after {
            Some(row) => write_row(&mut v, t, row, None),
            None => v.extend_from_slice(b"null"),
        }
        v.extend_from_slice(b",\"source\":");
        self.write_source(&mut v, change, op);
        v.extend_from_slice(b",\"transaction\":null,\"op\":\"");
        v.extend_from_slice(op.code().as_bytes());
        let now_ms = now_us.div_euclid(1000);
        v.extend_from_slice(
            format!(
                "\",\"ts_ms\":{now_ms},\"ts_us\":{now_us},\"ts_ns\":{}}}",
                now_us.saturating_mul(1000)
            )
            .as_bytes(),
        );
        if self.opts.value_schemas {
            v.push(b'}');
        }
        let tombstone = op == Op::Delete && self.opts.tombstones && key.is_some();
        out.push(Record {
            topic: Arc::clone(&codec.topic),
            key: key.clone(),
            value: Some(v),
            timestamp_ms: now_ms,
        });
        if tombstone {
            out.push(Record {
                topic: Arc::clone(&codec.topic),
                key,
                value: None,
                timestamp_ms: now_ms,
            });
        }
    }

    fn write_source(&self, v: &mut Vec<u8>, change: &RowChange, op: Op) {
        let s = &change.source;
        let t = &*change.table;
        v.extend_from_slice(self.source_prefix.as_bytes());
        let ts_ms = i64::from(s.ts_sec) * 1000;
        let snapshot = s
            .snapshot
            .unwrap_or(if op == Op::Read { "true" } else { "false" });
        v.extend_from_slice(
            format!(
                ",\"ts_ms\":{ts_ms},\"ts_us\":{},\"ts_ns\":{},\"snapshot\":\"{snapshot}\",\"db\":",
                ts_ms * 1000,
                ts_ms * 1_000_000
            )
            .as_bytes(),
        );
        write_json_str(v, &t.db);
        v.extend_from_slice(b",\"sequence\":null,\"table\":");
        write_json_str(v, &t.table);
        v.extend_from_slice(format!(",\"server_id\":{},\"gtid\":", s.server_id).as_bytes());
        match &s.gtid {
            Some(g) => write_json_str(v, g),
            None => v.extend_from_slice(b"null"),
        }
        v.extend_from_slice(b",\"file\":");
        write_json_str(v, &s.position.file);
        v.extend_from_slice(
            format!(",\"pos\":{},\"row\":{},\"thread\":", s.position.pos, s.row).as_bytes(),
        );
        match s.thread {
            Some(th) => v.extend_from_slice(th.to_string().as_bytes()),
            None => v.extend_from_slice(b"null"),
        }
        v.extend_from_slice(b",\"query\":null}");
    }
}

/// Writes a row (or, with `only`, the listed columns) as a JSON object.
fn write_row(buf: &mut Vec<u8>, t: &TableSchema, row: &[Cell], only: Option<&[usize]>) {
    buf.push(b'{');
    let mut first = true;
    let mut one = |i: usize, buf: &mut Vec<u8>| {
        if !first {
            buf.push(b',');
        }
        first = false;
        let col = &t.columns[i];
        write_json_str(buf, &col.name);
        buf.push(b':');
        write_cell(buf, col, row.get(i).unwrap_or(&Cell::Null));
    };
    match only {
        Some(idx) => idx.iter().for_each(|&i| one(i, buf)),
        None => (0..t.columns.len()).for_each(|i| one(i, buf)),
    }
    buf.push(b'}');
}

pub(crate) fn write_json_str(buf: &mut Vec<u8>, s: &str) {
    // serde_json's string escaping is the one JsonConverter-compatible
    // consumers parse; writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, s);
}

fn source_schema() -> Json {
    let f = |ty: &str, optional: bool, name: &str| json!({"type": ty, "optional": optional, "field": name});
    json!({
        "type": "struct",
        "fields": [
            f("string", false, "version"),
            f("string", false, "connector"),
            f("string", false, "name"),
            f("int64", false, "ts_ms"),
            f("int64", true, "ts_us"),
            f("int64", true, "ts_ns"),
            {"type": "string", "optional": true, "name": "io.debezium.data.Enum", "version": 1,
             "parameters": {"allowed": "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},
             "default": "false", "field": "snapshot"},
            f("string", false, "db"),
            f("string", true, "sequence"),
            f("string", true, "table"),
            f("int64", false, "server_id"),
            f("string", true, "gtid"),
            f("string", false, "file"),
            f("int64", false, "pos"),
            f("int32", false, "row"),
            f("int64", true, "thread"),
            f("string", true, "query")
        ],
        "optional": false,
        "name": "io.debezium.connector.mysql.Source",
        "field": "source"
    })
}

fn transaction_schema() -> Json {
    json!({
        "type": "struct",
        "fields": [
            {"type": "string", "optional": false, "field": "id"},
            {"type": "int64", "optional": false, "field": "total_order"},
            {"type": "int64", "optional": false, "field": "data_collection_order"}
        ],
        "optional": true,
        "name": "event.block",
        "version": 1,
        "field": "transaction"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Column, ColumnType, SourceInfo};
    use crate::position::BinlogPosition;

    fn table() -> Arc<TableSchema> {
        Arc::new(TableSchema {
            db: "inventory".into(),
            table: "customers".into(),
            columns: vec![
                Column {
                    name: "id".into(),
                    ty: ColumnType::Int { unsigned: false },
                    nullable: false,
                },
                Column {
                    name: "email".into(),
                    ty: ColumnType::String { charset: 255 },
                    nullable: true,
                },
            ],
            key: vec![0],
        })
    }

    fn change(op: Op, before: Option<Vec<Cell>>, after: Option<Vec<Cell>>) -> RowChange {
        RowChange {
            table: table(),
            op,
            before,
            after,
            source: SourceInfo {
                position: BinlogPosition::new("mysql-bin.000003", 154),
                row: 0,
                ts_sec: 1_700_000_000,
                server_id: 1,
                gtid: None,
                thread: Some(7),
                snapshot: None,
            },
        }
    }

    fn enc(schemas: bool) -> EventEncoder {
        EventEncoder::new(EncoderOptions {
            topic_prefix: "dbserver1".into(),
            key_schemas: schemas,
            value_schemas: schemas,
            tombstones: true,
            heartbeat_topics_prefix: "__debezium-heartbeat".into(),
        })
    }

    #[test]
    fn heartbeat_has_debeziums_shape() {
        let hb = enc(true).heartbeat(1_565_787_098_802);
        assert_eq!(&*hb.topic, "__debezium-heartbeat.dbserver1");
        let key: Json = serde_json::from_slice(hb.key.as_ref().unwrap()).unwrap();
        assert_eq!(
            key["schema"]["name"],
            "io.debezium.connector.common.ServerNameKey"
        );
        assert_eq!(
            key["payload"],
            serde_json::json!({"serverName": "dbserver1"})
        );
        let value: Json = serde_json::from_slice(hb.value.as_ref().unwrap()).unwrap();
        assert_eq!(
            value["schema"]["name"],
            "io.debezium.connector.common.Heartbeat"
        );
        assert_eq!(
            value["payload"],
            serde_json::json!({"ts_ms": 1_565_787_098_802i64})
        );
        let bare = enc(false).heartbeat(7);
        assert_eq!(bare.value.as_deref(), Some(&br#"{"ts_ms":7}"#[..]));
    }

    fn parse(b: &Option<Vec<u8>>) -> Json {
        serde_json::from_slice(b.as_ref().unwrap()).unwrap()
    }

    #[test]
    fn insert_without_schemas() {
        let mut out = vec![];
        let row = vec![Cell::Int(1001), Cell::Text("a\"b@x".into())];
        enc(false).encode(
            &change(Op::Create, None, Some(row)),
            1_700_000_001_000_000,
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(&*out[0].topic, "dbserver1.inventory.customers");
        assert_eq!(out[0].key.as_deref(), Some(&b"{\"id\":1001}"[..]));
        let v = parse(&out[0].value);
        assert_eq!(v["op"], "c");
        assert_eq!(v["before"], Json::Null);
        assert_eq!(v["after"]["email"], "a\"b@x");
        assert_eq!(v["source"]["connector"], "mysql");
        assert_eq!(v["source"]["name"], "dbserver1");
        assert_eq!(v["source"]["ts_ms"], 1_700_000_000_000i64);
        assert_eq!(v["source"]["file"], "mysql-bin.000003");
        assert_eq!(v["source"]["pos"], 154);
        assert_eq!(v["source"]["snapshot"], "false");
        assert_eq!(v["ts_ms"], 1_700_000_001_000i64);
    }

    #[test]
    fn key_with_schema_matches_json_converter_bytes() {
        let mut out = vec![];
        let row = vec![Cell::Int(1001), Cell::Null];
        enc(true).encode(&change(Op::Create, None, Some(row)), 0, &mut out);
        assert_eq!(
            String::from_utf8(out[0].key.clone().unwrap()).unwrap(),
            r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"dbserver1.inventory.customers.Key"},"payload":{"id":1001}}"#
        );
        let v = parse(&out[0].value);
        assert_eq!(
            v["schema"]["name"],
            "dbserver1.inventory.customers.Envelope"
        );
        assert_eq!(v["schema"]["fields"][0]["field"], "before");
        assert_eq!(v["schema"]["fields"][1]["fields"][1]["optional"], true);
        assert_eq!(v["payload"]["after"]["email"], Json::Null);
    }

    #[test]
    fn delete_is_followed_by_tombstone() {
        let mut out = vec![];
        let row = vec![Cell::Int(5), Cell::Null];
        enc(false).encode(&change(Op::Delete, Some(row), None), 0, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(parse(&out[0].value)["op"], "d");
        assert_eq!(out[1].value, None);
        assert_eq!(out[1].key, out[0].key);
    }

    #[test]
    fn primary_key_change_is_delete_tombstone_create() {
        let mut out = vec![];
        let before = vec![Cell::Int(1), Cell::Null];
        let after = vec![Cell::Int(2), Cell::Null];
        enc(false).encode(&change(Op::Update, Some(before), Some(after)), 0, &mut out);
        let ops: Vec<_> = out
            .iter()
            .map(|r| {
                r.value
                    .as_ref()
                    .map(|_| parse(&r.value)["op"].as_str().unwrap().to_string())
            })
            .collect();
        assert_eq!(ops, vec![Some("d".into()), None, Some("c".into())]);
        assert_eq!(out[0].key.as_deref(), Some(&b"{\"id\":1}"[..]));
        assert_eq!(out[2].key.as_deref(), Some(&b"{\"id\":2}"[..]));
    }

    #[test]
    fn table_without_key_has_null_key_and_no_tombstone() {
        let mut t = (*table()).clone();
        t.key.clear();
        let mut c = change(Op::Delete, Some(vec![Cell::Int(5), Cell::Null]), None);
        c.table = Arc::new(t);
        let mut out = vec![];
        enc(false).encode(&c, 0, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].key, None);
    }
}
