//! # binlog-poller
//!
//! Serverless change data capture for MySQL and MariaDB: each poll reads the
//! binlog from a stored checkpoint to its current end (or a time/event
//! budget), publishes Debezium-compatible change events to Kafka, and
//! checkpoints only what Kafka acknowledged.
//!
//! ## The flow
//!
//! ```text
//! lease ─► plan ─► binlog + snapshot chunks ─► SourceEvent ─► Streamer ─► Record ─► Kafka
//!  (offsets)  (pipeline)     (source)                          (pipeline)  (encode)   (sink)
//!                                                                   │ acknowledged
//!                                               checkpoint (offsets) ◄┘ ─► release
//! ```
//!
//! * [`config`] turns a Debezium registration JSON into a [`Config`].
//! * [`source`] reads the database: the binlog as transaction-shaped
//!   [`source::SourceEvent`]s, and tables in chunks under short table locks.
//! * [`pipeline`] runs one poll: it takes the lease, plans where to start
//!   and which snapshots are owed, places each snapshot chunk at its binlog
//!   position in the stream, and checkpoints what the sink acknowledged.
//! * [`encode`] renders [`model::RowChange`]s as Debezium JSON records.
//! * [`sink`] sends records to Kafka; [`offsets`] stores checkpoints and
//!   the lease (DynamoDB, a file).
//! * [`ops`] holds what an operator asks besides a poll: `validate`,
//!   `status`, ad-hoc snapshots. [`model`] is the plain data all of them
//!   share; [`platform`] is AWS, TLS, secrets and telemetry.
//!
//! Each side effect sits behind a trait ([`source::Database`],
//! [`sink::Sink`], [`offsets::OffsetStore`]); with the `testing` feature the
//! memory implementations are public, and [`pipeline::poll`] runs a whole
//! poll on them. `docs/architecture.md` in the repository maps each
//! invariant to the code that keeps it.
//!
//! ## Guarantees
//! * **At-least-once.** A checkpoint is written only after every record
//!   before it was acknowledged (`acks=all`). A crash or error at any point
//!   leads to re-delivery from the previous checkpoint, never to a gap.
//! * **Per-key order.** Records of one key go to one partition (Kafka's
//!   murmur2 of the key bytes, as a Java producer would pick), in binlog
//!   order.
//! * **Bounded.** Memory holds at most one send buffer, whatever the
//!   backlog or transaction size; a large transaction is checkpointed
//!   part-way ([`model::TxProgress`]). Every network call has a timeout
//!   and a poll ends before its deadline.
//! * **Fenced.** One poller per connector at a time: a lease with an epoch
//!   guards the offset store, and a stale poller cannot move the offset.
//!
//! ## Example
//!
//! One poll against the configured servers, offsets in a local file:
//!
//! ```no_run
//! # async fn run() -> binlog_poller::Result<()> {
//! use std::time::{Duration, Instant};
//! use binlog_poller::{offsets::AnyStore, poll_once, Config};
//!
//! let config = Config::load_file("connector.json").await?;
//! let store = AnyStore::open(&config).await?;
//! let summary = poll_once(&config, &store, Instant::now() + Duration::from_secs(60)).await?;
//! println!("{} events, caught up: {}", summary.events, summary.caught_up);
//! # Ok(())
//! # }
//! ```

pub mod config;
pub mod encode;
pub mod error;
pub mod model;
pub mod offsets;
pub mod ops;
pub mod pipeline;
pub mod platform;
pub mod sink;
pub mod source;
pub mod transform;

pub use config::Config;
pub use error::{Error, Result};
pub use pipeline::{poll, poll_once, PollSummary};
