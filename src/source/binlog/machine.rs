//! Transaction boundaries of a binlog dump: a pure, synchronous state machine.
//!
//! [`Machine::feed`] takes each event the dump delivers (header and body, as
//! mysql_common's `EventStreamReader` returns them) and answers with an
//! ordered list of [`Step`]s: the [`SourceEvent`]s it can build alone
//! (`Begin`, `Commit`, `Advance`, the empty `Rows` of a skipped rows event)
//! and the work the I/O side must do, in that order, with what it needs to do
//! it (decode a rows event, look at a statement that may be DDL, remember or
//! forget a statement text, read a MariaDB ANNOTATE_ROWS the server did not
//! send). It never touches a connection, so its rules are tested on captured
//! dumps (`tests/fixtures/binlog`) without a server.
//!
//! Transaction boundaries, which checkpoints need, differ by server:
//! * MySQL: `GTID_LOG_EVENT` (or `ANONYMOUS_GTID_LOG_EVENT`), `QUERY(BEGIN)`,
//!   table maps and rows events, then `XID_EVENT` (or `QUERY(COMMIT)` for
//!   non-transactional engines). A DDL statement is `GTID` + `QUERY(ddl)`
//!   with no BEGIN: it ends at its query.
//! * MariaDB (with `@mariadb_slave_capability=4`, so GTIDs are sent as they
//!   are): `GTID_EVENT` (type 162, seq_no/domain/flags) replaces BEGIN; its
//!   `FL_STANDALONE` flag marks a single statement group such as DDL.
//!   `ANNOTATE_ROWS` (160), `BINLOG_CHECKPOINT` (161) and `GTID_LIST` (163)
//!   are MariaDB-only and are skipped on purpose.
//!
//! Every event header carries `log_pos`, the offset just after the event,
//! so `log_pos - event_size` is where a transaction starts. Events inside a
//! `TRANSACTION_PAYLOAD_EVENT` (binlog transaction compression) carry
//! `log_pos` 0: they are all placed at the payload event's start, and the
//! rows of its rows events are numbered on across them ([`RowNumbers`]), so
//! every row change keeps distinct, increasing `(file, pos, row)`
//! coordinates.
//!
//! A dump starts with a fake ROTATE naming the file, then the file's
//! FORMAT_DESCRIPTION; a real ROTATE at the end of a file names the next one.
//! Outside a transaction every event moves the resume position on
//! (`Advance`), so a poll over events that carry no rows still progresses.
//!
//! Resuming a partly published transaction ([`TxProgress`]): the dump
//! restarts at the transaction's first event; when that transaction begins
//! again (same start or same GTID), its first `rows_events` rows events are
//! passed on empty, undecoded, for the poller to count.
//!
//! MariaDB with `log_bin_compress=ON` writes QUERY and rows events as their
//! compressed twins (types 165-171, [`super::compressed`]); each is rebuilt
//! as the ordinary event and goes through the same rules, keeping the
//! compressed event's own position and size.
//!
//! Fail closed: every event type is either handled above, skipped on
//! purpose (the list in [`Machine::feed`], each with why skipping it loses
//! no change), or stops the poll with [`Error::UnsupportedEvent`] naming the
//! type, the position and the fix ([`Machine::unhandled`]). The error comes
//! before any step for that event, so the resume position never passes it.
//! Stopped on purpose: INCIDENT (the server says changes may be missing
//! from the log here), XA transactions (rows are logged at `XA PREPARE`,
//! the outcome in a later group: publishing them could publish a rolled
//! back transaction, holding them is unbounded), statement-format LOAD DATA
//! events, and any type this version does not know.
//!
//! `mysql_common` panics on some malformed packets; reading each event's
//! body runs under `catch_unwind` and becomes [`Error::Decode`] naming the
//! position, instead of a crashed Lambda.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use mysql_common::binlog::consts::EventType;
use mysql_common::binlog::events::{Event, EventData, RowsEventData};

use super::super::server::{Flavor, MAX_PACKET};
use super::super::SourceEvent;
use super::compressed::{plain_type, uncompress_event};
use super::event_types::{self, *};
use crate::error::{Error, Result};
use crate::model::{BinlogPosition, TxProgress};

/// `FL_STANDALONE` in MariaDB's GTID event flags.
const MARIADB_FL_STANDALONE: u8 = 1;

/// Where a request comes from: what decoded changes and schema changes carry
/// in their `source` block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Origin {
    /// Where the event starts (inside a compressed payload: the payload's start).
    pub(crate) at: BinlogPosition,
    pub(crate) ts_sec: u32,
    pub(crate) server_id: u32,
    /// GTID of the transaction, if the server sent one.
    pub(crate) gtid: Option<Arc<str>>,
    /// Thread id of the last QUERY event.
    pub(crate) thread: Option<u32>,
}

/// One thing to do, in order, for the events fed so far.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// Pass on as is.
    Emit(SourceEvent),
    /// Decode this rows event (its table map is in the stream reader's cache
    /// under `event.table_id()`) and pass on the changes as `Rows`.
    Rows {
        event: RowsEventData<'static>,
        origin: Origin,
    },
    /// A rows event of a resumed transaction that was already published:
    /// pass on an empty `Rows` without decoding it (the poller only counts
    /// it), numbering its rows so that the rows after it keep the row
    /// numbers they were published with.
    SkipRows {
        event: RowsEventData<'static>,
        origin: Origin,
    },
    /// A statement that may be DDL: act on it (forget cached table shapes,
    /// pass on a `Ddl` event for captured tables) before the steps after it.
    Statement {
        sql: String,
        default_db: String,
        origin: Origin,
    },
    /// The statement text the following rows events came from (`None`:
    /// forget it). Only with `include.query`.
    RowsQuery(Option<Arc<str>>),
    /// MariaDB: the server left out the ANNOTATE_ROWS event that starts at
    /// this offset in the current file; its text may be read on demand for
    /// the next decoded rows event. Only with `include.query`.
    AnnotateGap(u64),
}

/// The `row` coordinate of decoded rows: each rows event numbers its rows
/// from 0, except that rows events placed at the same position (the inner
/// events of one compressed transaction payload) number on from the last,
/// so `(file, pos, row)` never repeats.
#[derive(Debug, Default)]
pub(crate) struct RowNumbers {
    at: Option<BinlogPosition>,
    next: u32,
}

impl RowNumbers {
    /// The number of the first of `rows` rows of a rows event placed at `at`.
    pub(crate) fn first(&mut self, at: &BinlogPosition, rows: usize) -> u32 {
        let first = match &self.at {
            Some(prev) if prev == at => self.next,
            _ => 0,
        };
        self.at = Some(at.clone());
        self.next = first.saturating_add(u32::try_from(rows).unwrap_or(u32::MAX));
        first
    }
}

/// Transaction-boundary state of one dump.
#[derive(Debug)]
pub(crate) struct Machine {
    flavor: Flavor,
    include_query: bool,
    file: Arc<str>,
    in_tx: bool,
    explicit_begin: bool,
    gtid: Option<Arc<str>>,
    thread: Option<u32>,
    /// End of the last event received: where a skipped event would start.
    last_end: u64,
    /// Start and end of the TRANSACTION_PAYLOAD_EVENT being read: its inner
    /// events carry no position of their own.
    payload: Option<(u64, u64)>,
    /// The partly published transaction we resume, if any.
    resume: Option<TxProgress>,
    /// Rows events of the current transaction still to pass over undecoded.
    skip_rows_events: u64,
    /// The most a compressed event may inflate to.
    max_event_bytes: usize,
}

impl Machine {
    /// A machine for a dump starting in `file` (empty for a GTID dump: the
    /// fake ROTATE names it).
    pub(crate) fn new(
        flavor: Flavor,
        include_query: bool,
        file: impl Into<Arc<str>>,
        resume: Option<TxProgress>,
    ) -> Self {
        Self {
            flavor,
            include_query,
            file: file.into(),
            in_tx: false,
            explicit_begin: false,
            gtid: None,
            thread: None,
            last_end: 0,
            payload: None,
            resume,
            skip_rows_events: 0,
            max_event_bytes: MAX_PACKET,
        }
    }

    /// Another bound for inflating compressed events (the default is the
    /// dump connection's `max_allowed_packet`).
    #[cfg(test)]
    pub(crate) fn with_max_event_bytes(mut self, n: usize) -> Self {
        self.max_event_bytes = n;
        self
    }

    /// The binlog file being read.
    pub(crate) fn file(&self) -> &str {
        &self.file
    }

    fn pos(&self, p: u64) -> BinlogPosition {
        BinlogPosition::new(Arc::clone(&self.file), p)
    }

    fn decode_err(&self, pos: u64, reason: &str) -> Error {
        Error::Decode {
            position: self.pos(pos).to_string(),
            reason: reason.to_string(),
        }
    }

    /// The steps for one event of the dump.
    pub(crate) fn feed(&mut self, ev: &Event) -> Result<Vec<Step>> {
        let mut out = Vec::new();
        let h = ev.header();
        let mut raw_type = h.event_type_raw();
        if raw_type == EventType::HEARTBEAT_EVENT as u8 || raw_type == HEARTBEAT_V2 {
            // Not a binlog event: the server saying it is alive.
            return Ok(out);
        }
        let size = u64::from(h.event_size());
        let (start, log_pos) = match (u64::from(h.log_pos()), self.payload) {
            // Inside a compressed transaction payload: every inner event
            // is placed at the payload's start (its rows are told apart by
            // their row numbers, see `RowNumbers`), and ends where it ends.
            (0, Some((start, end))) => (start, end),
            (0, None) => (0, 0),
            (log_pos, _) => (log_pos.saturating_sub(size), log_pos),
        };
        let previous_end = std::mem::replace(&mut self.last_end, log_pos);
        let ts_sec = h.timestamp();
        let server_id = h.server_id();
        let inflated;
        let ev = match plain_type(raw_type) {
            Some(plain) => {
                // MariaDB's compressed twin of a QUERY or rows event: read
                // it as the ordinary event, at the compressed one's position.
                inflated = uncompress_event(ev, plain, self.max_event_bytes).map_err(|r| {
                    let name = event_types::name(raw_type);
                    self.decode_err(start, &format!("{name} ({raw_type}): {r}"))
                })?;
                raw_type = plain as u8;
                &inflated
            }
            None => ev,
        };
        match raw_type {
            MARIADB_GTID => {
                let d = ev.data();
                if d.len() < 13 {
                    return Err(self.decode_err(start, "short MariaDB GTID event"));
                }
                let seq = u64::from_le_bytes(d[0..8].try_into().unwrap_or_default());
                let domain = u32::from_le_bytes(d[8..12].try_into().unwrap_or_default());
                let standalone = d[12] & MARIADB_FL_STANDALONE != 0;
                let gtid: Arc<str> = format!("{domain}-{server_id}-{seq}").into();
                self.begin(start, Some(gtid), None, &mut out)?;
                self.explicit_begin = !standalone;
                return Ok(out);
            }
            MARIADB_ANNOTATE_ROWS if self.include_query => {
                // The body is the statement text (the driver cut the checksum).
                let text = String::from_utf8_lossy(ev.data()).into_owned();
                out.push(Step::RowsQuery(Some(text.into())));
                return Ok(out);
            }
            // Skipped on purpose (MariaDB-only, no changes in them): the
            // statement text when include.query is off; which files crash
            // recovery needs; the GTID state at a file's start (each
            // transaction carries its own GTID event); the start of binlog
            // encryption (the dump thread decrypts before sending, so what
            // follows arrives as plain events).
            MARIADB_ANNOTATE_ROWS
            | MARIADB_BINLOG_CHECKPOINT
            | MARIADB_GTID_LIST
            | MARIADB_START_ENCRYPTION => {
                self.advance(log_pos, ts_sec, &mut out);
                return Ok(out);
            }
            _ => {}
        }
        let data = catch_unwind(AssertUnwindSafe(|| {
            ev.read_data().map(|d| d.map(EventData::into_owned))
        }))
        .map_err(|_| self.decode_err(start, "decoder panicked on a malformed event"))?
        .map_err(|e| self.decode_err(start, &e.to_string()))?;
        let origin = |s: &Self| Origin {
            at: s.pos(start),
            ts_sec,
            server_id,
            gtid: s.gtid.clone(),
            thread: s.thread,
        };
        match data {
            Some(EventData::RotateEvent(r)) => {
                self.file = rotate_file_name(ev, r.name_raw()).into();
                if !self.in_tx {
                    let next = self.pos(r.position());
                    out.push(Step::Emit(SourceEvent::Advance { next, ts_sec }));
                }
            }
            Some(EventData::GtidEvent(g)) => {
                let uuid = format_uuid(&g.sid());
                let sid = match g.tag() {
                    Some(tag) => format!("{uuid}:{}", &**tag),
                    None => uuid,
                };
                let gtid: Arc<str> = format!("{sid}:{}", g.gno()).into();
                self.begin(start, Some(gtid), Some((sid, g.gno())), &mut out)?;
            }
            Some(EventData::AnonymousGtidEvent(_)) => self.begin(start, None, None, &mut out)?,
            Some(EventData::QueryEvent(q)) => {
                self.thread = Some(q.thread_id());
                let sql = q.query();
                let word = sql
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_uppercase();
                let statement = |s: &Self| Step::Statement {
                    sql: sql.to_string(),
                    default_db: q.schema().into_owned(),
                    origin: origin(s),
                };
                match word.as_str() {
                    "BEGIN" if !self.in_tx => {
                        self.begin(start, None, None, &mut out)?;
                        self.explicit_begin = true;
                    }
                    "BEGIN" => self.explicit_begin = true,
                    // `XA START` opens a group whose rows are logged at
                    // `XA PREPARE`; whether they count is decided by a later
                    // `XA COMMIT`/`XA ROLLBACK` group (MySQL 5.7.7+, MariaDB
                    // 10.5+). Stopped here, before any of its rows.
                    "XA" => {
                        let stmt: Vec<&str> = sql.split_whitespace().take(2).collect();
                        return Err(xa(self.pos(start), 2, &stmt.join(" ").to_ascii_uppercase()));
                    }
                    "COMMIT" | "ROLLBACK" => self.commit(log_pos, ts_sec, &mut out),
                    _ if self.in_tx && !self.explicit_begin => {
                        // A DDL statement group ends at its query.
                        out.push(statement(self));
                        self.commit(log_pos, ts_sec, &mut out);
                    }
                    _ if !self.in_tx => {
                        // DDL from a server that writes no GTID events.
                        out.push(statement(self));
                        self.advance(log_pos, ts_sec, &mut out);
                    }
                    _ => self.advance(log_pos, ts_sec, &mut out),
                }
            }
            Some(EventData::XidEvent(_)) => self.commit(log_pos, ts_sec, &mut out),
            Some(EventData::TransactionPayloadEvent(_)) => self.payload = Some((start, log_pos)),
            Some(EventData::RowsEvent(event)) if self.skip_rows_events > 0 => {
                self.skip_rows_events -= 1;
                out.push(Step::SkipRows {
                    event,
                    origin: origin(self),
                });
            }
            Some(EventData::RowsEvent(event)) => out.push(Step::Rows {
                event,
                origin: origin(self),
            }),
            Some(EventData::TableMapEvent(_)) => {
                // mysql_async cannot ask MariaDB for ANNOTATE_ROWS events
                // (the dump flag is private), so the server skips them; the
                // skipped event is the gap before the statement's first
                // table map, read on demand for `include.query`.
                if self.flavor == Flavor::MariaDb
                    && self.include_query
                    && previous_end > 0
                    && start > previous_end
                {
                    out.push(Step::AnnotateGap(previous_end));
                }
            }
            Some(EventData::RowsQueryEvent(q)) if self.include_query => {
                out.push(Step::RowsQuery(Some(q.query().into_owned().into())));
            }
            // Skipped on purpose, because none of them carries a change:
            // * FORMAT_DESCRIPTION, PREVIOUS_GTIDS: a file's header (the
            //   stream reader keeps the format; each transaction carries
            //   its own GTID);
            // * STOP: the server stopped at the end of a file;
            // * ROWS_QUERY: a statement text not asked for (include.query);
            // * INTVAR, RAND, USER_VAR: context for the statement-format
            //   QUERY that follows them (in ROW format, changes come as
            //   rows events; the QUERY itself goes through the rules above);
            // * IGNORABLE: by definition a replica may drop it;
            // * TRANSACTION_CONTEXT, VIEW_CHANGE: Group Replication
            //   certification and membership records, no rows.
            Some(
                EventData::FormatDescriptionEvent(_)
                | EventData::PreviousGtidsEvent(_)
                | EventData::StopEvent
                | EventData::RowsQueryEvent(_)
                | EventData::IntvarEvent(_)
                | EventData::RandEvent(_)
                | EventData::UserVarEvent(_)
                | EventData::IgnorableEvent(_)
                | EventData::TransactionContextEvent(_)
                | EventData::ViewChangeEvent(_),
            ) => self.advance(log_pos, ts_sec, &mut out),
            unhandled => return Err(self.unhandled(unhandled.as_ref(), raw_type, start)),
        }
        Ok(out)
    }

    /// The error for every event type without a rule above: types the
    /// decoder does not know (`None`) and known types that may carry changes
    /// this reader cannot stream. Never passed over.
    fn unhandled(&self, data: Option<&EventData<'static>>, raw_type: u8, start: u64) -> Error {
        let position = self.pos(start).to_string();
        let (reason, fix) = match data {
            Some(EventData::IncidentEvent(i)) => (
                format!(
                    "the server reports an incident ({:?}: {:?}): changes may be missing from the binlog here",
                    i.incident_type(),
                    i.message()
                ),
                "find what happened on the server at that time; the captured tables must then be re-snapshotted (`binlog-poller offsets reset` with snapshot.mode=initial)".to_string(),
            ),
            Some(EventData::XaPrepareLogEvent(_)) => {
                return xa(self.pos(start), raw_type, "XA PREPARE");
            }
            Some(_) => (
                "this event type can carry changes (statement-format LOAD DATA, pre-GA rows events) that binlog-poller does not decode".to_string(),
                "set binlog_format=ROW for every session that writes captured tables (it is a session variable too), then, after checking what it changed, move the connector past this event with `binlog-poller offsets set --to FILE:POS` (the next transaction's start, from SHOW BINLOG EVENTS)".to_string(),
            ),
            None => (
                "binlog-poller does not know this event type, and passing it over could lose changes".to_string(),
                "use a binlog-poller release that supports this server version, or turn off the server feature that writes it".to_string(),
            ),
        };
        Error::UnsupportedEvent {
            code: raw_type,
            name: event_types::name(raw_type),
            position,
            reason,
            fix,
        }
    }

    /// Outside a transaction, the log moved on to `log_pos`.
    fn advance(&self, log_pos: u64, ts_sec: u32, out: &mut Vec<Step>) {
        if !self.in_tx && log_pos > 0 {
            let next = self.pos(log_pos);
            out.push(Step::Emit(SourceEvent::Advance { next, ts_sec }));
        }
    }

    fn begin(
        &mut self,
        start: u64,
        gtid: Option<Arc<str>>,
        mysql_gtid: Option<(String, u64)>,
        out: &mut Vec<Step>,
    ) -> Result<()> {
        if self.in_tx {
            // The server ends every group it writes; a new one before the
            // end means the reader missed it (a compressed payload that
            // yielded no events, a group this machine does not understand).
            // Its rows would be checkpointed as committed: stop instead.
            return Err(self.decode_err(
                start,
                "a transaction begins before the previous one ended (a group whose end the reader did not see, such as a transaction payload that decompressed to nothing); the checkpoint was not moved past it; report the server version and this position",
            ));
        }
        self.in_tx = true;
        self.explicit_begin = false;
        self.gtid = gtid.clone();
        let here = self.pos(start);
        self.skip_rows_events = match self.resume.take() {
            Some(p) if p.is_transaction(&here, gtid.as_deref()) => p.rows_events,
            // Resume applies to the first transaction only.
            _ => 0,
        };
        out.push(Step::Emit(SourceEvent::Begin {
            start: here,
            gtid,
            mysql_gtid,
        }));
        Ok(())
    }

    fn commit(&mut self, log_pos: u64, ts_sec: u32, out: &mut Vec<Step>) {
        let next = self.pos(log_pos);
        if !self.in_tx {
            out.push(Step::Emit(SourceEvent::Advance { next, ts_sec }));
            return;
        }
        self.in_tx = false;
        self.explicit_begin = false;
        self.payload = None;
        if self.include_query {
            out.push(Step::RowsQuery(None));
        }
        out.push(Step::Emit(SourceEvent::Commit { next, ts_sec }));
    }
}

/// The error for an XA transaction at `position` (`what`: its statement).
fn xa(position: BinlogPosition, code: u8, what: &str) -> Error {
    Error::UnsupportedEvent {
        code,
        name: event_types::name(code),
        position: position.to_string(),
        reason: format!("{what} is part of an XA transaction: its rows are logged when it is prepared, and only a later XA COMMIT or XA ROLLBACK says whether they happened, so they can be neither published nor passed over"),
        fix: "do not use XA transactions on captured servers; after checking its outcome, move the connector past the transaction (and its XA COMMIT/ROLLBACK) with `binlog-poller offsets set --to FILE:POS` and re-snapshot the tables it touched (`binlog-poller snapshot --tables`)".to_string(),
    }
}

/// The file name of a ROTATE event.
///
/// The dump starts with a fake ROTATE sent *before* the FORMAT_DESCRIPTION
/// event, so the reader does not yet know that events carry a CRC32 and
/// leaves its 4 bytes at the end of the name. When the last 4 bytes are the
/// CRC32 of the event (header and body), they are cut off.
fn rotate_file_name(ev: &Event, name: &[u8]) -> String {
    let body = ev.data();
    let h = ev.header();
    if name.len() > 4 && body.len() >= 4 && body.ends_with(&name[name.len() - 4..]) {
        let mut header = Vec::with_capacity(19);
        header.extend_from_slice(&h.timestamp().to_le_bytes());
        header.push(h.event_type_raw());
        header.extend_from_slice(&h.server_id().to_le_bytes());
        header.extend_from_slice(&h.event_size().to_le_bytes());
        header.extend_from_slice(&h.log_pos().to_le_bytes());
        header.extend_from_slice(&h.flags_raw().to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&header);
        crc.update(&body[..body.len() - 4]);
        let stored = u32::from_le_bytes(body[body.len() - 4..].try_into().unwrap_or_default());
        if crc.finalize() == stored {
            return String::from_utf8_lossy(&name[..name.len() - 4]).into_owned();
        }
    }
    String::from_utf8_lossy(name).into_owned()
}

fn format_uuid(b: &[u8; 16]) -> String {
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
#[path = "machine_tests.rs"]
pub(super) mod tests;
