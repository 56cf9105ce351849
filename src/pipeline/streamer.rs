//! The [`Streamer`]: the state of one poll between the source and the sink.
//!
//! It turns [`SourceEvent`]s into records in a bounded buffer, sends the
//! buffer when it is full, and writes a checkpoint that describes exactly
//! the acknowledged prefix of the binlog (see the module docs of
//! [`crate::pipeline`]). Snapshot chunks enter through
//! [`Streamer::emit_chunk`] at the point of the stream where they were read.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::model::time::now_us;

use super::holdback::{held_back, Visible};
use super::options::{PollOptions, PollStatus, PollSummary};
use crate::config::FailureMode;
use crate::encode::{EventEncoder, Record};
use crate::error::{Error, Result};
use crate::model::{
    BinlogPosition, Checkpoint, GtidSet, Op, RowChange, SnapshotState, SourceInfo, TableSchema,
    TxCounter, TxProgress,
};
use crate::offsets::{Lease, OffsetStore};
use crate::sink::Sink;
use crate::source::{Chunk, Source, SourceEvent, StartAt};

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
    /// When snapshot progress was last logged (at most every
    /// [`PROGRESS_EVERY`]).
    progress_logged: Option<Instant>,
    summary: PollSummary,
}

/// Snapshot progress is logged at most this often.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

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
                status: PollStatus::Ok,
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
            progress_logged: None,
        }
    }

    /// The checkpoint describing everything handled so far.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            position: self.boundary.clone(),
            gtid_set: self.gtid_set.clone(),
            transaction: match &self.tx {
                // Nothing of this transaction handled yet: the boundary says it all.
                Some(t) => {
                    // While the resumed transaction's published rows events
                    // are passed over again, the stored progress still
                    // stands: never report less.
                    let (rows_events, rows) = (t.rows_events, t.rows).max(t.skip.unwrap_or((0, 0)));
                    (rows_events > 0 || rows > 0).then(|| TxProgress {
                        start: t.start.clone(),
                        gtid: t.gtid.clone(),
                        rows_events,
                        rows,
                        tx_meta: t.meta.clone(),
                    })
                }
                // The partly published transaction this poll resumes has not
                // begun again yet: its progress still stands.
                None => self.resume_skip.clone(),
            },
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
            // The source bounds its reads by the read deadline, but not the
            // metadata queries behind a decode (information_schema, SHOW
            // BINLOG EVENTS): a stuck one ends the read here. What was
            // applied stands; the event being handled is read again by the
            // next poll.
            let left = self
                .opts
                .read_deadline
                .saturating_duration_since(Instant::now());
            let Ok(next) = tokio::time::timeout(left, source.next()).await else {
                tracing::warn!(
                    "the binlog source did not answer before the read deadline; ending the read"
                );
                return Ok(Pump::Deadline);
            };
            let Some(ev) = next? else {
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
                    Some(p) if p.is_transaction(&s, gtid.as_deref()) => {
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
                    let encoder = &mut *self.encoder;
                    let seen = held_back(self.snapshot.as_ref(), change, || {
                        encoder.changes_key(change)
                    });
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
                // An Advance carries no data, only progress, so it never
                // moves the checkpoint back: a GTID dump starts by re-sending
                // the header events (ROTATE, FORMAT_DESCRIPTION,
                // PREVIOUS_GTIDS) of the oldest file it reads from.
                if self.tx.is_none() && next > self.boundary {
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
        let table_started = state.tables[0].rows > 0;
        let snapshot_started = state.started;
        let n = chunk.rows.len();
        let now = now_us();
        let ts_sec = (now / 1_000_000) as u32;
        for (i, row) in chunk.rows.into_iter().enumerate() {
            let first_in_table = !table_started && i == 0;
            let last_in_table = !chunk.more && i + 1 == n;
            // Debezium's markers (SnapshotRecord): the last row of a table wins over its
            // first (a one-row table is `last_in_data_collection`).
            let marker = match (last_in_table, first_in_table) {
                (true, _) if last_of_snapshot => "last",
                (true, _) => "last_in_data_collection",
                (false, true) if !snapshot_started => "first",
                (false, true) => "first_in_data_collection",
                (false, false) => "true",
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
        state.started |= n > 0;
        let t = &mut state.tables[0];
        if t.started_ms == 0 {
            t.started_ms = crate::offsets::now_ms();
        }
        t.rows += n as u64;
        if let Some(k) = chunk.last_key {
            t.cursor = Some(k);
        }
        if self
            .progress_logged
            .is_none_or(|at| at.elapsed() >= PROGRESS_EVERY)
        {
            if let Some(p) = state.progress(crate::offsets::now_ms()) {
                tracing::info!(
                    table = %p.table,
                    rows = p.rows,
                    estimated_rows = p.estimated_rows,
                    rows_per_second = p.rows_per_second,
                    eta_seconds = p.eta_seconds,
                    rows_remaining = p.rows_remaining,
                    tables_left = p.tables_left,
                    "snapshot progress"
                );
                self.progress_logged = Some(Instant::now());
            }
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
        // Transforms run on what is sent; the buffer's bounds count what
        // was encoded (a transform that grows a record is rare, and the
        // broker's own limit still applies).
        let records = self.opts.transforms.apply(std::mem::take(&mut self.buf))?;
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
        crate::platform::fault::point("after_publish");
        self.summary.records += n;
        self.summary.bytes += self.buf_bytes as u64;
        self.summary.batches += 1;
        self.buf_bytes = 0;
        Ok(())
    }

    /// Writes the checkpoint now if the store holds none: a fresh
    /// connector records where it starts before it publishes anything, so a
    /// poll that dies after publishing part of the initial snapshot leaves
    /// the next poll this start (and the deletes after it) rather than a new
    /// snapshot from a later position.
    pub(crate) async fn commit_if_fresh(&mut self) -> Result<()> {
        if self.committed.is_none() {
            self.commit().await?;
        }
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
        s.snapshot_progress = cp
            .snapshot
            .as_ref()
            .and_then(|st| st.progress(crate::offsets::now_ms()));
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
        s.peak_rss_kb = crate::platform::telemetry::peak_rss_kb();
        Ok(s)
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}
