//! Planning a poll: where it starts and which snapshots it owes, from the
//! stored checkpoint, `snapshot.mode` and the table filters.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::config::{Config, SnapshotMode, TableFilter};
use crate::error::{Error, Result};
use crate::model::{Checkpoint, SnapshotState, SnapshotTable};
use crate::offsets::Lease;
use crate::source::{Database, ServerInfo};

/// Set once per process for `snapshot.mode=always`, once a poll that
/// queued the snapshot succeeded: its checkpoint holds the queue then. A
/// poll that fails before leaves it unset, so the next poll queues again.
static ALWAYS_SNAPSHOT_QUEUED: AtomicBool = AtomicBool::new(false);

/// `snapshot.mode=always`: this process's snapshot is in a committed
/// checkpoint.
pub(super) fn always_snapshot_committed() {
    ALWAYS_SNAPSHOT_QUEUED.store(true, Ordering::Relaxed);
}

/// As a new process: `snapshot.mode=always` snapshots again.
#[cfg(test)]
pub(super) fn forget_always_snapshot() {
    ALWAYS_SNAPSHOT_QUEUED.store(false, Ordering::Relaxed);
}

/// Captured tables a snapshot reads, `(db, table)`.
fn snapshot_tables(
    config: &Config,
    tables: &[(String, String)],
    filter: &TableFilter,
) -> Vec<(String, String)> {
    tables
        .iter()
        .filter(|(d, t)| filter.includes(d, t))
        .filter(|(d, t)| {
            config
                .snapshot_include
                .as_ref()
                .is_none_or(|p| p.matches(&format!("{d}.{t}")))
        })
        .cloned()
        .collect()
}

/// Whether `db.table` is a table the snapshot reads.
pub(super) fn snapshot_reads(config: &Config, db: &str, table: &str) -> bool {
    !snapshot_tables(
        config,
        &[(db.to_string(), table.to_string())],
        &config.filter,
    )
    .is_empty()
}

/// Whether this poll begins the connector's schema snapshot: a connector
/// without a stored checkpoint (in a mode that snapshots, rows or schema
/// only), or one whose stored position was purged and whose plan took a new
/// initial snapshot (`when_needed`). Debezium writes the schema of the
/// databases to the schema change topic then, before the first row.
pub(super) fn begins_schema_snapshot(config: &Config, lease: &Lease, start: &Checkpoint) -> bool {
    match &lease.checkpoint {
        None => matches!(
            config.snapshot_mode,
            SnapshotMode::Initial
                | SnapshotMode::InitialOnly
                | SnapshotMode::WhenNeeded
                | SnapshotMode::Always
                | SnapshotMode::NoData
        ),
        Some(stored) => {
            start.snapshot.as_ref().is_some_and(|s| s.initial)
                && !stored.snapshot.as_ref().is_some_and(|s| s.initial)
        }
    }
}

pub(crate) fn queue(state: &mut SnapshotState, tables: Vec<(String, String)>, suppress: bool) {
    for (db, table) in tables {
        if !state.tables.iter().any(|t| t.db == db && t.table == table) {
            state.tables.push(SnapshotTable {
                db,
                table,
                suppress,
                key_columns: Vec::new(),
                cursor: None,
                rows: 0,
                estimated_rows: None,
                started_ms: 0,
            });
        }
    }
}

/// Decides where this poll starts and which snapshots it owes, from the
/// stored checkpoint, `snapshot.mode` and the table filters.
pub(super) async fn plan_start<D: Database>(
    config: &Config,
    lease: &Lease,
    info: &ServerInfo,
    db: &mut D,
) -> Result<Checkpoint> {
    let mode = config.snapshot_mode;
    let wants_initial = matches!(
        mode,
        SnapshotMode::Initial
            | SnapshotMode::InitialOnly
            | SnapshotMode::WhenNeeded
            | SnapshotMode::Always
    );
    let fresh = || Checkpoint::at(info.end.clone(), info.gtid_executed.clone());
    let mut start = match &lease.checkpoint {
        Some(cp) if db.resume_point_available(info, cp).await? => cp.clone(),
        Some(cp) if mode == SnapshotMode::WhenNeeded => {
            tracing::warn!(position = %cp.resume_position(), "stored position was purged from the server; taking a new snapshot (snapshot.mode=when_needed)");
            let mut c = fresh();
            c.snapshot = Some(SnapshotState {
                tables: Vec::new(),
                initial: true,
                started: false,
            });
            c
        }
        Some(cp) => {
            return Err(Error::PositionPurged {
                server: info.server.clone(),
                position: cp.resume_position().to_string(),
            })
        }
        None if wants_initial => {
            tracing::info!(position = %info.end, "no stored offset; starting an initial snapshot at the current binlog position");
            let mut c = fresh();
            c.snapshot = Some(SnapshotState {
                tables: Vec::new(),
                initial: true,
                started: false,
            });
            c
        }
        None => {
            tracing::info!(position = %info.end, "no stored offset; starting at the current end of the binlog");
            fresh()
        }
    };
    let needs_tables = start
        .snapshot
        .as_ref()
        .is_some_and(|s| s.initial && s.tables.is_empty() && !start.initial_snapshot_done)
        || (mode == SnapshotMode::Always && lease.checkpoint.is_some())
        || start
            .filters
            .as_deref()
            .is_some_and(|f| f != config.filter.signature());
    if needs_tables {
        let all = db.list_tables().await?;
        if let Some(state) = start
            .snapshot
            .as_mut()
            .filter(|s| s.initial && s.tables.is_empty())
        {
            queue(state, snapshot_tables(config, &all, &config.filter), true);
            if state.tables.is_empty() {
                start.snapshot = None;
                start.initial_snapshot_done = true;
            }
        }
        if mode == SnapshotMode::Always
            && lease.checkpoint.is_some()
            && !ALWAYS_SNAPSHOT_QUEUED.load(Ordering::Relaxed)
        {
            let state = start.snapshot.get_or_insert_with(SnapshotState::default);
            queue(state, snapshot_tables(config, &all, &config.filter), false);
        }
        if let Some(old) = start
            .filters
            .as_deref()
            .filter(|f| *f != config.filter.signature())
        {
            // Tables the new filters capture and the old ones did not: the
            // consumer has never seen them, so they are snapshotted.
            let old = TableFilter::from_signature(old).unwrap_or_default();
            let added: Vec<(String, String)> = snapshot_tables(config, &all, &config.filter)
                .into_iter()
                .filter(|(d, t)| !old.includes(d, t))
                .collect();
            if !added.is_empty() {
                tracing::info!(
                    tables = added.len(),
                    "table filters changed; snapshotting the newly included tables"
                );
                let state = start.snapshot.get_or_insert_with(SnapshotState::default);
                queue(state, added, true);
            }
        }
    }
    start.filters = Some(config.filter.signature());
    Ok(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BinlogPosition;

    fn config(mode: &str) -> Config {
        let c = serde_json::json!({"name": "mem", "config": {
            "database.hostname": "memory", "database.user": "u", "topic.prefix": "p",
            "kafka.bootstrap.servers": "memory:9092", "offset.storage.file.filename": "/dev/null",
            "snapshot.mode": mode,
        }});
        Config::from_json(&c.to_string(), |_| None).unwrap()
    }

    fn checkpoint(initial: Option<bool>) -> Checkpoint {
        let mut c = Checkpoint::at(BinlogPosition::new("b.000001", 4), None);
        c.snapshot = initial.map(|initial| SnapshotState {
            tables: Vec::new(),
            initial,
            started: false,
        });
        c
    }

    fn lease(stored: Option<Checkpoint>) -> Lease {
        Lease {
            owner: "o".into(),
            epoch: 1,
            checkpoint: stored,
        }
    }

    #[test]
    fn the_schema_snapshot_is_written_once_per_new_snapshot() {
        // A new connector, in every mode that snapshots rows or schema.
        for mode in [
            "initial",
            "initial_only",
            "when_needed",
            "always",
            "no_data",
        ] {
            assert!(
                begins_schema_snapshot(&config(mode), &lease(None), &checkpoint(None)),
                "{mode}"
            );
        }
        assert!(!begins_schema_snapshot(
            &config("never"),
            &lease(None),
            &checkpoint(None)
        ));
        // A poll resuming the initial snapshot: its schema was published
        // before the checkpoint that holds the snapshot.
        let stored = checkpoint(Some(true));
        assert!(!begins_schema_snapshot(
            &config("initial"),
            &lease(Some(stored.clone())),
            &stored
        ));
        // when_needed, the stored position purged: a new initial snapshot.
        assert!(begins_schema_snapshot(
            &config("when_needed"),
            &lease(Some(checkpoint(None))),
            &checkpoint(Some(true))
        ));
        // Streaming on, or a snapshot of newly included tables.
        assert!(!begins_schema_snapshot(
            &config("initial"),
            &lease(Some(checkpoint(None))),
            &checkpoint(Some(false))
        ));
    }
}
