//! Logging set-up.
//!
//! Logs go to stderr so stdout carries only results (the poll summary
//! line, `status` JSON). `BINLOG_POLLER_LOG_FORMAT=json` (the default on
//! Lambda, where CloudWatch Logs parses JSON) switches to one JSON object
//! per line; `RUST_LOG` filters as usual (default `info`). Log fields carry
//! identifiers and positions, never row values or secrets.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; call once at start.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("BINLOG_POLLER_LOG_FORMAT")
        .map(|v| v.eq_ignore_ascii_case("json"))
        .unwrap_or_else(|_| std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some());
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

/// Peak resident set size of this process in KiB (`VmHWM` in
/// `/proc/self/status`), where the platform reports it.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
