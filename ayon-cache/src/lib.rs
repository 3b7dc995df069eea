//! The cache under AYON offline resolution: what it stores survives a crash, a reboot, and a
//! second DCC using the same cache at the same time.
//!
//! - [`Cache`]: the object-safe, `Send + Sync` hot path (get, put, put_many, remove, remove by
//!   predicate, invalidate after an entity event, flush). Its docs say exactly which calls are
//!   durable on return.
//! - [`CacheAdmin`]: inspection and maintenance (len/size, namespaces, stats, diagnostics,
//!   clear, durability), for tools and tests.
//! - [`MemoryCache`]: bounded by bytes, sharded (`quick_cache`); lookups scale across threads.
//! - [`SqliteCache`]: one SQLite file (WAL) in the per-user cache directory, shared safely by
//!   several processes; invalid files are moved aside and replaced, never a panic.
//! - [`TieredCache`]: memory over SQLite, degrading to memory-only (and saying so) when the
//!   directory cannot be written; with feature `redis`, optionally over a shared Redis tier.
//! - `RedisCache` (feature `redis`): the shared tier a farm or studio puts between the local
//!   tiers and the server, fail-open (short timeouts, a circuit breaker), with cross-process
//!   invalidation of moving entries. Configured by `AYON_OFFLINE_REDIS_URL` ([`RedisConfig`],
//!   present in every build; a build without the feature leaves a configured tier out and says
//!   so in its diagnostics).
//!
//! Keys are namespaced ([`Namespace::for_server`]: server URL + project). Entries carry their
//! freshness class, source and format version; the cache never evicts by age, the policy layer
//! above decides what is fresh. The crate knows nothing about HTTP.

mod cache;
mod entry;
mod error;
mod key;
mod location;
mod memory;
#[cfg(feature = "redis")]
mod redis;
mod shared_config;
mod sqlite;
mod stats;
mod tiered;

pub use cache::{Cache, CacheAdmin};
pub use entry::{ENTRY_FORMAT_VERSION, Entry, EntryMeta, Freshness, Source, Value};
pub use error::CacheError;
pub use key::{Key, Namespace};
pub use location::{CACHE_DIR_ENV, STORE_FILE_NAME, resolve_cache_dir, store_path};
pub use memory::{DEFAULT_MEMORY_BYTES, MemoryCache};
#[cfg(feature = "redis")]
pub use redis::RedisCache;
pub use shared_config::{REDIS_CA_FILE_ENV, REDIS_PREFIX_ENV, REDIS_URL_ENV, RedisConfig};
pub use sqlite::file as sqlite_file;
pub use sqlite::{Durability, STORE_FORMAT_VERSION, SqliteCache, SqliteCacheBuilder};
pub use stats::{
    BreakerState, CacheStats, Diagnostic, DiagnosticKind, InvalidStore, NamespaceStats,
    SharedTierStats, TierStats,
};
pub use tiered::{EntryFilter, InvalidationHook, TieredCache, TieredCacheBuilder};

#[cfg(test)]
mod send_sync {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_are_send_sync_and_trait_is_object_safe() {
        assert_send_sync::<MemoryCache>();
        assert_send_sync::<SqliteCache>();
        assert_send_sync::<TieredCache>();
        assert_send_sync::<Box<dyn Cache>>();
        assert_send_sync::<CacheError>();
    }
}
