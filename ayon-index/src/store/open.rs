//! Opening the index file: directory and 0600 file creation, WAL and busy timeout, format
//! checks, and moving an invalid file aside (the same rules as `ayon-cache`'s store).
//!
//! `ayon-cache` keeps its equivalents private; the file-level helpers here (private file
//! creation, move-aside naming) are the part both crates should share once one of them
//! exports it.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use super::schema::{ADDED_SCHEMA, APPLICATION_ID, FORMAT_VERSION, SCHEMA};
use crate::IndexError;

/// Opens a connection with the index's pragmas.
pub(crate) fn connect(path: &Path, busy: Duration) -> Result<Connection, rusqlite::Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy)?;
    conn.set_prepared_statement_cache_capacity(64);
    // FULL: a snapshot the API reported as written survives power loss, not only a crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// Why a file cannot be used as it is.
enum Invalid {
    Corrupt(String),
    Newer(i64),
    Foreign(String),
}

/// Opens (creating if needed) the index at `path`, moving an invalid file aside once.
pub(crate) fn open(path: &Path, busy: Duration) -> Result<Connection, IndexError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| unwritable(dir, &e.to_string()))?;
    for attempt in 0..2 {
        match open_checked(path, busy)? {
            Ok(conn) => return Ok(conn),
            Err(invalid) if attempt == 0 => {
                let (why, detail) = match &invalid {
                    Invalid::Corrupt(d) => ("corrupt".to_owned(), d.clone()),
                    Invalid::Newer(v) => (format!("newer-format-v{v}"), format!("format {v}")),
                    Invalid::Foreign(d) => ("foreign".to_owned(), d.clone()),
                };
                let to = move_aside(path, &why)?;
                tracing::warn!(target: "ayon_index",
                    "index {} was invalid ({detail}); moved it to {} and created a fresh one",
                    path.display(), to.display());
            }
            Err(_) => break,
        }
    }
    Err(IndexError::Unusable {
        path: path.to_path_buf(),
        reason: "still invalid after moving it aside".to_owned(),
    })
}

fn open_checked(path: &Path, busy: Duration) -> Result<Result<Connection, Invalid>, IndexError> {
    if let Some(bad) = precheck_header(path)? {
        return Ok(Err(bad));
    }
    create_private_file(path)?;
    let conn = match connect(path, busy) {
        Ok(c) => c,
        Err(e) => return classify_open(path, "opening", e),
    };
    let probe = (|| -> rusqlite::Result<(i32, i64, i64)> {
        let app: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        Ok((app, version, tables))
    })();
    let (app, version, tables) = match probe {
        Ok(p) => p,
        Err(e) => return classify_open(path, "reading the header", e),
    };
    if app == APPLICATION_ID && version > i64::from(FORMAT_VERSION) {
        return Ok(Err(Invalid::Newer(version)));
    }
    if app != APPLICATION_ID && (tables > 0 || app != 0) {
        return Ok(Err(Invalid::Foreign(format!(
            "application_id {app:#x}, {tables} schema objects"
        ))));
    }
    let mode: String = match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)) {
        Ok(m) => m,
        Err(e) => return classify_open(path, "switching to WAL", e),
    };
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(unwritable(
            path,
            &format!("SQLite kept journal mode `{mode}` instead of WAL"),
        ));
    }
    let mut conn = conn;
    if app != APPLICATION_ID {
        let init = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Another process may have created the schema while we waited for the lock.
            let done: i32 = tx.query_row("PRAGMA application_id", [], |r| r.get(0))?;
            if done != APPLICATION_ID {
                tx.execute_batch(SCHEMA)?;
                tx.pragma_update(None, "application_id", APPLICATION_ID)?;
                tx.pragma_update(None, "user_version", FORMAT_VERSION)?;
            }
            tx.commit()
        })();
        if let Err(e) = init {
            return classify_open(path, "creating the schema", e);
        }
    }
    if let Err(e) = conn.execute_batch(ADDED_SCHEMA) {
        return classify_open(path, "adding the prepare marks table", e);
    }
    match conn.query_row("SELECT count(*) FROM projects", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(Ok(conn)),
        Err(e) => classify_open(path, "reading the projects table", e),
    }
}

fn classify_open<T>(
    path: &Path,
    action: &str,
    e: rusqlite::Error,
) -> Result<Result<T, Invalid>, IndexError> {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && matches!(f.code, ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    {
        return Ok(Err(Invalid::Corrupt(format!("{action}: {e}"))));
    }
    Err(classify(path, action, e))
}

/// Read-only, permission and full-disk failures are "unwritable"; the rest stays SQLite.
pub(crate) fn classify(path: &Path, action: &str, e: rusqlite::Error) -> IndexError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && matches!(
            f.code,
            ErrorCode::ReadOnly
                | ErrorCode::CannotOpen
                | ErrorCode::PermissionDenied
                | ErrorCode::DiskFull
        )
    {
        return unwritable(path, &format!("{action}: {e}"));
    }
    IndexError::sqlite(path, action, e)
}

/// A file that does not start with SQLite's magic header is corrupt, before SQLite sees it.
fn precheck_header(path: &Path) -> Result<Option<Invalid>, IndexError> {
    use std::io::Read;
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unwritable(path, &e.to_string())),
    };
    let mut header = Vec::with_capacity(16);
    (&mut file)
        .take(16)
        .read_to_end(&mut header)
        .map_err(|e| unwritable(path, &e.to_string()))?;
    if header.is_empty() || header == b"SQLite format 3\0" {
        Ok(None)
    } else {
        Ok(Some(Invalid::Corrupt("no SQLite header".to_owned())))
    }
}

/// Creates the file with mode 0600 before SQLite does (its `-wal`/`-shm` inherit the mode).
fn create_private_file(path: &Path) -> Result<(), IndexError> {
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
        if let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(0o600)) {
            tracing::warn!(target: "ayon_index", "could not set mode 0600 on {}: {e}", path.display());
        }
    }
    Ok(())
}

/// Renames the file (and its `-wal`) to a name saying why, removes its `-shm`.
fn move_aside(path: &Path, why: &str) -> Result<PathBuf, IndexError> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("index.sqlite");
    let mut to = path.with_file_name(format!("{name}.{why}-{stamp}"));
    let mut n = 1;
    while to.exists() {
        n += 1;
        to = path.with_file_name(format!("{name}.{why}-{stamp}-{n}"));
    }
    fs::rename(path, &to).map_err(|e| IndexError::Unusable {
        path: path.to_path_buf(),
        reason: format!("invalid and could not be moved to {}: {e}", to.display()),
    })?;
    let _ = fs::rename(sibling(path, "-wal"), sibling(&to, "-wal"));
    let _ = fs::remove_file(sibling(path, "-shm"));
    Ok(to)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn unwritable(path: &Path, reason: &str) -> IndexError {
    IndexError::Unwritable {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    }
}
