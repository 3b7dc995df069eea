//! `MemoryCache`: the in-process tier, bounded by bytes and shared by all threads.

use std::cell::Cell;
use std::collections::BTreeMap;

use quick_cache::sync::Cache as QuickCache;
use quick_cache::{OptionsBuilder, Weighter};

use crate::stats::{DiagnosticsLog, TierCounters};
use crate::{
    Cache, CacheAdmin, CacheError, CacheStats, Diagnostic, Entry, EntryMeta, Key, Namespace,
    NamespaceStats,
};

/// Bookkeeping bytes charged per entry on top of key and payload (hash slot, metadata, Arcs),
/// so a cache of many tiny entries still respects its byte bound.
const ENTRY_OVERHEAD: u64 = 128;

/// Default bound of [`MemoryCache::default`]: 64 MiB.
pub const DEFAULT_MEMORY_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, Default)]
struct ByteWeighter;

impl Weighter<Key, Entry> for ByteWeighter {
    fn weight(&self, key: &Key, entry: &Entry) -> u64 {
        key.byte_len() as u64 + entry.size() as u64 + ENTRY_OVERHEAD
    }
}

/// A memory cache bounded by bytes (keys + payloads + a fixed per-entry overhead), built on
/// `quick_cache`: sharded, and a lookup takes only a shard read lock, so threads scale.
///
/// When full it evicts by size with quick_cache's CLOCK-Pro policy (never by age). Nothing it
/// holds survives the process ([`CacheAdmin::is_durable`] is false); `flush` is a no-op.
#[derive(Debug)]
pub struct MemoryCache {
    inner: QuickCache<Key, Entry, ByteWeighter>,
    counters: TierCounters,
    log: DiagnosticsLog,
}

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache::new(DEFAULT_MEMORY_BYTES)
    }
}

impl MemoryCache {
    /// A cache holding at most about `max_bytes` (at least 64 KiB).
    pub fn new(max_bytes: u64) -> MemoryCache {
        let max_bytes = max_bytes.max(64 * 1024);
        let estimated_items = (max_bytes / 1024).clamp(16, 1 << 20) as usize;
        let inner = match OptionsBuilder::new()
            .estimated_items_capacity(estimated_items)
            .weight_capacity(max_bytes)
            .build()
        {
            Ok(options) => QuickCache::with_options(
                options,
                ByteWeighter,
                Default::default(),
                Default::default(),
            ),
            // Only reachable with nonsensical options; fall back to the plain constructor.
            Err(_) => QuickCache::with(
                estimated_items,
                max_bytes,
                ByteWeighter,
                Default::default(),
                Default::default(),
            ),
        };
        MemoryCache {
            inner,
            counters: TierCounters::default(),
            log: DiagnosticsLog::default(),
        }
    }

    /// The byte bound.
    pub fn capacity_bytes(&self) -> u64 {
        self.inner.capacity()
    }

    /// Looks up without counting a hit or miss (the tiered cache counts for itself).
    #[inline]
    pub(crate) fn get_uncounted(&self, key: &Key) -> Option<Entry> {
        self.inner.get(key)
    }

    pub(crate) fn insert(&self, key: Key, entry: Entry) {
        self.inner.insert(key, entry);
    }

    pub(crate) fn payload_bytes(&self) -> u64 {
        self.inner.iter().map(|(_, e)| e.size() as u64).sum()
    }
}

impl Cache for MemoryCache {
    #[inline]
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError> {
        let found = self.inner.get(key);
        self.counters.record(found.is_some());
        Ok(found)
    }

    fn put(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
        self.inner.insert(key, entry);
        Ok(())
    }

    fn put_many(&self, entries: Vec<(Key, Entry)>) -> Result<(), CacheError> {
        for (k, e) in entries {
            self.inner.insert(k, e);
        }
        Ok(())
    }

    fn remove(&self, key: &Key) -> Result<bool, CacheError> {
        Ok(self.inner.remove(key).is_some())
    }

    fn remove_where(
        &self,
        namespace: Option<&Namespace>,
        predicate: &dyn Fn(&Key, &EntryMeta) -> bool,
    ) -> Result<u64, CacheError> {
        let removed = Cell::new(0u64);
        self.inner.retain(|k, e| {
            let hit =
                namespace.is_none_or(|ns| k.namespace() == ns.as_str()) && predicate(k, e.meta());
            if hit {
                removed.set(removed.get() + 1);
            }
            !hit
        });
        Ok(removed.get())
    }
}

impl CacheAdmin for MemoryCache {
    fn clear(&self) -> Result<(), CacheError> {
        self.inner.clear();
        Ok(())
    }

    fn len(&self) -> Result<u64, CacheError> {
        Ok(self.inner.len() as u64)
    }

    fn size_bytes(&self) -> Result<u64, CacheError> {
        Ok(self.payload_bytes())
    }

    fn namespaces(&self) -> Result<Vec<NamespaceStats>, CacheError> {
        let mut by_ns: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for (k, e) in self.inner.iter() {
            let slot = by_ns.entry(k.namespace().to_owned()).or_default();
            slot.0 += 1;
            slot.1 += e.size() as u64;
        }
        Ok(by_ns
            .into_iter()
            .map(|(namespace, (entries, bytes))| NamespaceStats {
                namespace,
                entries,
                bytes,
            })
            .collect())
    }

    fn stats(&self) -> CacheStats {
        CacheStats {
            memory: Some(self.counters.snapshot()),
            entries: self.inner.len() as u64,
            bytes: self.payload_bytes(),
            last_error: self.log.last_error(),
            ..CacheStats::default()
        }
    }

    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.log.snapshot()
    }

    fn is_durable(&self) -> bool {
        false
    }
}
