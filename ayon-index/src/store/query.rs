//! The server's resolve query (`resolve_entities` in ayon-backend's `api/resolve`) over the
//! index's tables: the same joins for each target, the same conditions (exact, case-sensitive
//! names; no `active` filter; a level left out is no condition at all), the same 1000-row cap.
//! Rows come in creation order, parents first, as the server's unordered scan returns them.
//!
//! The joins are nested loops in a fixed order over fixed indexes (`CROSS JOIN`, `INDEXED BY`):
//! without statistics SQLite's planner scanned whole tables (440 us for one exact URI), and
//! statistics gathered by one connection are not seen by the others until their schema
//! reloads.

use ayon_uri::{AyonUri, Target, VersionSelector};
use rusqlite::OptionalExtension;
use rusqlite::types::Value;

use super::Store;
use crate::IndexError;

/// The server's `LIMIT 1000`.
pub(crate) const ROW_CAP: usize = 1000;

/// One result row: the ids the target's query selects, and what a path is made of.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    pub(crate) folder_id: String,
    pub(crate) product_id: Option<String>,
    pub(crate) version_id: Option<String>,
    pub(crate) representation_id: Option<String>,
    pub(crate) task_id: Option<String>,
    pub(crate) workfile_id: Option<String>,
    pub(crate) template: Option<String>,
    pub(crate) context: Option<String>,
}

/// The SQL text and parameters for one URI.
struct Query {
    sql: String,
    params: Vec<Value>,
}

/// Builds the query for `uri` (whose target is `target`) in project `pk`.
fn build(pk: i64, uri: &AyonUri, target: Target) -> Query {
    let mut cols = vec!["h.id"];
    let mut joins: Vec<&str> = Vec::new();
    let mut conds: Vec<String> = vec!["h.project = ?".to_owned()];
    let mut params: Vec<Value> = vec![Value::Integer(pk)];
    let mut order = vec!["h.seq"];
    let eq = |conds: &mut Vec<String>, params: &mut Vec<Value>, col: &str, v: &str| {
        conds.push(format!("{col} = ?"));
        params.push(Value::Text(v.to_owned()));
    };
    match target {
        Target::Task | Target::Workfile => {
            cols.push("t.id");
            joins.push("CROSS JOIN tasks t INDEXED BY tasks_by_folder ON t.project = h.project AND t.folder_id = h.id");
            // `t.name = '{req.task_name}'`: a workfile URI without a task looks for a task
            // literally named "None", and `*` is no wildcard here.
            eq(
                &mut conds,
                &mut params,
                "t.name",
                uri.task().unwrap_or("None"),
            );
            order.push("t.seq");
            if target == Target::Workfile {
                cols.push("w.id");
                cols.push("w.path");
                joins.push("CROSS JOIN workfiles w INDEXED BY workfiles_by_task ON w.project = t.project AND w.task_id = t.id");
                order.push("w.seq");
            }
        }
        Target::Representation | Target::Version | Target::Product => {
            cols.push("s.id");
            joins.push("CROSS JOIN products s INDEXED BY products_by_folder ON s.project = h.project AND s.folder_id = h.id");
            if target != Target::Product {
                cols.push("v.id");
                joins.push("CROSS JOIN versions v INDEXED BY versions_by_product ON v.project = s.project AND v.product_id = s.id");
            }
            if target == Target::Representation {
                cols.extend(["r.id", "r.template", "r.context"]);
                joins.push(
                    "CROSS JOIN representations r INDEXED BY representations_by_version ON r.project = v.project AND r.version_id = v.id",
                );
                if let Some(name) = uri.representation().filter(|n| *n != "*") {
                    eq(&mut conds, &mut params, "r.name", name);
                }
            }
            if target != Target::Product
                && let Some(selector) = uri.version()
            {
                match selector {
                    VersionSelector::Any => {}
                    VersionSelector::Exact(n) => {
                        conds.push("v.version = ?".to_owned());
                        params.push(Value::Integer(i64::from(n)));
                    }
                    VersionSelector::Hero => conds.push("v.version < 0".to_owned()),
                    // `version_list.ids[array_upper]`: the highest number, hero included.
                    VersionSelector::Latest => conds.push(
                        "v.id = (SELECT vv.id FROM versions vv INDEXED BY versions_by_product
                          WHERE vv.project = v.project AND vv.product_id = v.product_id
                          ORDER BY vv.version DESC, vv.seq DESC LIMIT 1)"
                            .to_owned(),
                    ),
                    // The highest version whose status has the state `done`.
                    VersionSelector::LatestDone => conds.push(
                        "v.id = (SELECT vv.id FROM versions vv INDEXED BY versions_by_product
                          JOIN statuses st ON st.project = vv.project AND st.name = vv.status
                          WHERE vv.project = v.project AND vv.product_id = s.id
                            AND st.state = 'done'
                          ORDER BY vv.version DESC, vv.seq DESC LIMIT 1)"
                            .to_owned(),
                    ),
                }
            }
            if let Some(name) = uri.product().filter(|n| *n != "*") {
                eq(&mut conds, &mut params, "s.name", name);
            }
            order.push("s.seq");
            if target != Target::Product {
                order.push("v.seq");
            }
            if target == Target::Representation {
                order.push("r.seq");
            }
        }
        Target::Folder => {}
    }
    let path = uri.folder_path();
    let folders = if path.is_empty() {
        "folders h INDEXED BY folders_by_seq"
    } else {
        eq(&mut conds, &mut params, "h.path", path);
        "folders h INDEXED BY folders_by_path"
    };
    let mut sql = format!(
        "SELECT {} FROM {folders} {} WHERE {} ORDER BY {}",
        cols.join(", "),
        joins.join(" "),
        conds.join(" AND "),
        order.join(", ")
    );
    // Workfiles are matched in Rust (Postgres `LIKE` semantics), so the cap comes after.
    if target != Target::Workfile {
        sql.push_str(&format!(" LIMIT {ROW_CAP}"));
    }
    Query { sql, params }
}

/// Postgres `path LIKE '%/' || name`: case-sensitive, `_` matches any one character, `%` any
/// run (workfile names cannot contain `%`, so only `_` is special).
fn like_suffix(path: &str, name: &str) -> bool {
    let path: Vec<char> = path.chars().collect();
    let name: Vec<char> = name.chars().collect();
    if path.len() < name.len() + 1 {
        return false;
    }
    let tail = &path[path.len() - name.len()..];
    path[path.len() - name.len() - 1] == '/'
        && tail.iter().zip(&name).all(|(p, n)| *n == '_' || p == n)
}

impl Store {
    /// Whether a product the URI names (its folder path and product name; a level left out
    /// matches all, as in the server's query) lacks exact version `version` while holding
    /// `newest` newer ones: a prepare that kept only the newest versions dropped it, if it
    /// exists.
    pub(crate) fn version_not_kept(
        &self,
        pk: i64,
        uri: &AyonUri,
        version: i32,
        newest: u32,
    ) -> Result<bool, IndexError> {
        let mut conds = vec!["s.project = ?1".to_owned()];
        let mut params: Vec<Value> = vec![
            Value::Integer(pk),
            Value::Integer(i64::from(version)),
            Value::Integer(i64::from(newest)),
        ];
        if !uri.folder_path().is_empty() {
            conds.push(format!("h.path = ?{}", params.len() + 1));
            params.push(Value::Text(uri.folder_path().to_owned()));
        }
        if let Some(name) = uri.product().filter(|n| *n != "*") {
            conds.push(format!("s.name = ?{}", params.len() + 1));
            params.push(Value::Text(name.to_owned()));
        }
        let sql = format!(
            "SELECT 1 FROM products s JOIN folders h ON h.project = s.project AND h.id = s.folder_id
             WHERE {}
               AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.project = s.project
                               AND v.product_id = s.id AND v.version = ?2)
               AND (SELECT count(*) FROM versions v WHERE v.project = s.project
                    AND v.product_id = s.id AND v.version > ?2) >= ?3
             LIMIT 1",
            conds.join(" AND ")
        );
        let conn = self.reader();
        conn.prepare_cached(&sql)
            .and_then(|mut stmt| {
                stmt.query_row(rusqlite::params_from_iter(params), |_| Ok(()))
                    .optional()
            })
            .map(|found| found.is_some())
            .map_err(|e| self.err("checking for versions not kept", e))
    }

    /// The rows the server's query returns for `uri` in project `pk`, capped at 1000.
    pub(crate) fn rows(
        &self,
        pk: i64,
        uri: &AyonUri,
        target: Target,
    ) -> Result<Vec<Row>, IndexError> {
        let q = build(pk, uri, target);
        let conn = self.reader();
        let action = || format!("resolving {}", uri.canonical());
        let mut stmt = conn
            .prepare_cached(&q.sql)
            .map_err(|e| self.err(&action(), e))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(q.params.iter()))
            .map_err(|e| self.err(&action(), e))?;
        let mut out = Vec::new();
        let workfile = uri.workfile();
        while let Some(r) = rows.next().map_err(|e| self.err(&action(), e))? {
            let get = |i: usize| r.get::<_, String>(i);
            let row = (|| -> rusqlite::Result<Option<Row>> {
                let mut row = Row {
                    folder_id: get(0)?,
                    ..Row::default()
                };
                match target {
                    Target::Folder => {}
                    Target::Task => row.task_id = Some(get(1)?),
                    Target::Workfile => {
                        let path = get(3)?;
                        if !like_suffix(&path, workfile.unwrap_or_default()) {
                            return Ok(None);
                        }
                        row.task_id = Some(get(1)?);
                        row.workfile_id = Some(get(2)?);
                    }
                    Target::Product => row.product_id = Some(get(1)?),
                    Target::Version => {
                        row.product_id = Some(get(1)?);
                        row.version_id = Some(get(2)?);
                    }
                    Target::Representation => {
                        row.product_id = Some(get(1)?);
                        row.version_id = Some(get(2)?);
                        row.representation_id = Some(get(3)?);
                        row.template = r.get(4)?;
                        row.context = Some(get(5)?);
                    }
                }
                Ok(Some(row))
            })()
            .map_err(|e| self.err(&action(), e))?;
            if let Some(row) = row {
                out.push(row);
                if out.len() == ROW_CAP {
                    break;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::like_suffix;

    #[test]
    fn like_suffix_follows_postgres_like() {
        assert!(like_suffix("{root[work]}/a/b/x.ma", "x.ma"));
        assert!(!like_suffix("{root[work]}/a/b/yx.ma", "x.ma"));
        assert!(!like_suffix("x.ma", "x.ma"));
        assert!(like_suffix("/x.ma", "x.ma"));
        assert!(like_suffix("/a/hero_v001.ma", "hero_v001.ma"));
        assert!(like_suffix("/a/heroXv001.ma", "hero_v001.ma"));
        assert!(!like_suffix("/a/HERO_v001.ma", "hero_v001.ma"));
    }
}
