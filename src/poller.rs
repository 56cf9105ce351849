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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use crate::change::{Cell, Op, RowChange, SourceInfo, TableSchema};
use crate::config::FailureMode;
use crate::config::{Config, SnapshotMode, TableFilter};
use crate::error::{Error, Result};
use crate::event::{EncoderOptions, EventEncoder, Record, TxCounter};
use crate::offsets::{new_owner_id, Acquire, Lease, OffsetStore};
use crate::position::{
    BinlogPosition, Checkpoint, GtidSet, KeyValue, SnapshotState, SnapshotTable, TxProgress,
};
use crate::sink::{KafkaSink, Sink};
use crate::source::{
    connect, list_tables, BinlogSource, Chunk, ChunkReader, ServerInfo, Source, SourceEvent,
    StartAt, TableInfo,
};

/// Bounds and batching of one poll.
#[derive(Debug, Clone)]
pub struct PollOptions {
    /// Stop emitting after this many row changes.
    pub max_events: Option<u64>,
    /// Send when the buffer holds this many records.
    pub max_batch_records: usize,
    /// Send when the buffer holds this many bytes.
    pub max_batch_bytes: usize,
    /// Longest time between checkpoints inside the poll.
    pub flush_interval: Duration,
    /// Lease duration; each checkpoint extends it.
    pub lease_ttl: Duration,
    /// Emit a heartbeat at most this often (`heartbeat.interval.ms`).
    pub heartbeat_interval: Option<Duration>,
    /// Stop reading new events at this instant.
    pub read_deadline: Instant,
    /// Everything, including the last send and checkpoint, ends by then.
    pub hard_deadline: Instant,
    /// Set by a signal handler: stop reading, send, checkpoint, return.
    pub stop: Arc<AtomicBool>,
    /// `provide.transaction.metadata`.
    pub tx_metadata: bool,
    /// The largest record the broker takes (`kafka.max.request.size`).
    pub max_record_bytes: usize,
    /// What a record above that does (`event.processing.failure.handling.mode`).
    pub failure_mode: FailureMode,
}

impl PollOptions {
    /// Options for a poll that must end by `deadline`. Reading stops early
    /// enough to leave the final send and checkpoint their own time.
    pub fn from_config(config: &Config, deadline: Instant) -> Self {
        let now = Instant::now();
        let total = deadline.saturating_duration_since(now);
        let reserve = (config.kafka_timeout + Duration::from_secs(2)).min(total / 3);
        Self {
            max_events: config.poll_max_events,
            max_batch_records: config.max_batch_records,
            max_batch_bytes: 16 << 20,
            flush_interval: config.offset_flush_interval,
            // Long enough to cover the poll and its last send; short enough that a
            // crashed poller's lease frees up soon after its deadline.
            lease_ttl: total + config.kafka_timeout + Duration::from_secs(5),
            heartbeat_interval: config.heartbeat_interval,
            read_deadline: deadline - reserve,
            hard_deadline: deadline,
            stop: Arc::new(AtomicBool::new(false)),
            tx_metadata: config.provide_transaction_metadata,
            max_record_bytes: config.kafka_max_record_bytes,
            failure_mode: config.failure_mode,
        }
    }
}

/// What one poll did; printed as one JSON line.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PollSummary {
    /// Connector name.
    pub connector: String,
    /// `ok`, or `lease_held` when another poller was running.
    pub status: String,
    /// Holder of the lease when `status` is `lease_held`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_holder: Option<String>,
    /// Row changes published.
    pub events: u64,
    /// Kafka records published (including tombstones).
    pub records: u64,
    /// Transactions fully handled.
    pub transactions: u64,
    /// Record bytes published (keys and values).
    pub bytes: u64,
    /// Sends to Kafka (each waits for all its acknowledgements).
    pub batches: u64,
    /// Checkpoints written.
    pub checkpoints: u64,
    /// Resume point at the start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_position: Option<String>,
    /// Checkpointed position at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_position: Option<String>,
    /// GTID set at the end (MySQL GTID mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gtid_set: Option<String>,
    /// Whether a transaction was left partly published (resumes next poll).
    pub partial_transaction: bool,
    /// Whether the poll reached the end of the binlog.
    pub caught_up: bool,
    /// Seconds between the last handled event and now (0 when caught up).
    pub lag_seconds: u64,
    /// Wall time of the poll.
    pub duration_ms: u64,
    /// Peak resident memory of the process so far, KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_kb: Option<u64>,
    /// Heartbeat records emitted.
    pub heartbeats: u64,
    /// Snapshot rows emitted (`op: r`).
    pub snapshot_rows: u64,
    /// Snapshot chunks read.
    pub snapshot_chunks: u64,
    /// Tables still to snapshot after this poll.
    pub snapshot_tables_left: u64,
    /// Longest table lock of a snapshot chunk, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_hold_max_ms: Option<f64>,
    /// 99th percentile of the chunk table locks, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_hold_p99_ms: Option<f64>,
    /// Schema change events published.
    pub schema_changes: u64,
    /// Row changes skipped by `event.processing.failure.handling.mode`
    /// (each logged with its table and position).
    pub skipped_events: u64,
}

/// Microseconds since the Unix epoch.
fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or_default()
}

/// Progress inside the current transaction.
#[derive(Debug, Clone)]
struct TxState {
    start: BinlogPosition,
    gtid: Option<String>,
    mysql_gtid: Option<(String, u64)>,
    rows_events: u64,
    rows: u64,
    /// Rows events and rows to skip (resume of a partly published transaction).
    skip: Option<(u64, u64)>,
    /// Transaction metadata counters (`provide.transaction.metadata`).
    meta: Option<TxCounter>,
}

/// Why [`Streamer::pump`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pump {
    /// The source reached the current end of the binlog.
    End,
    /// The next transaction starts at or after the requested stop position.
    ReachedStop,
    /// The event budget (`poll.max.events`) is used up.
    Budget,
    /// The read deadline passed or a stop was requested.
    Deadline,
}

/// The state of one poll: where it is in the binlog, what it buffered,
/// what it checkpointed. [`Streamer::pump`] moves it through source events,
/// [`Streamer::emit_chunk`] places a snapshot chunk at the current point,
/// [`Streamer::finish`] sends the rest and writes the last checkpoint.
#[derive(Debug)]
pub struct Streamer<'a, K: Sink, O: OffsetStore> {
    sink: &'a mut K,
    store: &'a O,
    lease: &'a Lease,
    encoder: &'a mut EventEncoder,
    opts: &'a PollOptions,
    boundary: BinlogPosition,
    gtid_set: Option<GtidSet>,
    event_ts: u32,
    resume_skip: Option<TxProgress>,
    tx: Option<TxState>,
    /// What the store holds. A fresh connector has nothing, so even an
    /// unchanged start position gets written (else the next poll would
    /// start at the then-current end and skip what came in between).
    committed: Option<Checkpoint>,
    last_commit: Instant,
    buf: Vec<Record>,
    buf_bytes: usize,
    emitted: u64,
    budget_hit: bool,
    snapshot: Option<SnapshotState>,
    initial_snapshot_done: bool,
    filters: Option<String>,
    lock_holds: Vec<Duration>,
    heartbeat_ms: u64,
    began: Instant,
    summary: PollSummary,
}

impl<'a, K: Sink, O: OffsetStore> Streamer<'a, K, O> {
    /// A streamer resuming from `start`.
    pub fn new(
        sink: &'a mut K,
        store: &'a O,
        lease: &'a Lease,
        encoder: &'a mut EventEncoder,
        start: Checkpoint,
        opts: &'a PollOptions,
    ) -> Self {
        Self {
            summary: PollSummary {
                status: "ok".into(),
                first_position: Some(start.resume_position().to_string()),
                ..Default::default()
            },
            sink,
            store,
            lease,
            encoder,
            opts,
            boundary: start.position.clone(),
            gtid_set: start.gtid_set.clone(),
            event_ts: start.event_ts,
            resume_skip: start.transaction.clone(),
            tx: None,
            committed: lease.checkpoint.clone(),
            last_commit: Instant::now(),
            buf: Vec::with_capacity(opts.max_batch_records.min(65_536)),
            buf_bytes: 0,
            emitted: 0,
            budget_hit: false,
            snapshot: start.snapshot.clone().filter(|s| !s.tables.is_empty()),
            initial_snapshot_done: start.initial_snapshot_done,
            filters: start.filters.clone(),
            lock_holds: Vec::new(),
            heartbeat_ms: start.heartbeat_ms,
            began: Instant::now(),
        }
    }

    /// The checkpoint describing everything handled so far.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            position: self.boundary.clone(),
            gtid_set: self.gtid_set.clone(),
            transaction: self.tx.as_ref().and_then(|t| {
                // Nothing of this transaction handled yet: the boundary says it all.
                (t.rows_events > 0 || t.rows > 0).then(|| TxProgress {
                    start: t.start.clone(),
                    gtid: t.gtid.clone(),
                    rows_events: t.rows_events,
                    rows: t.rows,
                    tx_meta: t.meta.clone(),
                })
            }),
            event_ts: self.event_ts,
            snapshot: self.snapshot.clone(),
            initial_snapshot_done: self.initial_snapshot_done,
            filters: self.filters.clone(),
            heartbeat_ms: self.heartbeat_ms,
        }
    }

    /// Queues a heartbeat record when `heartbeat.interval.ms` has passed
    /// since the last one (stored with the checkpoint, so the interval
    /// holds across polls).
    fn maybe_heartbeat(&mut self) {
        let Some(interval) = self.opts.heartbeat_interval else {
            return;
        };
        let now_ms = (now_us() / 1000) as u64;
        if now_ms.saturating_sub(self.heartbeat_ms) >= interval.as_millis() as u64 {
            let hb = self.encoder.heartbeat(now_ms as i64);
            self.push_record(hb);
            self.heartbeat_ms = now_ms;
            self.summary.heartbeats += 1;
        }
    }

    /// Where a dump must start to continue from here.
    pub fn start_at(&self, gtid_mode: bool) -> StartAt {
        match (&self.gtid_set, gtid_mode) {
            (Some(set), true) => StartAt::Gtid(set.clone()),
            _ => StartAt::Position(self.checkpoint().resume_position().clone()),
        }
    }

    /// The partly published transaction to resume, for the source.
    pub fn resume_transaction(&self) -> Option<TxProgress> {
        self.checkpoint().transaction
    }

    /// The current binlog boundary (after the last whole transaction).
    pub fn boundary(&self) -> &BinlogPosition {
        &self.boundary
    }

    /// Whether the budget still allows work.
    pub fn can_continue(&self) -> bool {
        !self.budget_hit
            && Instant::now() < self.opts.read_deadline
            && !self.opts.stop.load(Ordering::Relaxed)
    }

    /// The snapshot in progress.
    pub fn snapshot(&self) -> Option<&SnapshotState> {
        self.snapshot.as_ref()
    }

    /// Whether the initial snapshot has completed.
    pub fn initial_snapshot_done(&self) -> bool {
        self.initial_snapshot_done
    }

    /// Reads source events until the end of the log, the budget, or (with
    /// `stop_at`) the first transaction that starts at or after it.
    pub async fn pump<S: Source>(
        &mut self,
        source: &mut S,
        stop_at: Option<&BinlogPosition>,
    ) -> Result<Pump> {
        loop {
            if self.budget_hit {
                return Ok(Pump::Budget);
            }
            if !self.can_continue() {
                return Ok(Pump::Deadline);
            }
            let Some(ev) = source.next().await? else {
                if source.reached_end() {
                    self.summary.caught_up = true;
                    return Ok(Pump::End);
                }
                return Ok(Pump::Deadline);
            };
            if let (Some(stop), SourceEvent::Begin { start, .. }) = (stop_at, &ev) {
                if start >= stop {
                    return Ok(Pump::ReachedStop);
                }
            }
            self.apply(ev)?;
            self.maybe_heartbeat();
            self.maybe_flush().await?;
        }
    }

    fn apply(&mut self, ev: SourceEvent) -> Result<()> {
        match ev {
            SourceEvent::Begin {
                start: s,
                gtid,
                mysql_gtid,
            } => {
                let (skip, resumed_meta) = match self.resume_skip.take() {
                    Some(p)
                        if p.start == s
                            || (p.gtid.is_some() && p.gtid.as_deref() == gtid.as_deref()) =>
                    {
                        (Some((p.rows_events, p.rows)), p.tx_meta)
                    }
                    Some(p) => {
                        // Not the transaction we stopped in: re-deliver rather than skip.
                        tracing::warn!(expected = %p.start, found = %s, "resumed transaction not found where stored; re-delivering it whole");
                        (None, None)
                    }
                    None => (None, None),
                };
                // Debezium's MySQL transaction id: the GTID, else the
                // binlog coordinates of the transaction's start.
                let meta = self.opts.tx_metadata.then(|| {
                    resumed_meta.unwrap_or_else(|| {
                        let id = match &gtid {
                            Some(g) => g.to_string(),
                            None => format!("{}_{}", s.file, s.pos),
                        };
                        TxCounter::new(id, 0)
                    })
                });
                self.tx = Some(TxState {
                    start: s,
                    gtid: gtid.map(|g| g.to_string()),
                    mysql_gtid,
                    rows_events: 0,
                    rows: 0,
                    skip,
                    meta,
                });
            }
            SourceEvent::Rows(changes) => {
                let Some(t) = self.tx.as_mut() else {
                    // Rows outside a transaction cannot be checkpointed
                    // precisely; the server never sends them in ROW format.
                    return Err(Error::Decode {
                        position: self.boundary.to_string(),
                        reason: "rows event outside a transaction".into(),
                    });
                };
                let (skip_events, skip_rows) = t.skip.unwrap_or((0, 0));
                if t.rows_events < skip_events {
                    t.rows_events += 1;
                    return Ok(());
                }
                let first_row = if t.rows_events == skip_events {
                    skip_rows
                } else {
                    0
                };
                let now = now_us();
                let mut stopped_at = None;
                for (i, change) in changes.iter().enumerate() {
                    if (i as u64) < first_row {
                        continue;
                    }
                    if self.opts.max_events.is_some_and(|m| self.emitted >= m) {
                        stopped_at = Some(i as u64);
                        break;
                    }
                    let seen = held_back(self.snapshot.as_ref(), change);
                    let part = match &seen {
                        Visible::All => Some(change),
                        Visible::Nothing => None,
                        Visible::Part(p) => Some(p),
                    };
                    if let Some(part) = part {
                        let before = self.buf.len();
                        let meta = self.tx.as_mut().and_then(|t| t.meta.as_mut());
                        self.encoder.encode(part, now, meta, &mut self.buf);
                        self.admit(before, part)?;
                    }
                    self.emitted += 1;
                    self.event_ts = change.source.ts_sec;
                }
                let t = self.tx.as_mut().expect("checked above");
                match stopped_at {
                    Some(i) => {
                        t.rows = i;
                        self.budget_hit = true;
                    }
                    None => {
                        t.rows_events += 1;
                        t.rows = 0;
                        if self.opts.max_events.is_some_and(|m| self.emitted >= m) {
                            self.budget_hit = true;
                        }
                    }
                }
            }
            SourceEvent::Ddl(ev) => {
                let now = now_us();
                if let Some(sc) = &ev.schema_change {
                    let r = self.encoder.schema_change(sc, now);
                    self.push_record(r);
                    self.summary.schema_changes += 1;
                }
                if let Some(tr) = &ev.truncate {
                    let before = self.buf.len();
                    let meta = self.tx.as_mut().and_then(|t| t.meta.as_mut());
                    self.encoder.encode(tr, now, meta, &mut self.buf);
                    self.admit(before, tr)?;
                }
            }
            SourceEvent::Commit { next, ts_sec } => {
                if let Some(t) = self.tx.take() {
                    if let Some(m) = t.meta.as_ref().filter(|m| m.begun) {
                        let end = self.encoder.tx_end(m);
                        self.push_record(end);
                    }
                    if let (Some(set), Some((sid, gno))) =
                        (self.gtid_set.as_mut(), t.mysql_gtid.as_ref())
                    {
                        set.add(sid, *gno);
                    }
                }
                self.boundary = next;
                self.event_ts = ts_sec;
                self.summary.transactions += 1;
            }
            SourceEvent::Advance { next, ts_sec } => {
                if self.tx.is_none() {
                    self.boundary = next;
                    if ts_sec > 0 {
                        self.event_ts = ts_sec;
                    }
                }
            }
        }
        Ok(())
    }

    /// Emits a snapshot chunk of the first table of the snapshot as `op: r`
    /// records at the current point of the stream (which the caller brought
    /// to the chunk's position), and moves the table's cursor.
    pub async fn emit_chunk(&mut self, table: &Arc<TableSchema>, chunk: Chunk) -> Result<()> {
        self.lock_holds.push(chunk.lock_held);
        self.summary.snapshot_chunks += 1;
        let Some(state) = self.snapshot.as_mut() else {
            return Ok(());
        };
        let last_table = state.tables.len() == 1;
        let last_of_snapshot = state.initial && last_table && !chunk.more;
        let n = chunk.rows.len();
        let now = now_us();
        let ts_sec = (now / 1_000_000) as u32;
        for (i, row) in chunk.rows.into_iter().enumerate() {
            let marker = if last_of_snapshot && i + 1 == n {
                "last"
            } else {
                "true"
            };
            let change = RowChange {
                table: Arc::clone(table),
                op: Op::Read,
                before: None,
                after: Some(row),
                source: SourceInfo {
                    position: chunk.position.clone(),
                    row: 0,
                    ts_sec,
                    server_id: 0,
                    gtid: None,
                    thread: None,
                    snapshot: Some(marker),
                    query: None,
                },
            };
            let before = self.buf.len();
            self.encoder.encode(&change, now, None, &mut self.buf);
            self.admit(before, &change)?;
            self.emitted += 1;
            self.summary.snapshot_rows += 1;
            if self.buf.len() >= self.opts.max_batch_records
                || self.buf_bytes >= self.opts.max_batch_bytes
            {
                // The chunk is not fully in the stream yet: send without a
                // checkpoint; the cursor moves only once all of it is out.
                self.flush().await?;
            }
        }
        let state = self.snapshot.as_mut().expect("checked above");
        let t = &mut state.tables[0];
        t.rows += n as u64;
        if let Some(k) = chunk.last_key {
            t.cursor = Some(k);
        }
        if !chunk.more {
            let done = state.tables.remove(0);
            tracing::info!(db = %done.db, table = %done.table, rows = done.rows, "table snapshot complete");
            if state.tables.is_empty() {
                if state.initial {
                    self.initial_snapshot_done = true;
                }
                self.snapshot = None;
            }
        }
        if self.opts.max_events.is_some_and(|m| self.emitted >= m) {
            self.budget_hit = true;
        }
        self.maybe_flush().await
    }

    /// Records the key columns the first snapshot table is chunked by.
    pub fn set_snapshot_key(&mut self, columns: Vec<String>) {
        if let Some(t) = self.snapshot.as_mut().and_then(|s| s.tables.first_mut()) {
            t.key_columns = columns;
        }
    }

    /// Drops the first table of the snapshot (it no longer exists).
    pub fn skip_snapshot_table(&mut self) {
        if let Some(state) = self.snapshot.as_mut() {
            if !state.tables.is_empty() {
                let t = state.tables.remove(0);
                tracing::warn!(db = %t.db, table = %t.table, "table to snapshot no longer exists; skipped");
            }
            if state.tables.is_empty() {
                if state.initial {
                    self.initial_snapshot_done = true;
                }
                self.snapshot = None;
            }
        }
    }

    /// Buffers a record that is not a row change (heartbeat, schema change,
    /// transaction boundary).
    fn push_record(&mut self, r: Record) {
        self.buf_bytes += r.size();
        self.buf.push(r);
    }

    /// Accounts for the records one change appended at `from..`, applying
    /// `event.processing.failure.handling.mode` to any above the broker's
    /// limit: `fail` stops the poll naming the table, key columns, binlog
    /// position and size (never a value); `warn`/`skip` drop that change's
    /// records, log the same and count it.
    fn admit(&mut self, from: usize, change: &RowChange) -> Result<()> {
        let limit = self.opts.max_record_bytes;
        let too_big = self.buf[from..]
            .iter()
            .map(Record::size)
            .max()
            .filter(|&size| size > limit);
        if let Some(size) = too_big {
            let table = format!("{}.{}", change.table.db, change.table.table);
            let key = self.encoder.codec(&change.table).key_columns().join(",");
            let position = format!("{} row {}", change.source.position, change.source.row);
            match self.opts.failure_mode {
                FailureMode::Fail => {
                    return Err(Error::RecordTooLarge {
                        topic: self.buf[from].topic.to_string(),
                        table,
                        key,
                        position,
                        size,
                        limit,
                    })
                }
                FailureMode::Warn | FailureMode::Skip => {
                    tracing::warn!(table = %table, key_columns = %key, position = %position, size, limit, "record above kafka.max.request.size skipped (event.processing.failure.handling.mode)");
                    self.buf.truncate(from);
                    self.summary.skipped_events += 1;
                    return Ok(());
                }
            }
        }
        self.buf_bytes += self.buf[from..].iter().map(Record::size).sum::<usize>();
        Ok(())
    }

    async fn maybe_flush(&mut self) -> Result<()> {
        if self.buf.len() >= self.opts.max_batch_records
            || self.buf_bytes >= self.opts.max_batch_bytes
        {
            self.flush().await?;
            if self.last_commit.elapsed() >= self.opts.flush_interval {
                self.commit().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let records = std::mem::take(&mut self.buf);
        let n = records.len() as u64;
        let limit = self
            .opts
            .hard_deadline
            .saturating_duration_since(Instant::now());
        match tokio::time::timeout(limit, self.sink.send(records)).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(Error::Timeout {
                    what: "publishing to Kafka before the poll deadline".into(),
                    limit,
                })
            }
        }
        crate::fault::point("after_publish");
        self.summary.records += n;
        self.summary.bytes += self.buf_bytes as u64;
        self.summary.batches += 1;
        self.buf_bytes = 0;
        Ok(())
    }

    async fn commit(&mut self) -> Result<()> {
        let cp = self.checkpoint();
        if self.committed.as_ref() == Some(&cp) {
            return Ok(());
        }
        self.store
            .commit(self.lease, &cp, self.opts.lease_ttl)
            .await?;
        tracing::debug!(position = %cp.position, partial = cp.transaction.is_some(), "checkpoint written");
        self.committed = Some(cp);
        self.last_commit = Instant::now();
        self.summary.checkpoints += 1;
        Ok(())
    }

    /// Sends the rest, writes the final checkpoint, returns the summary.
    pub async fn finish(mut self) -> Result<PollSummary> {
        self.maybe_heartbeat();
        self.flush().await?;
        self.commit().await?;
        let cp = self.checkpoint();
        let mut s = self.summary;
        s.events = self.emitted;
        s.partial_transaction = cp.transaction.is_some();
        s.last_position = Some(cp.resume_position().to_string());
        s.gtid_set = cp.gtid_set.as_ref().map(ToString::to_string);
        s.snapshot_tables_left = cp.snapshot.as_ref().map_or(0, |st| st.tables.len() as u64);
        let now_sec = (now_us() / 1_000_000) as u64;
        s.lag_seconds = if s.caught_up || cp.event_ts == 0 {
            0
        } else {
            now_sec.saturating_sub(u64::from(cp.event_ts))
        };
        if !self.lock_holds.is_empty() {
            let mut holds = self.lock_holds;
            holds.sort_unstable();
            let p99 = holds[((holds.len() as f64 * 0.99).ceil() as usize)
                .saturating_sub(1)
                .min(holds.len() - 1)];
            s.lock_hold_max_ms = Some(ms(holds[holds.len() - 1]));
            s.lock_hold_p99_ms = Some(ms(p99));
        }
        s.duration_ms = self.began.elapsed().as_millis() as u64;
        s.peak_rss_kb = crate::telemetry::peak_rss_kb();
        Ok(s)
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// What a consumer may see of a streamed change.
#[derive(Debug)]
enum Visible {
    /// The change as it is (the common case: no clone).
    All,
    /// Nothing: held back.
    Nothing,
    /// One half of a primary-key change.
    Part(RowChange),
}

/// What a consumer may see of a streamed change while its table is being
/// snapshotted with `suppress` (the consumer never saw the table): changes
/// to keys above the snapshot cursor are held back, because a later chunk,
/// read after them, carries their effect. A primary-key change is judged
/// half by half (delete of the old key, create of the new one). Integer
/// keys are compared exactly; for other key types no change is held back,
/// which never loses data but may show an update before the row's snapshot
/// read.
fn held_back(snapshot: Option<&SnapshotState>, change: &RowChange) -> Visible {
    let Some(st) = snapshot else {
        return Visible::All;
    };
    let t = &*change.table;
    let Some(entry) = st
        .tables
        .iter()
        .find(|e| e.suppress && e.db == t.db && e.table == t.table)
    else {
        return Visible::All;
    };
    let Some(cursor) = &entry.cursor else {
        // Nothing of this table read yet: every key is above the cursor.
        return Visible::Nothing;
    };
    let idx: Option<Vec<usize>> = entry
        .key_columns
        .iter()
        .map(|k| {
            t.columns
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(k))
        })
        .collect();
    let Some(idx) = idx else {
        return Visible::All;
    };
    let cursor_ints: Option<Vec<i128>> = cursor
        .iter()
        .map(|k| match k {
            KeyValue::Int(i) => Some(i128::from(*i)),
            KeyValue::UInt(u) => Some(i128::from(*u)),
            _ => None,
        })
        .collect();
    let Some(cursor_ints) = cursor_ints else {
        return Visible::All;
    };
    let key_of = |row: &Option<Vec<Cell>>| -> Option<Vec<i128>> {
        let row = row.as_ref()?;
        idx.iter()
            .map(|&i| match row.get(i)? {
                Cell::Int(v) => Some(i128::from(*v)),
                Cell::UInt(v) => Some(i128::from(*v)),
                _ => None,
            })
            .collect()
    };
    // `None` (key not comparable) counts as visible: never lose a change.
    let visible = |row: &Option<Vec<Cell>>| key_of(row).is_none_or(|k| k <= cursor_ints);
    let all_or_nothing = |v: bool| if v { Visible::All } else { Visible::Nothing };
    match change.op {
        Op::Truncate => Visible::All,
        Op::Create | Op::Read => all_or_nothing(visible(&change.after)),
        Op::Delete => all_or_nothing(visible(&change.before)),
        Op::Update => {
            let (b, a) = (visible(&change.before), visible(&change.after));
            if key_of(&change.before) == key_of(&change.after) {
                return all_or_nothing(a);
            }
            match (b, a) {
                // Both halves visible: keep it one update (the encoder splits it).
                (true, true) => Visible::All,
                (true, false) => Visible::Part(RowChange {
                    op: Op::Delete,
                    after: None,
                    ..change.clone()
                }),
                (false, true) => Visible::Part(RowChange {
                    op: Op::Create,
                    before: None,
                    ..change.clone()
                }),
                (false, false) => Visible::Nothing,
            }
        }
    }
}

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
                status: "lease_held".into(),
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

/// Set once per process for `snapshot.mode=always`.
static ALWAYS_SNAPSHOT_QUEUED: OnceLock<()> = OnceLock::new();

/// Captured tables a snapshot reads, `(db, table)`.
fn snapshot_tables(
    config: &Config,
    tables: &[(String, String)],
    filter: &TableFilter,
) -> Vec<(String, String)> {
    tables
        .iter()
        .filter(|(d, t)| filter.includes(d, t))
        .filter(|(d, t)| {
            config
                .snapshot_include
                .as_ref()
                .is_none_or(|p| p.matches(&format!("{d}.{t}")))
        })
        .cloned()
        .collect()
}

fn queue(state: &mut SnapshotState, tables: Vec<(String, String)>, suppress: bool) {
    for (db, table) in tables {
        if !state.tables.iter().any(|t| t.db == db && t.table == table) {
            state.tables.push(SnapshotTable {
                db,
                table,
                suppress,
                key_columns: Vec::new(),
                cursor: None,
                rows: 0,
            });
        }
    }
}

/// Decides where this poll starts and which snapshots it owes, from the
/// stored checkpoint, `snapshot.mode` and the table filters.
async fn plan_start<O: OffsetStore>(
    config: &Config,
    lease: &Lease,
    info: &ServerInfo,
    meta: &mut mysql_async::Conn,
    _store: &O,
) -> Result<Checkpoint> {
    let mode = config.snapshot_mode;
    let wants_initial = matches!(
        mode,
        SnapshotMode::Initial
            | SnapshotMode::InitialOnly
            | SnapshotMode::WhenNeeded
            | SnapshotMode::Always
    );
    let fresh = || Checkpoint::at(info.end.clone(), info.gtid_executed.clone());
    let mut start = match &lease.checkpoint {
        Some(cp) if info.resume_point_available(meta, cp).await? => cp.clone(),
        Some(cp) if mode == SnapshotMode::WhenNeeded => {
            tracing::warn!(position = %cp.resume_position(), "stored position was purged from the server; taking a new snapshot (snapshot.mode=when_needed)");
            let mut c = fresh();
            c.snapshot = Some(SnapshotState {
                tables: Vec::new(),
                initial: true,
            });
            c
        }
        Some(cp) => {
            return Err(Error::PositionPurged {
                server: info.server.clone(),
                position: cp.resume_position().to_string(),
            })
        }
        None if wants_initial => {
            tracing::info!(position = %info.end, "no stored offset; starting an initial snapshot at the current binlog position");
            let mut c = fresh();
            c.snapshot = Some(SnapshotState {
                tables: Vec::new(),
                initial: true,
            });
            c
        }
        None => {
            tracing::info!(position = %info.end, "no stored offset; starting at the current end of the binlog");
            fresh()
        }
    };
    let needs_tables = start
        .snapshot
        .as_ref()
        .is_some_and(|s| s.initial && s.tables.is_empty() && !start.initial_snapshot_done)
        || (mode == SnapshotMode::Always && lease.checkpoint.is_some())
        || start
            .filters
            .as_deref()
            .is_some_and(|f| f != config.filter.signature());
    if needs_tables {
        let all = list_tables(meta, &info.server).await?;
        if let Some(state) = start
            .snapshot
            .as_mut()
            .filter(|s| s.initial && s.tables.is_empty())
        {
            queue(state, snapshot_tables(config, &all, &config.filter), true);
            if state.tables.is_empty() {
                start.snapshot = None;
                start.initial_snapshot_done = true;
            }
        }
        if mode == SnapshotMode::Always
            && lease.checkpoint.is_some()
            && ALWAYS_SNAPSHOT_QUEUED.set(()).is_ok()
        {
            let state = start.snapshot.get_or_insert_with(SnapshotState::default);
            queue(state, snapshot_tables(config, &all, &config.filter), false);
        }
        if let Some(old) = start
            .filters
            .as_deref()
            .filter(|f| *f != config.filter.signature())
        {
            // Tables the new filters capture and the old ones did not: the
            // consumer has never seen them, so they are snapshotted.
            let old = TableFilter::from_signature(old).unwrap_or_default();
            let added: Vec<(String, String)> = snapshot_tables(config, &all, &config.filter)
                .into_iter()
                .filter(|(d, t)| !old.includes(d, t))
                .collect();
            if !added.is_empty() {
                tracing::info!(
                    tables = added.len(),
                    "table filters changed; snapshotting the newly included tables"
                );
                let state = start.snapshot.get_or_insert_with(SnapshotState::default);
                queue(state, added, true);
            }
        }
    }
    start.filters = Some(config.filter.signature());
    Ok(start)
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
    let start = plan_start(config, lease, &info, &mut meta, store).await?;
    let _ = meta.disconnect().await;
    if config.snapshot_mode == SnapshotMode::InitialOnly
        && start.initial_snapshot_done
        && start.snapshot.is_none()
    {
        return Ok(PollSummary {
            status: "snapshot_complete".into(),
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

/// Queues `tables` (`db.table`) for an ad-hoc snapshot: stored with the
/// checkpoint, read chunk by chunk by the following polls while streaming
/// goes on. Tables the connector already streams are re-read without
/// holding back their stream events (their deletes must still reach the
/// consumer).
pub async fn request_snapshot<O: OffsetStore>(
    config: &Config,
    store: &O,
    tables: &[String],
) -> Result<Checkpoint> {
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    for t in tables {
        match t.split_once('.') {
            Some((d, n)) if !d.is_empty() && !n.is_empty() => {
                if config.filter.includes(d, n) {
                    parsed.push((d.to_string(), n.to_string()));
                } else {
                    problems.push(format!(
                        "{t}: not captured by the connector's include/exclude lists"
                    ));
                }
            }
            _ => problems.push(format!("{t}: expected db.table")),
        }
    }
    if !problems.is_empty() || parsed.is_empty() {
        if parsed.is_empty() && problems.is_empty() {
            problems.push("no tables given; pass --tables db.t1,db.t2".into());
        }
        return Err(Error::Config(crate::config::ConfigProblems(problems)));
    }
    let owner = new_owner_id();
    let lease = match store.acquire(&owner, Duration::from_secs(30)).await? {
        Acquire::Acquired(l) => l,
        Acquire::Held { owner, .. } => {
            return Err(Error::Offsets {
                store: store.describe(),
                during: "queueing a snapshot",
                reason: format!("a poll holds the lease ({owner}); try again when it finished"),
            })
        }
    };
    let result = async {
        let mut cp = match lease.checkpoint.clone() {
            Some(cp) => cp,
            None => {
                let mut conn = connect(config).await?;
                let info = ServerInfo::read(&mut conn, &config.server()).await?;
                let _ = conn.disconnect().await;
                let mut c = Checkpoint::at(info.end, info.gtid_executed);
                c.filters = Some(config.filter.signature());
                c
            }
        };
        // A connector that never streamed has no consumer history to protect.
        let suppress = lease.checkpoint.is_none();
        let state = cp.snapshot.get_or_insert_with(SnapshotState::default);
        queue(state, parsed.clone(), suppress);
        store.commit(&lease, &cp, Duration::from_secs(30)).await?;
        Ok(cp)
    }
    .await;
    let _ = store.release(&lease).await;
    if let Ok(cp) = &result {
        let queued: BTreeSet<String> = cp
            .snapshot
            .iter()
            .flat_map(|s| s.tables.iter().map(|t| format!("{}.{}", t.db, t.table)))
            .collect();
        tracing::info!(tables = ?queued, "snapshot queued");
    }
    result
}

/// One line of `validate`.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// Details, or the problem and its fix.
    pub detail: String,
}

/// The preflight: MySQL login, TLS and auth method, server version, binlog
/// settings and retention, privileges (with the GRANT that adds what is
/// missing), Kafka reachability, TLS and topic creation, the offset store.
/// One [`Check`] per line; never stops at the first failure.
///
/// Plaintext to a server that is not on loopback fails the check: row
/// values and credentials would cross the network in clear.
pub async fn validate(config: &Config) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut push = |name: &str, r: std::result::Result<String, String>| {
        let (ok, detail) = match r {
            Ok(d) => (true, d),
            Err(d) => (false, d),
        };
        checks.push(Check {
            name: name.into(),
            ok,
            detail,
        });
    };
    let server = config.server();
    match connect(config).await {
        Ok(mut conn) => {
            push("mysql connect", Ok(server.clone()));
            let mode = config.ssl_mode.as_str();
            push(
                "mysql tls",
                match crate::source::tls_session(&mut conn, &server).await {
                    Ok(Some(tls)) => Ok(format!("{tls} (database.ssl.mode={mode})")),
                    Ok(None) if crate::tls::is_loopback(&config.hostname) => {
                        Ok(format!("plaintext on loopback (database.ssl.mode={mode})"))
                    }
                    Ok(None) => Err(format!(
                        "plaintext to {server}; enable TLS on the server and set database.ssl.mode=verify_identity with database.ssl.ca"
                    )),
                    Err(e) => Err(e.to_string()),
                },
            );
            push(
                "mysql auth",
                Ok(match &config.iam_auth {
                    Some(_) => format!("RDS IAM database auth token as {}", config.user),
                    None => format!("password as {}", config.user),
                }),
            );
            let mut flavor = crate::source::Flavor::MySql;
            match ServerInfo::read(&mut conn, &server).await {
                Ok(info) => {
                    flavor = info.flavor;
                    push(
                        "mysql version",
                        Ok(format!("{} ({:?})", info.version, info.flavor)),
                    );
                    match info.check(config.include_query) {
                        Ok(w) if w.is_empty() => push(
                            "binlog settings",
                            Ok("ROW, FULL row image, FULL metadata".into()),
                        ),
                        Ok(w) => push("binlog settings", Ok(format!("usable; {}", w.join("; ")))),
                        Err(e) => push("binlog settings", Err(e.to_string())),
                    }
                    push(
                        "binlog position",
                        Ok(format!(
                            "{}{}",
                            info.end,
                            if info.gtid_mode() { " (GTID mode)" } else { "" }
                        )),
                    );
                }
                Err(e) => push("binlog settings", Err(e.to_string())),
            }
            push(
                "binlog retention",
                match crate::source::binlog_retention(&mut conn, &server).await {
                    Ok(r) => r.check(flavor),
                    Err(e) => Err(e.to_string()),
                },
            );
            match crate::source::missing_privileges(&mut conn, &config.server()).await {
                Ok(None) => push(
                    "privileges",
                    Ok(crate::source::REQUIRED_PRIVILEGES.join(", ")),
                ),
                Ok(Some((missing, grant))) => push(
                    "privileges",
                    Err(format!("missing {}; run: {grant}", missing.join(", "))),
                ),
                Err(e) => push("privileges", Err(e.to_string())),
            }
            let _ = conn.disconnect().await;
        }
        Err(e) => push("mysql connect", Err(e.to_string())),
    }
    let sec = &config.kafka_security;
    let brokers = config.kafka_bootstrap.join(",");
    let remote: Vec<&String> = config
        .kafka_bootstrap
        .iter()
        .filter(|b| !crate::tls::is_loopback(b.rsplit_once(':').map_or(b.as_str(), |(h, _)| h)))
        .collect();
    push(
        "kafka tls",
        match (sec.protocol.tls(), remote.is_empty()) {
            (true, _) => Ok(format!(
                "{}{}",
                sec.protocol.as_str(),
                if sec.verify_hostname { "" } else { " (host names not checked)" }
            )),
            (false, true) => Ok(format!("{} on loopback", sec.protocol.as_str())),
            (false, false) => Err(format!(
                "{} to {}; set kafka.security.protocol=SSL or SASL_SSL (MSK: port 9094 TLS, 9096 SCRAM, 9098 IAM)",
                sec.protocol.as_str(),
                remote.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
            )),
        },
    );
    match KafkaSink::connect(config.into()).await {
        Ok(mut sink) => {
            let how = crate::sink::describe_kafka_security(sec);
            match tokio::time::timeout(config.kafka_timeout, sink.client().list_topics()).await {
                Ok(Ok(t)) => {
                    push(
                        "kafka",
                        Ok(format!("{brokers} ({how}; {} topics)", t.len())),
                    );
                    // The schema change topic is one the connector creates
                    // anyway, so creating it proves the right without
                    // leaving anything foreign behind.
                    let probe: Arc<str> = Arc::from(config.topic_prefix.as_str());
                    push(
                        "kafka topic creation",
                        if t.iter().any(|x| *x.name == *probe) {
                            Ok(format!("topic {probe} exists"))
                        } else if !config.include_schema_changes {
                            Ok("not exercised (include.schema.changes=false; topics are created on first use)".into())
                        } else {
                            sink.topic(&probe)
                                .await
                                .map(|_| format!("created topic {probe}"))
                                .map_err(|e| format!("{e}; the connector creates a topic per table: grant CreateTopic on {probe}* (MSK IAM: kafka-cluster:CreateTopic)"))
                        },
                    );
                }
                Ok(Err(e)) => push("kafka", Err(format!("{brokers} ({how}): {e}"))),
                Err(_) => push(
                    "kafka",
                    Err(format!("no answer within {:?}", config.kafka_timeout)),
                ),
            }
        }
        Err(e) => push("kafka", Err(e.to_string())),
    }
    match crate::offsets::AnyStore::open(config).await {
        Ok(store) => match store.load().await {
            Ok(s) => push(
                "offset store",
                Ok(format!(
                    "{} ({})",
                    store.describe(),
                    if s.and_then(|s| s.checkpoint).is_some() {
                        "has a checkpoint"
                    } else {
                        "no checkpoint yet"
                    }
                )),
            ),
            Err(e) => push(
                "offset store",
                Err(format!("{e}; run `binlog-poller init` to create it")),
            ),
        },
        Err(e) => push("offset store", Err(e.to_string())),
    }
    checks
}

/// What `status` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Connector name.
    pub connector: String,
    /// Offset store.
    pub store: String,
    /// Stored state (checkpoint, lease).
    pub state: Option<crate::offsets::StoredState>,
    /// Current end of the server's binlog, if reachable.
    pub server_position: Option<String>,
    /// Bytes between the checkpoint and the end when both are in one file.
    pub behind_bytes: Option<u64>,
    /// Seconds since the last checkpointed event was written.
    pub seconds_since_last_event: Option<u64>,
    /// Why the server could not be asked, if it could not.
    pub server_error: Option<String>,
}

/// Reads the checkpoint and compares it with the server's end of the log.
pub async fn status<O: OffsetStore>(config: &Config, store: &O) -> Result<Status> {
    let state = store.load().await?;
    let cp = state.as_ref().and_then(|s| s.checkpoint.clone());
    let mut st = Status {
        connector: config.name.clone(),
        store: store.describe(),
        state,
        server_position: None,
        behind_bytes: None,
        seconds_since_last_event: cp
            .as_ref()
            .filter(|c| c.event_ts > 0)
            .map(|c| ((now_us() / 1_000_000) as u64).saturating_sub(u64::from(c.event_ts))),
        server_error: None,
    };
    match connect(config).await {
        Ok(mut conn) => {
            match ServerInfo::read(&mut conn, &config.server()).await {
                Ok(info) => {
                    if let Some(cp) = &cp {
                        let at = cp.resume_position();
                        if at.file == info.end.file {
                            st.behind_bytes = Some(info.end.pos.saturating_sub(at.pos));
                        }
                    }
                    st.server_position = Some(info.end.to_string());
                }
                Err(e) => st.server_error = Some(e.to_string()),
            }
            let _ = conn.disconnect().await;
        }
        Err(e) => st.server_error = Some(e.to_string()),
    }
    Ok(st)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::change::{Cell, Column, ColumnType, Op, RowChange, SourceInfo, TableSchema};
    use crate::offsets::MemoryStore;
    use crate::sink::MemorySink;
    use crate::source::MemorySource;

    fn table() -> Arc<TableSchema> {
        Arc::new(TableSchema {
            db: "d".into(),
            table: "t".into(),
            columns: vec![Column::new(
                "id",
                ColumnType::Int { unsigned: false },
                false,
            )],
            key: vec![0],
        })
    }

    fn row(id: i64, pos: u64) -> RowChange {
        RowChange {
            table: table(),
            op: Op::Create,
            before: None,
            after: Some(vec![Cell::Int(id)]),
            source: SourceInfo {
                position: BinlogPosition::new("b.000001", pos),
                row: 0,
                ts_sec: 1,
                server_id: 1,
                gtid: None,
                thread: None,
                snapshot: None,
                query: None,
            },
        }
    }

    /// A binlog of `txs` transactions; transaction k has `rows_per_event *
    /// events` rows with ids k*1000 + i.
    fn binlog(txs: u64, events: u64, rows_per_event: u64) -> Vec<SourceEvent> {
        let mut out = vec![];
        for k in 0..txs {
            let start = 100 + k * 100;
            out.push(SourceEvent::Begin {
                start: BinlogPosition::new("b.000001", start),
                gtid: None,
                mysql_gtid: None,
            });
            for e in 0..events {
                let rows = (0..rows_per_event)
                    .map(|i| row((k * 1000 + e * rows_per_event + i) as i64, start + e))
                    .collect();
                out.push(SourceEvent::Rows(rows));
            }
            out.push(SourceEvent::Commit {
                next: BinlogPosition::new("b.000001", start + 100),
                ts_sec: 1,
            });
        }
        out
    }

    fn opts(max_events: Option<u64>, batch: usize) -> PollOptions {
        let far = Instant::now() + Duration::from_secs(60);
        PollOptions {
            max_events,
            max_batch_records: batch,
            max_batch_bytes: 1 << 30,
            flush_interval: Duration::ZERO,
            lease_ttl: Duration::from_secs(60),
            heartbeat_interval: None,
            read_deadline: far,
            hard_deadline: far,
            stop: Arc::new(AtomicBool::new(false)),
            tx_metadata: false,
            max_record_bytes: 1 << 20,
            failure_mode: FailureMode::Fail,
        }
    }

    fn ids(sink: &MemorySink) -> Vec<i64> {
        sink.records
            .iter()
            .map(|r| {
                let v: serde_json::Value =
                    serde_json::from_slice(r.value.as_ref().unwrap()).unwrap();
                v["after"]["id"].as_i64().unwrap()
            })
            .collect()
    }

    fn encoder() -> EventEncoder {
        let mut o = EncoderOptions::new("p");
        o.key_schemas = false;
        o.value_schemas = false;
        EventEncoder::new(o)
    }

    /// Polls repeatedly, each time re-reading the binlog from the stored
    /// resume point (as the real source does), until the log is drained.
    async fn poll_until_done(
        log: &[SourceEvent],
        max_events: Option<u64>,
        batch: usize,
    ) -> (MemorySink, u32) {
        let store = MemoryStore::default();
        let mut sink = MemorySink::default();
        let mut polls = 0;
        loop {
            polls += 1;
            assert!(polls < 1000, "no progress");
            let Acquire::Acquired(lease) =
                store.acquire("t", Duration::from_secs(60)).await.unwrap()
            else {
                panic!()
            };
            let start = lease
                .checkpoint
                .clone()
                .unwrap_or_else(|| Checkpoint::at(BinlogPosition::new("b.000001", 4), None));
            let resume = start.resume_position().clone();
            // The real source re-reads from the resume point: drop the
            // transactions before it.
            let keep: Vec<_> = {
                let mut out = vec![];
                let mut active = false;
                for e in log.iter().cloned() {
                    if let SourceEvent::Begin { start, .. } = &e {
                        active = *start >= resume;
                    }
                    if active {
                        out.push(e);
                    }
                }
                out
            };
            let mut source = MemorySource::new(keep);
            let s = stream(
                &mut source,
                &mut sink,
                &store,
                &lease,
                &mut encoder(),
                start,
                &opts(max_events, batch),
            )
            .await
            .unwrap();
            store.release(&lease).await.unwrap();
            if s.caught_up && !s.partial_transaction {
                break;
            }
        }
        (sink, polls)
    }

    #[tokio::test]
    async fn big_transaction_over_several_polls_is_delivered_once_in_order() {
        let log = binlog(3, 10, 7); // 3 transactions of 70 rows
        let (sink, polls) = poll_until_done(&log, Some(25), 8).await;
        let want: Vec<i64> = (0..3)
            .flat_map(|k| (0..70).map(move |i| k * 1000 + i))
            .collect();
        assert_eq!(ids(&sink), want);
        assert!(polls >= 9, "{polls}");
    }

    #[tokio::test]
    async fn partial_checkpoint_inside_a_rows_event() {
        let log = binlog(1, 2, 10);
        let (sink, _) = poll_until_done(&log, Some(3), 2).await;
        assert_eq!(ids(&sink), (0..20).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn failed_send_checkpoints_nothing_and_redelivers() {
        let store = MemoryStore::default();
        let Acquire::Acquired(lease) = store.acquire("t", Duration::from_secs(60)).await.unwrap()
        else {
            panic!()
        };
        let mut sink = MemorySink {
            fail_with: Some("broker down".into()),
            ..Default::default()
        };
        let start = Checkpoint::at(BinlogPosition::new("b.000001", 4), None);
        let mut source = MemorySource::new(binlog(2, 1, 3));
        let err = stream(
            &mut source,
            &mut sink,
            &store,
            &lease,
            &mut encoder(),
            start.clone(),
            &opts(None, 2),
        )
        .await;
        assert!(matches!(err, Err(Error::Kafka { .. })));
        assert_eq!(
            store.state().unwrap().checkpoint,
            None,
            "nothing may be checkpointed"
        );
        sink.fail_with = None;
        let mut source = MemorySource::new(binlog(2, 1, 3));
        stream(
            &mut source,
            &mut sink,
            &store,
            &lease,
            &mut encoder(),
            start,
            &opts(None, 2),
        )
        .await
        .unwrap();
        assert_eq!(ids(&sink), vec![0, 1, 2, 1000, 1001, 1002]);
        assert_eq!(
            store.state().unwrap().checkpoint.unwrap().position,
            BinlogPosition::new("b.000001", 300)
        );
    }

    #[tokio::test]
    async fn fresh_connector_stores_its_start_even_without_events() {
        let store = MemoryStore::default();
        let Acquire::Acquired(lease) = store.acquire("t", Duration::from_secs(60)).await.unwrap()
        else {
            panic!()
        };
        let start = Checkpoint::at(BinlogPosition::new("b.000001", 1234), None);
        let mut sink = MemorySink::default();
        stream(
            &mut MemorySource::new(vec![]),
            &mut sink,
            &store,
            &lease,
            &mut encoder(),
            start.clone(),
            &opts(None, 10),
        )
        .await
        .unwrap();
        assert_eq!(store.state().unwrap().checkpoint, Some(start));
    }

    fn suppressing(cursor: Option<Vec<KeyValue>>) -> SnapshotState {
        SnapshotState {
            tables: vec![SnapshotTable {
                db: "d".into(),
                table: "t".into(),
                suppress: true,
                key_columns: vec!["id".into()],
                cursor,
                rows: 0,
            }],
            initial: true,
        }
    }

    fn change(op: Op, before: Option<i64>, after: Option<i64>) -> RowChange {
        RowChange {
            op,
            before: before.map(|b| vec![Cell::Int(b)]),
            after: after.map(|a| vec![Cell::Int(a)]),
            ..row(0, 1)
        }
    }

    #[test]
    fn stream_events_above_the_cursor_are_held_back() {
        let st = suppressing(Some(vec![KeyValue::Int(5)]));
        let ops = |c: &RowChange| visible_ops(held_back(Some(&st), c), c);
        assert_eq!(ops(&change(Op::Create, None, Some(5))), vec![Op::Create]);
        assert_eq!(ops(&change(Op::Create, None, Some(6))), vec![]);
        assert_eq!(ops(&change(Op::Delete, Some(9), None)), vec![]);
        assert_eq!(ops(&change(Op::Update, Some(2), Some(2))), vec![Op::Update]);
        // A key change across the cursor: each half on its own side.
        assert_eq!(ops(&change(Op::Update, Some(2), Some(9))), vec![Op::Delete]);
        assert_eq!(ops(&change(Op::Update, Some(9), Some(2))), vec![Op::Create]);
        assert_eq!(ops(&change(Op::Update, Some(1), Some(2))), vec![Op::Update]);
        // Before the first chunk nothing of the table is visible.
        let none = suppressing(None);
        let c = change(Op::Create, None, Some(1));
        assert!(visible_ops(held_back(Some(&none), &c), &c).is_empty());
        // A re-snapshot of a streaming table holds nothing back.
        let mut adhoc = suppressing(None);
        adhoc.tables[0].suppress = false;
        let c = change(Op::Delete, Some(1), None);
        assert_eq!(visible_ops(held_back(Some(&adhoc), &c), &c).len(), 1);
    }

    /// The operations a consumer sees of `c`.
    fn visible_ops(v: Visible, c: &RowChange) -> Vec<Op> {
        match v {
            Visible::All => vec![c.op],
            Visible::Nothing => vec![],
            Visible::Part(p) => vec![p.op],
        }
    }

    #[tokio::test]
    async fn chunk_moves_the_cursor_and_the_last_row_says_last() {
        let store = MemoryStore::default();
        let Acquire::Acquired(lease) = store.acquire("t", Duration::from_secs(60)).await.unwrap()
        else {
            panic!()
        };
        let mut sink = MemorySink::default();
        let mut start = Checkpoint::at(BinlogPosition::new("b.000001", 4), None);
        start.snapshot = Some(suppressing(Some(vec![KeyValue::Int(5)])));
        let o = opts(None, 100);
        let mut enc = encoder();
        let mut st = Streamer::new(&mut sink, &store, &lease, &mut enc, start, &o);
        let log = vec![
            SourceEvent::Begin {
                start: BinlogPosition::new("b.000001", 4),
                gtid: None,
                mysql_gtid: None,
            },
            SourceEvent::Rows(vec![
                change(Op::Create, None, Some(3)),
                change(Op::Create, None, Some(7)),
            ]),
            SourceEvent::Commit {
                next: BinlogPosition::new("b.000001", 50),
                ts_sec: 1,
            },
            SourceEvent::Begin {
                start: BinlogPosition::new("b.000001", 50),
                gtid: None,
                mysql_gtid: None,
            },
        ];
        let stop = BinlogPosition::new("b.000001", 50);
        assert_eq!(
            st.pump(&mut MemorySource::new(log), Some(&stop))
                .await
                .unwrap(),
            Pump::ReachedStop
        );
        let chunk = Chunk {
            rows: vec![vec![Cell::Int(6)], vec![Cell::Int(7)]],
            last_key: Some(vec![KeyValue::Int(7)]),
            more: false,
            position: stop.clone(),
            lock_held: Duration::from_millis(3),
        };
        st.emit_chunk(&table(), chunk).await.unwrap();
        assert!(st.snapshot().is_none() && st.initial_snapshot_done());
        let summary = st.finish().await.unwrap();
        assert_eq!(summary.snapshot_rows, 2);
        assert_eq!(summary.lock_hold_max_ms, Some(3.0));
        let values: Vec<serde_json::Value> = sink
            .records
            .iter()
            .map(|r| serde_json::from_slice(r.value.as_ref().unwrap()).unwrap())
            .collect();
        let seen: Vec<(String, i64, String)> = values
            .iter()
            .map(|v| {
                (
                    v["op"].as_str().unwrap().into(),
                    v["after"]["id"].as_i64().unwrap(),
                    v["source"]["snapshot"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("c".into(), 3, "false".into()),
                ("r".into(), 6, "true".into()),
                ("r".into(), 7, "last".into())
            ],
            "key 7's insert is held back: the chunk read after it carries it"
        );
        let cp = store.state().unwrap().checkpoint.unwrap();
        assert!(cp.initial_snapshot_done && cp.snapshot.is_none());
        assert_eq!(cp.position, stop);
    }

    #[tokio::test]
    async fn filtered_traffic_still_advances_the_checkpoint() {
        let store = MemoryStore::default();
        let Acquire::Acquired(lease) = store.acquire("t", Duration::from_secs(60)).await.unwrap()
        else {
            panic!()
        };
        let mut sink = MemorySink::default();
        let log = vec![
            SourceEvent::Begin {
                start: BinlogPosition::new("b.000001", 4),
                gtid: None,
                mysql_gtid: None,
            },
            SourceEvent::Rows(vec![]),
            SourceEvent::Commit {
                next: BinlogPosition::new("b.000001", 900),
                ts_sec: 5,
            },
        ];
        let start = Checkpoint::at(BinlogPosition::new("b.000001", 4), None);
        let s = stream(
            &mut MemorySource::new(log),
            &mut sink,
            &store,
            &lease,
            &mut encoder(),
            start,
            &opts(None, 10),
        )
        .await
        .unwrap();
        assert_eq!(s.events, 0);
        assert_eq!(s.transactions, 1);
        assert_eq!(store.state().unwrap().checkpoint.unwrap().position.pos, 900);
    }
}
