//! The bounds of one poll ([`PollOptions`]) and what it reports
//! ([`PollSummary`]).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::{Config, FailureMode};

pub use crate::config::DEFAULT_LEASE_TTL as LEASE_TTL;

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
    /// Lease duration (`offset.lease.ttl.ms`, [`LEASE_TTL`] by default);
    /// renewed while the poll works, and by each checkpoint.
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
    /// The `transforms` chain every record goes through before it is sent.
    pub transforms: crate::transform::Chain,
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
            lease_ttl: config.lease_ttl,
            heartbeat_interval: config.heartbeat_interval,
            read_deadline: deadline - reserve,
            hard_deadline: deadline,
            stop: Arc::new(AtomicBool::new(false)),
            tx_metadata: config.provide_transaction_metadata,
            max_record_bytes: config.kafka_max_record_bytes,
            failure_mode: config.failure_mode,
            transforms: crate::transform::Chain::new(config),
        }
    }
}

/// How a poll ended; serialised as the strings the summary always had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PollStatus {
    /// The poll ran (`"ok"`).
    #[default]
    Ok,
    /// Another poller holds the lease; nothing was done (`"lease_held"`).
    LeaseHeld,
    /// `snapshot.mode=initial_only` and the snapshot is done, so there is
    /// nothing to stream (`"snapshot_complete"`).
    SnapshotComplete,
}

/// What one poll did; printed as one JSON line.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PollSummary {
    /// Connector name.
    pub connector: String,
    /// How the poll ended.
    pub status: PollStatus,
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
    /// Where the snapshot stands after this poll: the table in progress,
    /// its rows and estimate, the rate, the rows left and an ETA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_progress: Option<crate::model::SnapshotProgress>,
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

impl PollSummary {
    /// The metrics of a finished poll.
    pub fn metrics(&self) -> Vec<(&'static str, &'static str, Option<f64>)> {
        use crate::platform::telemetry::metrics::*;
        let s = self;
        vec![
            (EVENTS_PUBLISHED, "Count", Some(s.events as f64)),
            (BYTES_PUBLISHED, "Bytes", Some(s.bytes as f64)),
            (BATCHES, "Count", Some(s.batches as f64)),
            (REPLICATION_LAG, "Seconds", Some(s.lag_seconds as f64)),
            (
                INVOCATION_DURATION,
                "Milliseconds",
                Some(s.duration_ms as f64),
            ),
            (SNAPSHOT_ROWS, "Count", Some(s.snapshot_rows as f64)),
            (
                SNAPSHOT_ROWS_REMAINING,
                "Count",
                Some(s.snapshot_progress.as_ref().map_or(0, |p| p.rows_remaining) as f64),
            ),
            (LOCK_HOLD_MAX, "Milliseconds", s.lock_hold_max_ms),
            (SUCCESSFUL_POLLS, "Count", Some(1.0)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_serialises_as_the_strings_it_replaced() {
        for (status, text) in [
            (PollStatus::Ok, "ok"),
            (PollStatus::LeaseHeld, "lease_held"),
            (PollStatus::SnapshotComplete, "snapshot_complete"),
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), text);
        }
        let summary = PollSummary {
            connector: "c".into(),
            status: PollStatus::LeaseHeld,
            lease_holder: Some("other".into()),
            ..Default::default()
        };
        let line = serde_json::to_string(&summary).unwrap();
        assert!(
            line.starts_with(r#"{"connector":"c","status":"lease_held","lease_holder":"other","#),
            "{line}"
        );
        assert_eq!(PollSummary::default().status, PollStatus::Ok);
    }
}
