//! What a Lambda invocation does.
//!
//! `main.rs` only forwards the event payload and deadline to
//! [`Function::invoke`], whose error, a [`Failure`], is Lambda's
//! `errorType` (`Retryable` / `NonRetryable`, see
//! [`binlog_poller::Error::is_retryable`]) and message. Everything else is
//! the library's: this crate picks the action, bounds it by the invocation's
//! deadline and reports it the way CloudWatch reads it.
//!
//! A function whose configuration cannot be loaded still starts: every
//! invocation then answers the (redacted) problem as a `NonRetryable`
//! error, with its summary line and a `FailedPolls` metric, so the alarms
//! see it (a load that failed for a reason that may heal, e.g. Secrets
//! Manager throttling, is `Retryable` and tried again by the next
//! invocation).
//!
//! Accepted payloads: an EventBridge scheduled event (`"detail-type":
//! "Scheduled Event"`, or any payload without `action`), `{"action":
//! "poll"}`; `{"action": "snapshot", "tables": ["db.t1"]}`, which queues an
//! ad-hoc snapshot that the following polls read chunk by chunk;
//! `{"action": "status"}` (the stored checkpoint and the lag, as the CLI's
//! `status`); `{"action": "validate"}` (the preflight checks, `ok`
//! false when one fails); and the offsets actions of the CLI's `offsets`
//! command: `{"action": "offsets-get"}`, `{"action": "offsets-set", "to":
//! "<GTID set or FILE:POS>", "force": false}`, `{"action":
//! "offsets-reset", "force": false}`, each answering with the offsets as
//! they are afterwards.
//!
//! Every invocation writes one structured summary log line (`invocation
//! finished` with the action, outcome and figures; never row values), and a
//! poll writes one CloudWatch Embedded Metric Format line on stdout
//! ([`binlog_poller::platform::telemetry::emf_line`]), which CloudWatch Logs turns into the
//! `BinlogPoller` metrics the alarms watch. The poll's budget is
//! the invocation deadline minus a margin (`BINLOG_POLLER_DEADLINE_MARGIN_MS`,
//! default 5 s: enough to release the lease and return), and never more
//! than `poll.max.duration.ms`.

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use futures_util::FutureExt as _;
use lambda_runtime::Diagnostic;

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
    let config = if let Ok(text) = std::env::var("BINLOG_POLLER_CONFIG") {
        Config::load(&text).await?
    } else if let Ok(path) = std::env::var("BINLOG_POLLER_CONFIG_FILE") {
        Config::load_file(&path).await?
    } else {
        return Err(Error::Config(ConfigProblems(vec![
            "set BINLOG_POLLER_CONFIG (the connector JSON) or BINLOG_POLLER_CONFIG_FILE (its path)"
                .into(),
        ])));
    };
    check_for_lambda(&config)?;
    Ok(config)
}

/// What a config may not ask of the Lambda function: `sink.type=stdout`
/// would write row values into CloudWatch Logs and move the offsets past
/// events no broker received.
pub fn check_for_lambda(config: &Config) -> Result<()> {
    if config.sink == binlog_poller::config::SinkType::Stdout {
        return Err(Error::Config(ConfigProblems(vec![
            "sink.type=stdout is for the CLI: in Lambda stdout is CloudWatch Logs, which would receive row values, and the offsets would move past events no broker received; remove sink.type (Kafka is the default)".into(),
        ])));
    }
    Ok(())
}

/// A failed invocation as Lambda sees it: `Retryable` errors (broker or
/// network trouble, a lease conflict) heal on a later invocation;
/// `NonRetryable` ones (configuration, purged binlog, server settings, a
/// panic) need a human.
///
/// It holds only the *redacted* message, made when the failure is built,
/// never the error itself. `lambda_runtime` 1.x prints its handler's error
/// on its own: `CatchPanicFuture` (`layers/panic.rs`) logs
/// `tracing::error!("{error:?}")` for every failed invocation, before it
/// turns the error `Into<Diagnostic>`. With the error's derived `Debug`
/// that line carried the raw error (e.g. the Secrets Manager user name in
/// `Access denied for user '...'`). Redacting in our `Display` or in the
/// `Diagnostic` alone would leave that `Debug` line (and any other
/// formatting the runtime adds in a later version) open; a tracing filter
/// on the runtime's target would depend on its module layout. Here no
/// formatting of a `Failure` (`Display`, `Debug`, `Diagnostic`) can carry a
/// secret, because the unredacted text is not in it. Panics are caught in
/// [`Function::invoke`] and become a `Failure` too, so the runtime's own
/// panic path (which would put the raw panic message in the `Diagnostic`)
/// is never taken; the standard panic hook, which prints the message to
/// stderr, is replaced by [`secrets::redact_panics`] in `main.rs`.
#[derive(Clone, PartialEq, Eq)]
pub struct Failure {
    retryable: bool,
    message: String,
}

impl Failure {
    /// A failure with `message`, redacted here.
    pub fn new(retryable: bool, message: &str) -> Self {
        Self {
            retryable,
            message: secrets::redact(message),
        }
    }

    /// A panic of the handler: a bug, for a person to look at.
    pub fn panicked(payload: &(dyn std::any::Any + Send)) -> Self {
        Self::new(
            false,
            &format!("panicked: {}", secrets::panic_message(payload)),
        )
    }

    /// Lambda's `errorType`.
    pub fn error_type(&self) -> &'static str {
        if self.retryable {
            "Retryable"
        } else {
            "NonRetryable"
        }
    }

    /// Whether a later invocation may succeed without a human.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        Self::new(e.is_retryable(), &e.to_string())
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::from(&e)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What `lambda_runtime` logs for a failed invocation: type and redacted message.
impl std::fmt::Debug for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type(), self.message)
    }
}

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Self {
        Diagnostic {
            error_type: f.error_type().into(),
            error_message: f.message,
        }
    }
}

/// The function: its configuration, loaded at cold start, or why it could
/// not be loaded.
#[derive(Default)]
pub struct Function {
    config: OnceLock<Config>,
    /// A load failure no retry cures (a configuration problem): every
    /// invocation answers it.
    broken: OnceLock<(String, Failure)>,
}

/// Never the config's values (a user name may come from a secret).
impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("loaded", &self.config.get().is_some())
            .field("broken", &self.broken.get())
            .finish()
    }
}

impl Function {
    /// Cold start: loads the configuration (see [`load_config`]). A failure
    /// is logged once here, redacted, and answered by every invocation.
    pub async fn start() -> Self {
        let function = Self::default();
        if let Err((connector, failure)) = function.config().await {
            tracing::error!(
                connector,
                retryable = failure.retryable,
                error = %failure,
                "invalid configuration: every invocation fails until it is fixed"
            );
        }
        function
    }

    /// A function whose configuration load gave `loaded` (for tests).
    pub fn from_load(loaded: Result<Config>) -> Self {
        let function = Self::default();
        match loaded {
            Ok(c) => {
                let _ = function.config.set(c);
            }
            Err(e) => {
                function.remember(&e);
            }
        }
        function
    }

    fn remember(&self, e: &Error) -> (String, Failure) {
        let failed = (unconfigured_connector(), Failure::from(e));
        if !e.is_retryable() {
            let _ = self.broken.set(failed.clone());
        }
        failed
    }

    /// The configuration, loading it again only after a failure that may heal.
    async fn config(&self) -> std::result::Result<&Config, (String, Failure)> {
        if let Some(c) = self.config.get() {
            return Ok(c);
        }
        if let Some(b) = self.broken.get() {
            return Err(b.clone());
        }
        match load_config().await {
            Ok(c) => Ok(self.config.get_or_init(|| c)),
            Err(e) => Err(self.remember(&e)),
        }
    }

    /// One invocation; EMF lines go to stdout.
    pub async fn invoke(
        &self,
        payload: Value,
        deadline: SystemTime,
    ) -> std::result::Result<Value, Failure> {
        self.invoke_to(payload, deadline, &mut std::io::stdout())
            .await
    }

    /// [`Function::invoke`] writing its EMF line to `out`.
    pub async fn invoke_to(
        &self,
        payload: Value,
        deadline: SystemTime,
        out: &mut (impl Write + Send),
    ) -> std::result::Result<Value, Failure> {
        let began = Instant::now();
        let action = action_of(&payload);
        let config = match self.config().await {
            Ok(c) => c,
            Err((connector, failure)) => {
                // Every invocation of a function that cannot run is a
                // failed poll, whatever it asked for: that is what the
                // alarms count.
                use telemetry::metrics::FAILED_POLLS;
                telemetry::emit_metrics(out, &connector, &[(FAILED_POLLS, "Count", Some(1.0))]);
                log_failure(&connector, &action, &failure, began.elapsed());
                return Err(failure);
            }
        };
        let invocation =
            std::panic::AssertUnwindSafe(handle_invocation_to(config, payload, deadline, out));
        // Boxed: the invocation's future is too deep to lay out inline.
        match Box::pin(invocation.catch_unwind()).await {
            Ok(result) => result.map_err(Failure::from),
            Err(panic) => {
                let failure = Failure::panicked(panic.as_ref());
                log_failure(&config.name, &action, &failure, began.elapsed());
                Err(failure)
            }
        }
    }
}

/// The connector's name for the metrics of a function whose configuration
/// did not load: the config's `name` if it is readable JSON, else the
/// function's name.
fn unconfigured_connector() -> String {
    let text = std::env::var("BINLOG_POLLER_CONFIG").ok().or_else(|| {
        std::env::var("BINLOG_POLLER_CONFIG_FILE")
            .ok()
            .and_then(|p| std::fs::read_to_string(p).ok())
    });
    let name = text
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_string));
    let name = name
        .or_else(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok())
        .unwrap_or_else(|| "binlog-poller".into());
    secrets::redact(&name)
}

/// Handles one invocation and returns the poll summary as JSON.
pub async fn handle_invocation(
    config: &Config,
    payload: Value,
    deadline: SystemTime,
) -> Result<Value> {
    handle_invocation_to(config, payload, deadline, &mut std::io::stdout()).await
}

/// [`handle_invocation`] writing its EMF line to `out` (stdout on Lambda).
pub async fn handle_invocation_to(
    config: &Config,
    payload: Value,
    deadline: SystemTime,
    out: &mut (impl Write + Send),
) -> Result<Value> {
    let action = action_of(&payload);
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
    let result = run_action(config, &action, &payload, budget, out).await;
    log_summary(&config.name, &action, &result, began.elapsed());
    result
}

/// The payload's action; a scheduled event (no `action`) polls.
fn action_of(payload: &Value) -> String {
    payload
        .get("action")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| "poll".into())
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
    out: &mut impl Write,
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
                    telemetry::emit_metrics(out, &config.name, &summary.metrics());
                    Ok(serde_json::to_value(summary).unwrap_or(Value::Null))
                }
                Err(e) => {
                    use telemetry::metrics::FAILED_POLLS;
                    telemetry::emit_metrics(out, &config.name, &[(FAILED_POLLS, "Count", Some(1.0))]);
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
        "offsets-get" | "offsets-set" | "offsets-reset" => {
            let force = payload.get("force").and_then(Value::as_bool).unwrap_or(false);
            let work = async {
                let store = AnyStore::open(config).await?;
                if action == "offsets-set" {
                    let Some(to) = payload.get("to").and_then(Value::as_str) else {
                        return Err(Error::Config(ConfigProblems(vec![
                            "offsets-set needs \"to\": a GTID set (uuid:1-100) or \"FILE:POS\"".into(),
                        ])));
                    };
                    let target = binlog_poller::ops::start_target("to", to)?;
                    binlog_poller::ops::offsets_set(config, &store, &target, force).await?;
                } else if action == "offsets-reset" {
                    binlog_poller::ops::offsets_reset(&store, force).await?;
                }
                let view = binlog_poller::ops::offsets_get(config, &store).await?;
                Ok(serde_json::to_value(view).unwrap_or(Value::Null))
            };
            // Bounded by the invocation: a server that does not answer
            // fails the action before Lambda kills it.
            tokio::time::timeout(budget, work)
                .await
                .unwrap_or_else(|_| {
                    Err(Error::Timeout {
                        what: format!("the {action} action"),
                        limit: budget,
                    })
                })
        }
        other => Err(Error::Config(ConfigProblems(vec![format!(
            "unknown action {other:?}; one of \"poll\", \"snapshot\", \"status\", \"validate\", \"offsets-get\", \"offsets-set\", \"offsets-reset\" (or a scheduled event)"
        )]))),
    }
}

/// The one summary line per invocation (Logs Insights:
/// `filter message = "invocation finished"`).
fn log_summary(connector: &str, action: &str, result: &Result<Value>, took: Duration) {
    let took_ms = took.as_millis() as u64;
    match result {
        // Only a poll has poll figures: other actions' lines carry none
        // rather than zeros that read like an idle poll.
        Ok(_) if action != "poll" => {
            tracing::info!(
                connector,
                action,
                outcome = "ok",
                took_ms,
                "invocation finished"
            )
        }
        Ok(v) => {
            let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str).unwrap_or("");
            let num = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
            tracing::info!(
                connector,
                action,
                outcome = "ok",
                took_ms,
                status = text("status"),
                events = num("events"),
                bytes = num("bytes"),
                lag_seconds = num("lag_seconds"),
                snapshot_rows = num("snapshot_rows"),
                snapshot_table = v["snapshot_progress"]["table"].as_str(),
                snapshot_rows_remaining = v["snapshot_progress"]["rows_remaining"].as_u64(),
                snapshot_eta_seconds = v["snapshot_progress"]["eta_seconds"].as_u64(),
                last_position = text("last_position"),
                "invocation finished"
            )
        }
        Err(e) => log_failure(connector, action, &Failure::from(e), took),
    }
}

/// The summary line of a failed invocation.
fn log_failure(connector: &str, action: &str, failure: &Failure, took: Duration) {
    tracing::error!(
        connector,
        action,
        outcome = "error",
        took_ms = took.as_millis() as u64,
        retryable = failure.retryable,
        error = %failure.message,
        "invocation finished"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use binlog_poller::platform::secrets::MemorySecrets;

    /// A user name as Secrets Manager would hold it.
    const SECRET_USER: &str = "cdc-7f3a-admin";

    /// Loads a config whose `database.port` comes from a secret and is not
    /// a number, and which has an unknown key: the load fails after the
    /// secret was resolved (and installed for redaction, process-wide; every
    /// test here installs the same values). Returns the raw error.
    async fn load_with_secret() -> Error {
        let source = MemorySecrets(
            [(
                "db".to_string(),
                serde_json::json!({ "username": SECRET_USER }).to_string(),
            )]
            .into(),
        );
        let text = r#"{"name": "unit", "config": {"database.hostname": "h",
            "database.user": "${secretsmanager:db#username}",
            "database.port": "${secretsmanager:db#username}",
            "database.hostnam": "oops", "topic.prefix": "p", "kafka.bootstrap.servers": "k:9092"}}"#;
        let e = Config::load_with(text, |_| None, &source)
            .await
            .unwrap_err();
        // The raw error does quote the secret: the tests below are not vacuous.
        assert!(e.to_string().contains(SECRET_USER), "{e}");
        e
    }

    #[tokio::test]
    async fn failures_never_print_an_installed_secret() {
        load_with_secret().await;
        let raw = Error::Config(ConfigProblems(vec![format!(
            "Access denied for user '{SECRET_USER}'@'10.0.0.1' (using password: YES)"
        )]));
        let failure = Failure::from(raw);
        let shown = [
            failure.to_string(),
            format!("{failure:?}"),
            // What lambda_runtime logs: `error!("{error:?}")`.
            format!("{:?}", failure.clone()),
        ];
        for text in &shown {
            assert!(!text.contains(SECRET_USER), "{text}");
            assert!(text.contains("Access denied for user '********'"), "{text}");
        }
        let d = Diagnostic::from(failure);
        assert_eq!(d.error_type, "NonRetryable");
        assert!(
            !d.error_message.contains(SECRET_USER) && d.error_message.contains("********"),
            "{}",
            d.error_message
        );
        assert!(!format!("{d:?}").contains(SECRET_USER));

        let panic: Box<dyn std::any::Any + Send> =
            Box::new(format!("called `Result::unwrap()` on user {SECRET_USER}"));
        let failure = Failure::panicked(panic.as_ref());
        assert_eq!(failure.error_type(), "NonRetryable");
        assert!(
            !format!("{failure:?}{failure}").contains(SECRET_USER),
            "{failure:?}"
        );
    }

    #[tokio::test]
    async fn a_function_with_a_bad_config_answers_every_invocation_non_retryable() {
        let function = Function::from_load(Err(load_with_secret().await));
        let deadline = SystemTime::now() + Duration::from_secs(30);
        for payload in [
            serde_json::json!({"detail-type": "Scheduled Event"}),
            serde_json::json!({"action": "status"}),
        ] {
            let mut out = Vec::new();
            let failure = function
                .invoke_to(payload, deadline, &mut out)
                .await
                .unwrap_err();
            let d = Diagnostic::from(failure.clone());
            assert_eq!(d.error_type, "NonRetryable");
            for text in [&d.error_message, &format!("{failure:?}")] {
                assert!(
                    text.contains("database.port") && text.contains("unknown key"),
                    "{text}"
                );
                assert!(!text.contains(SECRET_USER), "{text}");
            }
            let out = String::from_utf8(out).unwrap();
            let emf: Value = serde_json::from_str(out.trim()).expect("one EMF line");
            assert_eq!(emf["FailedPolls"], 1.0, "{out}");
            assert_eq!(
                emf["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
                telemetry::metrics::FAILED_POLLS
            );
            assert!(!out.contains(SECRET_USER), "{out}");
        }
    }

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
