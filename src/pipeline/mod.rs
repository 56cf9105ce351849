//! One poll, end to end, behind traits: [`poll`] runs against any
//! [`Database`], [`Sink`] and [`OffsetStore`], so the whole of it (lease,
//! plan, the snapshot/stream interleave, checkpoints) is unit-tested on the
//! memory implementations; [`poll_once`] wires the real ones.
//!
//! ```text
//! lease → server info, settings check → plan (resume point, snapshots owed)
//!   → interleave: per snapshot chunk: drain the binlog to the chunk's
//!       position P, then emit the chunk's rows at P
//!   → stream the rest: event → records in a bounded buffer → (full?) send,
//!       wait for acks, checkpoint (at most every offset.flush.interval.ms)
//!   → end of log / budget → send the rest → checkpoint → release
//! ```
//!
//! The modules: `plan` (where a poll starts and which snapshots it owes),
//! `interleave` (chunks placed in the stream), `streamer` (events to
//! records to acknowledged checkpoints), `holdback` (what a consumer may see
//! of a table under snapshot), `options` ([`PollOptions`], [`PollSummary`]).
//!
//! **What a checkpoint means.** After `Sink::send` returned, every record of
//! every row change handled so far is acknowledged. The checkpoint written
//! then describes exactly that prefix of the binlog:
//! * between transactions: the position (and GTID set) after the last
//!   committed transaction;
//! * inside a transaction (a buffer filled up, or the event budget ran out,
//!   in the middle of a large one): the last boundary plus a
//!   [`TxProgress`](crate::model::TxProgress) — the transaction's start and how many rows events and
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
mod interleave;
mod options;
mod plan;
mod streamer;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_interleave;

use crate::model::time::now_us;
#[cfg(test)]
use crate::model::Checkpoint;
#[cfg(test)]
use crate::source::Source;

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

pub use options::{PollOptions, PollStatus, PollSummary, LEASE_TTL};
pub(crate) use plan::queue;
pub(crate) use streamer::Streamer;

use crate::config::SinkType;
use crate::config::{Config, SnapshotMode};
use crate::encode::{EncoderOptions, EventEncoder};
use crate::error::{Error, Result};
use crate::offsets::{new_owner_id, Acquire, Lease, OffsetStore};
use crate::sink::{AnySink, KafkaSettings, KafkaSink, Sink, StdoutSink};
use crate::source::{Database, MySqlDatabase};

/// The streaming loop alone: reads `source` from `start` to its end,
/// publishes to `sink`, checkpoints to `store` under `lease`, for unit tests
/// of the streamer without a planned poll.
#[cfg(test)]
async fn stream<S: Source, K: Sink, O: OffsetStore>(
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
    let mut db = MySqlDatabase::new(config);
    let hard_deadline = opts.hard_deadline;
    let connect_sink = move || async move {
        match config.sink {
            SinkType::Stdout => Ok(AnySink::Stdout(StdoutSink::stdout(config.partitions))),
            SinkType::Kafka => {
                // Connecting (and each produce request) waits at most what
                // is left of the poll, not kafka.request.timeout.ms from now:
                // a dead broker must not hold the poll past its deadline.
                let mut settings = KafkaSettings::from(config);
                settings.timeout = settings
                    .timeout
                    .min(hard_deadline.saturating_duration_since(Instant::now()));
                KafkaSink::connect(settings).await.map(AnySink::Kafka)
            }
        }
    };
    poll(config, &mut db, connect_sink, store, &opts).await
}

/// One poll: takes the lease, plans, runs the snapshot/stream interleave,
/// checkpoints what `sink` acknowledged, releases the lease. The sink is
/// connected after planning and before reading, so a dead broker fails the
/// poll before any work.
pub async fn poll<D, K, F, Fut, O>(
    config: &Config,
    db: &mut D,
    connect_sink: F,
    store: &O,
    opts: &PollOptions,
) -> Result<PollSummary>
where
    D: Database,
    K: Sink,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<K>>,
    O: OffsetStore,
{
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
    // Boxed: a poll's state machine is large and deeply nested; on the heap
    // it does not overflow a worker thread's stack in debug builds.
    let work = Box::pin(poll_with_lease(
        config,
        db,
        connect_sink,
        store,
        &lease,
        opts,
    ));
    let result = tokio::select! {
        r = work => r,
        // Only ends when the lease could not be renewed: the work stops
        // there, unpublished records are re-read by the next owner.
        e = renew_while_working(store, &lease, opts.lease_ttl) => Err(e),
    };
    if let Err(e) = store.release(&lease).await {
        tracing::warn!(error = %e, "could not release the lease; it expires by itself");
    }
    let mut summary = result?;
    summary.connector = config.name.clone();
    Ok(summary)
}

/// Renews `lease` every third of `ttl` and returns only when it could not:
/// [`crate::Error::Fenced`] when another poller took over, else the last
/// failure once the lease would have expired. A failed or slow renewal is
/// retried at once, each attempt bounded by what is left of the lease, so
/// one slow store call does not end a healthy poll.
async fn renew_while_working<O: OffsetStore>(
    store: &O,
    lease: &Lease,
    ttl: std::time::Duration,
) -> crate::Error {
    let every = ttl / 3;
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(every).await;
        loop {
            let left = (renewed + ttl).saturating_duration_since(Instant::now());
            let failure = match tokio::time::timeout(left, store.renew(lease, ttl)).await {
                Ok(Ok(())) => {
                    renewed = Instant::now();
                    break;
                }
                Ok(Err(e @ crate::Error::Fenced { .. })) => return e,
                Ok(Err(e)) => e,
                Err(_) => crate::Error::Timeout {
                    what: format!("renewing the lease on {}", store.describe()),
                    limit: left,
                },
            };
            if (renewed + ttl) <= Instant::now() {
                return failure;
            }
            tracing::warn!(error = %failure, "lease renewal failed; retrying");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

async fn poll_with_lease<D, K, F, Fut, O>(
    config: &Config,
    db: &mut D,
    connect_sink: F,
    store: &O,
    lease: &Lease,
    opts: &PollOptions,
) -> Result<PollSummary>
where
    D: Database,
    K: Sink,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<K>>,
    O: OffsetStore,
{
    // Planning waits at most until the read deadline, so a stuck metadata
    // query leaves the final publish and commit their reserve.
    let info = bounded(
        opts,
        "reading the server's settings and binlog position",
        db.server_info(),
    )
    .await?;
    for w in info.check(config.include_query)? {
        tracing::warn!(server = %info.server, "{w}");
    }
    let mut start = bounded(
        opts,
        "planning the poll (binlog files, tables to snapshot)",
        Box::pin(plan::plan_start(config, lease, &info, db)),
    )
    .await?;
    if config.snapshot_mode == SnapshotMode::InitialOnly
        && start.initial_snapshot_done
        && start.snapshot.is_none()
    {
        db.end_planning().await;
        return Ok(PollSummary {
            status: PollStatus::SnapshotComplete,
            first_position: Some(start.position.to_string()),
            last_position: Some(start.position.to_string()),
            ..Default::default()
        });
    }
    // The schema snapshot is read with the plan and published before the
    // first checkpoint of the snapshot (at least once: a poll that fails
    // before that checkpoint leaves the next poll to begin again).
    let schema =
        if config.include_schema_changes && plan::begins_schema_snapshot(config, lease, &start) {
            let captured = |d: &str, t: &str| plan::snapshot_reads(config, d, t);
            bounded(
                opts,
                "reading the schema snapshot (SHOW CREATE TABLE)",
                db.schema_snapshot(&start.position, &captured),
            )
            .await?
        } else {
            Vec::new()
        };
    if let Some(state) = start.snapshot.as_mut() {
        estimate_rows(db, state, opts).await;
    }
    db.end_planning().await;
    let mut sink = connect_sink().await?;
    let mut encoder = EventEncoder::new(EncoderOptions::from(config));
    if !schema.is_empty() {
        let now = now_us();
        let mut records = Vec::with_capacity(schema.len());
        for (i, sc) in schema.iter().enumerate() {
            records.push(encoder.schema_change(sc, now));
            if i % 64 == 63 {
                // Many tables: let the lease renewal run in between.
                tokio::task::yield_now().await;
            }
        }
        let limit = opts.hard_deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(limit, sink.send(records)).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(Error::Timeout {
                    what: "publishing the schema snapshot to Kafka".into(),
                    limit,
                })
            }
        }
        tracing::info!(events = schema.len(), "schema snapshot published");
    }
    let mut st = Streamer::new(&mut sink, store, lease, &mut encoder, start, opts);
    st.commit_if_fresh().await?;
    Box::pin(interleave::run(config, db, &mut st, &info, opts)).await?;
    let summary = st.finish().await?;
    if config.snapshot_mode == SnapshotMode::Always {
        plan::always_snapshot_committed();
    }
    Ok(summary)
}

/// `fut`, or [`Error::Timeout`] naming `what` once the read deadline passed.
pub(super) async fn bounded<T>(
    opts: &PollOptions,
    what: &str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let limit = opts.read_deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(Error::Timeout {
            what: what.into(),
            limit,
        }),
    }
}

/// Fills the estimated row counts of queued snapshot tables that have
/// none, for progress reports. Best effort: a failure costs the estimate,
/// never the poll.
async fn estimate_rows<D: Database>(
    db: &mut D,
    state: &mut crate::model::SnapshotState,
    opts: &PollOptions,
) {
    let missing: Vec<(String, String)> = state
        .tables
        .iter()
        .filter(|t| t.estimated_rows.is_none())
        .map(|t| (t.db.clone(), t.table.clone()))
        .collect();
    if missing.is_empty() {
        return;
    }
    // A progress figure is not worth much of the poll: a slow catalog
    // (many tables, MariaDB's information_schema) gets two seconds.
    let limit = std::time::Duration::from_secs(2)
        .min(opts.read_deadline.saturating_duration_since(Instant::now()));
    let found = match tokio::time::timeout(limit, db.row_estimates(&missing)).await {
        Ok(r) => r,
        Err(_) => Err(crate::error::Error::Timeout {
            what: "estimating the snapshot's table sizes".into(),
            limit,
        }),
    };
    match found {
        Ok(found) => {
            for t in &mut state.tables {
                if t.estimated_rows.is_none() {
                    t.estimated_rows = found
                        .iter()
                        .find(|((d, n), _)| *d == t.db && *n == t.table)
                        .map(|(_, rows)| *rows);
                }
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot estimate the snapshot's table sizes; progress shows rows read only")
        }
    }
}
