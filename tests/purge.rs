//! A stored position the server has purged: `when_needed` re-snapshots,
//! other modes fail naming the retention setting.
//!
//! Purging binlogs would pull the ground from under connectors of other
//! tests, so this is a test binary of its own (cargo runs test binaries one
//! after another).

mod common;

use common::*;
use mysql_async::prelude::Queryable;

async fn purged_position_resnapshots_with_when_needed_and_fails_otherwise(s: &Services, db: &Db) {
    let needed = Connector::new(s, db, "purge_wn")
        .await
        .with("snapshot.mode", "when_needed");
    let strict = Connector {
        name: format!("{}_strict", needed.name),
        prefix: format!("{}-strict", needed.prefix),
        dir: scratch(&format!("{}_strict", needed.name)),
        ..needed.clone()
    }
    .with("snapshot.mode", "initial");
    needed
        .sql("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await;
    needed
        .sql("INSERT INTO t VALUES (1, 1), (2, 2), (3, 3)")
        .await;
    for c in [&needed, &strict] {
        let sm = c.poll().await;
        assert_eq!(sm.snapshot_rows, 3, "initial snapshot of {}", c.name);
    }
    needed
        .sql("INSERT INTO t VALUES (4, 4); UPDATE t SET v = 20 WHERE id = 2")
        .await;
    // Rotate and purge everything before the newest file. MariaDB keeps
    // files its crash recovery still needs until its binlog checkpoint
    // moves on, so repeat until the stored file is really gone.
    let stored = strict.file_store();
    let stored_file = binlog_poller::offsets::OffsetStore::load(&stored)
        .await
        .unwrap()
        .unwrap()
        .checkpoint
        .unwrap()
        .position
        .file;
    let mut conn = db.conn().await;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        conn.query_drop("FLUSH BINARY LOGS").await.unwrap();
        let logs: Vec<mysql_async::Row> = conn.query("SHOW BINARY LOGS").await.unwrap();
        let names: Vec<String> = logs.iter().map(|r| r.get(0).unwrap()).collect();
        if !names.iter().any(|n| **n == *stored_file) {
            break;
        }
        conn.query_drop(format!("PURGE BINARY LOGS TO '{}'", names.last().unwrap()))
            .await
            .unwrap();
        assert!(
            std::time::Instant::now() < until,
            "the server would not purge {stored_file}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }

    let config = strict.config();
    let store = binlog_poller::offsets::AnyStore::open(&config)
        .await
        .unwrap();
    let err = binlog_poller::pipeline::poll_once(
        &config,
        &store,
        std::time::Instant::now() + config.poll_max_duration,
    )
    .await
    .expect_err("initial must not silently skip purged changes");
    let msg = err.to_string();
    assert!(
        msg.contains("binlog retention hours") && msg.contains("purged"),
        "{msg}"
    );
    assert!(!err.is_retryable());

    let sm = needed.poll().await;
    assert_eq!(
        sm.snapshot_rows, 4,
        "re-snapshot reads the table as it is now: {sm:?}"
    );
    let recs = read_topic(s.kafka(), &needed.topic("t")).await;
    let latest: Vec<(i64, i64)> = recs
        .iter()
        .rev()
        .take(4)
        .map(|r| {
            (
                r.row_field("id").as_i64().unwrap(),
                r.row_field("v").as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        latest.contains(&(2, 20)) && latest.contains(&(4, 4)),
        "{latest:?}"
    );
    // And it streams on from the new position.
    needed.sql("INSERT INTO t VALUES (5, 5)").await;
    assert_eq!(needed.poll().await.events, 1);
}

on_both_servers!(purged_position_resnapshots_with_when_needed_and_fails_otherwise);
