//! The `binlog-poller` command line: wires the library to a terminal.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use binlog_poller::offsets::{AnyStore, OffsetStore};
use binlog_poller::pipeline::poll_once_with_stop;
use binlog_poller::platform::telemetry;
use binlog_poller::{Config, Error};

#[derive(Debug, Parser)]
#[command(
    name = "binlog-poller",
    version,
    about = "Change data capture from the MySQL binlog to Kafka, Debezium-compatible"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Poll the binlog and publish to Kafka; every poll.interval.ms until SIGTERM, or once.
    Run {
        /// Debezium connector registration JSON.
        #[arg(long)]
        config: String,
        /// Run a single poll and exit.
        #[arg(long)]
        once: bool,
    },
    /// Print the stored checkpoint, lease and lag as JSON.
    Status {
        #[arg(long)]
        config: String,
    },
    /// Check the configuration, MySQL settings, Kafka and the offset store.
    Validate {
        #[arg(long)]
        config: String,
    },
    /// Queue an ad-hoc snapshot of tables; the following polls read them chunk by chunk.
    Snapshot {
        #[arg(long)]
        config: String,
        /// Comma-separated `db.table` list.
        #[arg(long, value_delimiter = ',', required = true)]
        tables: Vec<String>,
    },
    /// Create the offset store (the DynamoDB table) for local use.
    Init {
        #[arg(long)]
        config: String,
    },
}

fn main() -> ExitCode {
    telemetry::init();
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            let msg = binlog_poller::platform::secrets::redact(&e.to_string());
            tracing::error!(error = %msg, retryable = e.is_retryable(), "failed");
            eprintln!("error: {msg}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Run { config, once } => {
            let config = Config::load_file(&config).await?;
            let store = AnyStore::open(&config).await?;
            let stop = Arc::new(AtomicBool::new(false));
            spawn_signal_watch(Arc::clone(&stop));
            loop {
                let deadline = Instant::now() + config.poll_max_duration;
                let summary =
                    poll_once_with_stop(&config, &store, deadline, Arc::clone(&stop)).await?;
                println!("{}", serde_json::to_string(&summary).unwrap_or_default());
                if once || stop.load(Ordering::SeqCst) {
                    return Ok(ExitCode::SUCCESS);
                }
                let until = Instant::now() + config.poll_interval;
                while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(50).min(config.poll_interval)).await;
                }
                if stop.load(Ordering::SeqCst) {
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
        Command::Status { config } => {
            let config = Config::load_file(&config).await?;
            let store = AnyStore::open(&config).await?;
            let status = binlog_poller::ops::status(&config, &store).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&status).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { config } => {
            let config = Config::load_file(&config).await?;
            let checks = binlog_poller::ops::validate(&config).await;
            let mut failed = false;
            for c in &checks {
                println!(
                    "{} {:<28} {}",
                    if c.ok { "ok  " } else { "FAIL" },
                    c.name,
                    c.detail
                );
                failed |= !c.ok;
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Snapshot { config, tables } => {
            let config = Config::load_file(&config).await?;
            let store = AnyStore::open(&config).await?;
            let cp = binlog_poller::ops::request_snapshot(&config, &store, &tables).await?;
            let queued: Vec<String> = cp
                .snapshot
                .iter()
                .flat_map(|s| s.tables.iter().map(|t| format!("{}.{}", t.db, t.table)))
                .collect();
            println!(
                "{}",
                serde_json::json!({"connector": config.name, "snapshot_queued": queued})
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { config } => {
            let config = Config::load_file(&config).await?;
            let store = AnyStore::open(&config).await?;
            store.init().await?;
            println!("offset store ready: {}", store.describe());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// SIGTERM or Ctrl-C: finish the current batch, checkpoint, exit.
fn spawn_signal_watch(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch SIGTERM");
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("stop requested; finishing the current batch");
        stop.store(true, Ordering::SeqCst);
    });
}
