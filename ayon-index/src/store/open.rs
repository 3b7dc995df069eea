//! Opening the index file with `ayon-cache`'s SQLite file rules (0600 file, header check, busy
//! timeout, application id and format version, WAL, schema once, an invalid file moved aside),
//! then checking the projects table.

use std::fs;
use std::path::Path;
use std::time::Duration;

use ayon_cache::sqlite_file::{self, OpenFailure, StoreFile};
use rusqlite::Connection;

use super::schema::{ADDED_SCHEMA, APPLICATION_ID, FORMAT_VERSION, SCHEMA};
use crate::IndexError;

/// The index's file rules. FULL: a snapshot the API reported as written survives power loss,
/// not only a crash.
const INDEX_FILE: StoreFile<'static> = StoreFile::new(APPLICATION_ID, FORMAT_VERSION, SCHEMA)
    .synchronous("FULL")
    .statement_cache(64);

/// Opens a connection with the index's pragmas.
pub(crate) fn connect(path: &Path, busy: Duration) -> Result<Connection, rusqlite::Error> {
    INDEX_FILE.connect(path, busy)
}

/// Opens (creating if needed) the index at `path`, moving an invalid file aside once.
pub(crate) fn open(path: &Path, busy: Duration) -> Result<Connection, IndexError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| unwritable(dir, &e.to_string()))?;
    for attempt in 0..2 {
        match open_checked(path, busy) {
            Ok(conn) => return Ok(conn),
            Err(OpenFailure::Invalid(reason, detail)) if attempt == 0 => {
                let to = sqlite_file::move_aside(path, &reason).map_err(|reason| {
                    IndexError::Unusable {
                        path: path.to_path_buf(),
                        reason,
                    }
                })?;
                tracing::warn!(target: "ayon_index",
                    "index {} was invalid ({detail}); moved it to {} and created a fresh one",
                    path.display(), to.display());
            }
            Err(OpenFailure::Invalid(..)) => break,
            Err(OpenFailure::Unwritable(reason)) => return Err(unwritable(path, &reason)),
            Err(OpenFailure::Sqlite(action, e)) => return Err(IndexError::sqlite(path, action, e)),
            Err(other) => return Err(unwritable(path, &other.to_string())),
        }
    }
    Err(IndexError::Unusable {
        path: path.to_path_buf(),
        reason: "still invalid after moving it aside".to_owned(),
    })
}

/// The writer connection, once the projects table reads.
fn open_checked(path: &Path, busy: Duration) -> Result<Connection, OpenFailure> {
    let conn = INDEX_FILE.open_checked(path, busy)?.connection;
    // Tables added after format 1 shipped: created in place, so an older index keeps its data.
    conn.execute_batch(ADDED_SCHEMA)
        .map_err(|e| sqlite_file::failure("adding the prepare marks table", e))?;
    conn.query_row("SELECT count(*) FROM projects", [], |r| r.get::<_, i64>(0))
        .map_err(|e| sqlite_file::failure("reading the projects table", e))?;
    Ok(conn)
}

/// Read-only, permission and full-disk failures are "unwritable"; the rest stays SQLite.
pub(crate) fn classify(path: &Path, action: &str, e: rusqlite::Error) -> IndexError {
    if sqlite_file::is_unwritable(&e) {
        return unwritable(path, &format!("{action}: {e}"));
    }
    IndexError::sqlite(path, action, e)
}

fn unwritable(path: &Path, reason: &str) -> IndexError {
    IndexError::Unwritable {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    }
}
