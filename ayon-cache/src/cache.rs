//! The `Cache` trait every backend implements.

use crate::{CacheError, CacheStats, Diagnostic, Entry, EntryMeta, Key, NamespaceStats};

/// A namespaced key/value cache of resolution answers.
///
/// Object-safe (`Box<dyn Cache>`, `Arc<dyn Cache>`) and shareable between threads.
///
/// # Durability
/// For a backend whose [`is_durable`](Cache::is_durable) is true (the SQLite store, and the
/// tiered cache while its SQLite tier is attached):
/// - [`put`](Cache::put), [`put_many`](Cache::put_many), [`remove`](Cache::remove),
///   [`remove_prefix`](Cache::remove_prefix), [`remove_where`](Cache::remove_where) and
///   [`clear`](Cache::clear) return `Ok` only after their change is committed: it survives
///   `kill -9` of this process and is visible to other processes. (Surviving an OS crash or
///   power loss as well needs [`Durability::PowerSafe`](crate::Durability::PowerSafe).)
/// - [`put_buffered`](Cache::put_buffered) only queues the entry in this process (visible to
///   this process's `get` at once); it becomes durable when [`flush`](Cache::flush) returns `Ok`,
///   when the buffer fills (then that `put_buffered` call commits the whole buffer), or when the
///   cache is dropped. Use it for many small writes; one commit serves them all.
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

    /// Queues a write to be committed with others; durable only after [`flush`](Cache::flush).
    fn put_buffered(&self, key: Key, entry: Entry) -> Result<(), CacheError>;

    /// Commits every buffered write; durable on `Ok`.
    fn flush(&self) -> Result<(), CacheError>;

    /// Removes one entry; `true` if there was one.
    fn remove(&self, key: &Key) -> Result<bool, CacheError>;

    /// Removes every entry of `namespace` whose name starts with `name_prefix` (`""`: the whole
    /// namespace); returns how many were removed.
    fn remove_prefix(&self, namespace: &str, name_prefix: &str) -> Result<u64, CacheError>;

    /// Removes every entry (of `namespace`, or of all namespaces for `None`) for which
    /// `predicate` returns true, judging by key and metadata only (payloads are not loaded),
    /// e.g. a project's moving entries after an `entity.version.*` event.
    fn remove_where(
        &self,
        namespace: Option<&str>,
        predicate: &dyn Fn(&Key, &EntryMeta) -> bool,
    ) -> Result<u64, CacheError>;

    /// Removes every entry of every namespace.
    fn clear(&self) -> Result<(), CacheError>;

    /// Number of entries held. For SQLite, committed entries only: buffered writes count once
    /// flushed. `len`, `size_bytes` and `namespaces` read the store and may cost a scan.
    fn len(&self) -> Result<u64, CacheError>;

    /// True if [`len`](Cache::len) is zero.
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

    /// Whether `Ok` from `put` means the entry survives this process (see above).
    fn is_durable(&self) -> bool;
}
