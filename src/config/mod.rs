//! Configuration: a Debezium connector registration JSON.
//!
//! Users bring the JSON they `POST` to Kafka Connect today:
//!
//! ```json
//! {"name": "inventory", "config": {"connector.class": "io.debezium.connector.mysql.MySqlConnector",
//!   "database.hostname": "db", "database.user": "cdc", "database.password": "${env:DB_PASSWORD}",
//!   "topic.prefix": "dbserver1", "kafka.bootstrap.servers": "broker:9092"}}
//! ```
//!
//! Debezium keys keep their meaning and defaults; our own keys (Kafka
//! producer, offsets, poll budget) are added under `kafka.*`, `offset.*` and
//! `poll.*`. Values may be JSON strings, numbers or booleans (Kafka Connect
//! accepts all three). `${env:NAME}` is replaced by the environment variable.
//!
//! [`Config::from_json`] never stops at the first problem: every unknown key
//! (with the nearest known key as a suggestion), every missing required key
//! and every unparsable value is reported at once in [`ConfigProblems`].
//! Every key of Debezium 3.x's MySQL connector (and the Kafka Connect keys a
//! registration carries, and Debezium 1.x's old names) is handled one way:
//! read, or accepted and logged at warn as meaningless here with the reason
//! (schema history, JDBC pass-through, worker tuning), or refused with why
//! and what to use instead (single message transforms, custom converters),
//! so a registration JSON works unchanged or says exactly why not.
//!
//! ## Layout
//! * [`Config`] and the small types of its fields live here;
//! * `parse`: [`Config::from_json`], one section of keys after another;
//! * `reader`: the key reader. It records every key the parser asks for, so
//!   the unknown keys are simply the ones nobody asked for and no table
//!   (`keys`) ignores or refuses;
//! * `keys`: the ignored and refused keys, with their reasons;
//! * `kafka`: transport security and SASL (with JAAS lines);
//! * `filters`: which databases and tables are captured;
//! * `load`: files, the environment and `${secretsmanager:...}` references.

mod filters;
mod kafka;
mod keys;
mod load;
mod parse;
mod reader;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_registration;
mod transforms;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

pub use crate::error::ConfigProblems;
pub use crate::model::pattern::Patterns;
pub use filters::TableFilter;
pub use kafka::{KafkaProtocol, KafkaSasl, KafkaSecurity, SaslMechanism};
pub use transforms::{
    DeleteMode, FieldRef, PredicateKind, TransformKind, TransformStage, UnwrapOptions,
    SUPPORTED_PREDICATES, SUPPORTED_TRANSFORMS,
};

use crate::encode::{
    BigIntUnsignedMode, BinaryMode, ColumnRules, DecimalMode, EncoderOptions, SkippedOps,
    TimePrecisionMode, TypeOptions,
};

/// Debezium's `snapshot.mode`, with its old names accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Snapshot once when there is no offset, then stream.
    Initial,
    /// Snapshot once, then stop.
    InitialOnly,
    /// Snapshot when there is no offset or the offset was purged.
    WhenNeeded,
    /// Capture schemas only, then stream from the current position.
    NoData,
    /// Rebuild schema history from the current schemas.
    Recovery,
    /// Never snapshot; a new connector starts at the current end of the log.
    Never,
    /// Snapshot on every start.
    Always,
}

impl SnapshotMode {
    /// Debezium's (current) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::InitialOnly => "initial_only",
            Self::WhenNeeded => "when_needed",
            Self::NoData => "no_data",
            Self::Recovery => "recovery",
            Self::Never => "never",
            Self::Always => "always",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "initial" => Self::Initial,
            "initial_only" => Self::InitialOnly,
            "when_needed" => Self::WhenNeeded,
            "no_data" | "schema_only" => Self::NoData,
            "recovery" | "schema_only_recovery" => Self::Recovery,
            "never" => Self::Never,
            "always" => Self::Always,
            _ => return None,
        })
    }
}

/// Debezium's `snapshot.locking.mode`, in the poller's terms.
///
/// Debezium's modes decide how long it holds MySQL's global read lock. The
/// poller never takes a global lock (RDS and Aurora refuse `FLUSH TABLES
/// WITH READ LOCK`): each snapshot chunk is read under a short `LOCK TABLES
/// t READ`, which fixes the chunk's binlog position (see `source::snapshot`).
/// The mode therefore only says whether the user asked for more or less
/// locking than that; the per-chunk table lock is taken in every mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotLockingMode {
    /// `minimal`, the default (also Debezium's `minimal_percona` and
    /// `minimal_at_least_once`, which differ only in the global lock):
    /// the per-chunk table lock.
    Minimal,
    /// `extended`: Debezium blocks every write for the whole snapshot, for
    /// clients whose changes REPEATABLE READ does not isolate. Nothing more
    /// is needed here: the table lock already makes each chunk exactly the
    /// table's state at its binlog position, whatever other clients do.
    Extended,
    /// `none` (also `minimal_percona_no_table_locks`): accepted with a
    /// warning, and the per-chunk table lock is still taken: without it a
    /// chunk could not be placed in the binlog stream without loss (fail
    /// closed). `custom` is refused.
    None,
}

/// Where records go (`sink.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkType {
    /// Kafka, through rskafka.
    Kafka,
    /// One JSON line per record on stdout (`kafka.*` keys then optional).
    Stdout,
}

/// Kafka record batch compression (`kafka.compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Compression {
    /// Every codec, in the order `kafka.compression.type` lists them.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// The name `kafka.compression.type` takes.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// Whether this build has the codec: each is a cargo feature
    /// (`compression-<name>`), all on by default.
    pub fn compiled_in(self) -> bool {
        match self {
            Compression::None => true,
            Compression::Gzip => cfg!(feature = "compression-gzip"),
            Compression::Snappy => cfg!(feature = "compression-snappy"),
            Compression::Lz4 => cfg!(feature = "compression-lz4"),
            Compression::Zstd => cfg!(feature = "compression-zstd"),
        }
    }
}

/// `database.ssl.mode`, Debezium's names and MySQL's `--ssl-mode` meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plaintext only.
    Disabled,
    /// TLS when the server offers it, unverified; plaintext otherwise.
    Preferred,
    /// TLS, unverified (encryption without authentication).
    Required,
    /// TLS with the server certificate verified against the CA.
    VerifyCa,
    /// As `VerifyCa`, and the certificate must name `database.hostname`.
    VerifyIdentity,
}

impl SslMode {
    /// The configured name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Preferred => "preferred",
            Self::Required => "required",
            Self::VerifyCa => "verify_ca",
            Self::VerifyIdentity => "verify_identity",
        }
    }
}

/// `database.iam.auth=true`: RDS IAM database authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamAuth {
    /// `database.iam.region`; default from the RDS host name, else the AWS
    /// chain's region.
    pub region: Option<String>,
}

/// The RDS resource behind the database (`rds.cluster.identifier` or
/// `rds.instance.identifier`, with `rds.region`): the preflight reads its
/// settings from the RDS API, and without `database.hostname` its writer
/// endpoint is looked up at each cold start ([`Config::load`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdsTarget {
    pub resource: crate::platform::rds::RdsResource,
    /// `rds.region`; default the AWS chain's (`AWS_REGION`).
    pub region: Option<String>,
    /// Whether `hostname` and `port` came from the RDS API rather than
    /// the config.
    pub discovered: bool,
}

/// `event.processing.failure.handling.mode`: what a value that cannot be
/// decoded or a record above the broker's limit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureMode {
    /// Stop the poll with an error naming the event; nothing is checkpointed past it.
    Fail,
    /// Log a warning naming the event (never its values) and skip it.
    Warn,
    /// Skip it, counted in the poll summary and logged.
    Skip,
}

/// Where offsets live (`offset.storage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffsetStorage {
    /// A DynamoDB table (Lambda deployments).
    DynamoDb {
        /// Table name.
        table: String,
        /// Endpoint override (moto, DynamoDB Local); `None` uses AWS.
        endpoint: Option<String>,
        /// Region override; `None` uses the default AWS chain.
        region: Option<String>,
    },
    /// A local JSON file (CLI).
    File {
        /// Path of the offsets file.
        path: String,
    },
}

/// How long a lease lasts unless renewed, by default
/// (`offset.lease.ttl.ms`). A poll renews it every third of that while it
/// works (`pipeline::poll`), so a live poller keeps it however long its
/// sends take, and a poller that died (SIGKILL, a frozen Lambda) is
/// replaced within this time, not after its whole budget.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(10);

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Connector name (the registration's `name`); keys the offset store.
    pub name: String,
    /// `database.hostname`.
    pub hostname: String,
    /// `database.port`; default 3306, MySQL's port.
    pub port: u16,
    /// `database.user`.
    pub user: String,
    /// `database.password`; never logged.
    pub password: Secret,
    /// `database.server.id`: our replica id on the server, unique among its
    /// replicas. Default: derived from the connector name in 5400..6400
    /// (Debezium's random range), so restarts keep the same id.
    pub server_id: u32,
    /// `topic.prefix` (old name `database.server.name`).
    pub topic_prefix: String,
    /// Table selection.
    pub filter: TableFilter,
    /// `snapshot.mode`; default `initial`, as Debezium.
    pub snapshot_mode: SnapshotMode,
    /// `snapshot.locking.mode` (Debezium 1.x: `snapshot.locking.minimal`,
    /// true for `minimal`, false for `extended`); default `minimal`, as
    /// Debezium. Every mode reads each chunk under its table lock.
    pub snapshot_locking_mode: SnapshotLockingMode,
    /// `tombstones.on.delete`; default true, as Debezium, so log compaction
    /// can drop deleted keys.
    pub tombstones_on_delete: bool,
    /// `key.converter.schemas.enable`; default true, as Kafka's JsonConverter.
    pub key_schemas: bool,
    /// `value.converter.schemas.enable`; default true, as JsonConverter.
    pub value_schemas: bool,
    /// `value.converter.replace.null.with.default`: Kafka's JsonConverter
    /// option (Kafka 3.x+) deciding whether a null value of an optional field
    /// whose schema has a default is written as that default (true) or as
    /// null (false). Default true, JsonConverter's default, which is what a
    /// Debezium deployment with JsonConverter produces unless told otherwise.
    pub replace_null_with_default: bool,
    /// `key.converter.replace.null.with.default`: the same for keys; default
    /// true. A separate field because `message.key.columns` can put nullable
    /// columns with defaults into a key (primary key columns are never null),
    /// though in practice keys rarely meet the case.
    pub key_replace_null_with_default: bool,
    /// `kafka.bootstrap.servers`: `host:port` list.
    pub kafka_bootstrap: Vec<String>,
    /// `sink.type`: `kafka` (default) or `stdout`, one JSON line per record
    /// `{"topic","partition","key","value"}`, for a look at the events
    /// without a broker (Debezium Server's `debezium.sink.type`).
    pub sink: SinkType,
    /// `kafka.compression.type`; default none (the broker may recompress).
    pub compression: Compression,
    /// `kafka.request.timeout.ms`; default 30 s, Kafka's producer default.
    pub kafka_timeout: Duration,
    /// `kafka.max.request.size`; default 1 MiB, Kafka's `message.max.bytes`.
    pub kafka_max_record_bytes: usize,
    /// `topic.creation.default.partitions`; default 1, as Kafka Connect's
    /// topic creation for Debezium examples.
    pub partitions: i32,
    /// `topic.creation.default.replication.factor`; default -1 (the broker's
    /// `default.replication.factor`, KIP-464).
    pub replication_factor: i16,
    /// `offset.storage`, with its table or file.
    pub offsets: OffsetStorage,
    /// `offset.flush.interval.ms`: the longest time between checkpoints
    /// inside one poll; default 10 s. Each poll also checkpoints at its end.
    pub offset_flush_interval: Duration,
    /// `offset.lease.ttl.ms`: how long a poll's lease lasts unless renewed
    /// (a working poll renews it every third of that); default
    /// [`DEFAULT_LEASE_TTL`], so a poller that died is replaced within
    /// seconds while a renewal can be late by a few seconds without losing
    /// the lease.
    pub lease_ttl: Duration,
    /// `poll.max.duration.ms`: a poll's time budget; default 60 s. The
    /// Lambda function lowers it to its deadline minus a margin.
    pub poll_max_duration: Duration,
    /// `poll.max.events`: row changes per poll; default unlimited (the time
    /// budget bounds the poll).
    pub poll_max_events: Option<u64>,
    /// `poll.interval.ms`: pause between polls in `run` without `--once`;
    /// default 1 s.
    pub poll_interval: Duration,
    /// `max.batch.size`: records sent to Kafka per flush; default 8192
    /// (memory stays bounded by this times the record size).
    pub max_batch_records: usize,
    /// `connect.timeout.ms`: MySQL connect and query timeout; default 30 s,
    /// Debezium's.
    pub connect_timeout: Duration,
    /// `snapshot.fetch.size` (or `incremental.snapshot.chunk.size`): rows per
    /// snapshot chunk, read under one table lock; default 4096, which keeps
    /// the lock to milliseconds while the per-chunk overhead stays small.
    pub snapshot_chunk_size: usize,
    /// `snapshot.lock.timeout.ms`: how long a chunk waits for its table lock
    /// before it is left to a later poll; default 10 s, Debezium's.
    pub snapshot_lock_timeout: Duration,
    /// `snapshot.include.collection.list`: tables (regexes over `db.table`)
    /// a snapshot reads; default all captured tables.
    pub snapshot_include: Option<Patterns>,
    /// `snapshot.select.statement.overrides.<db>.<table>`: the SELECT a
    /// snapshot reads that table with (listed in
    /// `snapshot.select.statement.overrides`).
    pub snapshot_overrides: BTreeMap<String, String>,
    /// `transforms` (with `predicates`): the single message transforms
    /// applied to every record, in order; none by default, as Kafka Connect.
    pub transforms: Vec<TransformStage>,
    /// `heartbeat.interval.ms`: emit a Debezium heartbeat at most this
    /// often; default off (0), as Debezium. Consumers use heartbeats to see
    /// the connector alive when the captured tables are quiet.
    pub heartbeat_interval: Option<Duration>,
    /// `heartbeat.topics.prefix`: heartbeats go to `<prefix>.<topic.prefix>`;
    /// default `__debezium-heartbeat`, Debezium's.
    pub heartbeat_topics_prefix: String,
    /// `database.ssl.mode`; default `preferred`, as Debezium and MySQL's
    /// clients (TLS whenever the server offers it). Use `verify_identity`
    /// for anything not on loopback.
    pub ssl_mode: SslMode,
    /// `database.ssl.ca`: CA certificates (PEM), a file path or the PEM
    /// itself; default the public web roots, which do not include RDS's CA.
    pub ssl_ca: Option<String>,
    /// `database.ssl.cert` / `database.ssl.key`: a client certificate and its
    /// key (PEM path or inline), for servers that require one; default none.
    pub ssl_client: Option<(String, Secret)>,
    /// `database.iam.auth`: log in with an RDS IAM database auth token
    /// instead of `database.password`; default false. Tokens are signed for
    /// every new connection (they live 15 minutes) with the default AWS
    /// credential chain, and sent over TLS with the cleartext plugin.
    /// `database.iam.region` names the region when `database.hostname` is
    /// not an RDS endpoint name (default: from the host name, else
    /// `AWS_REGION`).
    pub iam_auth: Option<IamAuth>,
    /// `rds.cluster.identifier` / `rds.instance.identifier` / `rds.region`;
    /// default none (a MySQL server that is not RDS, or RDS named only by
    /// its endpoint: the preflight then checks SQL alone).
    pub rds: Option<RdsTarget>,
    /// Kafka transport security and authentication.
    pub kafka_security: KafkaSecurity,
    /// `decimal.handling.mode`; default `precise`, Debezium's (exact).
    pub decimal_mode: DecimalMode,
    /// `bigint.unsigned.handling.mode`; default `long`, Debezium's.
    pub bigint_unsigned_mode: BigIntUnsignedMode,
    /// `binary.handling.mode`; default `bytes`, Debezium's.
    pub binary_mode: BinaryMode,
    /// `time.precision.mode`; default `adaptive_time_microseconds`,
    /// Debezium's for MySQL (no precision lost).
    pub time_precision_mode: TimePrecisionMode,
    /// `include.schema.changes`; default true, as Debezium: DDL is published
    /// to the `<topic.prefix>` topic.
    pub include_schema_changes: bool,
    /// `include.schema.comments`; default false, as Debezium: the
    /// `comment` of tables and columns in schema change events is null
    /// unless set.
    pub include_schema_comments: bool,
    /// `schema.history.internal.store.only.captured.tables.ddl` (Debezium 1.x:
    /// `database.history.store.only.captured.tables.ddl`): the schema change
    /// topic gets only the DDL of captured tables (true) rather than of every
    /// table of the server (false): the schema snapshot of an initial
    /// snapshot, and DDL while streaming. Default false, as Debezium, so a
    /// table added to the filters later already has its structure on the
    /// topic.
    pub store_only_captured_tables_ddl: bool,
    /// `schema.history.internal.store.only.captured.databases.ddl` (1.x:
    /// `database.history.store.only.captured.databases.ddl`): the schema
    /// change topic gets only the DDL of captured databases (true) rather
    /// than of every database on the server (false). Default false, as
    /// Debezium's MySQL connector.
    pub store_only_captured_databases_ddl: bool,
    /// `provide.transaction.metadata`; default false, as Debezium (it adds a
    /// topic and a block to every event).
    pub provide_transaction_metadata: bool,
    /// `include.query`; default false, as Debezium (the SQL may hold values
    /// and needs `binlog_rows_query_log_events=ON`).
    pub include_query: bool,
    /// `skipped.operations`; default `t`, as Debezium.
    pub skipped_operations: SkippedOps,
    /// `event.processing.failure.handling.mode`; default `fail`, as Debezium:
    /// nothing is dropped unless the user says so.
    pub failure_mode: FailureMode,
    /// Column filters, masks, truncation, key overrides.
    pub columns: ColumnRules,
    /// Values resolved from Secrets Manager, hidden from printed errors.
    pub redactor: crate::platform::secrets::Redactor,
}

/// A value that must never be printed.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself, for handing to a driver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"********\"")
    }
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
            replace_null_with_default: c.replace_null_with_default,
            key_replace_null_with_default: c.key_replace_null_with_default,
        }
    }
}

impl From<&Config> for TypeOptions {
    fn from(c: &Config) -> Self {
        Self {
            decimal: c.decimal_mode,
            bigint_unsigned: c.bigint_unsigned_mode,
            binary: c.binary_mode,
            time: c.time_precision_mode,
            snapshot_read: false,
        }
    }
}
