//! `sink.type=stdout`: each record as one JSON line on stdout, for a look at
//! the change events without a broker (Debezium Server calls its choice of
//! sink `debezium.sink.type`).
//!
//! A line is `{"topic":..,"partition":..,"key":..,"value":..}`: the key and
//! value are the record's JSON as the Kafka sink would send it (Debezium's
//! JSON converter output, schemas included or not as configured), `null`
//! for a keyless table's key or a tombstone's value. The partition is the
//! one Kafka's Java producer would pick for a topic of
//! `topic.creation.default.partitions` partitions. A send is acknowledged
//! once the lines are written and stdout is flushed, so checkpoints follow
//! the same rule as with Kafka: only what was written. Written means handed
//! to the pipe or file, not synced to disk: this sink is for looking at
//! events (and for the CLI only: the Lambda function refuses it), and a
//! reader that stops reading stalls the poll with it.

use std::io::Write;

use super::{partition_for, Sink};
use crate::encode::Record;
use crate::error::{Error, Result};

/// A [`Sink`] writing JSON lines to a writer (stdout in the binaries).
#[derive(Debug)]
pub struct StdoutSink<W: Write + Send> {
    out: W,
    partitions: i32,
}

impl StdoutSink<std::io::Stdout> {
    /// Lines on the process's stdout.
    pub fn stdout(partitions: i32) -> Self {
        Self::new(std::io::stdout(), partitions)
    }
}

impl<W: Write + Send> StdoutSink<W> {
    /// Lines on `out`, partitions picked for topics of `partitions`.
    pub fn new(out: W, partitions: i32) -> Self {
        Self { out, partitions }
    }

    /// The writer, for tests.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// One record's line, newline included. The key and value bytes are JSON
/// already (the encoder wrote them), so they are copied, not re-parsed.
pub fn line(record: &Record, partitions: i32) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.size() + record.topic.len() + 48);
    out.extend_from_slice(b"{\"topic\":");
    // Topic names are [a-zA-Z0-9._-]; serde's quoting covers anything else.
    out.extend_from_slice(
        serde_json::to_string(&*record.topic)
            .unwrap_or_default()
            .as_bytes(),
    );
    out.extend_from_slice(
        format!(
            ",\"partition\":{},\"key\":",
            partition_for(record.key.as_deref(), partitions)
        )
        .as_bytes(),
    );
    out.extend_from_slice(record.key.as_deref().unwrap_or(b"null"));
    out.extend_from_slice(b",\"value\":");
    out.extend_from_slice(record.value.as_deref().unwrap_or(b"null"));
    out.extend_from_slice(b"}\n");
    out
}

impl<W: Write + Send> Sink for StdoutSink<W> {
    async fn send(&mut self, records: Vec<Record>) -> Result<()> {
        let failed = |e: std::io::Error| Error::Kafka {
            brokers: "stdout".into(),
            during: "write".into(),
            reason: e.to_string(),
            source: Some(Box::new(e)),
        };
        for r in &records {
            self.out
                .write_all(&line(r, self.partitions))
                .map_err(failed)?;
        }
        self.out.flush().map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn record(key: Option<&str>, value: Option<&str>) -> Record {
        Record {
            topic: Arc::from("p.db.t"),
            key: key.map(|k| k.as_bytes().to_vec()),
            value: value.map(|v| v.as_bytes().to_vec()),
            headers: Vec::new(),
            timestamp_ms: 0,
        }
    }

    #[tokio::test]
    async fn each_record_is_one_json_line() {
        let mut sink = StdoutSink::new(Vec::new(), 3);
        sink.send(vec![
            record(Some(r#"{"id":1}"#), Some(r#"{"op":"c"}"#)),
            record(Some(r#"{"id":1}"#), None),
            record(None, Some(r#"{"op":"d"}"#)),
        ])
        .await
        .unwrap();
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["topic"], "p.db.t");
        assert_eq!(lines[0]["key"]["id"], 1);
        assert_eq!(lines[0]["value"]["op"], "c");
        assert_eq!(
            lines[0]["partition"],
            partition_for(Some(br#"{"id":1}"#), 3)
        );
        assert!(lines[1]["value"].is_null(), "a tombstone");
        assert!(lines[2]["key"].is_null() && lines[2]["partition"] == 0);
    }
}
