//! Watching events without Kafka, on both servers: `sink.type=stdout` with
//! no broker configured prints an insert, an update and a delete (and its
//! tombstone) as Debezium JSON lines; `run --print` prints from the stored
//! offsets and leaves them, and Kafka, untouched.

mod common;

use common::*;
use serde_json::Value;

/// The record lines of a run's stdout.
fn records(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_sink_prints_changes_without_a_broker() {
    let Some(s) = Services::get() else { return };
    for flavor in [Flavor::MySql, Flavor::MariaDb] {
        let db = s.server(flavor);
        let c = Connector::new(&s, &db, "stdout")
            .await
            .with("sink.type", "stdout")
            .without("kafka.bootstrap.servers")
            .without("kafka.request.timeout.ms");
        c.sql("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)").await;
        let first = c.cli(&["run", "--once"], &[]);
        assert_ok(&first);
        c.sql("INSERT INTO t VALUES (1, 'a'); UPDATE t SET v = 'b' WHERE id = 1; DELETE FROM t WHERE id = 1")
            .await;
        let out = c.cli(&["run", "--once"], &[]);
        assert_ok(&out);
        let topic = c.topic("t");
        let lines: Vec<Value> = records(&out)
            .into_iter()
            .filter(|l| l["topic"] == topic.as_str())
            .collect();
        let ops: Vec<Value> = lines
            .iter()
            .map(|l| l["value"]["payload"]["op"].clone())
            .collect();
        assert_eq!(
            ops,
            vec![
                Value::from("c"),
                Value::from("u"),
                Value::from("d"),
                Value::Null
            ],
            "{lines:#?}"
        );
        assert_eq!(lines[0]["key"]["payload"]["id"], 1);
        assert_eq!(lines[1]["value"]["payload"]["after"]["v"], "b");
        assert_eq!(lines[0]["partition"], 0);
        // The summary goes to stderr, keeping stdout to records.
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("\"events\":3"), "{err}");
        // validate knows there is no broker.
        let v = c.cli(&["validate"], &[]);
        let text = String::from_utf8_lossy(&v.stdout).to_string();
        assert!(
            text.lines()
                .any(|l| l.starts_with("ok   sink") && l.contains("sink.type=stdout")),
            "{text}"
        );
        assert!(!text.contains("kafka"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_print_looks_without_moving_the_offsets() {
    let Some(s) = Services::get() else { return };
    for flavor in [Flavor::MySql, Flavor::MariaDb] {
        let db = s.server(flavor);
        let c = Connector::new(&s, &db, "print").await;
        c.sql("CREATE TABLE t (id INT PRIMARY KEY)").await;
        assert_ok(&c.cli(&["run", "--once"], &[]));
        let before = std::fs::read_to_string(c.dir.join("offsets.json")).unwrap();
        c.sql("INSERT INTO t VALUES (1), (2)").await;

        let out = c.cli(&["run", "--once", "--print"], &[]);
        assert_ok(&out);
        let lines: Vec<Value> = records(&out)
            .into_iter()
            .filter(|l| l["topic"] == c.topic("t").as_str())
            .collect();
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert_eq!(
            std::fs::read_to_string(c.dir.join("offsets.json")).unwrap(),
            before,
            "--print leaves the offsets"
        );
        assert!(read_topic(s.kafka(), &c.topic("t")).await.is_empty());

        // Storing checkpoints would skip these records for Kafka's consumers.
        let refused = c.cli(&["run", "--once", "--print", "--checkpoint"], &[]);
        assert_eq!(refused.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&refused.stderr)
            .contains("--checkpoint with a Kafka connector"));
        // A stdout connector checkpoints when asked: a second look prints nothing new.
        let watch = c.clone().with("sink.type", "stdout");
        assert_ok(&watch.cli(&["run", "--once", "--print", "--checkpoint"], &[]));
        let again = watch.cli(&["run", "--once", "--print"], &[]);
        assert!(records(&again)
            .iter()
            .all(|l| l["topic"] != c.topic("t").as_str()));
    }
}
