//! The source: MySQL's binlog as a sequence of transaction-shaped events.
//!
//! [`Source::next`] yields [`SourceEvent`]s: a transaction's `Begin` (with
//! the position of its first event, which is where a partial transaction
//! is re-read from), one `Rows` per binlog rows event (empty when the table
//! is not captured, so the poller can count rows events for
//! [`crate::model::TxProgress`]), and `Commit` with the position where the
//! next transaction starts. Outside transactions the log may `Advance`
//! (rotations, DDL, heartbeats), which moves the checkpoint without data.
//!
//! `None` means the source reached the current end of the binlog (drain
//! mode, `BINLOG_DUMP_NON_BLOCK`) or its read deadline.
//!
//! [`BinlogSource`] reads a real server; [`MemorySource`] replays a list for
//! unit tests of the poller.

mod binlog;
pub mod ddl;
mod decode;
mod schema;
mod server;
mod snapshot;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

pub use binlog::{BinlogSource, StartAt};
pub use decode::{cell_from_binlog, table_schema_from_tme};
pub use schema::{
    column_type_from, list_tables, load_defaults, load_table, parse_default, TableInfo,
};
pub use server::{
    binlog_retention, connect, missing_privileges, tls_session, Flavor, Retention, ServerInfo,
    REQUIRED_PRIVILEGES,
};
pub use snapshot::{cell_from_snapshot, Chunk, ChunkReader};

use crate::error::Result;
use crate::model::BinlogPosition;
use crate::model::{RowChange, SchemaChange};

/// One step of the binlog, shaped for checkpointing.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceEvent {
    /// A transaction starts.
    Begin {
        /// Position of its first event.
        start: BinlogPosition,
        /// Its GTID as printed in events (`uuid:n` or MariaDB `d-s-n`).
        gtid: Option<Arc<str>>,
        /// MySQL GTID parts (source id, gno) to add to the executed set.
        mysql_gtid: Option<(String, u64)>,
    },
    /// One rows event; empty when its table is not captured.
    Rows(Vec<RowChange>),
    /// The transaction committed.
    Commit {
        /// Where the next transaction starts.
        next: BinlogPosition,
        /// Event timestamp, seconds since the epoch.
        ts_sec: u32,
    },
    /// A DDL statement on a captured table or database (inside its own
    /// statement group, before its `Commit`).
    Ddl(Box<DdlEvent>),
    /// The log moved on outside any transaction.
    Advance {
        /// The new resume position.
        next: BinlogPosition,
        /// Event timestamp, seconds since the epoch (0 if unknown).
        ts_sec: u32,
    },
}

/// A stream of [`SourceEvent`]s.
pub trait Source: Send {
    /// The next event, or `None` at the end of the log or the deadline.
    fn next(&mut self) -> impl Future<Output = Result<Option<SourceEvent>>> + Send;

    /// Whether the last `None` meant "end of the log" (rather than a deadline).
    fn reached_end(&self) -> bool;
}

/// Replays a fixed list of events, for unit tests.
#[derive(Debug, Default)]
pub struct MemorySource {
    /// Events still to be returned.
    pub events: VecDeque<SourceEvent>,
}

impl MemorySource {
    /// A source that yields `events` in order.
    pub fn new(events: impl IntoIterator<Item = SourceEvent>) -> Self {
        Self {
            events: events.into_iter().collect(),
        }
    }
}

impl Source for MemorySource {
    async fn next(&mut self) -> Result<Option<SourceEvent>> {
        Ok(self.events.pop_front())
    }

    fn reached_end(&self) -> bool {
        self.events.is_empty()
    }
}

/// What a DDL statement publishes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DdlEvent {
    /// The schema change event (`include.schema.changes`).
    pub schema_change: Option<SchemaChange>,
    /// A `t` event for `TRUNCATE TABLE` (when `skipped.operations` allows).
    pub truncate: Option<RowChange>,
}
