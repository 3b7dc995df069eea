//! Incremental prepare: a second prepare of the same scope fetches only what changed since the
//! first, with the reads the real server supports (ayon-backend 1.16.0):
//!
//! - **Changes**: each entity connection (`folders`, `tasks`, `products`, `versions`,
//!   `representations`) takes `filter`, a QueryFilter whose whitelist has `updated_at`; the
//!   prepare asks `updatedAt gte SINCE`, project-wide, and keeps what falls in its scope.
//! - **Deletions** leave no row to filter; the server records `entity.{type}.deleted` events
//!   (`summary.entityId`), listed by GraphQL `events(topics, projects, newerThan)`.
//!
//! The rules, one place:
//!
//! - `SINCE` is the earlier of the newest `updatedAt` the previous prepare received (server
//!   time, so no clock skew) and the previous prepare's start minus
//!   [`PrepareOptions::clock_margin`] (for a write that committed during it with an older
//!   stamp). Re-reading a row is harmless; missing one is not.
//! - Deletions are read from events created after the previous start minus the margin.
//! - A full re-fetch instead when the event log cannot tell: the previous prepare is older than
//!   [`PrepareOptions::event_history`] (the server keeps a bounded history), the user is not a
//!   manager (the server then lists only the user's own events), or the events query fails.
//! - With only the newest N versions kept, the version listing (light rows) is read whole and
//!   the selection made again with the statuses read now: versions it drops leave the index,
//!   versions it takes again (an older one that became the latest done, or the newest after a
//!   deletion) come with their representations. No `updatedAt` shows those.
//! - A full re-fetch also when the previous prepare is unknown, its scope or version selection
//!   differs, a folder of a subtree scope moved (its unchanged descendants' paths change with
//!   it), or the changes do not fit the index.

use std::collections::HashSet;
use std::time::SystemTime;

use ayon_index::{Change, EntityKind, Index};
use serde_json::{Value, json};

use super::records::{
    folder_record, product_record, representation_record, task_record, version_record,
};
use super::{FIELDS, Job, PrepareError, PrepareOptions, in_subtrees};

/// The deletion topics an incremental prepare reads, with what each deletes.
const DELETED: [(&str, EntityKind); 6] = [
    ("entity.folder.deleted", EntityKind::Folder),
    ("entity.task.deleted", EntityKind::Task),
    ("entity.product.deleted", EntityKind::Product),
    ("entity.version.deleted", EntityKind::Version),
    ("entity.representation.deleted", EntityKind::Representation),
    ("entity.workfile.deleted", EntityKind::Workfile),
];

const EVENTS_QUERY: &str = "query PrepareDeleted($projects: [String!], $topics: [String!], $newerThan: String, $first: Int, $after: String) { me { isManager } events(topics: $topics, projects: $projects, newerThan: $newerThan, first: $first, after: $after) { edges { node { topic summary createdAt } } pageInfo { endCursor hasNextPage } } }";

/// What a prepare records in the index for the next one (as JSON text).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Mark {
    /// When the prepare started fetching (this machine's clock).
    pub(super) started: SystemTime,
    /// The newest `updatedAt` it received (the server's clock); empty when none.
    pub(super) watermark: String,
    /// Which versions it kept: `all` or `newest:N`.
    pub(super) selection: String,
}

impl Mark {
    pub(super) fn to_text(&self) -> String {
        json!({
            "format": 1,
            "startedAt": ayon_site::format_server_time(self.started),
            "watermark": self.watermark,
            "selection": self.selection,
        })
        .to_string()
    }

    fn parse(text: &str) -> Option<Mark> {
        let v: Value = serde_json::from_str(text).ok()?;
        (v["format"] == 1).then_some(())?;
        Some(Mark {
            started: ayon_site::parse_server_time(v["startedAt"].as_str()?)?,
            watermark: v["watermark"].as_str()?.to_owned(),
            selection: v["selection"].as_str()?.to_owned(),
        })
    }

    /// `updatedAt gte` this finds every change the previous prepare did not see.
    pub(super) fn changed_since(&self, margin: std::time::Duration) -> String {
        let floor = self.started.checked_sub(margin).unwrap_or(self.started);
        let since = match ayon_site::parse_server_time(&self.watermark) {
            Some(w) if w < floor => w,
            _ => floor,
        };
        ayon_site::format_server_time(since)
    }

    /// Deletion events created after this were not seen by the previous prepare.
    fn deleted_since(&self, margin: std::time::Duration) -> String {
        ayon_site::format_server_time(self.started.checked_sub(margin).unwrap_or(self.started))
    }
}

/// The selection a prepare with `options` makes, as the mark records it.
pub(super) fn selection(options: &PrepareOptions) -> String {
    if options.all_versions {
        "all".to_owned()
    } else {
        format!("newest:{}", options.newest_exact.max(1))
    }
}

/// The newest of some server timestamps (as instants), or empty.
pub(super) fn newest<'a>(times: impl Iterator<Item = &'a str>) -> String {
    times
        .filter_map(|t| Some((ayon_site::parse_server_time_micros(t)?, t)))
        .max_by_key(|(micros, _)| *micros)
        .map(|(_, t)| t.to_owned())
        .unwrap_or_default()
}

/// The previous prepare's mark when this one can fetch only changes, or why not.
pub(super) fn plan(
    index: &Index,
    project: &str,
    subtrees: &[String],
    options: &PrepareOptions,
    now: SystemTime,
) -> Result<Mark, String> {
    if !options.incremental {
        return Err("a full prepare was asked for".to_owned());
    }
    let prepared = match index.prepared(project) {
        Ok(Some(p)) => p,
        Ok(None) => return Err("first prepare of this project here".to_owned()),
        Err(e) => return Err(format!("the index could not say what it holds ({e})")),
    };
    let Some(mark) = index
        .prepare_mark(project)
        .ok()
        .flatten()
        .as_deref()
        .and_then(Mark::parse)
    else {
        return Err("no record of when the previous prepare ran".to_owned());
    };
    if prepared.subtrees != subtrees {
        return Err("the scope differs from the previous prepare's".to_owned());
    }
    if mark.selection != selection(options) {
        return Err("the version selection differs from the previous prepare's".to_owned());
    }
    let age = now.duration_since(mark.started).unwrap_or_default();
    if age > options.event_history {
        return Err(format!(
            "the previous prepare ({} h ago) is older than the event history trusted ({} h)",
            age.as_secs() / 3600,
            options.event_history.as_secs() / 3600
        ));
    }
    Ok(mark)
}

/// What an incremental fetch found.
pub(super) enum Fetched {
    /// Changes for [`Index::apply_changes`], the deletions among them, and the newest
    /// `updatedAt` received.
    Changes {
        changes: Vec<Change>,
        deleted: u64,
        watermark: String,
    },
    /// A full prepare is needed, and why.
    NeedFull(String),
}

impl Job<'_> {
    /// `entity.*.deleted` events since the mark: `Err` with the reason when the log cannot
    /// show every deletion.
    async fn deletions(&self, mark: &Mark) -> Result<Result<Vec<Change>, String>, PrepareError> {
        let vars = json!({
            "projects": [self.project],
            "topics": DELETED.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            "newerThan": mark.deleted_since(self.options.clock_margin),
        });
        let (events, first) = match self
            .pages(EVENTS_QUERY, vars, &["events"], "POST /graphql (events)")
            .await
        {
            Ok(found) => found,
            Err(PrepareError::Request { source, .. }) => {
                return Ok(Err(format!(
                    "the server's event log could not be read ({source})"
                )));
            }
            Err(e) => return Err(e),
        };
        if first["me"]["isManager"].as_bool() != Some(true) {
            return Ok(Err(
                "the server lists only this user's own events (not a manager), so others' deletions cannot be seen"
                    .to_owned(),
            ));
        }
        Ok(Ok(events
            .iter()
            .filter_map(|e| {
                let topic = e["topic"].as_str()?;
                let kind = DELETED.iter().find(|(t, _)| *t == topic)?.1;
                let summary: Value = match &e["summary"] {
                    Value::String(text) => serde_json::from_str(text).ok()?,
                    other => other.clone(),
                };
                Some(Change::Delete(
                    kind,
                    summary["entityId"].as_str()?.to_owned(),
                ))
            })
            .collect()))
    }
}

/// The changed rows (`record` of each node) whose parent is `known`, as changes; their ids
/// become known for the next level. `link` gives a record's parent id and own id.
fn adopted<R>(
    nodes: &[Value],
    record: fn(&Value) -> R,
    link: fn(&R) -> (&String, &String),
    change: fn(R) -> Change,
    known: &mut HashSet<String>,
) -> Vec<Change> {
    let mut out = Vec::new();
    for r in nodes.iter().map(record) {
        let (parent, id) = link(&r);
        if known.contains(parent) {
            known.insert(id.to_owned());
            out.push(change(r));
        }
    }
    out
}

impl Job<'_> {
    /// The changes since `mark` for the prepared scope (`subtrees`, empty for the project).
    pub(super) async fn fetch_changes(
        &self,
        index: &Index,
        mark: &Mark,
        subtrees: &[String],
    ) -> Result<Fetched, PrepareError> {
        let since = mark.changed_since(self.options.clock_margin);
        let project_path = format!("/api/projects/{}", self.project);
        let (deletions, project, site_roots) = tokio::try_join!(
            self.deletions(mark),
            self.get(&project_path, &[]),
            self.site_roots(),
        )?;
        let deletions = match deletions {
            Ok(d) => d,
            Err(reason) => return Ok(Fetched::NeedFull(reason)),
        };
        let (folders, tasks, products, versions, representations) = tokio::try_join!(
            self.list_changed("folders", FIELDS.folders, &since),
            self.list_changed("tasks", FIELDS.tasks, &since),
            self.list_changed("products", FIELDS.products, &since),
            async {
                if self.options.all_versions {
                    self.list_changed("versions", FIELDS.versions, &since).await
                } else {
                    // The selection of the newest versions is made again over all of them.
                    self.list("versions", FIELDS.versions, None).await
                }
            },
            self.list_changed("representations", FIELDS.representations, &since),
        )?;
        let watermark = newest(
            [&folders, &tasks, &products, &versions, &representations]
                .into_iter()
                .flatten()
                .filter_map(|v| v["updatedAt"].as_str())
                .chain(std::iter::once(mark.watermark.as_str())),
        );

        let held = |kind| {
            index
                .entity_ids(&self.project, kind)
                .map_err(|e| PrepareError::Index {
                    project: self.project.clone(),
                    source: Box::new(e),
                })
        };
        let project = self.project_record(&project)?;
        let mut changes = vec![Change::SiteRoots(site_roots)];

        // Folders: a path that changed under a subtree scope needs a full fetch (descendants
        // move with it unchanged); for the whole project the index moves them itself.
        let held_paths: std::collections::HashMap<String, String> =
            held(EntityKind::Folder)?.into_iter().collect();
        let mut known: HashSet<String> = held_paths.keys().cloned().collect();
        for f in folders.iter().map(folder_record) {
            let old = held_paths.get(&f.id);
            if !subtrees.is_empty() && old.is_some_and(|p| *p != f.path) {
                return Ok(Fetched::NeedFull(format!(
                    "folder {} moved or was renamed under a folder-scoped prepare",
                    f.path
                )));
            }
            if old.is_some() || in_subtrees(&f.path, subtrees) {
                known.insert(f.id.clone());
                changes.push(Change::Folder(f));
            }
        }
        // Everything else is kept when its parent is held or came in this fetch (ids are
        // unique across kinds, so one set serves every level).
        known.extend(held(EntityKind::Product)?.into_iter().map(|(id, _)| id));
        let held_versions: HashSet<String> = held(EntityKind::Version)?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        known.extend(held_versions.iter().cloned());
        let k = &mut known;
        changes.extend(adopted(
            &tasks,
            task_record,
            |t| (&t.folder_id, &t.id),
            Change::Task,
            k,
        ));
        changes.extend(adopted(
            &products,
            product_record,
            |p| (&p.folder_id, &p.id),
            Change::Product,
            k,
        ));
        let mut dropped = Vec::new();
        let mut returning = Vec::new();
        if self.options.all_versions {
            changes.extend(adopted(
                &versions,
                version_record,
                |v| (&v.product_id, &v.id),
                Change::Version,
                k,
            ));
        } else {
            // Newest N: the selection over every version of the products in scope, with the
            // statuses read now. Versions it no longer keeps leave the index; versions it
            // keeps again (an older one now the latest done) come with their representations.
            let in_scope: Vec<Value> = versions
                .into_iter()
                .filter(|v| v["productId"].as_str().is_some_and(|p| k.contains(p)))
                .collect();
            let selected: Vec<_> = self
                .select_versions(in_scope, &project)
                .iter()
                .map(version_record)
                .collect();
            let ids: HashSet<&str> = selected.iter().map(|v| v.id.as_str()).collect();
            dropped.extend(
                held_versions
                    .iter()
                    .filter(|id| !ids.contains(id.as_str()))
                    .map(|id| Change::Delete(EntityKind::Version, id.clone())),
            );
            returning.extend(
                ids.iter()
                    .filter(|id| !held_versions.contains(**id))
                    .map(|id| (*id).to_owned()),
            );
            k.extend(ids.iter().map(|id| (*id).to_owned()));
            changes.extend(selected.into_iter().map(Change::Version));
        }
        let mut representations = representations;
        representations.extend(
            self.list(
                "representations",
                FIELDS.representations,
                Some(("versionIds", returning)),
            )
            .await?,
        );
        let reps = &representations;
        changes.extend(adopted(
            reps,
            representation_record,
            |r| (&r.version_id, &r.id),
            Change::Representation,
            k,
        ));
        // Deletions last: a row listed just before its deletion is upserted, then removed
        // (ids are never reused), and a deleted parent's listed children still find it.
        let deleted = deletions.len() as u64;
        changes.extend(deletions);
        changes.extend(dropped);
        changes.insert(0, Change::Project(project));
        Ok(Fetched::Changes {
            changes,
            deleted,
            watermark,
        })
    }

    /// One connection's nodes whose `updatedAt` is at or after `since`, project-wide.
    async fn list_changed(
        &self,
        field: &'static str,
        fields: &'static str,
        since: &str,
    ) -> Result<Vec<Value>, PrepareError> {
        let filter = json!({
            "conditions": [{"key": "updatedAt", "operator": "gte", "value": since}],
            "operator": "and",
        })
        .to_string();
        self.list_filtered(field, fields, None, Some(filter)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn mark(started: &str, watermark: &str) -> Mark {
        Mark {
            started: ayon_site::parse_server_time(started).expect("time"),
            watermark: watermark.to_owned(),
            selection: "all".to_owned(),
        }
    }

    #[test]
    fn since_is_the_earlier_of_the_watermark_and_the_start_less_the_margin() {
        let margin = Duration::from_secs(300);
        // An idle project: the newest change long before the prepare.
        let idle = mark(
            "2026-12-01T12:00:00+00:00",
            "2026-11-22T22:24:24.017008+00:00",
        );
        assert_eq!(
            idle.changed_since(margin),
            "2026-11-22T22:24:24.017008+00:00"
        );
        // A change during the prepare: the start less the margin.
        let busy = mark("2026-12-01T12:00:00+00:00", "2026-12-01T11:59:59+00:00");
        assert_eq!(
            busy.changed_since(margin),
            "2026-12-01T11:55:00.000000+00:00"
        );
        // No watermark (nothing received): the start less the margin.
        assert_eq!(
            mark("2026-12-01T12:00:00+00:00", "").changed_since(margin),
            "2026-12-01T11:55:00.000000+00:00"
        );
        assert_eq!(
            idle.deleted_since(margin),
            "2026-12-01T11:55:00.000000+00:00"
        );
        let text = busy.to_text();
        assert_eq!(Mark::parse(&text), Some(busy));
        assert_eq!(Mark::parse("{}"), None);
    }

    #[test]
    fn newest_compares_instants() {
        assert_eq!(
            newest(
                [
                    "2026-11-22T22:00:00+00:00",
                    "2026-11-22T22:30:00+01:00",
                    "junk"
                ]
                .into_iter()
            ),
            "2026-11-22T22:00:00+00:00"
        );
        assert_eq!(newest(std::iter::empty()), "");
    }
}
