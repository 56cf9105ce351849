//! The data model between the source and the event encoder.
//!
//! The source turns binlog rows events into [`RowChange`]s: a table schema
//! (shared, built once per table map), an operation and the before/after
//! images as [`Cell`]s. Cells are typed by MySQL's storage, not by Kafka
//! Connect's: the encoder in [`crate::encode`] decides how each column type
//! appears in Debezium's JSON, so the decoding of the binlog and the shape of
//! the output can be tested apart.

use std::sync::Arc;

use crate::model::BinlogPosition;

/// MySQL column types, with what the encoder needs to map them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    /// TINYINT.
    TinyInt { unsigned: bool },
    /// SMALLINT.
    SmallInt { unsigned: bool },
    /// MEDIUMINT.
    MediumInt { unsigned: bool },
    /// INT.
    Int { unsigned: bool },
    /// BIGINT.
    BigInt { unsigned: bool },
    /// FLOAT.
    Float,
    /// DOUBLE / REAL.
    Double,
    /// DECIMAL(precision, scale).
    Decimal { precision: u8, scale: u8 },
    /// CHAR, VARCHAR, TEXT with a character set (not binary).
    String { charset: u16 },
    /// BINARY, VARBINARY, BLOB. `fixed` is BINARY(n)'s length: the binlog
    /// drops its trailing zero bytes, SELECT and Debezium pad them back.
    Bytes { fixed: Option<u16> },
    /// DATE.
    Date,
    /// DATETIME(fsp).
    DateTime { fsp: u8 },
    /// TIMESTAMP(fsp).
    Timestamp { fsp: u8 },
    /// TIME(fsp).
    Time { fsp: u8 },
    /// YEAR.
    Year,
    /// JSON.
    Json,
    /// ENUM with its allowed values (empty when unknown).
    Enum { values: Vec<String> },
    /// SET with its allowed values (empty when unknown).
    Set { values: Vec<String> },
    /// BIT(n).
    Bit { bits: u16 },
    /// GEOMETRY and its subtypes other than POINT.
    Geometry,
    /// POINT (Debezium gives it x and y besides the WKB).
    Point,
    /// A type we cannot decode yet; the column is emitted as a string.
    Unsupported { mysql_type: u8 },
}

impl ColumnType {
    /// Whether this is an UNSIGNED integer type.
    pub fn is_unsigned(&self) -> bool {
        matches!(
            self,
            ColumnType::TinyInt { unsigned: true }
                | ColumnType::SmallInt { unsigned: true }
                | ColumnType::MediumInt { unsigned: true }
                | ColumnType::Int { unsigned: true }
                | ColumnType::BigInt { unsigned: true }
        )
    }
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Its type.
    pub ty: ColumnType,
    /// Whether NULL is allowed (from the table map's null bitmap).
    pub nullable: bool,
    /// The type as the server declares it, for `column.propagate.source.type`,
    /// hash masking (cut to the length) and schema change events.
    pub source: SourceType,
    /// The column's DEFAULT (`information_schema`; table maps do not carry
    /// it), written into the field schema as Debezium does.
    pub default: Option<ColumnDefault>,
}

/// A column's DEFAULT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnDefault {
    /// A constant, as the server prints it, unquoted (`42`, `abc`, `2024-05-01`).
    Literal(String),
    /// `CURRENT_TIMESTAMP` / `NOW()`: Debezium writes the epoch.
    CurrentTimestamp,
}

impl Column {
    /// A column with no declared-type details.
    pub fn new(name: impl Into<String>, ty: ColumnType, nullable: bool) -> Self {
        Self {
            name: name.into(),
            ty,
            nullable,
            source: SourceType::default(),
            default: None,
        }
    }
}

/// A column's declared type, in Debezium's terms (`VARCHAR`, length 255).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceType {
    /// Upper-case type name with `UNSIGNED` where it applies (`INT UNSIGNED`).
    pub name: String,
    /// Declared length: characters for strings, bytes for binary strings,
    /// precision for DECIMAL, bits for BIT, fraction digits for temporal types.
    pub length: Option<u32>,
    /// DECIMAL scale.
    pub scale: Option<u32>,
}

/// A table's shape as the binlog described it at the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    /// Database (schema) name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Columns in table order.
    pub columns: Vec<Column>,
    /// Indexes into `columns` of the primary key, in key order. Empty for a
    /// table without a primary key (then records have a null key).
    pub key: Vec<usize>,
}

/// A column value as stored by MySQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// SQL NULL.
    Null,
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// FLOAT.
    Float(f32),
    /// DOUBLE.
    Double(f64),
    /// DECIMAL as its exact decimal string (`-12.340`).
    Decimal(String),
    /// Text, already decoded to UTF-8.
    Text(String),
    /// Raw bytes (binary strings, BIT, GEOMETRY).
    Bytes(Vec<u8>),
    /// DATE; zero dates keep their zeros.
    Date { year: u16, month: u8, day: u8 },
    /// DATETIME without time zone.
    DateTime {
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        micros: u32,
    },
    /// TIMESTAMP as seconds and microseconds since the epoch (UTC).
    Timestamp { secs: i64, micros: u32 },
    /// TIME as signed microseconds (may exceed a day, may be negative).
    Time { micros: i64 },
    /// YEAR.
    Year(u16),
    /// JSON, already converted to text JSON.
    Json(String),
    /// ENUM as its 1-based index (0 is the empty error value).
    Enum(u16),
    /// SET as its member bitmap.
    Set(u64),
}

impl Cell {
    /// A TIME value from the driver's parts (sign, days, hours, minutes,
    /// seconds, microseconds): MySQL TIME spans -838:59:59 to 838:59:59.
    pub fn time(
        negative: bool,
        days: u32,
        hours: u8,
        minutes: u8,
        seconds: u8,
        micros: u32,
    ) -> Self {
        let total = ((i64::from(days) * 24 + i64::from(hours)) * 3600
            + i64::from(minutes) * 60
            + i64::from(seconds))
            * 1_000_000
            + i64::from(micros);
        Cell::Time {
            micros: if negative { -total } else { total },
        }
    }
}

impl Cell {
    /// A TIMESTAMP from its UTC wall-clock parts (the snapshot session and
    /// DEFAULT constants are read in UTC).
    pub fn timestamp_utc(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        micros: u32,
    ) -> Self {
        let days =
            crate::model::time::days_from_civil(i64::from(year), u32::from(month), u32::from(day));
        Cell::Timestamp {
            secs: days * 86_400
                + i64::from(hour) * 3600
                + i64::from(minute) * 60
                + i64::from(second),
            micros,
        }
    }
}

/// The kind of row change, with Debezium's `op` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `c`
    Create,
    /// `u`
    Update,
    /// `d`
    Delete,
    /// `r` (snapshot read)
    Read,
    /// `t` (`TRUNCATE TABLE`; emitted when `skipped.operations` allows it)
    Truncate,
}

impl Op {
    /// Debezium's one-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Op::Create => "c",
            Op::Update => "u",
            Op::Delete => "d",
            Op::Read => "r",
            Op::Truncate => "t",
        }
    }
}

/// Where in the binlog a change came from, for the `source` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// Position of the rows event that carried the change.
    pub position: BinlogPosition,
    /// Index of the row within that rows event.
    pub row: u32,
    /// Binlog timestamp of the event, seconds since the epoch.
    pub ts_sec: u32,
    /// Originating server id.
    pub server_id: u32,
    /// GTID of the transaction (MySQL `uuid:n` or MariaDB `d-s-n`).
    pub gtid: Option<Arc<str>>,
    /// Thread id of the session that made the change, when known.
    pub thread: Option<u32>,
    /// `source.snapshot` for snapshot reads (`"true"`, `"last"`); `None`
    /// for streamed changes (`"false"`).
    pub snapshot: Option<&'static str>,
    /// The SQL statement that made the change (`include.query`; from the
    /// rows-query event MySQL writes with `binlog_rows_query_log_events`, or
    /// MariaDB's annotate-rows event).
    pub query: Option<Arc<str>>,
}

/// One row change.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    /// The table and its shape at the event.
    pub table: Arc<TableSchema>,
    /// The operation.
    pub op: Op,
    /// Row before the change (updates and deletes).
    pub before: Option<Vec<Cell>>,
    /// Row after the change (inserts, updates, reads).
    pub after: Option<Vec<Cell>>,
    /// Binlog coordinates.
    pub source: SourceInfo,
}

/// A DDL statement for the schema change topic.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaChange {
    /// The database it applies to (`databaseName`).
    pub database: String,
    /// The statement as the server logged it.
    pub ddl: String,
    /// `tableChanges`: Debezium's `{type, id, table}` objects.
    pub table_changes: Vec<serde_json::Value>,
    /// The table it touched, for `source.table`.
    pub table: Option<String>,
    /// Binlog coordinates.
    pub source: SourceInfo,
}
