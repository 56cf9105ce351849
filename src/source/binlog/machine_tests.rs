//! The machine on dump streams captured from real servers
//! (`tests/fixtures/binlog`, see its README), replayed the way mysql_async's
//! `BinlogStream` reads them.

use std::io::Cursor;

use mysql_common::binlog::consts::{BinlogVersion, EventType};
use mysql_common::binlog::events::{Event, TableMapEvent, TransactionPayloadEvent};
use mysql_common::binlog::EventStreamReader;

use super::*;
use crate::model::Cell;
use crate::source::decode::{cell_from_binlog, table_schema_from_tme};

/// The events of a fixture, in the order the driver yields them: each packet
/// through `EventStreamReader::read` (after the status byte), and the inner
/// events of a TRANSACTION_PAYLOAD_EVENT right after it.
pub(crate) fn replay(name: &str) -> Vec<Event> {
    let path = format!(
        "{}/tests/fixtures/binlog/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut esr = EventStreamReader::new(BinlogVersion::Version4);
    let mut events = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        let packet = &rest[4..4 + len];
        rest = &rest[4 + len..];
        assert_eq!(packet[0], 0, "an event packet");
        let ev = esr.read(&packet[1..]).unwrap().unwrap();
        let payload = (ev.header().event_type_raw() == EventType::TRANSACTION_PAYLOAD_EVENT as u8)
            .then(|| {
                ev.read_event::<TransactionPayloadEvent<'_>>()
                    .unwrap()
                    .danger_decompress()
            });
        events.push(ev);
        if let Some(p) = payload {
            let mut cur = Cursor::new(p);
            while let Some(inner) = esr.read_decompressed(&mut cur).unwrap() {
                events.push(inner);
            }
        }
    }
    events
}

fn at(p: &BinlogPosition) -> String {
    format!("{}:{}", p.file, p.pos)
}

/// One line per step, for exact comparisons.
fn render(step: &Step) -> String {
    match step {
        Step::Emit(SourceEvent::Begin { start, gtid, .. }) => match gtid {
            Some(g) => format!("begin {} {g}", at(start)),
            None => format!("begin {}", at(start)),
        },
        Step::Emit(SourceEvent::Commit { next, .. }) => format!("commit {}", at(next)),
        Step::Emit(SourceEvent::Advance { next, .. }) => format!("advance {}", at(next)),
        Step::Emit(SourceEvent::Rows(r)) => format!("skipped rows ({} changes)", r.len()),
        Step::SkipRows { .. } => "skipped rows (0 changes)".into(),
        Step::Emit(SourceEvent::Ddl(_)) => "ddl".into(),
        Step::Rows { event, origin } => format!(
            "rows {} table {} at {}",
            match event {
                RowsEventData::WriteRowsEvent(_) | RowsEventData::WriteRowsEventV1(_) => "write",
                RowsEventData::UpdateRowsEvent(_) | RowsEventData::UpdateRowsEventV1(_) => "update",
                RowsEventData::DeleteRowsEvent(_) | RowsEventData::DeleteRowsEventV1(_) => "delete",
                _ => "other",
            },
            event.table_id(),
            at(&origin.at)
        ),
        Step::Statement { sql, origin, .. } => format!("statement {sql:?} at {}", at(&origin.at)),
        Step::RowsQuery(Some(q)) => format!("query {q:?}"),
        Step::RowsQuery(None) => "query forgotten".into(),
        Step::AnnotateGap(p) => format!("annotate gap {p}"),
    }
}

fn run(machine: &mut Machine, events: &[Event]) -> Vec<Step> {
    events
        .iter()
        .flat_map(|e| machine.feed(e).unwrap())
        .collect()
}

fn lines(steps: &[Step]) -> Vec<String> {
    steps.iter().map(render).collect()
}

const UUID: &str = "b974c9c4-ee0b-11f1-8140-02fc00000001";

fn expect(lines: &[String], expected: &[&str]) {
    let expected: Vec<String> = expected.iter().map(|l| l.replace("UUID", UUID)).collect();
    assert_eq!(lines, expected.as_slice());
}

fn progress(file: &str, pos: u64, gtid: Option<&str>, rows_events: u64) -> TxProgress {
    TxProgress {
        start: BinlogPosition::new(file, pos),
        gtid: gtid.map(|g| g.replace("UUID", UUID)),
        rows_events,
        rows: 0,
        tx_meta: None,
    }
}

#[test]
fn uuid_formatting() {
    let b = [
        0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95,
        0x62,
    ];
    assert_eq!(format_uuid(&b), "3e11fa47-71ca-11e1-9e33-c80aa9429562");
}

#[test]
fn mysql_gtid_dump_yields_transactions_and_a_ddl_group() {
    let events = replay("mysql_gtid.bin");
    let mut m = Machine::new(Flavor::MySql, true, String::new(), None);
    // The fake ROTATE names the file; its trailing CRC32 is not part of the name.
    m.feed(&events[0]).unwrap();
    assert_eq!(m.file(), "mysql-bin.000002");
    // The file's header events (FORMAT_DESCRIPTION, PREVIOUS_GTIDS) are left
    // unasserted: in a GTID dump they move the position back to the file's
    // start (issue 13, finding 5).
    let first_gtid = events
        .iter()
        .position(|e| e.header().event_type_raw() == EventType::GTID_EVENT as u8)
        .unwrap();
    for e in &events[1..first_gtid] {
        m.feed(e).unwrap();
    }
    let steps = run(&mut m, &events[first_gtid..]);
    expect(
        &lines(&steps),
        &[
            "begin mysql-bin.000002:198 UUID:4",
            "query \"INSERT INTO cap.t VALUES (1, 'a')\"",
            "rows write table 106 at mysql-bin.000002:472",
            "query forgotten",
            "commit mysql-bin.000002:545",
            "begin mysql-bin.000002:545 UUID:5",
            "query \"INSERT INTO cap.t VALUES (2, 'b')\"",
            "rows write table 106 at mysql-bin.000002:819",
            "query \"UPDATE cap.t SET v = 'bb' WHERE id = 2\"",
            "rows update table 106 at mysql-bin.000002:990",
            "query forgotten",
            "commit mysql-bin.000002:1072",
            // A DDL is GTID + QUERY without BEGIN: the group ends at its query.
            "begin mysql-bin.000002:1072 UUID:6",
            "statement \"ALTER TABLE cap.t ADD COLUMN w INT\" at mysql-bin.000002:1149",
            "query forgotten",
            "commit mysql-bin.000002:1266",
        ],
    );
    // The GTID parts the executed set grows by, and what a DDL carries.
    let Step::Emit(SourceEvent::Begin { mysql_gtid, .. }) = &steps[0] else {
        panic!("{:?}", steps[0]);
    };
    assert_eq!(mysql_gtid, &Some((UUID.to_string(), 4)));
    let Step::Statement {
        default_db, origin, ..
    } = &steps[13]
    else {
        panic!("{:?}", steps[13]);
    };
    assert_eq!(default_db, "");
    assert_eq!(origin.gtid.as_deref(), Some(format!("{UUID}:6").as_str()));
    assert_eq!(origin.server_id, 2);
    assert!(origin.thread.is_some());
}

#[test]
fn mysql_position_dump_crosses_a_rotation() {
    let events = replay("mysql_pos.bin");
    let mut m = Machine::new(Flavor::MySql, false, "mysql-bin.000003", None);
    let steps = run(&mut m, &events);
    expect(
        &lines(&steps),
        &[
            // Fake ROTATE, FORMAT_DESCRIPTION, PREVIOUS_GTIDS.
            "advance mysql-bin.000003:4",
            "advance mysql-bin.000003:127",
            "advance mysql-bin.000003:198",
            "begin mysql-bin.000003:198 UUID:7",
            "rows write table 108 at mysql-bin.000003:478",
            "commit mysql-bin.000003:555",
            "begin mysql-bin.000003:555 UUID:8",
            "rows write table 108 at mysql-bin.000003:835",
            "rows write table 108 at mysql-bin.000003:1011",
            "commit mysql-bin.000003:1088",
            // The real ROTATE, then the next file's fake ROTATE and header.
            "advance mysql-bin.000004:4",
            "advance mysql-bin.000004:4",
            "advance mysql-bin.000004:127",
            "advance mysql-bin.000004:198",
            "begin mysql-bin.000004:198 UUID:9",
            "rows delete table 108 at mysql-bin.000004:472",
            "commit mysql-bin.000004:545",
        ],
    );
    assert_eq!(m.file(), "mysql-bin.000004");
}

/// A transaction cannot span two files (the server rotates only after a
/// commit), so "rotation mid-transaction" is a poll resuming inside the last
/// transaction of a file: the dump restarts at its first event, the rows
/// events already published come back empty, and after its commit the
/// ROTATE leads into the next file, whose transactions are decoded in full.
#[test]
fn resume_inside_the_last_transaction_of_a_file() {
    let events = replay("mysql_resume.bin");
    let resume = progress("mysql-bin.000003", 555, Some("UUID:8"), 1);
    let mut m = Machine::new(Flavor::MySql, false, "mysql-bin.000003", Some(resume));
    let steps = run(&mut m, &events);
    expect(
        &lines(&steps),
        &[
            // The fake ROTATE carries the requested offset; the
            // FORMAT_DESCRIPTION of a dump from mid-file has log_pos 0.
            "advance mysql-bin.000003:555",
            "begin mysql-bin.000003:555 UUID:8",
            "skipped rows (0 changes)",
            "rows write table 108 at mysql-bin.000003:1011",
            "commit mysql-bin.000003:1088",
            "advance mysql-bin.000004:4",
            "advance mysql-bin.000004:4",
            "advance mysql-bin.000004:127",
            "advance mysql-bin.000004:198",
            "begin mysql-bin.000004:198 UUID:9",
            "rows delete table 108 at mysql-bin.000004:472",
            "commit mysql-bin.000004:545",
        ],
    );

    // Matched by GTID alone (a start recorded elsewhere), every published
    // rows event is skipped.
    let resume = progress("mysql-bin.000099", 4, Some("UUID:8"), 2);
    let mut m = Machine::new(Flavor::MySql, false, "mysql-bin.000003", Some(resume));
    let lines = lines(&run(&mut m, &events));
    assert_eq!(lines.iter().filter(|l| l.starts_with("skipped")).count(), 2);
    assert_eq!(lines.iter().filter(|l| l.starts_with("rows ")).count(), 1);
}

#[test]
fn resume_applies_to_the_first_transaction_only() {
    // Progress of the second transaction while the dump starts before the
    // first: the first transaction consumes it and nothing is skipped.
    let events = replay("mysql_pos.bin");
    let resume = progress("mysql-bin.000003", 555, None, 1);
    let mut m = Machine::new(Flavor::MySql, false, "mysql-bin.000003", Some(resume));
    let lines = lines(&run(&mut m, &events));
    assert!(!lines.iter().any(|l| l.starts_with("skipped")), "{lines:?}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("rows ")).count(), 4);
}

#[test]
fn mysql_compressed_payload_with_two_rows_events() {
    let events = replay("mysql_compressed.bin");
    // GTID, TRANSACTION_PAYLOAD, and its eight inner events.
    assert_eq!(events.len(), 4 + 1 + 8);
    let mut m = Machine::new(Flavor::MySql, false, "mysql-bin.000005", None);
    let steps = run(&mut m, &events);
    let lines = lines(&steps);
    assert_eq!(
        lines[..4],
        [
            "advance mysql-bin.000005:4",
            "advance mysql-bin.000005:127",
            "advance mysql-bin.000005:198",
            &format!("begin mysql-bin.000005:198 {UUID}:10"),
        ]
    );
    // Inner events carry log_pos 0; the XID inside the payload commits at
    // the payload event's end.
    assert_eq!(lines[4..].last().unwrap(), "commit mysql-bin.000005:530");
    let rows: Vec<_> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Rows { event, origin } => Some((event.table_id(), origin)),
            _ => None,
        })
        .collect();
    assert_eq!(rows.len(), 2);
    // Both inner rows events are placed at the payload event's start (issue
    // 13, finding 3: they used to share the payload's end minus their own
    // size, which is neither's position).
    assert!(rows
        .iter()
        .all(|(t, o)| *t == 108 && at(&o.at) == "mysql-bin.000005:277"));
    assert_eq!(lines.len(), 4 + 2 + 1);
    // Their rows number on across both, so no two row changes of the
    // transaction share (file, pos, row).
    let tme = events
        .iter()
        .find_map(|e| match e.read_data().unwrap() {
            Some(EventData::TableMapEvent(t)) if t.table_id() == 108 => Some(t.into_owned()),
            _ => None,
        })
        .unwrap();
    let mut numbers = RowNumbers::default();
    let mut coordinates = Vec::new();
    for step in &steps {
        if let Step::Rows { event, origin } = step {
            let n = event.rows(&tme).count();
            let first = numbers.first(&origin.at, n);
            coordinates.extend((0..n as u32).map(|i| (at(&origin.at), first + i)));
        }
    }
    let mut distinct = coordinates.clone();
    distinct.sort();
    distinct.dedup();
    assert!(coordinates.len() >= 2, "{coordinates:?}");
    assert_eq!(distinct, coordinates, "distinct and increasing");

    // Resuming inside the payload skips the first rows event only.
    let resume = progress("mysql-bin.000005", 198, None, 1);
    let mut m = Machine::new(Flavor::MySql, false, "mysql-bin.000005", Some(resume));
    let steps = run(&mut m, &events);
    let lines = self::lines(&steps);
    assert_eq!(lines[4], "skipped rows (0 changes)");
    assert!(lines[5].starts_with("rows write table 108"));
    assert_eq!(lines[6], "commit mysql-bin.000005:530");
}

#[test]
fn mariadb_gtid_events_and_a_standalone_ddl() {
    let events = replay("mariadb_gtid.bin");
    let mut m = Machine::new(Flavor::MariaDb, true, "mariadb-bin.000002", None);
    let steps = run(&mut m, &events);
    expect(
        &lines(&steps),
        &[
            // Fake ROTATE, FORMAT_DESCRIPTION, GTID_LIST, 2 BINLOG_CHECKPOINTs.
            "advance mariadb-bin.000002:4",
            "advance mariadb-bin.000002:256",
            "advance mariadb-bin.000002:299",
            "advance mariadb-bin.000002:344",
            "advance mariadb-bin.000002:389",
            "begin mariadb-bin.000002:389 0-1-4",
            // The server leaves ANNOTATE_ROWS out (mysql_async cannot ask for
            // it): the gap before each statement's table map is where it was.
            "annotate gap 431",
            "rows write table 18 at mariadb-bin.000002:549",
            "query forgotten",
            "commit mariadb-bin.000002:620",
            "begin mariadb-bin.000002:620 0-1-5",
            "annotate gap 662",
            "rows write table 18 at mariadb-bin.000002:780",
            "annotate gap 820",
            "rows update table 18 at mariadb-bin.000002:943",
            "query forgotten",
            "commit mariadb-bin.000002:1023",
            // GTID with FL_STANDALONE: the DDL's group ends at its query.
            "begin mariadb-bin.000002:1023 0-1-6",
            "statement \"ALTER TABLE cap.t ADD COLUMN w INT\" at mariadb-bin.000002:1065",
            "query forgotten",
            "commit mariadb-bin.000002:1171",
        ],
    );
    // MariaDB GTIDs go to the checkpoint as printed, not as MySQL parts.
    assert!(steps.iter().all(|s| !matches!(
        s,
        Step::Emit(SourceEvent::Begin {
            mysql_gtid: Some(_),
            ..
        })
    )));

    // Without include.query nothing about statement texts is asked for.
    let mut m = Machine::new(Flavor::MariaDb, false, "mariadb-bin.000002", None);
    let lines = lines(&run(&mut m, &events));
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("annotate") || l.starts_with("query")),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 21 - 3 - 3);
}

/// An event as the reader sees it before any FORMAT_DESCRIPTION (no checksum).
fn synthetic(event_type: u8, log_pos: u32, body: &[u8]) -> Event {
    let mut raw = Vec::new();
    raw.extend_from_slice(&0u32.to_le_bytes());
    raw.push(event_type);
    raw.extend_from_slice(&2u32.to_le_bytes());
    raw.extend_from_slice(&(19 + body.len() as u32).to_le_bytes());
    raw.extend_from_slice(&log_pos.to_le_bytes());
    raw.extend_from_slice(&0u16.to_le_bytes());
    raw.extend_from_slice(body);
    let mut esr = EventStreamReader::new(BinlogVersion::Version4);
    esr.read(&raw[..]).unwrap().unwrap()
}

#[test]
fn heartbeats_change_nothing() {
    // A follow-mode dump sends HEARTBEAT (27) with the current file's name
    // when idle; it is not a binlog event and must not move the position or
    // the end of the last event (MariaDB's annotate gap is measured from it).
    let events = replay("mariadb_gtid.bin");
    let table_map = events
        .iter()
        .position(|e| e.header().event_type_raw() == EventType::TABLE_MAP_EVENT as u8)
        .unwrap();
    let mut m = Machine::new(Flavor::MariaDb, true, "mariadb-bin.000002", None);
    run(&mut m, &events[..table_map]);
    let beat = synthetic(EventType::HEARTBEAT_EVENT as u8, 0, b"mariadb-bin.000002");
    assert!(m.feed(&beat).unwrap().is_empty());
    assert_eq!(m.file(), "mariadb-bin.000002");
    let steps = m.feed(&events[table_map]).unwrap();
    assert_eq!(lines(&steps), ["annotate gap 431"]);
}

#[test]
fn rows_events_at_one_position_number_their_rows_on() {
    let mut n = RowNumbers::default();
    let p = |pos| BinlogPosition::new("b.000001", pos);
    assert_eq!(n.first(&p(100), 3), 0);
    assert_eq!(n.first(&p(100), 2), 3, "same position: on from the last");
    assert_eq!(n.first(&p(100), 0), 5);
    assert_eq!(n.first(&p(100), 1), 5);
    assert_eq!(n.first(&p(200), 4), 0, "a new position starts at 0");
    assert_eq!(n.first(&p(100), 1), 0);
}

/// The row images of a rows event, decoded as the poller does (schema from
/// the table map, which the fixture's `binlog_row_metadata=FULL` makes whole).
type Image = Option<Vec<Cell>>;

fn decode(event: &RowsEventData<'static>, tme: &TableMapEvent<'static>) -> Vec<(Image, Image)> {
    let schema = table_schema_from_tme(tme, None).unwrap();
    let cells = |r: Option<mysql_common::binlog::row::BinlogRow>| {
        r.map(|r| {
            r.unwrap()
                .into_iter()
                .zip(&schema.columns)
                .map(|(v, c)| cell_from_binlog(v, &c.ty).unwrap())
                .collect::<Vec<_>>()
        })
    };
    event
        .rows(tme)
        .map(|r| {
            let (before, after) = r.unwrap();
            (cells(before), cells(after))
        })
        .collect()
}

fn row(id: i64, v: &str, big: Option<&str>) -> Image {
    Some(vec![
        Cell::Int(id),
        Cell::Text(v.into()),
        big.map_or(Cell::Null, |b| Cell::Text(b.into())),
    ])
}

/// `log_bin_compress=ON`: every rows event and the DDL arrive as MariaDB's
/// compressed types (166-168, 165); each is decoded at its own position,
/// and its rows are the ordinary event's rows.
#[test]
fn mariadb_compressed_events_are_decoded() {
    let events = replay("mariadb_compressed.bin");
    let types: Vec<u8> = events.iter().map(|e| e.header().event_type_raw()).collect();
    for t in [165, 166, 167, 168] {
        assert!(types.contains(&t), "the fixture has type {t}: {types:?}");
    }
    let mut m = Machine::new(Flavor::MariaDb, false, "mariadb-bin.000002", None);
    let steps = run(&mut m, &events);
    let mut lines = lines(&steps);
    let ddl = lines
        .iter()
        .position(|l| l.starts_with("statement"))
        .unwrap();
    assert!(
        lines[ddl].starts_with(
            "statement \"ALTER TABLE cap.c ADD COLUMN w INT NULL COMMENT 'a comment long enough"
        ) && lines[ddl].ends_with("compressed '\" at mariadb-bin.000002:1756"),
        "{}",
        lines[ddl]
    );
    lines[ddl] = "statement ALTER at mariadb-bin.000002:1756".into();
    expect(
        &lines,
        &[
            "advance mariadb-bin.000002:4",
            "advance mariadb-bin.000002:256",
            "advance mariadb-bin.000002:299",
            "advance mariadb-bin.000002:344",
            "advance mariadb-bin.000002:389",
            "begin mariadb-bin.000002:389 0-1-4",
            "rows write table 18 at mariadb-bin.000002:575",
            "commit mariadb-bin.000002:665",
            "begin mariadb-bin.000002:665 0-1-5",
            "rows write table 18 at mariadb-bin.000002:842",
            "rows update table 18 at mariadb-bin.000002:1031",
            "commit mariadb-bin.000002:1129",
            "begin mariadb-bin.000002:1129 0-1-6",
            "rows delete table 18 at mariadb-bin.000002:1292",
            "commit mariadb-bin.000002:1382",
            "begin mariadb-bin.000002:1382 0-1-7",
            "rows write table 18 at mariadb-bin.000002:1606",
            "commit mariadb-bin.000002:1714",
            // QUERY_COMPRESSED with FL_STANDALONE: a DDL group.
            "begin mariadb-bin.000002:1714 0-1-8",
            "statement ALTER at mariadb-bin.000002:1756",
            "commit mariadb-bin.000002:1937",
        ],
    );

    // The rebuilt rows events decode to the rows the workload wrote.
    let tme = events
        .iter()
        .find(|e| e.header().event_type_raw() == EventType::TABLE_MAP_EVENT as u8)
        .unwrap()
        .read_event::<TableMapEvent<'_>>()
        .unwrap()
        .into_owned();
    let rows: Vec<_> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Rows { event, .. } => Some(decode(event, &tme)),
            _ => None,
        })
        .collect();
    let x300 = "x".repeat(300);
    let y40 = "y".repeat(40);
    assert_eq!(
        rows,
        vec![
            vec![(None, row(1, "one", Some(&x300)))],
            vec![(None, row(2, "two", Some("short")))],
            vec![(row(2, "two", Some("short")), row(2, "TWO", Some("short")))],
            vec![(row(1, "one", Some(&x300)), None)],
            vec![
                (None, row(3, "three", None)),
                (None, row(4, "four", Some("f"))),
                (None, row(5, "five", Some(&y40))),
            ],
        ]
    );
}

#[test]
fn compressed_events_inflate_within_a_bound() {
    let events = replay("mariadb_compressed.bin");
    // The first rows event holds a 300-byte value: above a 200-byte bound.
    let mut m =
        Machine::new(Flavor::MariaDb, false, "mariadb-bin.000002", None).with_max_event_bytes(200);
    let first = events
        .iter()
        .position(|e| e.header().event_type_raw() == 166)
        .unwrap();
    run(&mut m, &events[..first]);
    let e = m.feed(&events[first]).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Decode { .. }) && !e.is_retryable());
    assert!(
        text.contains("mariadb-bin.000002:575")
            && text.contains("WRITE_ROWS_COMPRESSED_EVENT_V1 (166)")
            && text.contains("above the 200-byte limit"),
        "{text}"
    );
}

/// A QUERY event body (post-header with no status variables, empty database).
fn query_body(sql: &str) -> Vec<u8> {
    let mut b = vec![0u8; 13];
    b.push(0);
    b.extend_from_slice(sql.as_bytes());
    b
}

/// What the machine answers to one synthetic event after the fixture's
/// header events (so the file is known and nothing is open).
fn after_header(event: Event) -> Result<Vec<Step>> {
    let events = replay("mariadb_gtid.bin");
    let mut m = Machine::new(Flavor::MariaDb, false, "mariadb-bin.000002", None);
    run(&mut m, &events[..5]);
    m.feed(&event)
}

fn unsupported(r: Result<Vec<Step>>) -> (u8, &'static str, String, String) {
    match r {
        Err(e @ Error::UnsupportedEvent { .. }) => {
            assert!(!e.is_retryable());
            let text = e.to_string();
            let Error::UnsupportedEvent {
                code,
                name,
                position,
                ..
            } = e
            else {
                unreachable!()
            };
            (code, name, position, text)
        }
        other => panic!("expected the fail-closed error, got {other:?}"),
    }
}

#[test]
fn unknown_event_types_stop_the_poll() {
    // 172 is past every type MySQL 9.x and MariaDB 11.x define today.
    let (code, name, position, text) = unsupported(after_header(synthetic(172, 1000, b"????")));
    assert_eq!((code, position.as_str()), (172, "mariadb-bin.000002:977"));
    assert_eq!(name, "an event type this version does not know");
    assert!(
        text.contains("(type 172) at mariadb-bin.000002:977")
            && text.contains("checkpoint was not moved past it")
            && text.contains("use a binlog-poller release"),
        "{text}"
    );
    // Known to the decoder but possibly carrying changes: statement-format LOAD DATA.
    let (code, name, _, text) = unsupported(after_header(synthetic(17, 1000, &[0; 8])));
    assert_eq!((code, name), (17, "BEGIN_LOAD_QUERY_EVENT"));
    assert!(text.contains("binlog_format=ROW"), "{text}");
}

#[test]
fn incidents_and_xa_transactions_stop_the_poll() {
    // INCIDENT LOST_EVENTS (1) with its message.
    let mut body = vec![1, 0, 4];
    body.extend_from_slice(b"lost");
    let (code, name, position, text) = unsupported(after_header(synthetic(26, 1000, &body)));
    assert_eq!((code, name), (26, "INCIDENT_EVENT"));
    assert_eq!(
        position,
        format!("mariadb-bin.000002:{}", 1000 - 19 - body.len())
    );
    assert!(
        text.contains("lost") && text.contains("re-snapshotted"),
        "{text}"
    );

    // XA START: stopped before any of the transaction's rows.
    let xa_start = synthetic(2, 1000, &query_body("XA START X'01',X'',1"));
    let (code, name, _, text) = unsupported(after_header(xa_start));
    assert_eq!((code, name), (2, "QUERY_EVENT"));
    assert!(
        text.contains("XA START is part of an XA transaction"),
        "{text}"
    );
    let (code, name, _, _) = unsupported(after_header(synthetic(38, 1000, &[0; 12])));
    assert_eq!((code, name), (38, "XA_PREPARE_LOG_EVENT"));
}

#[test]
fn events_skipped_on_purpose_only_move_the_position() {
    // MySQL 8.0.26+'s HEARTBEAT_V2 is not a binlog event at all.
    assert!(after_header(synthetic(41, 0, &[0; 8])).unwrap().is_empty());
    // INTVAR (INSERT_ID = 7): context for a statement-format QUERY.
    let mut body = vec![2];
    body.extend_from_slice(&7u64.to_le_bytes());
    let steps = after_header(synthetic(5, 1000, &body)).unwrap();
    assert_eq!(lines(&steps), ["advance mariadb-bin.000002:1000"]);
}

/// A new group before the previous one ended (e.g. a transaction payload
/// that decompressed to nothing) stops the poll instead of passing over the
/// unfinished one.
#[test]
fn a_transaction_that_begins_before_the_previous_one_ended_stops_the_poll() {
    let gtid = |seq: u64| {
        let mut b = seq.to_le_bytes().to_vec();
        b.extend_from_slice(&0u32.to_le_bytes());
        b.push(0);
        b
    };
    let events = replay("mariadb_gtid.bin");
    let mut m = Machine::new(Flavor::MariaDb, false, "mariadb-bin.000002", None);
    run(&mut m, &events[..5]);
    let steps = m.feed(&synthetic(162, 1000, &gtid(7))).unwrap();
    assert_eq!(lines(&steps), ["begin mariadb-bin.000002:968 0-2-7"]);
    let err = m.feed(&synthetic(162, 1100, &gtid(8))).unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert!(
        err.to_string().contains("mariadb-bin.000002:1068")
            && err.to_string().contains("previous one ended"),
        "{err}"
    );
}
