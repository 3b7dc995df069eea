//! The `Cache` trait (the resolve hot path) and `CacheAdmin` (inspection and maintenance).

use crate::{CacheError, CacheStats, Diagnostic, Entry, EntryMeta, Key, Namespace, NamespaceStats};

/// A namespaced key/value cache of resolution answers: the calls a resolver makes.
///
/// Object-safe (`Box<dyn Cache>`, `Arc<dyn Cache>`) and shareable between threads. Inspection
/// and maintenance calls live in [`CacheAdmin`], so a resolver holding a `dyn Cache` needs
/// (and a new backend implements) only the hot path.
///
/// # Durability
/// For a durable backend ([`CacheAdmin::is_durable`]: the SQLite store, and the tiered cache
/// while its SQLite tier is attached), [`put`](Cache::put), [`put_many`](Cache::put_many),
/// [`remove`](Cache::remove) and [`remove_where`](Cache::remove_where) return `Ok` only after
/// their change is committed: it survives `kill -9` of this process and is visible to other
/// processes. (Surviving an OS crash or power loss as well needs
/// [`Durability::PowerSafe`](crate::Durability::PowerSafe).) Backends that also buffer writes
/// (`SqliteCache::put_buffered`, `TieredCache::put_buffered`) commit them on
/// [`flush`](Cache::flush).
///
/// A memory-only cache is never durable: everything is lost with the process.
///
/// The cache never evicts by age: each [`Entry`] carries its freshness and the policy layer
/// decides what to serve. Only the memory tier evicts, by size.
pub trait Cache: Send + Sync + std::fmt::Debug {
    /// The entry under `key`, if any. Never consults the network; errors only on store failure.
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError>;

    /// Stores `entry` under `key`, replacing any previous one. Durable on `Ok` (see above).
    fn put(&self, key: Key, entry: Entry) -> Result<(), CacheError>;

    /// Stores every pair in one transaction: all or nothing, durable on `Ok`.
    fn put_many(&self, entries: Vec<(Key, Entry)>) -> Result<(), CacheError>;

    /// Removes one entry; `true` if there was one.
    fn remove(&self, key: &Key) -> Result<bool, CacheError>;

    /// Removes every entry (of `namespace`, or of all namespaces for `None`) for which
    /// `predicate` returns true, judging by key and metadata only (payloads are not loaded),
    /// e.g. a project's moving entries after an `entity.version.*` event, or a whole namespace
    /// with `|_, _| true`. Returns how many were removed.
    fn remove_where(
        &self,
        namespace: Option<&Namespace>,
        predicate: &dyn Fn(&Key, &EntryMeta) -> bool,
    ) -> Result<u64, CacheError>;

    /// After an entity event for `namespace`'s project: removes the entries `predicate` picks
    /// (its moving and negative answers) like [`remove_where`](Cache::remove_where), and, for
    /// a cache with a shared tier, drops them there too and tells every other process sharing
    /// it to drop theirs. The default is the local removal. Returns how many local entries
    /// were removed.
    fn invalidate(
        &self,
        namespace: &Namespace,
        predicate: &dyn Fn(&Key, &EntryMeta) -> bool,
    ) -> Result<u64, CacheError> {
        self.remove_where(Some(namespace), predicate)
    }

    /// A count that grows whenever entries were invalidated from outside this handle (another
    /// process, through a shared tier), so a caller that fetched an answer meanwhile can tell
    /// it may be old and not store it as fresh. Default: always 0.
    fn invalidations(&self) -> u64 {
        0
    }

    /// Commits every buffered write; durable on `Ok`. Backends that never buffer keep the
    /// default, which does nothing.
    fn flush(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

/// What a tool (`ayon cache stats`, `ayon doctor`, tests) needs beyond the hot path: sizes,
/// counters, diagnostics, and clearing everything.
///
/// A supertrait of [`Cache`], so a `&dyn CacheAdmin` also resolves.
pub trait CacheAdmin: Cache {
    /// Number of entries held. For SQLite, committed entries only: buffered writes count once
    /// flushed. `len`, `size_bytes` and `namespaces` read the store and may cost a scan.
    fn len(&self) -> Result<u64, CacheError>;

    /// True if [`len`](CacheAdmin::len) is zero.
    fn is_empty(&self) -> Result<bool, CacheError> {
        Ok(self.len()? == 0)
    }

    /// Payload bytes held.
    fn size_bytes(&self) -> Result<u64, CacheError>;

    /// Entries and bytes per namespace, sorted by namespace.
    fn namespaces(&self) -> Result<Vec<NamespaceStats>, CacheError>;

    /// Hit/miss counters, size, last error, degraded flag.
    fn stats(&self) -> CacheStats;

    /// Recent events worth telling a user (stores moved aside, degradation, failed writes).
    fn diagnostics(&self) -> Vec<Diagnostic>;

    /// Removes every entry of every namespace. Durable on `Ok` like the [`Cache`] writes.
    fn clear(&self) -> Result<(), CacheError>;

    /// Whether `Ok` from `put` means the entry survives this process (see [`Cache`]).
    fn is_durable(&self) -> bool;
}
