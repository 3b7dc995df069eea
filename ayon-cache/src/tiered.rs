//! `TieredCache`: memory over SQLite, degrading to memory-only when the disk cannot be used.

use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use crate::memory::DEFAULT_MEMORY_BYTES;
use crate::stats::{DiagnosticKind, DiagnosticsLog, TierCounters};
use crate::{
    Cache, CacheAdmin, CacheError, CacheStats, Diagnostic, Entry, EntryMeta, Key, MemoryCache,
    Namespace, NamespaceStats, SqliteCache, SqliteCacheBuilder,
};
use crate::{Freshness, RedisConfig};
#[cfg(feature = "redis")]
use crate::{RedisCache, SharedTierStats};

/// Which entries a rule applies to, judged by key and metadata (see
/// [`TieredCacheBuilder::share_filter`]).
pub type EntryFilter = Arc<dyn Fn(&Key, &EntryMeta) -> bool + Send + Sync>;

/// Called after another process's invalidation was applied to the local tiers, with its
/// namespace (`None`: every namespace, after the subscriber reconnected and may have missed
/// some), so a host can drop answers it keeps above the cache.
pub type InvalidationHook = Arc<dyn Fn(Option<&Namespace>) + Send + Sync>;

/// An [`EntryFilter`] that can sit in a `Debug` builder.
#[derive(Clone)]
// Read only by the shared tier, which a build without feature `redis` does not have.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
struct Filter(EntryFilter);

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Filter(..)")
    }
}

/// An [`InvalidationHook`] that can sit in a `Debug` builder.
#[derive(Clone)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
struct Hook(InvalidationHook);

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hook(..)")
    }
}

impl Filter {
    fn everything() -> Filter {
        Filter(Arc::new(|_, _| true))
    }

    fn not_immutable() -> Filter {
        Filter(Arc::new(|_, m| m.freshness != Freshness::Immutable))
    }
}

/// Number of key stripes serialising writes and promotions of the same key.
const STRIPES: usize = 64;

/// Configures a [`TieredCache`].
#[derive(Debug, Clone)]
pub struct TieredCacheBuilder {
    memory_bytes: u64,
    sqlite: SqliteCacheBuilder,
    persistent: bool,
    redis: Option<RedisConfig>,
    share: Filter,
    on_invalidation: Filter,
    hook: Option<Hook>,
}

impl Default for TieredCacheBuilder {
    fn default() -> Self {
        TieredCacheBuilder {
            memory_bytes: DEFAULT_MEMORY_BYTES,
            sqlite: SqliteCache::builder(),
            persistent: true,
            redis: None,
            share: Filter::everything(),
            on_invalidation: Filter::not_immutable(),
            hook: None,
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

    /// Adds the shared tier below the local ones: memory → SQLite → Redis. A local miss asks
    /// Redis and a Redis hit fills the local tiers; every write also goes to Redis (immutable
    /// entries without expiry, moving ones with their TTL, negative ones never). `None` (e.g.
    /// from [`RedisConfig::from_env`] with the variable unset) keeps the cache local. A build
    /// without feature `redis` leaves a configured tier out and says so in
    /// [`CacheAdmin::diagnostics`].
    pub fn redis(mut self, config: Option<RedisConfig>) -> Self {
        self.redis = config;
        self
    }

    /// The shared tier from `AYON_OFFLINE_REDIS_URL` (and `AYON_OFFLINE_REDIS_PREFIX`), if set.
    pub fn redis_from_env(self) -> Self {
        self.redis(RedisConfig::from_env())
    }

    /// Which writes go to the shared tier besides the built-in rule (never negative entries):
    /// e.g. keep per-site data such as site roots local. Default: all.
    pub fn share_filter(mut self, filter: EntryFilter) -> Self {
        self.share = Filter(filter);
        self
    }

    /// Which local entries an invalidation from another process drops, within its namespace.
    /// Default: every entry that is not immutable (moving and negative answers).
    pub fn invalidation_filter(mut self, filter: EntryFilter) -> Self {
        self.on_invalidation = Filter(filter);
        self
    }

    /// Called (on the subscriber's thread) after another process's invalidation was applied
    /// here, so a host can drop the answers it keeps above the cache. Keep it short.
    pub fn on_remote_invalidation(mut self, hook: InvalidationHook) -> Self {
        self.hook = Some(Hook(hook));
        self
    }

    /// Builds the cache. Never fails: if the persistent tier cannot be opened (read-only or
    /// full disk, no cache directory, lock timeout) the cache runs memory-only, logs a `tracing`
    /// warning and says so in [`CacheAdmin::stats`] (`degraded`) and [`CacheAdmin::diagnostics`].
    /// Likewise a shared tier whose URL is unusable is left out and reported.
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
        let local = Arc::new(Local {
            memory: MemoryCache::new(self.memory_bytes),
            persistent,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
            log,
            memory_counters: TierCounters::default(),
            remote_invalidations: std::sync::atomic::AtomicU64::new(0),
        });
        #[cfg(feature = "redis")]
        let shared = self.redis.and_then(|config| {
            Shared::open(config, &local, self.share, self.on_invalidation, self.hook)
        });
        #[cfg(not(feature = "redis"))]
        if let Some(config) = self.redis {
            let _ = (self.share, self.on_invalidation, self.hook);
            let message = format!(
                "shared tier {} left out: this build has no Redis support (ayon-cache feature `redis`)",
                config.shown_url()
            );
            tracing::warn!(target: "ayon_cache", "{message}");
            local.log.push(DiagnosticKind::SharedTierOff, message);
        }
        TieredCache {
            #[cfg(feature = "redis")]
            shared,
            local,
            degraded,
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
///
/// With a shared tier (feature `redis`, `TieredCacheBuilder::redis`): a local miss asks
/// Redis and a Redis hit fills the local tiers; writes go through to Redis (never negative
/// entries); Redis failures are never errors here (see `RedisCache`). A background thread
/// applies other processes' invalidations to the local tiers.
#[derive(Debug)]
pub struct TieredCache {
    local: Arc<Local>,
    degraded: bool,
    #[cfg(feature = "redis")]
    shared: Option<Shared>,
}

/// The local tiers, shared with the invalidation subscriber's thread.
#[derive(Debug)]
struct Local {
    memory: MemoryCache,
    persistent: Option<SqliteCache>,
    stripes: Vec<Mutex<()>>,
    hasher: std::collections::hash_map::RandomState,
    log: DiagnosticsLog,
    memory_counters: TierCounters,
    /// Invalidations from other processes applied here ([`Cache::invalidations`]).
    remote_invalidations: std::sync::atomic::AtomicU64,
}

/// The shared tier of a tiered cache and its subscriber.
#[cfg(feature = "redis")]
#[derive(Debug)]
struct Shared {
    redis: Arc<RedisCache>,
    share: Filter,
    subscribed: Arc<std::sync::atomic::AtomicBool>,
    // Dropped (thread stopped) before `redis` goes; declared last for clarity only.
    _subscription: Option<crate::redis::subscribe::Subscription>,
}

#[cfg(feature = "redis")]
impl Shared {
    fn open(
        config: RedisConfig,
        local: &Arc<Local>,
        share: Filter,
        on_invalidation: Filter,
        hook: Option<Hook>,
    ) -> Option<Shared> {
        let subscribes = config.subscribes();
        let redis = match config.open() {
            Ok(r) => Arc::new(r),
            Err(e) => {
                let message = format!("shared tier left out: {e}");
                tracing::warn!(target: "ayon_cache", "{message}");
                local.log.set_last_error(message.clone());
                local.log.push(DiagnosticKind::SharedTierOff, message);
                return None;
            }
        };
        let subscribed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let subscription = if subscribes {
            let weak = Arc::downgrade(local);
            let filter = on_invalidation.0;
            crate::redis::subscribe::start(
                redis.clone(),
                Box::new(move |namespace: Option<&Namespace>| {
                    if let Some(local) = weak.upgrade() {
                        let _ = local.remove_where(namespace, &*filter);
                        local
                            .remote_invalidations
                            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    }
                    if let Some(hook) = &hook {
                        (hook.0)(namespace);
                    }
                }),
                subscribed.clone(),
            )
        } else {
            None
        };
        Some(Shared {
            redis,
            share,
            subscribed,
            _subscription: subscription,
        })
    }

    fn put_many(&self, entries: &[(Key, Entry)]) {
        let shared: Vec<(Key, Entry)> = entries
            .iter()
            .filter(|(k, e)| (self.share.0)(k, e.meta()))
            .cloned()
            .collect();
        if !shared.is_empty() {
            let _ = self.redis.put_many(shared);
        }
        // After the answers are in Redis, so a waiting peer finds them rather than a gap.
        self.redis.release_claims(entries.iter().map(|(k, _)| k));
    }
}

impl TieredCache {
    /// A builder with the defaults (64 MiB memory, store in the default cache directory).
    pub fn builder() -> TieredCacheBuilder {
        TieredCacheBuilder::default()
    }

    /// The persistent tier, if attached.
    pub fn persistent(&self) -> Option<&SqliteCache> {
        self.local.persistent.as_ref()
    }

    /// True when a persistent tier was asked for and could not be opened.
    pub fn is_degraded(&self) -> bool {
        self.degraded
    }

    /// The shared tier, if configured.
    #[cfg(feature = "redis")]
    pub fn shared(&self) -> Option<&RedisCache> {
        self.shared.as_ref().map(|s| &*s.redis)
    }

    /// Whether the invalidation subscriber is listening (it connects in the background; false
    /// without a shared tier or while Redis is unreachable at start).
    #[cfg(feature = "redis")]
    pub fn is_subscribed(&self) -> bool {
        self.shared
            .as_ref()
            .is_some_and(|s| s.subscribed.load(std::sync::atomic::Ordering::Acquire))
    }

    /// Like [`put`](Cache::put) for this process, but the persistent write is only queued
    /// ([`SqliteCache::put_buffered`]): durable after [`flush`](Cache::flush). Shared like a
    /// `put`.
    pub fn put_buffered(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
        #[cfg(feature = "redis")]
        if let Some(s) = &self.shared {
            s.put_many(&[(key.clone(), entry.clone())]);
        }
        self.local.put_buffered(key, entry)
    }
}

impl Local {
    fn put_buffered(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
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

impl Cache for Local {
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

impl Local {
    /// Stores an answer from the shared tier unless a local write got there first; returns what
    /// the local tiers hold now. The persistent write is buffered: the entry can be fetched again.
    #[cfg(feature = "redis")]
    fn fill(&self, key: &Key, entry: Entry) -> Entry {
        let _guard = self.stripes[self.stripe(key)].lock();
        if let Some(e) = self.memory.get_uncounted(key) {
            return e;
        }
        if let Some(p) = &self.persistent {
            if let Ok(Some(e)) = p.get_uncounted(key) {
                self.memory.insert(key.clone(), e.clone());
                return e;
            }
            if let Err(e) = p.put_buffered(key.clone(), entry.clone()) {
                self.record_write_failure(&e);
            }
        }
        self.memory.insert(key.clone(), entry.clone());
        entry
    }
}

/// Reads: memory, SQLite, then the shared tier (when configured; its hit fills the local
/// tiers). Writes: SQLite, memory, then the shared tier (fail-open: a Redis failure never
/// becomes an error here). `remove_where` is local: shared moving entries are dropped by
/// `TieredCache::invalidate` (feature `redis`).
impl Cache for TieredCache {
    #[inline]
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError> {
        let found = self.local.get(key)?;
        #[cfg(feature = "redis")]
        if found.is_none()
            && let Some(s) = &self.shared
        {
            if let Ok(Some(e)) = s.redis.get(key) {
                return Ok(Some(self.local.fill(key, e)));
            }
            if let Some(e) = s.redis.await_peer(key) {
                return Ok(Some(self.local.fill(key, e)));
            }
        }
        Ok(found)
    }

    fn put(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
        #[cfg(feature = "redis")]
        if let Some(s) = &self.shared {
            let result = self.local.put(key.clone(), entry.clone());
            s.put_many(&[(key, entry)]);
            return result;
        }
        self.local.put(key, entry)
    }

    fn put_many(&self, entries: Vec<(Key, Entry)>) -> Result<(), CacheError> {
        #[cfg(feature = "redis")]
        if let Some(s) = &self.shared {
            s.put_many(&entries);
        }
        self.local.put_many(entries)
    }

    fn remove(&self, key: &Key) -> Result<bool, CacheError> {
        let removed = self.local.remove(key)?;
        #[cfg(feature = "redis")]
        if let Some(s) = &self.shared {
            let _ = s.redis.remove(key);
        }
        Ok(removed)
    }

    fn remove_where(
        &self,
        namespace: Option<&Namespace>,
        predicate: &dyn Fn(&Key, &EntryMeta) -> bool,
    ) -> Result<u64, CacheError> {
        self.local.remove_where(namespace, predicate)
    }

    /// Drops this process's entries `predicate` picks; with a shared tier also drops the
    /// shared moving entries of `namespace` and tells every subscribed process to drop its own
    /// (with its invalidation filter). Redis failures are not errors here.
    fn invalidate(
        &self,
        namespace: &Namespace,
        predicate: &dyn Fn(&Key, &EntryMeta) -> bool,
    ) -> Result<u64, CacheError> {
        let dropped = self.local.remove_where(Some(namespace), predicate)?;
        #[cfg(feature = "redis")]
        if let Some(s) = &self.shared {
            s.redis.publish_invalidation(namespace);
        }
        Ok(dropped)
    }

    fn invalidations(&self) -> u64 {
        self.local
            .remote_invalidations
            .load(std::sync::atomic::Ordering::Acquire)
    }

    fn flush(&self) -> Result<(), CacheError> {
        self.local.flush()
    }
}

impl CacheAdmin for TieredCache {
    fn clear(&self) -> Result<(), CacheError> {
        let _guards = self.local.lock_all();
        self.local.memory.clear()?;
        self.local.persist(|p| p.clear())
    }

    fn len(&self) -> Result<u64, CacheError> {
        match &self.local.persistent {
            Some(p) => p.len(),
            None => self.local.memory.len(),
        }
    }

    fn size_bytes(&self) -> Result<u64, CacheError> {
        match &self.local.persistent {
            Some(p) => p.size_bytes(),
            None => self.local.memory.size_bytes(),
        }
    }

    fn namespaces(&self) -> Result<Vec<NamespaceStats>, CacheError> {
        match &self.local.persistent {
            Some(p) => p.namespaces(),
            None => self.local.memory.namespaces(),
        }
    }

    fn stats(&self) -> CacheStats {
        let (entries, bytes, persistent, persistent_error) = match &self.local.persistent {
            Some(p) => {
                let s = p.stats();
                (s.entries, s.bytes, s.persistent, s.last_error)
            }
            None => (
                self.local.memory.len().unwrap_or(0),
                self.local.memory.payload_bytes(),
                None,
                None,
            ),
        };
        CacheStats {
            memory: Some(self.local.memory_counters.snapshot()),
            persistent,
            entries,
            bytes,
            last_error: self.local.log.last_error().or(persistent_error),
            degraded: self.degraded,
            #[cfg(feature = "redis")]
            shared: self.shared.as_ref().map(|s| SharedTierStats {
                subscribed: s.subscribed.load(std::sync::atomic::Ordering::Acquire),
                ..s.redis.shared_stats()
            }),
            #[cfg(not(feature = "redis"))]
            shared: None,
        }
    }

    fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut all = self
            .local
            .persistent
            .as_ref()
            .map(|p| p.log().snapshot())
            .unwrap_or_default();
        all.extend(self.local.log.snapshot());
        #[cfg(feature = "redis")]
        if let Some(s) = &self.shared {
            all.extend(s.redis.diagnostics());
        }
        all.sort_by_key(|d| d.at);
        all
    }

    fn is_durable(&self) -> bool {
        self.local.persistent.is_some()
    }
}
