//! The narrow storage seam under the outbox: ordered keys, prefix scans and atomic, durable
//! batches. `SledStore` is the production implementation; `MemoryStore` serves unit tests. Keeping
//! sled behind this trait lets the store be swapped if it ever fails the crash tests
//! (facts/sled.md).

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{OutboxError, Result};

/// One change in an atomic batch.
#[derive(Clone, PartialEq, Eq)]
pub enum Op {
    Put(Vec<u8>, Vec<u8>),
    Remove(Vec<u8>),
}

impl std::fmt::Debug for Op {
    // Values are sealed records: print only the key and the length.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Put(k, v) => write!(f, "Put({k:02x?}, {} bytes)", v.len()),
            Op::Remove(k) => write!(f, "Remove({k:02x?})"),
        }
    }
}

/// A key/value pair as returned by a scan.
pub type Entry = (Vec<u8>, Vec<u8>);

/// What the outbox needs from a store, and nothing more.
pub trait Store: Send + Sync {
    /// The value under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Every entry whose key starts with `prefix`, in ascending key order, read lazily so a
    /// large store is never held in memory at once.
    fn scan_prefix<'a>(&'a self, prefix: &[u8]) -> Box<dyn Iterator<Item = Result<Entry>> + 'a>;
    /// The first entry (lowest key) with `prefix`.
    fn first_with_prefix(&self, prefix: &[u8]) -> Result<Option<Entry>>;
    /// How many keys start with `prefix` (without reading values where the store allows).
    fn count_prefix(&self, prefix: &[u8]) -> Result<usize>;
    /// Applies all operations atomically; returns only once they are durable.
    fn commit(&self, ops: Vec<Op>) -> Result<()>;
    /// Applies all operations atomically; they become durable with a later [`commit`] or
    /// [`sync`]. Only for changes whose loss a crash may safely undo (see `mark_delivered`).
    ///
    /// [`commit`]: Store::commit
    /// [`sync`]: Store::sync
    fn commit_relaxed(&self, ops: Vec<Op>) -> Result<()>;
    /// Makes everything applied so far durable.
    fn sync(&self) -> Result<()>;
    /// A number larger than any returned before, also across restarts.
    fn next_sequence(&self) -> Result<u64>;
}

/// Page cache for a kiosk: the sled default of 1 GiB is far too large (facts/sled.md).
/// How long [`SledStore::open`] waits for a lock that a just-closed handle still holds.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
const CACHE_CAPACITY: u64 = 16 * 1024 * 1024;

/// sled 0.34.7 with explicit `fsync`s: its `flush` only uses `sync_file_range`, which survives a
/// killed process but not a power cut, so every commit also calls `sync_all` on the log, on any
/// blob files and on the directories (facts/sled.md).
pub struct SledStore {
    db: sled::Db,
    dir: PathBuf,
    /// Kept open so every commit can `sync_all` the log without reopening it.
    log: File,
    /// Blob files already synced; new ones are synced (and their directory) on the next commit.
    synced_blobs: Mutex<HashSet<PathBuf>>,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").field("dir", &self.dir).finish()
    }
}

fn io_err<'a>(
    what: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> OutboxError + 'a {
    move |source| OutboxError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// `fsync` on a directory, so entries created in it survive a power cut.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing directory", dir))
}

impl SledStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let created = !dir.exists();
        std::fs::create_dir_all(dir).map_err(io_err("creating", dir))?;
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_CAPACITY)
            // Our commits flush explicitly; the background flusher only adds work.
            .flush_every_ms(None);
        // sled releases its file lock from a background thread shortly after the last handle is
        // dropped, so a reopen right after a close can find it still held: wait a little
        // (bounded) before calling the store busy.
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let db = loop {
            match config.open() {
                Err(sled::Error::Io(e))
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        };
        let log_path = dir.join("db");
        let log = File::open(&log_path).map_err(io_err("opening", &log_path))?;
        let store = SledStore {
            db,
            dir: dir.to_path_buf(),
            log,
            synced_blobs: Mutex::new(HashSet::new()),
        };
        // Make the files sled just created (conf, db, blobs/) reachable after a power cut.
        store.sync_files()?;
        sync_dir(dir)?;
        if created && let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        Ok(store)
    }

    fn sync_files(&self) -> Result<()> {
        self.log
            .sync_all()
            .map_err(io_err("syncing", &self.dir.join("db")))?;
        let blobs = self.dir.join("blobs");
        let Ok(entries) = std::fs::read_dir(&blobs) else {
            return Ok(());
        };
        let mut synced = self
            .synced_blobs
            .lock()
            .map_err(|_| OutboxError::Store("blob bookkeeping poisoned".into()))?;
        let mut new_blob = false;
        let mut present = HashSet::new();
        for entry in entries.flatten() {
            let path = entry.path();
            present.insert(path.clone());
            if synced.contains(&path) {
                continue;
            }
            // A blob may be garbage-collected between listing and opening: that is fine.
            if let Ok(f) = File::open(&path) {
                f.sync_all().map_err(io_err("syncing", &path))?;
                synced.insert(path);
                new_blob = true;
            }
        }
        // Forget blobs sled has garbage-collected, so the set stays as small as the directory.
        synced.retain(|p| present.contains(p));
        if new_blob {
            sync_dir(&blobs)?;
        }
        Ok(())
    }
}

impl Store for SledStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get(key)?.map(|v| v.to_vec()))
    }

    fn scan_prefix<'a>(&'a self, prefix: &[u8]) -> Box<dyn Iterator<Item = Result<Entry>> + 'a> {
        Box::new(
            self.db
                .scan_prefix(prefix)
                .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(Into::into)),
        )
    }

    fn first_with_prefix(&self, prefix: &[u8]) -> Result<Option<Entry>> {
        match self.db.scan_prefix(prefix).next() {
            Some(r) => {
                let (k, v) = r?;
                Ok(Some((k.to_vec(), v.to_vec())))
            }
            None => Ok(None),
        }
    }

    fn count_prefix(&self, prefix: &[u8]) -> Result<usize> {
        let mut n = 0;
        for r in self.db.scan_prefix(prefix).keys() {
            r?;
            n += 1;
        }
        Ok(n)
    }

    fn commit(&self, ops: Vec<Op>) -> Result<()> {
        self.commit_relaxed(ops)?;
        self.sync()
    }

    fn commit_relaxed(&self, ops: Vec<Op>) -> Result<()> {
        let mut batch = sled::Batch::default();
        for op in ops {
            match op {
                Op::Put(k, v) => batch.insert(k, v),
                Op::Remove(k) => batch.remove(k),
            }
        }
        Ok(self.db.apply_batch(batch)?)
    }

    fn sync(&self) -> Result<()> {
        self.db.flush()?;
        self.sync_files()
    }

    fn next_sequence(&self) -> Result<u64> {
        // sled persists the id generator ahead of use, so ids never repeat after a crash.
        Ok(self.db.generate_id()?)
    }
}

/// The map and the sequence counter of a [`MemoryStore`].
type MemoryState = (BTreeMap<Vec<u8>, Vec<u8>>, u64);

/// An in-memory store for unit tests of the outbox logic.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryState>,
}

impl MemoryStore {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, MemoryState>> {
        self.inner
            .lock()
            .map_err(|_| OutboxError::Store("memory store poisoned".into()))
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.lock()?.0.get(key).cloned())
    }

    fn scan_prefix<'a>(&'a self, prefix: &[u8]) -> Box<dyn Iterator<Item = Result<Entry>> + 'a> {
        // A snapshot: tests only, small.
        let entries: Result<Vec<Entry>> = self.lock().map(|g| {
            g.0.range(prefix.to_vec()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        match entries {
            Ok(v) => Box::new(v.into_iter().map(Ok)),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    fn first_with_prefix(&self, prefix: &[u8]) -> Result<Option<Entry>> {
        Ok(self
            .lock()?
            .0
            .range(prefix.to_vec()..)
            .next()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone())))
    }

    fn count_prefix(&self, prefix: &[u8]) -> Result<usize> {
        self.scan_prefix(prefix)
            .try_fold(0, |n, r| r.map(|_| n + 1))
    }

    fn commit(&self, ops: Vec<Op>) -> Result<()> {
        let mut g = self.lock()?;
        for op in ops {
            match op {
                Op::Put(k, v) => {
                    g.0.insert(k, v);
                }
                Op::Remove(k) => {
                    g.0.remove(&k);
                }
            }
        }
        Ok(())
    }

    fn commit_relaxed(&self, ops: Vec<Op>) -> Result<()> {
        self.commit(ops)
    }

    fn sync(&self) -> Result<()> {
        Ok(())
    }

    fn next_sequence(&self) -> Result<u64> {
        let mut g = self.lock()?;
        g.1 += 1;
        Ok(g.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(store: &dyn Store) {
        store
            .commit(vec![
                Op::Put(b"p2".to_vec(), b"two".to_vec()),
                Op::Put(b"p1".to_vec(), b"one".to_vec()),
                Op::Put(b"q1".to_vec(), b"other".to_vec()),
            ])
            .unwrap();
        let scanned: Vec<Entry> = store.scan_prefix(b"p").collect::<Result<_>>().unwrap();
        assert_eq!(
            scanned,
            vec![
                (b"p1".to_vec(), b"one".to_vec()),
                (b"p2".to_vec(), b"two".to_vec())
            ]
        );
        assert_eq!(store.count_prefix(b"p").unwrap(), 2);
        assert_eq!(store.first_with_prefix(b"q").unwrap().unwrap().1, b"other");
        store
            .commit(vec![
                Op::Remove(b"p1".to_vec()),
                Op::Put(b"r1".to_vec(), b"r".to_vec()),
            ])
            .unwrap();
        assert_eq!(store.get(b"p1").unwrap(), None);
        assert_eq!(store.get(b"r1").unwrap().unwrap(), b"r");
        let a = store.next_sequence().unwrap();
        let b = store.next_sequence().unwrap();
        assert!(b > a);
    }

    #[test]
    fn memory_store_behaves_like_an_ordered_map() {
        exercise(&MemoryStore::default());
    }

    #[test]
    fn large_values_go_through_blob_files_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let big: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        {
            let store = SledStore::open(&path).unwrap();
            store
                .commit(vec![Op::Put(b"big".to_vec(), big.clone())])
                .unwrap();
            // Above sled's blob threshold the value lives in its own file, which commit synced.
            assert!(!store.synced_blobs.lock().unwrap().is_empty());
        }
        let store = SledStore::open(&path).unwrap();
        assert_eq!(store.get(b"big").unwrap().unwrap(), big);
    }

    #[test]
    fn sled_store_behaves_like_an_ordered_map_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let last = {
            let store = SledStore::open(&path).unwrap();
            exercise(&store);
            store.next_sequence().unwrap()
        };
        let store = SledStore::open(&path).unwrap();
        assert_eq!(store.get(b"p2").unwrap().unwrap(), b"two");
        assert_eq!(store.get(b"p1").unwrap(), None);
        assert!(store.next_sequence().unwrap() > last);
    }
}
