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

use crate::config::{Config, SnapshotMode};
use crate::error::{Error, Result};
use crate::event::{EncoderOptions, EventEncoder, Record};
use crate::offsets::{new_owner_id, Acquire, Lease, OffsetStore};
use crate::position::{BinlogPosition, Checkpoint, GtidSet, TxProgress};
use crate::sink::{KafkaSink, Sink};
use crate::source::{connect, BinlogSource, ServerInfo, Source, SourceEvent, StartAt};

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
    /// Stop reading new events at this instant.
    pub read_deadline: Instant,
    /// Everything, including the last send and checkpoint, ends by then.
    pub hard_deadline: Instant,
    /// Set by a signal handler: stop reading, send, checkpoint, return.
    pub stop: Arc<AtomicBool>,
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
            read_deadline: deadline - reserve,
            hard_deadline: deadline,
            stop: Arc::new(AtomicBool::new(false)),
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
}

/// The streaming loop: reads `source` from `start`, publishes to `sink`,
/// checkpoints to `store` under `lease`. Generic so that it runs unchanged
/// against memory implementations in unit tests.
pub async fn stream<S: Source, K: Sink, O: OffsetStore>(
    source: &mut S,
    sink: &mut K,
    store: &O,
    lease: &Lease,
    encoder: &mut EventEncoder,
    start: Checkpoint,
    opts: &PollOptions,
) -> Result<PollSummary> {
    let began = Instant::now();
    let mut summary = PollSummary {
        status: "ok".into(),
        first_position: Some(start.resume_position().to_string()),
        ..Default::default()
    };
    let mut boundary = start.position.clone();
    let mut gtid_set: Option<GtidSet> = start.gtid_set.clone();
    let mut event_ts = start.event_ts;
    let mut resume_skip = start.transaction.clone();
    let mut tx: Option<TxState> = None;
    // What the store holds: a fresh connector has nothing, so even an
    // unchanged start position gets written (else the next poll would
    // start at the then-current end and skip what came in between).
    let mut committed: Option<Checkpoint> = lease.checkpoint.clone();
    let mut last_commit = Instant::now();
    let mut buf: Vec<Record> = Vec::with_capacity(opts.max_batch_records.min(65_536));
    let mut buf_bytes = 0usize;
    let mut emitted: u64 = 0;
    let mut budget_hit = false;

    let checkpoint_now = |boundary: &BinlogPosition,
                          gtid_set: &Option<GtidSet>,
                          tx: &Option<TxState>,
                          event_ts: u32| {
        Checkpoint {
            position: boundary.clone(),
            gtid_set: gtid_set.clone(),
            transaction: tx.as_ref().and_then(|t| {
                // Nothing of this transaction handled yet: the boundary says it all.
                (t.rows_events > 0 || t.rows > 0).then(|| TxProgress {
                    start: t.start.clone(),
                    gtid: t.gtid.clone(),
                    rows_events: t.rows_events,
                    rows: t.rows,
                })
            }),
            event_ts,
        }
    };

    while !budget_hit {
        if Instant::now() >= opts.read_deadline || opts.stop.load(Ordering::Relaxed) {
            break;
        }
        let Some(ev) = source.next().await? else {
            summary.caught_up = source.reached_end();
            break;
        };
        match ev {
            SourceEvent::Begin {
                start: s,
                gtid,
                mysql_gtid,
            } => {
                let skip = match resume_skip.take() {
                    Some(p)
                        if p.start == s
                            || (p.gtid.is_some() && p.gtid.as_deref() == gtid.as_deref()) =>
                    {
                        Some((p.rows_events, p.rows))
                    }
                    Some(p) => {
                        // Not the transaction we stopped in: re-deliver rather than skip.
                        tracing::warn!(expected = %p.start, found = %s, "resumed transaction not found where stored; re-delivering it whole");
                        None
                    }
                    None => None,
                };
                tx = Some(TxState {
                    start: s,
                    gtid: gtid.map(|g| g.to_string()),
                    mysql_gtid,
                    rows_events: 0,
                    rows: 0,
                    skip,
                });
            }
            SourceEvent::Rows(changes) => {
                let Some(t) = tx.as_mut() else {
                    // Rows outside a transaction cannot be checkpointed
                    // precisely; the server never sends them in ROW format.
                    return Err(Error::Decode {
                        position: boundary.to_string(),
                        reason: "rows event outside a transaction".into(),
                    });
                };
                let (skip_events, skip_rows) = t.skip.unwrap_or((0, 0));
                if t.rows_events < skip_events {
                    t.rows_events += 1;
                    continue;
                }
                let first_row = if t.rows_events == skip_events {
                    skip_rows
                } else {
                    0
                };
                let now = now_us();
                let mut stopped = false;
                for (i, change) in changes.iter().enumerate() {
                    if (i as u64) < first_row {
                        continue;
                    }
                    if opts.max_events.is_some_and(|m| emitted >= m) {
                        t.rows = i as u64;
                        stopped = true;
                        break;
                    }
                    let before = buf.len();
                    encoder.encode(change, now, &mut buf);
                    buf_bytes += buf[before..].iter().map(Record::size).sum::<usize>();
                    emitted += 1;
                    event_ts = change.source.ts_sec;
                }
                if stopped {
                    budget_hit = true;
                } else {
                    t.rows_events += 1;
                    t.rows = 0;
                    if opts.max_events.is_some_and(|m| emitted >= m) {
                        budget_hit = true;
                    }
                }
            }
            SourceEvent::Commit { next, ts_sec } => {
                if let Some(t) = tx.take() {
                    if let (Some(set), Some((sid, gno))) =
                        (gtid_set.as_mut(), t.mysql_gtid.as_ref())
                    {
                        set.add(sid, *gno);
                    }
                }
                boundary = next;
                event_ts = ts_sec;
                summary.transactions += 1;
            }
            SourceEvent::Advance { next, ts_sec } => {
                if tx.is_none() {
                    boundary = next;
                    if ts_sec > 0 {
                        event_ts = ts_sec;
                    }
                }
            }
        }
        if buf.len() >= opts.max_batch_records || buf_bytes >= opts.max_batch_bytes {
            flush(sink, &mut buf, &mut buf_bytes, &mut summary, opts).await?;
            if last_commit.elapsed() >= opts.flush_interval {
                let cp = checkpoint_now(&boundary, &gtid_set, &tx, event_ts);
                commit(store, lease, &cp, &mut committed, &mut summary, opts).await?;
                last_commit = Instant::now();
            }
        }
    }
    flush(sink, &mut buf, &mut buf_bytes, &mut summary, opts).await?;
    let cp = checkpoint_now(&boundary, &gtid_set, &tx, event_ts);
    commit(store, lease, &cp, &mut committed, &mut summary, opts).await?;

    summary.events = emitted;
    summary.partial_transaction = cp.transaction.is_some();
    summary.last_position = Some(
        cp.transaction
            .as_ref()
            .map_or(&cp.position, |t| &t.start)
            .to_string(),
    );
    summary.gtid_set = cp.gtid_set.as_ref().map(ToString::to_string);
    let now_sec = (now_us() / 1_000_000) as u64;
    summary.lag_seconds = if summary.caught_up || cp.event_ts == 0 {
        0
    } else {
        now_sec.saturating_sub(u64::from(cp.event_ts))
    };
    summary.duration_ms = began.elapsed().as_millis() as u64;
    summary.peak_rss_kb = crate::telemetry::peak_rss_kb();
    Ok(summary)
}

async fn flush<K: Sink>(
    sink: &mut K,
    buf: &mut Vec<Record>,
    bytes: &mut usize,
    summary: &mut PollSummary,
    opts: &PollOptions,
) -> Result<()> {
    if buf.is_empty() {
        return Ok(());
    }
    let records = std::mem::take(buf);
    let n = records.len() as u64;
    let limit = opts.hard_deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(limit, sink.send(records)).await {
        Ok(r) => r?,
        Err(_) => {
            return Err(Error::Timeout {
                what: "publishing to Kafka before the poll deadline".into(),
                limit,
            })
        }
    }
    crate::fault::point("after_publish");
    summary.records += n;
    summary.bytes += *bytes as u64;
    summary.batches += 1;
    *bytes = 0;
    Ok(())
}

async fn commit<O: OffsetStore>(
    store: &O,
    lease: &Lease,
    cp: &Checkpoint,
    committed: &mut Option<Checkpoint>,
    summary: &mut PollSummary,
    opts: &PollOptions,
) -> Result<()> {
    if committed.as_ref() == Some(cp) {
        return Ok(());
    }
    store.commit(lease, cp, opts.lease_ttl).await?;
    *committed = Some(cp.clone());
    summary.checkpoints += 1;
    tracing::debug!(position = %cp.position, partial = cp.transaction.is_some(), "checkpoint written");
    Ok(())
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

async fn poll_with_lease<O: OffsetStore>(
    config: &Config,
    store: &O,
    lease: &Lease,
    opts: &PollOptions,
) -> Result<PollSummary> {
    let server = config.server();
    let mut meta = connect(config).await?;
    let info = ServerInfo::read(&mut meta, &server).await?;
    for w in info.check()? {
        tracing::warn!(server = %server, "{w}");
    }
    let start = match &lease.checkpoint {
        Some(cp) => {
            if !info.resume_point_available(&mut meta, cp).await? {
                return Err(Error::PositionPurged {
                    server,
                    position: cp.resume_position().to_string(),
                });
            }
            cp.clone()
        }
        None => match config.snapshot_mode {
            SnapshotMode::Never | SnapshotMode::NoData | SnapshotMode::Recovery => {
                tracing::info!(position = %info.end, "no stored offset; starting at the current end of the binlog");
                Checkpoint::at(info.end.clone(), info.gtid_executed.clone())
            }
            mode => {
                return Err(Error::Config(crate::config::ConfigProblems(vec![format!(
                    "snapshot.mode={mode:?} needs an initial snapshot, which this version cannot take yet; set snapshot.mode=never (or no_data) to start streaming from the current binlog position"
                )])))
            }
        },
    };
    let start_at = match (&start.gtid_set, info.gtid_mode()) {
        (Some(set), true) => StartAt::Gtid(set.clone()),
        _ => StartAt::Position(start.resume_position().clone()),
    };
    // The sink connects before the dump so a dead broker fails fast.
    let mut sink = KafkaSink::connect(config.into()).await?;
    let mut source = BinlogSource::open(
        config,
        info.flavor,
        &start_at,
        start.transaction.clone(),
        meta,
        opts.read_deadline,
    )
    .await?;
    let mut encoder = EventEncoder::new(EncoderOptions::from(config));
    let result = stream(
        &mut source,
        &mut sink,
        store,
        lease,
        &mut encoder,
        start,
        opts,
    )
    .await;
    source.close().await;
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

/// Checks connectivity and settings: MySQL login, binlog settings, Kafka,
/// the offset store. Never stops at the first failure.
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
    match connect(config).await {
        Ok(mut conn) => {
            push("mysql connect", Ok(config.server()));
            match ServerInfo::read(&mut conn, &config.server()).await {
                Ok(info) => {
                    push(
                        "mysql version",
                        Ok(format!("{} ({:?})", info.version, info.flavor)),
                    );
                    match info.check() {
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
            let _ = conn.disconnect().await;
        }
        Err(e) => push("mysql connect", Err(e.to_string())),
    }
    match KafkaSink::connect(config.into()).await {
        Ok(sink) => {
            match tokio::time::timeout(config.kafka_timeout, sink.client().list_topics()).await {
                Ok(Ok(t)) => push(
                    "kafka",
                    Ok(format!(
                        "{} ({} topics)",
                        config.kafka_bootstrap.join(","),
                        t.len()
                    )),
                ),
                Ok(Err(e)) => push("kafka", Err(e.to_string())),
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
            columns: vec![Column {
                name: "id".into(),
                ty: ColumnType::Int { unsigned: false },
                nullable: false,
            }],
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
            read_deadline: far,
            hard_deadline: far,
            stop: Arc::new(AtomicBool::new(false)),
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
        EventEncoder::new(EncoderOptions {
            topic_prefix: "p".into(),
            key_schemas: false,
            value_schemas: false,
            tombstones: true,
        })
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
