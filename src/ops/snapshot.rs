//! Ad-hoc snapshot requests: tables queued in the checkpoint, read chunk by
//! chunk by the following polls.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{Checkpoint, SnapshotState};
use crate::offsets::{new_owner_id, Acquire, OffsetStore};
use crate::pipeline::queue;
use crate::source::{connect, ServerInfo};

/// Queues `tables` (`db.table`) for an ad-hoc snapshot: stored with the
/// checkpoint, read chunk by chunk by the following polls while streaming
/// goes on. Tables the connector already streams are re-read without
/// holding back their stream events (their deletes must still reach the
/// consumer).
pub async fn request_snapshot<O: OffsetStore>(
    config: &Config,
    store: &O,
    tables: &[String],
) -> Result<Checkpoint> {
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    for t in tables {
        match t.split_once('.') {
            Some((d, n)) if !d.is_empty() && !n.is_empty() => {
                if config.filter.includes(d, n) {
                    parsed.push((d.to_string(), n.to_string()));
                } else {
                    problems.push(format!(
                        "{t}: not captured by the connector's include/exclude lists"
                    ));
                }
            }
            _ => problems.push(format!("{t}: expected db.table")),
        }
    }
    if parsed.is_empty() && problems.is_empty() {
        problems.push(
            "no tables given; name them as db.table (CLI: --tables db.t1,db.t2; Lambda: \"tables\": [\"db.t1\"])".into(),
        );
    }
    if !problems.is_empty() {
        return Err(Error::Config(crate::config::ConfigProblems(problems)));
    }
    // Refused now rather than skipped with a warning polls later: a typo
    // would otherwise look like a snapshot that ran.
    let mut conn = connect(config).await?;
    let listed = crate::source::list_tables(&mut conn, &config.server()).await;
    let _ = conn.disconnect().await;
    let existing = listed?;
    for (d, n) in &parsed {
        if !existing.iter().any(|(ed, en)| ed == d && en == n) {
            problems.push(format!("{d}.{n}: no such table on {}", config.server()));
        }
    }
    if !problems.is_empty() {
        return Err(Error::Config(crate::config::ConfigProblems(problems)));
    }
    let owner = new_owner_id();
    let lease = match store.acquire(&owner, Duration::from_secs(30)).await? {
        Acquire::Acquired(l) => l,
        Acquire::Held { owner, .. } => {
            return Err(Error::Offsets {
                store: store.describe(),
                during: "queueing a snapshot",
                reason: format!("a poll holds the lease ({owner}); try again when it finished"),
                source: None,
            })
        }
    };
    let result = async {
        let mut cp = match lease.checkpoint.clone() {
            Some(cp) => cp,
            None => {
                let mut conn = connect(config).await?;
                let info = ServerInfo::read(&mut conn, &config.server()).await?;
                let _ = conn.disconnect().await;
                let mut c = Checkpoint::at(info.end, info.gtid_executed);
                c.filters = Some(config.filter.signature());
                c
            }
        };
        // A connector that never streamed has no consumer history to protect.
        let suppress = lease.checkpoint.is_none();
        let state = cp.snapshot.get_or_insert_with(SnapshotState::default);
        queue(state, parsed.clone(), suppress);
        store.commit(&lease, &cp, Duration::from_secs(30)).await?;
        Ok(cp)
    }
    .await;
    let _ = store.release(&lease).await;
    if let Ok(cp) = &result {
        let queued: BTreeSet<String> = cp
            .snapshot
            .iter()
            .flat_map(|s| s.tables.iter().map(|t| format!("{}.{}", t.db, t.table)))
            .collect();
        let queued: Vec<String> = queued.into_iter().collect();
        tracing::info!(tables = %queued.join(","), "snapshot queued");
    }
    result
}
