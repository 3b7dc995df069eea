//! The rows `resolve_entities` selects (`api/resolve/__init__.py`), read from the library the
//! way its SQL reads the project schema: `hierarchy` joined to `tasks` or to `products`,
//! `versions` and `representations`, with one condition per key the URI gives.
//!
//! What the SQL does, and so what this does:
//! - a key left out adds no condition: no path searches every folder, no `product` every
//!   product, no `version` every version (the implicit wildcards);
//! - `*` adds no condition for path, product, version and representation, but `task=*` and
//!   the `task` of a workfile-only URI (`t.name = 'None'`) are compared literally;
//! - names compare exactly (case-sensitive); nothing is filtered on `active`;
//! - `latest` is the highest version number of the product (`version_list`'s last id: hero
//!   and inactive versions count), `latestdone` the highest whose status has the state `done`,
//!   `hero` every negative version;
//! - at most [`ROW_CAP`] rows (`LIMIT 1000`).
//!
//! The SQL has no `ORDER BY`; rows come in the order the library holds them (folders, then
//! their tasks or products, versions ascending with hero versions last, representations),
//! which is the insertion order Postgres returns for the recorded projects.

use ayon_uri::{AyonUri, Target, VersionSelector};

use crate::library::{Folder, Product, Project, Representation, Task, Version};

/// The server's `LIMIT 1000` on one URI's rows.
pub(crate) const ROW_CAP: usize = 1000;

/// One selected row: the folder and what the URI's target joins to it.
#[derive(Default)]
pub(crate) struct Row<'a> {
    pub folder: Option<&'a Folder>,
    pub task: Option<&'a Task>,
    pub product: Option<&'a Product>,
    pub version: Option<&'a Version>,
    pub representation: Option<&'a Representation>,
}

/// `None` for a key that adds no condition (absent or `*`), else the name to compare.
fn condition(value: Option<&str>) -> Option<&str> {
    value.filter(|v| *v != "*")
}

fn allows(condition: Option<&str>, name: &str) -> bool {
    condition.is_none_or(|c| c == name)
}

/// The rows of `uri` (whose target is `target`) in `project`, at most [`ROW_CAP`].
pub(crate) fn select<'a>(project: &'a Project, uri: &'a AyonUri, target: Target) -> Vec<Row<'a>> {
    let path = condition(Some(uri.folder_path()).filter(|p| !p.is_empty()));
    let folders = project
        .folders
        .iter()
        .filter(move |f| allows(path, &f.path));
    let rows: Box<dyn Iterator<Item = Row<'a>> + 'a> = match target {
        Target::Folder => Box::new(folders.map(|f| Row {
            folder: Some(f),
            ..Row::default()
        })),
        Target::Task => {
            // `t.name = '{task_name}'`: no wildcard, and Python writes a missing name as None.
            let task = uri.task().unwrap_or("None").to_owned();
            Box::new(folders.flat_map(move |f| {
                let task = task.clone();
                f.tasks.iter().filter(move |t| t.name == task).map(|t| Row {
                    folder: Some(f),
                    task: Some(t),
                    ..Row::default()
                })
            }))
        }
        // The library has no workfiles: the join finds nothing.
        Target::Workfile => Box::new(std::iter::empty()),
        Target::Product | Target::Version | Target::Representation => {
            let product = condition(uri.product()).map(str::to_owned);
            let products = folders.flat_map(move |f| {
                let product = product.clone();
                f.products
                    .iter()
                    .filter(move |p| allows(product.as_deref(), &p.name))
                    .map(move |p| (f, p))
            });
            if target == Target::Product {
                Box::new(products.map(|(f, p)| Row {
                    folder: Some(f),
                    product: Some(p),
                    ..Row::default()
                }))
            } else {
                let selector = uri.version();
                let versions = products.flat_map(move |(f, p)| {
                    select_versions(project, p, selector)
                        .into_iter()
                        .map(move |v| (f, p, v))
                });
                if target == Target::Version {
                    Box::new(versions.map(|(f, p, v)| Row {
                        folder: Some(f),
                        product: Some(p),
                        version: Some(v),
                        ..Row::default()
                    }))
                } else {
                    let rep = condition(uri.representation()).map(str::to_owned);
                    Box::new(versions.flat_map(move |(f, p, v)| {
                        let rep = rep.clone();
                        v.representations
                            .iter()
                            .filter(move |r| allows(rep.as_deref(), &r.name))
                            .map(move |r| Row {
                                folder: Some(f),
                                product: Some(p),
                                version: Some(v),
                                representation: Some(r),
                                task: None,
                            })
                    }))
                }
            }
        }
    };
    rows.take(ROW_CAP).collect()
}

/// The versions of one product a selector keeps (`get_version_conditions`), positive
/// ascending then hero versions.
fn select_versions<'a>(
    project: &Project,
    product: &'a Product,
    selector: Option<VersionSelector>,
) -> Vec<&'a Version> {
    let mut sorted: Vec<&Version> = product.versions.iter().collect();
    sorted.sort_by_key(|v| (v.version < 0, v.version.unsigned_abs()));
    // `l.ids[array_upper(l.ids, 1)]` of `version_list` (every version ordered by number) and
    // `ORDER BY vv.version DESC LIMIT 1`: the highest number, whatever its sign or `active`.
    let highest = |keep: &dyn Fn(&Version) -> bool| {
        product
            .versions
            .iter()
            .filter(|v| keep(v))
            .max_by_key(|v| v.version)
    };
    let pick = |chosen: Option<&Version>| {
        sorted
            .iter()
            .copied()
            .filter(|v| chosen.is_some_and(|c| std::ptr::eq(*v, c)))
            .collect()
    };
    match selector {
        None | Some(VersionSelector::Any) => sorted,
        Some(VersionSelector::Exact(n)) => sorted
            .into_iter()
            .filter(|v| i64::from(v.version) == i64::from(n))
            .collect(),
        Some(VersionSelector::Hero) => sorted.into_iter().filter(|v| v.version < 0).collect(),
        Some(VersionSelector::Latest) => pick(highest(&|_| true)),
        Some(VersionSelector::LatestDone) => pick(highest(&|v| project.status_is_done(&v.status))),
    }
}
