//! Where records go.
//!
//! [`Sink::send`] returns only when every record it was given is
//! acknowledged (Kafka `acks=all`), which is what lets the poller checkpoint
//! right after it. Within a topic-partition records keep their order; a
//! failed send may have delivered a prefix of any partition, which the next
//! poll re-delivers (at-least-once).
//!
//! Records with a key go to the partition Kafka's Java producer would pick
//! ([`partition_for`]); records without a key (tables without a primary
//! key) all go to partition 0 so their order is kept.

mod kafka;
mod stdout;

use std::future::Future;

pub(crate) use kafka::describe as describe_kafka_security;
pub use kafka::{KafkaSettings, KafkaSink};
pub use stdout::StdoutSink;

use crate::encode::Record;
use crate::error::Result;

/// A destination for records.
pub trait Sink: Send {
    /// Sends the records and waits until all are acknowledged.
    fn send(&mut self, records: Vec<Record>) -> impl Future<Output = Result<()>> + Send;
}

/// A borrowed sink is a sink: a caller keeps its sink (and what it
/// recorded) while a poll that takes one by value uses it.
impl<S: Sink> Sink for &mut S {
    fn send(&mut self, records: Vec<Record>) -> impl Future<Output = Result<()>> + Send {
        (**self).send(records)
    }
}

/// Kafka's `Utils.murmur2`, bit for bit.
pub fn murmur2(data: &[u8]) -> i32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = 0x9747_b28c ^ (len as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        h ^= u32::from(rest[1]) << 8;
    }
    if !rest.is_empty() {
        h ^= u32::from(rest[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition Kafka's default partitioner picks for `key`:
/// `toPositive(murmur2(key)) % partitions`.
pub fn partition_for(key: Option<&[u8]>, partitions: i32) -> i32 {
    match key {
        Some(k) if partitions > 1 => (murmur2(k) & 0x7fff_ffff) % partitions,
        _ => 0,
    }
}

/// The sink a configuration names (`sink.type`).
// One per poll: boxing the Kafka client would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum AnySink {
    /// Kafka (the default).
    Kafka(KafkaSink),
    /// JSON lines on stdout.
    Stdout(StdoutSink<std::io::Stdout>),
}

impl Sink for AnySink {
    async fn send(&mut self, records: Vec<Record>) -> Result<()> {
        match self {
            AnySink::Kafka(s) => s.send(records).await,
            AnySink::Stdout(s) => s.send(records).await,
        }
    }
}

#[cfg(any(test, feature = "testing"))]
/// A sink that keeps records in memory, for unit tests.
#[derive(Debug, Default)]
pub struct MemorySink {
    /// Every acknowledged record, in send order.
    pub records: Vec<Record>,
    /// When set, the next sends fail with this message (and deliver nothing).
    pub fail_with: Option<String>,
}

#[cfg(any(test, feature = "testing"))]
impl Sink for MemorySink {
    async fn send(&mut self, records: Vec<Record>) -> Result<()> {
        if let Some(reason) = &self.fail_with {
            return Err(crate::Error::Kafka {
                brokers: "memory".into(),
                during: "produce".into(),
                reason: reason.clone(),
                source: None,
            });
        }
        self.records.extend(records);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafka_test_vectors() {
        // From Kafka's UtilsTest.testMurmur2.
        let cases: &[(&str, i32)] = &[
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            ("abc", 479_470_107),
        ];
        for (input, want) in cases {
            assert_eq!(murmur2(input.as_bytes()), *want, "{input}");
        }
    }

    #[test]
    fn partition_is_positive_and_stable() {
        for n in 1..20 {
            let p = partition_for(Some(b"{\"id\":1001}"), n);
            assert!((0..n).contains(&p));
        }
        assert_eq!(partition_for(None, 8), 0);
    }
}
