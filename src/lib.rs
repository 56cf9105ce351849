//! # binlog-poller
//!
//! Serverless change data capture for MySQL and MariaDB: each poll reads the
//! binlog from a stored checkpoint to its current end (or a time/event
//! budget), publishes Debezium-compatible change events to Kafka, and
//! checkpoints only what Kafka acknowledged.
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
//!   part-way ([`position::TxProgress`]). Every network call has a timeout
//!   and a poll ends before its deadline.
//! * **Fenced.** One poller per connector at a time: a lease with an epoch
//!   guards the offset store, and a stale poller cannot move the offset.
//!
//! ## Layout
//! [`config`] parses Debezium registration JSON; [`source`] reads the binlog
//! into [`change`]s; [`event`] renders Debezium JSON records; [`sink`] sends
//! them to Kafka; [`offsets`] stores checkpoints; [`poller`] ties one poll
//! together. Each side effect sits behind a trait ([`source::Source`],
//! [`sink::Sink`], [`offsets::OffsetStore`]) with a memory implementation for
//! unit tests.

pub mod aws;
pub mod change;
pub mod config;
pub mod error;
pub mod event;
pub mod fault;
pub mod lambda;
pub mod offsets;
pub mod poller;
pub mod position;
pub mod secrets;
pub mod sink;
pub mod source;
pub mod telemetry;
pub mod tls;

pub use config::Config;
pub use error::{Error, Result};
