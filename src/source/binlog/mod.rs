//! Reading the binlog with `COM_BINLOG_DUMP` / `COM_BINLOG_DUMP_GTID`.
//!
//! The dump is requested with `BINLOG_DUMP_NON_BLOCK`, so the server sends
//! an EOF packet when it reaches the current end of the log instead of
//! waiting for new events: one poll drains what is there and stops.
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
//! `TRANSACTION_PAYLOAD_EVENT` (binlog transaction compression) carry no
//! position; they take the payload event's.
//!
//! `mysql_common` panics on some malformed packets; decoding of each event
//! runs under `catch_unwind` and becomes [`Error::Decode`] naming the
//! position, instead of a crashed Lambda.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, Conn};
use mysql_common::binlog::consts::EventType;
use mysql_common::binlog::events::{Event, EventData, RowsEventData, TableMapEvent};
use mysql_common::packets::Sid;

use super::ddl::{parse_ddl, TableChangeKind};
use super::decode::{cell_from_binlog, table_schema_from_tme};
use super::schema::{load_defaults, load_table, table_change_json, TableDefaults};
use super::server::{connect, qerr, Flavor};
use super::{DdlEvent, Source, SourceEvent};
use crate::config::{Config, FailureMode, TableFilter};
use crate::error::{Error, Result};
use crate::model::{BinlogPosition, GtidSet, TxProgress};
use crate::model::{Cell, Op, RowChange, SchemaChange, SourceInfo, TableSchema};

/// Where a dump starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartAt {
    /// A file and offset.
    Position(BinlogPosition),
    /// Every transaction not in the set (MySQL with `gtid_mode=ON`).
    Gtid(GtidSet),
}

const MARIADB_ANNOTATE_ROWS: u8 = 160;
const MARIADB_BINLOG_CHECKPOINT: u8 = 161;
const MARIADB_GTID: u8 = 162;
const MARIADB_GTID_LIST: u8 = 163;
const MARIADB_START_ENCRYPTION: u8 = 164;
/// `FL_STANDALONE` in MariaDB's GTID event flags.
const MARIADB_FL_STANDALONE: u8 = 1;

#[derive(Debug)]
struct CachedTable {
    tme: TableMapEvent<'static>,
    schema: Option<Arc<TableSchema>>,
}

/// A [`Source`] reading a MySQL or MariaDB server's binlog.
pub struct BinlogSource {
    stream: BinlogStream,
    /// A second connection for `information_schema`, opened when needed.
    meta: Option<Conn>,
    config: Config,
    server: String,
    filter: TableFilter,
    deadline: Instant,
    file: String,
    in_tx: bool,
    explicit_begin: bool,
    gtid: Option<Arc<str>>,
    thread: Option<u32>,
    /// The statement behind the following rows events (`include.query`).
    rows_query: Option<Arc<str>>,
    flavor: Flavor,
    /// End of the last event received: where a skipped event would start.
    last_end: u64,
    /// Where an ANNOTATE_ROWS event the server did not send starts.
    annotate_at: Option<u64>,
    payload_end: Option<u64>,
    tables: HashMap<u64, CachedTable>,
    fallback: HashMap<(String, String), Option<Arc<TableSchema>>>,
    /// Column DEFAULTs for the schema part of events (loaded once, again after DDL).
    defaults: Option<TableDefaults>,
    pending: VecDeque<SourceEvent>,
    reached_end: bool,
    /// The partly published transaction we resume, if any.
    resume: Option<TxProgress>,
    /// Rows events of the current transaction still to pass over undecoded.
    skip_rows_events: u64,
}

impl std::fmt::Debug for BinlogSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinlogSource")
            .field("server", &self.server)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl BinlogSource {
    /// Opens a non-blocking dump at `start`, reading until `deadline`.
    ///
    /// With `resume`, the rows events of that transaction that were already
    /// published are returned empty, without decoding them: the poller
    /// only counts them.
    pub async fn open(
        config: &Config,
        flavor: Flavor,
        start: &StartAt,
        resume: Option<TxProgress>,
        deadline: Instant,
    ) -> Result<Self> {
        let server = config.server();
        let mut conn = connect(config).await?;
        if flavor == Flavor::MariaDb {
            // Ask for MariaDB's own GTID events rather than the BEGIN
            // queries it fakes for old replicas.
            conn.query_drop("SET @mariadb_slave_capability=4")
                .await
                .map_err(qerr(&server, "setting replica capability"))?;
        }
        let (file, request) = match start {
            StartAt::Position(p) => (p.file.clone(), None),
            StartAt::Gtid(set) => {
                let sids = set
                    .to_string()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<Sid<'static>>())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| Error::Decode {
                        position: set.to_string(),
                        reason: format!("GTID set not understood by the driver: {e}"),
                    })?;
                (String::new(), Some(sids))
            }
        };
        let mut req = BinlogStreamRequest::new(config.server_id).with_non_blocking();
        req = match (start, request) {
            (StartAt::Position(p), _) => req.with_filename(p.file.as_bytes()).with_pos(p.pos),
            (StartAt::Gtid(_), Some(sids)) => req.with_gtid().with_gtid_set(sids).with_pos(4),
            (StartAt::Gtid(_), None) => req,
        };
        let stream = conn.get_binlog_stream(req).await.map_err(qerr(
            &server,
            "requesting the binlog (needs REPLICATION SLAVE)",
        ))?;
        Ok(Self {
            stream,
            meta: None,
            config: config.clone(),
            server,
            filter: config.filter.clone(),
            deadline,
            file,
            in_tx: false,
            explicit_begin: false,
            gtid: None,
            thread: None,
            rows_query: None,
            flavor,
            last_end: 0,
            annotate_at: None,
            payload_end: None,
            tables: HashMap::new(),
            fallback: HashMap::new(),
            defaults: None,
            pending: VecDeque::new(),
            reached_end: false,
            resume,
            skip_rows_events: 0,
        })
    }

    /// Closes the dump connection.
    pub async fn close(self) {
        let _ = self.stream.close().await;
        if let Some(m) = self.meta {
            let _ = m.disconnect().await;
        }
    }

    fn pos(&self, p: u64) -> BinlogPosition {
        BinlogPosition::new(self.file.clone(), p)
    }

    async fn handle(&mut self, ev: Event) -> Result<()> {
        let h = ev.header();
        let size = u64::from(h.event_size());
        let mut log_pos = u64::from(h.log_pos());
        if log_pos == 0 {
            // Inside a compressed transaction payload.
            log_pos = self.payload_end.unwrap_or(0);
        }
        let start = log_pos.saturating_sub(size);
        let previous_end = std::mem::replace(&mut self.last_end, log_pos);
        let ts_sec = h.timestamp();
        let raw_type = h.event_type_raw();
        let advance = |s: &mut Self| {
            if !s.in_tx && log_pos > 0 {
                let next = s.pos(log_pos);
                s.pending.push_back(SourceEvent::Advance { next, ts_sec });
            }
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
                let gtid: Arc<str> = format!("{domain}-{}-{seq}", h.server_id()).into();
                self.begin(start, Some(gtid), None);
                self.explicit_begin = !standalone;
                return Ok(());
            }
            MARIADB_ANNOTATE_ROWS if self.config.include_query => {
                // The body is the statement text (the driver cut the checksum).
                self.rows_query = Some(String::from_utf8_lossy(ev.data()).into_owned().into());
                return Ok(());
            }
            MARIADB_ANNOTATE_ROWS
            | MARIADB_BINLOG_CHECKPOINT
            | MARIADB_GTID_LIST
            | MARIADB_START_ENCRYPTION => {
                advance(self);
                return Ok(());
            }
            _ => {}
        }
        let data = catch_unwind(AssertUnwindSafe(|| {
            ev.read_data().map(|d| d.map(EventData::into_owned))
        }))
        .map_err(|_| self.decode_err(start, "decoder panicked on a malformed event"))?
        .map_err(|e| self.decode_err(start, &e.to_string()))?;
        let Some(data) = data else {
            advance(self);
            return Ok(());
        };
        match data {
            EventData::RotateEvent(r) => {
                self.file = rotate_file_name(&ev, r.name_raw());
                if !self.in_tx {
                    let next = self.pos(r.position());
                    self.pending
                        .push_back(SourceEvent::Advance { next, ts_sec });
                }
            }
            EventData::GtidEvent(g) => {
                let uuid = format_uuid(&g.sid());
                let sid = match g.tag() {
                    Some(tag) => format!("{uuid}:{}", &**tag),
                    None => uuid,
                };
                let gtid: Arc<str> = format!("{sid}:{}", g.gno()).into();
                self.begin(start, Some(gtid), Some((sid, g.gno())));
            }
            EventData::AnonymousGtidEvent(_) => self.begin(start, None, None),
            EventData::QueryEvent(q) => {
                self.thread = Some(q.thread_id());
                let sql = q.query();
                let word = sql
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_uppercase();
                match word.as_str() {
                    "BEGIN" | "XA" if !self.in_tx => {
                        self.begin(start, None, None);
                        self.explicit_begin = true;
                    }
                    "BEGIN" | "XA" => self.explicit_begin = true,
                    "COMMIT" | "ROLLBACK" => self.commit(log_pos, ts_sec),
                    _ if self.in_tx && !self.explicit_begin => {
                        // A DDL statement group ends at its query.
                        self.ddl(&sql, &q.schema(), start, ts_sec, h.server_id())
                            .await?;
                        self.commit(log_pos, ts_sec);
                    }
                    _ if !self.in_tx => {
                        // DDL from a server that writes no GTID events.
                        self.ddl(&sql, &q.schema(), start, ts_sec, h.server_id())
                            .await?;
                        advance(self);
                    }
                    _ => advance(self),
                }
            }
            EventData::XidEvent(_) => self.commit(log_pos, ts_sec),
            EventData::TransactionPayloadEvent(_) => self.payload_end = Some(log_pos),
            EventData::RowsEvent(_) if self.skip_rows_events > 0 => {
                self.skip_rows_events -= 1;
                self.pending.push_back(SourceEvent::Rows(Vec::new()));
            }
            EventData::RowsEvent(rows) => {
                let changes = self
                    .decode_rows(&rows, start, ts_sec, h.server_id())
                    .await?;
                self.pending.push_back(SourceEvent::Rows(changes));
            }
            EventData::TableMapEvent(_) => {
                // mysql_async cannot ask MariaDB for ANNOTATE_ROWS events
                // (the dump flag is private), so the server skips them; the
                // skipped event is the gap before the statement's first
                // table map, read on demand for `include.query`.
                if self.flavor == Flavor::MariaDb
                    && self.config.include_query
                    && previous_end > 0
                    && start > previous_end
                {
                    self.annotate_at = Some(previous_end);
                }
            }
            EventData::RowsQueryEvent(q) if self.config.include_query => {
                self.rows_query = Some(q.query().into_owned().into());
            }
            _ => advance(self),
        }
        Ok(())
    }

    fn begin(&mut self, start: u64, gtid: Option<Arc<str>>, mysql_gtid: Option<(String, u64)>) {
        if self.in_tx {
            // A GTID event without the previous group's end: the server
            // never does this for complete groups; treat the old one as over.
            tracing::warn!(position = %self.pos(start), "transaction started before the previous one ended");
        }
        self.in_tx = true;
        self.explicit_begin = false;
        self.gtid = gtid.clone();
        let here = self.pos(start);
        self.skip_rows_events = match self.resume.take() {
            Some(p)
                if p.start == here
                    || (p.gtid.is_some() && p.gtid.as_deref() == gtid.as_deref()) =>
            {
                p.rows_events
            }
            // Resume applies to the first transaction only.
            _ => 0,
        };
        self.pending.push_back(SourceEvent::Begin {
            start: self.pos(start),
            gtid,
            mysql_gtid,
        });
    }

    fn commit(&mut self, log_pos: u64, ts_sec: u32) {
        if !self.in_tx {
            let next = self.pos(log_pos);
            self.pending
                .push_back(SourceEvent::Advance { next, ts_sec });
            return;
        }
        self.in_tx = false;
        self.explicit_begin = false;
        self.payload_end = None;
        self.rows_query = None;
        let next = self.pos(log_pos);
        self.pending.push_back(SourceEvent::Commit { next, ts_sec });
    }

    /// Handles a statement that may be DDL: forgets cached
    /// `information_schema` shapes of the tables it touches and, for
    /// captured tables (or databases), queues the schema change event (with
    /// the tables' columns as `information_schema` has them now) and the
    /// `t` event of a TRUNCATE.
    async fn ddl(
        &mut self,
        sql: &str,
        default_db: &str,
        start: u64,
        ts_sec: u32,
        server_id: u32,
    ) -> Result<()> {
        let Some(ddl) = parse_ddl(sql, default_db) else {
            return Ok(());
        };
        for t in &ddl.targets {
            self.fallback.remove(&(t.db.clone(), t.table.clone()));
        }
        self.defaults = None;
        let captured: Vec<_> = ddl
            .targets
            .iter()
            .filter(|t| self.filter.includes(&t.db, &t.table))
            .cloned()
            .collect();
        let relevant = if ddl.targets.is_empty() {
            self.filter.includes_database(&ddl.database)
        } else {
            !captured.is_empty()
        };
        if !relevant {
            return Ok(());
        }
        let source = SourceInfo {
            position: self.pos(start),
            row: 0,
            ts_sec,
            server_id,
            gtid: self.gtid.clone(),
            thread: self.thread,
            snapshot: None,
            query: None,
        };
        let mut event = DdlEvent::default();
        if self.config.include_schema_changes {
            let mut changes = Vec::new();
            if !ddl.truncate {
                for t in &captured {
                    let table = match t.kind {
                        TableChangeKind::Drop => None,
                        _ => {
                            let server = self.server.clone();
                            let conn = self.meta_conn().await?;
                            table_change_json(conn, &server, &t.db, &t.table).await?
                        }
                    };
                    changes.push(serde_json::json!({
                        "type": t.kind.as_str(),
                        "id": format!("\"{}\".\"{}\"", t.db, t.table),
                        "table": table,
                    }));
                }
            }
            event.schema_change = Some(SchemaChange {
                database: ddl.database.clone(),
                ddl: sql.to_string(),
                table_changes: changes,
                table: captured.first().map(|t| t.table.clone()),
                source: source.clone(),
            });
        }
        if ddl.truncate && !self.config.skipped_operations.truncate {
            if let Some(t) = captured.first() {
                if let Some(schema) = self.information_schema(&t.db, &t.table).await? {
                    event.truncate = Some(RowChange {
                        table: schema,
                        op: Op::Truncate,
                        before: None,
                        after: None,
                        source,
                    });
                }
            }
        }
        tracing::info!(database = %ddl.database, tables = captured.len(), position = %self.pos(start), "schema change");
        self.pending.push_back(SourceEvent::Ddl(Box::new(event)));
        Ok(())
    }

    /// The statement of the MariaDB ANNOTATE_ROWS event at `at` in the
    /// current file (`SHOW BINLOG EVENTS`, which needs BINLOG MONITOR).
    async fn annotate_query(&mut self, at: u64) -> Result<Option<Arc<str>>> {
        let file = self.file.clone();
        if !file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Ok(None);
        }
        let server = self.server.clone();
        let conn = self.meta_conn().await?;
        let row: Option<mysql_async::Row> = conn
            .query_first(format!("SHOW BINLOG EVENTS IN '{file}' FROM {at} LIMIT 1"))
            .await
            .map_err(qerr(&server, "reading the statement of a rows event"))?;
        Ok(row.and_then(|r| {
            let kind: Option<String> = r.get("Event_type");
            let info: Option<String> = r.get("Info");
            (kind.as_deref() == Some("Annotate_rows"))
                .then_some(info)
                .flatten()
                .map(Arc::from)
        }))
    }

    async fn meta_conn(&mut self) -> Result<&mut Conn> {
        if self.meta.is_none() {
            self.meta = Some(connect(&self.config).await?);
        }
        self.meta.as_mut().ok_or_else(|| Error::Decode {
            position: String::new(),
            reason: "no metadata connection".into(),
        })
    }

    fn decode_err(&self, pos: u64, reason: &str) -> Error {
        Error::Decode {
            position: self.pos(pos).to_string(),
            reason: reason.to_string(),
        }
    }

    async fn schema_for(&mut self, table_id: u64) -> Result<Option<Arc<TableSchema>>> {
        let tme = self
            .stream
            .get_tme(table_id)
            .ok_or_else(|| Error::Decode {
                position: self.file.clone(),
                reason: format!("rows event for unknown table id {table_id}"),
            })?
            .clone();
        if let Some(c) = self.tables.get(&table_id) {
            if c.tme == tme {
                return Ok(c.schema.clone());
            }
        }
        let (db, table) = (
            tme.database_name().into_owned(),
            tme.table_name().into_owned(),
        );
        let schema = if self.filter.includes(&db, &table) {
            let mut built = match table_schema_from_tme(&tme, None) {
                Ok(s) => s,
                Err(_) => {
                    let fb = self.information_schema(&db, &table).await?;
                    table_schema_from_tme(&tme, fb.as_deref()).map_err(|reason| Error::Decode {
                        position: self.file.clone(),
                        reason,
                    })?
                }
            };
            if self.config.key_schemas || self.config.value_schemas {
                self.apply_defaults(&mut built).await?;
            }
            Some(Arc::new(built))
        } else {
            None
        };
        self.tables.insert(
            table_id,
            CachedTable {
                tme,
                schema: schema.clone(),
            },
        );
        Ok(schema)
    }

    /// Fills in column DEFAULTs, which only the schema part of an event shows.
    async fn apply_defaults(&mut self, t: &mut TableSchema) -> Result<()> {
        if self.defaults.is_none() {
            let server = self.server.clone();
            let conn = self.meta_conn().await?;
            self.defaults = Some(load_defaults(conn, &server).await?);
        }
        let key = (t.db.clone(), t.table.clone());
        if let Some(list) = self.defaults.as_ref().and_then(|d| d.get(&key)) {
            for c in &mut t.columns {
                if let Some((_, d)) = list.iter().find(|(n, _)| *n == c.name) {
                    c.default = Some(d.clone());
                }
            }
        }
        Ok(())
    }

    async fn decode_rows(
        &mut self,
        rows: &RowsEventData<'static>,
        start: u64,
        ts_sec: u32,
        server_id: u32,
    ) -> Result<Vec<RowChange>> {
        let table_id = rows.table_id();
        let Some(schema) = self.schema_for(table_id).await? else {
            return Ok(Vec::new());
        };
        if let Some(at) = self.annotate_at.take() {
            self.rows_query = self.annotate_query(at).await?;
        }
        let op = match rows {
            RowsEventData::WriteRowsEvent(_) | RowsEventData::WriteRowsEventV1(_) => Op::Create,
            RowsEventData::DeleteRowsEvent(_) | RowsEventData::DeleteRowsEventV1(_) => Op::Delete,
            _ => Op::Update,
        };
        let position = self.pos(start);
        let tme = self
            .stream
            .get_tme(table_id)
            .ok_or_else(|| self.decode_err(start, "table map vanished"))?;
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            let mut out = Vec::new();
            for (i, row) in rows.rows(tme).enumerate() {
                let (before, after) = row.map_err(|e| e.to_string())?;
                let before = before.map(|r| cells(r, &schema)).transpose()?;
                let after = after.map(|r| cells(r, &schema)).transpose()?;
                out.push(RowChange {
                    table: Arc::clone(&schema),
                    op,
                    before,
                    after,
                    source: SourceInfo {
                        position: position.clone(),
                        row: i as u32,
                        ts_sec,
                        server_id,
                        gtid: self.gtid.clone(),
                        thread: self.thread,
                        snapshot: None,
                        query: self.rows_query.clone(),
                    },
                });
            }
            Ok::<_, String>(out)
        }))
        .map_err(|_| "decoder panicked on a malformed rows event".to_string())
        .and_then(|r| r);
        match decoded {
            Ok(changes) => Ok(changes),
            Err(reason) if self.config.failure_mode != FailureMode::Fail => {
                // The user chose to go on: the event is named (never its
                // values) and passed over as an empty rows event.
                tracing::warn!(position = %self.pos(start), table = %format!("{}.{}", schema.db, schema.table), reason = %reason, "rows event skipped (event.processing.failure.handling.mode)");
                Ok(Vec::new())
            }
            Err(reason) => Err(self.decode_err(
                start,
                &format!("table {}.{}: {reason}; set event.processing.failure.handling.mode=warn to skip such events", schema.db, schema.table),
            )),
        }
    }

    async fn information_schema(
        &mut self,
        db: &str,
        table: &str,
    ) -> Result<Option<Arc<TableSchema>>> {
        let key = (db.to_string(), table.to_string());
        if let Some(s) = self.fallback.get(&key) {
            return Ok(s.clone());
        }
        let server = self.server.clone();
        let conn = self.meta_conn().await?;
        let schema = load_table(conn, &server, db, table)
            .await?
            .map(|t| t.schema);
        self.fallback.insert(key, schema.clone());
        Ok(schema)
    }
}

fn cells(
    row: mysql_common::binlog::row::BinlogRow,
    schema: &TableSchema,
) -> std::result::Result<Vec<Cell>, String> {
    if row.len() != schema.columns.len() {
        return Err(format!(
            "row image has {} of {} columns; set binlog_row_image=FULL",
            row.len(),
            schema.columns.len()
        ));
    }
    row.unwrap()
        .into_iter()
        .zip(&schema.columns)
        .map(|(v, c)| cell_from_binlog(v, &c.ty))
        .collect()
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

impl Source for BinlogSource {
    async fn next(&mut self) -> Result<Option<SourceEvent>> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Ok(Some(e));
            }
            let remaining = self.deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Ok(None);
            }
            let ev = match tokio::time::timeout(remaining, self.stream.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => {
                    self.reached_end = true;
                    return Ok(None);
                }
                Ok(Some(Err(source))) => {
                    if let mysql_async::Error::Server(e) = &source {
                        if e.code == 1236 {
                            return Err(Error::PositionPurged {
                                server: self.server.clone(),
                                position: format!("{} ({})", self.file, e.message),
                            });
                        }
                    }
                    return Err(qerr(&self.server, "reading the binlog")(source));
                }
                Ok(Some(Ok(ev))) => ev,
            };
            if ev.header().event_type_raw() == EventType::HEARTBEAT_EVENT as u8 {
                continue;
            }
            self.handle(ev).await?;
        }
    }

    fn reached_end(&self) -> bool {
        self.reached_end
    }

    async fn close(self) {
        BinlogSource::close(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_formatting() {
        let b = [
            0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42,
            0x95, 0x62,
        ];
        assert_eq!(format_uuid(&b), "3e11fa47-71ca-11e1-9e33-c80aa9429562");
    }
}
