//! Following a snapshot, on both servers: a snapshot that takes several
//! polls reports its table, rows read, the estimate from
//! `information_schema`, and rows left in a progress log line, in each
//! poll's summary, in `status` (JSON and text) and as the
//! `SnapshotRowsRemaining` metric; once it is done and the connector has
//! caught up, `status` says so, with no lag.

mod common;

use common::*;
use serde_json::Value;

fn stdout_json_lines(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_poll_snapshot_reports_its_progress() {
    let Some(s) = Services::get() else { return };
    for flavor in [Flavor::MySql, Flavor::MariaDb] {
        let db = s.server(flavor);
        let c = Connector::new(&s, &db, "progress")
            .await
            .with("snapshot.mode", "initial")
            .with("snapshot.fetch.size", "100")
            .with("poll.max.events", "250");
        c.sql("CREATE TABLE t (id INT PRIMARY KEY, v INT)").await;
        let values: Vec<String> = (1..=1000).map(|i| format!("({i}, 0)")).collect();
        c.sql(&format!("INSERT INTO t VALUES {}", values.join(",")))
            .await;
        // Fresh statistics, so TABLE_ROWS is near the truth.
        c.sql("ANALYZE TABLE t").await;

        let first = c.cli(&["run", "--once", "--metrics", "emf"], &[]);
        assert_ok(&first);
        let lines = stdout_json_lines(&first);
        let summary = lines
            .iter()
            .find(|l| l.get("connector").is_some())
            .expect("a summary line");
        let p = &summary["snapshot_progress"];
        assert_eq!(p["table"], format!("{}.t", c.database), "{summary}");
        assert_eq!(
            p["rows"], 300,
            "three chunks of 100 reach the budget of 250"
        );
        let estimate = p["estimated_rows"].as_u64().expect("an estimate");
        assert!((500..=2000).contains(&estimate), "{estimate}");
        assert_eq!(p["tables_left"], 1);
        assert_eq!(p["rows_remaining"], estimate.saturating_sub(300));
        let emf = lines
            .iter()
            .find(|l| l.get("_aws").is_some())
            .expect("an EMF line");
        assert_eq!(
            emf["SnapshotRowsRemaining"],
            p["rows_remaining"].as_f64().unwrap()
        );
        let err = String::from_utf8_lossy(&first.stderr);
        assert!(
            err.contains("snapshot progress") && err.contains("estimated_rows"),
            "{err}"
        );

        let status = c.cli(&["status"], &[]);
        assert_ok(&status);
        let st: Value = serde_json::from_slice(&status.stdout).unwrap();
        assert_eq!(st["snapshot"]["rows"], 300, "{st}");
        assert_eq!(st["snapshot"]["estimated_rows"], estimate);
        assert!(st["offsets"]["updated"]["iso"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
        let text = c.cli(&["status", "--format", "text"], &[]);
        let text = String::from_utf8_lossy(&text.stdout).to_string();
        assert!(
            text.lines().any(|l| l.starts_with("snapshot")
                && l.contains(&format!("{}.t: 300 of ~{estimate} rows", c.database))),
            "{text}"
        );

        let mut polls = 1;
        loop {
            let out = c.cli(&["run", "--once"], &[]);
            assert_ok(&out);
            polls += 1;
            let sm = summary_of(&out);
            if sm["snapshot_tables_left"] == 0 && sm["caught_up"] == true {
                assert!(sm.get("snapshot_progress").is_none(), "{sm}");
                break;
            }
            assert!(polls < 20, "the snapshot did not finish: {sm}");
        }
        assert_eq!(read_topic(s.kafka(), &c.topic("t")).await.len(), 1000);

        let st: Value = serde_json::from_slice(&c.cli(&["status"], &[]).stdout).unwrap();
        assert_eq!(st["caught_up"], true, "{st}");
        assert_eq!(st["lag_seconds"], 0, "{st}");
        assert_eq!(st["behind_bytes"], 0, "{st}");
        assert!(st["snapshot"].is_null());
    }
}
