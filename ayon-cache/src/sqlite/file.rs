//! The rules every SQLite file of the workspace is opened by (this crate's store and
//! `ayon-index`'s index), written once: the file created with mode 0600 before SQLite makes its
//! `-wal` and `-shm`, SQLite's header checked before SQLite reads the file, the busy timeout, the
//! application id and format version, WAL, the schema created once, and an invalid file moved
//! aside under a name that says why.
//!
//! Each store adds its own checks of its tables and maps [`OpenFailure`] into its own error.

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::InvalidStore;

/// What kind of store a file must hold, and how its connections are set up.
#[derive(Debug, Clone, Copy)]
pub struct StoreFile<'a> {
    application_id: i32,
    format_version: u32,
    schema: &'a str,
    synchronous: &'a str,
    statement_cache: usize,
}

/// A file that could not be opened as a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenFailure {
    /// Not a usable store of this kind (the detail says what was found): move it aside and
    /// create a fresh one.
    #[error("invalid store ({1})")]
    Invalid(InvalidStore, String),
    /// The file or its directory cannot be created or written (permissions, read-only, full).
    #[error("{0}")]
    Unwritable(String),
    /// SQLite failed otherwise while doing the named step.
    #[error("{0}: {1}")]
    Sqlite(&'static str, rusqlite::Error),
}

/// A connection to a checked store file.
#[derive(Debug)]
pub struct Checked {
    /// The connection (WAL, the store's pragmas).
    pub connection: Connection,
    /// True when the file was empty and this open created the schema (nothing to verify).
    pub created: bool,
}

impl<'a> StoreFile<'a> {
    /// A store with this `PRAGMA application_id` (a file with another one and any schema is
    /// foreign), this `PRAGMA user_version` (a larger one is a newer format) and `schema`
    /// (created in an empty file). Synchronous `FULL` and 32 cached statements unless set.
    pub const fn new(application_id: i32, format_version: u32, schema: &'a str) -> Self {
        StoreFile {
            application_id,
            format_version,
            schema,
            synchronous: "FULL",
            statement_cache: 32,
        }
    }

    /// SQLite's `synchronous` pragma for every connection (`FULL`, `NORMAL`, …).
    pub const fn synchronous(mut self, pragma: &'a str) -> Self {
        self.synchronous = pragma;
        self
    }

    /// How many prepared statements each connection keeps.
    pub const fn statement_cache(mut self, capacity: usize) -> Self {
        self.statement_cache = capacity;
        self
    }

    /// Opens a connection with the store's pragmas (readers use this as it is).
    pub fn connect(&self, path: &Path, busy: Duration) -> Result<Connection, rusqlite::Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(busy)?;
        conn.set_prepared_statement_cache_capacity(self.statement_cache);
        conn.pragma_update(None, "synchronous", self.synchronous)?;
        Ok(conn)
    }

    /// Opens the writer connection: checks the header, the application id and the format
    /// version, switches to WAL and creates the schema in an empty file. Writes nothing to a
    /// file that is not ours or empty.
    pub fn open_checked(&self, path: &Path, busy: Duration) -> Result<Checked, OpenFailure> {
        precheck_header(path)?;
        create_private_file(path)?;
        let conn = self
            .connect(path, busy)
            .map_err(|e| failure("opening", e))?;
        let app_id: i32 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| failure("reading the application id", e))?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| failure("reading the format version", e))?;
        if app_id == self.application_id && version > i64::from(self.format_version) {
            return Err(OpenFailure::Invalid(
                InvalidStore::NewerFormat {
                    found: u32::try_from(version).unwrap_or(u32::MAX),
                    supported: self.format_version,
                },
                format!("user_version {version}"),
            ));
        }
        let ours = app_id == self.application_id;
        if !ours {
            let tables: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(|e| failure("listing tables", e))?;
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
            .map_err(|e| failure("switching to WAL", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenFailure::Unwritable(format!(
                "SQLite kept journal mode `{mode}` instead of WAL"
            )));
        }
        if ours {
            return Ok(Checked {
                connection: conn,
                created: false,
            });
        }
        self.init_schema(conn)
    }

    fn init_schema(&self, mut conn: Connection) -> Result<Checked, OpenFailure> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| failure("starting schema creation", e))?;
        // Another process may have created the schema while this one waited for the lock.
        let done: i32 = tx
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(|e| failure("reading the application id", e))?;
        if done != self.application_id {
            tx.execute_batch(self.schema)
                .map_err(|e| failure("creating the schema", e))?;
            tx.pragma_update(None, "application_id", self.application_id)
                .map_err(|e| failure("setting the application id", e))?;
            tx.pragma_update(None, "user_version", self.format_version)
                .map_err(|e| failure("setting the format version", e))?;
        }
        tx.commit()
            .map_err(|e| failure("committing the schema", e))?;
        Ok(Checked {
            connection: conn,
            created: true,
        })
    }
}

/// A damaged file or not a database at all: the file is invalid, not the call.
pub fn is_corrupt(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt))
}

/// Read-only files, permission problems and a full disk: the store cannot be written.
pub fn is_unwritable(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
    if matches!(
        f.code,
        ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::PermissionDenied
            | ErrorCode::DiskFull
    ))
}

/// Classifies an SQLite error while opening: corrupt, unwritable, or an SQLite failure.
pub fn failure(action: &'static str, e: rusqlite::Error) -> OpenFailure {
    if is_corrupt(&e) {
        OpenFailure::Invalid(InvalidStore::Corrupt, format!("{action}: {e}"))
    } else if is_unwritable(&e) {
        OpenFailure::Unwritable(format!("{action}: {e}"))
    } else {
        OpenFailure::Sqlite(action, e)
    }
}

/// Rejects a file that does not even start with SQLite's magic header, before SQLite sees it.
fn precheck_header(path: &Path) -> Result<(), OpenFailure> {
    let unreadable = |e: std::io::Error| OpenFailure::Unwritable(e.to_string());
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(unreadable(e)),
    };
    let mut header = Vec::with_capacity(16);
    file.take(16).read_to_end(&mut header).map_err(unreadable)?;
    // An empty file is a new database to SQLite.
    if header.is_empty() || header == b"SQLite format 3\0" {
        Ok(())
    } else {
        Err(OpenFailure::Invalid(
            InvalidStore::Corrupt,
            "no SQLite header".to_owned(),
        ))
    }
}

/// Creates the store file with mode 0600 before SQLite does (SQLite gives its `-wal` and `-shm`
/// files the database file's mode), and tightens an existing file to 0600.
fn create_private_file(path: &Path) -> Result<(), OpenFailure> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| OpenFailure::Unwritable(e.to_string()))?;
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

/// Renames an invalid store (and its `-wal`) to `<name>.<why>-<UTC time>`, removes its `-shm`;
/// returns the new name, or why it could not be moved.
pub fn move_aside(path: &Path, reason: &InvalidStore) -> Result<PathBuf, String> {
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
            .unwrap_or("store.sqlite")
    );
    let mut to = path.with_file_name(&base);
    let mut n = 1;
    while to.exists() {
        n += 1;
        to = path.with_file_name(format!("{base}-{n}"));
    }
    fs::rename(path, &to).map_err(|e| {
        format!(
            "it is invalid and could not be moved to {}: {e}",
            to.display()
        )
    })?;
    let wal = sibling(path, "-wal");
    if wal.exists() {
        let _ = fs::rename(&wal, sibling(&to, "-wal"));
    }
    let _ = fs::remove_file(sibling(path, "-shm"));
    Ok(to)
}

/// `path` with `suffix` appended to its file name (`-wal`, `-shm`, `.lock`).
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
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
