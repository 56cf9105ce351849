//! The crash test: a writer commits inserts, updates, deletes, multi-statement
//! and large transactions and primary-key changes across two tables while
//! polls (the real CLI, offsets in DynamoDB on moto) are SIGKILLed at random
//! instants, during the initial snapshot and after it. At the end, after
//! polls that are not killed drain the log:
//! * replaying the topics record by record (last record wins) gives exactly
//!   the tables;
//! * so does replaying them while dropping every record whose coordinates
//!   `(file, pos, row)` are not after the last one applied for its key, as a
//!   de-duplicating consumer does (re-delivery keeps coordinates, and per-key
//!   order holds);
//! * the stored offset never moved back: not its position, GTID set,
//!   partial-transaction progress or snapshot completion.
//!
//! Deterministic in its verdict: the writer's statements and the kill delays
//! come from fixed seeds, the writer runs at a fixed rate, and every wait is
//! for a condition with a bound. It prints its figures (kills, changes,
//! duplicates, how long a dead poller blocked the next) for
//! docs/reliability.md.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use binlog_poller::model::{BinlogPosition, Checkpoint};
use binlog_poller::offsets::{AnyStore, OffsetStore};
use binlog_poller::pipeline::PollStatus;
use common::*;
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};

on_both_servers!(polls_killed_at_random_instants_lose_nothing);

/// Rows each table starts with (read by the initial snapshot).
const SEED_ROWS: u64 = 6000;
/// The writer's fixed rate.
const STATEMENTS_PER_SECOND: u64 = 50;

/// xorshift64: the same sequence on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Commits a fixed mix of statements until stopped; counts the statements.
async fn writer(db: Db, database: String, stop: Arc<AtomicBool>, done: Arc<AtomicU64>) {
    let mut conn = db.conn().await;
    conn.query_drop(format!("USE {database}")).await.unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / STATEMENTS_PER_SECOND));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let range = SEED_ROWS + 1000;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let (x, y, n) = (rng.below(range), rng.below(range), rng.below(1000));
        let sql = match rng.below(100) {
            0..=29 => format!("INSERT INTO a VALUES ({x}, {n}) ON DUPLICATE KEY UPDATE v = v + 1"),
            30..=44 => format!("UPDATE a SET v = v + 1 WHERE id = {x}"),
            45..=54 => format!("DELETE FROM a WHERE id = {x}"),
            // A primary-key change, across the snapshot cursor or not.
            55..=59 => format!("UPDATE IGNORE a SET id = {y} WHERE id = {x}"),
            60..=69 => format!(
                "INSERT INTO b VALUES ({x}, 'k{}', {n}) ON DUPLICATE KEY UPDATE v = v + 1",
                x % 7
            ),
            70..=74 => format!("DELETE FROM b WHERE k1 = {x}"),
            75..=79 => format!("UPDATE IGNORE b SET k2 = 'k{}' WHERE k1 = {x}", y % 7),
            // Multi-statement transactions over both tables.
            80..=97 => format!(
                "START TRANSACTION; INSERT INTO a VALUES ({x}, {n}) ON DUPLICATE KEY UPDATE v = v + 1; \
                 UPDATE b SET v = v + 1 WHERE k1 = {y}; DELETE FROM a WHERE id = {y}; COMMIT"
            ),
            // A large transaction: a few hundred row images.
            98 => format!("UPDATE a SET v = v + 1 WHERE id BETWEEN {x} AND {}", x + 200),
            _ => format!("UPDATE b SET v = v + 1 WHERE k1 BETWEEN {x} AND {}", x + 200),
        };
        conn.query_drop(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        done.fetch_add(1, Ordering::Relaxed);
    }
    conn.disconnect().await.ok();
}

/// `(file index, pos, row)` of a record: its place in the binlog.
fn coordinates(p: &Value) -> (u64, u64, u64) {
    let s = &p["source"];
    let file = s["file"].as_str().unwrap();
    let index = BinlogPosition::new(file, 0).file_index().unwrap();
    (
        index,
        s["pos"].as_u64().unwrap(),
        s["row"].as_u64().unwrap(),
    )
}

/// The table a consumer holds after the topic, applying every record in
/// order (`dedup: false`) or only those whose coordinates come after the
/// last applied for their key (`dedup: true`). Also counts the records
/// the de-duplicating consumer dropped.
fn replay(records: &[Rec], dedup: bool) -> (BTreeMap<String, Value>, usize) {
    let mut table = BTreeMap::new();
    let mut last: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut dropped_delete = std::collections::BTreeSet::new();
    let mut dropped = 0;
    for r in records {
        let key = r.key_json().unwrap();
        let key = key.get("payload").unwrap_or(&key).to_string();
        let Some(p) = r.payload() else {
            // A tombstone has no coordinates of its own: it follows its
            // delete, and goes where the delete went.
            if !dropped_delete.remove(&key) {
                table.remove(&key);
            }
            continue;
        };
        let at = coordinates(p);
        if dedup {
            if last.get(&key).is_some_and(|l| at <= *l) {
                dropped += 1;
                if p["op"] == "d" {
                    dropped_delete.insert(key);
                }
                continue;
            }
            last.insert(key.clone(), at);
        }
        match p["op"].as_str().unwrap() {
            "d" => {
                table.remove(&key);
            }
            _ => {
                table.insert(key, p["after"].clone());
            }
        }
    }
    (table, dropped)
}

/// Every record of `keys`, one line each, for a failure message: where it
/// sits in the topic, what it says, where it came from.
fn history(records: &[Rec], keys: &[&String]) -> String {
    let mut out = String::new();
    for r in records {
        let key = r.key_json().unwrap();
        let key = key.get("payload").unwrap_or(&key).to_string();
        if !keys.contains(&&key) {
            continue;
        }
        let line = match r.payload() {
            None => "tombstone".to_string(),
            Some(p) => format!(
                "op={} file={} pos={} row={} snapshot={} before={} after={}",
                p["op"],
                p["source"]["file"],
                p["source"]["pos"],
                p["source"]["row"],
                p["source"]["snapshot"],
                p["before"],
                p["after"]
            ),
        };
        out.push_str(&format!("  {key} p{} @{}: {line}\n", r.partition, r.offset));
    }
    out
}

async fn rows(
    c: &Connector,
    sql: &str,
    key: impl Fn(&mysql_async::Row) -> Value,
    row: impl Fn(&mysql_async::Row) -> Value,
) -> BTreeMap<String, Value> {
    let mut conn = c.db.conn().await;
    conn.query_drop(format!("USE {}", c.database))
        .await
        .unwrap();
    let all: Vec<mysql_async::Row> = conn.query(sql).await.unwrap();
    conn.disconnect().await.ok();
    all.iter().map(|r| (key(r).to_string(), row(r))).collect()
}

/// Polls run one after another as the real CLI, killed at chosen instants,
/// with the stored offset checked after each.
struct Chaos<'a> {
    config_file: std::path::PathBuf,
    store: &'a AnyStore,
    previous: Option<Checkpoint>,
    polls: u32,
    kills: u32,
    regressions: u32,
    longest_block: Duration,
    last_kill: Option<Instant>,
}

impl Chaos<'_> {
    fn snapshot_done(&self) -> bool {
        self.previous
            .as_ref()
            .is_some_and(|cp| cp.initial_snapshot_done)
    }

    /// One poll, SIGKILLed after `kill_after` unless it ended first (else
    /// left to end within its budget). A poll that finds the dead one's
    /// lease still held is run again until it does work.
    async fn poll(&mut self, kill_after: Option<Duration>) {
        loop {
            let mut child = Command::new(env!("CARGO_BIN_EXE_binlog-poller"))
                .args(["run", "--once", "--config"])
                .arg(&self.config_file)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let limit = kill_after.unwrap_or(Duration::from_secs(30));
            let t0 = Instant::now();
            let exited = loop {
                if child.try_wait().unwrap().is_some() {
                    break true;
                }
                if t0.elapsed() >= limit {
                    break false;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            };
            if !exited {
                child.kill().unwrap(); // SIGKILL: no checkpoint, no lease release
            }
            let out = child.wait_with_output().unwrap();
            let summary = String::from_utf8_lossy(&out.stdout);
            if exited && summary.contains("lease_held") {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            self.polls += 1;
            // This poll took the lease: how long after the last kill?
            if let Some(at) = self.last_kill.take() {
                self.longest_block = self.longest_block.max(t0.duration_since(at));
            }
            if exited {
                assert!(out.status.success(), "a poll failed: {summary}");
            } else {
                self.kills += 1;
                self.last_kill = Some(Instant::now());
            }
            let now = self
                .store
                .load()
                .await
                .unwrap()
                .and_then(|st| st.checkpoint);
            if let (Some(before), Some(now)) = (&self.previous, &now) {
                let gtids_back = matches!(
                    (&before.gtid_set, &now.gtid_set),
                    (Some(b), Some(n)) if !n.contains_set(b)
                );
                let progress_back = match (&before.transaction, &now.transaction) {
                    (Some(b), Some(n)) if b.start == n.start => {
                        (n.rows_events, n.rows) < (b.rows_events, b.rows)
                    }
                    (Some(b), None) => now.position <= b.start,
                    _ => false,
                };
                if now.resume_position() < before.resume_position()
                    || (before.initial_snapshot_done && !now.initial_snapshot_done)
                    || gtids_back
                    || progress_back
                {
                    eprintln!("offset moved back: {before} -> {now}");
                    self.regressions += 1;
                }
            }
            if now.is_some() {
                self.previous = now;
            }
            return;
        }
    }
}

async fn polls_killed_at_random_instants_lose_nothing(s: &Services, db: &Db) {
    let table = unique("crash");
    let c = Connector::new(s, db, "crash")
        .await
        .with("snapshot.mode", "initial")
        .with("snapshot.fetch.size", "300")
        .with("poll.max.events", "5000")
        // Small sends, checkpoints every 10 s: a poll killed mid-way has
        // published records it did not checkpoint.
        .with("max.batch.size", "200")
        .with("poll.max.duration.ms", "5000")
        .with("offset.lease.ttl.ms", "1500")
        .with("offset.storage", "dynamodb")
        .with("offset.storage.dynamodb.table", &table)
        .with("offset.storage.dynamodb.endpoint", s.aws())
        .with("offset.storage.dynamodb.region", "us-east-1");
    assert_ok(&c.cli(&["init"], &[]));
    c.sql(&format!(
        "CREATE TABLE digits (d INT PRIMARY KEY); INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9); \
         CREATE TABLE a (id INT PRIMARY KEY, v INT NOT NULL); \
         CREATE TABLE b (k1 INT, k2 VARCHAR(8), v INT NOT NULL, PRIMARY KEY (k1, k2)); \
         CREATE TABLE n AS SELECT x.d * 1000 + y.d * 100 + z.d * 10 + w.d AS i \
           FROM digits x, digits y, digits z, digits w WHERE x.d * 1000 + y.d * 100 + z.d * 10 + w.d < {SEED_ROWS}; \
         INSERT INTO a SELECT i, 0 FROM n; INSERT INTO b SELECT i, CONCAT('k', i % 7), 0 FROM n; DROP TABLE n"
    ))
    .await;
    let config_file = c.config_file();
    let store = AnyStore::open(&c.config()).await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let statements = Arc::new(AtomicU64::new(0));
    let w = tokio::spawn(writer(
        c.db.clone(),
        c.database.clone(),
        Arc::clone(&stop),
        Arc::clone(&statements),
    ));

    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut chaos = Chaos {
        config_file,
        store: &store,
        previous: None,
        polls: 0,
        kills: 0,
        regressions: 0,
        longest_block: Duration::ZERO,
        last_kill: None,
    };
    // During the initial snapshot: three polls of four are killed after
    // 50-350 ms (a snapshot poll works for seconds), the fourth runs to its
    // end, so the snapshot progresses however fast the machine is.
    let mut round = 0u32;
    while !chaos.snapshot_done() {
        round += 1;
        assert!(round < 300, "the snapshot did not finish in {round} rounds");
        let kill_after =
            (!round.is_multiple_of(4)).then(|| Duration::from_millis(50 + rng.below(300)));
        chaos.poll(kill_after).await;
    }
    let killed_during_snapshot = chaos.kills;
    // After it: 60 more polls, each killed after 10-400 ms unless done.
    for _ in 0..60 {
        chaos
            .poll(Some(Duration::from_millis(10 + rng.below(390))))
            .await;
    }
    let Chaos {
        polls,
        kills,
        regressions,
        longest_block,
        ..
    } = chaos;
    stop.store(true, Ordering::Relaxed);
    w.await.unwrap();

    // Drain with polls that are not killed.
    let drained = Instant::now();
    loop {
        let sm = c.poll().await;
        if sm.status == PollStatus::Ok
            && sm.caught_up
            && !sm.partial_transaction
            && sm.snapshot_tables_left == 0
        {
            break;
        }
        assert!(
            drained.elapsed() < Duration::from_secs(120),
            "the log did not drain: {sm:?}"
        );
        if sm.status == PollStatus::LeaseHeld {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let cp = store.load().await.unwrap().unwrap().checkpoint.unwrap();
    assert!(cp.initial_snapshot_done, "{cp}");

    let a = rows(
        &c,
        "SELECT id, v FROM a",
        |r| json!({"id": r.get::<i64, _>(0).unwrap()}),
        |r| json!({"id": r.get::<i64, _>(0).unwrap(), "v": r.get::<i64, _>(1).unwrap()}),
    )
    .await;
    let b = rows(
        &c,
        "SELECT k1, k2, v FROM b",
        |r| json!({"k1": r.get::<i64, _>(0).unwrap(), "k2": r.get::<String, _>(1).unwrap()}),
        |r| {
            json!({"k1": r.get::<i64, _>(0).unwrap(), "k2": r.get::<String, _>(1).unwrap(), "v": r.get::<i64, _>(2).unwrap()})
        },
    )
    .await;
    let mut records = 0;
    let mut duplicates = 0;
    for (name, table) in [("a", &a), ("b", &b)] {
        let recs = read_topic(s.kafka(), &c.topic(name)).await;
        records += recs.len();
        let (plain, _) = replay(&recs, false);
        let (deduped, dropped) = replay(&recs, true);
        duplicates += dropped;
        for (how, got) in [("in order", &plain), ("de-duplicated", &deduped)] {
            let missing: Vec<_> = table
                .keys()
                .filter(|k| !got.contains_key(*k))
                .take(5)
                .collect();
            let phantom: Vec<_> = got
                .keys()
                .filter(|k| !table.contains_key(*k))
                .take(5)
                .collect();
            let wrong: Vec<_> = table
                .iter()
                .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
                .take(5)
                .collect();
            if !(missing.is_empty() && phantom.is_empty() && wrong.is_empty()) {
                let bad: Vec<&String> = missing
                    .iter()
                    .copied()
                    .chain(phantom.iter().copied())
                    .chain(wrong.iter().map(|(k, _)| *k))
                    .collect();
                panic!(
                    "table {name} replayed {how}: missing {missing:?}, phantom {phantom:?}, wrong {wrong:?}\n\
                     their records ({} in the topic):\n{}",
                    recs.len(),
                    history(&recs, &bad)
                );
            }
        }
    }
    assert_eq!(regressions, 0, "the stored offset moved back");
    assert!(
        killed_during_snapshot >= 3 && kills > killed_during_snapshot,
        "{killed_during_snapshot} kills during the snapshot, {kills} in all"
    );
    eprintln!(
        "crash test ({:?}): {polls} polls, {kills} killed ({killed_during_snapshot} during the snapshot), \
         {} writer statements, {records} records, {duplicates} dropped as re-deliveries, \
         0 lost, {regressions} offset regressions; a killed poll blocked the next one for at most {longest_block:?}",
        db.flavor,
        statements.load(Ordering::Relaxed),
    );
}
