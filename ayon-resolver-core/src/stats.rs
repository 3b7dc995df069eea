//! Counters per tier, so a host (or `ayon doctor`) can see where answers come from.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Slots per counter: threads add to their own slot, so the hot path never fights over one
/// cache line (a shared counter cost more than the lookup it counts on two threads).
const SLOTS: usize = 8;

/// One slot per cache line.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Slot(AtomicU64);

/// A counter many threads add to without contention; read by summing.
#[derive(Debug, Default)]
pub(crate) struct Counter {
    slots: [Slot; SLOTS],
}

impl Counter {
    /// Adds `n` (relaxed, on this thread's slot).
    pub(crate) fn fetch_add(&self, n: u64, _order: Ordering) {
        self.slots[thread_slot()].0.fetch_add(n, Ordering::Relaxed);
    }

    fn load(&self, _order: Ordering) -> u64 {
        self.slots.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

/// This thread's slot, assigned round-robin on first use.
fn thread_slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS;
    }
    SLOT.with(|s| *s)
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) memory: Counter,
    pub(crate) pinning: Counter,
    pub(crate) filesystem: Counter,
    pub(crate) server: Counter,
    pub(crate) cache: Counter,
    pub(crate) stale: Counter,
    pub(crate) index: Counter,
    pub(crate) offline: Counter,
    pub(crate) misses: Counter,
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
        let g = |c: &Counter| c.load(Ordering::Relaxed);
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
