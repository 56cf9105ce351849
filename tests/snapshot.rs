//! Chunked snapshots under short table locks, against real MariaDB and MySQL
//! with a concurrent writer.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use binlog_poller::pipeline::PollStatus;
use common::*;
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

on_both_servers!(
    snapshot_with_a_concurrent_writer_replays_to_the_final_table,
    snapshot_over_many_short_polls_replays_to_the_final_table,
    adhoc_snapshot_runs_while_other_tables_stream,
    composite_key_chunks_with_override_then_initial_only_stops,
    lock_timeout_leaves_the_chunk_to_a_later_poll,
    newly_included_table_is_snapshotted,
);

const ROWS: i64 = 200_000;

/// What the concurrent writer did.
struct Writes {
    /// The slowest statement (a writer waits for at most one chunk lock).
    worst: Duration,
    /// Statements run.
    statements: u64,
    /// Rows its deletes removed.
    deleted: u64,
}

/// Writes inserts, updates and deletes across the whole key range until
/// stopped, at most `WRITES_PER_SECOND` statements a second: a fixed rate,
/// so the verdict does not depend on how fast the machine lets the writer
/// run against the poller.
const WRITES_PER_SECOND: u64 = 200;

async fn writer(db: Db, database: String, stop: Arc<AtomicBool>) -> Writes {
    let mut conn = db.conn().await;
    conn.query_drop(format!("USE {database}")).await.unwrap();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / WRITES_PER_SECOND));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut w = Writes {
        worst: Duration::ZERO,
        statements: 0,
        deleted: 0,
    };
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let id = (next() % (ROWS as u64 + 20_000)) as i64;
        let n = w.statements;
        let (sql, delete) = match next() % 3 {
            0 => (format!("INSERT INTO t (id, v, note) VALUES ({id}, {n}, 'ins') ON DUPLICATE KEY UPDATE v = v + 1, note = 'dup'"), false),
            1 => (format!("UPDATE t SET v = v + 1, note = 'upd' WHERE id = {id}"), false),
            _ => (format!("DELETE FROM t WHERE id = {id}"), true),
        };
        let t0 = Instant::now();
        conn.query_drop(sql).await.unwrap();
        w.worst = w.worst.max(t0.elapsed());
        if delete {
            w.deleted += conn.affected_rows();
        }
        w.statements += 1;
    }
    w
}

async fn load_table(c: &Connector) {
    c.sql(
        "CREATE TABLE digits (d INT PRIMARY KEY); INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9); \
         CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(32)); \
         INSERT INTO t SELECT a.d*100000 + b.d*10000 + c.d*1000 + d.d*100 + e.d*10 + f.d, 0, 'seed' \
           FROM digits a, digits b, digits c, digits d, digits e, digits f WHERE a.d < 2",
    )
    .await;
}

/// Replays the topic per key (last event wins, deletes and tombstones
/// remove) and checks it equals the table; returns the number of records.
async fn assert_replay_matches_table(s: &Services, c: &Connector) -> usize {
    let recs = read_topic(s.kafka(), &c.topic("t")).await;
    let mut state: BTreeMap<i64, Value> = BTreeMap::new();
    let mut first: BTreeMap<i64, String> = BTreeMap::new();
    let mut last_marker = 0;
    for r in &recs {
        let id = r.key_json().unwrap()["id"].as_i64().unwrap();
        let Some(p) = r.payload() else {
            state.remove(&id);
            continue;
        };
        let op = p["op"].as_str().unwrap().to_string();
        first.entry(id).or_insert_with(|| op.clone());
        if p["source"]["snapshot"] == "last" {
            last_marker += 1;
        }
        match op.as_str() {
            "d" => {
                state.remove(&id);
            }
            _ => {
                state.insert(id, p["after"].clone());
            }
        }
    }
    // No key's first event is an update: inserts and updates above the
    // snapshot cursor are held back until their chunk. A delete may come
    // first: deletes are never held back (the consumer may hold the row from
    // a chunk published before a crash), and a delete of a key it never saw
    // is a no-op.
    let orphans: Vec<_> = first.iter().filter(|(_, op)| *op == "u").take(5).collect();
    assert!(
        orphans.is_empty(),
        "keys whose first event is an update: {orphans:?}"
    );
    assert_eq!(last_marker, 1, "exactly one record says snapshot=last");
    let mut conn = c.db.conn().await;
    let rows: Vec<(i64, i64, Option<String>)> = conn
        .query(format!(
            "SELECT id, v, note FROM {}.t ORDER BY id",
            c.database
        ))
        .await
        .unwrap();
    let table: BTreeMap<i64, Value> = rows
        .into_iter()
        .map(|(id, v, note)| (id, json!({"id": id, "v": v, "note": note})))
        .collect();
    assert_eq!(state.len(), table.len(), "row count after replay");
    for (id, row) in &table {
        assert_eq!(state.get(id), Some(row), "row {id} after replay");
    }
    recs.len()
}

async fn snapshot_while_writing(
    s: &Services,
    db: &Db,
    name: &str,
    poll_ms: &str,
    max_events: &str,
) -> (usize, Vec<Value>, Writes) {
    let c = Connector::new(s, db, name)
        .await
        .with("snapshot.mode", "initial")
        .with("snapshot.fetch.size", "5000")
        .with("poll.max.duration.ms", poll_ms)
        .with("poll.max.events", max_events)
        .with("max.batch.size", "2000")
        .with("key.converter.schemas.enable", "false")
        .with("value.converter.schemas.enable", "false");
    load_table(&c).await;
    let stop = Arc::new(AtomicBool::new(false));
    let w = tokio::spawn(writer(db.clone(), c.database.clone(), Arc::clone(&stop)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut summaries = Vec::new();
    let started = Instant::now();
    loop {
        let sm = c.poll().await;
        let done = sm.snapshot_tables_left == 0 && sm.snapshot_rows == 0 && !summaries.is_empty();
        summaries.push(serde_json::to_value(&sm).unwrap());
        if done {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "snapshot did not finish"
        );
    }
    // Keep writing a little after the snapshot, then drain.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let writes = w.await.unwrap();
    for sm in c.poll_until_caught_up().await {
        summaries.push(serde_json::to_value(&sm).unwrap());
    }
    let records = assert_replay_matches_table(s, &c).await;
    eprintln!(
        "{name}: {} concurrent writes ({} rows deleted), worst writer statement {:?}, {records} records, {} polls",
        writes.statements,
        writes.deleted,
        writes.worst,
        summaries.len()
    );
    (records, summaries, writes)
}

fn lock_stats(summaries: &[Value]) -> (f64, f64) {
    let max = summaries
        .iter()
        .filter_map(|s| s["lock_hold_max_ms"].as_f64())
        .fold(0.0, f64::max);
    let p99 = summaries
        .iter()
        .filter_map(|s| s["lock_hold_p99_ms"].as_f64())
        .fold(0.0, f64::max);
    (max, p99)
}

async fn snapshot_with_a_concurrent_writer_replays_to_the_final_table(s: &Services, db: &Db) {
    let (_, summaries, writes) = snapshot_while_writing(s, db, "snapw", "60000", "0").await;
    let rows: u64 = summaries
        .iter()
        .map(|s| s["snapshot_rows"].as_u64().unwrap())
        .sum();
    // Every seeded row the writer did not delete was read by the snapshot.
    assert!(
        rows >= ROWS as u64 - writes.deleted,
        "snapshot rows {rows}, seeded {ROWS}, deleted {}",
        writes.deleted
    );
    let (max, p99) = lock_stats(&summaries);
    eprintln!(
        "lock hold max {max} ms, p99 {p99} ms; writer worst {:?}",
        writes.worst
    );
    assert!(max > 0.0);
}

async fn snapshot_over_many_short_polls_replays_to_the_final_table(s: &Services, db: &Db) {
    // A 3 s budget keeps a third of it for the last send even on a
    // saturated machine; 30,000 events a poll make the 200,000-row snapshot
    // need at least 7 polls however fast the machine is.
    let (_, summaries, writes) = snapshot_while_writing(s, db, "snapp", "3000", "30000").await;
    let worst = writes.worst;
    let snapshot_polls = summaries
        .iter()
        .filter(|s| s["snapshot_rows"].as_u64().unwrap() > 0)
        .count();
    assert!(
        snapshot_polls >= 5,
        "the snapshot should need 5+ polls, took {snapshot_polls}"
    );
    let (max, p99) = lock_stats(&summaries);
    eprintln!("lock hold max {max} ms, p99 {p99} ms; writer worst {worst:?} over {snapshot_polls} snapshot polls");
    // A writer waits at most for one chunk's lock (plus its own work).
    assert!(
        worst.as_secs_f64() * 1000.0 < max + 1000.0,
        "writer waited {worst:?}, longer than a chunk lock ({max} ms) allows"
    );
}

async fn adhoc_snapshot_runs_while_other_tables_stream(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "adhoc")
        .await
        .with("snapshot.fetch.size", "100")
        .with("poll.max.events", "250");
    c.sql("CREATE TABLE a (id INT PRIMARY KEY, v INT); CREATE TABLE b (id INT PRIMARY KEY, v INT)")
        .await;
    let values: Vec<String> = (1..=1000).map(|i| format!("({i}, 0)")).collect();
    c.sql(&format!("INSERT INTO a VALUES {}", values.join(",")))
        .await;
    c.poll().await; // starts streaming after the rows of a (snapshot.mode=never)
                    // A table that is not there is refused up front, not skipped polls later.
    let typo = format!("{}.aa", c.database);
    let out = c.cli(&["snapshot", "--tables", &typo], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{typo}: no such table")), "{err}");
    let out = c.cli(&["snapshot", "--tables", &format!("{}.a", c.database)], &[]);
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("snapshot_queued"));
    let mut polls = 0;
    let mut b_seen_during_snapshot = false;
    loop {
        polls += 1;
        c.sql(&format!(
            "INSERT INTO b VALUES ({polls}, 0); UPDATE a SET v = v + 1 WHERE id = {}",
            polls * 7
        ))
        .await;
        let sm = c.poll().await;
        let b_now = read_topic(s.kafka(), &c.topic("b")).await.len();
        if sm.snapshot_tables_left > 0 && b_now >= polls as usize {
            b_seen_during_snapshot = true;
        }
        if sm.snapshot_tables_left == 0 && sm.caught_up {
            break;
        }
        assert!(polls < 60, "ad-hoc snapshot did not finish");
    }
    assert!(
        polls >= 4,
        "1000 rows at 250 events per poll take several polls"
    );
    assert!(
        b_seen_during_snapshot,
        "table b kept streaming while a was snapshotted"
    );
    let a = read_topic(s.kafka(), &c.topic("a")).await;
    let reads: std::collections::BTreeSet<i64> = a
        .iter()
        .filter(|r| r.op() == Some("r"))
        .map(|r| r.row_field("id").as_i64().unwrap())
        .collect();
    assert_eq!(reads, (1..=1000).collect(), "every row of a read once");
    // Re-snapshot of a streaming table: its updates are not held back.
    let updates = a.iter().filter(|r| r.op() == Some("u")).count();
    assert_eq!(
        updates,
        polls.min(142) as usize,
        "every update of a streamed"
    );
    let b = read_topic(s.kafka(), &c.topic("b")).await;
    assert_eq!(b.len(), polls as usize);
    assert!(b.iter().all(|r| r.op() == Some("c")));
}

async fn composite_key_chunks_with_override_then_initial_only_stops(s: &Services, db: &Db) {
    let c0 = Connector::new(s, db, "composite").await;
    let table = format!("{}.t", c0.database);
    let c = c0
        .with("snapshot.mode", "initial_only")
        .with("snapshot.fetch.size", "7")
        .with("snapshot.select.statement.overrides", &table)
        .with(
            &format!("snapshot.select.statement.overrides.{table}"),
            &format!("SELECT * FROM {table} WHERE tag <> 'hidden'"),
        );
    c.sql("CREATE TABLE t (a INT, b VARCHAR(8), tag VARCHAR(8), PRIMARY KEY (a, b))")
        .await;
    let mut values = Vec::new();
    for a in 0..10 {
        for b in ["x", "y", "z"] {
            values.push(format!(
                "({a}, '{b}', '{}')",
                if a == 3 && b == "y" { "hidden" } else { "ok" }
            ));
        }
    }
    c.sql(&format!("INSERT INTO t VALUES {}", values.join(",")))
        .await;
    let first = c.poll().await;
    assert_eq!(first.snapshot_rows, 29, "{first:?}");
    assert_eq!(first.snapshot_chunks, 5, "29 rows in chunks of 7");
    let recs = read_topic(s.kafka(), &c.topic("t")).await;
    let keys: Vec<(i64, String)> = recs
        .iter()
        .map(|r| {
            (
                r.row_field("a").as_i64().unwrap(),
                r.row_field("b").as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        29,
        "every row once across composite-key chunk boundaries"
    );
    assert!(
        !keys.contains(&(3, "y".into())),
        "the override's WHERE applies"
    );
    // initial_only: after the snapshot the connector stops.
    c.sql("INSERT INTO t VALUES (99, 'x', 'ok')").await;
    let second = c.poll().await;
    assert_eq!(second.status, PollStatus::SnapshotComplete);
    assert_eq!(second.events, 0);
}

async fn lock_timeout_leaves_the_chunk_to_a_later_poll(s: &Services, db: &Db) {
    let c = Connector::new(s, db, "locktimeout")
        .await
        .with("snapshot.mode", "initial")
        .with("snapshot.lock.timeout.ms", "1000");
    c.sql("CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1),(2),(3)")
        .await;
    let mut blocker = db.conn().await;
    blocker
        .query_drop(format!("LOCK TABLES {}.t WRITE", c.database))
        .await
        .unwrap();
    let blocked = c.poll().await;
    assert_eq!(
        blocked.status,
        PollStatus::Ok,
        "a lock timeout is not a failure"
    );
    assert_eq!(blocked.snapshot_rows, 0);
    assert_eq!(blocked.snapshot_tables_left, 1, "the table stays queued");
    blocker.query_drop("UNLOCK TABLES").await.unwrap();
    let done = c.poll().await;
    assert_eq!(done.snapshot_rows, 3);
    assert_eq!(done.snapshot_tables_left, 0);
}

async fn newly_included_table_is_snapshotted(s: &Services, db: &Db) {
    let c0 = Connector::new(s, db, "newtable").await;
    let c = c0
        .clone()
        .with("table.include.list", &format!("{}\\.a", c0.database));
    c.sql("CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (id INT PRIMARY KEY); INSERT INTO b VALUES (1),(2)").await;
    c.poll().await;
    c.sql("INSERT INTO a VALUES (1); INSERT INTO b VALUES (3)")
        .await;
    assert_eq!(c.poll().await.events, 1, "only a is captured");
    let wider = c0.with("table.include.list", &format!("{}\\.(a|b)", c.database));
    let sm = wider.poll().await;
    assert_eq!(
        sm.snapshot_rows, 3,
        "b is new to the consumer: snapshotted: {sm:?}"
    );
    let b: Vec<i64> = read_topic(s.kafka(), &wider.topic("b"))
        .await
        .iter()
        .map(|r| r.row_field("id").as_i64().unwrap())
        .collect();
    assert_eq!(b, vec![1, 2, 3]);
    wider.sql("INSERT INTO b VALUES (4)").await;
    assert_eq!(wider.poll().await.events, 1, "and streams from then on");
}
