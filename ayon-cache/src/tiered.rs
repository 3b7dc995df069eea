//! `TieredCache`: memory over SQLite, degrading to memory-only when the disk cannot be used.

use std::collections::BTreeSet;
use std::hash::BuildHasher;

use parking_lot::{Mutex, MutexGuard};

use crate::memory::DEFAULT_MEMORY_BYTES;
use crate::stats::{DiagnosticKind, DiagnosticsLog, TierCounters};
use crate::{
    Cache, CacheAdmin, CacheError, CacheStats, Diagnostic, Entry, EntryMeta, Key, MemoryCache,
    Namespace, NamespaceStats, SqliteCache, SqliteCacheBuilder,
};

/// Number of key stripes serialising writes and promotions of the same key.
const STRIPES: usize = 64;

/// Configures a [`TieredCache`].
#[derive(Debug, Clone)]
pub struct TieredCacheBuilder {
    memory_bytes: u64,
    sqlite: SqliteCacheBuilder,
    persistent: bool,
}

impl Default for TieredCacheBuilder {
    fn default() -> Self {
        TieredCacheBuilder {
            memory_bytes: DEFAULT_MEMORY_BYTES,
            sqlite: SqliteCache::builder(),
            persistent: true,
        }
    }
}

impl TieredCacheBuilder {
    /// Byte bound of the memory tier (default 64 MiB).
    pub fn memory_bytes(mut self, bytes: u64) -> Self {
        self.memory_bytes = bytes;
        self
    }

    /// Settings of the persistent tier (directory, busy timeout, durability, ...).
    pub fn sqlite(mut self, sqlite: SqliteCacheBuilder) -> Self {
        self.sqlite = sqlite;
        self
    }

    /// Shortcut for the persistent tier's directory.
    pub fn dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.sqlite = self.sqlite.dir(dir);
        self
    }

    /// Memory only, on purpose (not reported as degraded).
    pub fn memory_only(mut self) -> Self {
        self.persistent = false;
        self
    }

    /// Builds the cache. Never fails: if the persistent tier cannot be opened (read-only or
    /// full disk, no cache directory, lock timeout) the cache runs memory-only, logs a `tracing`
    /// warning and says so in [`CacheAdmin::stats`] (`degraded`) and [`CacheAdmin::diagnostics`].
    pub fn open(self) -> TieredCache {
        let log = DiagnosticsLog::default();
        let mut degraded = false;
        let persistent = if self.persistent {
            match self.sqlite.open() {
                Ok(s) => Some(s),
                Err(e) => {
                    let message = format!("persistent cache unavailable, running memory-only: {e}");
                    tracing::warn!(target: "ayon_cache", "{message}");
                    log.set_last_error(e.to_string());
                    log.push(DiagnosticKind::Degraded, message);
                    degraded = true;
                    None
                }
            }
        } else {
            None
        };
        TieredCache {
            memory: MemoryCache::new(self.memory_bytes),
            persistent,
            degraded,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
            log,
            memory_counters: TierCounters::default(),
        }
    }
}

/// Memory over SQLite: reads try memory first, then SQLite (a persistent hit is promoted to
/// memory); writes go to SQLite first (durable on `Ok` while the persistent tier is attached)
/// and then to memory.
///
/// If a persistent write fails (e.g. disk full), the entry is still put in memory, the failure
/// is recorded in `stats().last_error` and `diagnostics()`, and the call returns the error so
/// the caller knows it is not durable. A failed persistent read is answered as a miss (and
/// recorded), so resolving keeps working.
///
/// Writes and promotions of one key are serialised by a striped lock, so a promotion of an old
/// value can never overwrite a newer write; memory hits take no lock of ours.
#[derive(Debug)]
pub struct TieredCache {
    memory: MemoryCache,
    persistent: Option<SqliteCache>,
    degraded: bool,
    stripes: Vec<Mutex<()>>,
    hasher: std::collections::hash_map::RandomState,
    log: DiagnosticsLog,
    memory_counters: TierCounters,
}

impl TieredCache {
    /// A builder with the defaults (64 MiB memory, store in the default cache directory).
    pub fn builder() -> TieredCacheBuilder {
        TieredCacheBuilder::default()
    }

    /// The persistent tier, if attached.
    pub fn persistent(&self) -> Option<&SqliteCache> {
        self.persistent.as_ref()
    }

    /// True when a persistent tier was asked for and could not be opened.
    pub fn is_degraded(&self) -> bool {
        self.degraded
    }

    /// Like [`put`](Cache::put) for this process, but the persistent write is only queued
    /// ([`SqliteCache::put_buffered`]): durable after [`flush`](Cache::flush).
    pub fn put_buffered(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
        let _guard = self.stripes[self.stripe(&key)].lock();
        let result = self.persist(|p| p.put_buffered(key.clone(), entry.clone()));
        self.memory.insert(key, entry);
        result
    }

    fn stripe(&self, key: &Key) -> usize {
        (self.hasher.hash_one(key) as usize) % STRIPES
    }

    fn lock_all(&self) -> Vec<MutexGuard<'_, ()>> {
        self.stripes.iter().map(|m| m.lock()).collect()
    }

    fn record_write_failure(&self, e: &CacheError) {
        let message = format!("persistent write failed, entry kept in memory only: {e}");
        tracing::warn!(target: "ayon_cache", "{message}");
        self.log.set_last_error(e.to_string());
        self.log.push(DiagnosticKind::WriteFailed, message);
    }

    /// Runs a persistent write; on failure records it (memory is updated by the caller anyway).
    fn persist(
        &self,
        op: impl FnOnce(&SqliteCache) -> Result<(), CacheError>,
    ) -> Result<(), CacheError> {
        match &self.persistent {
            None => Ok(()),
            Some(p) => op(p).inspect_err(|e| self.record_write_failure(e)),
        }
    }
}

impl Cache for TieredCache {
    #[inline]
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError> {
        if let Some(e) = self.memory.get_uncounted(key) {
            self.memory_counters.hits.incr();
            return Ok(Some(e));
        }
        self.memory_counters.misses.incr();
        let Some(p) = &self.persistent else {
            return Ok(None);
        };
        let _guard = self.stripes[self.stripe(key)].lock();
        // A writer may have filled memory while we waited for the stripe.
        if let Some(e) = self.memory.get_uncounted(key) {
            return Ok(Some(e));
        }
        match p.get_uncounted(key) {
            Ok(Some(e)) => {
                p.counters().hits.incr();
                self.memory.insert(key.clone(), e.clone());
                Ok(Some(e))
            }
            Ok(None) => {
                p.counters().misses.incr();
                Ok(None)
            }
            Err(e) => {
                p.counters().misses.incr();
                let message = format!("persistent read failed, answered as a miss: {e}");
                tracing::warn!(target: "ayon_cache", "{message}");
                self.log.set_last_error(e.to_string());
                self.log.push(DiagnosticKind::ReadFailed, message);
                Ok(None)
            }
        }
    }

    fn put(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
        let _guard = self.stripes[self.stripe(&key)].lock();
        let result = self.persist(|p| p.put(key.clone(), entry.clone()));
        self.memory.insert(key, entry);
        result
    }

    fn put_many(&self, entries: Vec<(Key, Entry)>) -> Result<(), CacheError> {
        let stripes: BTreeSet<usize> = entries.iter().map(|(k, _)| self.stripe(k)).collect();
        let _guards: Vec<_> = stripes
            .into_iter()
            .map(|i| self.stripes[i].lock())
            .collect();
        let result = self.persist(|p| p.put_many(entries.clone()));
        for (k, e) in entries {
            self.memory.insert(k, e);
        }
        result
    }

    fn flush(&self) -> Result<(), CacheError> {
        self.persist(|p| p.flush())
    }

    fn remove(&self, key: &Key) -> Result<bool, CacheError> {
        let _guard = self.stripes[self.stripe(key)].lock();
        let in_memory = self.memory.remove(key)?;
        match &self.persistent {
            None => Ok(in_memory),
            Some(p) => Ok(p
                .remove(key)
                .inspect_err(|e| self.record_write_failure(e))?
                || in_memory),
        }
    }

    fn remove_where(
        &self,
        namespace: Option<&Namespace>,
        predicate: &dyn Fn(&Key, &EntryMeta) -> bool,
    ) -> Result<u64, CacheError> {
        let _guards = self.lock_all();
        let in_memory = self.memory.remove_where(namespace, predicate)?;
        match &self.persistent {
            None => Ok(in_memory),
            Some(p) => p
                .remove_where(namespace, predicate)
                .inspect_err(|e| self.record_write_failure(e)),
        }
    }
}

impl CacheAdmin for TieredCache {
    fn clear(&self) -> Result<(), CacheError> {
        let _guards = self.lock_all();
        self.memory.clear()?;
        self.persist(|p| p.clear())
    }

    fn len(&self) -> Result<u64, CacheError> {
        match &self.persistent {
            Some(p) => p.len(),
            None => self.memory.len(),
        }
    }

    fn size_bytes(&self) -> Result<u64, CacheError> {
        match &self.persistent {
            Some(p) => p.size_bytes(),
            None => self.memory.size_bytes(),
        }
    }

    fn namespaces(&self) -> Result<Vec<NamespaceStats>, CacheError> {
        match &self.persistent {
            Some(p) => p.namespaces(),
            None => self.memory.namespaces(),
        }
    }

    fn stats(&self) -> CacheStats {
        let (entries, bytes, persistent, persistent_error) = match &self.persistent {
            Some(p) => {
                let s = p.stats();
                (s.entries, s.bytes, s.persistent, s.last_error)
            }
            None => (
                self.memory.len().unwrap_or(0),
                self.memory.payload_bytes(),
                None,
                None,
            ),
        };
        CacheStats {
            memory: Some(self.memory_counters.snapshot()),
            persistent,
            entries,
            bytes,
            last_error: self.log.last_error().or(persistent_error),
            degraded: self.degraded,
        }
    }

    fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut all = self
            .persistent
            .as_ref()
            .map(|p| p.log().snapshot())
            .unwrap_or_default();
        all.extend(self.log.snapshot());
        all.sort_by_key(|d| d.at);
        all
    }

    fn is_durable(&self) -> bool {
        self.persistent.is_some()
    }
}
