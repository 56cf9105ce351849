//! Unit tests of the pipeline on memory fakes.

use std::time::Duration;

use super::holdback::{held_back, Visible};
use super::streamer::Pump;
use super::*;
use crate::config::FailureMode;
use crate::error::Error;
use crate::model::{
    BinlogPosition, Cell, Column, ColumnType, KeyValue, Op, RowChange, SnapshotState,
    SnapshotTable, SourceInfo, TableSchema, TxProgress,
};
use crate::offsets::MemoryStore;
use crate::sink::MemorySink;
use crate::source::MemorySource;
use crate::source::{Chunk, SourceEvent};

fn table() -> Arc<TableSchema> {
    Arc::new(TableSchema {
        db: "d".into(),
        table: "t".into(),
        columns: vec![Column::new(
            "id",
            ColumnType::Int { unsigned: false },
            false,
        )],
        key: vec![0],
    })
}

fn row(id: i64, pos: u64) -> RowChange {
    RowChange {
        table: table(),
        op: Op::Create,
        before: None,
        after: Some(vec![Cell::Int(id)]),
        source: SourceInfo {
            position: BinlogPosition::new("b.000001", pos),
            row: 0,
            ts_sec: 1,
            server_id: 1,
            gtid: None,
            thread: None,
            snapshot: None,
            query: None,
        },
    }
}

/// A binlog of `txs` transactions; transaction k has `rows_per_event *
/// events` rows with ids k*1000 + i.
fn binlog(txs: u64, events: u64, rows_per_event: u64) -> Vec<SourceEvent> {
    let mut out = vec![];
    for k in 0..txs {
        let start = 100 + k * 100;
        out.push(SourceEvent::Begin {
            start: BinlogPosition::new("b.000001", start),
            gtid: None,
            mysql_gtid: None,
        });
        for e in 0..events {
            let rows = (0..rows_per_event)
                .map(|i| row((k * 1000 + e * rows_per_event + i) as i64, start + e))
                .collect();
            out.push(SourceEvent::Rows(rows));
        }
        out.push(SourceEvent::Commit {
            next: BinlogPosition::new("b.000001", start + 100),
            ts_sec: 1,
        });
    }
    out
}

fn opts(max_events: Option<u64>, batch: usize) -> PollOptions {
    let far = Instant::now() + Duration::from_secs(60);
    PollOptions {
        max_events,
        max_batch_records: batch,
        max_batch_bytes: 1 << 30,
        flush_interval: Duration::ZERO,
        lease_ttl: Duration::from_secs(60),
        heartbeat_interval: None,
        read_deadline: far,
        hard_deadline: far,
        stop: Arc::new(AtomicBool::new(false)),
        tx_metadata: false,
        max_record_bytes: 1 << 20,
        failure_mode: FailureMode::Fail,
        transforms: Default::default(),
    }
}

fn ids(sink: &MemorySink) -> Vec<i64> {
    sink.records
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(r.value.as_ref().unwrap()).unwrap();
            v["after"]["id"].as_i64().unwrap()
        })
        .collect()
}

fn encoder() -> EventEncoder {
    let mut o = EncoderOptions::new("p");
    o.key_schemas = false;
    o.value_schemas = false;
    EventEncoder::new(o)
}

/// Polls repeatedly, each time re-reading the binlog from the stored
/// resume point (as the real source does), until the log is drained.
async fn poll_until_done(
    log: &[SourceEvent],
    max_events: Option<u64>,
    batch: usize,
) -> (MemorySink, u32) {
    let store = MemoryStore::default();
    let mut sink = MemorySink::default();
    let mut polls = 0;
    loop {
        polls += 1;
        assert!(polls < 1000, "no progress");
        let Acquire::Acquired(lease) = store.acquire("t", Duration::from_secs(60)).await.unwrap()
        else {
            panic!()
        };
        let start = lease
            .checkpoint
            .clone()
            .unwrap_or_else(|| Checkpoint::at(BinlogPosition::new("b.000001", 4), None));
        let resume = start.resume_position().clone();
        // The real source re-reads from the resume point: drop the
        // transactions before it.
        let keep: Vec<_> = {
            let mut out = vec![];
            let mut active = false;
            for e in log.iter().cloned() {
                if let SourceEvent::Begin { start, .. } = &e {
                    active = *start >= resume;
                }
                if active {
                    out.push(e);
                }
            }
            out
        };
        let mut source = MemorySource::new(keep);
        let s = stream(
            &mut source,
            &mut sink,
            &store,
            &lease,
            &mut encoder(),
            start,
            &opts(max_events, batch),
        )
        .await
        .unwrap();
        store.release(&lease).await.unwrap();
        if s.caught_up && !s.partial_transaction {
            break;
        }
    }
    (sink, polls)
}

#[tokio::test]
async fn big_transaction_over_several_polls_is_delivered_once_in_order() {
    let log = binlog(3, 10, 7); // 3 transactions of 70 rows
    let (sink, polls) = poll_until_done(&log, Some(25), 8).await;
    let want: Vec<i64> = (0..3)
        .flat_map(|k| (0..70).map(move |i| k * 1000 + i))
        .collect();
    assert_eq!(ids(&sink), want);
    assert!(polls >= 9, "{polls}");
}

#[tokio::test]
async fn partial_checkpoint_inside_a_rows_event() {
    let log = binlog(1, 2, 10);
    let (sink, _) = poll_until_done(&log, Some(3), 2).await;
    assert_eq!(ids(&sink), (0..20).collect::<Vec<_>>());
}

#[tokio::test]
async fn failed_send_checkpoints_nothing_and_redelivers() {
    let store = MemoryStore::default();
    let Acquire::Acquired(lease) = store.acquire("t", Duration::from_secs(60)).await.unwrap()
    else {
        panic!()
    };
    let mut sink = MemorySink {
        fail_with: Some("broker down".into()),
        ..Default::default()
    };
    let start = Checkpoint::at(BinlogPosition::new("b.000001", 4), None);
    let mut source = MemorySource::new(binlog(2, 1, 3));
    let err = stream(
        &mut source,
        &mut sink,
        &store,
        &lease,
        &mut encoder(),
        start.clone(),
        &opts(None, 2),
    )
    .await;
    assert!(matches!(err, Err(Error::Kafka { .. })));
    assert_eq!(
        store.state().unwrap().checkpoint,
        None,
        "nothing may be checkpointed"
    );
    sink.fail_with = None;
    let mut source = MemorySource::new(binlog(2, 1, 3));
    stream(
        &mut source,
        &mut sink,
        &store,
        &lease,
        &mut encoder(),
        start,
        &opts(None, 2),
    )
    .await
    .unwrap();
    assert_eq!(ids(&sink), vec![0, 1, 2, 1000, 1001, 1002]);
    assert_eq!(
        store.state().unwrap().checkpoint.unwrap().position,
        BinlogPosition::new("b.000001", 300)
    );
}

#[tokio::test]
async fn fresh_connector_stores_its_start_even_without_events() {
    let store = MemoryStore::default();
    let Acquire::Acquired(lease) = store.acquire("t", Duration::from_secs(60)).await.unwrap()
    else {
        panic!()
    };
    let start = Checkpoint::at(BinlogPosition::new("b.000001", 1234), None);
    let mut sink = MemorySink::default();
    stream(
        &mut MemorySource::new(vec![]),
        &mut sink,
        &store,
        &lease,
        &mut encoder(),
        start.clone(),
        &opts(None, 10),
    )
    .await
    .unwrap();
    assert_eq!(store.state().unwrap().checkpoint, Some(start));
}

fn suppressing(cursor: Option<Vec<KeyValue>>) -> SnapshotState {
    SnapshotState {
        tables: vec![SnapshotTable {
            db: "d".into(),
            table: "t".into(),
            suppress: true,
            key_columns: vec!["id".into()],
            cursor,
            rows: 0,
            estimated_rows: None,
            started_ms: 0,
        }],
        initial: true,
        started: false,
    }
}

fn change(op: Op, before: Option<i64>, after: Option<i64>) -> RowChange {
    RowChange {
        op,
        before: before.map(|b| vec![Cell::Int(b)]),
        after: after.map(|a| vec![Cell::Int(a)]),
        ..row(0, 1)
    }
}

#[test]
fn stream_events_above_the_cursor_are_held_back() {
    let st = suppressing(Some(vec![KeyValue::Int(5)]));
    let ops = |c: &RowChange| visible_ops(seen(&st, c), c);
    assert_eq!(ops(&change(Op::Create, None, Some(5))), vec![Op::Create]);
    assert_eq!(ops(&change(Op::Create, None, Some(6))), vec![]);
    // A delete is never held back: the consumer may hold the row from a
    // chunk published before a crash (issue 13, finding 1).
    assert_eq!(ops(&change(Op::Delete, Some(9), None)), vec![Op::Delete]);
    assert_eq!(ops(&change(Op::Update, Some(2), Some(2))), vec![Op::Update]);
    // A key change across the cursor: the delete half always goes out, the
    // create half only at or below the cursor.
    assert_eq!(ops(&change(Op::Update, Some(2), Some(9))), vec![Op::Delete]);
    assert_eq!(ops(&change(Op::Update, Some(9), Some(2))), vec![Op::Update]);
    assert_eq!(ops(&change(Op::Update, Some(9), Some(8))), vec![Op::Delete]);
    assert_eq!(ops(&change(Op::Update, Some(1), Some(2))), vec![Op::Update]);
    // Before the first chunk nothing of the table is visible.
    let none = suppressing(None);
    let c = change(Op::Create, None, Some(1));
    assert!(visible_ops(seen(&none, &c), &c).is_empty());
    let c = change(Op::Update, Some(1), Some(1));
    assert!(visible_ops(seen(&none, &c), &c).is_empty());
    // ...but deletes are, whole or as the half of a key change.
    let c = change(Op::Delete, Some(1), None);
    assert_eq!(visible_ops(seen(&none, &c), &c), vec![Op::Delete]);
    let c = change(Op::Update, Some(1), Some(2));
    assert_eq!(visible_ops(seen(&none, &c), &c), vec![Op::Delete]);
    // A re-snapshot of a streaming table holds nothing back.
    let mut adhoc = suppressing(None);
    adhoc.tables[0].suppress = false;
    let c = change(Op::Delete, Some(1), None);
    assert_eq!(visible_ops(seen(&adhoc, &c), &c).len(), 1);
}

/// A table still waiting behind another has no chunk key yet (the snapshot
/// learns it on reaching the table). A key change of it must still publish
/// the delete of the old key: a chunk of the table may have reached the
/// consumer before a crash. Found by the crash test on MariaDB.
#[test]
fn key_changes_of_a_table_not_yet_reached_publish_their_delete() {
    let mut waiting = suppressing(None);
    waiting.tables[0].key_columns.clear();
    let c = change(Op::Update, Some(1), Some(2));
    assert_eq!(visible_ops(seen(&waiting, &c), &c), vec![Op::Delete]);
    let c = change(Op::Update, Some(1), Some(1));
    assert!(visible_ops(seen(&waiting, &c), &c).is_empty());
    let c = change(Op::Create, None, Some(1));
    assert!(visible_ops(seen(&waiting, &c), &c).is_empty());
}

/// What hold-back lets through of `c`, with the encoder judging key changes.
fn seen(st: &SnapshotState, c: &RowChange) -> Visible {
    held_back(Some(st), c, || encoder().changes_key(c))
}

/// The operations a consumer sees of `c`.
fn visible_ops(v: Visible, c: &RowChange) -> Vec<Op> {
    match v {
        Visible::All => vec![c.op],
        Visible::Nothing => vec![],
        Visible::Part(p) => vec![p.op],
    }
}

#[tokio::test]
async fn chunk_moves_the_cursor_and_the_last_row_says_last() {
    let store = MemoryStore::default();
    let Acquire::Acquired(lease) = store.acquire("t", Duration::from_secs(60)).await.unwrap()
    else {
        panic!()
    };
    let mut sink = MemorySink::default();
    let mut start = Checkpoint::at(BinlogPosition::new("b.000001", 4), None);
    start.snapshot = Some(suppressing(Some(vec![KeyValue::Int(5)])));
    let o = opts(None, 100);
    let mut enc = encoder();
    let mut st = Streamer::new(&mut sink, &store, &lease, &mut enc, start, &o);
    let log = vec![
        SourceEvent::Begin {
            start: BinlogPosition::new("b.000001", 4),
            gtid: None,
            mysql_gtid: None,
        },
        SourceEvent::Rows(vec![
            change(Op::Create, None, Some(3)),
            change(Op::Create, None, Some(7)),
        ]),
        SourceEvent::Commit {
            next: BinlogPosition::new("b.000001", 50),
            ts_sec: 1,
        },
        SourceEvent::Begin {
            start: BinlogPosition::new("b.000001", 50),
            gtid: None,
            mysql_gtid: None,
        },
    ];
    let stop = BinlogPosition::new("b.000001", 50);
    assert_eq!(
        st.pump(&mut MemorySource::new(log), Some(&stop))
            .await
            .unwrap(),
        Pump::ReachedStop
    );
    let chunk = Chunk {
        rows: vec![vec![Cell::Int(6)], vec![Cell::Int(7)]],
        last_key: Some(vec![KeyValue::Int(7)]),
        more: false,
        position: stop.clone(),
        lock_held: Duration::from_millis(3),
    };
    st.emit_chunk(&table(), chunk).await.unwrap();
    assert!(st.snapshot().is_none() && st.initial_snapshot_done());
    let summary = st.finish().await.unwrap();
    assert_eq!(summary.snapshot_rows, 2);
    assert_eq!(summary.lock_hold_max_ms, Some(3.0));
    let values: Vec<serde_json::Value> = sink
        .records
        .iter()
        .map(|r| serde_json::from_slice(r.value.as_ref().unwrap()).unwrap())
        .collect();
    let seen: Vec<(String, i64, String)> = values
        .iter()
        .map(|v| {
            (
                v["op"].as_str().unwrap().into(),
                v["after"]["id"].as_i64().unwrap(),
                v["source"]["snapshot"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("c".into(), 3, "false".into()),
            ("r".into(), 6, "first".into()),
            ("r".into(), 7, "last".into())
        ],
        "key 7's insert is held back: the chunk read after it carries it"
    );
    let cp = store.state().unwrap().checkpoint.unwrap();
    assert!(cp.initial_snapshot_done && cp.snapshot.is_none());
    assert_eq!(cp.position, stop);
}

#[tokio::test]
async fn filtered_traffic_still_advances_the_checkpoint() {
    let store = MemoryStore::default();
    let Acquire::Acquired(lease) = store.acquire("t", Duration::from_secs(60)).await.unwrap()
    else {
        panic!()
    };
    let mut sink = MemorySink::default();
    let log = vec![
        SourceEvent::Begin {
            start: BinlogPosition::new("b.000001", 4),
            gtid: None,
            mysql_gtid: None,
        },
        SourceEvent::Rows(vec![]),
        SourceEvent::Commit {
            next: BinlogPosition::new("b.000001", 900),
            ts_sec: 5,
        },
    ];
    let start = Checkpoint::at(BinlogPosition::new("b.000001", 4), None);
    let s = stream(
        &mut MemorySource::new(log),
        &mut sink,
        &store,
        &lease,
        &mut encoder(),
        start,
        &opts(None, 10),
    )
    .await
    .unwrap();
    assert_eq!(s.events, 0);
    assert_eq!(s.transactions, 1);
    assert_eq!(store.state().unwrap().checkpoint.unwrap().position.pos, 900);
}

/// A store that already holds `cp`, and a lease on it.
async fn store_holding(cp: &Checkpoint) -> (MemoryStore, Lease) {
    let store = MemoryStore::default();
    let Acquire::Acquired(first) = store.acquire("a", Duration::from_secs(60)).await.unwrap()
    else {
        panic!()
    };
    store
        .commit(&first, cp, Duration::from_secs(60))
        .await
        .unwrap();
    store.release(&first).await.unwrap();
    let Acquire::Acquired(lease) = store.acquire("b", Duration::from_secs(60)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(lease.checkpoint.as_ref(), Some(cp));
    (store, lease)
}

/// Issue 13, finding 4: a poll that resumes inside a large transaction and
/// ends before that transaction begins again (deadline, empty read) keeps
/// the progress, and writes nothing at all.
#[tokio::test]
async fn a_poll_that_reads_nothing_keeps_a_partial_transaction_and_writes_nothing() {
    let mut cp = Checkpoint::at(BinlogPosition::new("b.000001", 100), None);
    cp.transaction = Some(TxProgress {
        start: BinlogPosition::new("b.000001", 100),
        gtid: None,
        rows_events: 8,
        rows: 0,
        tx_meta: None,
    });
    let (store, lease) = store_holding(&cp).await;
    let mut sink = MemorySink::default();
    let s = stream(
        &mut MemorySource::new(vec![]),
        &mut sink,
        &store,
        &lease,
        &mut encoder(),
        cp.clone(),
        &opts(None, 10),
    )
    .await
    .unwrap();
    assert_eq!(store.state().unwrap().checkpoint, Some(cp));
    assert_eq!(s.checkpoints, 0, "nothing read, nothing written");
    assert!(s.partial_transaction);
}

/// Issue 13, finding 5: a GTID dump starts by re-sending the header events
/// of the oldest file it reads; their positions must not move the stored
/// position back.
#[tokio::test]
async fn header_events_of_an_older_file_do_not_move_the_checkpoint_back() {
    let cp = Checkpoint::at(BinlogPosition::new("b.000007", 5000), None);
    let (store, lease) = store_holding(&cp).await;
    let mut sink = MemorySink::default();
    let header = |pos| SourceEvent::Advance {
        next: BinlogPosition::new("b.000005", pos),
        ts_sec: 1,
    };
    let mut events = vec![header(4), header(127), header(198)];
    // Then a transaction the server had not sent before, in the newest file.
    events.extend(binlog(1, 1, 1).into_iter().map(|e| match e {
        SourceEvent::Begin {
            gtid, mysql_gtid, ..
        } => SourceEvent::Begin {
            start: BinlogPosition::new("b.000007", 5000),
            gtid,
            mysql_gtid,
        },
        SourceEvent::Commit { ts_sec, .. } => SourceEvent::Commit {
            next: BinlogPosition::new("b.000007", 5100),
            ts_sec,
        },
        other => other,
    }));
    let mut source = MemorySource::new(events[..3].to_vec());
    let s = stream(
        &mut source,
        &mut sink,
        &store,
        &lease,
        &mut encoder(),
        cp.clone(),
        &opts(None, 10),
    )
    .await
    .unwrap();
    assert_eq!(s.checkpoints, 0, "only header events: nothing to write");
    assert_eq!(store.state().unwrap().checkpoint, Some(cp.clone()));
    let mut source = MemorySource::new(events);
    stream(
        &mut source,
        &mut sink,
        &store,
        &lease,
        &mut encoder(),
        cp,
        &opts(None, 10),
    )
    .await
    .unwrap();
    assert_eq!(
        store.state().unwrap().checkpoint.unwrap().position,
        BinlogPosition::new("b.000007", 5100)
    );
}

/// Review of issue 13, finding 4: the resumed transaction begins again and
/// the poll ends while its published rows events are still being passed
/// over; the stored progress must not shrink.
#[tokio::test]
async fn a_poll_that_ends_while_passing_over_published_rows_keeps_the_progress() {
    let start = BinlogPosition::new("b.000001", 100);
    let mut cp = Checkpoint::at(start.clone(), None);
    cp.transaction = Some(TxProgress {
        start: start.clone(),
        gtid: None,
        rows_events: 8,
        rows: 2,
        tx_meta: None,
    });
    let (store, lease) = store_holding(&cp).await;
    let mut events = vec![SourceEvent::Begin {
        start,
        gtid: None,
        mysql_gtid: None,
    }];
    events.extend((0..3).map(|_| SourceEvent::Rows(Vec::new())));
    let mut sink = MemorySink::default();
    let s = stream(
        &mut MemorySource::new(events),
        &mut sink,
        &store,
        &lease,
        &mut encoder(),
        cp.clone(),
        &opts(None, 10),
    )
    .await
    .unwrap();
    assert_eq!(store.state().unwrap().checkpoint, Some(cp));
    assert_eq!(s.checkpoints, 0);
}
