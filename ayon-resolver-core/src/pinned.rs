//! A pinning file a context answers from, reloaded when the file changes on disk, so a
//! long-running host (a farm daemon, a DCC session) picks up a rewritten file without a restart.

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use ayon_pinning::{PinningError, PinningFile, Roots};
use parking_lot::Mutex;

/// How often, at most, a lookup checks the file's modification time and size.
pub const DEFAULT_RECHECK: Duration = Duration::from_secs(1);

/// What was on disk when the loaded table was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    hash: u64,
}

/// A pinning file, its roots, and the table loaded from it.
#[derive(Debug)]
pub struct PinnedFile {
    path: PathBuf,
    roots: Roots,
    table: ArcSwap<PinningFile>,
    stamp: Mutex<Stamp>,
    recheck: Duration,
    born: Instant,
    /// Milliseconds after `born` of the last check; lookups before the next one read no metadata.
    last_check_ms: AtomicU64,
    reloads: AtomicU64,
}

impl PinnedFile {
    /// Loads `path` with `roots`; later lookups re-check the file at most every `recheck`.
    pub fn open(
        path: impl Into<PathBuf>,
        roots: Roots,
        recheck: Duration,
    ) -> Result<PinnedFile, PinningError> {
        let path = path.into();
        let (table, stamp) = load(&path, &roots)?;
        Ok(PinnedFile {
            path,
            roots,
            table: ArcSwap::from_pointee(table),
            stamp: Mutex::new(stamp),
            recheck,
            born: Instant::now(),
            last_check_ms: AtomicU64::new(0),
            reloads: AtomicU64::new(0),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The pinned path for `identifier` (see [`PinningFile::lookup`]), after a re-check of the
    /// file when one is due.
    pub fn lookup(&self, identifier: &str) -> Option<String> {
        self.maybe_reload();
        self.table.load().lookup(identifier).map(str::to_owned)
    }

    /// The table as loaded now.
    pub fn table(&self) -> Arc<PinningFile> {
        self.table.load_full()
    }

    /// How many times the file was reloaded since it was opened.
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::Relaxed)
    }

    /// Checks the file now and reloads it if its content changed. A file that became
    /// unreadable or invalid keeps the last good table and returns the error.
    pub fn refresh(&self) -> Result<bool, PinningError> {
        let mut stamp = self.stamp.lock();
        let meta = std::fs::metadata(&self.path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => PinningError::NotFound {
                file: self.path.clone(),
            },
            _ => PinningError::Unreadable {
                file: self.path.clone(),
                source,
            },
        })?;
        if meta.modified().ok() == stamp.modified && meta.len() == stamp.len {
            return Ok(false);
        }
        let (table, fresh) = load(&self.path, &self.roots)?;
        let changed = fresh.hash != stamp.hash;
        *stamp = fresh;
        if changed {
            self.table.store(Arc::new(table));
            self.reloads.fetch_add(1, Ordering::Relaxed);
            tracing::info!(target: "ayon::pinning", file = %self.path.display(), "pinning file changed on disk; reloaded");
        }
        Ok(changed)
    }

    fn maybe_reload(&self) {
        let now = self.born.elapsed().as_millis() as u64;
        let last = self.last_check_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < self.recheck.as_millis() as u64 {
            return;
        }
        // One thread checks; the others keep answering from the loaded table.
        if self
            .last_check_ms
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        if let Err(e) = self.refresh() {
            tracing::warn!(target: "ayon::pinning", file = %self.path.display(), error = %e, "pinning file check failed; keeping the loaded table");
        }
    }
}

fn load(path: &Path, roots: &Roots) -> Result<(PinningFile, Stamp), PinningError> {
    let unreadable = |source| PinningError::Unreadable {
        file: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => PinningError::NotFound {
            file: path.to_owned(),
        },
        _ => unreadable(source),
    })?;
    let bytes = std::fs::read(path).map_err(unreadable)?;
    let table = PinningFile::from_slice(&bytes, path, roots)?;
    let mut hasher = foldhash::fast::FixedState::with_seed(0x5eed).build_hasher();
    hasher.write(&bytes);
    let stamp = Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        hash: hasher.finish(),
    };
    Ok((table, stamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, uri: &str, target: &str) {
        let body = serde_json::json!({"ayon_resolver_pinning_data": {uri: target}});
        std::fs::write(path, body.to_string()).unwrap();
    }

    /// Moves the file's mtime `secs` ahead, for filesystems with coarse mtimes.
    fn touch_ahead(path: &Path, secs: u64) {
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(SystemTime::now() + Duration::from_secs(secs))
            .unwrap();
    }

    #[test]
    fn reloads_when_content_changes_and_keeps_the_last_good_table() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pin.json");
        let uri = "ayon+entity://p/a?product=x&version=v001&representation=usd";
        write(&file, uri, "/a/v1.usd");
        let pinned = PinnedFile::open(&file, Roots::new(), Duration::ZERO).unwrap();
        assert_eq!(pinned.lookup(uri).as_deref(), Some("/a/v1.usd"));

        // Same length, new content: the size may match, the hash tells.
        write(&file, uri, "/a/v2.usd");
        // Filesystems with coarse mtimes: make sure the stamp differs.
        touch_ahead(&file, 2);
        assert_eq!(pinned.lookup(uri).as_deref(), Some("/a/v2.usd"));
        assert_eq!(pinned.reloads(), 1);

        // Touched but unchanged: no reload.
        touch_ahead(&file, 4);
        assert!(!pinned.refresh().unwrap());
        assert_eq!(pinned.reloads(), 1);

        // Broken file: the error is reported, the last good table answers.
        std::fs::write(&file, "{not json").unwrap();
        assert!(pinned.refresh().is_err());
        assert_eq!(pinned.lookup(uri).as_deref(), Some("/a/v2.usd"));
        std::fs::remove_file(&file).unwrap();
        assert!(matches!(
            pinned.refresh(),
            Err(PinningError::NotFound { .. })
        ));
        assert_eq!(pinned.lookup(uri).as_deref(), Some("/a/v2.usd"));
    }

    #[test]
    fn lookups_between_checks_read_no_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pin.json");
        let uri = "ayon+entity://p/a?product=x&version=v001&representation=usd";
        write(&file, uri, "/a/v1.usd");
        let pinned = PinnedFile::open(&file, Roots::new(), Duration::from_secs(3600)).unwrap();
        assert!(pinned.lookup(uri).is_some());
        write(&file, uri, "/a/v2.usd");
        assert_eq!(
            pinned.lookup(uri).as_deref(),
            Some("/a/v1.usd"),
            "not re-checked within the hour"
        );
        assert!(pinned.refresh().unwrap(), "an explicit refresh does check");
        assert_eq!(pinned.lookup(uri).as_deref(), Some("/a/v2.usd"));
    }
}
