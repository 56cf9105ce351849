//! Named fault points for crash tests.
//!
//! Tests of "no data loss on crash" must crash the process at a precise
//! step, for example after Kafka acknowledged a batch but before the
//! checkpoint is written. With `BINLOG_POLLER_FAULT=pause:<point>` the
//! process prints `fault point reached: <point>` on stderr when it gets
//! there and then sleeps, so the test can `SIGKILL` it at exactly that
//! moment. Without the variable a fault point costs one cached lookup.
//!
//! The points exist only with the `fault-injection` feature (on for the
//! crate's own tests); other builds compile them to nothing.

#[cfg(feature = "fault-injection")]
use std::sync::OnceLock;
#[cfg(feature = "fault-injection")]
use std::time::Duration;

#[cfg(feature = "fault-injection")]
static FAULT: OnceLock<Option<String>> = OnceLock::new();

/// Pauses forever at `name` when `BINLOG_POLLER_FAULT=pause:<name>`.
#[cfg(feature = "fault-injection")]
pub(crate) fn point(name: &str) {
    let configured = FAULT.get_or_init(|| {
        std::env::var("BINLOG_POLLER_FAULT")
            .ok()
            .and_then(|v| v.strip_prefix("pause:").map(str::to_string))
    });
    if configured.as_deref() == Some(name) {
        eprintln!("fault point reached: {name}");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}

/// Without the `fault-injection` feature a fault point does nothing.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn point(_name: &str) {}
