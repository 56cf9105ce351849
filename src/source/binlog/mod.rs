//! Reading the binlog with `COM_BINLOG_DUMP` / `COM_BINLOG_DUMP_GTID`.
//!
//! The dump is requested with `BINLOG_DUMP_NON_BLOCK`, so the server sends
//! an EOF packet when it reaches the current end of the log instead of
//! waiting for new events: one poll drains what is there and stops.
//!
//! This module is the I/O half: the dump connection, the deadline, and the
//! work that needs the server (table shapes from the table map, with
//! `information_schema` as fallback and for column DEFAULTs; DDL's table
//! changes; MariaDB's ANNOTATE_ROWS text). Where transactions begin and end,
//! and what each event means for the resume position, is decided by the pure
//! state machine in [`machine`]; [`BinlogSource`] feeds it every event and
//! carries out the [`Step`]s it returns, in order.
//!
//! `mysql_common` panics on some malformed packets; decoding rows runs under
//! `catch_unwind` and becomes [`Error::Decode`] naming the position, instead
//! of a crashed Lambda.

mod compressed;
mod event_types;
mod machine;
mod rows;

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, Conn};
use mysql_common::binlog::events::{RowsEventData, TableMapEvent};
use mysql_common::packets::Sid;

use self::machine::{Machine, Origin, RowNumbers, Step};
use self::rows::RowLayout;
use super::ddl::{
    debezium_filters, declared_table, joined_tables, parse_ddl, ChangeKind, Ddl, SchemaEvent,
};
use super::decode::{cell_from_binlog, table_schema_from_tme, time2_workaround};
use super::schema::{load_defaults, load_table, CatalogColumn, TableDefaults};
use super::server::{connect, qerr, Flavor};
use super::table_json::{declared_table_json, read_table_json};
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

#[derive(Debug)]
struct CachedTable {
    tme: TableMapEvent<'static>,
    /// The table map rows are decoded with when it differs from `tme`
    /// ([`time2_workaround`]).
    decode_tme: Option<TableMapEvent<'static>>,
    schema: Option<Arc<TableSchema>>,
    /// How to read the rows of the table map rows are decoded with.
    layout: Option<RowLayout>,
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
    /// Transaction boundaries and positions.
    machine: Machine,
    /// The `row` coordinates of rows events that share a position.
    row_numbers: RowNumbers,
    /// The file and `row` of the last row change decoded: Debezium's
    /// offset carries it into the DDL events after it.
    last_row: Option<(Arc<str>, u32)>,
    /// Tables this poll published in schema change events, `(db, table)`:
    /// a renamed table keeps its columns (Debezium's model of it).
    known: HashMap<(String, String), serde_json::Value>,
    /// Column facts of tables created in this poll's part of the binlog, as
    /// their `CREATE TABLE` declares them (until an `ALTER` or `DROP`):
    /// preferred to the catalog, which may no longer have the table.
    declared: TableDefaults,
    /// The statement behind the following rows events (`include.query`).
    rows_query: Option<Arc<str>>,
    /// Where an ANNOTATE_ROWS event the server did not send starts.
    annotate_at: Option<u64>,
    tables: HashMap<u64, CachedTable>,
    fallback: HashMap<(String, String), Option<Arc<TableSchema>>>,
    /// Column DEFAULTs for the schema part of events (loaded once, again after DDL).
    defaults: Option<TableDefaults>,
    pending: VecDeque<SourceEvent>,
    reached_end: bool,
}

impl std::fmt::Debug for BinlogSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinlogSource")
            .field("server", &self.server)
            .field("file", &self.machine.file())
            .finish_non_exhaustive()
    }
}

/// The replica id a dump announces. On MySQL, `database.server.id`: a new
/// dump replaces an older one with the same id, so a stale dump of a frozen
/// poller is ended by the next poll. On MariaDB, 0, the anonymous reader id
/// `mysqlbinlog` uses: MariaDB only flags the older dump of a same-id
/// replica, which stays blocked in a socket write (a frozen poller never
/// reads) until `net_write_timeout`, and the new dump reads nothing until
/// then (issue 13, finding 8). A dump with id 0 is never matched against
/// other dumps, so it neither waits for a stale one nor disturbs a real
/// replica, whose id cannot be 0.
fn dump_server_id(config: &Config, flavor: Flavor) -> u32 {
    match flavor {
        Flavor::MySql => config.server_id,
        Flavor::MariaDb => 0,
    }
}

/// Whether a `CREATE TABLE` says `IF NOT EXISTS`.
fn if_not_exists(statement: &str) -> bool {
    let words: Vec<String> = statement
        .split_whitespace()
        .take(8)
        .map(str::to_ascii_uppercase)
        .collect();
    words.windows(3).any(|w| w == ["IF", "NOT", "EXISTS"])
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
                (Arc::from(""), Some(sids))
            }
        };
        let mut req = BinlogStreamRequest::new(dump_server_id(config, flavor)).with_non_blocking();
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
            machine: Machine::new(flavor, config.include_query, file, resume),
            row_numbers: RowNumbers::default(),
            last_row: None,
            known: HashMap::new(),
            declared: TableDefaults::new(),
            rows_query: None,
            annotate_at: None,
            tables: HashMap::new(),
            fallback: HashMap::new(),
            defaults: None,
            pending: VecDeque::new(),
            reached_end: false,
        })
    }

    /// Closes the dump connection.
    pub async fn close(self) {
        let _ = self.stream.close().await;
        if let Some(m) = self.meta {
            let _ = m.disconnect().await;
        }
    }

    /// Carries out the machine's steps for one event, in order.
    async fn run(&mut self, steps: Vec<Step>) -> Result<()> {
        for step in steps {
            match step {
                Step::Emit(e) => self.pending.push_back(e),
                Step::Rows { event, origin } => {
                    let at = origin.at.clone();
                    let mut changes = self.decode_rows(&event, origin).await?;
                    let first = self.row_numbers.first(&at, changes.len());
                    for (i, c) in changes.iter_mut().enumerate() {
                        c.source.row = first.saturating_add(i as u32);
                    }
                    if let Some(c) = changes.last() {
                        self.last_row = Some((c.source.position.file.clone(), c.source.row));
                    }
                    self.pending.push_back(SourceEvent::Rows(changes));
                }
                Step::SkipRows { event, origin } => {
                    // Counted as the decode above would have numbered it,
                    // so the rows after it keep their published numbers.
                    let rows = self.count_rows(&event).await?;
                    self.row_numbers.first(&origin.at, rows);
                    self.pending.push_back(SourceEvent::Rows(Vec::new()));
                }
                Step::Statement {
                    sql,
                    default_db,
                    origin,
                } => Box::pin(self.ddl(&sql, &default_db, origin)).await?,
                Step::RowsQuery(q) => self.rows_query = q,
                Step::AnnotateGap(at) => self.annotate_at = Some(at),
            }
        }
        Ok(())
    }

    /// Handles a statement that may be DDL: forgets cached
    /// `information_schema` shapes of the tables it touches, queues its
    /// schema change events as Debezium's MySQL connector publishes them
    /// (tables as `information_schema` has them now) and the `t` event of a
    /// TRUNCATE of a captured table.
    ///
    /// Which events, as Debezium with its schema history settings: with
    /// `store.only.captured.tables.ddl=false` (its default) DDL of every
    /// database and table; with it true only a statement touching a captured
    /// table or database, and of that only the events of captured tables
    /// (and of captured or unnamed databases); with
    /// `store.only.captured.databases.ddl=true` not those of databases
    /// outside the filters.
    async fn ddl(&mut self, sql: &str, default_db: &str, origin: Origin) -> Result<()> {
        let filtered = debezium_filters(sql);
        let ddl = match parse_ddl(sql, default_db) {
            Some(ddl) => ddl,
            None if filtered => return Ok(()),
            // Neither about tables nor left out by Debezium (events,
            // FLUSH, tablespaces, plugins…): its parser changes no table
            // and the statement is published as it came.
            None => Ddl {
                database: default_db.to_string(),
                targets: Vec::new(),
                truncate: false,
                events: vec![SchemaEvent {
                    db: default_db.to_string(),
                    table: None,
                    kind: ChangeKind::Statement,
                    statement: sql.trim().to_string(),
                    renamed_from: None,
                }],
            },
        };
        for t in &ddl.targets {
            self.fallback.remove(&(t.db.clone(), t.table.clone()));
        }
        self.defaults = None;
        for e in &ddl.events {
            let Some(table) = &e.table else { continue };
            let key = (e.db.clone(), table.clone());
            match (e.kind, &e.renamed_from) {
                // `CREATE TABLE IF NOT EXISTS` may have changed nothing: the
                // catalog knows better than its declaration then.
                (ChangeKind::Create, _) if if_not_exists(&e.statement) => {
                    self.declared.remove(&key);
                }
                (ChangeKind::Create, _) => match declared_table(&e.statement) {
                    Some(d) => {
                        self.declared.insert(key, CatalogColumn::declared(&d));
                    }
                    None => {
                        self.declared.remove(&key);
                    }
                },
                (ChangeKind::Alter, Some(old)) => {
                    if let Some(facts) = self.declared.remove(old) {
                        self.declared.insert(key, facts);
                    }
                }
                _ => {
                    self.declared.remove(&key);
                }
            }
        }
        let source = SourceInfo {
            position: origin.at,
            row: 0,
            ts_sec: origin.ts_sec,
            server_id: origin.server_id,
            gtid: origin.gtid,
            thread: origin.thread,
            snapshot: None,
            query: None,
        };
        let position = source.position.clone();
        // Debezium's `DdlChanges.anyMatch`: a statement its parser took no
        // change from matches nothing.
        let captured_table = |f: &TableFilter, e: &SchemaEvent| match (&e.table, e.kind) {
            (_, ChangeKind::Statement) => false,
            (Some(t), _) => f.includes(&e.db, t),
            (None, _) => f.includes_database(&e.db),
        };
        let only_tables = self.config.store_only_captured_tables_ddl;
        let only_databases = self.config.store_only_captured_databases_ddl;
        let mut published = 0usize;
        if self.config.include_schema_changes
            && !filtered
            && (!only_tables || ddl.events.iter().any(|e| captured_table(&self.filter, e)))
        {
            // Debezium's offset keeps the row number of the last rows event
            // it published until the next file: a DDL event carries it.
            let row = match &self.last_row {
                Some((file, row)) if *file == source.position.file => *row,
                _ => 0,
            };
            // Events are grouped by database, in statement order; each one's
            // `source.table` names the tables of its group.
            let mut i = 0;
            while i < ddl.events.len() {
                let db = ddl.events[i].db.clone();
                let n = ddl.events[i..].iter().take_while(|e| e.db == db).count();
                let group = &ddl.events[i..i + n];
                i += n;
                if only_tables && !(db.is_empty() || self.filter.includes_database(&db)) {
                    continue;
                }
                if only_databases && !db.is_empty() && !self.filter.includes_database(&db) {
                    continue;
                }
                let names: Vec<&str> = group.iter().filter_map(|e| e.table.as_deref()).collect();
                let joined = joined_tables(&db, &names);
                for e in group {
                    if only_tables
                        && e.table
                            .as_ref()
                            .is_some_and(|t| !self.filter.includes(&e.db, t))
                    {
                        continue;
                    }
                    let mut changes = Vec::new();
                    if let Some(t) = &e.table {
                        let key = (e.db.clone(), t.clone());
                        let (kind, table) = match e.kind {
                            ChangeKind::Create | ChangeKind::Alter => {
                                let kind = if e.kind == ChangeKind::Create {
                                    "CREATE"
                                } else {
                                    "ALTER"
                                };
                                let table = self.table_of(e).await?;
                                if let Some(json) = &table {
                                    self.known.insert(key, json.clone());
                                }
                                (kind, table)
                            }
                            ChangeKind::Drop | ChangeKind::Database | ChangeKind::Statement => {
                                self.known.remove(&key);
                                ("DROP", None)
                            }
                        };
                        changes.push(serde_json::json!({
                            "type": kind,
                            "id": format!("\"{}\".\"{}\"", e.db, t),
                            "table": table,
                        }));
                    }
                    let mut source = source.clone();
                    source.thread = None;
                    source.row = row;
                    let event = DdlEvent {
                        schema_change: Some(SchemaChange {
                            database: db.clone(),
                            ddl: e.statement.clone(),
                            table_changes: changes,
                            table: joined.clone(),
                            source,
                        }),
                        truncate: None,
                    };
                    self.pending.push_back(SourceEvent::Ddl(Box::new(event)));
                    published += 1;
                }
            }
        }
        if ddl.truncate && !self.config.skipped_operations.truncate {
            let captured = ddl
                .targets
                .iter()
                .find(|t| self.filter.includes(&t.db, &t.table))
                .cloned();
            if let Some(t) = captured {
                if let Some(schema) = self.information_schema(&t.db, &t.table).await? {
                    let event = DdlEvent {
                        schema_change: None,
                        truncate: Some(RowChange {
                            table: schema,
                            op: Op::Truncate,
                            before: None,
                            after: None,
                            source,
                        }),
                    };
                    self.pending.push_back(SourceEvent::Ddl(Box::new(event)));
                }
            }
        }
        if published > 0 {
            tracing::info!(database = %ddl.database, events = published, position = %position, "schema change");
        }
        Ok(())
    }

    /// The table of a CREATE or ALTER event, as Debezium's model has it:
    /// a created table as its statement declares it, a renamed one as this
    /// poll last published it under its old name, else as
    /// `information_schema` has it now (`None` once it is gone).
    async fn table_of(&mut self, e: &SchemaEvent) -> Result<Option<serde_json::Value>> {
        let Some(t) = &e.table else { return Ok(None) };
        let server = self.server.clone();
        let comments = self.config.include_schema_comments;
        if e.kind == ChangeKind::Create {
            if let Some(declared) = declared_table(&e.statement) {
                let conn = self.meta_conn().await?;
                return Ok(Some(
                    declared_table_json(conn, &server, &e.db, declared, comments).await?,
                ));
            }
        }
        if let Some(old) = &e.renamed_from {
            if let Some(json) = self.known.remove(old) {
                return Ok(Some(json));
            }
        }
        let conn = self.meta_conn().await?;
        read_table_json(conn, &server, &e.db, t, comments).await
    }

    /// The statement of the MariaDB ANNOTATE_ROWS event at `at` in `file`
    /// (`SHOW BINLOG EVENTS`, which needs BINLOG MONITOR).
    async fn annotate_query(&mut self, file: &str, at: u64) -> Result<Option<Arc<str>>> {
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

    async fn schema_for(&mut self, table_id: u64) -> Result<Option<Arc<TableSchema>>> {
        let Some(current) = self.stream.get_tme(table_id) else {
            return Err(Error::Decode {
                position: self.machine.file().to_string(),
                reason: format!("rows event for unknown table id {table_id}"),
            });
        };
        // Compared in place: the table map is cloned only when the table's
        // shape is new (once per table, not once per rows event).
        if let Some(c) = self.tables.get(&table_id) {
            if c.tme == *current {
                return Ok(c.schema.clone());
            }
        }
        let tme = current.clone();
        let (db, table) = (
            tme.database_name().into_owned(),
            tme.table_name().into_owned(),
        );
        let schema = if self.filter.includes(&db, &table) {
            let mut built = match table_schema_from_tme(&tme, None) {
                Ok(s) => s,
                Err(_) => {
                    let fb = Box::pin(self.information_schema(&db, &table)).await?;
                    table_schema_from_tme(&tme, fb.as_deref()).map_err(|reason| Error::Decode {
                        position: self.machine.file().to_string(),
                        reason,
                    })?
                }
            };
            // Defaults appear in schemas and replace nulls (the converter's
            // `replace.null.with.default`); FLOAT(M,D) is typed from the catalog.
            Box::pin(self.apply_defaults(&mut built)).await?;
            Some(Arc::new(built))
        } else {
            None
        };
        let decode_tme = match &schema {
            Some(_) => time2_workaround(&tme).map_err(|reason| Error::Decode {
                position: self.machine.file().to_string(),
                reason,
            })?,
            None => None,
        };
        let layout = schema
            .as_ref()
            .and_then(|_| RowLayout::of(decode_tme.as_ref().unwrap_or(&tme)));
        self.tables.insert(
            table_id,
            CachedTable {
                decode_tme,
                tme,
                schema: schema.clone(),
                layout,
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
        let declared = self.declared.get(&key);
        if let Some(list) = declared.or_else(|| self.defaults.as_ref().and_then(|d| d.get(&key))) {
            for c in &mut t.columns {
                if let Some((_, d)) = list.iter().find(|(n, _)| *n == c.name) {
                    c.default = d.default.clone();
                    if d.float_as_double && c.ty == crate::model::ColumnType::Float {
                        c.ty = crate::model::ColumnType::Double;
                        c.source.name = "DOUBLE".into();
                    }
                }
            }
        }
        Ok(())
    }

    async fn decode_rows(
        &mut self,
        rows: &RowsEventData<'static>,
        origin: Origin,
    ) -> Result<Vec<RowChange>> {
        let table_id = rows.table_id();
        let Some(schema) = self.schema_for(table_id).await? else {
            return Ok(Vec::new());
        };
        if let Some(at) = self.annotate_at.take() {
            self.rows_query = self.annotate_query(&origin.at.file, at).await?;
        }
        let op = match rows {
            RowsEventData::WriteRowsEvent(_) | RowsEventData::WriteRowsEventV1(_) => Op::Create,
            RowsEventData::DeleteRowsEvent(_) | RowsEventData::DeleteRowsEventV1(_) => Op::Delete,
            _ => Op::Update,
        };
        let Origin {
            at: position,
            ts_sec,
            server_id,
            gtid,
            thread,
        } = origin;
        let cached = self.tables.get(&table_id);
        let tme = match cached.and_then(|c| c.decode_tme.as_ref()) {
            Some(patched) => patched,
            None => self
                .stream
                .get_tme(table_id)
                .ok_or_else(|| decode_err(&position, "table map vanished"))?,
        };
        let layout = cached
            .and_then(|c| c.layout.as_ref())
            .filter(|_| RowLayout::handles(rows));
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            let mut out = Vec::new();
            let mut push = |i: usize, before, after| {
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
                        gtid: gtid.clone(),
                        thread,
                        snapshot: None,
                        query: self.rows_query.clone(),
                    },
                });
            };
            match layout {
                Some(layout) => layout.decode(rows, &schema, &mut push)?,
                None => {
                    for (i, row) in rows.rows(tme).enumerate() {
                        let (before, after) = row.map_err(|e| e.to_string())?;
                        let before = before.map(|r| cells(r, &schema)).transpose()?;
                        let after = after.map(|r| cells(r, &schema)).transpose()?;
                        push(i, before, after);
                    }
                }
            }
            // Debug builds (the tests) read every rows event both ways: the
            // integration tests' tables of every type hold the layout
            // decoder to the row iterator.
            #[cfg(debug_assertions)]
            if layout.is_some() {
                rows::check_against_row_iterator(rows, tme, &schema, &out);
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
                tracing::warn!(position = %position, table = %format!("{}.{}", schema.db, schema.table), reason = %reason, "rows event skipped (event.processing.failure.handling.mode)");
                Ok(Vec::new())
            }
            Err(reason) => Err(decode_err(
                &position,
                &format!("table {}.{}: {reason}; set event.processing.failure.handling.mode=warn to skip such events", schema.db, schema.table),
            )),
        }
    }

    /// How many row changes decoding `rows` would give: 0 for a table that
    /// is not captured or a rows event that does not decode (as
    /// `decode_rows` gives then).
    async fn count_rows(&mut self, rows: &RowsEventData<'static>) -> Result<usize> {
        let table_id = rows.table_id();
        if self.schema_for(table_id).await?.is_none() {
            return Ok(0);
        }
        let patched = self
            .tables
            .get(&table_id)
            .and_then(|c| c.decode_tme.as_ref());
        let Some(tme) = patched.or_else(|| self.stream.get_tme(table_id)) else {
            return Ok(0);
        };
        let counted = catch_unwind(AssertUnwindSafe(|| {
            rows.rows(tme).try_fold(0usize, |n, r| r.map(|_| n + 1))
        }));
        Ok(match counted {
            Ok(Ok(n)) => n,
            _ => 0,
        })
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

fn decode_err(position: &BinlogPosition, reason: &str) -> Error {
    Error::Decode {
        position: position.to_string(),
        reason: reason.to_string(),
    }
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
                                position: format!("{} ({})", self.machine.file(), e.message),
                            });
                        }
                    }
                    return Err(qerr(&self.server, "reading the binlog")(source));
                }
                Ok(Some(Ok(ev))) => ev,
            };
            let steps = self.machine.feed(&ev)?;
            self.run(steps).await?;
        }
    }

    fn reached_end(&self) -> bool {
        self.reached_end
    }

    async fn close(self) {
        BinlogSource::close(self).await
    }
}
