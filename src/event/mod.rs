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

mod types;

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use crate::change::{Cell, Column, ColumnType, Op, RowChange, SchemaChange, TableSchema};
use crate::config::{ColumnMask, ColumnRules, Config, HashAlgorithm, SkippedOps};

pub use types::{
    civil_from_days, column_schema, days_from_civil, java_double, java_float, write_cell,
    TypeOptions,
};

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
    /// Type-mapping modes.
    pub types: TypeOptions,
    /// Column filters, masks and key overrides.
    pub columns: ColumnRules,
    /// `skipped.operations`.
    pub skipped: SkippedOps,
}

impl From<&Config> for EncoderOptions {
    fn from(c: &Config) -> Self {
        Self {
            topic_prefix: c.topic_prefix.clone(),
            key_schemas: c.key_schemas,
            value_schemas: c.value_schemas,
            tombstones: c.tombstones_on_delete,
            heartbeat_topics_prefix: c.heartbeat_topics_prefix.clone(),
            types: TypeOptions::from(c),
            columns: c.columns.clone(),
            skipped: c.skipped_operations,
        }
    }
}

impl EncoderOptions {
    /// Debezium's defaults for `topic_prefix`, for tests and tools.
    pub fn new(topic_prefix: &str) -> Self {
        Self {
            topic_prefix: topic_prefix.into(),
            key_schemas: true,
            value_schemas: true,
            tombstones: true,
            heartbeat_topics_prefix: "__debezium-heartbeat".into(),
            types: TypeOptions::default(),
            columns: ColumnRules::default(),
            skipped: SkippedOps {
                truncate: true,
                ..SkippedOps::default()
            },
        }
    }
}

/// One half of a key change: operation, before, after, the row its key comes from.
type Half<'a> = (Op, Option<&'a [Cell]>, Option<&'a [Cell]>, &'a [Cell]);

/// How one emitted column's value is rewritten.
#[derive(Debug, Clone)]
enum Shape {
    /// As it is.
    Plain,
    /// `column.mask.with.N.chars`: this fixed text.
    Fixed(String),
    /// `column.mask.hash.*`: hex digest of salt ‖ value, cut to `max_chars`.
    Hash {
        algorithm: HashAlgorithm,
        salt: String,
        max_chars: Option<usize>,
    },
    /// `column.truncate.to.N.chars`.
    Truncate(usize),
}

/// Per-table pieces that do not change from record to record: which
/// columns are emitted and how, the key, the rendered schemas.
#[derive(Debug)]
pub struct TableCodec {
    schema: Arc<TableSchema>,
    topic: Arc<str>,
    /// `db.table`, Debezium's data collection id.
    data_collection: Arc<str>,
    /// Key columns (the primary key or `message.key.columns`) with the
    /// shaping their value gets (an excluded key column is written as is).
    key: Vec<(usize, Shape)>,
    /// Emitted columns, in table order.
    cols: Vec<(usize, Shape)>,
    key_schema: Option<String>,
    value_schema: String,
}

/// Transaction bookkeeping for `provide.transaction.metadata`: the
/// transaction's id and how many data events it produced, in total and
/// per table. Kept in the checkpoint for a partly published transaction so
/// the orders continue where they stopped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TxCounter {
    /// Debezium's transaction id: the GTID, else `<file>_<pos>` of its start.
    pub id: String,
    /// Transaction timestamp, ms since the epoch.
    #[serde(default)]
    pub ts_ms: i64,
    /// Whether BEGIN was emitted (it is emitted before the first data event).
    #[serde(default)]
    pub begun: bool,
    /// Data events so far.
    #[serde(default)]
    pub total: u64,
    /// Data events so far per `db.table`, in order of first appearance.
    #[serde(default)]
    pub per_table: Vec<(String, u64)>,
}

impl TxCounter {
    /// A new transaction.
    pub fn new(id: String, ts_ms: i64) -> Self {
        Self {
            id,
            ts_ms,
            ..Self::default()
        }
    }

    /// Counts one event of `collection`; returns (total_order, data_collection_order).
    fn next(&mut self, collection: &str) -> (u64, u64) {
        self.total += 1;
        let n = match self.per_table.iter_mut().find(|(c, _)| c == collection) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.per_table.push((collection.to_string(), 1));
                1
            }
        };
        (self.total, n)
    }
}

/// Turns row changes into records.
#[derive(Debug)]
pub struct EventEncoder {
    opts: EncoderOptions,
    tables: HashMap<(String, String), Arc<TableCodec>>,
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
            source_prefix,
        }
    }

    /// The data topic of a table: `<topic.prefix>.<db>.<table>`.
    pub fn topic_for(&self, db: &str, table: &str) -> String {
        format!("{}.{}.{}", self.opts.topic_prefix, db, table)
    }

    /// The codec of a table shape (built once per shape).
    pub fn codec(&mut self, schema: &Arc<TableSchema>) -> Arc<TableCodec> {
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
        for (i, c) in t.columns.iter().enumerate() {
            let qualified = format!("{data_collection}.{}", c.name);
            let shape = shape_for(rules, &qualified, c);
            let params = schema_params(rules, &qualified, c, &shape);
            let f = column_schema(c, &self.opts.types, params);
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
            "false",
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
        let value = self.wrap_value(
            &schema_change_value_schema(),
            std::str::from_utf8(&payload).unwrap_or_default(),
        );
        Record {
            topic: Arc::clone(&self.schema_topic),
            key: Some(key),
            value: Some(value),
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
                if !codec.key.is_empty() && codec.key.iter().any(|(i, _)| before[*i] != after[*i]) {
                    // A key change: Debezium emits delete + tombstone of the
                    // old key and a create of the new one.
                    let parts: [Half<'_>; 2] = [
                        (Op::Delete, Some(before), None, before),
                        (Op::Create, None, Some(after), after),
                    ];
                    for (op, b, a, k) in parts {
                        let block = tx.as_deref_mut().map(|t| t.next(&codec.data_collection));
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
        let types = &self.opts.types;
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
                write_row(&mut buf, t, key_row, key_cols, types);
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
        let all = || codec.cols.iter().map(|(i, s)| (*i, s));
        v.extend_from_slice(b"{\"before\":");
        match before {
            Some(row) => write_row(&mut v, t, row, all(), types),
            None => v.extend_from_slice(b"null"),
        }
        v.extend_from_slice(b",\"after\":");
        match after {
            Some(row) => write_row(&mut v, t, row, all(), types),
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
        s: &crate::change::SourceInfo,
        snapshot: &str,
        db: &str,
        table: Option<&str>,
    ) {
        v.extend_from_slice(self.source_prefix.as_bytes());
        let ts_ms = i64::from(s.ts_sec) * 1000;
        v.extend_from_slice(
            format!(
                ",\"ts_ms\":{ts_ms},\"ts_us\":{},\"ts_ns\":{},\"snapshot\":\"{snapshot}\",\"db\":",
                ts_ms * 1000,
                ts_ms * 1_000_000
            )
            .as_bytes(),
        );
        write_json_str(v, db);
        v.extend_from_slice(b",\"sequence\":null,\"table\":");
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

impl TableCodec {
    /// The key column names, for messages (never their values).
    pub fn key_columns(&self) -> Vec<&str> {
        self.key
            .iter()
            .map(|(i, _)| self.schema.columns[*i].name.as_str())
            .collect()
    }
}

fn wrap(schemas: bool, schema: &str, payload: &str) -> Vec<u8> {
    if schemas {
        format!(r#"{{"schema":{schema},"payload":{payload}}}"#).into_bytes()
    } else {
        payload.as_bytes().to_vec()
    }
}

fn is_text(c: &Column) -> bool {
    matches!(c.ty, ColumnType::String { .. })
}

/// The shaping rule of a column (masks before truncation, as Debezium's
/// column mappers are consulted in that order).
fn shape_for(rules: &ColumnRules, qualified: &str, c: &Column) -> Shape {
    if !is_text(c) {
        return Shape::Plain;
    }
    if let Some((_, mask)) = rules.masks.iter().find(|(p, _)| p.matches(qualified)) {
        return match mask {
            ColumnMask::Stars(n) => Shape::Fixed("*".repeat(*n)),
            ColumnMask::Hash { algorithm, salt } => Shape::Hash {
                algorithm: *algorithm,
                salt: salt.clone(),
                max_chars: c.source.length.map(|l| l as usize).filter(|l| *l > 0),
            },
        };
    }
    match rules.truncates.iter().find(|(p, _)| p.matches(qualified)) {
        Some((_, n)) => Shape::Truncate(*n),
        None => Shape::Plain,
    }
}

/// Extra schema parameters: `masked` for masked columns, and the
/// `__debezium.source.column.*` parameters of `column.propagate.source.type`
/// / `datatype.propagate.source.type`.
fn schema_params(
    rules: &ColumnRules,
    qualified: &str,
    c: &Column,
    shape: &Shape,
) -> Option<Map<String, Json>> {
    let mut m = Map::new();
    if matches!(shape, Shape::Fixed(_) | Shape::Hash { .. }) {
        m.insert("masked".into(), "true".into());
    }
    let propagate = rules
        .propagate_source_type
        .as_ref()
        .is_some_and(|p| p.matches(qualified))
        || rules
            .propagate_datatype
            .as_ref()
            .is_some_and(|p| !c.source.name.is_empty() && p.matches(&c.source.name));
    if propagate && !c.source.name.is_empty() {
        m.insert(
            "__debezium.source.column.type".into(),
            c.source.name.clone().into(),
        );
        if let Some(l) = c.source.length {
            m.insert(
                "__debezium.source.column.length".into(),
                l.to_string().into(),
            );
        }
        if let Some(s) = c.source.scale {
            m.insert(
                "__debezium.source.column.scale".into(),
                s.to_string().into(),
            );
        }
    }
    (!m.is_empty()).then_some(m)
}

/// Writes the listed columns of a row as a JSON object.
fn write_row<'a>(
    buf: &mut Vec<u8>,
    t: &TableSchema,
    row: &[Cell],
    cols: impl Iterator<Item = (usize, &'a Shape)>,
    types: &TypeOptions,
) {
    buf.push(b'{');
    let mut first = true;
    for (i, shape) in cols {
        if !first {
            buf.push(b',');
        }
        first = false;
        let col = &t.columns[i];
        write_json_str(buf, &col.name);
        buf.push(b':');
        let cell = row.get(i).unwrap_or(&Cell::Null);
        match (shape, cell) {
            (Shape::Plain, _) | (_, Cell::Null) => write_cell(buf, col, cell, types),
            (Shape::Fixed(text), _) => write_json_str(buf, text),
            (
                Shape::Hash {
                    algorithm,
                    salt,
                    max_chars,
                },
                Cell::Text(s),
            ) => {
                let mut h = hash_hex(*algorithm, salt.as_bytes(), s.as_bytes());
                if let Some(n) = max_chars {
                    h.truncate(*n);
                }
                write_json_str(buf, &h);
            }
            (Shape::Truncate(n), Cell::Text(s)) => {
                // Java's substring counts UTF-16 units; characters are the
                // same for everything outside the astral planes.
                match s.char_indices().nth(*n) {
                    Some((at, _)) => write_json_str(buf, &s[..at]),
                    None => write_json_str(buf, s),
                }
            }
            _ => write_cell(buf, col, cell, types),
        }
    }
    buf.push(b'}');
}

/// Hex digest of `salt ‖ value`, as Debezium's `MaskStrings` hashing.
fn hash_hex(algorithm: HashAlgorithm, salt: &[u8], value: &[u8]) -> String {
    fn run<D: sha2::Digest>(salt: &[u8], value: &[u8]) -> Vec<u8> {
        let mut d = D::new();
        d.update(salt);
        d.update(value);
        d.finalize().to_vec()
    }
    let digest = match algorithm {
        HashAlgorithm::Sha1 => run::<sha1::Sha1>(salt, value),
        HashAlgorithm::Sha256 => run::<sha2::Sha256>(salt, value),
        HashAlgorithm::Sha384 => run::<sha2::Sha384>(salt, value),
        HashAlgorithm::Sha512 => run::<sha2::Sha512>(salt, value),
    };
    digest.iter().map(|b| format!("{b:02x}")).collect()
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

/// Debezium's `SchemaChangeValue` schema (`SchemaFactory`), rendered once.
fn schema_change_value_schema() -> String {
    let f = |ty: &str, optional: bool, name: &str| json!({"type": ty, "optional": optional, "field": name});
    let column = json!({
        "type": "struct",
        "fields": [
            f("string", false, "name"), f("int32", false, "jdbcType"), f("int32", true, "nativeType"),
            f("string", false, "typeName"), f("string", true, "typeExpression"), f("string", true, "charsetName"),
            f("int32", true, "length"), f("int32", true, "scale"), f("int32", false, "position"),
            f("boolean", true, "optional"), f("boolean", true, "autoIncremented"), f("boolean", true, "generated"),
            f("string", true, "comment"), f("string", true, "defaultValueExpression"),
            {"type": "array", "items": {"type": "string", "optional": false}, "optional": true, "field": "enumValues"}
        ],
        "optional": false,
        "name": "io.debezium.connector.schema.Column",
        "version": 1
    });
    let table = json!({
        "type": "struct",
        "fields": [
            f("string", true, "defaultCharsetName"),
            {"type": "array", "items": {"type": "string", "optional": false}, "optional": true, "field": "primaryKeyColumnNames"},
            {"type": "array", "items": column, "optional": false, "field": "columns"},
            f("string", true, "comment")
        ],
        "optional": true,
        "name": "io.debezium.connector.schema.Table",
        "version": 1,
        "field": "table"
    });
    let mut source = source_schema();
    source["field"] = "source".into();
    json!({
        "type": "struct",
        "fields": [
            source,
            f("int64", false, "ts_ms"),
            f("string", true, "databaseName"),
            f("string", true, "schemaName"),
            f("string", true, "ddl"),
            {"type": "array", "items": {
                "type": "struct",
                "fields": [f("string", false, "type"), f("string", false, "id"), table],
                "optional": false,
                "name": "io.debezium.connector.schema.Change",
                "version": 1
            }, "optional": false, "field": "tableChanges"}
        ],
        "optional": false,
        "name": "io.debezium.connector.mysql.SchemaChangeValue",
        "version": 1
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::SourceInfo;
    use crate::position::BinlogPosition;

    fn table() -> Arc<TableSchema> {
        Arc::new(TableSchema {
            db: "inventory".into(),
            table: "customers".into(),
            columns: vec![
                Column::new("id", ColumnType::Int { unsigned: false }, false),
                Column::new("email", ColumnType::String { charset: 255 }, true),
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
                query: None,
            },
        }
    }

    fn enc(schemas: bool) -> EventEncoder {
        let mut o = EncoderOptions::new("dbserver1");
        o.key_schemas = schemas;
        o.value_schemas = schemas;
        EventEncoder::new(o)
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
            None,
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
        enc(true).encode(&change(Op::Create, None, Some(row)), 0, None, &mut out);
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
        enc(false).encode(&change(Op::Delete, Some(row), None), 0, None, &mut out);
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
        enc(false).encode(
            &change(Op::Update, Some(before), Some(after)),
            0,
            None,
            &mut out,
        );
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
        enc(false).encode(&c, 0, None, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].key, None);
    }
}

/// Round trip: random rows of random column types, under random type modes,
/// through the encoder and back from the JSON to the values inserted.
#[cfg(test)]
mod round_trip {
    use super::*;
    use crate::change::SourceInfo;
    use crate::config::{BigIntUnsignedMode, BinaryMode, DecimalMode, TimePrecisionMode};
    use crate::position::BinlogPosition;
    use base64::Engine as _;
    use proptest::prelude::*;

    const LABELS: [&str; 4] = ["a", "bé", "c d", "x'y"];

    fn arb_date() -> impl Strategy<Value = (u16, u8, u8)> {
        (1u16..=9999, 1u8..=12, 1u8..=28)
    }

    /// A column type and a value of it, as the decoders produce them.
    fn arb_cell() -> impl Strategy<Value = (ColumnType, Cell)> {
        prop_oneof![
            (-128i64..=127).prop_map(|v| (ColumnType::TinyInt { unsigned: false }, Cell::Int(v))),
            (0u64..=255).prop_map(|v| (ColumnType::TinyInt { unsigned: true }, Cell::UInt(v))),
            (-32768i64..=32767)
                .prop_map(|v| (ColumnType::SmallInt { unsigned: false }, Cell::Int(v))),
            (0u64..=65535).prop_map(|v| (ColumnType::SmallInt { unsigned: true }, Cell::UInt(v))),
            (-8388608i64..=8388607)
                .prop_map(|v| (ColumnType::MediumInt { unsigned: false }, Cell::Int(v))),
            any::<i32>()
                .prop_map(|v| (ColumnType::Int { unsigned: false }, Cell::Int(i64::from(v)))),
            any::<u32>()
                .prop_map(|v| (ColumnType::Int { unsigned: true }, Cell::UInt(u64::from(v)))),
            any::<i64>().prop_map(|v| (ColumnType::BigInt { unsigned: false }, Cell::Int(v))),
            any::<u64>().prop_map(|v| (ColumnType::BigInt { unsigned: true }, Cell::UInt(v))),
            any::<f32>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|v| (ColumnType::Float, Cell::Float(v))),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|v| (ColumnType::Double, Cell::Double(v))),
            (1u8..=30, 0u8..=10, any::<i64>()).prop_map(|(p, s, raw)| {
                let s = s.min(p);
                let limit = 10i128.pow(u32::from(p.min(18)));
                let unscaled = i128::from(raw) % limit;
                (
                    ColumnType::Decimal {
                        precision: p,
                        scale: s,
                    },
                    Cell::Decimal(decimal_text(unscaled, s)),
                )
            }),
            ".{0,12}".prop_map(|v| (ColumnType::String { charset: 255 }, Cell::Text(v))),
            proptest::collection::vec(any::<u8>(), 0..12)
                .prop_map(|v| (ColumnType::Bytes { fixed: None }, Cell::Bytes(v))),
            arb_date()
                .prop_map(|(year, month, day)| (ColumnType::Date, Cell::Date { year, month, day })),
            (
                arb_date(),
                0u8..24,
                0u8..60,
                0u8..60,
                0u32..1_000_000,
                0u8..=6
            )
                .prop_map(|((year, month, day), hour, minute, second, micros, fsp)| {
                    let micros = truncate_micros(micros, fsp);
                    (
                        ColumnType::DateTime { fsp },
                        Cell::DateTime {
                            year,
                            month,
                            day,
                            hour,
                            minute,
                            second,
                            micros,
                        },
                    )
                }),
            (1i64..2_147_483_647, 0u32..1_000_000, 0u8..=6).prop_map(|(secs, micros, fsp)| {
                (
                    ColumnType::Timestamp { fsp },
                    Cell::Timestamp {
                        secs,
                        micros: truncate_micros(micros, fsp),
                    },
                )
            }),
            (-3_020_399_000_000i64..=3_020_399_000_000).prop_map(|v| {
                // Millisecond-exact, so connect mode keeps it too.
                (
                    ColumnType::Time { fsp: 6 },
                    Cell::Time {
                        micros: v - v % 1000,
                    },
                )
            }),
            (1901u16..=2155).prop_map(|y| (ColumnType::Year, Cell::Year(y))),
            (1u16..=4).prop_map(|i| (
                ColumnType::Enum {
                    values: LABELS.iter().map(|s| s.to_string()).collect()
                },
                Cell::Enum(i)
            )),
            (0u64..16).prop_map(|bits| (
                ColumnType::Set {
                    values: LABELS.iter().map(|s| s.to_string()).collect()
                },
                Cell::Set(bits)
            )),
            (2u16..=64, any::<u64>()).prop_map(|(n, v)| {
                let v = if n == 64 { v } else { v & ((1u64 << n) - 1) };
                let width = usize::from(n.div_ceil(8));
                let be = v.to_be_bytes()[8 - width..].to_vec();
                (ColumnType::Bit { bits: n }, Cell::Bytes(be))
            }),
            (any::<i32>(), any::<i32>(), 0u32..5000).prop_map(|(x, y, srid)| {
                let mut b = srid.to_le_bytes().to_vec();
                b.push(1);
                b.extend_from_slice(&1u32.to_le_bytes());
                b.extend_from_slice(&f64::from(x).to_le_bytes());
                b.extend_from_slice(&f64::from(y).to_le_bytes());
                (ColumnType::Point, Cell::Bytes(b))
            }),
        ]
    }

    fn truncate_micros(micros: u32, fsp: u8) -> u32 {
        let unit = 10u32.pow(6 - u32::from(fsp.min(6)));
        micros - micros % unit
    }

    fn decimal_text(unscaled: i128, scale: u8) -> String {
        let digits = format!(
            "{:0>width$}",
            unscaled.unsigned_abs(),
            width = usize::from(scale) + 1
        );
        let (i, f) = digits.split_at(digits.len() - usize::from(scale));
        let sign = if unscaled < 0 { "-" } else { "" };
        if scale == 0 {
            format!("{sign}{i}")
        } else {
            format!("{sign}{i}.{f}")
        }
    }

    fn arb_modes() -> impl Strategy<Value = TypeOptions> {
        (0..3u8, any::<bool>(), 0..4u8, any::<bool>()).prop_map(|(d, b, bin, t)| TypeOptions {
            decimal: [
                DecimalMode::Precise,
                DecimalMode::String,
                DecimalMode::Double,
            ][usize::from(d)],
            bigint_unsigned: if b {
                BigIntUnsignedMode::Precise
            } else {
                BigIntUnsignedMode::Long
            },
            binary: [
                BinaryMode::Bytes,
                BinaryMode::Base64,
                BinaryMode::Base64UrlSafe,
                BinaryMode::Hex,
            ][usize::from(bin)],
            time: if t {
                TimePrecisionMode::Connect
            } else {
                TimePrecisionMode::AdaptiveTimeMicroseconds
            },
        })
    }

    fn b64(s: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(s).unwrap()
    }

    fn big_int(bytes: &[u8]) -> i128 {
        let mut v: i128 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
        for &b in bytes {
            v = (v << 8) | i128::from(b);
        }
        v
    }

    /// What a consumer reads back from the JSON, as the cell it came from.
    fn decode(ty: &ColumnType, v: &Json, o: &TypeOptions) -> Cell {
        let connect = o.time == TimePrecisionMode::Connect;
        match ty {
            ColumnType::BigInt { unsigned: true } => match o.bigint_unsigned {
                BigIntUnsignedMode::Long => Cell::UInt(v.as_i64().unwrap() as u64),
                BigIntUnsignedMode::Precise => {
                    Cell::UInt(big_int(&b64(v.as_str().unwrap())) as u64)
                }
            },
            t if t.is_unsigned() => Cell::UInt(v.as_u64().unwrap()),
            ColumnType::TinyInt { .. }
            | ColumnType::SmallInt { .. }
            | ColumnType::MediumInt { .. }
            | ColumnType::Int { .. }
            | ColumnType::BigInt { .. } => Cell::Int(v.as_i64().unwrap()),
            ColumnType::Float => Cell::Float(v.as_f64().unwrap() as f32),
            ColumnType::Double => Cell::Double(v.as_f64().unwrap()),
            ColumnType::Decimal { scale, .. } => Cell::Decimal(match o.decimal {
                DecimalMode::Precise => decimal_text(big_int(&b64(v.as_str().unwrap())), *scale),
                DecimalMode::String => v.as_str().unwrap().to_string(),
                // A double keeps 15-17 significant digits; compare through it.
                DecimalMode::Double => format!("{:.*}", usize::from(*scale), v.as_f64().unwrap()),
            }),
            ColumnType::String { .. } => Cell::Text(v.as_str().unwrap().to_string()),
            ColumnType::Bytes { .. } => {
                let s = v.as_str().unwrap();
                Cell::Bytes(match o.binary {
                    BinaryMode::Bytes | BinaryMode::Base64 => b64(s),
                    BinaryMode::Base64UrlSafe => {
                        base64::engine::general_purpose::URL_SAFE.decode(s).unwrap()
                    }
                    BinaryMode::Hex => (0..s.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                        .collect(),
                })
            }
            ColumnType::Date => {
                let (y, m, d) = civil_from_days(v.as_i64().unwrap());
                Cell::Date {
                    year: y as u16,
                    month: m as u8,
                    day: d as u8,
                }
            }
            ColumnType::DateTime { fsp } => {
                let us = if connect || *fsp <= 3 {
                    v.as_i64().unwrap() * 1000
                } else {
                    v.as_i64().unwrap()
                };
                let (days, rem) = (us.div_euclid(86_400_000_000), us.rem_euclid(86_400_000_000));
                let (y, m, d) = civil_from_days(days);
                Cell::DateTime {
                    year: y as u16,
                    month: m as u8,
                    day: d as u8,
                    hour: (rem / 3_600_000_000) as u8,
                    minute: (rem / 60_000_000 % 60) as u8,
                    second: (rem / 1_000_000 % 60) as u8,
                    micros: (rem % 1_000_000) as u32,
                }
            }
            ColumnType::Timestamp { .. } => {
                let s = v.as_str().unwrap().strip_suffix('Z').unwrap();
                let (date, time) = s.split_once('T').unwrap();
                let p: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
                let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
                let t: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
                let days = days_from_civil(p[0], p[1] as u32, p[2] as u32);
                Cell::Timestamp {
                    secs: days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2],
                    micros: format!("{frac:0<6}").parse().unwrap(),
                }
            }
            ColumnType::Time { .. } => Cell::Time {
                micros: if connect {
                    v.as_i64().unwrap() * 1000
                } else {
                    v.as_i64().unwrap()
                },
            },
            ColumnType::Year => Cell::Year(v.as_u64().unwrap() as u16),
            ColumnType::Enum { values } => Cell::Enum(
                values
                    .iter()
                    .position(|l| l == v.as_str().unwrap())
                    .unwrap() as u16
                    + 1,
            ),
            ColumnType::Set { values } => {
                let s = v.as_str().unwrap();
                let mut bits = 0u64;
                for (i, l) in values.iter().enumerate() {
                    if !s.is_empty() && s.split(',').any(|x| x == l) {
                        bits |= 1 << i;
                    }
                }
                Cell::Set(bits)
            }
            ColumnType::Bit { bits } => {
                let le = b64(v.as_str().unwrap());
                assert_eq!(
                    le.len(),
                    usize::from(bits.div_ceil(8)),
                    "padded to the column"
                );
                Cell::Bytes(le.into_iter().rev().collect())
            }
            ColumnType::Point => {
                let mut b = (v["srid"].as_u64().unwrap_or(0) as u32)
                    .to_le_bytes()
                    .to_vec();
                let wkb = b64(v["wkb"].as_str().unwrap());
                assert_eq!(
                    f64::from_le_bytes(wkb[5..13].try_into().unwrap()),
                    v["x"].as_f64().unwrap()
                );
                b.extend(wkb);
                Cell::Bytes(b)
            }
            other => panic!("not generated: {other:?}"),
        }
    }

    /// The inserted value as the decoder can see it (modes that lose
    /// precision by design are compared at the precision they keep).
    fn expected(ty: &ColumnType, cell: &Cell, o: &TypeOptions) -> Cell {
        match (ty, cell, o.decimal) {
            (ColumnType::Decimal { scale, .. }, Cell::Decimal(s), DecimalMode::Double) => {
                Cell::Decimal(format!(
                    "{:.*}",
                    usize::from(*scale),
                    s.parse::<f64>().unwrap()
                ))
            }
            (
                ColumnType::DateTime { .. },
                Cell::DateTime {
                    micros,
                    year,
                    month,
                    day,
                    hour,
                    minute,
                    second,
                },
                _,
            ) if o.time == TimePrecisionMode::Connect => Cell::DateTime {
                micros: micros - micros % 1000,
                year: *year,
                month: *month,
                day: *day,
                hour: *hour,
                minute: *minute,
                second: *second,
            },
            _ => cell.clone(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn random_rows_round_trip(row in proptest::collection::vec(arb_cell(), 1..12), modes in arb_modes(), schemas in any::<bool>()) {
            let mut columns = vec![Column::new("id", ColumnType::Int { unsigned: false }, false)];
            let mut cells = vec![Cell::Int(1)];
            for (i, (ty, cell)) in row.iter().enumerate() {
                columns.push(Column::new(format!("c{i}"), ty.clone(), true));
                cells.push(cell.clone());
            }
            let table = Arc::new(TableSchema { db: "d".into(), table: "t".into(), columns, key: vec![0] });
            let mut o = EncoderOptions::new("p");
            o.types = modes;
            o.value_schemas = schemas;
            let mut enc = EventEncoder::new(o);
            let change = RowChange {
                table: Arc::clone(&table),
                op: Op::Create,
                before: None,
                after: Some(cells),
                source: SourceInfo {
                    position: BinlogPosition::new("b.000001", 4), row: 0, ts_sec: 0, server_id: 1,
                    gtid: None, thread: None, snapshot: None, query: None,
                },
            };
            let mut out = Vec::new();
            enc.encode(&change, 0, None, &mut out);
            let v: Json = serde_json::from_slice(out[0].value.as_ref().unwrap()).unwrap();
            let after = if schemas { &v["payload"]["after"] } else { &v["after"] };
            for (i, (ty, cell)) in row.iter().enumerate() {
                let got = decode(ty, &after[format!("c{i}")], &modes);
                prop_assert_eq!(got, expected(ty, cell, &modes), "column c{} of type {:?}", i, ty);
            }
        }
    }
}
