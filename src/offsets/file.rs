//! Offsets in a local JSON file, for the CLI.
//!
//! The file holds one JSON object per connector name, so several connectors
//! may share it. Every read-modify-write happens under an exclusive
//! `flock` on `<file>.lock` (held for microseconds, never across a poll),
//! and the new content is written to a temporary file, fsynced and renamed
//! over the old one, so a crash leaves either the old or the new offsets,
//! never a torn file.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{
    acquire_in, clear_in, commit_in, release_in, renew_in, take_over_in, Acquire, Lease,
    OffsetStore, StoredState,
};
use crate::error::{Error, Result};
use crate::model::Checkpoint;

/// A [`OffsetStore`] in a local file.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
    connector: String,
}

impl FileStore {
    /// A store at `path` for `connector`.
    pub fn new(path: impl AsRef<Path>, connector: &str) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            connector: connector.to_string(),
        }
    }

    fn io_err(&self, during: &'static str, e: std::io::Error) -> Error {
        Error::Offsets {
            store: self.describe(),
            during,
            reason: e.to_string(),
            source: Some(e.into()),
        }
    }

    /// Runs `f` on this connector's state under the file lock, writing the
    /// result back when `f` says so.
    fn with_state<T>(&self, f: impl FnOnce(&mut Option<StoredState>) -> (T, bool)) -> Result<T> {
        let lock_path = self.path.with_extension("lock");
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| self.io_err("create directory", e))?;
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| self.io_err("open lock file", e))?;
        lock.lock().map_err(|e| self.io_err("lock", e))?;
        let mut all: BTreeMap<String, StoredState> = match fs::read(&self.path) {
            Ok(bytes) if bytes.is_empty() => BTreeMap::new(),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::CorruptCheckpoint {
                store: self.describe(),
                reason: format!("not an offsets file ({e})"),
                fix: format!(
                    "fix or move away {} (the connector then starts as snapshot.mode says), or point offset.storage.file.filename at the right file",
                    self.path.display()
                ),
                source: Some(e.into()),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(self.io_err("read", e)),
        };
        let mut state = all.remove(&self.connector);
        let (out, write) = f(&mut state);
        if write {
            if let Some(s) = state {
                all.insert(self.connector.clone(), s);
            }
            self.write_atomically(&all)?;
        }
        drop(lock);
        Ok(out)
    }

    /// Creates the offsets file (with no connector in it) if it is missing;
    /// reads it otherwise, so a corrupt one is reported now.
    pub fn create(&self) -> Result<()> {
        let missing = !self.path.exists();
        self.with_state(|_| ((), missing))
    }

    fn write_atomically(&self, all: &BTreeMap<String, StoredState>) -> Result<()> {
        let tmp = self.path.with_extension("tmp");
        let bytes = serde_json::to_vec_pretty(all)
            .map_err(|e| self.io_err("encode", std::io::Error::other(e)))?;
        let mut f = File::create(&tmp).map_err(|e| self.io_err("write", e))?;
        f.write_all(&bytes).map_err(|e| self.io_err("write", e))?;
        f.sync_all().map_err(|e| self.io_err("fsync", e))?;
        fs::rename(&tmp, &self.path).map_err(|e| self.io_err("rename", e))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl OffsetStore for FileStore {
    async fn acquire(&self, owner: &str, ttl: Duration) -> Result<Acquire> {
        self.with_state(|s| {
            let a = acquire_in(s, owner, ttl);
            let wrote = matches!(a, Acquire::Acquired(_));
            (a, wrote)
        })
    }

    async fn commit(&self, lease: &Lease, cp: &Checkpoint, ttl: Duration) -> Result<()> {
        let connector = self.connector.clone();
        self.with_state(|s| {
            let r = commit_in(s, &connector, lease, cp, ttl);
            let ok = r.is_ok();
            (r, ok)
        })?
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<()> {
        let connector = self.connector.clone();
        self.with_state(|s| {
            let r = renew_in(s, &connector, lease, ttl);
            let ok = r.is_ok();
            (r, ok)
        })?
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        self.with_state(|s| ((), release_in(s, lease)))
    }

    async fn take_over(&self, owner: &str, ttl: Duration) -> Result<Lease> {
        self.with_state(|s| (take_over_in(s, owner, ttl), true))
    }

    async fn clear(&self, lease: &Lease) -> Result<()> {
        let connector = self.connector.clone();
        self.with_state(|s| {
            let r = clear_in(s, &connector, lease);
            let ok = r.is_ok();
            (r, ok)
        })?
    }

    async fn load(&self) -> Result<Option<StoredState>> {
        self.with_state(|s| (s.clone(), false))
    }

    fn describe(&self) -> String {
        format!("file:{}#{}", self.path.display(), self.connector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BinlogPosition;

    #[tokio::test]
    async fn file_store_persists_and_fences() {
        let dir = std::env::temp_dir().join(format!("bp-file-store-{}", std::process::id()));
        let path = dir.join("offsets.json");
        let _ = fs::remove_dir_all(&dir);
        let a_store = FileStore::new(&path, "conn");
        let ttl = Duration::from_secs(60);
        let Acquire::Acquired(a) = a_store.acquire("a", ttl).await.unwrap() else {
            panic!()
        };
        let cp = Checkpoint::at(BinlogPosition::new("b.000001", 77), None);
        a_store.commit(&a, &cp, ttl).await.unwrap();
        // Another process (a second store on the same file) sees the holder.
        let b_store = FileStore::new(&path, "conn");
        assert!(matches!(
            b_store.acquire("b", ttl).await.unwrap(),
            Acquire::Held { .. }
        ));
        // A different connector in the same file is independent.
        let other = FileStore::new(&path, "other");
        assert!(matches!(
            other.acquire("x", ttl).await.unwrap(),
            Acquire::Acquired(_)
        ));
        a_store.release(&a).await.unwrap();
        let Acquire::Acquired(b) = b_store.acquire("b", ttl).await.unwrap() else {
            panic!()
        };
        assert_eq!(b.checkpoint, Some(cp.clone()));
        assert!(a_store.commit(&a, &cp, ttl).await.is_err());
        let _ = fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_corrupt_offsets_file_needs_a_person() {
        let dir = std::env::temp_dir().join(format!("bp-file-corrupt-{}", std::process::id()));
        let path = dir.join("offsets.json");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(&path, b"{\"conn\": {\"checkpoint\": ").unwrap();
        let store = FileStore::new(&path, "conn");
        let e = store
            .acquire("a", Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::CorruptCheckpoint { .. }), "{e:?}");
        assert!(!e.is_retryable(), "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("corrupt") && msg.contains(&path.display().to_string()),
            "names the file and the fix: {msg}"
        );
        assert!(std::error::Error::source(&e).is_some());
        // `init` checks the file too, rather than saying it is ready.
        assert!(matches!(
            store.create(),
            Err(Error::CorruptCheckpoint { .. })
        ));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn init_creates_a_missing_file() {
        let dir = std::env::temp_dir().join(format!("bp-file-init-{}", std::process::id()));
        let path = dir.join("sub").join("offsets.json");
        let _ = fs::remove_dir_all(&dir);
        FileStore::new(&path, "conn").create().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap().trim(), "{}");
        FileStore::new(&path, "conn").create().unwrap();
        let _ = fs::remove_dir_all(&dir);
    }
}
