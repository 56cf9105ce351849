//! Positions in the binlog, as types.
//!
//! * [`BinlogPosition`]: a binlog file name and a byte offset in it, printed as
//!   `mysql-bin.000003:1543`. This is what `COM_BINLOG_DUMP` takes and what
//!   every event header carries (`log_pos` is the offset *after* the event).
//! * [`GtidSet`]: MySQL's executed GTID set, `uuid:1-5:7,uuid2:1-3`, with the
//!   interval arithmetic needed to add one committed transaction at a time.
//!   `COM_BINLOG_DUMP_GTID` takes it and streams every transaction not in it,
//!   which survives a failover to a replica with different file names.
//! * [`Checkpoint`]: what a poll stores after Kafka acknowledged: where the
//!   next transaction starts, the GTID set, and, for a transaction that was
//!   only partly published, how far into it we got (see [`TxProgress`]).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A parse failure of a position type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}: {reason}")]
pub struct ParsePositionError {
    what: &'static str,
    input: String,
    reason: &'static str,
}

fn perr(what: &'static str, input: &str, reason: &'static str) -> ParsePositionError {
    ParsePositionError {
        what,
        input: input.chars().take(200).collect(),
        reason,
    }
}

/// A binlog file and byte offset.
///
/// Ordered as the server writes them: by the file's numeric suffix (which
/// grows past six digits, so string order would be wrong), then offset.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BinlogPosition {
    /// Binlog file name, e.g. `mysql-bin.000003`. Shared: every row change
    /// carries its position, and a clone must not copy the name.
    #[serde(serialize_with = "ser_arc_str", deserialize_with = "de_arc_str")]
    pub file: Arc<str>,
    /// Byte offset within the file. 4 is the first event after the magic header.
    pub pos: u64,
}

fn ser_arc_str<S: serde::Serializer>(s: &Arc<str>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s)
}

fn de_arc_str<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Arc<str>, D::Error> {
    String::deserialize(de).map(Arc::from)
}

impl BinlogPosition {
    /// A position at `pos` in `file`.
    pub fn new(file: impl Into<Arc<str>>, pos: u64) -> Self {
        Self {
            file: file.into(),
            pos,
        }
    }

    /// The sequence number in the file name suffix (`mysql-bin.000003` → 3),
    /// used to compare positions across files.
    pub fn file_index(&self) -> Option<u64> {
        self.file.rsplit('.').next()?.parse().ok()
    }
}

impl Ord for BinlogPosition {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.file_index(), &self.file, self.pos).cmp(&(other.file_index(), &other.file, other.pos))
    }
}

impl PartialOrd for BinlogPosition {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for BinlogPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.pos)
    }
}

impl FromStr for BinlogPosition {
    type Err = ParsePositionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (file, pos) = s
            .rsplit_once(':')
            .ok_or_else(|| perr("binlog position", s, "expected FILE:POS"))?;
        if file.is_empty() {
            return Err(perr("binlog position", s, "empty file name"));
        }
        let pos = pos
            .parse()
            .map_err(|_| perr("binlog position", s, "position is not a number"))?;
        Ok(Self::new(file, pos))
    }
}

/// MySQL's GTID set: per source id (a server UUID, optionally with a tag as
/// `uuid:tag` on MySQL 8.4+), a sorted list of disjoint inclusive intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GtidSet {
    sids: BTreeMap<String, Vec<(u64, u64)>>,
}

impl GtidSet {
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.sids.is_empty()
    }

    /// Adds one transaction `sid:gno`, merging adjacent intervals.
    pub fn add(&mut self, sid: &str, gno: u64) {
        let ivs = self.sids.entry(sid.to_ascii_lowercase()).or_default();
        add_interval(ivs, gno, gno);
    }

    /// Whether `sid:gno` is in the set.
    pub fn contains(&self, sid: &str, gno: u64) -> bool {
        self.sids
            .get(&sid.to_ascii_lowercase())
            .is_some_and(|ivs| ivs.iter().any(|&(a, b)| a <= gno && gno <= b))
    }

    /// Whether every transaction of `other` is in `self`.
    pub fn contains_set(&self, other: &GtidSet) -> bool {
        other.sids.iter().all(|(sid, ivs)| {
            ivs.iter().all(|&(a, b)| {
                self.sids
                    .get(sid)
                    .is_some_and(|mine| mine.iter().any(|&(x, y)| x <= a && b <= y))
            })
        })
    }

    /// The set as `(sid, intervals)` pairs, intervals inclusive.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[(u64, u64)])> {
        self.sids.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

fn add_interval(ivs: &mut Vec<(u64, u64)>, a: u64, b: u64) {
    let idx = ivs.partition_point(|&(_, end)| end.saturating_add(1) < a);
    let mut start = a;
    let mut end = b;
    let mut j = idx;
    while j < ivs.len() && ivs[j].0 <= end.saturating_add(1) {
        start = start.min(ivs[j].0);
        end = end.max(ivs[j].1);
        j += 1;
    }
    ivs.splice(idx..j, [(start, end)]);
}

impl fmt::Display for GtidSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (sid, ivs)) in self.sids.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(sid)?;
            for &(a, b) in ivs {
                if a == b {
                    write!(f, ":{a}")?;
                } else {
                    write!(f, ":{a}-{b}")?;
                }
            }
        }
        Ok(())
    }
}

impl FromStr for GtidSet {
    type Err = ParsePositionError;

    /// Parses `@@gtid_executed` output: comma-separated, whitespace and
    /// newlines allowed, `uuid[:tag]:a-b:c`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = GtidSet::default();
        for part in s.split(',') {
            let part: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            if part.is_empty() {
                continue;
            }
            let mut pieces = part.split(':');
            let uuid = pieces.next().unwrap_or_default();
            if uuid.len() != 36 || uuid.chars().filter(|&c| c == '-').count() != 4 {
                return Err(perr("GTID set", s, "source id is not a UUID"));
            }
            let mut sid = uuid.to_ascii_lowercase();
            let mut any = false;
            for piece in pieces {
                if piece.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                    // A tag (MySQL 8.4+) applies to the intervals after it.
                    sid = format!(
                        "{}:{}",
                        uuid.to_ascii_lowercase(),
                        piece.to_ascii_lowercase()
                    );
                    continue;
                }
                let (a, b) = match piece.split_once('-') {
                    Some((a, b)) => (a, b),
                    None => (piece, piece),
                };
                let a: u64 = a
                    .parse()
                    .map_err(|_| perr("GTID set", s, "interval start is not a number"))?;
                let b: u64 = b
                    .parse()
                    .map_err(|_| perr("GTID set", s, "interval end is not a number"))?;
                if a == 0 || b < a {
                    return Err(perr("GTID set", s, "interval is empty or starts at 0"));
                }
                add_interval(set.sids.entry(sid.clone()).or_default(), a, b);
                any = true;
            }
            if !any {
                return Err(perr("GTID set", s, "source id without intervals"));
            }
        }
        Ok(set)
    }
}

impl Serialize for GtidSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GtidSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How far into a partly published transaction a poll got.
///
/// Row images are counted, not stored: a resumed poll re-reads the
/// transaction from `start` (the table map events precede the rows, so a
/// dump cannot start in the middle) and skips the first `rows_events` rows
/// events and then `rows` row images of the next one. Counting rows events
/// rather than row images means rows of excluded tables are skipped without
/// being decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxProgress {
    /// Position of the transaction's first event (its GTID or BEGIN).
    pub start: BinlogPosition,
    /// The transaction's GTID, when the server assigns them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtid: Option<String>,
    /// Rows events of the transaction already fully handled.
    pub rows_events: u64,
    /// Row images of the following rows event already handled.
    pub rows: u64,
    /// Transaction metadata counters so far (`provide.transaction.metadata`),
    /// so `total_order` continues where the previous poll stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_meta: Option<TxCounter>,
}

impl TxProgress {
    /// Whether the transaction beginning at `start` (with `gtid`) is this
    /// one: the same start, or the same GTID (a GTID dump may place it
    /// elsewhere). The one rule the source (which passes over the rows
    /// events already published) and the streamer (which counts them) share.
    pub fn is_transaction(&self, start: &BinlogPosition, gtid: Option<&str>) -> bool {
        self.start == *start || (self.gtid.is_some() && self.gtid.as_deref() == gtid)
    }
}

/// A value of a key column, as stored in a snapshot cursor.
///
/// Kept typed so the next chunk's `WHERE (k1, k2) > (?, ?)` binds it as the
/// server expects, and so integer keys can be compared with binlog rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyValue {
    /// Signed integer.
    Int(i64),
    /// Unsigned integer.
    UInt(u64),
    /// Anything else, as the server's text form (strings, decimals, dates).
    Text(String),
    /// Binary strings, base64.
    Bytes(String),
}

/// One table of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotTable {
    /// Database.
    pub db: String,
    /// Table.
    pub table: String,
    /// Whether stream events above the cursor are held back: true when the
    /// consumer has never seen this table (initial snapshot, table newly
    /// included), so that no key's first event is an update of a row it
    /// never saw. False for a re-snapshot of a table that streams already,
    /// where holding back a delete would lose it.
    pub suppress: bool,
    /// Key columns the chunks are ordered by (primary key, else a unique
    /// key of NOT NULL columns; empty: the table is read in one chunk).
    #[serde(default)]
    pub key_columns: Vec<String>,
    /// The key of the last row emitted; `None` before the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<Vec<KeyValue>>,
    /// Rows emitted so far.
    #[serde(default)]
    pub rows: u64,
    /// `information_schema.TABLES.TABLE_ROWS` when the snapshot began: an
    /// estimate (InnoDB samples), for progress only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_rows: Option<u64>,
    /// When the table's first chunk was read, ms since the epoch (0: not
    /// yet), for the rate across polls.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub started_ms: u64,
}

/// How far a snapshot got, for logs, summaries, `status` and metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotProgress {
    /// The table being read, `db.table`.
    pub table: String,
    /// Its rows read so far.
    pub rows: u64,
    /// Its estimated row count (`information_schema`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_rows: Option<u64>,
    /// Rows a second since its first chunk (polls and the gaps between
    /// them included: the rate the snapshot really advances at).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_per_second: Option<f64>,
    /// Seconds until the snapshot ends at that rate, all tables left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta_seconds: Option<u64>,
    /// Estimated rows still to read, this table and the queued ones.
    pub rows_remaining: u64,
    /// Tables left, this one included.
    pub tables_left: u64,
}

impl SnapshotState {
    /// Progress at `now_ms`; `None` when no table is queued.
    pub fn progress(&self, now_ms: u64) -> Option<SnapshotProgress> {
        let t = self.tables.first()?;
        let remaining: u64 = self
            .tables
            .iter()
            .map(|t| t.estimated_rows.unwrap_or(0).saturating_sub(t.rows))
            .sum();
        let elapsed_ms = now_ms.saturating_sub(t.started_ms);
        let rate = (t.started_ms > 0 && elapsed_ms >= 1000 && t.rows > 0)
            .then(|| t.rows as f64 * 1000.0 / elapsed_ms as f64);
        Some(SnapshotProgress {
            table: format!("{}.{}", t.db, t.table),
            rows: t.rows,
            estimated_rows: t.estimated_rows,
            rows_per_second: rate.map(|r| (r * 10.0).round() / 10.0),
            eta_seconds: rate.map(|r| (remaining as f64 / r).ceil() as u64),
            rows_remaining: remaining,
            tables_left: self.tables.len() as u64,
        })
    }
}

/// Snapshot progress, stored with the checkpoint so that a snapshot
/// survives any number of polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SnapshotState {
    /// Tables still to read, in order; the first one is in progress.
    pub tables: Vec<SnapshotTable>,
    /// Whether this is the connector's initial snapshot (its very last row
    /// carries `source.snapshot = "last"`).
    #[serde(default)]
    pub initial: bool,
    /// Whether a row was emitted yet (the first one carries
    /// `source.snapshot = "first"`).
    #[serde(default)]
    pub started: bool,
}

/// What a poll stores once Kafka acknowledged everything before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Where the next transaction starts (after the last fully handled one).
    pub position: BinlogPosition,
    /// Executed GTID set including every fully handled transaction (MySQL
    /// with `gtid_mode=ON`); resume uses it in preference to `position`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gtid_set: Option<GtidSet>,
    /// A transaction that was published only in part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<TxProgress>,
    /// Binlog timestamp (seconds since the epoch) of the last handled event,
    /// for lag reporting.
    #[serde(default)]
    pub event_ts: u32,
    /// A snapshot in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotState>,
    /// Whether the initial snapshot has completed (`initial_only` stops then).
    #[serde(default)]
    pub initial_snapshot_done: bool,
    /// The table filters in force when this checkpoint was written; a change
    /// queues the newly included tables for a snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<String>,
    /// When the last heartbeat was emitted, ms since the epoch.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub heartbeat_ms: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Checkpoint {
    /// A checkpoint at a transaction boundary.
    pub fn at(position: BinlogPosition, gtid_set: Option<GtidSet>) -> Self {
        Self {
            position,
            gtid_set,
            transaction: None,
            event_ts: 0,
            snapshot: None,
            initial_snapshot_done: false,
            filters: None,
            heartbeat_ms: 0,
        }
    }

    /// Where a dump must start to resume from this checkpoint.
    pub fn resume_position(&self) -> &BinlogPosition {
        self.transaction
            .as_ref()
            .map(|t| &t.start)
            .unwrap_or(&self.position)
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

impl FromStr for Checkpoint {
    type Err = ParsePositionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        serde_json::from_str(s).map_err(|_| perr("checkpoint", s, "not a checkpoint JSON object"))
    }
}

/// Transaction bookkeeping for `provide.transaction.metadata`: the
/// transaction's id and how many data events it produced, in total and
/// per table. Kept in the checkpoint for a partly published transaction so
/// the orders continue where they stopped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TxCounter {
    /// Debezium's transaction id: the GTID, else `<file>_<pos>` of its start.
    pub id: String,
    /// Transaction timestamp, ms since the epoch.
    #[serde(default)]
    pub ts_ms: i64,
    /// Whether BEGIN was emitted (it is emitted before the first data event).
    #[serde(default)]
    pub begun: bool,
    /// Data events so far.
    #[serde(default)]
    pub total: u64,
    /// Data events so far per `db.table`, in order of first appearance.
    #[serde(default)]
    pub per_table: Vec<(String, u64)>,
}

impl TxCounter {
    /// A new transaction.
    pub fn new(id: String, ts_ms: i64) -> Self {
        Self {
            id,
            ts_ms,
            ..Self::default()
        }
    }

    /// Counts one event of `collection`; returns (total_order, data_collection_order).
    pub(crate) fn next(&mut self, collection: &str) -> (u64, u64) {
        self.total += 1;
        let n = match self.per_table.iter_mut().find(|(c, _)| c == collection) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.per_table.push((collection.to_string(), 1));
                1
            }
        };
        (self.total, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const U2: &str = "4f22fb58-82db-22f2-af44-d91bba53a673";

    #[test]
    fn binlog_position_round_trips() {
        let p: BinlogPosition = "mysql-bin.000003:1543".parse().unwrap();
        assert_eq!(p, BinlogPosition::new("mysql-bin.000003", 1543));
        assert_eq!(p.to_string(), "mysql-bin.000003:1543");
        assert_eq!(p.file_index(), Some(3));
        assert!("nofile".parse::<BinlogPosition>().is_err());
        let a: BinlogPosition = "b.999999:900".parse().unwrap();
        let b: BinlogPosition = "b.1000000:4".parse().unwrap();
        assert!(a < b, "numeric file order, not string order");
        assert!(":4".parse::<BinlogPosition>().is_err());
    }

    #[test]
    fn gtid_set_parses_server_output() {
        let s = format!("{U1}:1-5:7,\n{U2}:1-3");
        let set: GtidSet = s.parse().unwrap();
        assert_eq!(set.to_string(), format!("{U1}:1-5:7,{U2}:1-3"));
        assert!(set.contains(U1, 4));
        assert!(!set.contains(U1, 6));
        assert!("".parse::<GtidSet>().unwrap().is_empty());
        assert!("nonsense:1-2".parse::<GtidSet>().is_err());
        assert!(format!("{U1}:0-2").parse::<GtidSet>().is_err());
    }

    #[test]
    fn gtid_set_with_tags() {
        let set: GtidSet = format!("{U1}:1-3:etl:1-2").parse().unwrap();
        assert!(set.contains(U1, 2));
        assert!(set.contains(&format!("{U1}:etl"), 2));
        assert!(!set.contains(&format!("{U1}:etl"), 3));
    }

    #[test]
    fn gtid_add_merges() {
        let mut set: GtidSet = format!("{U1}:1-5:7").parse().unwrap();
        set.add(U1, 6);
        assert_eq!(set.to_string(), format!("{U1}:1-7"));
        set.add(U2, 1);
        assert_eq!(set.to_string(), format!("{U1}:1-7,{U2}:1"));
    }

    #[test]
    fn checkpoint_round_trips_as_json() {
        let cp = Checkpoint {
            position: BinlogPosition::new("b.000001", 400),
            gtid_set: Some(format!("{U1}:1-9").parse().unwrap()),
            transaction: Some(TxProgress {
                tx_meta: None,
                start: BinlogPosition::new("b.000001", 200),
                gtid: Some(format!("{U1}:10")),
                rows_events: 3,
                rows: 17,
            }),
            event_ts: 1_700_000_000,
            snapshot: Some(SnapshotState {
                tables: vec![SnapshotTable {
                    db: "d".into(),
                    table: "t".into(),
                    suppress: true,
                    key_columns: vec!["a".into(), "b".into()],
                    cursor: Some(vec![KeyValue::Int(-3), KeyValue::Text("x".into())]),
                    rows: 10,
                    estimated_rows: Some(1000),
                    started_ms: 1_790_000_000_000,
                }],
                initial: true,
                started: true,
            }),
            initial_snapshot_done: false,
            filters: Some("x".into()),
            heartbeat_ms: 5,
        };
        let back: Checkpoint = cp.to_string().parse().unwrap();
        assert_eq!(back, cp);
        assert_eq!(
            back.resume_position(),
            &BinlogPosition::new("b.000001", 200)
        );
    }

    proptest! {
        #[test]
        fn gtid_add_equals_naive_set(gnos in proptest::collection::vec(1u64..200, 0..100)) {
            let mut set = GtidSet::default();
            for g in &gnos { set.add(U1, *g); }
            for g in 1..200u64 {
                prop_assert_eq!(set.contains(U1, g), gnos.contains(&g));
            }
            let reparsed: GtidSet = set.to_string().parse().unwrap();
            prop_assert_eq!(reparsed, set.clone());
            let ivs: Vec<(u64, u64)> = set.iter().flat_map(|(_, ivs)| ivs.to_vec()).collect();
            for w in ivs.windows(2) { prop_assert!(w[0].1 + 1 < w[1].0); }
        }

        #[test]
        fn gtid_parse_never_panics(s in "\\PC{0,80}") {
            let _ = s.parse::<GtidSet>();
            let _ = s.parse::<BinlogPosition>();
            let _ = s.parse::<Checkpoint>();
        }
    }
}
