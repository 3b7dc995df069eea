//! Where the persistent store lives.

use std::path::{Path, PathBuf};

use crate::CacheError;

/// Environment variable that overrides the platform cache directory (same name AYON tools use).
pub const CACHE_DIR_ENV: &str = "AYON_OFFLINE_CACHE_DIR";

/// File name of the store inside the cache directory.
pub const STORE_FILE_NAME: &str = "cache.sqlite";

/// The cache directory to use: `explicit` if given, else `$AYON_OFFLINE_CACHE_DIR` if set and
/// non-empty, else the platform's per-user cache directory (`~/.cache/ayon-offline` on Linux,
/// `~/Library/Caches/io.ynput.ayon-offline` on macOS, `%LOCALAPPDATA%\ynput\ayon-offline\cache`
/// on Windows). Reads the environment on every call, so tests can change it.
pub fn resolve_cache_dir(explicit: Option<&Path>) -> Result<PathBuf, CacheError> {
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(CACHE_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("io", "ynput", "ayon-offline")
        .map(|d| d.cache_dir().to_path_buf())
        .ok_or(CacheError::NoCacheDir)
}

/// The store file for a cache directory (see [`resolve_cache_dir`]).
pub fn store_path(dir: &Path) -> PathBuf {
    dir.join(STORE_FILE_NAME)
}
