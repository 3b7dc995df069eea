//! Opening the SQLite store: directory and file creation, the cross-process open lock, format
//! checks, and moving invalid files aside.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use super::Config;
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

/// Why opening failed: an invalid file (to be moved aside) or anything else.
enum OpenFailure {
    Invalid(InvalidStore, String),
    Other(CacheError),
}

/// The writer and reader connections of a freshly opened store.
pub(crate) struct Opened {
    pub(crate) writer: Connection,
    pub(crate) readers: Vec<Connection>,
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
            Err(OpenFailure::Other(e)) => return Err(e),
            Err(OpenFailure::Invalid(reason, detail)) if attempts < 3 => {
                let to = move_aside(path, &reason)?;
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
        }
    };
    let mut readers = Vec::with_capacity(config.readers);
    for _ in 0..config.readers {
        readers.push(connect(path, config).map_err(|e| classify(path, "opening a reader", e))?);
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

/// Opens a connection with our pragmas (busy timeout, WAL, synchronous).
fn connect(path: &Path, config: &Config) -> Result<Connection, rusqlite::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(config.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(32);
    conn.pragma_update(None, "synchronous", config.durability.pragma())?;
    Ok(conn)
}

/// Opens the writer connection and validates the file; creates the schema in an empty file.
fn open_checked(path: &Path, config: &Config) -> Result<Connection, OpenFailure> {
    precheck_header(path)?;
    create_private_file(path).map_err(OpenFailure::Other)?;
    let conn = connect(path, config).map_err(|e| failure(path, "opening", e))?;
    let app_id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| failure(path, "reading the application id", e))?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| failure(path, "reading the format version", e))?;
    if app_id == APPLICATION_ID && version > i64::from(STORE_FORMAT_VERSION) {
        return Err(OpenFailure::Invalid(
            InvalidStore::NewerFormat {
                found: u32::try_from(version).unwrap_or(u32::MAX),
                supported: STORE_FORMAT_VERSION,
            },
            format!("user_version {version}"),
        ));
    }
    if app_id != APPLICATION_ID {
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| failure(path, "listing tables", e))?;
        if tables > 0 || app_id != 0 {
            return Err(OpenFailure::Invalid(
                InvalidStore::Foreign,
                format!("application_id {app_id:#x}, {tables} schema objects"),
            ));
        }
    }
    // Only now, with the file known to be ours or empty, may we write to it.
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(|e| failure(path, "switching to WAL", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenFailure::Other(unwritable(
            path,
            &format!("SQLite kept journal mode `{mode}` instead of WAL"),
        )));
    }
    if app_id != APPLICATION_ID {
        init_schema(path, conn).and_then(|c| verify(path, c, false))
    } else {
        verify(path, conn, config.verify_on_open)
    }
}

fn init_schema(path: &Path, mut conn: Connection) -> Result<Connection, OpenFailure> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| failure(path, "starting schema creation", e))?;
    tx.execute_batch(SCHEMA)
        .map_err(|e| failure(path, "creating the schema", e))?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(|e| failure(path, "setting the application id", e))?;
    tx.pragma_update(None, "user_version", STORE_FORMAT_VERSION)
        .map_err(|e| failure(path, "setting the format version", e))?;
    tx.commit()
        .map_err(|e| failure(path, "committing the schema", e))?;
    Ok(conn)
}

/// Runs `PRAGMA quick_check` (when asked) and a read of the entries table, inside one read
/// transaction so a concurrent writer's checkpoint cannot make a healthy file look damaged.
fn verify(path: &Path, conn: Connection, quick_check: bool) -> Result<Connection, OpenFailure> {
    if quick_check {
        let verdict: String = conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| failure(path, "checking integrity", e))?;
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
            _ => failure(path, "reading the entries table", e),
        })?;
    Ok(conn)
}

/// Rejects a file that does not even start with SQLite's magic header, before SQLite sees it.
fn precheck_header(path: &Path) -> Result<(), OpenFailure> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(OpenFailure::Other(unwritable(path, &e.to_string()))),
    };
    let mut header = [0u8; 16];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(OpenFailure::Other(unwritable(path, &e.to_string()))),
        }
    }
    if read == 0 {
        return Ok(()); // an empty file is a new database to SQLite
    }
    if read < header.len() || &header != b"SQLite format 3\0" {
        return Err(OpenFailure::Invalid(
            InvalidStore::Corrupt,
            "no SQLite header".to_owned(),
        ));
    }
    Ok(())
}

/// Creates the store file with mode 0600 before SQLite does (SQLite gives its `-wal` and `-shm`
/// files the database file's mode), and tightens an existing file to 0600.
fn create_private_file(path: &Path) -> Result<(), CacheError> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| unwritable(path, &e.to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let perms = fs::Permissions::from_mode(0o600);
        if let Err(e) = fs::set_permissions(path, perms) {
            tracing::warn!(target: "ayon_cache", "could not set mode 0600 on {}: {e}", path.display());
        }
    }
    Ok(())
}

/// Renames the store (and its `-wal`) to a name that says why, removes its `-shm`.
fn move_aside(path: &Path, reason: &InvalidStore) -> Result<PathBuf, CacheError> {
    let why = match reason {
        InvalidStore::Corrupt => "corrupt".to_owned(),
        InvalidStore::NewerFormat { found, .. } => format!("newer-format-v{found}"),
        InvalidStore::Foreign => "foreign".to_owned(),
    };
    let stamp = utc_stamp(SystemTime::now());
    let base = format!(
        "{}.{why}-{stamp}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("cache.sqlite")
    );
    let mut to = path.with_file_name(&base);
    let mut n = 1;
    while to.exists() {
        n += 1;
        to = path.with_file_name(format!("{base}-{n}"));
    }
    fs::rename(path, &to).map_err(|e| CacheError::Unusable {
        path: path.to_path_buf(),
        reason: format!(
            "it is invalid and could not be moved to {}: {e}",
            to.display()
        ),
    })?;
    let wal = sibling(path, "-wal");
    if wal.exists() {
        let _ = fs::rename(&wal, sibling(&to, "-wal"));
    }
    let _ = fs::remove_file(sibling(path, "-shm"));
    Ok(to)
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// `YYYYMMDDTHHMMSSZ` in UTC: the server-time spelling from `ayon-site`, compacted.
fn utc_stamp(t: SystemTime) -> String {
    let full = ayon_site::format_server_time(t);
    let seconds: String = full
        .chars()
        .take(19)
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    format!("{seconds}Z")
}

fn unwritable(path: &Path, reason: &str) -> CacheError {
    CacheError::Unwritable {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    }
}

/// Maps an SQLite error while opening: damaged file → invalid, permissions/space → unwritable.
fn failure(path: &Path, action: &str, e: rusqlite::Error) -> OpenFailure {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.code {
            ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt => {
                return OpenFailure::Invalid(InvalidStore::Corrupt, format!("{action}: {e}"));
            }
            _ => {}
        }
    }
    OpenFailure::Other(classify(path, action, e))
}

/// Read-only files, permission problems and a full disk are "unwritable"; the rest stays SQLite.
pub(crate) fn classify(path: &Path, action: &str, e: rusqlite::Error) -> CacheError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.code {
            ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::DiskFull => {
                return unwritable(path, &format!("{action}: {e}"));
            }
            _ => {}
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn utc_stamp_formats_known_dates() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            utc_stamp(UNIX_EPOCH + Duration::from_secs(1_709_210_096)),
            "20240229T123456Z"
        );
    }
}
