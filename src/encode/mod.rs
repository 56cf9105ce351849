//! Debezium-compatible change events.
//!
//! A [`RowChange`] becomes one to three Kafka records, as Debezium's MySQL
//! connector writes them:
//!
//! * insert → `op: "c"`; update → `op: "u"`; delete → `op: "d"` followed by
//!   a tombstone (same key, null value) when `tombstones.on.delete` is set;
//! * an update that changes the key → a delete of the old key (plus
//!   tombstone) and a create of the new key, so compacted topics keep only
//!   the live key.
//!
//! Keys and values are Kafka Connect JSON: with `schemas.enable` they are
//! `{"schema": ..., "payload": ...}` as `JsonConverter` writes them, without
//! it just the payload. The schema part depends only on the table (and the
//! column rules), so it is rendered once per table shape ([`TableCodec`])
//! and spliced into every record.
//!
//! Besides row events the encoder writes Debezium's other record kinds:
//! schema changes on `<topic.prefix>` ([`EventEncoder::schema_change`]),
//! transaction BEGIN/END on `<topic.prefix>.transaction`
//! ([`EventEncoder::tx_begin`], [`EventEncoder::tx_end`]) with the
//! `transaction` block in every data event ([`TxCounter`]), and heartbeats.
//!
//! The key bytes are what a Java producer would hash, so the partition we
//! pick with Kafka's murmur2 (see [`crate::sink::partition_for`]) is the one
//! Debezium on Kafka Connect would have picked.

mod codec;
mod envelope;
mod options;
#[cfg(test)]
mod round_trip;
#[cfg(test)]
mod tests;
mod types;

pub use options::*;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use crate::model::{Cell, Op, RowChange, SchemaChange, TableSchema, TxCounter};

pub use codec::TableCodec;
pub(crate) use envelope::write_json_str;
pub(crate) use types::column_schema;

use codec::{schema_params, shape_for, write_row, Half, Shape};
use envelope::{schema_change_value_schema, source_schema, transaction_schema, wrap};

/// The `version` written in every `source` block.
pub const CONNECTOR_VERSION: &str = concat!("binlog-poller-", env!("CARGO_PKG_VERSION"));

/// Record headers, in order; a `None` value is a null header.
pub type Headers = Vec<(String, Option<Vec<u8>>)>;

/// A record ready for Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Topic name.
    pub topic: Arc<str>,
    /// Serialized key; `None` for tables without a primary key.
    pub key: Option<Vec<u8>>,
    /// Serialized value; `None` for a tombstone.
    pub value: Option<Vec<u8>>,
    /// Headers, in order; a `None` value is a null header. Only transforms
    /// add them (`add.headers`).
    pub headers: Headers,
    /// Record timestamp, milliseconds since the epoch.
    pub timestamp_ms: i64,
}

impl Record {
    /// Bytes this record adds to a produce request (key and value).
    pub fn size(&self) -> usize {
        self.key.as_ref().map_or(0, Vec::len)
            + self.value.as_ref().map_or(0, Vec::len)
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
                .sum::<usize>()
    }
}

/// One half of a key change: operation, before, after, the row its key comes from.
/// Turns row changes into records.
#[derive(Debug)]
pub struct EventEncoder {
    opts: EncoderOptions,
    tables: HashMap<(String, String), Arc<TableCodec>>,
    /// The codec used last: consecutive rows of one table (the common case)
    /// find it without hashing or cloning the table's name.
    last: Option<Arc<TableCodec>>,
    /// Pre-rendered `source` fields that never change.
    source_prefix: String,
    tx_topic: Arc<str>,
    schema_topic: Arc<str>,
}

impl EventEncoder {
    /// An encoder with the given options.
    pub fn new(opts: EncoderOptions) -> Self {
        let mut source_prefix = String::from("{\"version\":");
        source_prefix.push_str(&Json::from(CONNECTOR_VERSION).to_string());
        source_prefix.push_str(",\"connector\":\"mysql\",\"name\":");
        source_prefix.push_str(&Json::from(opts.topic_prefix.as_str()).to_string());
        Self {
            tx_topic: format!("{}.transaction", opts.topic_prefix).into(),
            schema_topic: opts.topic_prefix.as_str().into(),
            opts,
            tables: HashMap::new(),
            last: None,
            source_prefix,
        }
    }

    /// The data topic of a table: `<topic.prefix>.<db>.<table>`.
    pub fn topic_for(&self, db: &str, table: &str) -> String {
        format!("{}.{}.{}", self.opts.topic_prefix, db, table)
    }

    /// The codec of a table shape (built once per shape).
    pub fn codec(&mut self, schema: &Arc<TableSchema>) -> Arc<TableCodec> {
        if let Some(c) = self
            .last
            .as_ref()
            .filter(|c| Arc::ptr_eq(&c.schema, schema))
        {
            return Arc::clone(c);
        }
        let codec = match self.tables.get(&(schema.db.clone(), schema.table.clone())) {
            Some(c) if Arc::ptr_eq(&c.schema, schema) || *c.schema == **schema => Arc::clone(c),
            _ => {
                let codec = Arc::new(self.build_codec(schema));
                self.tables.insert(
                    (schema.db.clone(), schema.table.clone()),
                    Arc::clone(&codec),
                );
                codec
            }
        };
        self.last = Some(Arc::clone(&codec));
        codec
    }

    /// Whether `change` is an update that moves its row to another record
    /// key (so a consumer sees a delete of the old key).
    pub fn changes_key(&mut self, change: &RowChange) -> bool {
        match (&change.before, &change.after) {
            (Some(before), Some(after)) if change.op == Op::Update => {
                self.codec(&change.table).changes_key(before, after)
            }
            _ => false,
        }
    }

    fn build_codec(&self, t: &Arc<TableSchema>) -> TableCodec {
        let rules = &self.opts.columns;
        let base = format!("{}.{}.{}", self.opts.topic_prefix, t.db, t.table);
        let data_collection = format!("{}.{}", t.db, t.table);
        let key = match rules.key_for(&data_collection) {
            Some(names) => {
                let found: Vec<usize> = names
                    .iter()
                    .filter_map(|n| {
                        t.columns
                            .iter()
                            .position(|c| c.name.eq_ignore_ascii_case(n))
                    })
                    .collect();
                if found.len() == names.len() {
                    found
                } else {
                    tracing::warn!(table = %data_collection, "message.key.columns names a column the table does not have; using the primary key");
                    t.key.clone()
                }
            }
            None => t.key.clone(),
        };
        let mut cols: Vec<(usize, Shape)> = Vec::with_capacity(t.columns.len());
        let mut fields = Vec::with_capacity(t.columns.len());
        let mut field_of = HashMap::new();
        let mut defaults = vec![None; t.columns.len()];
        for (i, c) in t.columns.iter().enumerate() {
            let qualified = format!("{data_collection}.{}", c.name);
            let shape = shape_for(rules, &qualified, c);
            let params = schema_params(rules, &qualified, c, &shape);
            let f = column_schema(c, &self.opts.types, params);
            defaults[i] = f.get("default").map(Json::to_string);
            field_of.insert(i, f.clone());
            // An excluded key column stays in the key, as in Debezium.
            if rules.keeps(&qualified) {
                fields.push(f);
                cols.push((i, shape));
            }
        }
        let key_schema = (!key.is_empty()).then(|| {
            let kf: Vec<Json> = key.iter().map(|i| field_of[i].clone()).collect();
            json!({"type": "struct", "fields": kf, "optional": false, "name": format!("{base}.Key")})
                .to_string()
        });
        let row = |field: &str| json!({"type": "struct", "fields": fields, "optional": true, "name": format!("{base}.Value"), "field": field});
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
        let key = key
            .into_iter()
            .map(|i| {
                let shape = cols
                    .iter()
                    .find(|(c, _)| *c == i)
                    .map_or(Shape::Plain, |(_, s)| s.clone());
                (i, shape)
            })
            .collect();
        TableCodec {
            schema: Arc::clone(t),
            topic: base.into(),
            data_collection: data_collection.into(),
            key,
            cols,
            key_schema,
            value_schema,
            defaults,
            value_hint: Default::default(),
        }
    }

    /// A Debezium heartbeat: topic `<heartbeat.topics.prefix>.<topic.prefix>`,
    /// key `io.debezium.connector.common.ServerNameKey {serverName}`, value
    /// `io.debezium.connector.common.Heartbeat {ts_ms}`.
    pub fn heartbeat(&self, ts_ms: i64) -> Record {
        let name = Json::from(self.opts.topic_prefix.as_str()).to_string();
        let key = self.wrap_key(
            r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1}"#,
            &format!(r#"{{"serverName":{name}}}"#),
        );
        let value = self.wrap_value(
            r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.Heartbeat","version":1}"#,
            &format!(r#"{{"ts_ms":{ts_ms}}}"#),
        );
        Record {
            topic: format!(
                "{}.{}",
                self.opts.heartbeat_topics_prefix, self.opts.topic_prefix
            )
            .into(),
            key: Some(key),
            value: Some(value),
            headers: Vec::new(),
            timestamp_ms: ts_ms,
        }
    }

    fn wrap_key(&self, schema: &str, payload: &str) -> Vec<u8> {
        wrap(self.opts.key_schemas, schema, payload)
    }

    fn wrap_value(&self, schema: &str, payload: &str) -> Vec<u8> {
        wrap(self.opts.value_schemas, schema, payload)
    }

    /// The BEGIN record of a transaction on `<topic.prefix>.transaction`.
    pub fn tx_begin(&self, tx: &TxCounter) -> Record {
        self.tx_record(tx, "BEGIN", "null", "null")
    }

    /// The END record of a transaction, with its event counts.
    pub fn tx_end(&self, tx: &TxCounter) -> Record {
        let collections: Vec<Json> = tx
            .per_table
            .iter()
            .map(|(c, n)| json!({"data_collection": c, "event_count": n}))
            .collect();
        self.tx_record(
            tx,
            "END",
            &tx.total.to_string(),
            &Json::Array(collections).to_string(),
        )
    }

    fn tx_record(&self, tx: &TxCounter, status: &str, count: &str, collections: &str) -> Record {
        let id = Json::from(tx.id.as_str()).to_string();
        let key = self.wrap_key(
            r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"}],"optional":false,"name":"io.debezium.connector.common.TransactionMetadataKey","version":1}"#,
            &format!(r#"{{"id":{id}}}"#),
        );
        let value = self.wrap_value(
            r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"status"},{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":true,"field":"event_count"},{"type":"array","items":{"type":"struct","fields":[{"type":"string","optional":false,"field":"data_collection"},{"type":"int64","optional":false,"field":"event_count"}],"optional":false,"name":"event.collection","version":1},"optional":true,"field":"data_collections"},{"type":"int64","optional":false,"field":"ts_ms"}],"optional":false,"name":"io.debezium.connector.common.TransactionMetadataValue","version":1}"#,
            &format!(
                r#"{{"status":"{status}","id":{id},"event_count":{count},"data_collections":{collections},"ts_ms":{}}}"#,
                tx.ts_ms
            ),
        );
        Record {
            topic: Arc::clone(&self.tx_topic),
            key: Some(key),
            value: Some(value),
            headers: Vec::new(),
            timestamp_ms: tx.ts_ms,
        }
    }

    /// A schema change event on `<topic.prefix>`: key
    /// `io.debezium.connector.mysql.SchemaChangeKey {databaseName}`, value
    /// `io.debezium.connector.mysql.SchemaChangeValue {source, ts_ms,
    /// databaseName, schemaName, ddl, tableChanges}`.
    pub fn schema_change(&self, change: &SchemaChange, now_us: i64) -> Record {
        let db = Json::from(change.database.as_str()).to_string();
        let key = self.wrap_key(
            r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"databaseName"}],"optional":false,"name":"io.debezium.connector.mysql.SchemaChangeKey","version":1}"#,
            &format!(r#"{{"databaseName":{db}}}"#),
        );
        let mut payload = Vec::with_capacity(512 + change.ddl.len());
        payload.extend_from_slice(b"{\"source\":");
        self.write_source_parts(
            &mut payload,
            &change.source,
            change.source.snapshot.unwrap_or("false"),
            &change.database,
            change.table.as_deref(),
        );
        let now_ms = now_us.div_euclid(1000);
        payload.extend_from_slice(
            format!(",\"ts_ms\":{now_ms},\"databaseName\":{db},\"schemaName\":null,\"ddl\":")
                .as_bytes(),
        );
        write_json_str(&mut payload, &change.ddl);
        payload.extend_from_slice(b",\"tableChanges\":");
        payload.extend_from_slice(
            Json::Array(change.table_changes.clone())
                .to_string()
                .as_bytes(),
        );
        payload.push(b'}');
        static VALUE_SCHEMA: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(schema_change_value_schema);
        let value = self.wrap_value(
            &VALUE_SCHEMA,
            std::str::from_utf8(&payload).unwrap_or_default(),
        );
        Record {
            topic: Arc::clone(&self.schema_topic),
            key: Some(key),
            value: Some(value),
            headers: Vec::new(),
            timestamp_ms: now_ms,
        }
    }

    /// Whether `skipped.operations` drops this change.
    pub fn skips(&self, op: Op) -> bool {
        let s = &self.opts.skipped;
        match op {
            Op::Create => s.create,
            Op::Update => s.update,
            Op::Delete => s.delete,
            Op::Truncate => s.truncate,
            Op::Read => false,
        }
    }

    /// Appends the records for one change to `out`. `now_us` is the
    /// processing time (microseconds since the epoch) for `ts_ms`. With
    /// `tx` (transaction metadata on), a BEGIN record precedes the
    /// transaction's first data event and every data event carries the
    /// `transaction` block.
    pub fn encode(
        &mut self,
        change: &RowChange,
        now_us: i64,
        mut tx: Option<&mut TxCounter>,
        out: &mut Vec<Record>,
    ) {
        if self.skips(change.op) {
            return;
        }
        let codec = self.codec(&change.table);
        if let Some(t) = tx.as_deref_mut() {
            if !t.begun {
                t.begun = true;
                if t.ts_ms == 0 {
                    t.ts_ms = i64::from(change.source.ts_sec) * 1000;
                }
                out.push(self.tx_begin(t));
            }
        }
        match change.op {
            Op::Update => {
                let (Some(before), Some(after)) = (&change.before, &change.after) else {
                    return;
                };
                if codec.changes_key(before, after) {
                    // A key change: Debezium emits delete + tombstone of the
                    // old key and a create of the new one; the delete and
                    // its tombstone carry the new key in a header
                    // `__debezium.newkey`, the create the old one in
                    // `__debezium.oldkey` (as Kafka Connect's
                    // SimpleHeaderConverter writes a struct: its JSON).
                    let parts: [Half<'_>; 2] = [
                        (Op::Delete, Some(before), None, before),
                        (Op::Create, None, Some(after), after),
                    ];
                    for (op, b, a, k) in parts {
                        let block = tx.as_deref_mut().map(|t| t.next(&codec.data_collection));
                        let from = out.len();
                        self.push(
                            &codec,
                            change,
                            op,
                            b,
                            a,
                            k,
                            block,
                            tx.as_deref(),
                            now_us,
                            out,
                        );
                        let (name, other) = match op {
                            Op::Delete => ("__debezium.newkey", after),
                            _ => ("__debezium.oldkey", before),
                        };
                        let mut text = Vec::new();
                        let defaults = if self.opts.key_replace_null_with_default {
                            &codec.defaults[..]
                        } else {
                            &[][..]
                        };
                        let key_cols = codec.key.iter().map(|(i, s)| (*i, s));
                        write_row(
                            &mut text,
                            &change.table,
                            other,
                            key_cols,
                            &self.opts.types,
                            defaults,
                        );
                        for r in &mut out[from..] {
                            r.headers.push((name.to_string(), Some(text.clone())));
                        }
                    }
                } else {
                    let block = tx.as_deref_mut().map(|t| t.next(&codec.data_collection));
                    self.push(
                        &codec,
                        change,
                        Op::Update,
                        Some(before),
                        Some(after),
                        after,
                        block,
                        tx.as_deref(),
                        now_us,
                        out,
                    );
                }
            }
            Op::Delete => {
                if let Some(before) = &change.before {
                    let block = tx.as_deref_mut().map(|t| t.next(&codec.data_collection));
                    self.push(
                        &codec,
                        change,
                        Op::Delete,
                        Some(before),
                        None,
                        before,
                        block,
                        tx.as_deref(),
                        now_us,
                        out,
                    );
                }
            }
            Op::Truncate => {
                // Key-less, before and after null, as Debezium's `t` events.
                let block = tx.as_deref_mut().map(|t| t.next(&codec.data_collection));
                self.push(
                    &codec,
                    change,
                    Op::Truncate,
                    None,
                    None,
                    &[],
                    block,
                    tx.as_deref(),
                    now_us,
                    out,
                );
            }
            Op::Create | Op::Read => {
                if let Some(after) = &change.after {
                    let block = tx.as_deref_mut().map(|t| t.next(&codec.data_collection));
                    self.push(
                        &codec,
                        change,
                        change.op,
                        None,
                        Some(after),
                        after,
                        block,
                        tx.as_deref(),
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
        block: Option<(u64, u64)>,
        tx: Option<&TxCounter>,
        now_us: i64,
        out: &mut Vec<Record>,
    ) {
        let t = &*change.table;
        let read_types = TypeOptions {
            snapshot_read: true,
            ..self.opts.types
        };
        let types = if op == Op::Read {
            &read_types
        } else {
            &self.opts.types
        };
        let pick = |on: bool| if on { &codec.defaults[..] } else { &[][..] };
        let key_defaults = pick(self.opts.key_replace_null_with_default);
        let value_defaults = pick(self.opts.replace_null_with_default);
        // A truncate concerns the whole table: no key.
        let key = codec
            .key_schema
            .as_ref()
            .filter(|_| op != Op::Truncate)
            .map(|ks| {
                let mut buf =
                    Vec::with_capacity(64 + if self.opts.key_schemas { ks.len() } else { 0 });
                if self.opts.key_schemas {
                    buf.extend_from_slice(b"{\"schema\":");
                    buf.extend_from_slice(ks.as_bytes());
                    buf.extend_from_slice(b",\"payload\":");
                }
                let key_cols = codec.key.iter().map(|(i, s)| (*i, s));
                write_row(&mut buf, t, key_row, key_cols, types, key_defaults);
                if self.opts.key_schemas {
                    buf.push(b'}');
                }
                buf
            });
        let hint = &codec.value_hint[match op {
            Op::Update => 1,
            Op::Delete => 2,
            _ => 0,
        }];
        let last = hint.load(Ordering::Relaxed);
        let mut v = Vec::with_capacity(if last > 0 {
            // Slack for a longer string or number than last time.
            last + 64
        } else {
            256 + if self.opts.value_schemas {
                codec.value_schema.len()
            } else {
                0
            }
        });
        if self.opts.value_schemas {
            v.extend_from_slice(b"{\"schema\":");
            v.extend_from_slice(codec.value_schema.as_bytes());
            v.extend_from_slice(b",\"payload\":");
        }
        let all = || codec.cols.iter().map(|(i, s)| (*i, s));
        v.extend_from_slice(b"{\"before\":");
        match before {
            Some(row) => write_row(&mut v, t, row, all(), types, value_defaults),
            None => v.extend_from_slice(b"null"),
        }
        v.extend_from_slice(b",\"after\":");
        match after {
            Some(row) => write_row(&mut v, t, row, all(), types, value_defaults),
            None => v.extend_from_slice(b"null"),
        }
        v.extend_from_slice(b",\"source\":");
        self.write_source(&mut v, change, op);
        v.extend_from_slice(b",\"transaction\":");
        match (block, tx) {
            (Some((total, per)), Some(tx)) => {
                v.extend_from_slice(b"{\"id\":");
                write_json_str(&mut v, &tx.id);
                v.extend_from_slice(
                    format!(",\"total_order\":{total},\"data_collection_order\":{per}}}")
                        .as_bytes(),
                );
            }
            _ => v.extend_from_slice(b"null"),
        }
        v.extend_from_slice(b",\"op\":\"");
        v.extend_from_slice(op.code().as_bytes());
        let now_ms = now_us.div_euclid(1000);
        // Straight into the buffer: `io::Write` for a `Vec` cannot fail.
        let _ = std::io::Write::write_fmt(
            &mut v,
            format_args!(
                "\",\"ts_ms\":{now_ms},\"ts_us\":{now_us},\"ts_ns\":{}}}",
                now_us.saturating_mul(1000)
            ),
        );
        if self.opts.value_schemas {
            v.push(b'}');
        }
        // Debezium writes a tombstone after a delete in a keyless table too
        // (with a null key).
        let tombstone = op == Op::Delete && self.opts.tombstones;
        hint.store(v.len(), Ordering::Relaxed);
        let (key, tombstone_key) = if tombstone {
            (key.clone(), Some(key))
        } else {
            (key, None)
        };
        out.push(Record {
            topic: Arc::clone(&codec.topic),
            key,
            value: Some(v),
            headers: Vec::new(),
            timestamp_ms: now_ms,
        });
        if let Some(key) = tombstone_key {
            out.push(Record {
                topic: Arc::clone(&codec.topic),
                key,
                value: None,
                headers: Vec::new(),
                timestamp_ms: now_ms,
            });
        }
    }

    fn write_source(&self, v: &mut Vec<u8>, change: &RowChange, op: Op) {
        let snapshot =
            change
                .source
                .snapshot
                .unwrap_or(if op == Op::Read { "true" } else { "false" });
        self.write_source_parts(
            v,
            &change.source,
            snapshot,
            &change.table.db,
            Some(&change.table.table),
        );
    }

    fn write_source_parts(
        &self,
        v: &mut Vec<u8>,
        s: &crate::model::SourceInfo,
        snapshot: &str,
        db: &str,
        table: Option<&str>,
    ) {
        v.extend_from_slice(self.source_prefix.as_bytes());
        let ts_ms = i64::from(s.ts_sec) * 1000;
        v.extend_from_slice(
            format!(",\"ts_ms\":{ts_ms},\"snapshot\":\"{snapshot}\",\"db\":").as_bytes(),
        );
        write_json_str(v, db);
        v.extend_from_slice(
            format!(
                ",\"sequence\":null,\"ts_us\":{},\"ts_ns\":{},\"table\":",
                ts_ms * 1000,
                ts_ms * 1_000_000
            )
            .as_bytes(),
        );
        match table {
            Some(t) => write_json_str(v, t),
            None => v.extend_from_slice(b"null"),
        }
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
        v.extend_from_slice(b",\"query\":");
        match &s.query {
            Some(q) => write_json_str(v, q),
            None => v.extend_from_slice(b"null"),
        }
        v.push(b'}');
    }
}
