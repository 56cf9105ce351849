//! Whole polls on the memory database: the snapshot/stream interleave,
//! hold-back across the cursor, and a poll that ends between reading a
//! chunk and publishing it. Each test reads the records a consumer would
//! read and checks their order, then replays them into a table and compares
//! it with the database.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::encode::Record;
use crate::error::Error;
use crate::model::{Cell, Column, ColumnType, KeyValue, Op, TableSchema};
use crate::offsets::MemoryStore;
use crate::sink::MemorySink;
use crate::source::{MemoryDatabase, RowWrite};

fn config(chunk: usize, max_events: Option<u64>) -> Config {
    config_with(chunk, max_events, "initial")
}

fn config_with(chunk: usize, max_events: Option<u64>, snapshot_mode: &str) -> Config {
    let mut c = serde_json::json!({"name": "mem", "config": {
        "database.hostname": "memory", "database.user": "u", "topic.prefix": "p",
        "kafka.bootstrap.servers": "memory:9092", "offset.storage.file.filename": "/dev/null",
        "key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false",
        "snapshot.fetch.size": chunk.to_string(), "snapshot.mode": snapshot_mode,
    }});
    if let Some(m) = max_events {
        c["config"]["poll.max.events"] = m.to_string().into();
    }
    Config::from_json(&c.to_string(), |_| None).unwrap()
}

fn schema() -> Arc<TableSchema> {
    Arc::new(TableSchema {
        db: "d".into(),
        table: "t".into(),
        columns: vec![
            Column::new("id", ColumnType::Int { unsigned: false }, false),
            Column::new("v", ColumnType::Int { unsigned: false }, true),
        ],
        key: vec![0],
    })
}

fn r(id: i64, v: i64) -> Vec<Cell> {
    vec![Cell::Int(id), Cell::Int(v)]
}

fn insert(id: i64) -> RowWrite {
    (Op::Create, None, Some(r(id, 0)))
}

fn update(from: i64, to: i64, v: i64) -> RowWrite {
    (Op::Update, Some(r(from, 0)), Some(r(to, v)))
}

/// A database with table `d.t` holding ids `1..=n` (written before the
/// connector starts, so only the snapshot can deliver them).
fn database(n: i64) -> MemoryDatabase {
    let db = MemoryDatabase::new();
    db.create_table(schema());
    db.write("d", "t", (1..=n).map(insert).collect());
    db
}

async fn run(
    db: &MemoryDatabase,
    sink: &mut MemorySink,
    store: &MemoryStore,
    cfg: &Config,
) -> Result<PollSummary> {
    let opts = PollOptions::from_config(cfg, Instant::now() + Duration::from_secs(30));
    let mut db = db.clone();
    poll(cfg, &mut db, move || async move { Ok(sink) }, store, &opts).await
}

/// `op:id` of each data record (tombstones as `-:id`), `r` marked `r!` on
/// the record whose `source.snapshot` is `last`.
fn trace(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.topic.as_ref() == "p.d.t")
        .map(|r| {
            let key: serde_json::Value = serde_json::from_slice(r.key.as_ref().unwrap()).unwrap();
            let id = &key["id"];
            match &r.value {
                None => format!("-:{id}"),
                Some(v) => {
                    let v: serde_json::Value = serde_json::from_slice(v).unwrap();
                    let last = if v["source"]["snapshot"] == "last" {
                        "!"
                    } else {
                        ""
                    };
                    format!("{}{last}:{id}", v["op"].as_str().unwrap())
                }
            }
        })
        .collect()
}

/// The table a consumer holds after applying `records` in order.
fn replay(records: &[Record]) -> Vec<Vec<Cell>> {
    let mut table: BTreeMap<i64, Vec<Cell>> = BTreeMap::new();
    for rec in records.iter().filter(|r| r.topic.as_ref() == "p.d.t") {
        let key: serde_json::Value = serde_json::from_slice(rec.key.as_ref().unwrap()).unwrap();
        let id = key["id"].as_i64().unwrap();
        let Some(v) = &rec.value else {
            table.remove(&id);
            continue;
        };
        let v: serde_json::Value = serde_json::from_slice(v).unwrap();
        match &v["after"] {
            serde_json::Value::Null => {
                table.remove(&id);
            }
            after => {
                table.insert(id, r(id, after["v"].as_i64().unwrap()));
            }
        }
    }
    table.into_values().collect()
}

fn checkpoint(store: &MemoryStore) -> Checkpoint {
    store
        .state()
        .and_then(|s| s.checkpoint)
        .expect("a checkpoint")
}

#[tokio::test]
async fn a_chunk_is_placed_after_the_stream_events_before_its_position() {
    let db = database(6);
    // Traffic while the snapshot runs, each write landing between two
    // chunk reads: an update of a row already read (visible), then an
    // insert above the cursor (held back: the next chunk carries it).
    db.after_chunk(Box::new(|db| {
        db.write("d", "t", vec![update(1, 1, 11)]);
    }));
    db.after_chunk(Box::new(|db| {
        db.write("d", "t", vec![insert(7)]);
    }));
    let (mut sink, store) = (MemorySink::default(), MemoryStore::default());
    let s = run(&db, &mut sink, &store, &config(2, None)).await.unwrap();
    assert_eq!(
        trace(&sink.records),
        ["r:1", "r:2", "u:1", "r:3", "r:4", "r:5", "r:6", "r!:7"],
        "the update at a position between chunk 1 and chunk 2 comes between their rows"
    );
    assert_eq!(replay(&sink.records), db.rows("d", "t"));
    assert_eq!((s.snapshot_rows, s.snapshot_chunks), (7, 4));
    let cp = checkpoint(&store);
    assert!(cp.snapshot.is_none() && cp.initial_snapshot_done);
    assert_eq!(
        cp.position,
        db.end(),
        "streamed to the end after the snapshot"
    );
}

#[tokio::test]
async fn a_primary_key_change_across_the_cursor_is_judged_half_by_half() {
    let db = database(6);
    // After chunk 1 (cursor 2): key 1 moves above the cursor. The delete of
    // 1 is visible (the consumer has row 1); the create of 10 is held back
    // (chunk 3 reads row 10).
    db.after_chunk(Box::new(|db| {
        db.write("d", "t", vec![update(1, 10, 5)]);
    }));
    // After chunk 2 (cursor 4): key 6 moves below the cursor. Both halves go
    // out: the create of 3, and the delete of 6, which this consumer never
    // saw but one whose earlier poll died after publishing chunk 3 would.
    db.after_chunk(Box::new(|db| {
        db.write("d", "t", vec![update(6, 3, 7)]);
    }));
    let (mut sink, store) = (MemorySink::default(), MemoryStore::default());
    run(&db, &mut sink, &store, &config(2, None)).await.unwrap();
    assert_eq!(
        trace(&sink.records),
        ["r:1", "r:2", "d:1", "-:1", "r:3", "r:4", "d:6", "-:6", "c:3", "r:5", "r!:10"],
    );
    assert_eq!(replay(&sink.records), db.rows("d", "t"));
}

#[tokio::test]
async fn a_poll_that_ends_between_reading_a_chunk_and_publishing_it_reads_it_again() {
    let db = database(4);
    // After chunk 1 (cursor 2): two transactions on rows already read.
    db.after_chunk(Box::new(|db| {
        db.write("d", "t", vec![update(1, 1, 11)]);
        db.write("d", "t", vec![update(2, 2, 22)]);
    }));
    let (mut sink, store) = (MemorySink::default(), MemoryStore::default());
    // Three events: chunk 1's two rows and the first update. Chunk 2 was
    // read after both updates, so it cannot be placed before the second:
    // the poll ends with it unpublished.
    let s = run(&db, &mut sink, &store, &config(2, Some(3)))
        .await
        .unwrap();
    assert_eq!(trace(&sink.records), ["r:1", "r:2", "u:1"]);
    assert_eq!((s.snapshot_rows, s.snapshot_chunks), (2, 1));
    assert_eq!(db.chunks_read(), 2);
    let cp = checkpoint(&store);
    let table = &cp.snapshot.as_ref().expect("snapshot still owed").tables[0];
    assert_eq!(
        table.cursor,
        Some(vec![KeyValue::Int(2)]),
        "cursor of the published chunk"
    );
    assert_eq!(table.rows, 2);
    assert!(!cp.initial_snapshot_done);

    // The next poll streams the second update, then reads chunk 2 again.
    let before = sink.records.len();
    run(&db, &mut sink, &store, &config(2, None)).await.unwrap();
    assert_eq!(trace(&sink.records[before..]), ["u:2", "r:3", "r!:4"]);
    assert_eq!(db.chunks_read(), 3);
    assert_eq!(replay(&sink.records), db.rows("d", "t"));
    assert!(checkpoint(&store).initial_snapshot_done);
}

#[tokio::test]
async fn a_failed_publish_of_a_chunk_keeps_the_cursor_and_the_next_poll_sends_it() {
    let db = database(3);
    let (mut sink, store) = (MemorySink::default(), MemoryStore::default());
    // The first poll records where it starts, reads the chunk and fails to
    // publish it: nothing of the snapshot is checkpointed.
    sink.fail_with = Some("broker gone".into());
    let err = run(&db, &mut sink, &store, &config(10, None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Kafka { .. }), "{err}");
    assert!(store.state().and_then(|s| s.checkpoint).is_none_or(|cp| cp
        .snapshot
        .as_ref()
        .is_some_and(|s| s.tables[0].cursor.is_none())));
    sink.fail_with = None;
    run(&db, &mut sink, &store, &config(10, None))
        .await
        .unwrap();
    assert_eq!(trace(&sink.records), ["r:1", "r:2", "r!:3"]);
}

/// A store whose commits fail once `commits_left` is used up: a process
/// that dies after Kafka acknowledged and before its checkpoint.
struct DiesBeforeCheckpoint {
    inner: MemoryStore,
    commits_left: std::sync::atomic::AtomicI64,
}

impl OffsetStore for DiesBeforeCheckpoint {
    async fn acquire(&self, owner: &str, ttl: Duration) -> Result<Acquire> {
        self.inner.acquire(owner, ttl).await
    }

    async fn commit(&self, lease: &Lease, cp: &Checkpoint, ttl: Duration) -> Result<()> {
        use std::sync::atomic::Ordering;
        if self.commits_left.fetch_sub(1, Ordering::SeqCst) <= 0 {
            return Err(Error::Timeout {
                what: "the process died".into(),
                limit: Duration::ZERO,
            });
        }
        self.inner.commit(lease, cp, ttl).await
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<()> {
        self.inner.renew(lease, ttl).await
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        self.inner.release(lease).await
    }

    async fn take_over(&self, owner: &str, ttl: Duration) -> Result<Lease> {
        self.inner.take_over(owner, ttl).await
    }

    async fn clear(&self, lease: &Lease) -> Result<()> {
        self.inner.clear(lease).await
    }

    async fn load(&self) -> Result<Option<crate::offsets::StoredState>> {
        self.inner.load().await
    }

    fn describe(&self) -> String {
        "dies before checkpoint".into()
    }
}

/// Issue 13, finding 1: a poll publishes snapshot chunks, Kafka acknowledges
/// them, and the process dies before the checkpoint. Rows of those chunks
/// are then deleted. The next poll re-reads the chunks, which cannot carry
/// a delete: the deletes themselves must reach the consumer, or it keeps
/// phantom rows forever. Also the delete half of a key change.
#[tokio::test]
async fn deletes_of_rows_published_before_a_crash_are_not_held_back() {
    let db = database(6);
    let (mut sink, store) = (
        MemorySink::default(),
        DiesBeforeCheckpoint {
            inner: MemoryStore::default(),
            commits_left: 1.into(),
        },
    );
    // Poll 1 stores where it starts, publishes the whole snapshot, and dies.
    let err = run_on(&db, &mut sink, &store, &config(2, None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(
        trace(&sink.records),
        ["r:1", "r:2", "r:3", "r:4", "r:5", "r!:6"]
    );
    // Deletes inside the published range, and a key change out of it.
    db.write("d", "t", vec![(Op::Delete, Some(r(1, 0)), None)]);
    db.write("d", "t", vec![(Op::Delete, Some(r(5, 0)), None)]);
    db.write("d", "t", vec![update(6, 60, 1)]);
    store
        .commits_left
        .store(i64::MAX, std::sync::atomic::Ordering::SeqCst);
    run_on(&db, &mut sink, &store, &config(2, None))
        .await
        .unwrap();
    assert_eq!(replay(&sink.records), db.rows("d", "t"));
}

/// The crash test's phantom key, on the memory database: poll 1 publishes
/// the snapshot of `d.a` and then `d.t` and dies before its checkpoint. A
/// key change of `d.t` follows. Poll 2 re-reads `d.a` first and streams the
/// key change while `d.t` still waits, its chunk key not yet known: the
/// delete of the old key must go out all the same, or the consumer keeps
/// the row poll 1 published under it.
#[tokio::test]
async fn a_key_change_of_a_waiting_table_deletes_the_old_key() {
    let db = database(6);
    let mut first = (*schema()).clone();
    first.table = "a".into();
    db.create_table(Arc::new(first));
    db.write("d", "a", (1..=4).map(insert).collect());
    let (mut sink, store) = (
        MemorySink::default(),
        DiesBeforeCheckpoint {
            inner: MemoryStore::default(),
            commits_left: 1.into(),
        },
    );
    run_on(&db, &mut sink, &store, &config(2, None))
        .await
        .unwrap_err();
    assert_eq!(
        trace(&sink.records),
        ["r:1", "r:2", "r:3", "r:4", "r:5", "r!:6"]
    );
    db.write("d", "t", vec![update(6, 60, 1)]);
    store
        .commits_left
        .store(i64::MAX, std::sync::atomic::Ordering::SeqCst);
    run_on(&db, &mut sink, &store, &config(2, None))
        .await
        .unwrap();
    assert_eq!(replay(&sink.records), db.rows("d", "t"));
}

async fn run_on<O: OffsetStore>(
    db: &MemoryDatabase,
    sink: &mut MemorySink,
    store: &O,
    cfg: &Config,
) -> Result<PollSummary> {
    let opts = PollOptions::from_config(cfg, Instant::now() + Duration::from_secs(30));
    let mut db = db.clone();
    poll(cfg, &mut db, move || async move { Ok(sink) }, store, &opts).await
}

/// A sink whose every send takes `delay`.
struct SlowSink<'a> {
    inner: &'a mut MemorySink,
    delay: Duration,
}

impl Sink for SlowSink<'_> {
    async fn send(&mut self, records: Vec<Record>) -> Result<()> {
        tokio::time::sleep(self.delay).await;
        self.inner.send(records).await
    }
}

/// Issue 13, finding 7: leases are short and renewed while a poll works.
/// A poll whose sends take longer than the lease keeps it (a second poller
/// finds it held); a poller that died frees it within the lease time, not
/// after its whole budget.
#[tokio::test]
async fn a_working_poll_renews_its_short_lease() {
    let db = database(3);
    let cfg = config(10, None);
    let store = MemoryStore::default();
    let mut sink = MemorySink::default();
    let mut opts = PollOptions::from_config(&cfg, Instant::now() + Duration::from_secs(30));
    opts.lease_ttl = Duration::from_millis(1500);
    let slow = SlowSink {
        inner: &mut sink,
        delay: Duration::from_millis(5000),
    };
    let mut mdb = db.clone();
    let work = poll(
        &cfg,
        &mut mdb,
        move || async move { Ok(slow) },
        &store,
        &opts,
    );
    let other = async {
        // Two lease lengths into the one slow send (a renewal may be a
        // whole lease late before this could see the lease free).
        tokio::time::sleep(Duration::from_millis(3000)).await;
        store
            .acquire("other", Duration::from_secs(1))
            .await
            .unwrap()
    };
    let (summary, other) = tokio::join!(work, other);
    assert!(
        matches!(other, Acquire::Held { .. }),
        "the lease was renewed while the poll worked: {other:?}"
    );
    assert_eq!(summary.unwrap().snapshot_rows, 3);
    assert_eq!(trace(&sink.records), ["r:1", "r:2", "r!:3"]);

    // The lease a poll takes lasts LEASE_TTL, whatever its budget: a dead
    // poller blocks the next one for at most that long.
    let long = PollOptions::from_config(&cfg, Instant::now() + Duration::from_secs(900));
    assert_eq!(long.lease_ttl, LEASE_TTL);
    assert!(LEASE_TTL <= Duration::from_secs(10));
}

/// `snapshot.mode=always` snapshots again once per process. A poll of a new
/// process that queues that snapshot and fails before its checkpoint must
/// not use it up: the next poll queues it again.
#[tokio::test]
async fn snapshot_mode_always_survives_a_failed_first_poll() {
    let db = database(2);
    let cfg = config_with(10, None, "always");
    let (mut sink, store) = (MemorySink::default(), MemoryStore::default());
    // The connector's first poll: the initial snapshot, as with `initial`.
    run(&db, &mut sink, &store, &cfg).await.unwrap();
    assert_eq!(trace(&sink.records), ["r:1", "r!:2"]);
    // A poll of a restarted process queues the snapshot again, and fails.
    plan::forget_always_snapshot();
    sink.fail_with = Some("broker gone".into());
    run(&db, &mut sink, &store, &cfg).await.unwrap_err();
    sink.fail_with = None;
    run(&db, &mut sink, &store, &cfg).await.unwrap();
    assert_eq!(trace(&sink.records), ["r:1", "r!:2", "r:1", "r:2"]);
    // Once a poll with it succeeded, later polls of this process stream.
    db.write("d", "t", vec![insert(3)]);
    run(&db, &mut sink, &store, &cfg).await.unwrap();
    assert_eq!(trace(&sink.records)[4..], ["c:3"]);
}

/// A poll with a short budget against `db`, which must end (one way or
/// another) within its budget plus a second.
async fn run_briefly(
    db: &MemoryDatabase,
    sink: &mut MemorySink,
    store: &MemoryStore,
    cfg: &Config,
) -> Result<PollSummary> {
    let budget = Duration::from_secs(2);
    let opts = PollOptions::from_config(cfg, Instant::now() + budget);
    let mut db = db.clone();
    let started = Instant::now();
    let work = poll(cfg, &mut db, move || async move { Ok(sink) }, store, &opts);
    let r = tokio::time::timeout(budget + Duration::from_secs(1), work)
        .await
        .expect("the poll ended within its budget");
    assert!(started.elapsed() < budget + Duration::from_millis(500));
    r
}

/// A chunk read that never answers (a lock or a query that hangs) ends the
/// snapshot part at the read deadline: nothing of it is published, the
/// cursor stays, the poll checkpoints and returns.
#[tokio::test]
async fn a_stuck_chunk_read_ends_at_the_read_deadline() {
    let db = database(3);
    db.stall_chunk_reads();
    let (mut sink, store) = (MemorySink::default(), MemoryStore::default());
    run_briefly(&db, &mut sink, &store, &config(10, None))
        .await
        .unwrap();
    assert!(sink.records.is_empty());
    assert_eq!(
        db.aborted_readers(),
        1,
        "the stuck reader's session is killed"
    );
    let cp = checkpoint(&store);
    assert!(cp.snapshot.unwrap().tables[0].cursor.is_none());
}

/// A dump that stops answering (a metadata query behind a decode, a silent
/// server) ends the read at the read deadline; what was read before is
/// published and checkpointed.
#[tokio::test]
async fn a_stuck_binlog_read_ends_at_the_read_deadline_and_keeps_what_it_read() {
    let db = database(0);
    let cfg = config_with(10, None, "never");
    let (mut sink, store) = (MemorySink::default(), MemoryStore::default());
    run(&db, &mut sink, &store, &cfg).await.unwrap();
    let end = db.write("d", "t", vec![insert(1), insert(2)]);
    db.stall_binlog_at_end();
    let s = run_briefly(&db, &mut sink, &store, &cfg).await.unwrap();
    assert_eq!(trace(&sink.records), ["c:1", "c:2"]);
    assert!(!s.caught_up);
    assert!(checkpoint(&store).position > end);
}
