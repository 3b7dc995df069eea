//! `SqliteCache`: the persistent tier, one SQLite file shared by every process of the user.

pub mod file;
mod open;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use file::sibling;
pub use open::STORE_FORMAT_VERSION;
use open::classify;

use crate::entry::{from_ms, to_ms};
use crate::location::{resolve_cache_dir, store_path};
use crate::stats::{DiagnosticKind, DiagnosticsLog, TierCounters};
use crate::{
    Cache, CacheAdmin, CacheError, CacheStats, Diagnostic, Entry, EntryMeta, Freshness, Key,
    Namespace, NamespaceStats, Source, Value,
};

/// What "durable" means for a committed write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Survives `kill -9` / a crash of the process (the commit is in the WAL file when the call
    /// returns); an OS crash or power loss may lose the last commits but never corrupts the
    /// store. SQLite `synchronous=NORMAL`: no fsync per commit, so commits are fast.
    #[default]
    CrashSafe,
    /// Also survives an OS crash or power loss: fsync on every commit (`synchronous=FULL`).
    PowerSafe,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::CrashSafe => "NORMAL",
            Durability::PowerSafe => "FULL",
        }
    }
}

/// Settings of a [`SqliteCache`]; see [`SqliteCache::builder`].
#[derive(Debug, Clone)]
pub(crate) struct Config {
    dir: Option<PathBuf>,
    file_name: Option<String>,
    busy_timeout: Duration,
    durability: Durability,
    readers: usize,
    buffer_limit: usize,
    verify_on_open: bool,
    max_size_bytes: Option<u64>,
}

/// Configures and opens a [`SqliteCache`].
#[derive(Debug, Clone)]
pub struct SqliteCacheBuilder {
    config: Config,
}

impl Default for SqliteCacheBuilder {
    fn default() -> Self {
        SqliteCacheBuilder {
            config: Config {
                dir: None,
                file_name: None,
                busy_timeout: Duration::from_secs(5),
                durability: Durability::default(),
                readers: std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
                    .clamp(1, 4),
                buffer_limit: 256,
                verify_on_open: true,
                max_size_bytes: None,
            },
        }
    }
}

impl SqliteCacheBuilder {
    /// The cache directory (default: [`resolve_cache_dir`]: `$AYON_OFFLINE_CACHE_DIR`, then the
    /// platform's per-user cache directory).
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.dir = Some(dir.into());
        self
    }

    /// The store's file name inside the directory (default [`STORE_FILE_NAME`](crate::STORE_FILE_NAME)).
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.config.file_name = Some(name.into());
        self
    }

    /// How long a call waits for another process's write lock before failing (default 5 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.config.busy_timeout = timeout;
        self
    }

    /// What a committed write survives (default [`Durability::CrashSafe`]).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.config.durability = durability;
        self
    }

    /// Number of read connections, so threads read in parallel (default: cores, at most 4).
    pub fn readers(mut self, readers: usize) -> Self {
        self.config.readers = readers.max(1);
        self
    }

    /// How many `put_buffered` entries are queued before one of those calls commits them all
    /// (default 256).
    pub fn buffer_limit(mut self, limit: usize) -> Self {
        self.config.buffer_limit = limit.max(1);
        self
    }

    /// Whether opening runs SQLite's `quick_check` over the whole file (default true: a damaged
    /// store is found and moved aside at open rather than failing reads later; costs a full
    /// read of the file).
    pub fn verify_on_open(mut self, verify: bool) -> Self {
        self.config.verify_on_open = verify;
        self
    }

    /// Caps the store's size; writes past it fail as "disk full" (the tiered cache then keeps
    /// the entry in memory and reports it). Default: no cap.
    pub fn max_size_bytes(mut self, bytes: u64) -> Self {
        self.config.max_size_bytes = Some(bytes);
        self
    }

    /// The path the store will have.
    pub fn path(&self) -> Result<PathBuf, CacheError> {
        let dir = resolve_cache_dir(self.config.dir.as_deref())?;
        Ok(match &self.config.file_name {
            Some(name) => dir.join(name),
            None => store_path(&dir),
        })
    }

    /// Opens the store, creating directory and file as needed. A file that is not a valid store
    /// (garbage, truncated, newer format, foreign) is moved aside (see
    /// [`SqliteCache::diagnostics`](CacheAdmin::diagnostics)) and replaced; an unwritable directory
    /// is [`CacheError::Unwritable`].
    pub fn open(self) -> Result<SqliteCache, CacheError> {
        let path = self.path()?;
        let log = DiagnosticsLog::default();
        let opened = open::open_store(&path, &self.config, &log)?;
        if let Some(cap) = self.config.max_size_bytes {
            let page_size: i64 = opened
                .writer
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .map_err(|e| classify(&path, "reading the page size", e))?;
            let pages = (cap / page_size.max(512) as u64).max(2);
            let _: i64 = opened
                .writer
                .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                    r.get(0)
                })
                .map_err(|e| classify(&path, "capping the size", e))?;
        }
        Ok(SqliteCache {
            path,
            writer: Mutex::new(opened.writer),
            readers: opened.readers.into_iter().map(Mutex::new).collect(),
            pending: Mutex::new(Pending::default()),
            has_pending: AtomicBool::new(false),
            buffer_limit: self.config.buffer_limit,
            counters: TierCounters::default(),
            log: Arc::new(log),
            next_reader: AtomicU64::new(0),
        })
    }
}

/// Buffered writes not yet committed; each with a sequence number so a flush only drops what it
/// committed (a newer buffered write of the same key made during the commit stays).
#[derive(Debug, Default)]
struct Pending {
    seq: u64,
    entries: HashMap<Key, (u64, Entry)>,
}

/// The persistent cache: an SQLite database in WAL mode, shared safely by several processes.
///
/// - Reads use a small pool of read connections and never wait for writers (WAL snapshots).
/// - Writes go through one connection per process, each call one transaction; other processes
///   wait for the file's write lock up to the busy timeout (default 5 s).
/// - Durability: see [`Cache`] (direct writes commit before returning;
///   [`put_buffered`](SqliteCache::put_buffered) commits on `flush`, when the buffer fills, or on
///   drop) and [`Durability`].
/// - Files: `cache.sqlite`, `cache.sqlite-wal`, `cache.sqlite-shm` (mode 0600 on Unix), and
///   `cache.sqlite.lock`, locked only while a process opens the store.
#[derive(Debug)]
pub struct SqliteCache {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    pending: Mutex<Pending>,
    has_pending: AtomicBool,
    buffer_limit: usize,
    counters: TierCounters,
    log: Arc<DiagnosticsLog>,
    next_reader: AtomicU64,
}

const SELECT_ONE: &str = "SELECT kind, stored_at, freshness, ttl_ms, source, format_version, value FROM entries WHERE ns = ?1 AND name = ?2";
const UPSERT: &str = "INSERT INTO entries (ns, name, kind, stored_at, freshness, ttl_ms, source, format_version, value)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
     ON CONFLICT (ns, name) DO UPDATE SET kind = excluded.kind, stored_at = excluded.stored_at,
       freshness = excluded.freshness, ttl_ms = excluded.ttl_ms, source = excluded.source,
       format_version = excluded.format_version, value = excluded.value";

impl SqliteCache {
    /// A builder with the defaults.
    pub fn builder() -> SqliteCacheBuilder {
        SqliteCacheBuilder::default()
    }

    /// Opens the store in `dir` with the defaults.
    pub fn open_in(dir: impl Into<PathBuf>) -> Result<SqliteCache, CacheError> {
        SqliteCache::builder().dir(dir).open()
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes on disk: the database file plus its write-ahead log.
    pub fn file_size(&self) -> u64 {
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        size(&self.path) + size(&sibling(&self.path, "-wal"))
    }

    /// The store format version recorded in the file.
    pub fn format_version(&self) -> Result<u32, CacheError> {
        let v: i64 = self
            .reader()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| classify(&self.path, "reading the format version", e))?;
        Ok(u32::try_from(v).unwrap_or(0))
    }

    pub(crate) fn counters(&self) -> &TierCounters {
        &self.counters
    }

    pub(crate) fn log(&self) -> &DiagnosticsLog {
        &self.log
    }

    /// Queues a write to be committed with others: visible to this process's `get` at once,
    /// durable only after [`flush`](Cache::flush) returns `Ok`, when the buffer fills (then this
    /// call commits the whole buffer), or when the cache is dropped. For many small writes: one
    /// commit serves them all.
    pub fn put_buffered(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
        let full = {
            let mut pending = self.pending.lock();
            pending.seq += 1;
            let seq = pending.seq;
            pending.entries.insert(key, (seq, entry));
            self.has_pending.store(true, Ordering::Release);
            pending.entries.len() >= self.buffer_limit
        };
        if full { self.flush() } else { Ok(()) }
    }

    /// A free read connection, else (all busy) the next one in turn.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Some(guard) = r.try_lock() {
                return guard;
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) as usize % self.readers.len();
        self.readers[i].lock()
    }

    /// Reads one committed entry, counting nothing.
    pub(crate) fn get_uncounted(&self, key: &Key) -> Result<Option<Entry>, CacheError> {
        if self.has_pending.load(Ordering::Acquire)
            && let Some((_, e)) = self.pending.lock().entries.get(key)
        {
            return Ok(Some(e.clone()));
        }
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(SELECT_ONE)
            .map_err(|e| classify(&self.path, "preparing a read", e))?;
        let row = stmt
            .query_row(params![key.namespace(), key.name()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Vec<u8>>(6)?,
                ))
            })
            .optional()
            .map_err(|e| classify(&self.path, &format!("reading `{key}`"), e))?;
        let Some((kind, stored_at, freshness, ttl_ms, source, format_version, value)) = row else {
            return Ok(None);
        };
        let bad = |reason: String| CacheError::BadEntry {
            path: self.path.clone(),
            key: key.to_string(),
            reason,
        };
        let size = value.len();
        let value = match kind {
            0 => Value::Bytes(value.into()),
            1 => Value::Json(Arc::new(
                serde_json::from_slice(&value).map_err(|e| bad(format!("bad JSON: {e}")))?,
            )),
            other => return Err(bad(format!("unknown value kind {other}"))),
        };
        let meta = EntryMeta {
            stored_at: from_ms(stored_at),
            freshness: Freshness::from_code(freshness, ttl_ms)
                .ok_or_else(|| bad(format!("unknown freshness {freshness}")))?,
            source: Source::from_code(source)
                .ok_or_else(|| bad(format!("unknown source {source}")))?,
            format_version: u32::try_from(format_version)
                .map_err(|_| bad(format!("bad format version {format_version}")))?,
        };
        Ok(Some(Entry::from_parts(value, meta, size)))
    }

    /// Runs `op` in one immediate transaction that first commits the buffered writes, then
    /// drops from the buffer what was committed. `Ok` means committed.
    fn write<T>(
        &self,
        action: &str,
        op: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, CacheError> {
        let mut conn = self.writer.lock();
        let snapshot: Vec<(Key, u64, Entry)> = if self.has_pending.load(Ordering::Acquire) {
            self.pending
                .lock()
                .entries
                .iter()
                .map(|(k, (s, e))| (k.clone(), *s, e.clone()))
                .collect()
        } else {
            Vec::new()
        };
        let result = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (k, _, e) in &snapshot {
                upsert(&tx, k, e)?;
            }
            let out = op(&tx)?;
            tx.commit()?;
            Ok(out)
        })();
        match result {
            Ok(out) => {
                if !snapshot.is_empty() {
                    let mut pending = self.pending.lock();
                    for (k, seq, _) in &snapshot {
                        if pending.entries.get(k).is_some_and(|(s, _)| s == seq) {
                            pending.entries.remove(k);
                        }
                    }
                    self.has_pending
                        .store(!pending.entries.is_empty(), Ordering::Release);
                }
                Ok(out)
            }
            Err(e) => {
                let err = classify(&self.path, action, e);
                self.log.set_last_error(err.to_string());
                Err(err)
            }
        }
    }

    /// Drops buffered writes matching `pred` (a removal supersedes them).
    fn drop_pending(&self, pred: impl Fn(&Key, &Entry) -> bool) {
        if self.has_pending.load(Ordering::Acquire) {
            let mut pending = self.pending.lock();
            pending.entries.retain(|k, (_, e)| !pred(k, e));
            self.has_pending
                .store(!pending.entries.is_empty(), Ordering::Release);
        }
    }

    fn count_where(&self, sql: &str, action: &str) -> Result<(u64, u64), CacheError> {
        self.reader()
            .query_row(sql, [], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
            })
            .map_err(|e| classify(&self.path, action, e))
    }
}

fn upsert(tx: &Transaction<'_>, key: &Key, entry: &Entry) -> rusqlite::Result<()> {
    let (kind, bytes): (i64, std::borrow::Cow<'_, [u8]>) = match entry.value() {
        Value::Bytes(b) => (0, std::borrow::Cow::Borrowed(b)),
        Value::Json(j) => (
            1,
            std::borrow::Cow::Owned(
                serde_json::to_vec(j.as_ref())
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            ),
        ),
    };
    let meta = entry.meta();
    let ttl = meta.freshness.ttl().map(|t| t.as_millis() as i64);
    tx.prepare_cached(UPSERT)?.execute(params![
        key.namespace(),
        key.name(),
        kind,
        to_ms(meta.stored_at),
        meta.freshness.code(),
        ttl,
        meta.source.code(),
        i64::from(meta.format_version),
        bytes.as_ref(),
    ])?;
    Ok(())
}

impl Cache for SqliteCache {
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError> {
        let found = self.get_uncounted(key);
        match &found {
            Ok(f) => self.counters.record(f.is_some()),
            Err(e) => self.log.set_last_error(e.to_string()),
        }
        found
    }

    fn put(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
        self.write(&format!("writing `{key}`"), |tx| upsert(tx, &key, &entry))
    }

    fn put_many(&self, entries: Vec<(Key, Entry)>) -> Result<(), CacheError> {
        let n = entries.len();
        self.write(&format!("committing {n} entries"), |tx| {
            for (k, e) in &entries {
                upsert(tx, k, e)?;
            }
            Ok(())
        })
    }

    fn flush(&self) -> Result<(), CacheError> {
        if !self.has_pending.load(Ordering::Acquire) {
            return Ok(());
        }
        self.write("committing buffered entries", |_| Ok(()))
    }

    fn remove(&self, key: &Key) -> Result<bool, CacheError> {
        let buffered = self.has_pending.load(Ordering::Acquire)
            && self.pending.lock().entries.contains_key(key);
        let n = self.write(&format!("removing `{key}`"), |tx| {
            tx.prepare_cached("DELETE FROM entries WHERE ns = ?1 AND name = ?2")?
                .execute(params![key.namespace(), key.name()])
        })?;
        Ok(n > 0 || buffered)
    }

    fn remove_where(
        &self,
        namespace: Option<&Namespace>,
        predicate: &dyn Fn(&Key, &EntryMeta) -> bool,
    ) -> Result<u64, CacheError> {
        let namespace = namespace.map(Namespace::as_str);
        let n = self.write("removing entries by predicate", |tx| {
            let mut doomed = Vec::new();
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT id, ns, name, stored_at, freshness, ttl_ms, source, format_version FROM entries
                     WHERE ?1 IS NULL OR ns = ?1",
                )?;
                let mut rows = stmt.query(params![namespace])?;
                while let Some(r) = rows.next()? {
                    let key = Key::from_parts(r.get::<_, String>(1)?, r.get::<_, String>(2)?);
                    let (Some(freshness), Some(source)) = (
                        Freshness::from_code(r.get(4)?, r.get(5)?),
                        Source::from_code(r.get(6)?),
                    ) else {
                        continue;
                    };
                    let meta = EntryMeta {
                        stored_at: from_ms(r.get(3)?),
                        freshness,
                        source,
                        format_version: u32::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
                    };
                    if predicate(&key, &meta) {
                        doomed.push(r.get::<_, i64>(0)?);
                    }
                }
            }
            let mut del = tx.prepare_cached("DELETE FROM entries WHERE id = ?1")?;
            for id in &doomed {
                del.execute([id])?;
            }
            Ok(doomed.len() as u64)
        })?;
        Ok(n)
    }
}

impl CacheAdmin for SqliteCache {
    fn clear(&self) -> Result<(), CacheError> {
        self.drop_pending(|_, _| true);
        self.write("clearing the store", |tx| {
            tx.execute("DELETE FROM entries", []).map(|_| ())
        })
    }

    fn len(&self) -> Result<u64, CacheError> {
        Ok(self
            .count_where("SELECT count(*), 0 FROM entries", "counting entries")?
            .0)
    }

    fn size_bytes(&self) -> Result<u64, CacheError> {
        Ok(self
            .count_where(
                "SELECT 0, coalesce(sum(length(value)), 0) FROM entries",
                "summing sizes",
            )?
            .1)
    }

    fn namespaces(&self) -> Result<Vec<NamespaceStats>, CacheError> {
        let conn = self.reader();
        let action = "listing namespaces";
        let mut stmt = conn
            .prepare_cached("SELECT ns, count(*), coalesce(sum(length(value)), 0) FROM entries GROUP BY ns ORDER BY ns")
            .map_err(|e| classify(&self.path, action, e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(NamespaceStats {
                    namespace: r.get(0)?,
                    entries: r.get::<_, i64>(1)? as u64,
                    bytes: r.get::<_, i64>(2)? as u64,
                })
            })
            .map_err(|e| classify(&self.path, action, e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| classify(&self.path, action, e))
    }

    fn stats(&self) -> CacheStats {
        let (entries, bytes) = self
            .count_where(
                "SELECT count(*), coalesce(sum(length(value)), 0) FROM entries",
                "counting entries",
            )
            .unwrap_or_else(|e| {
                self.log.set_last_error(e.to_string());
                (0, 0)
            });
        CacheStats {
            persistent: Some(self.counters.snapshot()),
            entries,
            bytes,
            last_error: self.log.last_error(),
            ..CacheStats::default()
        }
    }

    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.log.snapshot()
    }

    fn is_durable(&self) -> bool {
        true
    }
}

impl Drop for SqliteCache {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(target: "ayon_cache", "buffered cache writes lost at close of {}: {e}", self.path.display());
            self.log.push(
                DiagnosticKind::WriteFailed,
                format!("buffered writes lost at close: {e}"),
            );
        }
    }
}
