//! Issue 13, finding 8: a frozen poller's binlog dump must not stop the
//! next poll from reading. The frozen process keeps its dump connection
//! open with unread data, so the server's dump thread sits in a blocked
//! write ("Writing to net"). MySQL lets a new dump with the same server id
//! proceed; MariaDB's new dump read nothing until `net_write_timeout` (60 s)
//! ended the stale one.

mod common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use binlog_poller::pipeline::LEASE_TTL;
use common::*;
use mysql_async::prelude::Queryable;

on_both_servers!(frozen_pollers_dump_does_not_block_the_next_poll);

/// SIGKILLs the child when dropped, so a failing assertion leaves no
/// stopped process behind.
struct Frozen(Child);

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

/// Whether a dump thread's state is a blocked write: "Writing to net" on
/// MariaDB, "Sending to client" on MySQL.
fn blocked(state: &str) -> bool {
    state.contains("Writing to net") || state.contains("Sending to client")
}

/// The `Binlog Dump` threads of `user`, as `(id, state)`.
async fn dumps(db: &Db) -> Vec<(u64, String)> {
    let mut conn = db.conn().await;
    let rows: Vec<(u64, Option<String>)> = conn
        .exec(
            "SELECT ID, STATE FROM information_schema.PROCESSLIST \
             WHERE USER = ? AND COMMAND LIKE 'Binlog Dump%'",
            (db.user.clone(),),
        )
        .await
        .unwrap();
    conn.disconnect().await.ok();
    rows.into_iter()
        .map(|(id, s)| (id, s.unwrap_or_default()))
        .collect()
}

async fn frozen_pollers_dump_does_not_block_the_next_poll(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "stale")
        .await
        .with("max.batch.size", "10");
    c.sql("CREATE TABLE t (id INT PRIMARY KEY, pad TEXT)").await;
    c.poll().await;
    // About 6 MB of binlog after the checkpoint: more than the socket
    // buffers hold, so the frozen poller's dump thread blocks writing.
    for batch in 0..30 {
        let values: Vec<String> = (0..100)
            .map(|i| format!("({}, REPEAT('x', 2000))", batch * 100 + i))
            .collect();
        c.sql(&format!("INSERT INTO t VALUES {}", values.join(",")))
            .await;
    }
    let before = dumps(db).await;

    let child = Frozen(c.cli_paused_at("after_publish"));
    let pid = child.0.id();
    signal(pid, "-STOP");
    let frozen_at = Instant::now();

    // The frozen poller's dump is still registered, blocked on a full
    // socket buffer.
    let stale = loop {
        let now: Vec<_> = dumps(db)
            .await
            .into_iter()
            .filter(|d| !before.contains(d) && !before.iter().any(|b| b.0 == d.0))
            .collect();
        if now.iter().any(|(_, st)| blocked(st)) || frozen_at.elapsed() > Duration::from_secs(3) {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("frozen poller's dump threads: {stale:?}");
    assert!(
        stale.iter().any(|(_, st)| blocked(st)),
        "the frozen poller holds no blocked dump: {stale:?}"
    );

    c.sql("INSERT INTO t VALUES (100001, 'after'), (100002, 'after')")
        .await;

    // The frozen poller's lease expires; the next poll reads everything
    // after the stored checkpoint, the new rows included.
    let summary = c
        .poll_once_the_lease_is_free(frozen_at, LEASE_TTL + Duration::from_secs(10))
        .await;
    eprintln!("poll after the frozen one: {summary:?}");
    // Before the fix, MariaDB's new dump read nothing until the server's
    // net_write_timeout (60 s) ended the stale one.
    assert!(
        summary.events > 0,
        "the stale dump blocked the next poll: {summary:?}"
    );
    let mut polls = vec![summary];
    while !polls.last().unwrap().caught_up && polls.len() < 20 {
        polls.push(c.poll().await);
    }
    let events: u64 = polls.iter().map(|p| p.events).sum();
    assert!(events >= 3002, "expected 3002 row events, read {events}");
    let ids: Vec<i64> = read_topic(s.kafka(), &c.topic("t"))
        .await
        .iter()
        .filter_map(|r| r.payload().map(|_| r.row_field("id").as_i64()))
        .flatten()
        .collect();
    for id in [100001, 100002] {
        assert!(ids.contains(&id), "row {id} never reached Kafka");
    }

    // The stale dump itself lingers until the server's net_write_timeout
    // ends its blocked write (on both servers); it no longer matters.
    let left: Vec<_> = dumps(db)
        .await
        .into_iter()
        .filter(|d| stale.iter().any(|s| s.0 == d.0))
        .collect();
    eprintln!("frozen poller's dump threads after the poll: {left:?}");
    drop(child);
}
