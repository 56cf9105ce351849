//! What a Lambda invocation does, independent of the Lambda runtime crate.
//!
//! The function binary (`functions/poller`) only forwards the event payload
//! and deadline here and maps the error to Lambda's `errorType`
//! (`Retryable` / `NonRetryable`, see [`crate::Error::is_retryable`]).
//!
//! Accepted payloads: an EventBridge scheduled event (`"detail-type":
//! "Scheduled Event"`), `{}` or `{"action": "poll"}`; and `{"action":
//! "snapshot", "tables": ["db.t1"]}`, which queues an ad-hoc snapshot that
//! the following polls read chunk by chunk. The poll's budget is
//! the invocation deadline minus a margin (`BINLOG_POLLER_DEADLINE_MARGIN_MS`,
//! default 5 s: enough to release the lease and return), and never more
//! than `poll.max.duration.ms`.

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::config::ConfigProblems;
use crate::error::{Error, Result};
use crate::offsets::AnyStore;
use crate::poller::poll_once;
use crate::Config;

/// Default time kept free between the end of the poll and the deadline.
pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// Reads the config from `BINLOG_POLLER_CONFIG` (JSON) or
/// `BINLOG_POLLER_CONFIG_FILE` (a path in the deployment package).
/// `${secretsmanager:...}` references are resolved here, once per cold start.
pub async fn load_config() -> Result<Config> {
    if let Ok(text) = std::env::var("BINLOG_POLLER_CONFIG") {
        return Config::load(&text).await;
    }
    if let Ok(path) = std::env::var("BINLOG_POLLER_CONFIG_FILE") {
        return Config::load_file(&path).await;
    }
    Err(Error::Config(ConfigProblems(vec![
        "set BINLOG_POLLER_CONFIG (the connector JSON) or BINLOG_POLLER_CONFIG_FILE (its path)"
            .into(),
    ])))
}

/// Handles one invocation and returns the poll summary as JSON.
pub async fn handle_invocation(
    config: &Config,
    payload: Value,
    deadline: SystemTime,
) -> Result<Value> {
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| "poll".into());
    let margin = std::env::var("BINLOG_POLLER_DEADLINE_MARGIN_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_DEADLINE_MARGIN);
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .saturating_sub(margin);
    let budget = left.min(config.poll_max_duration);
    match action.as_str() {
        "poll" => {
            if budget < Duration::from_secs(1) {
                return Err(Error::Timeout {
                    what: "the invocation (too little time left before the Lambda deadline; raise the function timeout)".into(),
                    limit: budget,
                });
            }
            let store = AnyStore::open(config).await?;
            // Boxed: the poll's state machine is large and deeply nested.
            let summary = Box::pin(poll_once(config, &store, Instant::now() + budget)).await?;
            tracing::info!(
                connector = %summary.connector,
                status = %summary.status,
                events = summary.events,
                lag_seconds = summary.lag_seconds,
                "poll finished"
            );
            Ok(serde_json::to_value(summary).unwrap_or(Value::Null))
        }
        "snapshot" => {
            let tables: Vec<String> = payload
                .get("tables")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let store = AnyStore::open(config).await?;
            let cp = crate::poller::request_snapshot(config, &store, &tables).await?;
            let queued: Vec<String> = cp
                .snapshot
                .iter()
                .flat_map(|s| s.tables.iter().map(|t| format!("{}.{}", t.db, t.table)))
                .collect();
            Ok(serde_json::json!({"connector": config.name, "snapshot_queued": queued}))
        }
        other => Err(Error::Config(ConfigProblems(vec![format!(
            "unknown action {other:?}; expected \"poll\" or \"snapshot\" (or a scheduled event)"
        )]))),
    }
}
