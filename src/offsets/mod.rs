//! Offset stores: where checkpoints live, guarded by a lease.
//!
//! A poll first takes the connector's lease ([`OffsetStore::acquire`]): a
//! conditional write that succeeds only when no other poller holds an
//! unexpired lease, and that bumps the lease `epoch`. Every later
//! [`OffsetStore::commit`] is conditional on that epoch and owner, so a
//! poller that lost its lease (it stalled past the expiry and another one
//! took over) can never move the offset: its write is rejected with
//! [`crate::Error::Fenced`]. The stored offset therefore only moves
//! forward, written by the current owner, after Kafka acknowledged.
//!
//! Implementations: [`DynamoDbStore`] (Lambda), [`FileStore`] (CLI) and
//! [`MemoryStore`] (unit tests, and `run --print`, which must not move the
//! connector's stored offsets). All three follow the same rules.

mod dynamodb;
mod file;

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use dynamodb::DynamoDbStore;
pub use file::FileStore;

use crate::error::{Error, Result};
use crate::model::Checkpoint;

/// A held lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Who holds it (unique per poll).
    pub owner: String,
    /// The epoch our writes are conditional on.
    pub epoch: u64,
    /// The checkpoint stored when we took the lease.
    pub checkpoint: Option<Checkpoint>,
}

/// The outcome of [`OffsetStore::acquire`].
// One value per poll: boxing the lease would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquire {
    /// We hold the lease.
    Acquired(Lease),
    /// Someone else does.
    Held {
        /// The holder.
        owner: String,
        /// When its lease expires, ms since the epoch.
        expires_ms: u64,
    },
}

/// Everything stored for a connector, for `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StoredState {
    /// Current lease epoch.
    pub epoch: u64,
    /// Lease holder, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Lease expiry, ms since the epoch.
    #[serde(default)]
    pub expires_ms: u64,
    /// Last checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    /// When the checkpoint was written, ms since the epoch.
    #[serde(default)]
    pub updated_ms: u64,
}

impl StoredState {
    fn lease_free(&self, now_ms: u64) -> bool {
        self.owner.is_none() || self.expires_ms < now_ms
    }

    fn owned_by(&self, lease: &Lease) -> bool {
        self.epoch == lease.epoch && self.owner.as_deref() == Some(lease.owner.as_str())
    }
}

/// A store of checkpoints guarded by a lease.
pub trait OffsetStore: Send + Sync {
    /// Takes the lease for `ttl` if it is free or expired.
    fn acquire(&self, owner: &str, ttl: Duration) -> impl Future<Output = Result<Acquire>> + Send;
    /// Stores `checkpoint` if `lease` is still ours, extending it by `ttl`.
    fn commit(
        &self,
        lease: &Lease,
        checkpoint: &Checkpoint,
        ttl: Duration,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Extends `lease` by `ttl` from now if it is still ours
    /// ([`crate::Error::Fenced`] otherwise), without touching the
    /// checkpoint: a poll renews its short lease while it works.
    fn renew(&self, lease: &Lease, ttl: Duration) -> impl Future<Output = Result<()>> + Send;
    /// Gives the lease up (if still ours).
    fn release(&self, lease: &Lease) -> impl Future<Output = Result<()>> + Send;
    /// Takes the lease for `ttl` whether or not someone holds it: the epoch
    /// moves on, so a holder's next write is refused ([`crate::Error::Fenced`]).
    /// For an operator's `--force`, never for a poll. The returned lease
    /// carries no checkpoint (a stored one need not even parse).
    fn take_over(&self, owner: &str, ttl: Duration) -> impl Future<Output = Result<Lease>> + Send;
    /// Removes the checkpoint if `lease` is still ours: the next poll starts
    /// as `snapshot.mode` says for a connector without offsets.
    fn clear(&self, lease: &Lease) -> impl Future<Output = Result<()>> + Send;
    /// Reads the stored state without taking the lease.
    fn load(&self) -> impl Future<Output = Result<Option<StoredState>>> + Send;
    /// A short description for messages (`dynamodb:table/connector`).
    fn describe(&self) -> String;
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// A unique owner id for one poll: host/function, process and a random part.
pub fn new_owner_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    let host = std::env::var("AWS_LAMBDA_LOG_STREAM_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "local".into());
    format!("{host}/{}/{:016x}", std::process::id(), h.finish())
}

/// Keeps state in memory: for unit tests, and for `run --print`, which
/// starts from a copy of the connector's offsets and must not move them.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<Option<StoredState>>,
}

impl MemoryStore {
    /// A store holding a copy of `state`, with no lease held.
    pub fn starting_from(state: Option<StoredState>) -> Self {
        let state = state.map(|s| StoredState {
            owner: None,
            expires_ms: 0,
            ..s
        });
        Self {
            state: Mutex::new(state),
        }
    }

    /// The stored state, for assertions.
    pub fn state(&self) -> Option<StoredState> {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The same lease rules for every store that can read-modify-write under a
/// lock (memory, file).
pub(crate) fn acquire_in(state: &mut Option<StoredState>, owner: &str, ttl: Duration) -> Acquire {
    let now = now_ms();
    let s = state.get_or_insert_with(StoredState::default);
    if !s.lease_free(now) {
        return Acquire::Held {
            owner: s.owner.clone().unwrap_or_default(),
            expires_ms: s.expires_ms,
        };
    }
    s.epoch += 1;
    s.owner = Some(owner.to_string());
    s.expires_ms = now + ttl.as_millis() as u64;
    Acquire::Acquired(Lease {
        owner: owner.to_string(),
        epoch: s.epoch,
        checkpoint: s.checkpoint.clone(),
    })
}

/// [`OffsetStore::take_over`] for stores that read-modify-write under a lock.
pub(crate) fn take_over_in(state: &mut Option<StoredState>, owner: &str, ttl: Duration) -> Lease {
    let s = state.get_or_insert_with(StoredState::default);
    s.epoch += 1;
    s.owner = Some(owner.to_string());
    s.expires_ms = now_ms() + ttl.as_millis() as u64;
    Lease {
        owner: owner.to_string(),
        epoch: s.epoch,
        checkpoint: None,
    }
}

/// [`OffsetStore::clear`] for stores that read-modify-write under a lock.
pub(crate) fn clear_in(
    state: &mut Option<StoredState>,
    connector: &str,
    lease: &Lease,
) -> Result<()> {
    match state {
        Some(s) if s.owned_by(lease) => {
            s.checkpoint = None;
            s.updated_ms = now_ms();
            Ok(())
        }
        _ => Err(Error::Fenced {
            connector: connector.to_string(),
            epoch: lease.epoch,
        }),
    }
}

pub(crate) fn commit_in(
    state: &mut Option<StoredState>,
    connector: &str,
    lease: &Lease,
    cp: &Checkpoint,
    ttl: Duration,
) -> Result<()> {
    match state {
        Some(s) if s.owned_by(lease) => {
            let now = now_ms();
            s.checkpoint = Some(cp.clone());
            s.expires_ms = now + ttl.as_millis() as u64;
            s.updated_ms = now;
            Ok(())
        }
        _ => Err(Error::Fenced {
            connector: connector.to_string(),
            epoch: lease.epoch,
        }),
    }
}

pub(crate) fn renew_in(
    state: &mut Option<StoredState>,
    connector: &str,
    lease: &Lease,
    ttl: Duration,
) -> Result<()> {
    match state {
        Some(s) if s.owned_by(lease) => {
            s.expires_ms = now_ms() + ttl.as_millis() as u64;
            Ok(())
        }
        _ => Err(Error::Fenced {
            connector: connector.to_string(),
            epoch: lease.epoch,
        }),
    }
}

pub(crate) fn release_in(state: &mut Option<StoredState>, lease: &Lease) -> bool {
    match state {
        Some(s) if s.owned_by(lease) => {
            s.owner = None;
            s.expires_ms = 0;
            true
        }
        _ => false,
    }
}

impl OffsetStore for MemoryStore {
    async fn acquire(&self, owner: &str, ttl: Duration) -> Result<Acquire> {
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        Ok(acquire_in(&mut s, owner, ttl))
    }

    async fn commit(&self, lease: &Lease, cp: &Checkpoint, ttl: Duration) -> Result<()> {
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        commit_in(&mut s, "memory", lease, cp, ttl)
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<()> {
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        renew_in(&mut s, "memory", lease, ttl)
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        release_in(&mut s, lease);
        Ok(())
    }

    async fn take_over(&self, owner: &str, ttl: Duration) -> Result<Lease> {
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        Ok(take_over_in(&mut s, owner, ttl))
    }

    async fn clear(&self, lease: &Lease) -> Result<()> {
        let mut s = self.state.lock().map_err(|_| poisoned())?;
        clear_in(&mut s, "memory", lease)
    }

    async fn load(&self) -> Result<Option<StoredState>> {
        Ok(self.state())
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

fn poisoned() -> Error {
    Error::Offsets {
        store: "memory".into(),
        during: "lock",
        reason: "poisoned".into(),
        source: None,
    }
}

/// A store chosen at run time from the configuration.
#[derive(Debug)]
pub enum AnyStore {
    /// DynamoDB.
    DynamoDb(DynamoDbStore),
    /// Local file.
    File(FileStore),
}

impl AnyStore {
    /// Opens the store the configuration names.
    pub async fn open(config: &crate::Config) -> Result<Self> {
        Ok(match &config.offsets {
            crate::config::OffsetStorage::DynamoDb {
                table,
                endpoint,
                region,
            } => AnyStore::DynamoDb(
                DynamoDbStore::connect(table, &config.name, endpoint.as_deref(), region.as_deref())
                    .await?,
            ),
            crate::config::OffsetStorage::File { path } => {
                AnyStore::File(FileStore::new(path, &config.name))
            }
        })
    }

    /// Creates the backing table or file (`binlog-poller init`), or checks
    /// the one that is there (a corrupt offsets file is an error).
    pub async fn init(&self) -> Result<()> {
        match self {
            AnyStore::DynamoDb(s) => s.create_table().await,
            AnyStore::File(s) => s.create(),
        }
    }
}

impl OffsetStore for AnyStore {
    async fn acquire(&self, owner: &str, ttl: Duration) -> Result<Acquire> {
        match self {
            AnyStore::DynamoDb(s) => s.acquire(owner, ttl).await,
            AnyStore::File(s) => s.acquire(owner, ttl).await,
        }
    }

    async fn commit(&self, lease: &Lease, cp: &Checkpoint, ttl: Duration) -> Result<()> {
        match self {
            AnyStore::DynamoDb(s) => s.commit(lease, cp, ttl).await,
            AnyStore::File(s) => s.commit(lease, cp, ttl).await,
        }
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<()> {
        match self {
            AnyStore::DynamoDb(s) => s.renew(lease, ttl).await,
            AnyStore::File(s) => s.renew(lease, ttl).await,
        }
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        match self {
            AnyStore::DynamoDb(s) => s.release(lease).await,
            AnyStore::File(s) => s.release(lease).await,
        }
    }

    async fn take_over(&self, owner: &str, ttl: Duration) -> Result<Lease> {
        match self {
            AnyStore::DynamoDb(s) => s.take_over(owner, ttl).await,
            AnyStore::File(s) => s.take_over(owner, ttl).await,
        }
    }

    async fn clear(&self, lease: &Lease) -> Result<()> {
        match self {
            AnyStore::DynamoDb(s) => s.clear(lease).await,
            AnyStore::File(s) => s.clear(lease).await,
        }
    }

    async fn load(&self) -> Result<Option<StoredState>> {
        match self {
            AnyStore::DynamoDb(s) => s.load().await,
            AnyStore::File(s) => s.load().await,
        }
    }

    fn describe(&self) -> String {
        match self {
            AnyStore::DynamoDb(s) => s.describe(),
            AnyStore::File(s) => s.describe(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BinlogPosition;

    fn cp(pos: u64) -> Checkpoint {
        Checkpoint::at(BinlogPosition::new("b.000001", pos), None)
    }

    #[tokio::test]
    async fn second_acquire_sees_holder_and_stale_writer_is_fenced() {
        let store = MemoryStore::default();
        let ttl = Duration::from_secs(60);
        let Acquire::Acquired(a) = store.acquire("a", ttl).await.unwrap() else {
            panic!()
        };
        assert!(
            matches!(store.acquire("b", ttl).await.unwrap(), Acquire::Held { owner, .. } if owner == "a")
        );
        store.commit(&a, &cp(100), ttl).await.unwrap();
        store.release(&a).await.unwrap();
        let Acquire::Acquired(b) = store.acquire("b", ttl).await.unwrap() else {
            panic!()
        };
        assert_eq!(b.epoch, a.epoch + 1);
        assert_eq!(b.checkpoint, Some(cp(100)));
        // `a` is stale now: its commit must not move the offset.
        assert!(matches!(
            store.commit(&a, &cp(50), ttl).await,
            Err(Error::Fenced { .. })
        ));
        assert_eq!(store.state().unwrap().checkpoint, Some(cp(100)));
    }

    #[tokio::test]
    async fn expired_lease_can_be_taken() {
        let store = MemoryStore::default();
        let Acquire::Acquired(a) = store.acquire("a", Duration::ZERO).await.unwrap() else {
            panic!()
        };
        std::thread::sleep(Duration::from_millis(5));
        let Acquire::Acquired(b) = store.acquire("b", Duration::from_secs(1)).await.unwrap() else {
            panic!()
        };
        assert!(b.epoch > a.epoch);
    }
}
