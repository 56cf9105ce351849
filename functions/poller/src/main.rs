//! AWS Lambda entry point: wires `lambda_runtime` to the library. All the
//! work happens in the `poller` library next to it and in `binlog_poller`.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

use binlog_poller::platform::{secrets, telemetry};
use poller::{handle_invocation, load_config};

/// A failed invocation, typed for retries and alarms: `Retryable` errors
/// (broker or network trouble, a lease conflict) heal on a later
/// invocation; `NonRetryable` ones (configuration, purged binlog, server
/// settings) need a human.
#[derive(Debug)]
struct Failure(binlog_poller::Error);

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Self {
        Diagnostic {
            error_type: if f.0.is_retryable() {
                "Retryable"
            } else {
                "NonRetryable"
            }
            .into(),
            error_message: secrets::redact(&f.0.to_string()),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = match load_config().await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %secrets::redact(&e.to_string()), "invalid configuration");
            return Err(e.into());
        }
    };
    let config = &config;
    // Boxed: the invocation's future is too deep to lay out inline.
    let runtime = Box::pin(lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Value>| async move {
            Box::pin(handle_invocation(
                config,
                event.payload,
                event.context.deadline(),
            ))
            .await
            .map_err(Failure)
        },
    )));
    // Lambda sends SIGTERM when it retires the execution environment. A
    // checkpoint is only written after Kafka acknowledged, so stopping an
    // unfinished invocation here loses nothing: its events are re-delivered
    // by the next poll.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = runtime => r,
        _ = term.recv() => {
            tracing::info!("sigterm; shutting down");
            Ok(())
        }
    }
}
