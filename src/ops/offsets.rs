//! The connector's offsets, as an operator sees and changes them: Kafka
//! Connect's KIP-875 (`GET` / `PATCH` / `DELETE
//! /connectors/{name}/offsets`) for a connector without Kafka Connect.
//!
//! * [`offsets_get`]: the stored checkpoint in words and ISO-8601 times.
//! * [`offsets_set`]: a new start position (a MySQL GTID set or
//!   `file:pos`), checked against the server first
//!   ([`crate::source::checkpoint_at`]); the next poll streams from there.
//!   A snapshot in progress is dropped, and the initial snapshot counts as
//!   done: a set offset means "stream from here", as a Debezium offset
//!   without a `snapshot` marker does.
//! * [`offsets_reset`]: removes the checkpoint; the next poll starts as
//!   `snapshot.mode` says for a new connector (`initial` snapshots again).
//!
//! Both changes take the connector's lease, as a poll does, so they never
//! interleave with one. A live lease means a poll is running: they refuse,
//! unless forced ([`OffsetStore::take_over`]), which moves the lease epoch
//! on so the running poll's next checkpoint is refused; what it published
//! after its last checkpoint stays in Kafka, and the consumer sees events
//! again from the new offset.

use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, SnapshotMode};
use crate::error::{Error, Result};
use crate::model::time::zoned_timestamp;
use crate::model::Checkpoint;
use crate::offsets::{new_owner_id, now_ms, Acquire, Lease, OffsetStore, StoredState};
use crate::source::{checkpoint_at, connect, ServerInfo, StartTarget};

/// How long an offsets change holds the lease: far more than it needs,
/// and short enough that a crashed CLI does not block polls for long.
const LEASE_TTL: Duration = Duration::from_secs(30);

/// An instant as epoch milliseconds and ISO-8601.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct When {
    pub ms: u64,
    pub iso: String,
}

impl When {
    /// `ms` since the epoch; `None` for 0 (never).
    pub fn of(ms: u64) -> Option<Self> {
        (ms > 0).then(|| Self {
            ms,
            iso: zoned_timestamp((ms / 1000) as i64, ((ms % 1000) * 1000) as u32, 3),
        })
    }
}

/// The lease as `offsets get` and `status` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseView {
    pub holder: String,
    pub expires: Option<When>,
    /// Unexpired: a poll is probably running.
    pub live: bool,
}

/// What `offsets get` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OffsetsView {
    pub connector: String,
    pub store: String,
    /// Where the next poll resumes (`file:pos`), `None` without offsets.
    pub position: Option<String>,
    /// The executed GTID set it resumes after (MySQL with GTIDs).
    pub gtid_set: Option<String>,
    /// A transaction published in part, resumed inside.
    pub inside_transaction: Option<String>,
    /// Tables of a snapshot in progress.
    pub snapshot_tables: Vec<String>,
    pub initial_snapshot_done: bool,
    /// When the binlog event at the checkpoint was written.
    pub last_event: Option<When>,
    /// When the checkpoint was stored.
    pub updated: Option<When>,
    pub lease: Option<LeaseView>,
    /// What the next poll does, in words.
    pub next_poll: String,
}

/// The stored offsets in human form.
pub async fn offsets_get<O: OffsetStore>(config: &Config, store: &O) -> Result<OffsetsView> {
    Ok(OffsetsView::of(
        config,
        store.describe(),
        store.load().await?,
    ))
}

impl OffsetsView {
    /// The view of `state`, as the store `store` holds it.
    pub fn of(config: &Config, store: String, state: Option<StoredState>) -> Self {
        let state = state.unwrap_or_default();
        view(config, store, &state)
    }
}

fn view(config: &Config, store: String, state: &StoredState) -> OffsetsView {
    let cp = state.checkpoint.as_ref();
    let now = now_ms();
    OffsetsView {
        connector: config.name.clone(),
        store,
        position: cp.map(|c| c.resume_position().to_string()),
        gtid_set: cp
            .and_then(|c| c.gtid_set.as_ref())
            .map(ToString::to_string),
        inside_transaction: cp
            .and_then(|c| c.transaction.as_ref())
            .map(|t| format!("started at {}; {} rows events done", t.start, t.rows_events)),
        snapshot_tables: cp
            .and_then(|c| c.snapshot.as_ref())
            .map(|s| {
                s.tables
                    .iter()
                    .map(|t| format!("{}.{}", t.db, t.table))
                    .collect()
            })
            .unwrap_or_default(),
        initial_snapshot_done: cp.is_some_and(|c| c.initial_snapshot_done),
        last_event: cp.and_then(|c| When::of(u64::from(c.event_ts) * 1000)),
        updated: When::of(state.updated_ms),
        lease: state.owner.as_ref().map(|holder| LeaseView {
            holder: holder.clone(),
            expires: When::of(state.expires_ms),
            live: state.expires_ms >= now,
        }),
        next_poll: match cp {
            None if matches!(config.snapshot_mode, SnapshotMode::Never | SnapshotMode::NoData) => format!(
                "starts as a new connector (snapshot.mode={}): at the server's current end of the log, so changes made before then are not published",
                config.snapshot_mode.as_str()
            ),
            None => format!(
                "starts as a new connector (snapshot.mode={})",
                config.snapshot_mode.as_str()
            ),
            Some(c) if c.snapshot.is_some() => "goes on with the snapshot in progress".into(),
            Some(_) => "streams from the position".into(),
        },
    }
}

/// Takes the lease for an offsets change; a live one is refused unless
/// `force`.
async fn hold<O: OffsetStore>(store: &O, force: bool, during: &'static str) -> Result<Lease> {
    let owner = new_owner_id();
    let acquired = match store.acquire(&owner, LEASE_TTL).await {
        // No poll can run on a checkpoint that does not parse: clearing or
        // replacing it is what the person is here to do.
        Err(Error::CorruptCheckpoint { .. }) => return store.take_over(&owner, LEASE_TTL).await,
        other => other?,
    };
    match acquired {
        Acquire::Acquired(l) => Ok(l),
        Acquire::Held { owner: holder, .. } if force => {
            tracing::warn!(
                holder = %holder,
                "taking the lease over from a running poll; it is fenced and its unconfirmed output is published again"
            );
            store.take_over(&owner, LEASE_TTL).await
        }
        Acquire::Held {
            owner: holder,
            expires_ms,
        } => Err(Error::Offsets {
            store: store.describe(),
            during,
            reason: format!(
                "a poll holds the lease ({holder}, until {}); wait for it to end, or pass --force: the running poll is then fenced (its next checkpoint is refused), and what it published since its last checkpoint is published again from the new offset",
                When::of(expires_ms).map(|w| w.iso).unwrap_or_default()
            ),
            source: None,
        }),
    }
}

/// `text` as a start position, named `what` in the problem when it is not
/// one (`--to`, `"to"`).
pub fn start_target(what: &str, text: &str) -> Result<StartTarget> {
    text.parse()
        .map_err(|e| Error::Config(crate::config::ConfigProblems(vec![format!("{what}: {e}")])))
}

/// Moves the connector to `target` after checking it on the server.
/// Returns the stored checkpoint.
pub async fn offsets_set<O: OffsetStore>(
    config: &Config,
    store: &O,
    target: &StartTarget,
    force: bool,
) -> Result<Checkpoint> {
    // The server first: a refused target leaves the lease untouched.
    let mut conn = connect(config).await?;
    let checked = async {
        let info = ServerInfo::read(&mut conn, &config.server()).await?;
        checkpoint_at(&mut conn, &info, target).await
    }
    .await;
    let _ = conn.disconnect().await;
    let mut cp = checked?.map_err(|problem| {
        Error::Config(crate::config::ConfigProblems(vec![format!(
            "offsets set {target}: {problem}"
        )]))
    })?;
    cp.filters = Some(config.filter.signature());
    cp.initial_snapshot_done = true;
    let lease = hold(store, force, "setting the offsets").await?;
    let result = store.commit(&lease, &cp, LEASE_TTL).await;
    let _ = store.release(&lease).await;
    result?;
    tracing::info!(position = %target, "offsets set");
    Ok(cp)
}

/// Removes the checkpoint: the next poll starts as a new connector.
pub async fn offsets_reset<O: OffsetStore>(store: &O, force: bool) -> Result<()> {
    let lease = hold(store, force, "resetting the offsets").await?;
    let result = store.clear(&lease).await;
    let _ = store.release(&lease).await;
    result?;
    tracing::info!("offsets reset");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BinlogPosition;
    use crate::offsets::MemoryStore;

    fn config() -> Config {
        Config::from_json(
            r#"{"name": "inv", "config": {"database.hostname": "db", "database.user": "u",
            "topic.prefix": "p", "kafka.bootstrap.servers": "k:9092",
            "offset.storage.file.filename": "/tmp/o.json"}}"#,
            |_| None,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn reset_clears_and_a_live_lease_needs_force() {
        let store = MemoryStore::default();
        let Acquire::Acquired(poll) = store.acquire("poll", LEASE_TTL).await.unwrap() else {
            panic!()
        };
        let cp = Checkpoint::at(BinlogPosition::new("b.000001", 4), None);
        store.commit(&poll, &cp, LEASE_TTL).await.unwrap();

        let e = offsets_reset(&store, false).await.unwrap_err().to_string();
        assert!(
            e.contains("a poll holds the lease (poll") && e.contains("--force"),
            "{e}"
        );
        assert!(store.state().unwrap().checkpoint.is_some());

        offsets_reset(&store, true).await.unwrap();
        assert!(store.state().unwrap().checkpoint.is_none());
        // The running poll is fenced.
        assert!(matches!(
            store.commit(&poll, &cp, LEASE_TTL).await,
            Err(Error::Fenced { .. })
        ));
        let view = offsets_get(&config(), &store).await.unwrap();
        assert_eq!(view.position, None);
        assert!(
            view.next_poll.contains("snapshot.mode=initial"),
            "{}",
            view.next_poll
        );
    }

    #[test]
    fn times_are_iso_8601() {
        assert_eq!(
            When::of(1_790_000_000_123).unwrap().iso,
            "2026-09-21T14:13:20.123Z"
        );
        assert_eq!(When::of(0), None);
    }
}
