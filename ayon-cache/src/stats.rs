//! Hit/miss counters, store statistics and the diagnostics log.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::SystemTime;

use parking_lot::Mutex;

/// Hits and misses of one tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TierStats {
    /// Lookups answered by this tier.
    pub hits: u64,
    /// Lookups this tier could not answer.
    pub misses: u64,
}

/// A snapshot of a cache's counters and size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Memory tier counters (`None` if the cache has no memory tier).
    pub memory: Option<TierStats>,
    /// Persistent tier counters (`None` if the cache has no persistent tier, or lost it).
    pub persistent: Option<TierStats>,
    /// Entries held (the persistent tier's count when there is one).
    pub entries: u64,
    /// Payload bytes held (the persistent tier's sum when there is one).
    pub bytes: u64,
    /// The most recent error, if any, as text.
    pub last_error: Option<String>,
    /// True when a persistent tier was asked for but the cache runs memory-only.
    pub degraded: bool,
    /// The shared (Redis) tier, when the cache has one.
    pub shared: Option<SharedTierStats>,
}

/// Whether the shared tier's circuit breaker lets calls through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go to Redis.
    #[default]
    Closed,
    /// Too many consecutive failures: calls skip Redis (a miss, no wait) until the cooldown ends.
    Open,
    /// The cooldown is over: the next call probes Redis and closes or reopens the breaker.
    HalfOpen,
}

/// Counters of the shared (Redis) tier: what `ayon doctor` shows about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharedTierStats {
    /// The Redis URL, without any password (see `RedisConfig::shown_url`).
    pub url: String,
    /// Whether this process listens for other processes' invalidations right now.
    pub subscribed: bool,
    /// Lookups answered by Redis.
    pub hits: u64,
    /// Lookups Redis could not answer (absent, another format version, corrupt).
    pub misses: u64,
    /// Calls that failed or timed out (each answered as a miss or skipped write).
    pub errors: u64,
    /// Calls not made because the breaker was open.
    pub skipped: u64,
    /// The breaker now.
    pub breaker: BreakerState,
    /// Invalidations received from other processes and applied to the local tiers.
    pub invalidations_received: u64,
    /// The most recent Redis failure, as text (never with the password).
    pub last_error: Option<String>,
}

/// Entries and payload bytes of one namespace (`ayon cache stats`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceStats {
    /// The namespace as stored.
    pub namespace: String,
    /// Entries in it.
    pub entries: u64,
    /// Payload bytes in it.
    pub bytes: u64,
}

/// Why a store file was not usable and was moved aside.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidStore {
    /// Not an SQLite database, or a damaged one (garbage, truncated, failed integrity check).
    Corrupt,
    /// Written by a newer release of this crate with a store format we cannot read.
    NewerFormat {
        /// The format version in the file.
        found: u32,
        /// The newest this build reads.
        supported: u32,
    },
    /// A valid SQLite database that is not an AYON cache (another application's file).
    Foreign,
}

/// What a diagnostics entry is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// An invalid store was renamed to `to` and a fresh one created at `from`.
    MovedAside {
        /// The store path (now holding a fresh store).
        from: PathBuf,
        /// Where the invalid file went.
        to: PathBuf,
        /// Why it was invalid.
        reason: InvalidStore,
    },
    /// The tiered cache runs memory-only: nothing written now survives the process.
    Degraded,
    /// A write to the persistent tier failed (the memory tier still holds the entry).
    WriteFailed,
    /// A read from the persistent tier failed (answered as a miss).
    ReadFailed,
    /// The shared tier's breaker opened after repeated Redis failures: Redis is skipped for a
    /// while, lookups go to the local tiers and the server.
    SharedTierOff,
    /// The shared tier's breaker closed again: Redis answers.
    SharedTierOn,
}

/// One event worth telling a user about (also logged with `tracing`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// When it happened.
    pub at: SystemTime,
    /// What kind of event.
    pub kind: DiagnosticKind,
    /// A sentence naming the file and the cause.
    pub message: String,
}

/// How many diagnostics are kept (oldest dropped first).
const DIAGNOSTICS_KEPT: usize = 64;

/// A bounded, shared log of diagnostics plus the last error.
#[derive(Debug, Default)]
pub(crate) struct DiagnosticsLog {
    entries: Mutex<VecDeque<Diagnostic>>,
    last_error: Mutex<Option<String>>,
}

impl DiagnosticsLog {
    pub(crate) fn push(&self, kind: DiagnosticKind, message: String) {
        let mut entries = self.entries.lock();
        if entries.len() == DIAGNOSTICS_KEPT {
            entries.pop_front();
        }
        entries.push_back(Diagnostic {
            at: SystemTime::now(),
            kind,
            message,
        });
    }

    pub(crate) fn set_last_error(&self, message: String) {
        *self.last_error.lock() = Some(message);
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error.lock().clone()
    }

    pub(crate) fn snapshot(&self) -> Vec<Diagnostic> {
        self.entries.lock().iter().cloned().collect()
    }
}

const STRIPES: usize = 16;

#[repr(align(128))]
#[derive(Debug, Default)]
struct Padded(AtomicU64);

/// A counter striped over cache lines so that threads counting hits do not fight over one line
/// (a single shared atomic would undo the memory tier's multi-thread scaling).
#[derive(Debug, Default)]
pub(crate) struct Counter([Padded; STRIPES]);

static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static STRIPE: usize = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
}

impl Counter {
    #[inline]
    pub(crate) fn incr(&self) {
        let i = STRIPE.with(|s| *s);
        self.0[i].0.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.iter().map(|p| p.0.load(Ordering::Relaxed)).sum()
    }
}

/// Hit and miss counters of one tier.
#[derive(Debug, Default)]
pub(crate) struct TierCounters {
    pub(crate) hits: Counter,
    pub(crate) misses: Counter,
}

impl TierCounters {
    pub(crate) fn snapshot(&self) -> TierStats {
        TierStats {
            hits: self.hits.get(),
            misses: self.misses.get(),
        }
    }

    #[inline]
    pub(crate) fn record(&self, hit: bool) {
        if hit {
            self.hits.incr()
        } else {
            self.misses.incr()
        }
    }
}
