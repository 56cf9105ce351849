//! One poll, end to end.
//!
//! ```text
//! lease → load checkpoint → check server → open dump at the resume point
//!   → loop: event → records in a bounded buffer → (full?) send, wait for acks,
//!           checkpoint (at most every offset.flush.interval.ms)
//!   → end of log / budget → send the rest → checkpoint → release
//! ```
//!
//! **What a checkpoint means.** After `Sink::send` returned, every record of
//! every row change handled so far is acknowledged. The checkpoint written
//! then describes exactly that prefix of the binlog:
//! * between transactions: the position (and GTID set) after the last
//!   committed transaction;
//! * inside a transaction (a buffer filled up, or the event budget ran out,
//!   in the middle of a large one): the last boundary plus a
//!   [`TxProgress`] — the transaction's start and how many rows events and
//!   row images of it are done. The next poll re-reads the transaction from
//!   its start (a dump cannot start mid-transaction: table maps precede the
//!   rows) and skips what was done. Memory never holds more than one buffer.
//!
//! A crash anywhere before the checkpoint write leaves the previous
//! checkpoint in place, so the next poll re-sends from there: duplicates are
//! possible (at-least-once), gaps are not. Every record carries its binlog
//! coordinates (`source.file`, `pos`, `row`, `gtid`) for consumers that drop
//! duplicates. The lease epoch fences a stale poller's writes.

mod holdback;
mod options;
mod plan;
mod streamer;
#[cfg(test)]
mod tests;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

pub use options::{PollOptions, PollStatus, PollSummary};
pub(crate) use plan::queue;
pub(crate) use streamer::now_us;
pub use streamer::{Pump, Streamer};

use crate::config::{Config, SnapshotMode};
use crate::encode::{EncoderOptions, EventEncoder};
use crate::error::Result;
use crate::model::Checkpoint;
use crate::offsets::{new_owner_id, Acquire, Lease, OffsetStore};
use crate::sink::{KafkaSink, Sink};
use crate::source::{connect, BinlogSource, ChunkReader, ServerInfo, Source, TableInfo};

/// The streaming loop alone: reads `source` from `start` to its end,
/// publishes to `sink`, checkpoints to `store` under `lease`. Generic so
/// that it runs unchanged against memory implementations in unit tests.
pub async fn stream<S: Source, K: Sink, O: OffsetStore>(
    source: &mut S,
    sink: &mut K,
    store: &O,
    lease: &Lease,
    encoder: &mut EventEncoder,
    start: Checkpoint,
    opts: &PollOptions,
) -> Result<PollSummary> {
    let mut st = Streamer::new(sink, store, lease, encoder, start, opts);
    st.pump(source, None).await?;
    st.finish().await
}
/// Takes the lease, runs one poll against the configured servers and
/// releases the lease. Returns a `lease_held` summary (not an error) when
/// another poller is running.
pub async fn poll_once<O: OffsetStore>(
    config: &Config,
    store: &O,
    deadline: Instant,
) -> Result<PollSummary> {
    poll_once_with_stop(config, store, deadline, Arc::new(AtomicBool::new(false))).await
}

/// [`poll_once`] that also ends early (sending and checkpointing what it
/// read) when `stop` is set.
pub async fn poll_once_with_stop<O: OffsetStore>(
    config: &Config,
    store: &O,
    deadline: Instant,
    stop: Arc<AtomicBool>,
) -> Result<PollSummary> {
    let mut opts = PollOptions::from_config(config, deadline);
    opts.stop = stop;
    let owner = new_owner_id();
    let lease = match store.acquire(&owner, opts.lease_ttl).await? {
        Acquire::Acquired(l) => l,
        Acquire::Held { owner, expires_ms } => {
            tracing::info!(holder = %owner, expires_ms, "lease held by another poller; exiting");
            return Ok(PollSummary {
                connector: config.name.clone(),
                status: PollStatus::LeaseHeld,
                lease_holder: Some(owner),
                ..Default::default()
            });
        }
    };
    let result = poll_with_lease(config, store, &lease, &opts).await;
    if let Err(e) = store.release(&lease).await {
        tracing::warn!(error = %e, "could not release the lease; it expires by itself");
    }
    let mut summary = result?;
    summary.connector = config.name.clone();
    Ok(summary)
}

async fn poll_with_lease<O: OffsetStore>(
    config: &Config,
    store: &O,
    lease: &Lease,
    opts: &PollOptions,
) -> Result<PollSummary> {
    let server = config.server();
    let mut meta = connect(config).await?;
    let info = ServerInfo::read(&mut meta, &server).await?;
    for w in info.check(config.include_query)? {
        tracing::warn!(server = %server, "{w}");
    }
    let start = plan::plan_start(config, lease, &info, &mut meta, store).await?;
    let _ = meta.disconnect().await;
    if config.snapshot_mode == SnapshotMode::InitialOnly
        && start.initial_snapshot_done
        && start.snapshot.is_none()
    {
        return Ok(PollSummary {
            status: PollStatus::SnapshotComplete,
            first_position: Some(start.position.to_string()),
            last_position: Some(start.position.to_string()),
            ..Default::default()
        });
    }
    // The sink connects before reading so a dead broker fails fast.
    let mut sink = KafkaSink::connect(config.into()).await?;
    let mut encoder = EventEncoder::new(EncoderOptions::from(config));
    let mut st = Streamer::new(&mut sink, store, lease, &mut encoder, start, opts);
    let gtid_mode = info.gtid_mode();

    if st.snapshot().is_some() {
        let mut reader = ChunkReader::connect(config, config.snapshot_lock_timeout).await?;
        let mut tables: std::collections::HashMap<(String, String), Option<TableInfo>> =
            Default::default();
        while st.can_continue() {
            let Some(front) = st.snapshot().and_then(|s| s.tables.first()).cloned() else {
                break;
            };
            let key = (front.db.clone(), front.table.clone());
            if !tables.contains_key(&key) {
                let t = reader.table(&front.db, &front.table).await?;
                tables.insert(key.clone(), t);
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
            let Some(chunk) = reader
                .read_chunk(
                    &table,
                    front.cursor.as_deref(),
                    config.snapshot_chunk_size,
                    select_override.map(String::as_str),
                )
                .await?
            else {
                // Lock not granted in time: stream now, retry the chunk next poll.
                break;
            };
            tracing::debug!(db = %front.db, table = %front.table, rows = chunk.rows.len(), lock_ms = chunk.lock_held.as_secs_f64() * 1000.0, position = %chunk.position, "snapshot chunk read");
            if chunk.position > *st.boundary() || st.resume_transaction().is_some() {
                let mut source = BinlogSource::open(
                    config,
                    info.flavor,
                    &st.start_at(gtid_mode),
                    st.resume_transaction(),
                    opts.read_deadline,
                )
                .await?;
                let pumped = st.pump(&mut source, Some(&chunk.position)).await;
                source.close().await;
                match pumped? {
                    Pump::ReachedStop | Pump::End => {}
                    // Not at the chunk's position yet: drop the chunk, read it again next poll.
                    Pump::Budget | Pump::Deadline => break,
                }
            }
            st.emit_chunk(&table.schema, chunk).await?;
        }
        reader.close().await;
    }
    let stop_after_snapshot = config.snapshot_mode == SnapshotMode::InitialOnly
        && st.initial_snapshot_done()
        && st.snapshot().is_none();
    if !stop_after_snapshot && st.can_continue() {
        let mut source = BinlogSource::open(
            config,
            info.flavor,
            &st.start_at(gtid_mode),
            st.resume_transaction(),
            opts.read_deadline,
        )
        .await?;
        let pumped = st.pump(&mut source, None).await;
        source.close().await;
        pumped?;
    }
    st.finish().await
}
