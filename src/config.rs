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
//! Debezium keys that only make sense inside Kafka Connect (schema history
//! topics, converters' class names) are accepted and logged as ignored, so a
//! registration JSON works unchanged.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use regex::Regex;
use serde_json::Value as Json;

/// Every problem found in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblems(pub Vec<String>);

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration ({} problem", self.0.len())?;
        if self.0.len() != 1 {
            f.write_str("s")?;
        }
        f.write_str("):")?;
        for p in &self.0 {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigProblems {}

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

/// Kafka record batch compression (`kafka.compression.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
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

/// `kafka.security.protocol`, Kafka's names and meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaProtocol {
    /// No TLS, no authentication (Kafka's default).
    Plaintext,
    /// TLS, no SASL.
    Ssl,
    /// SASL without TLS.
    SaslPlaintext,
    /// SASL over TLS (MSK's SCRAM and IAM listeners).
    SaslSsl,
}

impl KafkaProtocol {
    /// The configured name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl => "SSL",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
        }
    }
    /// Whether the connection is TLS.
    pub fn tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }
    /// Whether the connection authenticates with SASL.
    pub fn sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// `kafka.sasl.mechanism`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    /// `PLAIN`: user and password in the clear (use with SASL_SSL).
    Plain,
    /// `SCRAM-SHA-256`.
    ScramSha256,
    /// `SCRAM-SHA-512` (MSK's SCRAM).
    ScramSha512,
    /// `AWS_MSK_IAM`: an MSK IAM token over SASL/OAUTHBEARER.
    AwsMskIam,
}

impl SaslMechanism {
    /// The configured name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::AwsMskIam => "AWS_MSK_IAM",
        }
    }
}

/// How to reach Kafka: transport and authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSecurity {
    /// `kafka.security.protocol`; default `PLAINTEXT`, Kafka's default
    /// (MSK: `SASL_SSL` on port 9096 for SCRAM, 9098 for IAM; `SSL` on 9094).
    pub protocol: KafkaProtocol,
    /// `kafka.ssl.ca`: CA certificates (PEM path or inline) for the brokers'
    /// certificates; default the public web roots, which sign MSK's.
    pub ssl_ca: Option<String>,
    /// `kafka.ssl.endpoint.identification.algorithm`: `https` (default, as
    /// Kafka) checks that the certificate names the broker; empty skips it.
    pub verify_hostname: bool,
    /// `kafka.sasl.mechanism` with its credentials, for `SASL_*`.
    pub sasl: Option<KafkaSasl>,
}

/// SASL credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KafkaSasl {
    /// PLAIN or SCRAM: `kafka.sasl.username` / `kafka.sasl.password`, or the
    /// `username="..." password="..."` of `kafka.sasl.jaas.config`.
    Password {
        /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
        mechanism: SaslMechanism,
        /// The user.
        username: String,
        /// Never logged.
        password: Secret,
    },
    /// MSK IAM; `kafka.sasl.aws.region` defaults to the broker host name's
    /// region, else the AWS chain's.
    AwsMskIam {
        /// Signing region override.
        region: Option<String>,
    },
}

impl KafkaSasl {
    /// The mechanism.
    pub fn mechanism(&self) -> SaslMechanism {
        match self {
            Self::Password { mechanism, .. } => *mechanism,
            Self::AwsMskIam { .. } => SaslMechanism::AwsMskIam,
        }
    }
}

/// `key="value"` out of a JAAS line such as Kafka's
/// `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`.
fn jaas_option(jaas: &str, key: &str) -> Option<String> {
    let mut rest = jaas;
    while let Some(i) = rest.find(key) {
        let before_ok = i == 0 || rest.as_bytes()[i - 1].is_ascii_whitespace();
        let after = rest[i + key.len()..].trim_start();
        if before_ok {
            if let Some(v) = after.strip_prefix('=').map(str::trim_start) {
                let v = v.strip_prefix('"')?;
                return v.find('"').map(|end| v[..end].to_string());
            }
        }
        rest = &rest[i + key.len()..];
    }
    None
}

impl KafkaSecurity {
    fn read(r: &mut Reader<'_>) -> Self {
        let protocol = r.choice(
            "kafka.security.protocol",
            KafkaProtocol::Plaintext,
            &[
                ("PLAINTEXT", KafkaProtocol::Plaintext),
                ("SSL", KafkaProtocol::Ssl),
                ("SASL_PLAINTEXT", KafkaProtocol::SaslPlaintext),
                ("SASL_SSL", KafkaProtocol::SaslSsl),
            ],
        );
        let ssl_ca = r.opt_str("kafka.ssl.ca");
        let verify_hostname = match r.raw.get("kafka.ssl.endpoint.identification.algorithm") {
            None => true,
            Some(v) if v.trim().is_empty() => false,
            Some(v) if v.trim().eq_ignore_ascii_case("https") => true,
            Some(v) => {
                r.problems.push(format!(
                    "kafka.ssl.endpoint.identification.algorithm: {v:?} is not https or empty"
                ));
                true
            }
        };
        if !protocol.tls() && (ssl_ca.is_some() || !verify_hostname) {
            r.problems.push(format!(
                "kafka.ssl.* is set but kafka.security.protocol={} has no TLS; use SSL or SASL_SSL",
                protocol.as_str()
            ));
        }
        let mechanism = r.opt_str("kafka.sasl.mechanism").and_then(|m| {
            let found = [
                SaslMechanism::Plain,
                SaslMechanism::ScramSha256,
                SaslMechanism::ScramSha512,
                SaslMechanism::AwsMskIam,
            ]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(&m));
            if found.is_none() {
                r.problems.push(format!(
                    "kafka.sasl.mechanism: unsupported {m:?}; one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, AWS_MSK_IAM"
                ));
            }
            found
        });
        let jaas = r.opt_str("kafka.sasl.jaas.config");
        let sasl = match (protocol.sasl(), mechanism) {
            (false, None) => None,
            (false, Some(m)) => {
                r.problems.push(format!(
                    "kafka.sasl.mechanism={} needs kafka.security.protocol=SASL_SSL (or SASL_PLAINTEXT)",
                    m.as_str()
                ));
                None
            }
            (true, None) => {
                if r.opt_str("kafka.sasl.mechanism").is_none() {
                    r.problems.push(format!(
                        "kafka.security.protocol={} needs kafka.sasl.mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM",
                        protocol.as_str()
                    ));
                }
                None
            }
            (true, Some(SaslMechanism::AwsMskIam)) => {
                if protocol != KafkaProtocol::SaslSsl {
                    r.problems.push(
                        "kafka.sasl.mechanism=AWS_MSK_IAM needs kafka.security.protocol=SASL_SSL (MSK's IAM listener, port 9098, is TLS only)".into(),
                    );
                }
                Some(KafkaSasl::AwsMskIam {
                    region: r.opt_str("kafka.sasl.aws.region"),
                })
            }
            (true, Some(mechanism)) => {
                let from_jaas = |key| jaas.as_deref().and_then(|j| jaas_option(j, key));
                let username = r
                    .opt_str("kafka.sasl.username")
                    .or_else(|| from_jaas("username"));
                let password = r
                    .opt_str("kafka.sasl.password")
                    .or_else(|| from_jaas("password"));
                match (username, password) {
                    (Some(username), Some(password)) => Some(KafkaSasl::Password {
                        mechanism,
                        username,
                        password: Secret::new(password),
                    }),
                    _ => {
                        r.problems.push(format!(
                            "kafka.sasl.mechanism={} needs kafka.sasl.username and kafka.sasl.password (or username=\"...\" password=\"...\" in kafka.sasl.jaas.config)",
                            mechanism.as_str()
                        ));
                        None
                    }
                }
            }
        };
        Self {
            protocol,
            ssl_ca,
            verify_hostname,
            sasl,
        }
    }
}

/// `decimal.handling.mode`: how DECIMAL/NUMERIC values appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalMode {
    /// `org.apache.kafka.connect.data.Decimal`: exact, base64 unscaled bytes.
    Precise,
    /// The decimal as a string (`"12.30"`).
    String,
    /// A float64 (may lose precision).
    Double,
}

/// `bigint.unsigned.handling.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BigIntUnsignedMode {
    /// int64; values above 2^63-1 wrap, as Java's `long`.
    Long,
    /// `Decimal` with scale 0: exact.
    Precise,
}

/// `binary.handling.mode`: how BINARY/VARBINARY/BLOB appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryMode {
    /// Connect `bytes` (JsonConverter writes base64).
    Bytes,
    /// A base64 string.
    Base64,
    /// A base64url string (no padding changes: `-`/`_` for `+`/`/`).
    Base64UrlSafe,
    /// A lowercase hex string.
    Hex,
}

/// `time.precision.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePrecisionMode {
    /// Debezium's default: `io.debezium.time.*` types, TIME in microseconds.
    AdaptiveTimeMicroseconds,
    /// Kafka Connect's own Date/Time/Timestamp, millisecond precision.
    Connect,
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

/// Row operations that `skipped.operations` can suppress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkippedOps {
    /// `c`: inserts.
    pub create: bool,
    /// `u`: updates.
    pub update: bool,
    /// `d`: deletes.
    pub delete: bool,
    /// `t`: truncates.
    pub truncate: bool,
}

/// How a matching column's string value is masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnMask {
    /// `column.mask.with.N.chars`: N asterisks.
    Stars(usize),
    /// `column.mask.hash.ALGO.with.salt.SALT`: hex of `ALGO(salt ‖ value)`,
    /// cut to the column's length.
    Hash {
        algorithm: HashAlgorithm,
        salt: String,
    },
}

/// Digests allowed for column hashing (Java `MessageDigest` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// `SHA-1`.
    Sha1,
    /// `SHA-256`.
    Sha256,
    /// `SHA-384`.
    Sha384,
    /// `SHA-512`.
    Sha512,
}

impl HashAlgorithm {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "SHA-1" | "SHA1" => Self::Sha1,
            "SHA-256" | "SHA256" => Self::Sha256,
            "SHA-384" | "SHA384" => Self::Sha384,
            "SHA-512" | "SHA512" => Self::Sha512,
            _ => return None,
        })
    }
}

/// Per-column shaping rules; patterns match `db.table.column`.
#[derive(Debug, Clone, Default)]
pub struct ColumnRules {
    /// `column.include.list`.
    pub include: Option<Patterns>,
    /// `column.exclude.list`.
    pub exclude: Option<Patterns>,
    /// `column.mask.*` rules in key order.
    pub masks: Vec<(Patterns, ColumnMask)>,
    /// `column.truncate.to.N.chars` rules.
    pub truncates: Vec<(Patterns, usize)>,
    /// `column.propagate.source.type`.
    pub propagate_source_type: Option<Patterns>,
    /// `datatype.propagate.source.type` (matched against type names such as `VARCHAR`).
    pub propagate_datatype: Option<Patterns>,
    /// `message.key.columns`: (`db.table` pattern, key column names).
    pub key_columns: Vec<(Patterns, Vec<String>)>,
}

impl ColumnRules {
    /// Whether `db.table.column` is emitted.
    pub fn keeps(&self, qualified: &str) -> bool {
        if let Some(p) = &self.include {
            return p.matches(qualified);
        }
        !self.exclude.as_ref().is_some_and(|p| p.matches(qualified))
    }

    /// The key columns configured for `db.table`, if any.
    pub fn key_for(&self, db_table: &str) -> Option<&[String]> {
        self.key_columns
            .iter()
            .find(|(p, _)| p.matches(db_table))
            .map(|(_, cols)| cols.as_slice())
    }
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

/// A comma-separated list of anchored regular expressions, as Debezium's
/// include/exclude lists.
#[derive(Debug, Clone)]
pub struct Patterns(Vec<Regex>);

impl Patterns {
    fn parse(s: &str) -> Result<Self, String> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| Regex::new(&format!("^(?:{p})$")).map_err(|e| format!("{p:?}: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Patterns)
    }

    /// Whether any pattern matches the whole identifier.
    pub fn matches(&self, ident: &str) -> bool {
        self.0.iter().any(|r| r.is_match(ident))
    }
}

/// Which tables are captured.
#[derive(Debug, Clone, Default)]
pub struct TableFilter {
    /// The four lists as configured, for [`TableFilter::signature`].
    raw: [Option<String>; 4],
    /// `database.include.list`.
    pub database_include: Option<Patterns>,
    /// `database.exclude.list`.
    pub database_exclude: Option<Patterns>,
    /// `table.include.list` (matched against `db.table`).
    pub table_include: Option<Patterns>,
    /// `table.exclude.list`.
    pub table_exclude: Option<Patterns>,
}

/// Databases Debezium never captures.
const SYSTEM_DATABASES: &[&str] = &["mysql", "sys", "performance_schema", "information_schema"];

impl TableFilter {
    /// A filter from the four configured lists (database include/exclude,
    /// table include/exclude).
    pub fn from_lists(lists: [Option<String>; 4]) -> Result<Self, String> {
        let p = |s: &Option<String>| s.as_deref().map(Patterns::parse).transpose();
        Ok(Self {
            database_include: p(&lists[0])?,
            database_exclude: p(&lists[1])?,
            table_include: p(&lists[2])?,
            table_exclude: p(&lists[3])?,
            raw: lists,
        })
    }

    /// The configured lists as JSON, stored with checkpoints so a change of
    /// filters can be noticed and the newly included tables snapshotted.
    pub fn signature(&self) -> String {
        serde_json::to_string(&self.raw).unwrap_or_default()
    }

    /// The filter a [`TableFilter::signature`] describes.
    pub fn from_signature(sig: &str) -> Option<Self> {
        let lists: [Option<String>; 4] = serde_json::from_str(sig).ok()?;
        Self::from_lists(lists).ok()
    }

    /// Whether tables of `db` can be captured (the database lists only).
    pub fn includes_database(&self, db: &str) -> bool {
        !SYSTEM_DATABASES.contains(&db)
            && self.database_include.as_ref().is_none_or(|p| p.matches(db))
            && !self
                .database_exclude
                .as_ref()
                .is_some_and(|p| p.matches(db))
    }

    /// Whether `db.table` is captured.
    pub fn includes(&self, db: &str, table: &str) -> bool {
        if !self.includes_database(db) {
            return false;
        }
        let full = format!("{db}.{table}");
        if let Some(p) = &self.table_include {
            if !p.matches(&full) {
                return false;
            }
        }
        if let Some(p) = &self.table_exclude {
            if p.matches(&full) {
                return false;
            }
        }
        true
    }
}

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
    /// `tombstones.on.delete`; default true, as Debezium, so log compaction
    /// can drop deleted keys.
    pub tombstones_on_delete: bool,
    /// `key.converter.schemas.enable`; default true, as Kafka's JsonConverter.
    pub key_schemas: bool,
    /// `value.converter.schemas.enable`; default true, as JsonConverter.
    pub value_schemas: bool,
    /// `kafka.bootstrap.servers`: `host:port` list.
    pub kafka_bootstrap: Vec<String>,
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
    pub redactor: crate::secrets::Redactor,
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

/// How a key is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    /// Read by this crate.
    Used,
    /// A Debezium/Kafka Connect key with no meaning here; logged and ignored.
    Ignored(&'static str),
}

const KNOWN_KEYS: &[(&str, KeyKind)] = &[
    ("database.hostname", KeyKind::Used),
    ("database.port", KeyKind::Used),
    ("database.user", KeyKind::Used),
    ("database.password", KeyKind::Used),
    ("database.server.id", KeyKind::Used),
    ("topic.prefix", KeyKind::Used),
    ("database.server.name", KeyKind::Used),
    ("database.include.list", KeyKind::Used),
    ("database.exclude.list", KeyKind::Used),
    ("table.include.list", KeyKind::Used),
    ("table.exclude.list", KeyKind::Used),
    ("snapshot.mode", KeyKind::Used),
    ("tombstones.on.delete", KeyKind::Used),
    ("key.converter.schemas.enable", KeyKind::Used),
    ("value.converter.schemas.enable", KeyKind::Used),
    ("kafka.bootstrap.servers", KeyKind::Used),
    ("kafka.compression.type", KeyKind::Used),
    ("kafka.request.timeout.ms", KeyKind::Used),
    ("kafka.max.request.size", KeyKind::Used),
    ("topic.creation.default.partitions", KeyKind::Used),
    ("topic.creation.default.replication.factor", KeyKind::Used),
    ("offset.storage", KeyKind::Used),
    ("offset.storage.dynamodb.table", KeyKind::Used),
    ("offset.storage.dynamodb.endpoint", KeyKind::Used),
    ("offset.storage.dynamodb.region", KeyKind::Used),
    ("offset.storage.file.filename", KeyKind::Used),
    ("offset.flush.interval.ms", KeyKind::Used),
    ("poll.max.duration.ms", KeyKind::Used),
    ("poll.max.events", KeyKind::Used),
    ("poll.interval.ms", KeyKind::Used),
    ("max.batch.size", KeyKind::Used),
    ("connect.timeout.ms", KeyKind::Used),
    ("snapshot.fetch.size", KeyKind::Used),
    ("heartbeat.interval.ms", KeyKind::Used),
    ("heartbeat.topics.prefix", KeyKind::Used),
    ("incremental.snapshot.chunk.size", KeyKind::Used),
    ("snapshot.lock.timeout.ms", KeyKind::Used),
    ("snapshot.include.collection.list", KeyKind::Used),
    ("snapshot.select.statement.overrides", KeyKind::Used),
    ("database.ssl.mode", KeyKind::Used),
    ("database.ssl.ca", KeyKind::Used),
    ("database.ssl.cert", KeyKind::Used),
    ("database.ssl.key", KeyKind::Used),
    ("database.iam.auth", KeyKind::Used),
    ("database.iam.region", KeyKind::Used),
    ("kafka.security.protocol", KeyKind::Used),
    ("kafka.ssl.ca", KeyKind::Used),
    ("kafka.ssl.endpoint.identification.algorithm", KeyKind::Used),
    ("kafka.sasl.mechanism", KeyKind::Used),
    ("kafka.sasl.username", KeyKind::Used),
    ("kafka.sasl.password", KeyKind::Used),
    ("kafka.sasl.jaas.config", KeyKind::Used),
    ("kafka.sasl.aws.region", KeyKind::Used),
    ("decimal.handling.mode", KeyKind::Used),
    ("bigint.unsigned.handling.mode", KeyKind::Used),
    ("binary.handling.mode", KeyKind::Used),
    ("time.precision.mode", KeyKind::Used),
    ("include.schema.changes", KeyKind::Used),
    ("provide.transaction.metadata", KeyKind::Used),
    ("include.query", KeyKind::Used),
    ("skipped.operations", KeyKind::Used),
    ("event.processing.failure.handling.mode", KeyKind::Used),
    ("column.include.list", KeyKind::Used),
    ("column.exclude.list", KeyKind::Used),
    ("column.propagate.source.type", KeyKind::Used),
    ("datatype.propagate.source.type", KeyKind::Used),
    ("message.key.columns", KeyKind::Used),
    ("connector.class", KeyKind::Used),
    ("tasks.max", KeyKind::Used),
    ("key.converter", KeyKind::Used),
    ("value.converter", KeyKind::Used),
    (
        "schema.history.internal.kafka.bootstrap.servers",
        KeyKind::Ignored("schema history is kept with the offsets"),
    ),
    (
        "schema.history.internal.kafka.topic",
        KeyKind::Ignored("schema history is kept with the offsets"),
    ),
    (
        "database.history.kafka.bootstrap.servers",
        KeyKind::Ignored("schema history is kept with the offsets"),
    ),
    (
        "database.history.kafka.topic",
        KeyKind::Ignored("schema history is kept with the offsets"),
    ),
];

/// Where Kafka Connect's JSON converter lives; the only converter we emit.
/// Per-table snapshot SELECT overrides are keys under this prefix.
const OVERRIDE_PREFIX: &str = "snapshot.select.statement.overrides.";

/// Keys with a parameter inside them (`column.mask.with.12.chars`).
const MASK_CHARS: (&str, &str) = ("column.mask.with.", ".chars");
const MASK_HASH: &str = "column.mask.hash.";
const TRUNCATE_CHARS: (&str, &str) = ("column.truncate.to.", ".chars");

/// The `N` of a key shaped `<prefix>N<suffix>`.
fn key_param<'a>(k: &'a str, (prefix, suffix): (&str, &str)) -> Option<&'a str> {
    k.strip_prefix(prefix)?.strip_suffix(suffix)
}

fn is_parameterized_key(k: &str) -> bool {
    k.starts_with(OVERRIDE_PREFIX)
        || k.starts_with(MASK_HASH)
        || key_param(k, MASK_CHARS).is_some()
        || key_param(k, TRUNCATE_CHARS).is_some()
}

const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
const MYSQL_CONNECTOR: &str = "io.debezium.connector.mysql.MySqlConnector";

impl Config {
    /// Parses a registration JSON (`{"name": ..., "config": {...}}`), or a bare
    /// config object with a `name` key, substituting `${env:NAME}` from
    /// `env`. Returns every problem at once.
    pub fn from_json(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigProblems> {
        let root: Json = serde_json::from_str(text)
            .map_err(|e| ConfigProblems(vec![format!("config is not valid JSON: {e}")]))?;
        let Json::Object(mut root) = root else {
            return Err(ConfigProblems(vec![
                "config must be a JSON object {\"name\": ..., \"config\": {...}}".into(),
            ]));
        };
        let mut problems = Vec::new();
        let (name, obj) = match root.remove("config") {
            Some(Json::Object(cfg)) => {
                let name = match root.remove("name") {
                    Some(Json::String(s)) => Some(s),
                    _ => None,
                };
                for k in root.keys() {
                    problems.push(format!(
                        "unknown top-level key {k:?}; expected \"name\" and \"config\""
                    ));
                }
                (name, cfg)
            }
            Some(_) => {
                return Err(ConfigProblems(vec![
                    "\"config\" must be a JSON object".into()
                ]));
            }
            None => {
                let name = match root.remove("name") {
                    Some(Json::String(s)) => Some(s),
                    _ => None,
                };
                (name, root)
            }
        };

        let mut raw: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in obj {
            let s = match v {
                Json::String(s) => s,
                Json::Number(n) => n.to_string(),
                Json::Bool(b) => b.to_string(),
                Json::Null => continue,
                _ => {
                    problems.push(format!("{k}: value must be a string, number or boolean"));
                    continue;
                }
            };
            match substitute_env(&s, &env) {
                Ok(s) => {
                    raw.insert(k, s);
                }
                Err(var) => problems.push(format!(
                    "{k}: environment variable {var} referenced by ${{env:{var}}} is not set"
                )),
            }
        }

        for k in raw.keys() {
            if is_parameterized_key(k) {
                continue;
            }
            match KNOWN_KEYS.iter().find(|(known, _)| known == k) {
                Some((_, KeyKind::Used)) => {}
                Some((_, KeyKind::Ignored(why))) => {
                    tracing::warn!(key = %k, reason = why, "config key ignored");
                }
                None => problems.push(unknown_key_message(k)),
            }
        }

        let mut r = Reader {
            raw: &raw,
            problems: &mut problems,
        };
        let name = name.unwrap_or_default();
        if name.is_empty() {
            r.problems.push(
                "name: the connector needs a non-empty \"name\" (it keys the stored offsets)"
                    .into(),
            );
        }
        if let Some(c) = r.opt_str("connector.class") {
            if c != MYSQL_CONNECTOR {
                r.problems.push(format!(
                    "connector.class: only {MYSQL_CONNECTOR} is supported, got {c:?}"
                ));
            }
        }
        if let Some(t) = r.opt_str("tasks.max") {
            if t != "1" {
                r.problems.push(
                    "tasks.max: the MySQL connector always runs one task; set 1 or remove it"
                        .into(),
                );
            }
        }
        for key in ["key.converter", "value.converter"] {
            if let Some(c) = r.opt_str(key) {
                if c != JSON_CONVERTER {
                    r.problems.push(format!(
                        "{key}: only {JSON_CONVERTER} is supported, got {c:?}"
                    ));
                }
            }
        }

        let hostname = r.required("database.hostname");
        let port = r.parse_or("database.port", 3306u16);
        let user = r.required("database.user");
        let password = Secret::new(r.opt_str("database.password").unwrap_or_default());
        let server_id = r.parse_or("database.server.id", default_server_id(&name));
        if server_id == 0 {
            r.problems.push(
                "database.server.id: must be a positive number, unique among the server's replicas"
                    .into(),
            );
        }
        let topic_prefix = match (r.opt_str("topic.prefix"), r.opt_str("database.server.name")) {
            (Some(p), _) | (None, Some(p)) => p,
            (None, None) => {
                r.problems.push(
                    "topic.prefix: required (the prefix of every topic name, e.g. \"dbserver1\")"
                        .into(),
                );
                String::new()
            }
        };
        if !topic_prefix.is_empty()
            && !topic_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            r.problems.push(format!(
                "topic.prefix: {topic_prefix:?} may only contain letters, digits, '.', '_' and '-' (Kafka topic rules)"
            ));
        }
        let filter = TableFilter {
            database_include: r.patterns("database.include.list"),
            database_exclude: r.patterns("database.exclude.list"),
            table_include: r.patterns("table.include.list"),
            table_exclude: r.patterns("table.exclude.list"),
            raw: [
                r.opt_str("database.include.list"),
                r.opt_str("database.exclude.list"),
                r.opt_str("table.include.list"),
                r.opt_str("table.exclude.list"),
            ],
        };
        if filter.database_include.is_some() && filter.database_exclude.is_some() {
            r.problems
                .push("database.include.list and database.exclude.list cannot both be set".into());
        }
        if filter.table_include.is_some() && filter.table_exclude.is_some() {
            r.problems
                .push("table.include.list and table.exclude.list cannot both be set".into());
        }
        let snapshot_mode = match r.opt_str("snapshot.mode") {
            None => SnapshotMode::Initial,
            Some(s) => SnapshotMode::parse(&s).unwrap_or_else(|| {
                r.problems.push(format!(
                    "snapshot.mode: unknown mode {s:?}; one of initial, initial_only, when_needed, no_data, recovery, never, always"
                ));
                SnapshotMode::Initial
            }),
        };
        let tombstones_on_delete = r.bool_or("tombstones.on.delete", true);
        let key_schemas = r.bool_or("key.converter.schemas.enable", true);
        let value_schemas = r.bool_or("value.converter.schemas.enable", true);
        let kafka_bootstrap: Vec<String> = r
            .required("kafka.bootstrap.servers")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        for b in &kafka_bootstrap {
            if !b
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
            {
                r.problems
                    .push(format!("kafka.bootstrap.servers: {b:?} is not host:port"));
            }
        }
        let compression = match r.opt_str("kafka.compression.type").as_deref() {
            None | Some("none") => Compression::None,
            Some("gzip") => Compression::Gzip,
            Some("snappy") => Compression::Snappy,
            Some("lz4") => Compression::Lz4,
            Some("zstd") => Compression::Zstd,
            Some(other) => {
                r.problems.push(format!(
                    "kafka.compression.type: unknown {other:?}; one of none, gzip, snappy, lz4, zstd"
                ));
                Compression::None
            }
        };
        let kafka_timeout = r.millis_or("kafka.request.timeout.ms", 30_000);
        let kafka_max_record_bytes = r.parse_or("kafka.max.request.size", 1_048_576usize);
        let partitions = r.parse_or("topic.creation.default.partitions", 1i32);
        if partitions < 1 {
            r.problems
                .push("topic.creation.default.partitions: must be at least 1".into());
        }
        let replication_factor = r.parse_or("topic.creation.default.replication.factor", -1i16);
        if replication_factor == 0 || replication_factor < -1 {
            r.problems.push("topic.creation.default.replication.factor: must be -1 (broker default) or at least 1".into());
        }
        let offsets = match r.opt_str("offset.storage").as_deref() {
            Some("dynamodb") => OffsetStorage::DynamoDb {
                table: r
                    .opt_str("offset.storage.dynamodb.table")
                    .unwrap_or_else(|| "binlog-poller-offsets".into()),
                endpoint: r.opt_str("offset.storage.dynamodb.endpoint"),
                region: r.opt_str("offset.storage.dynamodb.region"),
            },
            Some("file") | None => match r.opt_str("offset.storage.file.filename") {
                Some(path) => OffsetStorage::File { path },
                None => {
                    r.problems.push(
                        "offset.storage.file.filename: required with offset.storage=file (the default); or set offset.storage=dynamodb".into(),
                    );
                    OffsetStorage::File {
                        path: String::new(),
                    }
                }
            },
            Some(other) => {
                r.problems.push(format!(
                    "offset.storage: unknown {other:?}; one of dynamodb, file"
                ));
                OffsetStorage::File {
                    path: String::new(),
                }
            }
        };
        let offset_flush_interval = r.millis_or("offset.flush.interval.ms", 10_000);
        let poll_max_duration = r.millis_or("poll.max.duration.ms", 60_000);
        if poll_max_duration < Duration::from_millis(100) {
            r.problems
                .push("poll.max.duration.ms: must be at least 100".into());
        }
        let poll_max_events = r.opt_parse::<u64>("poll.max.events").filter(|&n| n > 0);
        let poll_interval = r.millis_or("poll.interval.ms", 1_000);
        let max_batch_records = r.parse_or("max.batch.size", 8192usize);
        if max_batch_records == 0 {
            r.problems.push("max.batch.size: must be at least 1".into());
        }
        let connect_timeout = r.millis_or("connect.timeout.ms", 30_000);
        let snapshot_chunk_size = match r.opt_parse::<usize>("snapshot.fetch.size") {
            Some(n) => n,
            None => r.parse_or("incremental.snapshot.chunk.size", 4096usize),
        };
        if snapshot_chunk_size == 0 {
            r.problems
                .push("snapshot.fetch.size: must be at least 1".into());
        }
        let snapshot_lock_timeout = r.millis_or("snapshot.lock.timeout.ms", 10_000);
        let heartbeat_interval =
            Some(r.millis_or("heartbeat.interval.ms", 0)).filter(|d| !d.is_zero());
        let heartbeat_topics_prefix = r
            .opt_str("heartbeat.topics.prefix")
            .unwrap_or_else(|| "__debezium-heartbeat".into());
        let snapshot_include = r.patterns("snapshot.include.collection.list");
        let mut snapshot_overrides = BTreeMap::new();
        let listed: Vec<String> = r
            .opt_str("snapshot.select.statement.overrides")
            .map(|l| {
                l.split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for t in &listed {
            match r.opt_str(&format!("{OVERRIDE_PREFIX}{t}")) {
                Some(sql) => {
                    snapshot_overrides.insert(t.clone(), sql);
                }
                None => r.problems.push(format!(
                    "snapshot.select.statement.overrides lists {t:?} but {OVERRIDE_PREFIX}{t} is not set"
                )),
            }
        }
        for k in raw.keys().filter_map(|k| k.strip_prefix(OVERRIDE_PREFIX)) {
            if !listed.iter().any(|t| t == k) {
                r.problems.push(format!(
                    "{OVERRIDE_PREFIX}{k} is set but {k:?} is not listed in snapshot.select.statement.overrides"
                ));
            }
        }

        let ssl_mode = r.choice(
            "database.ssl.mode",
            SslMode::Preferred,
            &[
                ("disabled", SslMode::Disabled),
                ("preferred", SslMode::Preferred),
                ("required", SslMode::Required),
                ("verify_ca", SslMode::VerifyCa),
                ("verify_identity", SslMode::VerifyIdentity),
            ],
        );
        let ssl_ca = r.opt_str("database.ssl.ca");
        let ssl_client = match (
            r.opt_str("database.ssl.cert"),
            r.opt_str("database.ssl.key"),
        ) {
            (Some(c), Some(k)) => Some((c, Secret::new(k))),
            (None, None) => None,
            _ => {
                r.problems.push(
                    "database.ssl.cert and database.ssl.key go together (a client certificate and its key)".into(),
                );
                None
            }
        };
        if ssl_mode == SslMode::Disabled && (ssl_ca.is_some() || ssl_client.is_some()) {
            r.problems.push(
                "database.ssl.mode=disabled but database.ssl.ca/cert/key are set; pick a TLS mode (verify_identity) or remove them".into(),
            );
        }
        let iam_auth = r.bool_or("database.iam.auth", false).then(|| IamAuth {
            region: r.opt_str("database.iam.region"),
        });
        let ssl_mode = match (&iam_auth, ssl_mode) {
            (Some(_), SslMode::Disabled) => {
                r.problems.push(
                    "database.iam.auth=true needs TLS (RDS accepts IAM tokens only over TLS); set database.ssl.mode=verify_identity with database.ssl.ca=<global-bundle.pem>".into(),
                );
                ssl_mode
            }
            // The token is a password in clear text: never send it without
            // TLS, even to a server that offers none.
            (Some(_), SslMode::Preferred) => SslMode::Required,
            _ => ssl_mode,
        };
        if iam_auth.is_some() && !password.expose().is_empty() {
            r.problems.push(
                "database.password is set but database.iam.auth=true signs a token instead; remove one of them".into(),
            );
        }
        let kafka_security = KafkaSecurity::read(&mut r);
        let decimal_mode = r.choice(
            "decimal.handling.mode",
            DecimalMode::Precise,
            &[
                ("precise", DecimalMode::Precise),
                ("string", DecimalMode::String),
                ("double", DecimalMode::Double),
            ],
        );
        let bigint_unsigned_mode = r.choice(
            "bigint.unsigned.handling.mode",
            BigIntUnsignedMode::Long,
            &[
                ("long", BigIntUnsignedMode::Long),
                ("precise", BigIntUnsignedMode::Precise),
            ],
        );
        let binary_mode = r.choice(
            "binary.handling.mode",
            BinaryMode::Bytes,
            &[
                ("bytes", BinaryMode::Bytes),
                ("base64", BinaryMode::Base64),
                ("base64-url-safe", BinaryMode::Base64UrlSafe),
                ("hex", BinaryMode::Hex),
            ],
        );
        let time_precision_mode = r.choice(
            "time.precision.mode",
            TimePrecisionMode::AdaptiveTimeMicroseconds,
            &[
                (
                    "adaptive_time_microseconds",
                    TimePrecisionMode::AdaptiveTimeMicroseconds,
                ),
                ("connect", TimePrecisionMode::Connect),
            ],
        );
        let include_schema_changes = r.bool_or("include.schema.changes", true);
        let provide_transaction_metadata = r.bool_or("provide.transaction.metadata", false);
        let include_query = r.bool_or("include.query", false);
        let skipped_operations = match r.opt_str("skipped.operations") {
            None => SkippedOps {
                truncate: true,
                ..SkippedOps::default()
            },
            Some(list) => {
                let mut ops = SkippedOps::default();
                for op in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    match op {
                        "c" => ops.create = true,
                        "u" => ops.update = true,
                        "d" => ops.delete = true,
                        "t" => ops.truncate = true,
                        "none" => {}
                        other => r.problems.push(format!(
                            "skipped.operations: unknown operation {other:?}; a comma-separated list of c, u, d, t, or none"
                        )),
                    }
                }
                ops
            }
        };
        let failure_mode = r.choice(
            "event.processing.failure.handling.mode",
            FailureMode::Fail,
            &[
                ("fail", FailureMode::Fail),
                ("warn", FailureMode::Warn),
                ("skip", FailureMode::Skip),
                ("ignore", FailureMode::Skip),
            ],
        );
        let mut columns = ColumnRules {
            include: r.patterns("column.include.list"),
            exclude: r.patterns("column.exclude.list"),
            propagate_source_type: r.patterns("column.propagate.source.type"),
            propagate_datatype: r.patterns("datatype.propagate.source.type"),
            ..ColumnRules::default()
        };
        if columns.include.is_some() && columns.exclude.is_some() {
            r.problems
                .push("column.include.list and column.exclude.list cannot both be set".into());
        }
        for k in raw.keys() {
            if let Some(rest) = k.strip_prefix(MASK_HASH) {
                let rest = rest.strip_prefix("v2.").unwrap_or(rest);
                match rest.split_once(".with.salt.") {
                    Some((algo, salt)) => match (HashAlgorithm::parse(algo), r.patterns(k)) {
                        (Some(algorithm), Some(p)) => columns.masks.push((
                            p,
                            ColumnMask::Hash {
                                algorithm,
                                salt: salt.to_string(),
                            },
                        )),
                        (None, _) => r.problems.push(format!(
                            "{k}: unsupported hash algorithm {algo:?}; one of SHA-1, SHA-256, SHA-384, SHA-512"
                        )),
                        _ => {}
                    },
                    None => r.problems.push(format!(
                        "{k}: expected column.mask.hash.<algorithm>.with.salt.<salt>"
                    )),
                }
            } else if let Some((n, p)) = r.chars_rule(k, MASK_CHARS) {
                columns.masks.push((p, ColumnMask::Stars(n)));
            } else if let Some((n, p)) = r.chars_rule(k, TRUNCATE_CHARS) {
                columns.truncates.push((p, n));
            }
        }
        if let Some(spec) = r.opt_str("message.key.columns") {
            for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
                let parsed = entry.rsplit_once(':').and_then(|(table, cols)| {
                    let cols: Vec<String> = cols
                        .split(',')
                        .map(|c| c.trim().to_string())
                        .filter(|c| !c.is_empty())
                        .collect();
                    (!cols.is_empty()).then(|| (table.trim(), cols))
                });
                match parsed.map(|(t, cols)| (Patterns::parse(t), cols)) {
                    Some((Ok(p), cols)) => columns.key_columns.push((p, cols)),
                    Some((Err(e), _)) => r.problems.push(format!(
                        "message.key.columns: invalid regular expression {e}"
                    )),
                    None => r.problems.push(format!(
                        "message.key.columns: {entry:?} is not <db>.<table>:<column>[,<column>...]"
                    )),
                }
            }
        }

        if !problems.is_empty() {
            return Err(ConfigProblems(problems));
        }
        Ok(Config {
            name,
            hostname,
            port,
            user,
            password,
            server_id,
            topic_prefix,
            filter,
            snapshot_mode,
            tombstones_on_delete,
            key_schemas,
            value_schemas,
            kafka_bootstrap,
            compression,
            kafka_timeout,
            kafka_max_record_bytes,
            partitions,
            replication_factor,
            offsets,
            offset_flush_interval,
            poll_max_duration,
            poll_max_events,
            poll_interval,
            max_batch_records,
            connect_timeout,
            snapshot_chunk_size,
            snapshot_lock_timeout,
            snapshot_include,
            snapshot_overrides,
            heartbeat_interval,
            heartbeat_topics_prefix,
            ssl_mode,
            ssl_ca,
            ssl_client,
            iam_auth,
            kafka_security,
            decimal_mode,
            bigint_unsigned_mode,
            binary_mode,
            time_precision_mode,
            include_schema_changes,
            provide_transaction_metadata,
            include_query,
            skipped_operations,
            failure_mode,
            columns,
            redactor: crate::secrets::Redactor::default(),
        })
    }

    /// Reads and parses a config file, with the process environment.
    /// `${secretsmanager:...}` references are not resolved (see [`Config::load_file`]).
    pub fn from_file(path: &str) -> Result<Self, crate::Error> {
        let text = read_config_file(path)?;
        Ok(Self::from_json(&text, |k| std::env::var(k).ok())?)
    }

    /// Parses a config JSON after resolving its `${secretsmanager:...}`
    /// references from `source`; the values used are remembered for
    /// redaction (and installed process-wide, see [`crate::secrets::redact`]).
    pub async fn load_with<S: crate::secrets::SecretSource>(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
        source: &S,
    ) -> Result<Self, crate::Error> {
        let (resolved, redactor) = crate::secrets::resolve_config_text(text, source).await?;
        // Before parsing: a config problem may quote a value that came from a secret.
        crate::secrets::install(&redactor);
        let mut config = Self::from_json(&resolved, env)?;
        config.redactor = redactor;
        Ok(config)
    }

    /// Parses a config JSON with the process environment, resolving
    /// `${secretsmanager:...}` references with AWS Secrets Manager (a client
    /// is only created when there are references).
    pub async fn load(text: &str) -> Result<Self, crate::Error> {
        let env = |k: &str| std::env::var(k).ok();
        if !crate::secrets::has_references(text) {
            return Ok(Self::from_json(text, env)?);
        }
        let source = crate::secrets::AwsSecrets::connect().await?;
        Self::load_with(text, env, &source).await
    }

    /// [`Config::load`] of a file.
    pub async fn load_file(path: &str) -> Result<Self, crate::Error> {
        Self::load(&read_config_file(path)?).await
    }

    /// `host:port` of the database, for messages.
    pub fn server(&self) -> String {
        format!("{}:{}", self.hostname, self.port)
    }
}

fn read_config_file(path: &str) -> Result<String, crate::Error> {
    std::fs::read_to_string(path).map_err(|source| crate::Error::Io {
        path: path.to_string(),
        source,
    })
}

/// Debezium picks a random id in 5400..6400; we derive one from the name so
/// it is stable across invocations.
fn default_server_id(name: &str) -> u32 {
    let h = name
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    5400 + h % 1000
}

fn substitute_env(s: &str, env: &impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${env:") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 6..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let var = &after[..end];
        out.push_str(&env(var).ok_or_else(|| var.to_string())?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn unknown_key_message(key: &str) -> String {
    let best = KNOWN_KEYS
        .iter()
        .map(|(k, _)| (levenshtein(key, k), *k))
        .min()
        .filter(|(d, k)| *d <= (k.len() / 3).max(3));
    match best {
        Some((_, k)) => format!("unknown key {key:?}; did you mean {k:?}?"),
        None => format!("unknown key {key:?}"),
    }
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

struct Reader<'a> {
    raw: &'a BTreeMap<String, String>,
    problems: &'a mut Vec<String>,
}

impl Reader<'_> {
    fn opt_str(&self, key: &str) -> Option<String> {
        self.raw
            .get(key)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    fn required(&mut self, key: &str) -> String {
        self.opt_str(key).unwrap_or_else(|| {
            self.problems.push(format!("{key}: required"));
            String::new()
        })
    }

    fn opt_parse<T: std::str::FromStr>(&mut self, key: &str) -> Option<T> {
        let s = self.opt_str(key)?;
        match s.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                self.problems.push(format!(
                    "{key}: {s:?} is not a valid {}",
                    std::any::type_name::<T>()
                ));
                None
            }
        }
    }

    fn parse_or<T: std::str::FromStr>(&mut self, key: &str, default: T) -> T {
        self.opt_parse(key).unwrap_or(default)
    }

    fn millis_or(&mut self, key: &str, default: u64) -> Duration {
        Duration::from_millis(self.parse_or(key, default))
    }

    fn bool_or(&mut self, key: &str, default: bool) -> bool {
        match self.opt_str(key).as_deref() {
            None => default,
            Some(s) if s.eq_ignore_ascii_case("true") => true,
            Some(s) if s.eq_ignore_ascii_case("false") => false,
            Some(s) => {
                self.problems
                    .push(format!("{key}: {s:?} is not true or false"));
                default
            }
        }
    }

    /// A `<prefix>N<suffix>` rule (`column.mask.with.N.chars`,
    /// `column.truncate.to.N.chars`): N and the column patterns of the
    /// value; `None` when `key` is not of that shape or is invalid (then the
    /// problem is recorded).
    fn chars_rule(&mut self, key: &str, shape: (&str, &str)) -> Option<(usize, Patterns)> {
        let n = key_param(key, shape)?;
        match n.parse::<usize>() {
            Ok(n) => Some((n, self.patterns(key)?)),
            Err(_) => {
                self.problems.push(format!(
                    "{key}: {n:?} is not a number of characters ({}N{})",
                    shape.0, shape.1
                ));
                None
            }
        }
    }

    /// One of a fixed set of names; an unknown one is reported with the list.
    fn choice<T: Copy>(&mut self, key: &str, default: T, options: &[(&str, T)]) -> T {
        let Some(s) = self.opt_str(key) else {
            return default;
        };
        match options
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&s))
        {
            Some((_, v)) => *v,
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                self.problems.push(format!(
                    "{key}: unknown value {s:?}; one of {}",
                    names.join(", ")
                ));
                default
            }
        }
    }

    fn patterns(&mut self, key: &str) -> Option<Patterns> {
        let s = self.opt_str(key)?;
        match Patterns::parse(&s) {
            Ok(p) => Some(p),
            Err(e) => {
                self.problems
                    .push(format!("{key}: invalid regular expression {e}"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    const MINIMAL: &str = r#"{"name": "inv", "config": {
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "database.hostname": "db", "database.user": "cdc", "database.password": "pw",
        "topic.prefix": "dbserver1", "kafka.bootstrap.servers": "k:9092",
        "offset.storage.file.filename": "/tmp/o.json"}}"#;

    #[test]
    fn minimal_config_has_debezium_defaults() {
        let c = Config::from_json(MINIMAL, no_env).unwrap();
        assert_eq!(c.port, 3306);
        assert_eq!(c.snapshot_mode, SnapshotMode::Initial);
        assert!(c.tombstones_on_delete && c.key_schemas && c.value_schemas);
        assert_eq!(c.kafka_bootstrap, vec!["k:9092"]);
        assert!((5400..6400).contains(&c.server_id));
        assert!(
            !format!("{c:?}").contains("\"pw\""),
            "password leaked into Debug"
        );
    }

    #[test]
    fn all_problems_reported_at_once_with_suggestion() {
        let text = r#"{"name": "inv", "config": {"database.hostnam": "db",
            "database.port": "abc", "snapshot.mode": "sometimes"}}"#;
        let err = Config::from_json(text, no_env).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("did you mean \"database.hostname\""), "{msg}");
        assert!(msg.contains("database.port"), "{msg}");
        assert!(msg.contains("snapshot.mode"), "{msg}");
        assert!(msg.contains("database.user: required"), "{msg}");
        assert!(msg.contains("topic.prefix"), "{msg}");
        assert!(msg.contains("kafka.bootstrap.servers: required"), "{msg}");
        assert!(err.0.len() >= 6, "{msg}");
    }

    #[test]
    fn env_substitution() {
        let text = MINIMAL.replace("\"pw\"", "\"${env:DB_PW}\"");
        let c = Config::from_json(&text, |k| (k == "DB_PW").then(|| "s3cret".to_string())).unwrap();
        assert_eq!(c.password.expose(), "s3cret");
        let err = Config::from_json(&text, no_env).unwrap_err();
        assert!(err.to_string().contains("DB_PW"));
    }

    #[test]
    fn old_names_and_numbers_accepted() {
        let text = MINIMAL
            .replace("\"topic.prefix\"", "\"database.server.name\"")
            .replace("\"database.hostname\"", "\"snapshot.mode\": \"schema_only\", \"database.port\": 3307, \"tombstones.on.delete\": false, \"database.hostname\"");
        let c = Config::from_json(&text, no_env).unwrap();
        assert_eq!(c.topic_prefix, "dbserver1");
        assert_eq!(c.port, 3307);
        assert_eq!(c.snapshot_mode, SnapshotMode::NoData);
        assert!(!c.tombstones_on_delete);
    }

    #[test]
    fn filters_are_anchored_regexes() {
        let f = TableFilter::from_lists([
            None,
            None,
            Some("inventory\\.cust.*, shop.orders".into()),
            None,
        ])
        .unwrap();
        assert!(TableFilter::from_signature(&f.signature())
            .unwrap()
            .includes("shop", "orders"));
        assert!(f.includes("inventory", "customers"));
        assert!(f.includes("shop", "orders"));
        assert!(!f.includes("shop", "orders2"));
        assert!(!f.includes("xinventory", "customers"));
        assert!(!TableFilter::default().includes("mysql", "user"));
    }

    #[test]
    fn shaping_keys_and_modes() {
        let text = MINIMAL.replace(
            "\"topic.prefix\"",
            r#""decimal.handling.mode": "string", "binary.handling.mode": "base64-url-safe",
               "column.mask.with.8.chars": "db\\.t\\.card", "column.mask.hash.SHA-256.with.salt.s4lt": "db\\.t\\.email",
               "column.truncate.to.10.chars": "db\\.t\\.note", "message.key.columns": "db.t:a,b;db.u:c",
               "skipped.operations": "c,d", "provide.transaction.metadata": true, "column.exclude.list": "db\\.t\\.secret",
               "topic.prefix""#,
        );
        let c = Config::from_json(&text, no_env).unwrap();
        assert_eq!(c.decimal_mode, DecimalMode::String);
        assert_eq!(c.binary_mode, BinaryMode::Base64UrlSafe);
        assert_eq!(c.columns.masks.len(), 2);
        assert!(c
            .columns
            .masks
            .iter()
            .any(|(p, m)| p.matches("db.t.card") && *m == ColumnMask::Stars(8)));
        assert_eq!(c.columns.truncates[0].1, 10);
        assert_eq!(c.columns.key_for("db.u"), Some(&["c".to_string()][..]));
        assert_eq!(
            c.columns.key_for("db.t"),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        assert!(!c.columns.keeps("db.t.secret") && c.columns.keeps("db.t.other"));
        assert!(
            c.skipped_operations.create
                && c.skipped_operations.delete
                && !c.skipped_operations.truncate
        );
        assert!(c.provide_transaction_metadata && c.include_schema_changes);
        // Debezium's default skips truncates.
        assert!(
            Config::from_json(MINIMAL, no_env)
                .unwrap()
                .skipped_operations
                .truncate
        );
    }

    /// MINIMAL without its password, with `extra` JSON members added.
    fn with(extra: &str) -> std::result::Result<Config, String> {
        let text = MINIMAL
            .replace(r#""database.password": "pw","#, "")
            .replace("\"topic.prefix\"", &format!("{extra}, \"topic.prefix\""));
        Config::from_json(&text, no_env).map_err(|e| e.to_string())
    }

    #[test]
    fn iam_auth_forces_tls_and_excludes_a_password() {
        let c = with(r#""database.iam.auth": "true""#).unwrap();
        assert_eq!(c.iam_auth, Some(IamAuth { region: None }));
        assert_eq!(
            c.ssl_mode,
            SslMode::Required,
            "preferred is upgraded: a token is a password"
        );
        let c = with(r#""database.iam.auth": "true", "database.iam.region": "eu-west-1", "database.ssl.mode": "verify_identity""#).unwrap();
        assert_eq!(c.ssl_mode, SslMode::VerifyIdentity);
        assert_eq!(c.iam_auth.unwrap().region.as_deref(), Some("eu-west-1"));
        let msg = with(r#""database.iam.auth": "true", "database.ssl.mode": "disabled", "database.password": "x""#).unwrap_err();
        assert!(
            msg.contains("needs TLS") && msg.contains("remove one of them"),
            "{msg}"
        );
    }

    #[test]
    fn kafka_security_settings() {
        let c = with(r#""tasks.max": "1""#).unwrap();
        assert_eq!(
            c.kafka_security.protocol,
            KafkaProtocol::Plaintext,
            "Kafka's default"
        );
        assert!(c.kafka_security.sasl.is_none() && c.kafka_security.verify_hostname);

        let c = with(r#""kafka.security.protocol": "SASL_SSL", "kafka.sasl.mechanism": "SCRAM-SHA-512",
            "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"pa ss\";""#).unwrap();
        assert_eq!(
            c.kafka_security.sasl,
            Some(KafkaSasl::Password {
                mechanism: SaslMechanism::ScramSha512,
                username: "alice".into(),
                password: Secret::new("pa ss"),
            })
        );
        assert!(
            !format!("{c:?}").contains("pa ss"),
            "the password stays hidden"
        );

        let c = with(
            r#""kafka.security.protocol": "SASL_SSL", "kafka.sasl.mechanism": "AWS_MSK_IAM",
            "kafka.ssl.endpoint.identification.algorithm": "", "kafka.ssl.ca": "/ca.pem""#,
        )
        .unwrap();
        assert_eq!(
            c.kafka_security.sasl,
            Some(KafkaSasl::AwsMskIam { region: None })
        );
        assert!(!c.kafka_security.verify_hostname);
        assert_eq!(c.kafka_security.ssl_ca.as_deref(), Some("/ca.pem"));

        for (extra, want) in [
            (
                r#""kafka.security.protocol": "SASL_SSL""#,
                "needs kafka.sasl.mechanism",
            ),
            (
                r#""kafka.sasl.mechanism": "PLAIN""#,
                "needs kafka.security.protocol=SASL_SSL",
            ),
            (
                r#""kafka.security.protocol": "SASL_PLAINTEXT", "kafka.sasl.mechanism": "AWS_MSK_IAM""#,
                "TLS only",
            ),
            (
                r#""kafka.security.protocol": "SASL_SSL", "kafka.sasl.mechanism": "SCRAM-SHA-256", "kafka.sasl.username": "u""#,
                "needs kafka.sasl.username and kafka.sasl.password",
            ),
            (
                r#""kafka.security.protocol": "SASL_SSL", "kafka.sasl.mechanism": "GSSAPI""#,
                "unsupported \"GSSAPI\"",
            ),
            (r#""kafka.ssl.ca": "/ca.pem""#, "has no TLS"),
            (
                r#""kafka.security.protocol": "TLS""#,
                "one of PLAINTEXT, SSL",
            ),
        ] {
            let msg = with(extra).unwrap_err();
            assert!(msg.contains(want), "{extra}: {msg}");
        }
    }

    #[test]
    fn jaas_options_are_read_by_name() {
        let j = r#"x.ScramLoginModule required  username = "u1" password="p=\"" ;"#;
        assert_eq!(jaas_option(j, "username").as_deref(), Some("u1"));
        assert_eq!(jaas_option(j, "password").as_deref(), Some("p=\\"));
        assert_eq!(jaas_option("myusername=\"x\"", "username"), None);
    }

    #[test]
    fn tls_settings() {
        let c = Config::from_json(MINIMAL, no_env).unwrap();
        assert_eq!(c.ssl_mode, SslMode::Preferred, "Debezium's default");
        let text = MINIMAL.replace(
            "\"topic.prefix\"",
            r#""database.ssl.mode": "verify_identity", "database.ssl.ca": "/etc/rds.pem",
               "database.ssl.cert": "c.pem", "database.ssl.key": "k.pem", "topic.prefix""#,
        );
        let c = Config::from_json(&text, no_env).unwrap();
        assert_eq!(c.ssl_mode, SslMode::VerifyIdentity);
        assert_eq!(c.ssl_ca.as_deref(), Some("/etc/rds.pem"));
        assert!(!format!("{c:?}").contains("k.pem"), "the key stays hidden");
        let bad = MINIMAL.replace(
            "\"topic.prefix\"",
            r#""database.ssl.mode": "disabled", "database.ssl.ca": "x", "database.ssl.cert": "c", "topic.prefix""#,
        );
        let msg = Config::from_json(&bad, no_env).unwrap_err().to_string();
        assert!(
            msg.contains("go together") && msg.contains("disabled but"),
            "{msg}"
        );
    }

    #[test]
    fn bad_shaping_values_are_reported_together() {
        let text = MINIMAL.replace(
            "\"topic.prefix\"",
            r#""decimal.handling.mode": "exact", "column.mask.hash.MD4.with.salt.x": "a", "column.mask.with.x.chars": "b",
               "skipped.operations": "c,z", "message.key.columns": "nocolon", "topic.prefix""#,
        );
        let msg = Config::from_json(&text, no_env).unwrap_err().to_string();
        for needle in [
            "decimal.handling.mode",
            "MD4",
            "column.mask.with.x.chars",
            "\"z\"",
            "nocolon",
        ] {
            assert!(msg.contains(needle), "{needle} in {msg}");
        }
    }

    #[test]
    fn levenshtein_basics() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "ab"), 2);
    }
}
