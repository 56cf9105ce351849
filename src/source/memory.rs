//! A database in memory, for unit tests of the pipeline: a binlog of
//! [`SourceEvent`]s with positions, tables of rows, and writers that run
//! between snapshot chunks, the way concurrent traffic interleaves with a
//! chunked snapshot on a real server.
//!
//! Positions follow the real layout closely enough for the pipeline's
//! rules: a transaction written at `s` is `Begin` at `s`, its rows events at
//! `s + 10 + i`, and `Commit` at `s + 90` with the next transaction at
//! `s + 100`. A dump opened at `p` yields every event at or after `p`, as a
//! non-blocking `COM_BINLOG_DUMP` does, and ends at the end of the log as it
//! was when the dump was opened.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{
    ChunkSource, Database, Flavor, MemorySource, ServerInfo, SourceEvent, StartAt, TableInfo,
};
use crate::error::{Error, Result};
use crate::model::{
    BinlogPosition, Cell, Checkpoint, KeyValue, Op, RowChange, SourceInfo, TableSchema, TxProgress,
};
use crate::source::Chunk;

/// The binlog file every event of a [`MemoryDatabase`] is in.
pub const MEMORY_BINLOG: &str = "memory-bin.000001";

/// A write to run after a snapshot chunk was read (while the poll goes on).
pub type Writer = Box<dyn FnOnce(&MemoryDatabase) + Send>;

/// One row change to write: operation, row before, row after.
pub type RowWrite = (Op, Option<Vec<Cell>>, Option<Vec<Cell>>);

/// A table: its shape and chunk key, and its rows in key order.
type Table = (TableInfo, Vec<Vec<Cell>>);

#[derive(Default)]
struct State {
    log: Vec<(u64, SourceEvent)>,
    end: u64,
    tables: BTreeMap<(String, String), Table>,
    after_chunk: Vec<Writer>,
    chunks_read: usize,
    purged: bool,
    stall_chunk_reads: bool,
    stall_binlog: bool,
    aborted_readers: usize,
}

/// A [`Database`] in memory; clones share the same state.
#[derive(Clone, Default)]
pub struct MemoryDatabase {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for MemoryDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("MemoryDatabase")
            .field("events", &s.log.len())
            .field("end", &s.end)
            .field("tables", &s.tables.len())
            .finish()
    }
}

impl MemoryDatabase {
    /// An empty database whose binlog ends at offset 4 (after the magic).
    pub fn new() -> Self {
        let db = Self::default();
        db.lock().end = 4;
        db
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a table (its rows are kept sorted by `schema.key`).
    pub fn create_table(&self, schema: Arc<TableSchema>) {
        let info = TableInfo {
            chunk_key: schema.key.clone(),
            schema: Arc::clone(&schema),
        };
        self.lock().tables.insert(
            (schema.db.clone(), schema.table.clone()),
            (info, Vec::new()),
        );
    }

    /// Commits one transaction of row changes `(op, before, after)` to
    /// `db.table`: applies them to the table and appends them to the binlog
    /// as one rows event. Returns where the transaction starts.
    pub fn write(&self, db: &str, table: &str, changes: Vec<RowWrite>) -> BinlogPosition {
        let mut s = self.lock();
        let start = s.end;
        let key = (db.to_string(), table.to_string());
        let (info, rows) = s.tables.get_mut(&key).expect("table created first");
        let schema = Arc::clone(&info.schema);
        let key_cols = info.chunk_key.clone();
        let key_of = |r: &[Cell]| ordered(&key_cells(r, &key_cols));
        let mut events = Vec::new();
        for (i, (op, before, after)) in changes.into_iter().enumerate() {
            if let Some(b) = &before {
                rows.retain(|r| key_of(r) != key_of(b));
            }
            if let Some(a) = &after {
                rows.retain(|r| key_of(r) != key_of(a));
                rows.push(a.clone());
            }
            events.push(RowChange {
                table: Arc::clone(&schema),
                op,
                before,
                after,
                source: SourceInfo {
                    position: BinlogPosition::new(MEMORY_BINLOG, start + 10),
                    row: i as u32,
                    ts_sec: 1,
                    server_id: 1,
                    gtid: None,
                    thread: None,
                    snapshot: None,
                    query: None,
                },
            });
        }
        rows.sort_by_key(|r| key_of(r));
        let pos = |p: u64| BinlogPosition::new(MEMORY_BINLOG, p);
        s.log.push((
            start,
            SourceEvent::Begin {
                start: pos(start),
                gtid: None,
                mysql_gtid: None,
            },
        ));
        s.log.push((start + 10, SourceEvent::Rows(events)));
        s.log.push((
            start + 90,
            SourceEvent::Commit {
                next: pos(start + 100),
                ts_sec: 1,
            },
        ));
        s.end = start + 100;
        pos(start)
    }

    /// Runs `writer` after the next snapshot chunk not yet followed by one
    /// (in the order given): traffic that arrives while the snapshot is
    /// under way.
    pub fn after_chunk(&self, writer: Writer) {
        self.lock().after_chunk.push(writer);
    }

    /// From now on, chunk reads never answer (a lock or query that hangs).
    pub fn stall_chunk_reads(&self) {
        self.lock().stall_chunk_reads = true;
    }

    /// From now on, dumps never answer at the end of the log instead of
    /// reporting it (a metadata query or a server that hangs).
    pub fn stall_binlog_at_end(&self) {
        self.lock().stall_binlog = true;
    }

    /// Marks every position as purged from the server.
    pub fn purge_all(&self) {
        self.lock().purged = true;
    }

    /// The current end of the binlog.
    pub fn end(&self) -> BinlogPosition {
        BinlogPosition::new(MEMORY_BINLOG, self.lock().end)
    }

    /// The rows `db.table` holds now, in key order.
    pub fn rows(&self, db: &str, table: &str) -> Vec<Vec<Cell>> {
        self.lock()
            .tables
            .get(&(db.to_string(), table.to_string()))
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    }

    /// Chunk readers aborted (killed) so far.
    pub fn aborted_readers(&self) -> usize {
        self.lock().aborted_readers
    }

    /// Snapshot chunks read so far.
    pub fn chunks_read(&self) -> usize {
        self.lock().chunks_read
    }
}

/// A key value in a comparable form (memory tables key by integers; other
/// cells compare by their debug text, which is enough for tests).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Ordered {
    Int(i128),
    Text(String),
}

fn ordered(key: &[KeyValue]) -> Vec<Ordered> {
    key.iter()
        .map(|k| match k {
            KeyValue::Int(v) => Ordered::Int(i128::from(*v)),
            KeyValue::UInt(v) => Ordered::Int(i128::from(*v)),
            KeyValue::Text(t) | KeyValue::Bytes(t) => Ordered::Text(t.clone()),
        })
        .collect()
}

fn key_cells(row: &[Cell], key: &[usize]) -> Vec<KeyValue> {
    key.iter()
        .map(|&i| match &row[i] {
            Cell::Int(v) => KeyValue::Int(*v),
            Cell::UInt(v) => KeyValue::UInt(*v),
            other => KeyValue::Text(format!("{other:?}")),
        })
        .collect()
}

impl Database for MemoryDatabase {
    type Binlog = MemorySource;
    type Chunks = MemoryDatabase;

    async fn server_info(&mut self) -> Result<ServerInfo> {
        let vars: HashMap<String, String> = [
            ("log_bin", "ON"),
            ("binlog_format", "ROW"),
            ("binlog_row_image", "FULL"),
            ("binlog_row_metadata", "FULL"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Ok(ServerInfo {
            server: "memory".into(),
            flavor: Flavor::MySql,
            version: "memory".into(),
            vars,
            end: self.end(),
            gtid_executed: None,
        })
    }

    async fn resume_point_available(&mut self, _: &ServerInfo, _: &Checkpoint) -> Result<bool> {
        Ok(!self.lock().purged)
    }

    async fn list_tables(&mut self) -> Result<Vec<(String, String)>> {
        Ok(self.lock().tables.keys().cloned().collect())
    }

    async fn row_estimates(
        &mut self,
        tables: &[(String, String)],
    ) -> Result<Vec<((String, String), u64)>> {
        let s = self.lock();
        Ok(tables
            .iter()
            .filter_map(|k| Some((k.clone(), s.tables.get(k)?.1.len() as u64)))
            .collect())
    }

    async fn end_planning(&mut self) {}

    async fn open_binlog(
        &mut self,
        _: Flavor,
        start: &StartAt,
        _resume: Option<TxProgress>,
        _deadline: Instant,
    ) -> Result<MemorySource> {
        let StartAt::Position(p) = start else {
            return Err(Error::Decode {
                position: "memory".into(),
                reason: "the memory database has no GTIDs".into(),
            });
        };
        // Already published rows events of a resumed transaction come again
        // in full; the streamer passes over them by count.
        let s = self.lock();
        let mut source = MemorySource::new(
            s.log
                .iter()
                .filter(|(at, _)| *at >= p.pos)
                .map(|(_, e)| e.clone()),
        );
        source.stall_at_end = s.stall_binlog;
        Ok(source)
    }

    async fn chunk_reader(&mut self) -> Result<MemoryDatabase> {
        Ok(self.clone())
    }
}

impl ChunkSource for MemoryDatabase {
    async fn table(&mut self, db: &str, table: &str) -> Result<Option<TableInfo>> {
        Ok(self
            .lock()
            .tables
            .get(&(db.to_string(), table.to_string()))
            .map(|(info, _)| info.clone()))
    }

    async fn read_chunk(
        &mut self,
        info: &TableInfo,
        cursor: Option<&[KeyValue]>,
        limit: usize,
        _select_override: Option<&str>,
    ) -> Result<Option<Chunk>> {
        if self.lock().stall_chunk_reads {
            std::future::pending::<()>().await;
        }
        let chunk = {
            let mut s = self.lock();
            s.chunks_read += 1;
            let end = s.end;
            let key = (info.schema.db.clone(), info.schema.table.clone());
            let rows = s
                .tables
                .get(&key)
                .map(|(_, r)| r.clone())
                .unwrap_or_default();
            let after: Vec<Vec<Cell>> = rows
                .into_iter()
                .filter(|r| {
                    cursor.is_none_or(|c| ordered(&key_cells(r, &info.chunk_key)) > ordered(c))
                })
                .collect();
            let more = after.len() > limit;
            let rows: Vec<Vec<Cell>> = after.into_iter().take(limit).collect();
            Chunk {
                last_key: rows.last().map(|r| key_cells(r, &info.chunk_key)),
                rows,
                more,
                position: BinlogPosition::new(MEMORY_BINLOG, end),
                lock_held: std::time::Duration::ZERO,
            }
        };
        // "UNLOCK TABLES": writers waiting on the lock go on.
        let writer = {
            let mut s = self.lock();
            (!s.after_chunk.is_empty()).then(|| s.after_chunk.remove(0))
        };
        if let Some(w) = writer {
            w(self);
        }
        Ok(Some(chunk))
    }

    async fn close(self) {}

    async fn abort(self) {
        self.lock().aborted_readers += 1;
    }
}
