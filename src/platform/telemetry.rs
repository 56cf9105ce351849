//! Logging set-up.
//!
//! Logs go to stderr so stdout carries only results (the poll summary
//! line, `status` JSON). `BINLOG_POLLER_LOG_FORMAT=json` (the default on
//! Lambda, where CloudWatch Logs parses JSON) switches to one JSON object
//! per line; `RUST_LOG` filters as usual (default `info,rskafka=error`:
//! rskafka logs every broker connection at info and every retry of an
//! unreachable broker at warn, about 70 lines per failed poll that
//! CloudWatch bills; the failure itself is our one error line naming the
//! brokers and the reason). Log fields carry
//! identifiers and positions, never row values or secrets.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; call once at start.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rskafka=error"));
    let json = json_logs();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        builder.with_ansi(false).init();
    }
}

/// Whether logs are JSON lines: `BINLOG_POLLER_LOG_FORMAT=json`, and by
/// default inside Lambda (CloudWatch Logs Insights reads the fields).
pub fn json_logs() -> bool {
    std::env::var("BINLOG_POLLER_LOG_FORMAT")
        .map(|v| v.eq_ignore_ascii_case("json"))
        .unwrap_or_else(|_| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some())
}

/// Peak resident set size of this process in KiB (`VmHWM` in
/// `/proc/self/status`), where the platform reports it.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CloudWatch metric names and the namespace they are published under, in
/// one place for the code, the alarms and the dashboard.
pub mod metrics {
    /// CloudWatch namespace.
    pub const NAMESPACE: &str = "BinlogPoller";
    /// The one dimension: the connector's `name`.
    pub const DIMENSION: &str = "Connector";
    /// Row change events published.
    pub const EVENTS_PUBLISHED: &str = "EventsPublished";
    /// Kafka record bytes published (keys and values).
    pub const BYTES_PUBLISHED: &str = "BytesPublished";
    /// Batches sent to Kafka.
    pub const BATCHES: &str = "Batches";
    /// Seconds between the newest event read and the end of the poll; 0
    /// when caught up.
    pub const REPLICATION_LAG: &str = "ReplicationLagSeconds";
    /// Wall time of the invocation's work.
    pub const INVOCATION_DURATION: &str = "InvocationDurationMs";
    /// Rows read by snapshot chunks.
    pub const SNAPSHOT_ROWS: &str = "SnapshotRows";
    /// Estimated snapshot rows still to read (0 without a snapshot).
    pub const SNAPSHOT_ROWS_REMAINING: &str = "SnapshotRowsRemaining";
    /// Longest table lock a snapshot chunk held.
    pub const LOCK_HOLD_MAX: &str = "LockHoldMaxMs";
    /// 1 per poll that finished (the "no successful poll" alarm watches it).
    pub const SUCCESSFUL_POLLS: &str = "SuccessfulPolls";
    /// 1 per poll that failed.
    pub const FAILED_POLLS: &str = "FailedPolls";
}

/// One CloudWatch Embedded Metric Format line (a JSON object that
/// CloudWatch Logs turns into metrics, "Specification: Embedded metric
/// format"): `values` as `(name, unit, value)` under [`metrics::NAMESPACE`]
/// with the connector as the dimension. `None` values are left out, so an
/// absent figure is missing data rather than a zero.
pub fn emf_line(connector: &str, values: &[(&str, &str, Option<f64>)], now_ms: u128) -> String {
    let present: Vec<_> = values
        .iter()
        .filter_map(|(n, u, v)| v.map(|v| (*n, *u, v)))
        .collect();
    let mut root = serde_json::Map::new();
    root.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": now_ms as u64,
            "CloudWatchMetrics": [{
                "Namespace": metrics::NAMESPACE,
                "Dimensions": [[metrics::DIMENSION]],
                "Metrics": present.iter().map(|(n, u, _)| serde_json::json!({"Name": n, "Unit": u})).collect::<Vec<_>>(),
            }],
        }),
    );
    root.insert(metrics::DIMENSION.into(), connector.into());
    for (n, _, v) in present {
        root.insert(n.into(), serde_json::json!(v));
    }
    serde_json::Value::Object(root).to_string()
}

/// Writes one EMF line of `values`, stamped now, to `out` (stdout for the
/// Lambda runtime and container log drivers). A metric that cannot be
/// written is not worth failing the poll over.
pub fn emit_metrics(
    out: &mut impl std::io::Write,
    connector: &str,
    values: &[(&str, &str, Option<f64>)],
) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let _ = writeln!(out, "{}", emf_line(connector, values, now_ms));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_declares_every_value_it_carries() {
        let line = emf_line(
            "inv",
            &[
                (metrics::EVENTS_PUBLISHED, "Count", Some(3.0)),
                (metrics::LOCK_HOLD_MAX, "Milliseconds", None),
            ],
            1_700_000_000_000,
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(m["Namespace"], "BinlogPoller");
        assert_eq!(m["Dimensions"], serde_json::json!([["Connector"]]));
        assert_eq!(
            m["Metrics"],
            serde_json::json!([{"Name": "EventsPublished", "Unit": "Count"}])
        );
        assert_eq!(v["Connector"], "inv");
        assert_eq!(v["EventsPublished"], 3.0);
        assert!(v.get("LockHoldMaxMs").is_none(), "absent, not zero");
        assert!(!line.contains('\n'), "one line");
    }
}
