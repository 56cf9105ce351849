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
//! [`BinlogSource`] reads a real server; `MemorySource` (feature
//! `testing`) replays a list for unit tests of the poller.
//!
//! A poll reaches the database through the [`Database`] trait: its
//! settings and end of the log, its binlog ([`Source`]) and its tables in
//! chunks ([`ChunkSource`]). [`MySqlDatabase`] is the real one;
//! `MemoryDatabase` (feature `testing`) runs whole polls in memory.

mod binlog;
pub(crate) mod ddl;
mod decode;
mod json_text;
#[cfg(any(test, feature = "testing"))]
mod memory;
mod mysql;
mod privileges;
mod schema;
mod server;
mod snapshot;
mod snapshot_ddl;
mod start;
mod table_json;

#[cfg(any(test, feature = "testing"))]
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

pub use binlog::{BinlogSource, StartAt};
#[cfg(any(test, feature = "testing"))]
pub use memory::{MemoryDatabase, RowWrite, Writer, MEMORY_BINLOG};
pub use mysql::MySqlDatabase;
pub use privileges::{grant_statement, privilege_name};
pub(crate) use privileges::{missing_privileges, REQUIRED_PRIVILEGES};
pub use schema::TableInfo;
pub(crate) use schema::{list_tables, row_estimates};
pub(crate) use server::{binlog_retention, connect, tls_session};
pub use server::{Flavor, ServerInfo};
pub use snapshot::{Chunk, ChunkReader};
pub(crate) use start::checkpoint_at;
pub use start::StartTarget;

use crate::error::Result;
use crate::model::{BinlogPosition, Checkpoint, KeyValue, RowChange, SchemaChange, TxProgress};

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

    /// Ends the dump (closes its connection).
    fn close(self) -> impl Future<Output = ()> + Send
    where
        Self: Sized;
}

/// The database one poll reads: its settings and end of the log (to plan
/// the poll), its binlog from a position, and its tables chunk by chunk.
///
/// [`MySqlDatabase`] is the real one (MySQL or MariaDB over the network);
/// `MemoryDatabase` (feature `testing`) runs whole polls in unit tests.
pub trait Database: Send {
    /// A dump of the binlog.
    type Binlog: Source;
    /// A reader of snapshot chunks.
    type Chunks: ChunkSource;

    /// The server's identity, binlog settings and current end of the log.
    fn server_info(&mut self) -> impl Future<Output = Result<ServerInfo>> + Send;

    /// Whether `cp`'s resume point is still on the server (not purged).
    fn resume_point_available(
        &mut self,
        info: &ServerInfo,
        cp: &Checkpoint,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Every user table, `(db, table)`.
    fn list_tables(&mut self) -> impl Future<Output = Result<Vec<(String, String)>>> + Send;

    /// Estimated row counts of `tables` (`information_schema.TABLES`'s
    /// `TABLE_ROWS`, which InnoDB samples), for snapshot progress only;
    /// tables it has no figure for are left out.
    fn row_estimates(
        &mut self,
        tables: &[(String, String)],
    ) -> impl Future<Output = Result<Vec<((String, String), u64)>>> + Send;

    /// The schema change events an initial snapshot at `at` writes before
    /// its first row (Debezium's schema snapshot), `captured` telling the
    /// tables the snapshot reads. None by default.
    fn schema_snapshot(
        &mut self,
        at: &BinlogPosition,
        captured: &(dyn Fn(&str, &str) -> bool + Sync),
    ) -> impl Future<Output = Result<Vec<SchemaChange>>> + Send {
        let _ = (at, captured);
        async { Ok(Vec::new()) }
    }

    /// Planning is over: the metadata connection is not needed any more.
    fn end_planning(&mut self) -> impl Future<Output = ()> + Send;

    /// Opens a dump at `start` that stops at the end of the log or at
    /// `deadline`; with `resume`, the rows events of that transaction that
    /// were already published need not be decoded.
    fn open_binlog(
        &mut self,
        flavor: Flavor,
        start: &StartAt,
        resume: Option<TxProgress>,
        deadline: Instant,
    ) -> impl Future<Output = Result<Self::Binlog>> + Send;

    /// A reader of snapshot chunks (a connection of its own, holding the
    /// short table locks).
    fn chunk_reader(&mut self) -> impl Future<Output = Result<Self::Chunks>> + Send;
}

/// Reads a table chunk by chunk, each chunk under a short table lock
/// together with the binlog position it is the state of.
pub trait ChunkSource: Send {
    /// The table's schema and chunk key; `None` when it no longer exists.
    fn table(
        &mut self,
        db: &str,
        table: &str,
    ) -> impl Future<Output = Result<Option<TableInfo>>> + Send;

    /// The rows after `cursor` in key order (at most `limit`), with the
    /// position they are the state of; `None` when the lock was not granted
    /// in time.
    fn read_chunk(
        &mut self,
        info: &TableInfo,
        cursor: Option<&[KeyValue]>,
        limit: usize,
        select_override: Option<&str>,
    ) -> impl Future<Output = Result<Option<Chunk>>> + Send;

    /// Closes the reader.
    fn close(self) -> impl Future<Output = ()> + Send
    where
        Self: Sized;

    /// Ends a reader stuck in the middle of a read (its table lock may be
    /// held): the server must end its session now, not when a background
    /// cleanup gets to it.
    fn abort(self) -> impl Future<Output = ()> + Send
    where
        Self: Sized;
}

#[cfg(any(test, feature = "testing"))]
/// Replays a fixed list of events, for unit tests.
#[derive(Debug, Default)]
pub struct MemorySource {
    /// Events still to be returned.
    pub events: VecDeque<SourceEvent>,
    /// At the end of `events`, never answer (a server or metadata query
    /// that hangs) instead of reporting the end of the log.
    pub stall_at_end: bool,
}

#[cfg(any(test, feature = "testing"))]
impl MemorySource {
    /// A source that yields `events` in order.
    pub fn new(events: impl IntoIterator<Item = SourceEvent>) -> Self {
        Self {
            events: events.into_iter().collect(),
            stall_at_end: false,
        }
    }
}

#[cfg(any(test, feature = "testing"))]
impl Source for MemorySource {
    async fn next(&mut self) -> Result<Option<SourceEvent>> {
        if self.events.is_empty() && self.stall_at_end {
            std::future::pending::<()>().await;
        }
        Ok(self.events.pop_front())
    }

    fn reached_end(&self) -> bool {
        self.events.is_empty()
    }

    async fn close(self) {}
}

/// What a DDL statement publishes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DdlEvent {
    /// The schema change event (`include.schema.changes`).
    pub schema_change: Option<SchemaChange>,
    /// A `t` event for `TRUNCATE TABLE` (when `skipped.operations` allows).
    pub truncate: Option<RowChange>,
}
