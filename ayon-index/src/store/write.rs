//! Writes: a whole project snapshot in one transaction (a writer killed half-way leaves the
//! previous snapshot answering), incremental changes, and the server's project list.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use rusqlite::{CachedStatement, OptionalExtension, Transaction, TransactionBehavior, params};

use super::schema::ENTITY_TABLES;
use super::{Store, now_ms};
use crate::IndexError;
use crate::model::{
    AnatomyRoot, Change, EntityKind, FolderRecord, ProductRecord, ProjectSnapshot,
    RepresentationRecord, ServerProject, SiteRootsRecord, StatusRecord, TaskRecord, VersionRecord,
    WorkfileRecord,
};

/// Called with the number of entity rows written so far during a snapshot replacement, every
/// 256 rows and at the end (for progress display; also lets tests kill a writer half-way).
pub(crate) type Progress<'a> = &'a mut dyn FnMut(u64);

fn roots_json(roots: &BTreeMap<String, AnatomyRoot>) -> String {
    let map: serde_json::Map<String, serde_json::Value> = roots
        .iter()
        .map(|(k, r)| {
            (
                k.clone(),
                serde_json::json!({"windows": r.windows, "linux": r.linux, "darwin": r.darwin}),
            )
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn site_json(site: &SiteRootsRecord) -> String {
    serde_json::to_string(&site.roots).unwrap_or_else(|_| "{}".to_owned())
}

/// Checks that every parent id a snapshot refers to is in the snapshot.
fn validate(s: &ProjectSnapshot) -> Result<(), IndexError> {
    let bad = |reason: String| IndexError::InvalidInput {
        project: s.project.name.clone(),
        reason,
    };
    if s.project.name.is_empty() {
        return Err(bad("the project has no name".to_owned()));
    }
    let (folders, tasks) = (ids(&s.folders), ids(&s.tasks));
    let (products, versions) = (ids(&s.products), ids(&s.versions));
    orphan(&s.tasks, &folders)
        .and(orphan(&s.products, &folders))
        .and(orphan(&s.versions, &products))
        .and(orphan(&s.representations, &versions))
        .and(orphan(&s.workfiles, &tasks))
        .map_err(bad)
}

fn ids<R: EntityRow>(rows: &[R]) -> HashSet<&str> {
    rows.iter().map(EntityRow::id).collect()
}

/// The first row whose parent is not in `parents`, described.
fn orphan<R: EntityRow>(rows: &[R], parents: &HashSet<&str>) -> Result<(), String> {
    match rows.iter().find(|r| !parents.contains(r.parent().1)) {
        None => Ok(()),
        Some(r) => {
            let (table, parent) = r.parent();
            Err(format!(
                "{} {} refers to {} {parent}, which is not in the snapshot",
                R::TABLE.trim_end_matches('s'),
                r.id(),
                table.trim_end_matches('s'),
            ))
        }
    }
}

impl Store {
    /// Replaces everything stored for the snapshot's project in one transaction.
    pub(crate) fn replace_project(
        &self,
        s: &ProjectSnapshot,
        progress: Progress<'_>,
    ) -> Result<(), IndexError> {
        validate(s)?;
        let name = s.project.name.as_str();
        let mut conn = self.writer.lock();
        let result = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_ms();
            let lower = name.to_ascii_lowercase();
            let existing: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT pk, generation FROM projects WHERE name_lower = ?1",
                    [&lower],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (site_id, site_platform, site_roots) = match &s.site_roots {
                Some(site) => (
                    Some(site.site_id.as_str()),
                    Some(site.platform.as_str()),
                    Some(site_json(site)),
                ),
                None => (None, None, None),
            };
            let subtrees = serde_json::Value::from(
                s.subtrees
                    .iter()
                    .map(|t| t.trim_matches('/').to_owned())
                    .collect::<Vec<_>>(),
            )
            .to_string();
            let pk = match existing {
                Some((pk, generation)) => {
                    for table in ENTITY_TABLES.iter().rev() {
                        tx.execute(&format!("DELETE FROM {table} WHERE project = ?1"), [pk])?;
                    }
                    tx.execute("DELETE FROM statuses WHERE project = ?1", [pk])?;
                    tx.execute(
                        "UPDATE projects SET name = ?2, code = ?3, anatomy_roots = ?4, site_id = ?5,
                         site_platform = ?6, site_roots = ?7, prepared_at_ms = ?8,
                         changed_at_ms = ?8, generation = ?9, subtrees = ?10 WHERE pk = ?1",
                        params![
                            pk,
                            name,
                            s.project.code,
                            roots_json(&s.project.roots),
                            site_id,
                            site_platform,
                            site_roots,
                            now,
                            generation + 1,
                            subtrees
                        ],
                    )?;
                    pk
                }
                None => {
                    tx.execute(
                        "INSERT INTO projects (name, name_lower, code, anatomy_roots, site_id,
                         site_platform, site_roots, prepared_at_ms, changed_at_ms, generation,
                         subtrees)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1, ?9)",
                        params![
                            name,
                            lower,
                            s.project.code,
                            roots_json(&s.project.roots),
                            site_id,
                            site_platform,
                            site_roots,
                            now,
                            subtrees
                        ],
                    )?;
                    tx.last_insert_rowid()
                }
            };
            insert_statuses(&tx, pk, &s.project.statuses)?;
            let mut written = 0u64;
            let mut tick = |n: &mut u64| {
                *n += 1;
                if (*n).is_multiple_of(256) {
                    progress(*n);
                }
            };
            // A full snapshot makes the last prepare's mark meaningless until a new one is set.
            tx.execute("DELETE FROM prepare_marks WHERE project = ?1", [pk])?;
            tx.execute("DELETE FROM version_limits WHERE project = ?1", [pk])?;
            if let Some(n) = s.newest_versions {
                tx.execute(
                    "INSERT INTO version_limits (project, newest) VALUES (?1, ?2)",
                    params![pk, n],
                )?;
            }
            insert_all(&tx, pk, &s.folders, &mut tick, &mut written)?;
            insert_all(&tx, pk, &s.tasks, &mut tick, &mut written)?;
            insert_all(&tx, pk, &s.products, &mut tick, &mut written)?;
            insert_all(&tx, pk, &s.versions, &mut tick, &mut written)?;
            insert_all(&tx, pk, &s.representations, &mut tick, &mut written)?;
            insert_all(&tx, pk, &s.workfiles, &mut tick, &mut written)?;
            tx.commit()?;
            progress(written);
            Ok(())
        })();
        result.map_err(|e| self.err(&format!("replacing project {name}"), e))
    }

    /// Applies incremental changes to a prepared project in one transaction.
    pub(crate) fn apply_changes(
        &self,
        project: &str,
        changes: &[Change],
    ) -> Result<(), IndexError> {
        let mut conn = self.writer.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err("starting a change", e))?;
        let pk: i64 = tx
            .query_row(
                "SELECT pk FROM projects WHERE name_lower = ?1",
                [project.to_ascii_lowercase()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err("looking up the project", e))?
            .ok_or_else(|| IndexError::InvalidInput {
                project: project.to_owned(),
                reason: "the project is not prepared; replace a snapshot first".to_owned(),
            })?;
        for change in changes {
            apply(&tx, pk, change).map_err(|e| match e {
                Applied::Sql(e) => self.err(&format!("applying {change:?}"), e),
                Applied::Invalid(reason) => IndexError::InvalidInput {
                    project: project.to_owned(),
                    reason,
                },
            })?;
        }
        tx.execute(
            "UPDATE projects SET generation = generation + 1, changed_at_ms = ?2 WHERE pk = ?1",
            params![pk, now_ms()],
        )
        .map_err(|e| self.err("bumping the generation", e))?;
        tx.commit().map_err(|e| self.err("committing changes", e))
    }

    /// Records `mark` for a prepared project (after its snapshot or changes are committed: a
    /// mark is never newer than the data it describes).
    pub(crate) fn set_mark(&self, project: &str, mark: &str) -> Result<bool, IndexError> {
        let conn = self.writer.lock();
        conn.execute(
            "INSERT OR REPLACE INTO prepare_marks (project, mark)
             SELECT pk, ?2 FROM projects WHERE name_lower = ?1",
            params![project.to_ascii_lowercase(), mark],
        )
        .map(|n| n > 0)
        .map_err(|e| self.err(&format!("recording the prepare mark of {project}"), e))
    }

    /// Replaces the recorded list of projects the server has.
    pub(crate) fn record_server_projects(&self, list: &[ServerProject]) -> Result<(), IndexError> {
        let mut conn = self.writer.lock();
        let result = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM server_projects", [])?;
            let now = now_ms();
            for p in list {
                tx.execute(
                    "INSERT OR REPLACE INTO server_projects (name, name_lower, code, recorded_at_ms)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![p.name, p.name.to_ascii_lowercase(), p.code, now],
                )?;
            }
            tx.commit()
        })();
        result.map_err(|e| self.err("recording the server's project list", e))
    }

    /// Removes a prepared project entirely.
    pub(crate) fn remove_project(&self, project: &str) -> Result<bool, IndexError> {
        let mut conn = self.writer.lock();
        let result = (|| -> rusqlite::Result<bool> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let pk: Option<i64> = tx
                .query_row(
                    "SELECT pk FROM projects WHERE name_lower = ?1",
                    [project.to_ascii_lowercase()],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(pk) = pk else { return Ok(false) };
            for table in ENTITY_TABLES.iter().rev() {
                tx.execute(&format!("DELETE FROM {table} WHERE project = ?1"), [pk])?;
            }
            tx.execute("DELETE FROM statuses WHERE project = ?1", [pk])?;
            tx.execute("DELETE FROM prepare_marks WHERE project = ?1", [pk])?;
            tx.execute("DELETE FROM version_limits WHERE project = ?1", [pk])?;
            tx.execute("DELETE FROM projects WHERE pk = ?1", [pk])?;
            tx.commit()?;
            Ok(true)
        })();
        result.map_err(|e| self.err(&format!("removing project {project}"), e))
    }
}

enum Applied {
    Sql(rusqlite::Error),
    Invalid(String),
}

impl From<rusqlite::Error> for Applied {
    fn from(e: rusqlite::Error) -> Self {
        Applied::Sql(e)
    }
}

fn exists(tx: &Transaction<'_>, table: &str, pk: i64, id: &str) -> rusqlite::Result<bool> {
    tx.prepare_cached(&format!(
        "SELECT 1 FROM {table} WHERE project = ?1 AND id = ?2"
    ))?
    .query_row(params![pk, id], |_| Ok(()))
    .optional()
    .map(|o| o.is_some())
}

/// The `seq` an upsert uses: the row's own when it exists, else one past the last.
fn seq_for(tx: &Transaction<'_>, table: &str, pk: i64, id: &str) -> rusqlite::Result<i64> {
    tx.prepare_cached(&format!(
        "SELECT coalesce((SELECT seq FROM {table} WHERE project = ?1 AND id = ?2),
                         (SELECT coalesce(max(seq), -1) + 1 FROM {table} WHERE project = ?1))"
    ))?
    .query_row(params![pk, id], |r| r.get(0))
}

/// Upserts an entity whose parent must already be in the index.
fn upsert_child<R: EntityRow>(tx: &Transaction<'_>, pk: i64, row: &R) -> Result<(), Applied> {
    let (parent_table, parent) = R::parent(row);
    if !exists(tx, parent_table, pk, parent)? {
        return Err(Applied::Invalid(format!(
            "{} {} refers to {} {parent}, which is not in the index",
            R::TABLE.trim_end_matches('s'),
            row.id(),
            parent_table.trim_end_matches('s')
        )));
    }
    let seq = seq_for(tx, R::TABLE, pk, row.id())?;
    upsert(tx, pk, seq, row)?;
    Ok(())
}

fn apply(tx: &Transaction<'_>, pk: i64, change: &Change) -> Result<(), Applied> {
    match change {
        Change::Folder(f) => {
            let old: Option<String> = tx
                .query_row(
                    "SELECT path FROM folders WHERE project = ?1 AND id = ?2",
                    params![pk, f.id],
                    |r| r.get(0),
                )
                .optional()?;
            let seq = seq_for(tx, FolderRecord::TABLE, pk, &f.id)?;
            upsert(tx, pk, seq, f)?;
            // A renamed or moved folder moves its descendants' paths with it.
            if let Some(old) = old.filter(|o| *o != f.path) {
                tx.execute(
                    "UPDATE folders SET path = ?3 || substr(path, length(?2) + 1)
                     WHERE project = ?1 AND substr(path, 1, length(?2) + 1) = ?2 || '/'",
                    params![pk, old, f.path],
                )?;
            }
        }
        Change::Task(t) => upsert_child(tx, pk, t)?,
        Change::Product(p) => upsert_child(tx, pk, p)?,
        Change::Version(v) => upsert_child(tx, pk, v)?,
        Change::Representation(r) => upsert_child(tx, pk, r)?,
        Change::Workfile(w) => upsert_child(tx, pk, w)?,
        Change::Project(p) => {
            tx.execute(
                "UPDATE projects SET code = ?2, anatomy_roots = ?3 WHERE pk = ?1",
                params![pk, p.code, roots_json(&p.roots)],
            )?;
            tx.execute("DELETE FROM statuses WHERE project = ?1", [pk])?;
            insert_statuses(tx, pk, &p.statuses)?;
        }
        Change::Delete(kind, id) => delete(tx, pk, *kind, id)?,
        Change::Statuses(list) => {
            tx.execute("DELETE FROM statuses WHERE project = ?1", [pk])?;
            insert_statuses(tx, pk, list)?;
        }
        Change::SiteRoots(site) => {
            tx.execute(
                "UPDATE projects SET site_id = ?2, site_platform = ?3, site_roots = ?4 WHERE pk = ?1",
                params![pk, site.site_id, site.platform.as_str(), site_json(site)],
            )?;
        }
    }
    Ok(())
}

/// Deletes an entity and everything below it, as the server's cascades do: the statements
/// run in order, `?1` the project and `?2` the id.
fn delete(tx: &Transaction<'_>, pk: i64, kind: EntityKind, id: &str) -> rusqlite::Result<()> {
    let cascade: &[&str] = match kind {
        EntityKind::Representation => {
            &["DELETE FROM representations WHERE project = ?1 AND id = ?2"]
        }
        EntityKind::Workfile => &["DELETE FROM workfiles WHERE project = ?1 AND id = ?2"],
        EntityKind::Version => &[
            "DELETE FROM representations WHERE project = ?1 AND version_id = ?2",
            "DELETE FROM versions WHERE project = ?1 AND id = ?2",
        ],
        EntityKind::Product => &[
            "DELETE FROM representations WHERE project = ?1 AND version_id IN
             (SELECT id FROM versions WHERE project = ?1 AND product_id = ?2)",
            "DELETE FROM versions WHERE project = ?1 AND product_id = ?2",
            "DELETE FROM products WHERE project = ?1 AND id = ?2",
        ],
        EntityKind::Task => &[
            "DELETE FROM workfiles WHERE project = ?1 AND task_id = ?2",
            "DELETE FROM tasks WHERE project = ?1 AND id = ?2",
        ],
        EntityKind::Folder => return delete_folder(tx, pk, id),
    };
    for sql in cascade {
        tx.prepare_cached(sql)?.execute(params![pk, id])?;
    }
    Ok(())
}

/// A folder with its subtree (every folder whose path is below it) and all they hold.
fn delete_folder(tx: &Transaction<'_>, pk: i64, id: &str) -> rusqlite::Result<()> {
    /// Run in order with `?1` the project, over the folders in `doomed_folders`.
    const CASCADE: [&str; 6] = [
        "DELETE FROM representations WHERE project = ?1 AND version_id IN (SELECT id FROM versions WHERE project = ?1 AND product_id IN (SELECT id FROM products WHERE project = ?1 AND folder_id IN (SELECT id FROM doomed_folders)))",
        "DELETE FROM versions WHERE project = ?1 AND product_id IN (SELECT id FROM products WHERE project = ?1 AND folder_id IN (SELECT id FROM doomed_folders))",
        "DELETE FROM products WHERE project = ?1 AND folder_id IN (SELECT id FROM doomed_folders)",
        "DELETE FROM workfiles WHERE project = ?1 AND task_id IN (SELECT id FROM tasks WHERE project = ?1 AND folder_id IN (SELECT id FROM doomed_folders))",
        "DELETE FROM tasks WHERE project = ?1 AND folder_id IN (SELECT id FROM doomed_folders)",
        "DELETE FROM folders WHERE project = ?1 AND id IN (SELECT id FROM doomed_folders)",
    ];
    let path: Option<String> = tx
        .query_row(
            "SELECT path FROM folders WHERE project = ?1 AND id = ?2",
            params![pk, id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(path) = path else { return Ok(()) };
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS doomed_folders (id TEXT PRIMARY KEY); DELETE FROM doomed_folders;",
    )?;
    tx.execute(
        "INSERT INTO doomed_folders SELECT id FROM folders
         WHERE project = ?1 AND (path = ?2 OR substr(path, 1, length(?2) + 1) = ?2 || '/')",
        params![pk, path],
    )?;
    for sql in CASCADE {
        tx.execute(sql, [pk])?;
    }
    tx.execute("DELETE FROM doomed_folders", [])?;
    Ok(())
}

fn insert_statuses(tx: &Transaction<'_>, pk: i64, list: &[StatusRecord]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO statuses (project, name, state) VALUES (?1, ?2, ?3)",
    )?;
    for s in list {
        stmt.execute(params![pk, s.name, s.state])?;
    }
    Ok(())
}

/// One entity kind's row: its table, its upsert and its parent, so that every kind is written
/// by the same two functions.
trait EntityRow {
    /// The table.
    const TABLE: &'static str;
    /// `INSERT OR REPLACE` of every column: project, id, seq, then the kind's own.
    fn upsert_sql() -> &'static str;
    /// The entity's id.
    fn id(&self) -> &str;
    /// Runs [`Self::upsert_sql`] (prepared as `stmt`) with this row's values.
    fn execute(&self, stmt: &mut CachedStatement<'_>, pk: i64, seq: i64)
    -> rusqlite::Result<usize>;
    /// The parent's table and id, which must be in the index before the row.
    fn parent(&self) -> (&'static str, &str);
}

/// `INSERT OR REPLACE INTO table (project, id, seq, columns...) VALUES (?, ...)`.
fn upsert_statement(table: &str, columns: &[&str]) -> String {
    let marks = vec!["?"; columns.len() + 3].join(", ");
    format!(
        "INSERT OR REPLACE INTO {table} (project, id, seq, {}) VALUES ({marks})",
        columns.join(", ")
    )
}

fn upsert<R: EntityRow>(tx: &Transaction<'_>, pk: i64, seq: i64, row: &R) -> rusqlite::Result<()> {
    row.execute(&mut tx.prepare_cached(R::upsert_sql())?, pk, seq)?;
    Ok(())
}

/// A snapshot's rows of one kind, `seq` their position.
fn insert_all<R: EntityRow>(
    tx: &Transaction<'_>,
    pk: i64,
    rows: &[R],
    tick: &mut impl FnMut(&mut u64),
    written: &mut u64,
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(R::upsert_sql())?;
    for (seq, row) in rows.iter().enumerate() {
        row.execute(&mut stmt, pk, seq as i64)?;
        tick(written);
    }
    Ok(())
}

/// `impl EntityRow`: the record type, its table, its parent, and each column with its value
/// (`|r|` names the record in the value expressions).
macro_rules! entity_row {
    ($record:ty, $table:literal, parent: $parent:literal $field:ident,
     |$r:ident| { $($column:literal => $value:expr),+ $(,)? }) => {
        impl EntityRow for $record {
            const TABLE: &'static str = $table;
            fn upsert_sql() -> &'static str {
                static SQL: LazyLock<String> =
                    LazyLock::new(|| upsert_statement($table, &[$($column),+]));
                &SQL
            }
            fn id(&self) -> &str {
                &self.id
            }
            fn execute(
                &self,
                stmt: &mut CachedStatement<'_>,
                pk: i64,
                seq: i64,
            ) -> rusqlite::Result<usize> {
                let $r = self;
                stmt.execute(params![pk, $r.id, seq, $($value),+])
            }
            fn parent(&self) -> (&'static str, &str) {
                ($parent, &self.$field)
            }
        }
    };
}

// A folder's parent is not checked (its path says where it is); `id` stands in.
entity_row!(FolderRecord, "folders", parent: "folders" id, |f| {
    "path" => f.path.trim_matches('/'), "folder_type" => f.folder_type, "active" => f.active,
    "updated_at" => f.updated_at,
});
entity_row!(TaskRecord, "tasks", parent: "folders" folder_id, |t| {
    "folder_id" => t.folder_id, "name" => t.name, "task_type" => t.task_type,
    "active" => t.active, "updated_at" => t.updated_at,
});
entity_row!(ProductRecord, "products", parent: "folders" folder_id, |p| {
    "folder_id" => p.folder_id, "name" => p.name, "product_type" => p.product_type,
    "active" => p.active, "updated_at" => p.updated_at,
});
entity_row!(VersionRecord, "versions", parent: "products" product_id, |v| {
    "product_id" => v.product_id, "version" => v.version, "status" => v.status,
    "active" => v.active, "updated_at" => v.updated_at,
});
entity_row!(RepresentationRecord, "representations", parent: "versions" version_id, |r| {
    "version_id" => r.version_id, "name" => r.name, "template" => r.template,
    "context" => r.context.to_string(), "active" => r.active, "updated_at" => r.updated_at,
});
entity_row!(WorkfileRecord, "workfiles", parent: "tasks" task_id, |w| {
    "task_id" => w.task_id, "path" => w.path, "active" => w.active,
    "updated_at" => w.updated_at,
});
