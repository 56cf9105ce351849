//! Plain data, no I/O: what flows through the pipeline.
//!
//! * [`change`]: a table's shape and one row change ([`RowChange`]), as the
//!   source produces them and the encoder consumes them;
//! * [`position`]: where the pipeline is in the binlog ([`BinlogPosition`],
//!   [`GtidSet`]) and what a checkpoint stores ([`Checkpoint`],
//!   [`TxProgress`], [`SnapshotState`], [`TxCounter`]);
//! * [`time`] and [`number`]: calendar arithmetic and Java's number printing,
//!   shared by the decoder and the encoder.
//!
//! Nothing here imports from another module of the crate.

pub mod change;
pub mod number;
pub mod pattern;
pub mod position;
pub mod time;

pub use change::{
    Cell, Column, ColumnDefault, ColumnType, Op, RowChange, SchemaChange, SourceInfo, SourceType,
    TableSchema,
};
pub use position::{
    BinlogPosition, Checkpoint, GtidSet, KeyValue, ParsePositionError, SnapshotProgress,
    SnapshotState, SnapshotTable, TxCounter, TxProgress,
};
