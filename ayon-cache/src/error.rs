//! The one error type of the crate.

use std::path::PathBuf;

/// What went wrong in a cache operation, naming the file or key involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The cache directory or store file cannot be created or written (read-only, full disk,
    /// a path component that is a file). The tiered cache degrades to memory-only on this.
    #[error("cache directory {path} is not writable: {reason}")]
    Unwritable {
        /// The directory or file that could not be written.
        path: PathBuf,
        /// What the operating system or SQLite said.
        reason: String,
    },
    /// An SQLite call failed on the store at `path`.
    #[error("SQLite error on {path} while {action}: {source}")]
    Sqlite {
        /// The store file.
        path: PathBuf,
        /// What the cache was doing ("reading an entry", "committing 12 entries", ...).
        action: String,
        /// The error from SQLite, boxed so the SQLite binding (a 0.x crate) stays out of our
        /// public API; downcast to inspect it.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The store is not usable even after moving a bad file aside (e.g. it was moved aside and
    /// the fresh file cannot be created either).
    #[error("cache store {path} cannot be opened: {reason}")]
    Unusable {
        /// The store file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A stored row could not be decoded (unknown enum code or bad JSON) for the named key.
    #[error("cache entry `{key}` in {path} is undecodable: {reason}")]
    BadEntry {
        /// The store file.
        path: PathBuf,
        /// The key, as `namespace` + ` :: ` + name.
        key: String,
        /// What was wrong.
        reason: String,
    },
    /// Another process held the open lock of the store longer than the busy timeout.
    #[error("timed out after {waited_ms} ms waiting for the open lock {path}")]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long we waited.
        waited_ms: u64,
    },
    /// No cache directory was given and the platform has none (no home directory).
    #[error(
        "no cache directory: set AYON_OFFLINE_CACHE_DIR or pass one (the platform reports no home directory)"
    )]
    NoCacheDir,
    /// The shared tier's URL (`AYON_OFFLINE_REDIS_URL`) is not a usable `redis://` or
    /// `rediss://` URL. The URL itself is not repeated: it may hold a password.
    #[error("the shared cache URL is not usable: {reason}")]
    BadRedisUrl {
        /// What the Redis client said about it.
        reason: String,
    },
    /// The CA file for a `rediss://` shared tier (`AYON_OFFLINE_REDIS_CA_FILE`) cannot be read.
    #[error("the shared cache's CA file {path} cannot be read: {reason}")]
    RedisCaFile {
        /// The file named.
        path: std::path::PathBuf,
        /// Why it could not be read.
        reason: String,
    },
}

impl CacheError {
    pub(crate) fn sqlite(
        path: &std::path::Path,
        action: impl Into<String>,
        source: rusqlite::Error,
    ) -> Self {
        CacheError::Sqlite {
            path: path.to_path_buf(),
            action: action.into(),
            source: Box::new(source),
        }
    }
}
