//! Counters per tier, so a host (or `ayon doctor`) can see where answers come from.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) memory: AtomicU64,
    pub(crate) pinning: AtomicU64,
    pub(crate) filesystem: AtomicU64,
    pub(crate) server: AtomicU64,
    pub(crate) cache: AtomicU64,
    pub(crate) stale: AtomicU64,
    pub(crate) index: AtomicU64,
    pub(crate) offline: AtomicU64,
    pub(crate) misses: AtomicU64,
}

/// What a resolver answered from, since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResolverStats {
    /// Answers from the resolver's decoded-answer cache (the hot path).
    pub memory_hits: u64,
    /// Answers from a pinning file.
    pub pinning_hits: u64,
    /// File paths found on disk (or through a mapping pair).
    pub filesystem_hits: u64,
    /// Answers the server gave just now.
    pub server_answers: u64,
    /// Fresh answers from the client's persistent cache.
    pub cache_answers: u64,
    /// Cache answers past their freshness (offline or the server failing).
    pub stale_answers: u64,
    /// Answers from a prepared project's local index.
    pub index_answers: u64,
    /// URIs that failed because the server was unreachable and nothing was cached.
    pub offline_failures: u64,
    /// Everything else that did not resolve (not found, not pinned, invalid, config).
    pub misses: u64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> ResolverStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ResolverStats {
            memory_hits: g(&self.memory),
            pinning_hits: g(&self.pinning),
            filesystem_hits: g(&self.filesystem),
            server_answers: g(&self.server),
            cache_answers: g(&self.cache),
            stale_answers: g(&self.stale),
            index_answers: g(&self.index),
            offline_failures: g(&self.offline),
            misses: g(&self.misses),
        }
    }
}
