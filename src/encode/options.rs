//! What shapes the output: Debezium's type-mapping modes, column rules and
//! the envelope switches. The configuration produces these
//! ([`crate::config::Config::encoder_options`]); the encoder reads nothing
//! else, so it can be driven by hand in tests and tools.

use crate::model::pattern::Patterns;

/// Options that shape the output, as the configuration sets them.
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
    /// `value.converter.replace.null.with.default`: a NULL in a column with a
    /// DEFAULT is written as the default, as Kafka's JsonConverter does.
    pub replace_null_with_default: bool,
    /// `key.converter.replace.null.with.default`, the same for keys.
    pub key_replace_null_with_default: bool,
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
            replace_null_with_default: true,
            key_replace_null_with_default: true,
        }
    }
}

/// The type-mapping modes of a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeOptions {
    /// `decimal.handling.mode`.
    pub decimal: DecimalMode,
    /// `bigint.unsigned.handling.mode`.
    pub bigint_unsigned: BigIntUnsignedMode,
    /// `binary.handling.mode`.
    pub binary: BinaryMode,
    /// `time.precision.mode`.
    pub time: TimePrecisionMode,
    /// Values of a snapshot read (`op: r`), which Debezium takes over JDBC:
    /// a TIMESTAMP's fraction without trailing zeros (`…:01.1Z` for
    /// TIMESTAMP(2)), where a binlog value has exactly its precision's digits.
    pub snapshot_read: bool,
}

impl Default for TypeOptions {
    /// Debezium's defaults.
    fn default() -> Self {
        Self {
            decimal: DecimalMode::Precise,
            bigint_unsigned: BigIntUnsignedMode::Long,
            binary: BinaryMode::Bytes,
            time: TimePrecisionMode::AdaptiveTimeMicroseconds,
            snapshot_read: false,
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
    /// Parses a Java `MessageDigest` name (`SHA-256`, also `SHA256`).
    pub fn parse(s: &str) -> Option<Self> {
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
