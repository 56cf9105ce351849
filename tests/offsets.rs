//! `binlog-poller offsets get|set|reset` on both servers: a set position
//! (a MySQL GTID set, or `file:pos`) is where the next poll resumes, to the
//! transaction; positions that cannot start a dump are refused with the
//! reason; reset makes the next poll start as a new connector (`initial`
//! snapshots again); a running poll's lease is respected unless forced.

mod common;

use common::*;
use mysql_async::prelude::Queryable;
use serde_json::Value;

/// The end of the binlog now (the start of the next transaction).
async fn binlog_end(db: &Db) -> String {
    let mut conn = db.conn().await;
    let sql = match db.flavor {
        Flavor::MySql => "SHOW BINARY LOG STATUS",
        Flavor::MariaDb => "SHOW MASTER STATUS",
    };
    let mut row: mysql_async::Row = conn.query_first(sql).await.unwrap().unwrap();
    let file: String = row.take(0).unwrap();
    let pos: u64 = row.take(1).unwrap();
    conn.disconnect().await.ok();
    format!("{file}:{pos}")
}

/// The position of the first `kind` event at or after `from` (`file:pos`).
async fn event_after(db: &Db, from: &str, kind: &str) -> String {
    let (file, pos) = from.rsplit_once(':').unwrap();
    let mut conn = db.conn().await;
    let rows: Vec<mysql_async::Row> = conn
        .query(format!(
            "SHOW BINLOG EVENTS IN '{file}' FROM {pos} LIMIT 20"
        ))
        .await
        .unwrap();
    conn.disconnect().await.ok();
    for mut r in rows {
        let t: String = r.take("Event_type").unwrap();
        if t == kind {
            let p: u64 = r.take("Pos").unwrap();
            return format!("{file}:{p}");
        }
    }
    panic!("no {kind} event after {from}")
}

fn ids(recs: &[Rec]) -> Vec<i64> {
    recs.iter()
        .map(|r| r.row_field("id").as_i64().expect("id"))
        .collect()
}

fn offsets(c: &Connector, args: &[&str]) -> (bool, Value, String) {
    let mut all = vec!["offsets"];
    all.extend_from_slice(args);
    let out = c.cli(&all, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.success(), json, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_position_is_where_the_next_poll_resumes() {
    let Some(s) = Services::get() else { return };
    for flavor in [Flavor::MySql, Flavor::MariaDb] {
        let db = s.server(flavor);
        let c = Connector::new(&s, &db, "offsets").await;
        c.sql("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)").await;
        assert_ok(&c.cli(&["run", "--once"], &[]));

        // file:pos after row 1: the poll publishes rows 2 and 3, not 1.
        c.sql("INSERT INTO t VALUES (1, 'a')").await;
        let after_one = binlog_end(&db).await;
        c.sql("INSERT INTO t VALUES (2, 'b')").await;
        c.sql("INSERT INTO t VALUES (3, 'c')").await;
        let (ok, view, err) = offsets(&c, &["set", "--to", &after_one]);
        assert!(ok, "{err}");
        assert_eq!(view["position"], Value::from(after_one.clone()), "{view}");
        assert_eq!(view["next_poll"], "streams from the position");
        assert_ok(&c.cli(&["run", "--once"], &[]));
        assert_eq!(ids(&read_topic(s.kafka(), &c.topic("t")).await), vec![2, 3]);

        // Inside a transaction: refused, naming the event there.
        c.sql("INSERT INTO t VALUES (4, 'd')").await;
        let table_map = event_after(&db, &after_one, "Table_map").await;
        let (ok, _, err) = offsets(&c, &["set", "--to", &table_map]);
        assert!(!ok);
        assert!(
            err.contains("is a Table_map event, not the start of a transaction"),
            "{err}"
        );
        // A file the server does not have.
        let (ok, _, err) = offsets(&c, &["set", "--to", "no-such-binlog.000001:4"]);
        assert!(!ok && err.contains("is not on the server"), "{err}");

        if flavor == Flavor::MySql {
            // A GTID set: the poll publishes what the server ran after it.
            // Row 4 was inserted before the set was read, so it is skipped.
            let mut conn = db.conn().await;
            let executed: String = conn
                .query_first("SELECT @@GLOBAL.gtid_executed")
                .await
                .unwrap()
                .unwrap();
            conn.disconnect().await.ok();
            c.sql("INSERT INTO t VALUES (5, 'e')").await;
            let (ok, view, err) = offsets(&c, &["set", "--to", &executed]);
            assert!(ok, "{err}");
            assert!(view["gtid_set"].is_string(), "{view}");
            assert_ok(&c.cli(&["run", "--once"], &[]));
            assert_eq!(
                ids(&read_topic(s.kafka(), &c.topic("t")).await),
                vec![2, 3, 5],
                "row 4 is inside the set, row 5 after it"
            );
            // A set that names transactions the server never ran.
            let (ok, _, err) = offsets(
                &c,
                &["set", "--to", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"],
            );
            assert!(!ok && err.contains("never executed"), "{err}");
        } else {
            let (ok, _, err) = offsets(&c, &["set", "--to", "0-1-5"]);
            assert!(!ok && err.contains("MariaDB"), "{err}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_snapshots_again_under_initial() {
    let Some(s) = Services::get() else { return };
    for flavor in [Flavor::MySql, Flavor::MariaDb] {
        let db = s.server(flavor);
        let c = Connector::new(&s, &db, "reset")
            .await
            .with("snapshot.mode", "initial");
        c.sql("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3)")
            .await;
        assert_ok(&c.cli(&["run", "--once"], &[]));
        let first = read_topic(s.kafka(), &c.topic("t")).await;
        assert_eq!(ids(&first), vec![1, 2, 3]);

        let (ok, view, err) = offsets(&c, &["reset"]);
        assert!(ok, "{err}");
        assert_eq!(view["position"], Value::Null);
        assert_eq!(
            view["next_poll"],
            "starts as a new connector (snapshot.mode=initial)"
        );
        assert_ok(&c.cli(&["run", "--once"], &[]));
        let all = read_topic(s.kafka(), &c.topic("t")).await;
        assert_eq!(ids(&all), vec![1, 2, 3, 1, 2, 3]);
        assert!(
            all[3..].iter().all(|r| r.op() == Some("r")),
            "a new snapshot"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_poll_keeps_its_lease_unless_forced() {
    let Some(s) = Services::get() else { return };
    let db = s.server(Flavor::MySql);
    let c = Connector::new(&s, &db, "offlease").await;
    c.sql("CREATE TABLE t (id INT PRIMARY KEY)").await;
    assert_ok(&c.cli(&["run", "--once"], &[]));
    c.sql("INSERT INTO t VALUES (1)").await;
    let mut child = c.cli_paused_at("after_publish");

    let (ok, _, err) = offsets(&c, &["reset"]);
    assert!(!ok);
    assert!(
        err.contains("a poll holds the lease") && err.contains("--force"),
        "{err}"
    );
    let (ok, view, err) = offsets(&c, &["get"]);
    assert!(ok, "{err}");
    assert_eq!(view["lease"]["live"], Value::Bool(true), "{view}");
    assert!(view["lease"]["expires"]["iso"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert!(view["position"].is_string());

    let (ok, view, err) = offsets(&c, &["reset", "--force"]);
    assert!(ok, "{err}");
    assert_eq!(view["position"], Value::Null);
    child.kill().unwrap();
    child.wait().unwrap();
}
