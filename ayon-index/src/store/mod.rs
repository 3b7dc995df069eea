//! The SQLite side of the index: one file, one writer connection, a few readers.

mod open;
mod query;
pub(crate) mod schema;
mod write;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, MutexGuard};
use rusqlite::{Connection, OptionalExtension};

use crate::IndexError;

/// Reader connections: lookups take whichever is free.
const READERS: usize = 2;

/// A prepared project as the resolver needs it (roots decoded on read).
#[derive(Debug, Clone)]
pub(crate) struct ProjectRow {
    pub(crate) pk: i64,
    pub(crate) name: String,
    pub(crate) anatomy_roots: String,
    pub(crate) site_platform: Option<String>,
    pub(crate) site_roots: Option<String>,
    pub(crate) prepared_at_ms: i64,
    pub(crate) changed_at_ms: i64,
    pub(crate) subtrees: Vec<String>,
    /// Exact versions kept per product, when not all were prepared.
    pub(crate) newest_versions: Option<u32>,
}

/// The index file and its connections.
pub(crate) struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    /// A connection only for `PRAGMA data_version` (changes when another connection commits).
    watcher: Mutex<(Connection, i64)>,
}

impl Store {
    /// Opens or creates the index at `path`.
    pub(crate) fn open(path: &Path, busy: Duration) -> Result<Store, IndexError> {
        let writer = open::open(path, busy)?;
        let connect =
            || open::connect(path, busy).map_err(|e| open::classify(path, "opening a reader", e));
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            readers.push(Mutex::new(connect()?));
        }
        let watcher = connect()?;
        let version = data_version(&watcher)
            .map_err(|e| IndexError::sqlite(path, "reading data_version", e))?;
        Ok(Store {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers,
            watcher: Mutex::new((watcher, version)),
        })
    }

    /// The index file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        for r in &self.readers {
            if let Some(guard) = r.try_lock() {
                return guard;
            }
        }
        self.readers[0].lock()
    }

    /// True when another connection (this process or another) committed since the last call.
    pub(crate) fn changed_elsewhere(&self) -> Result<bool, IndexError> {
        let mut w = self.watcher.lock();
        let now = data_version(&w.0).map_err(|e| self.err("reading data_version", e))?;
        let changed = now != w.1;
        w.1 = now;
        Ok(changed)
    }

    pub(crate) fn err(&self, action: &str, e: rusqlite::Error) -> IndexError {
        open::classify(&self.path, action, e)
    }

    /// The prepared project matching `name` case-insensitively, as the server matches names.
    pub(crate) fn project(&self, name: &str) -> Result<Option<ProjectRow>, IndexError> {
        let conn = self.reader();
        conn.prepare_cached(
            "SELECT pk, name, anatomy_roots, site_platform, site_roots, prepared_at_ms,
             changed_at_ms, subtrees, (SELECT newest FROM version_limits WHERE project = pk)
             FROM projects WHERE name_lower = ?1",
        )
        .and_then(|mut s| {
            s.query_row([name.to_ascii_lowercase()], |r| {
                Ok(ProjectRow {
                    pk: r.get(0)?,
                    name: r.get(1)?,
                    anatomy_roots: r.get(2)?,
                    site_platform: r.get(3)?,
                    site_roots: r.get(4)?,
                    prepared_at_ms: r.get(5)?,
                    changed_at_ms: r.get(6)?,
                    subtrees: serde_json::from_str(&r.get::<_, String>(7)?).unwrap_or_default(),
                    newest_versions: r.get(8)?,
                })
            })
            .optional()
        })
        .map_err(|e| self.err(&format!("looking up project {name}"), e))
    }

    /// Whether the server's project list (recorded at prepare) has `name` (case-insensitive);
    /// `None` when no list was ever recorded.
    pub(crate) fn server_has_project(&self, name: &str) -> Result<Option<bool>, IndexError> {
        let conn = self.reader();
        let (total, found): (i64, i64) = conn
            .prepare_cached(
                "SELECT count(*), coalesce(sum(name_lower = ?1), 0) FROM server_projects",
            )
            .and_then(|mut s| {
                s.query_row([name.to_ascii_lowercase()], |r| Ok((r.get(0)?, r.get(1)?)))
            })
            .map_err(|e| self.err("reading the server's project list", e))?;
        Ok((total > 0).then_some(found > 0))
    }

    /// The names of the prepared projects.
    pub(crate) fn projects(&self) -> Result<Vec<String>, IndexError> {
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached("SELECT name FROM projects ORDER BY name_lower")
            .map_err(|e| self.err("listing projects", e))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| self.err("listing projects", e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err("listing projects", e))
    }

    /// The prepare mark of a project, if one was recorded since its last snapshot.
    pub(crate) fn mark(&self, pk: i64) -> Result<Option<String>, IndexError> {
        let conn = self.reader();
        conn.prepare_cached("SELECT mark FROM prepare_marks WHERE project = ?1")
            .and_then(|mut s| s.query_row([pk], |r| r.get(0)).optional())
            .map_err(|e| self.err("reading the prepare mark", e))
    }

    /// `(id, path)` of a project's folders, or `(id, parent id)` of another table's rows.
    pub(crate) fn id_pairs(
        &self,
        pk: i64,
        table: &str,
    ) -> Result<Vec<(String, String)>, IndexError> {
        let second = match table {
            "folders" => "path",
            "tasks" | "products" => "folder_id",
            "versions" => "product_id",
            "representations" => "version_id",
            _ => "task_id",
        };
        let conn = self.reader();
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT id, {second} FROM {table} WHERE project = ?1 ORDER BY seq"
            ))
            .map_err(|e| self.err(&format!("listing {table}"), e))?;
        let rows = stmt
            .query_map([pk], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(&format!("listing {table}"), e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err(&format!("listing {table}"), e))
    }

    /// Entity rows per table for one project.
    pub(crate) fn counts(&self, pk: i64) -> Result<[u64; 6], IndexError> {
        let conn = self.reader();
        let mut out = [0u64; 6];
        for (i, table) in schema::ENTITY_TABLES.iter().enumerate() {
            let n: i64 = conn
                .prepare_cached(&format!("SELECT count(*) FROM {table} WHERE project = ?1"))
                .and_then(|mut s| s.query_row([pk], |r| r.get(0)))
                .map_err(|e| self.err(&format!("counting {table}"), e))?;
            out[i] = n as u64;
        }
        Ok(out)
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("PRAGMA data_version")?
        .query_row([], |r| r.get(0))
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
