//! Whether a start position an operator names (`binlog-poller offsets set`)
//! can begin a dump on this server, and the checkpoint that starts there.
//!
//! * **A GTID set** (MySQL with `gtid_mode=ON`): the dump sends every
//!   transaction not in the set (`COM_BINLOG_DUMP_GTID`), so the set must
//!   include `@@gtid_purged` (else transactions it needs are gone) and be
//!   included in `@@gtid_executed` (else MySQL refuses a replica "ahead" of
//!   it). MariaDB's GTIDs are not used to resume: there a position is given
//!   as `file:pos`.
//! * **`file:pos`**: the file must still be on the server (`SHOW BINARY
//!   LOGS`) and `pos` the start of a transaction. `SHOW BINLOG EVENTS IN
//!   'file' FROM pos LIMIT 1` fails for an offset that is not an event
//!   start, and names the event there: rows events, table maps and XIDs sit
//!   inside a transaction, where a dump cannot start (the rows would arrive
//!   without their table map).

use std::fmt;
use std::str::FromStr;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use super::server::{binary_logs, qerr, Flavor, ServerInfo};
use crate::error::Result;
use crate::model::{BinlogPosition, Checkpoint, GtidSet};

/// Where an operator asks the connector to go on from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartTarget {
    /// After every transaction of this executed set (MySQL).
    Gtid(GtidSet),
    /// At this transaction start.
    Position(BinlogPosition),
}

impl fmt::Display for StartTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartTarget::Gtid(g) => write!(f, "GTID set {g}"),
            StartTarget::Position(p) => write!(f, "{p}"),
        }
    }
}

impl FromStr for StartTarget {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        if let Ok(g) = s.parse::<GtidSet>() {
            if !g.is_empty() {
                return Ok(StartTarget::Gtid(g));
            }
        }
        if s.split('-').count() == 3
            && s.chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == ',')
        {
            return Err(format!(
                "{s:?} is a MariaDB GTID; MariaDB connectors resume by position: give FILE:POS (SHOW BINARY LOGS, SHOW BINLOG EVENTS)"
            ));
        }
        match s.parse::<BinlogPosition>() {
            Ok(p) => Ok(StartTarget::Position(p)),
            Err(_) => Err(format!(
                "{s:?} is neither a MySQL GTID set (uuid:1-100[,uuid:1-7]) nor a binlog position (FILE:POS, e.g. mysql-bin.000003:1234)"
            )),
        }
    }
}

/// Binlog events a dump may begin at: a transaction's first event (its GTID
/// event: MySQL 5.7+ writes one, anonymous without GTIDs, before every
/// transaction, and MariaDB 10+ a GTID event) or the events that open a
/// file. A `Query` is not among them: `BEGIN` comes after the GTID event,
/// and `SAVEPOINT` or `XA END` sit inside a transaction.
const BOUNDARY_EVENTS: &[&str] = &[
    "Gtid",
    "Gtid_tagged",
    "Anonymous_Gtid",
    "Format_desc",
    "Previous_gtids",
    "Gtid_list",
    "Binlog_checkpoint",
    "Rotate",
    "Stop",
];

/// `ER_ERROR_WHEN_EXECUTING_COMMAND`: what `SHOW BINLOG EVENTS` answers
/// for an offset that is not an event start ("Wrong offset or I/O error").
const WRONG_OFFSET: u16 = 1220;

/// The checkpoint that starts at `target`, or why it cannot (the problem
/// and what to give instead).
pub async fn checkpoint_at(
    conn: &mut Conn,
    info: &ServerInfo,
    target: &StartTarget,
) -> Result<std::result::Result<Checkpoint, String>> {
    let server = &info.server;
    let logs = binary_logs(conn, server).await?;
    match target {
        StartTarget::Gtid(set) => {
            if info.flavor == Flavor::MariaDb {
                return Ok(Err(
                    "MariaDB connectors resume by position, not by GTID set: give FILE:POS".into(),
                ));
            }
            let Some(executed) = &info.gtid_executed else {
                return Ok(Err(
                    "the server runs without gtid_mode=ON, so there are no GTIDs to resume from: give FILE:POS".into(),
                ));
            };
            if !executed.contains_set(set) {
                return Ok(Err(format!(
                    "the set names transactions the server never executed (gtid_executed is {executed}); a dump from it would be refused"
                )));
            }
            let purged: String = conn
                .query_first("SELECT @@GLOBAL.gtid_purged")
                .await
                .map_err(qerr(server, "reading gtid_purged"))?
                .unwrap_or_default();
            let purged: GtidSet = purged.parse().map_err(|e| crate::error::Error::Decode {
                position: format!("gtid_purged {purged:?}"),
                reason: format!("not understood: {e}"),
            })?;
            if !set.contains_set(&purged) {
                return Ok(Err(format!(
                    "the server purged transactions the set does not include (gtid_purged is {purged}); start from a set that includes it, or reset the offsets to snapshot again"
                )));
            }
            // A GTID set names no file: the oldest file stands in as the
            // position (for lag, and the position-based fallback) until the
            // first poll writes the real one. It is never ahead of the
            // events the dump will send.
            let Some(oldest) = logs.first() else {
                return Ok(Err("the server lists no binary logs".into()));
            };
            Ok(Ok(Checkpoint::at(
                BinlogPosition::new(oldest.clone(), 4),
                Some(set.clone()),
            )))
        }
        StartTarget::Position(p) => {
            if p.pos < 4 {
                return Ok(Err(format!(
                    "{p}: positions start at 4, after the file's magic number"
                )));
            }
            if !logs.iter().any(|f| **f == *p.file) {
                return Ok(Err(format!(
                    "{} is not on the server (it has {}); it was purged or never existed",
                    p.file,
                    summarize(&logs)
                )));
            }
            // File names go into SQL text: only the characters MySQL's own
            // binlog names use.
            if !p
                .file
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            {
                return Ok(Err(format!("{:?} is not a binlog file name", p.file)));
            }
            let sql = format!("SHOW BINLOG EVENTS IN '{}' FROM {} LIMIT 1", p.file, p.pos);
            let row: Option<Row> = match conn.query_first(&sql).await {
                Ok(r) => r,
                Err(mysql_async::Error::Server(e)) if e.code == WRONG_OFFSET => {
                    return Ok(Err(format!(
                        "{p} is not the start of an event ({}); take a position from SHOW BINLOG EVENTS IN '{}'",
                        e.message, p.file
                    )))
                }
                Err(e) => return Err(qerr(server, "reading the binlog event at the position")(e)),
            };
            // No row: the end of the file, where a dump waits for the next event.
            if let Some(mut row) = row {
                let kind: String = row.take("Event_type").unwrap_or_default();
                if !BOUNDARY_EVENTS.contains(&kind.as_str()) {
                    return Ok(Err(format!(
                        "{p} is a {kind} event, not the start of a transaction; give the position of the transaction's GTID event, from SHOW BINLOG EVENTS IN '{}'",
                        p.file
                    )));
                }
            }
            // With GTIDs the connector resumes by GTID set (which survives a
            // failover to another server): the set at that position goes
            // with it.
            let gtids = match info.gtid_executed {
                Some(_) => Some(gtid_set_at(conn, server, p).await?),
                None => None,
            };
            Ok(Ok(Checkpoint::at(p.clone(), gtids)))
        }
    }
}

/// The executed GTID set at `p`: the file's `Previous_gtids` and every GTID
/// event before `p`, read a page of events at a time.
async fn gtid_set_at(conn: &mut Conn, server: &str, p: &BinlogPosition) -> Result<GtidSet> {
    const PAGE: usize = 1000;
    let mut set = GtidSet::default();
    let mut from = 4u64;
    loop {
        let sql = format!(
            "SHOW BINLOG EVENTS IN '{}' FROM {from} LIMIT {PAGE}",
            p.file
        );
        let rows: Vec<Row> = conn
            .query(sql)
            .await
            .map_err(qerr(server, "reading the GTIDs before the position"))?;
        let n = rows.len();
        for mut row in rows {
            let pos: u64 = row.take("Pos").unwrap_or_default();
            if pos >= p.pos {
                return Ok(set);
            }
            let kind: String = row.take("Event_type").unwrap_or_default();
            let info: String = row.take("Info").unwrap_or_default();
            match kind.as_str() {
                "Previous_gtids" => {
                    set = info.parse().map_err(|e| crate::error::Error::Decode {
                        position: format!("{}:{pos}", p.file),
                        reason: format!("Previous_gtids {info:?} not understood: {e}"),
                    })?;
                }
                "Gtid" | "Gtid_tagged" => {
                    // SET @@SESSION.GTID_NEXT= 'uuid[:tag]:n'
                    let gtid = info.split('\'').nth(1).unwrap_or_default();
                    match gtid
                        .rsplit_once(':')
                        .and_then(|(sid, n)| Some((sid, n.parse().ok()?)))
                    {
                        Some((sid, n)) => set.add(sid, n),
                        None => {
                            return Err(crate::error::Error::Decode {
                                position: format!("{}:{pos}", p.file),
                                reason: format!("GTID event {info:?} not understood"),
                            })
                        }
                    }
                }
                _ => {}
            }
            from = row.take("End_log_pos").unwrap_or(from);
        }
        if n < PAGE {
            return Ok(set);
        }
    }
}

/// `a, b, ... z` for a long file list.
fn summarize(logs: &[String]) -> String {
    match logs {
        [] => "none".into(),
        [one] => one.clone(),
        [first, .., last] => format!("{first} to {last}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_as_gtid_sets_or_positions() {
        let g: StartTarget = "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5".parse().unwrap();
        assert!(matches!(g, StartTarget::Gtid(_)));
        assert_eq!(
            "mysql-bin.000003:1234".parse::<StartTarget>(),
            Ok(StartTarget::Position(BinlogPosition::new(
                "mysql-bin.000003",
                1234
            )))
        );
        assert!("0-1-100"
            .parse::<StartTarget>()
            .unwrap_err()
            .contains("MariaDB"));
        assert!("nonsense"
            .parse::<StartTarget>()
            .unwrap_err()
            .contains("FILE:POS"));
    }
}
