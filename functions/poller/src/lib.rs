//! What a Lambda invocation does, independent of the Lambda runtime crate.
//!
//! `main.rs` only forwards the event payload and deadline here and maps the
//! error to Lambda's `errorType` (`Retryable` / `NonRetryable`, see
//! [`binlog_poller::Error::is_retryable`]). Everything else is the
//! library's: this crate picks the action, bounds it by the invocation's
//! deadline and reports it the way CloudWatch reads it.
//!
//! Accepted payloads: an EventBridge scheduled event (`"detail-type":
//! "Scheduled Event"`, or any payload without `action`), `{"action":
//! "poll"}`; `{"action": "snapshot", "tables": ["db.t1"]}`, which queues an
//! ad-hoc snapshot that the following polls read chunk by chunk;
//! `{"action": "status"}` (the stored checkpoint and the lag, as the CLI's
//! `status`); and `{"action": "validate"}` (the preflight checks, `ok`
//! false when one fails).
//!
//! Every invocation writes one structured summary log line (`invocation
//! finished` with the action, outcome and figures; never row values), and a
//! poll writes one CloudWatch Embedded Metric Format line on stdout
//! ([`binlog_poller::platform::telemetry::emf_line`]), which CloudWatch Logs turns into the
//! `BinlogPoller` metrics the alarms watch. The poll's budget is
//! the invocation deadline minus a margin (`BINLOG_POLLER_DEADLINE_MARGIN_MS`,
//! default 5 s: enough to release the lease and return), and never more
//! than `poll.max.duration.ms`.

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use binlog_poller::config::ConfigProblems;
use binlog_poller::offsets::AnyStore;
use binlog_poller::pipeline::poll_once;
use binlog_poller::platform::{secrets, telemetry};
use binlog_poller::{Config, Error, Result};

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
    let now = SystemTime::now();
    let left = effective_deadline(deadline, now)
        .duration_since(now)
        .unwrap_or_default()
        .saturating_sub(margin);
    let budget = left.min(config.poll_max_duration);
    let began = Instant::now();
    let result = run_action(config, &action, &payload, budget).await;
    log_summary(config, &action, &result, began.elapsed());
    result
}

/// Lambda's `Lambda-Runtime-Deadline-Ms` is epoch milliseconds. cargo-lambda's
/// runtime emulator sends the timeout itself (`600000`), which read as an
/// epoch time lies in 1970 and would leave no budget; no real deadline is
/// before 2001, so such a value is taken as relative to now.
fn effective_deadline(deadline: SystemTime, now: SystemTime) -> SystemTime {
    const NOT_AN_EPOCH_TIME: Duration = Duration::from_secs(1_000_000_000); // 2001-09-09
    match deadline.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) if since < NOT_AN_EPOCH_TIME => now + since,
        _ => deadline,
    }
}

async fn run_action(
    config: &Config,
    action: &str,
    payload: &Value,
    budget: Duration,
) -> Result<Value> {
    match action {
        "poll" => {
            if budget < Duration::from_secs(1) {
                return Err(Error::Timeout {
                    what: "the invocation (too little time left before the Lambda deadline; raise the function timeout)".into(),
                    limit: budget,
                });
            }
            let store = AnyStore::open(config).await?;
            // Boxed: the poll's state machine is large and deeply nested.
            match Box::pin(poll_once(config, &store, Instant::now() + budget)).await {
                Ok(summary) => {
                    emit_metrics(&config.name, &summary.metrics());
                    Ok(serde_json::to_value(summary).unwrap_or(Value::Null))
                }
                Err(e) => {
                    use telemetry::metrics::FAILED_POLLS;
                    emit_metrics(&config.name, &[(FAILED_POLLS, "Count", Some(1.0))]);
                    Err(e)
                }
            }
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
            let cp = binlog_poller::ops::request_snapshot(config, &store, &tables).await?;
            let queued: Vec<String> = cp
                .snapshot
                .iter()
                .flat_map(|s| s.tables.iter().map(|t| format!("{}.{}", t.db, t.table)))
                .collect();
            Ok(serde_json::json!({"connector": config.name, "snapshot_queued": queued}))
        }
        "status" => {
            let store = AnyStore::open(config).await?;
            let status = binlog_poller::ops::status(config, &store).await?;
            Ok(serde_json::to_value(status).unwrap_or(Value::Null))
        }
        "validate" => {
            let checks = binlog_poller::ops::validate(config).await;
            let ok = checks.iter().all(|c| c.ok);
            Ok(serde_json::json!({"connector": config.name, "ok": ok, "checks": checks}))
        }
        other => Err(Error::Config(ConfigProblems(vec![format!(
            "unknown action {other:?}; one of \"poll\", \"snapshot\", \"status\", \"validate\" (or a scheduled event)"
        )]))),
    }
}

/// Prints one EMF line on stdout, where the Lambda runtime forwards it to
/// CloudWatch Logs as is.
fn emit_metrics(connector: &str, values: &[(&str, &str, Option<f64>)]) {
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    println!("{}", telemetry::emf_line(connector, values, now_ms));
}

/// The one summary line per invocation (Logs Insights:
/// `filter message = "invocation finished"`).
fn log_summary(config: &Config, action: &str, result: &Result<Value>, took: Duration) {
    let took_ms = took.as_millis() as u64;
    match result {
        Ok(v) => {
            let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).unwrap_or("");
            let num = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
            tracing::info!(
                connector = %config.name,
                action,
                outcome = "ok",
                took_ms,
                status = text("status"),
                events = num("events"),
                bytes = num("bytes"),
                lag_seconds = num("lag_seconds"),
                snapshot_rows = num("snapshot_rows"),
                last_position = text("last_position"),
                "invocation finished"
            )
        }
        Err(e) => tracing::error!(
            connector = %config.name,
            action,
            outcome = "error",
            took_ms,
            retryable = e.is_retryable(),
            error = %secrets::redact(&e.to_string()),
            "invocation finished"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_epoch_times_or_relative_timeouts() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let real = now + Duration::from_secs(30);
        assert_eq!(effective_deadline(real, now), real);
        let emulator = SystemTime::UNIX_EPOCH + Duration::from_millis(600_000);
        assert_eq!(
            effective_deadline(emulator, now),
            now + Duration::from_secs(600)
        );
    }
}
