//! The `binlog-poller` command line: wires the library to a terminal.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use binlog_poller::config::SinkType;
use binlog_poller::offsets::{AnyStore, MemoryStore, OffsetStore};
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
        /// Print each record as a JSON line on stdout instead of sending it to Kafka
        /// (sink.type=stdout), starting from the stored offsets without moving them.
        #[arg(long)]
        print: bool,
        /// With --print: store checkpoints as a real run does.
        #[arg(long, requires = "print")]
        checkpoint: bool,
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
    /// Show, set or reset the connector's offsets (Kafka Connect's KIP-875, without Kafka Connect).
    Offsets {
        #[command(subcommand)]
        action: OffsetsAction,
    },
}

#[derive(Debug, Subcommand)]
enum OffsetsAction {
    /// Print the stored offsets: position, GTID set, snapshot in progress, lease, times.
    Get {
        #[arg(long)]
        config: String,
    },
    /// Move the connector to a GTID set (MySQL) or FILE:POS, checked against the server first.
    Set {
        #[arg(long)]
        config: String,
        /// `uuid:1-100[,uuid:1-7]` (MySQL with gtid_mode=ON) or `FILE:POS` at a transaction start.
        #[arg(long)]
        to: String,
        /// Take the lease from a running poll (it is fenced; what it published since its
        /// last checkpoint is published again from the new offset).
        #[arg(long)]
        force: bool,
    },
    /// Remove the offsets: the next poll starts as snapshot.mode says for a new connector.
    Reset {
        #[arg(long)]
        config: String,
        /// Take the lease from a running poll (it is fenced).
        #[arg(long)]
        force: bool,
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
            // Once: a structured line for log pipelines, or the message for a
            // person at a terminal.
            if telemetry::json_logs() {
                tracing::error!(error = %msg, retryable = e.is_retryable(), "failed");
            } else {
                eprintln!("error: {msg}");
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Run {
            config,
            once,
            print,
            checkpoint,
        } => {
            let mut config = Config::load_file(&config).await?;
            if print {
                config.sink = SinkType::Stdout;
            }
            let store = AnyStore::open(&config).await?;
            if print && !checkpoint {
                // A look, not a run: the connector's offsets stay where they are.
                let scratch = MemoryStore::starting_from(store.load().await?);
                return run_polls(&config, &scratch, once).await;
            }
            run_polls(&config, &store, once).await
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
        Command::Offsets { action } => {
            let (OffsetsAction::Get { config }
            | OffsetsAction::Set { config, .. }
            | OffsetsAction::Reset { config, .. }) = &action;
            let config = Config::load_file(config).await?;
            let store = AnyStore::open(&config).await?;
            match action {
                OffsetsAction::Get { .. } => {}
                OffsetsAction::Set { to, force, .. } => {
                    let target: binlog_poller::source::StartTarget = to.parse().map_err(|e| {
                        Error::Config(binlog_poller::config::ConfigProblems(vec![format!(
                            "--to: {e}"
                        )]))
                    })?;
                    binlog_poller::ops::offsets_set(&config, &store, &target, force).await?;
                }
                OffsetsAction::Reset { force, .. } => {
                    binlog_poller::ops::offsets_reset(&store, force).await?;
                }
            }
            // Every action prints the offsets as they are now.
            let view = binlog_poller::ops::offsets_get(&config, &store).await?;
            println!(
                "{}",
                serde_json::to_string_pretty(&view).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Init { config } => {
            let config = Config::load_file(&config).await?;
            let store = AnyStore::open(&config).await?;
            store.init().await?;
            let state = store.load().await?;
            println!(
                "offset store ready: {} ({})",
                store.describe(),
                if state.and_then(|s| s.checkpoint).is_some() {
                    "has a checkpoint"
                } else {
                    "no checkpoint yet"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Polls once, or every `poll.interval.ms` until SIGTERM; one summary line
/// per poll, on stdout (stderr when records go to stdout).
async fn run_polls<O: OffsetStore>(
    config: &Config,
    store: &O,
    once: bool,
) -> Result<ExitCode, Error> {
    let stop = Arc::new(AtomicBool::new(false));
    spawn_signal_watch(Arc::clone(&stop));
    loop {
        let deadline = Instant::now() + config.poll_max_duration;
        let summary = poll_once_with_stop(config, store, deadline, Arc::clone(&stop)).await?;
        let line = serde_json::to_string(&summary).unwrap_or_default();
        match config.sink {
            SinkType::Stdout => eprintln!("{line}"),
            SinkType::Kafka => println!("{line}"),
        }
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
