//! Opening the cache's SQLite store: the cross-process open lock, the file rules of
//! [`super::file`], the integrity check, and reporting a file moved aside.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode};

use super::Config;
use super::file::{self, OpenFailure, StoreFile, sibling};
use crate::CacheError;
use crate::stats::{DiagnosticKind, DiagnosticsLog, InvalidStore};

/// Version of the store's layout (tables, columns, encodings), kept in `PRAGMA user_version`.
/// A file with a larger number was written by a newer release and is moved aside.
pub const STORE_FORMAT_VERSION: u32 = 1;

/// `PRAGMA application_id` of our stores ("AYOC"), so another program's SQLite file in the
/// cache directory is recognised as foreign instead of being written into.
pub(crate) const APPLICATION_ID: i32 = 0x4159_4f43;

const SCHEMA: &str = "
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    ns TEXT NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    stored_at INTEGER NOT NULL,
    freshness INTEGER NOT NULL,
    ttl_ms INTEGER,
    source INTEGER NOT NULL,
    format_version INTEGER NOT NULL,
    value BLOB NOT NULL,
    UNIQUE (ns, name)
);
";

/// The writer and reader connections of a freshly opened store.
pub(crate) struct Opened {
    pub(crate) writer: Connection,
    pub(crate) readers: Vec<Connection>,
}

/// The cache store's file rules, connections as `config` says.
fn store_file(config: &Config) -> StoreFile<'static> {
    StoreFile::new(APPLICATION_ID, STORE_FORMAT_VERSION, SCHEMA)
        .synchronous(config.durability.pragma())
        .statement_cache(32)
}

/// Opens (creating if needed) the store at `path`, moving an invalid file aside first.
pub(crate) fn open_store(
    path: &Path,
    config: &Config,
    log: &DiagnosticsLog,
) -> Result<Opened, CacheError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| unwritable(dir, &e.to_string()))?;
    let _lock = OpenLock::acquire(&sibling(path, ".lock"), config.busy_timeout)?;

    let mut attempts = 0;
    let writer = loop {
        attempts += 1;
        match open_checked(path, config) {
            Ok(conn) => break conn,
            Err(OpenFailure::Invalid(reason, detail)) if attempts < 3 => {
                let to =
                    file::move_aside(path, &reason).map_err(|reason| CacheError::Unusable {
                        path: path.to_path_buf(),
                        reason,
                    })?;
                let message = format!(
                    "cache store {} was {} ({detail}); moved it to {} and created a fresh one",
                    path.display(),
                    describe(&reason),
                    to.display()
                );
                tracing::warn!(target: "ayon_cache", "{message}");
                log.push(
                    DiagnosticKind::MovedAside {
                        from: path.to_path_buf(),
                        to,
                        reason,
                    },
                    message,
                );
            }
            Err(OpenFailure::Invalid(reason, detail)) => {
                return Err(CacheError::Unusable {
                    path: path.to_path_buf(),
                    reason: format!(
                        "still {} after moving it aside: {detail}",
                        describe(&reason)
                    ),
                });
            }
            Err(other) => return Err(cache_error(path, other)),
        }
    };
    let store = store_file(config);
    let mut readers = Vec::with_capacity(config.readers);
    for _ in 0..config.readers {
        let reader = store.connect(path, config.busy_timeout);
        readers.push(reader.map_err(|e| classify(path, "opening a reader", e))?);
    }
    Ok(Opened { writer, readers })
}

fn describe(reason: &InvalidStore) -> String {
    match reason {
        InvalidStore::Corrupt => "not a valid SQLite database".to_owned(),
        InvalidStore::NewerFormat { found, supported } => {
            format!(
                "written with store format {found}, newer than the {supported} this build reads"
            )
        }
        InvalidStore::Foreign => "an SQLite database of another application".to_owned(),
    }
}

/// Opens the writer connection with the shared file rules, then verifies the entries table.
fn open_checked(path: &Path, config: &Config) -> Result<Connection, OpenFailure> {
    let checked = store_file(config).open_checked(path, config.busy_timeout)?;
    // A schema this open just created has nothing to check.
    let quick_check = config.verify_on_open && !checked.created;
    verify(checked.connection, quick_check)
}

/// Runs `PRAGMA quick_check` (when asked) and a read of the entries table, inside one read
/// transaction so a concurrent writer's checkpoint cannot make a healthy file look damaged.
fn verify(conn: Connection, quick_check: bool) -> Result<Connection, OpenFailure> {
    if quick_check {
        let verdict: String = conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| file::failure("checking integrity", e))?;
        if verdict != "ok" {
            return Err(OpenFailure::Invalid(
                InvalidStore::Corrupt,
                format!("quick_check: {verdict}"),
            ));
        }
    }
    let _: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT 1 FROM entries LIMIT 1)",
            [],
            |r| r.get(0),
        )
        .map_err(|e| match &e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::Unknown => {
                OpenFailure::Invalid(
                    InvalidStore::Corrupt,
                    format!("entries table unreadable: {e}"),
                )
            }
            _ => file::failure("reading the entries table", e),
        })?;
    Ok(conn)
}

fn unwritable(path: &Path, reason: &str) -> CacheError {
    CacheError::Unwritable {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    }
}

/// The cache's error for a failed open that is not an invalid file.
fn cache_error(path: &Path, failure: OpenFailure) -> CacheError {
    match failure {
        OpenFailure::Invalid(reason, detail) => CacheError::Unusable {
            path: path.to_path_buf(),
            reason: format!("{} ({detail})", describe(&reason)),
        },
        OpenFailure::Unwritable(reason) => unwritable(path, &reason),
        OpenFailure::Sqlite(action, e) => CacheError::sqlite(path, action, e),
    }
}

/// Read-only files, permission problems and a full disk are "unwritable"; the rest stays SQLite.
pub(crate) fn classify(path: &Path, action: &str, e: rusqlite::Error) -> CacheError {
    if file::is_unwritable(&e) {
        return unwritable(path, &format!("{action}: {e}"));
    }
    CacheError::sqlite(path, action, e)
}

/// An exclusive lock on `<store>.lock`, held only while opening, so two processes never both
/// move a file aside or both create the schema. Released on drop (and by the OS on a crash).
struct OpenLock(File);

impl OpenLock {
    fn acquire(path: &Path, timeout: Duration) -> Result<OpenLock, CacheError> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(path)
            .map_err(|e| unwritable(path, &e.to_string()))?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(OpenLock(file)),
                Err(TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(CacheError::LockTimeout {
                        path: path.to_path_buf(),
                        waited_ms: start.elapsed().as_millis() as u64,
                    });
                }
                Err(TryLockError::Error(e)) => return Err(unwritable(path, &e.to_string())),
            }
        }
    }
}

impl Drop for OpenLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
