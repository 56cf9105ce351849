//! AWS Lambda entry point: wires `lambda_runtime` to the library. All the
//! work happens in the `poller` library next to it and in `binlog_poller`.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

use binlog_poller::platform::{secrets, telemetry};
use poller::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    // The standard hook would print a panic's message as is.
    secrets::redact_panics();
    // Registers with the runtime even when the config is wrong: each
    // invocation then answers the redacted problem (see `poller::Function`).
    let function = Function::start().await;
    let function = &function;
    // Boxed: the invocation's future is too deep to lay out inline.
    let runtime = Box::pin(lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Value>| async move {
            Box::pin(function.invoke(event.payload, event.context.deadline())).await
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
