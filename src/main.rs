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

/// Exit codes, logging and the config file, shown under every command's
/// help (a macro, so `concat!` can put it under the examples too).
macro_rules! footer {
    () => {
        "\
Exit codes: 0 success (also when another poller holds the lease), 2 a configuration problem,
1 anything else (server, broker, offset store); every error names the key or server and the fix.
Logs go to stderr: RUST_LOG filters them (e.g. RUST_LOG=debug, RUST_LOG=binlog_poller=debug),
BINLOG_POLLER_LOG_FORMAT=json makes them JSON lines. --config may come from
BINLOG_POLLER_CONFIG_FILE, as for the Lambda function."
    };
}
const FOOTER: &str = footer!();

#[derive(Debug, Parser)]
#[command(
    name = "binlog-poller",
    version,
    about = "Change data capture from the MySQL binlog to Kafka, Debezium-compatible",
    long_about = "Change data capture from the MySQL / MariaDB binlog to Kafka, Debezium-compatible.\n\n\
        Reads the binlog from a stored checkpoint to its current end, publishes Debezium's change \
        events, and checkpoints only what Kafka acknowledged. The config is a Debezium connector \
        registration JSON ({\"name\": ..., \"config\": {...}}).",
    after_help = FOOTER,
    after_long_help = concat!(
        "Examples:\n",
        "  binlog-poller validate --config connector.json\n",
        "  binlog-poller run --config connector.json --print      # watch changes, no Kafka\n",
        "  binlog-poller run --config connector.json --once       # one poll\n",
        "  binlog-poller offsets get --config connector.json\n\n",
        footer!()
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The connector's configuration file.
#[derive(Debug, clap::Args)]
struct ConfigFile {
    /// Debezium connector registration JSON ({"name": ..., "config": {...}}); `${env:NAME}` and
    /// `${secretsmanager:ID#key}` references are resolved.
    #[arg(
        long = "config",
        env = "BINLOG_POLLER_CONFIG_FILE",
        value_name = "FILE"
    )]
    path: String,
}

/// Metrics a poll reports besides its summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Metrics {
    /// None (the default).
    None,
    /// CloudWatch Embedded Metric Format lines, as the Lambda function writes (for a container
    /// or a cron job whose output goes to CloudWatch Logs).
    Emf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Poll the binlog and publish to Kafka; every poll.interval.ms until SIGTERM, or once.
    #[command(after_help = FOOTER, after_long_help = concat!(
        "Examples:\n",
        "  binlog-poller run --config connector.json --once\n",
        "  binlog-poller run --config connector.json                 # until Ctrl-C / SIGTERM\n",
        "  binlog-poller run --config connector.json --print         # JSON lines on stdout, offsets untouched\n",
        "  binlog-poller run --config connector.json --metrics emf   # CloudWatch EMF lines\n\n",
        "Each poll that published something prints a JSON summary line on stdout (stderr with\n",
        "--print or sink.type=stdout); idle polls log at debug, with a 'still idle' line a minute.\n",
        "On SIGTERM, run stops reading, publishes what it read, checkpoints and exits.\n", "\n", footer!()))]
    Run {
        #[command(flatten)]
        config: ConfigFile,
        /// Run a single poll and exit.
        #[arg(long)]
        once: bool,
        /// Print each record as a JSON line on stdout instead of sending it to Kafka
        /// (sink.type=stdout), starting from the stored offsets without moving them.
        #[arg(long)]
        print: bool,
        /// With --print and a config of sink.type=stdout: store checkpoints, so the next look
        /// goes on from here (refused for a Kafka connector, whose consumers would miss the
        /// records).
        #[arg(long, requires = "print")]
        checkpoint: bool,
        /// Metrics after each poll.
        #[arg(long, value_enum, default_value_t = Metrics::None)]
        metrics: Metrics,
    },
    /// Print the stored checkpoint, lease, snapshot progress and lag.
    #[command(after_help = FOOTER, after_long_help = concat!(
        "Examples:\n",
        "  binlog-poller status --config connector.json\n",
        "  binlog-poller status --config connector.json --format text\n", "\n", footer!()))]
    Status {
        #[command(flatten)]
        config: ConfigFile,
        /// `json` (default) or `text` for a terminal.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Check the configuration, MySQL settings, Kafka and the offset store; one line per check.
    #[command(after_help = FOOTER, after_long_help = concat!(
        "Examples:\n",
        "  binlog-poller validate --config connector.json\n\n",
        "Exits 1 when a check fails; each failing line prints the fix (the GRANT, the parameter\n",
        "group command, the setting).\n", "\n", footer!()))]
    Validate {
        #[command(flatten)]
        config: ConfigFile,
    },
    /// Queue an ad-hoc snapshot of tables; the following polls read them chunk by chunk.
    #[command(after_help = FOOTER, after_long_help = concat!(
        "Examples:\n",
        "  binlog-poller snapshot --config connector.json --tables inventory.customers,inventory.orders\n", "\n", footer!()))]
    Snapshot {
        #[command(flatten)]
        config: ConfigFile,
        /// Comma-separated `db.table` list.
        #[arg(long, value_delimiter = ',', required = true)]
        tables: Vec<String>,
    },
    /// Create the offset store (the DynamoDB table, or the offsets file), or check the one there.
    #[command(after_help = FOOTER, after_long_help = concat!(
        "Examples:\n",
        "  binlog-poller init --config connector.json\n", "\n", footer!()))]
    Init {
        #[command(flatten)]
        config: ConfigFile,
    },
    /// Show, set or reset the connector's offsets (Kafka Connect's KIP-875, without Kafka Connect).
    #[command(after_help = FOOTER, after_long_help = concat!(
        "Examples:\n",
        "  binlog-poller offsets get   --config connector.json\n",
        "  binlog-poller offsets set   --config connector.json --to mysql-bin.000042:1337\n",
        "  binlog-poller offsets set   --config connector.json --to 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-1500\n",
        "  binlog-poller offsets reset --config connector.json\n", "\n", footer!()))]
    Offsets {
        #[command(subcommand)]
        action: OffsetsAction,
    },
}

/// How `status` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Json,
    Text,
}

#[derive(Debug, Subcommand)]
enum OffsetsAction {
    /// Print the stored offsets: position, GTID set, snapshot in progress, lease, times.
    #[command(after_help = FOOTER)]
    Get {
        #[command(flatten)]
        config: ConfigFile,
    },
    /// Move the connector to a GTID set (MySQL) or FILE:POS, checked against the server first.
    #[command(after_help = FOOTER)]
    Set {
        #[command(flatten)]
        config: ConfigFile,
        /// `uuid:1-100[,uuid:1-7]` (MySQL with gtid_mode=ON) or `FILE:POS` at a transaction start.
        #[arg(long)]
        to: String,
        /// Take the lease from a running poll (it is fenced; what it published since its
        /// last checkpoint is published again from the new offset).
        #[arg(long)]
        force: bool,
    },
    /// Remove the offsets: the next poll starts as snapshot.mode says for a new connector.
    #[command(after_help = FOOTER)]
    Reset {
        #[command(flatten)]
        config: ConfigFile,
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
            metrics,
        } => {
            let mut config = Config::load_file(&config.path).await?;
            if checkpoint && config.sink == SinkType::Kafka {
                // Records to stdout with a Kafka connector's offsets moving
                // on would skip them for the broker's consumers.
                return Err(Error::Config(binlog_poller::config::ConfigProblems(vec![
                    "--checkpoint with a Kafka connector's config would move its offsets past records Kafka never receives; use a config with sink.type=stdout and its own offsets, or --print alone".into(),
                ])));
            }
            if print {
                config.sink = SinkType::Stdout;
            }
            let store = AnyStore::open(&config).await?;
            if print && !checkpoint {
                // A look, not a run: the connector's offsets stay where they are.
                let scratch = MemoryStore::starting_from(store.load().await?);
                return run_polls(&config, &scratch, once, metrics).await;
            }
            run_polls(&config, &store, once, metrics).await
        }
        Command::Status { config, format } => {
            let config = Config::load_file(&config.path).await?;
            let store = AnyStore::open(&config).await?;
            let status = binlog_poller::ops::status(&config, &store).await?;
            match format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&status).unwrap_or_default()
                ),
                Format::Text => print!("{}", status.text()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { config } => {
            let config = Config::load_file(&config.path).await?;
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
            let config = Config::load_file(&config.path).await?;
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
            let config = Config::load_file(&config.path).await?;
            let store = AnyStore::open(&config).await?;
            match action {
                OffsetsAction::Get { .. } => {}
                OffsetsAction::Set { to, force, .. } => {
                    let target = binlog_poller::ops::start_target("--to", &to)?;
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
            let config = Config::load_file(&config.path).await?;
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

/// Polls once, or every `poll.interval.ms` until SIGTERM. A poll that
/// published something (or `--once`) prints its summary line, on stdout
/// (stderr when records go to stdout); an idle one logs at debug, with a
/// "still idle" line a minute so a terminal shows the loop is alive.
async fn run_polls<O: OffsetStore>(
    config: &Config,
    store: &O,
    once: bool,
    metrics: Metrics,
) -> Result<ExitCode, Error> {
    const IDLE_NOTE: Duration = Duration::from_secs(60);
    let stop = Arc::new(AtomicBool::new(false));
    spawn_signal_watch(Arc::clone(&stop));
    let mut idle_since: Option<Instant> = None;
    let mut noted = Instant::now();
    loop {
        let deadline = Instant::now() + config.poll_max_duration;
        let result = poll_once_with_stop(config, store, deadline, Arc::clone(&stop)).await;
        let to_stdout = config.sink == SinkType::Kafka;
        if metrics == Metrics::Emf {
            let values = match &result {
                Ok(summary) => summary.metrics(),
                Err(_) => vec![(telemetry::metrics::FAILED_POLLS, "Count", Some(1.0))],
            };
            if to_stdout {
                telemetry::emit_metrics(&mut std::io::stdout(), &config.name, &values);
            } else {
                telemetry::emit_metrics(&mut std::io::stderr(), &config.name, &values);
            }
        }
        let summary = result?;
        let line = serde_json::to_string(&summary).unwrap_or_default();
        let idle = summary.events == 0 && summary.records == 0 && summary.snapshot_rows == 0;
        if once || !idle {
            if to_stdout {
                println!("{line}");
            } else {
                eprintln!("{line}");
            }
            idle_since = None;
        } else {
            tracing::debug!(summary = %line, "idle poll");
            let since = *idle_since.get_or_insert_with(Instant::now);
            if noted.elapsed() >= IDLE_NOTE && since.elapsed() >= IDLE_NOTE {
                tracing::info!(
                    idle_seconds = since.elapsed().as_secs(),
                    position = summary.last_position.as_deref().unwrap_or(""),
                    "still idle: caught up, no changes"
                );
                noted = Instant::now();
            }
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
