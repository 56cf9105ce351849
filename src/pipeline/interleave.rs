//! The snapshot/stream interleave (DESIGN section 4).
//!
//! ```text
//! while a table is owed and the budget allows:
//!   read the next chunk of the first table: its rows are the table's state
//!     at binlog position P (read under LOCK TABLES t READ, P taken inside)
//!   stream the binlog from the checkpoint up to the first transaction that
//!     starts at or after P
//!   emit the chunk's rows as op "r" at P; move the table's cursor
//! then stream the rest of the log
//! ```
//!
//! Placing the chunk at P keeps the global order: everything before P is
//! already in the stream, everything after P follows it. If the stream
//! cannot reach P in this poll (budget, deadline), the chunk is dropped
//! unpublished and read again by the next poll; the cursor only moves once
//! the chunk is in the stream, and the checkpoint only once it is
//! acknowledged. A chunk whose lock was not granted in time is left to a
//! later poll too.

use std::collections::HashMap;

use super::options::PollOptions;
use super::streamer::{Pump, Streamer};
use crate::config::{Config, SnapshotMode};
use std::time::Instant;

use super::bounded;
use crate::error::Result;
use crate::model::BinlogPosition;
use crate::offsets::OffsetStore;
use crate::sink::Sink;
use crate::source::{ChunkSource, Database, ServerInfo, Source, TableInfo};

/// Runs the snapshot chunks the streamer owes, each at its place in the
/// stream, then streams the rest of the log (unless `initial_only` has just
/// finished its snapshot).
pub(super) async fn run<D: Database, K: Sink, O: OffsetStore>(
    config: &Config,
    db: &mut D,
    st: &mut Streamer<'_, K, O>,
    info: &ServerInfo,
    opts: &PollOptions,
) -> Result<()> {
    if st.snapshot().is_some() {
        let mut reader = bounded(opts, "connecting the snapshot reader", db.chunk_reader()).await?;
        match Box::pin(snapshot_chunks(config, db, &mut reader, st, info, opts)).await {
            Ok(Chunks::Done) => {
                let _ = tokio::time::timeout(ABORT_LIMIT, reader.close()).await;
            }
            // The reader is in the middle of a query, perhaps holding its
            // table lock: its session is killed (bounded: the final publish
            // and checkpoint keep their reserve).
            Ok(Chunks::ReaderStuck) => {
                let _ = tokio::time::timeout(ABORT_LIMIT, reader.abort()).await;
            }
            Err(e) => {
                let _ = tokio::time::timeout(ABORT_LIMIT, reader.close()).await;
                return Err(e);
            }
        }
    }
    let stop_after_snapshot = config.snapshot_mode == SnapshotMode::InitialOnly
        && st.initial_snapshot_done()
        && st.snapshot().is_none();
    if !stop_after_snapshot && st.can_continue() {
        pump_from_checkpoint(db, st, info, opts, None).await?;
    }
    Ok(())
}

/// The longest closing a dump or a chunk reader, or killing a stuck one,
/// may take: the final publish and checkpoint keep their reserve.
const ABORT_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How the snapshot part of a poll ended.
enum Chunks {
    /// Done for this poll (snapshot complete, budget, lock not granted).
    Done,
    /// A table lookup or chunk read did not answer before the read deadline.
    ReaderStuck,
}

async fn snapshot_chunks<D: Database, K: Sink, O: OffsetStore>(
    config: &Config,
    db: &mut D,
    reader: &mut D::Chunks,
    st: &mut Streamer<'_, K, O>,
    info: &ServerInfo,
    opts: &PollOptions,
) -> Result<Chunks> {
    let mut tables: HashMap<(String, String), Option<TableInfo>> = HashMap::new();
    while st.can_continue() {
        let Some(front) = st.snapshot().and_then(|s| s.tables.first()).cloned() else {
            break;
        };
        let key = (front.db.clone(), front.table.clone());
        if !tables.contains_key(&key) {
            let left = opts.read_deadline.saturating_duration_since(Instant::now());
            let Ok(t) = tokio::time::timeout(left, reader.table(&front.db, &front.table)).await
            else {
                tracing::warn!(db = %front.db, table = %front.table, "the table's metadata did not arrive before the read deadline; the snapshot goes on next poll");
                return Ok(Chunks::ReaderStuck);
            };
            tables.insert(key.clone(), t?);
        }
        let Some(table) = tables.get(&key).cloned().flatten() else {
            st.skip_snapshot_table();
            continue;
        };
        if front.key_columns.is_empty() && !table.chunk_key.is_empty() {
            st.set_snapshot_key(
                table
                    .chunk_key
                    .iter()
                    .map(|&i| table.schema.columns[i].name.clone())
                    .collect(),
            );
        }
        let select_override = config
            .snapshot_overrides
            .get(&format!("{}.{}", front.db, front.table));
        let left = opts.read_deadline.saturating_duration_since(Instant::now());
        let read = reader.read_chunk(
            &table,
            front.cursor.as_deref(),
            config.snapshot_chunk_size,
            select_override.map(String::as_str),
        );
        let Ok(read) = tokio::time::timeout(left, read).await else {
            // Nothing of the chunk is in the stream: it is read again next poll.
            tracing::warn!(db = %front.db, table = %front.table, "a snapshot chunk did not arrive before the read deadline; it is read again next poll");
            return Ok(Chunks::ReaderStuck);
        };
        let Some(chunk) = read? else {
            // Lock not granted in time: stream now, retry the chunk next poll.
            break;
        };
        tracing::debug!(db = %front.db, table = %front.table, rows = chunk.rows.len(), lock_ms = chunk.lock_held.as_secs_f64() * 1000.0, position = %chunk.position, "snapshot chunk read");
        if chunk.position > *st.boundary() || st.resume_transaction().is_some() {
            match pump_from_checkpoint(db, st, info, opts, Some(&chunk.position)).await? {
                Pump::ReachedStop | Pump::End => {}
                // Not at the chunk's position yet: drop the chunk, read it again next poll.
                Pump::Budget | Pump::Deadline => break,
            }
        }
        st.emit_chunk(&table.schema, chunk).await?;
    }
    Ok(Chunks::Done)
}

/// Opens a dump where the streamer's checkpoint resumes and pumps it (up to
/// the first transaction at or after `stop_at`, if given); the dump is
/// closed whatever happened.
async fn pump_from_checkpoint<D: Database, K: Sink, O: OffsetStore>(
    db: &mut D,
    st: &mut Streamer<'_, K, O>,
    info: &ServerInfo,
    opts: &PollOptions,
    stop_at: Option<&BinlogPosition>,
) -> Result<Pump> {
    let start = st.start_at(info.gtid_mode());
    let open = db.open_binlog(
        info.flavor,
        &start,
        st.resume_transaction(),
        opts.read_deadline,
    );
    let mut source = bounded(opts, "opening the binlog dump", open).await?;
    // Boxed: the pump's state (a source read, decode, metadata queries, a
    // send) is deep; on the heap it does not grow the caller's stack.
    let pumped = Box::pin(st.pump(&mut source, stop_at)).await;
    let _ = tokio::time::timeout(ABORT_LIMIT, source.close()).await;
    pumped
}
