//! The library written as `ayon-index` snapshots, so index tests and benches load the same
//! demo data through the index's write API (what a `prepare` will do from the server's answers).

use ayon_index::{
    AnatomyRoot, FolderRecord, ProductRecord, ProjectRecord, ProjectSnapshot, RepresentationRecord,
    ServerProject, SiteRootsRecord, StatusRecord, TaskRecord, VersionRecord,
};
use ayon_site::Platform;
use serde_json::Value;

use crate::Library;
use crate::library::Project;

/// The record of a folder's child with a type (tasks, products): the same fields, its folder
/// and its own type field.
macro_rules! folder_child {
    ($record:ident, $folder:expr, $child:expr, $type_field:ident) => {
        $record {
            id: $child.id.clone(),
            folder_id: $folder.id.clone(),
            name: $child.name.clone(),
            $type_field: $child.$type_field.clone(),
            active: $child.active,
            updated_at: $child.updated_at.clone(),
        }
    };
}

/// One project of the library as a snapshot, with the roots of `site` (its id and platform)
/// when given.
pub fn index_snapshot(project: &Project, site: Option<(&str, Platform)>) -> ProjectSnapshot {
    let mut s = ProjectSnapshot {
        project: ProjectRecord {
            name: project.name.clone(),
            code: project.code.clone(),
            roots: project
                .roots
                .iter()
                .map(|(k, r)| {
                    (
                        k.clone(),
                        AnatomyRoot {
                            windows: r.windows.clone(),
                            linux: r.linux.clone(),
                            darwin: r.darwin.clone(),
                        },
                    )
                })
                .collect(),
            statuses: project
                .statuses
                .iter()
                .map(|st| StatusRecord {
                    name: st.name.clone(),
                    state: st.state.clone(),
                })
                .collect(),
        },
        site_roots: site.map(|(id, platform)| SiteRootsRecord {
            site_id: id.to_owned(),
            platform,
            roots: project
                .roots_for(platform.as_str(), Some(id))
                .into_iter()
                .collect(),
        }),
        ..ProjectSnapshot::default()
    };
    s.folders = project
        .folders
        .iter()
        .map(|f| FolderRecord {
            id: f.id.clone(),
            path: f.path.clone(),
            folder_type: f.folder_type.clone(),
            active: f.active,
            updated_at: f.updated_at.clone(),
        })
        .collect();
    s.tasks = project
        .tasks()
        .map(|(f, t)| folder_child!(TaskRecord, f, t, task_type))
        .collect();
    s.products = project
        .products()
        .map(|(f, p)| folder_child!(ProductRecord, f, p, product_type))
        .collect();
    s.versions = project
        .versions()
        .map(|(_, p, v)| VersionRecord {
            id: v.id.clone(),
            product_id: p.id.clone(),
            version: v.version,
            status: v.status.clone(),
            active: v.active,
            updated_at: v.updated_at.clone(),
        })
        .collect();
    s.representations = project
        .representations()
        .map(|(_, _, v, r)| RepresentationRecord {
            id: r.id.clone(),
            version_id: v.id.clone(),
            name: r.name.clone(),
            template: r.template().map(str::to_owned),
            context: r
                .context()
                .cloned()
                .map(Value::Object)
                .unwrap_or(Value::Null),
            active: r.active,
            updated_at: r.updated_at.clone(),
        })
        .collect();
    s
}

/// The server's project list of a library, as `Index::record_server_projects` takes it.
pub fn server_projects(lib: &Library) -> Vec<ServerProject> {
    lib.projects
        .iter()
        .map(|p| ServerProject {
            name: p.name.clone(),
            code: p.code.clone(),
        })
        .collect()
}

/// Writes every project of `lib` into `index` (with `site`'s roots: `(site_id, platform)`) and
/// records the library's project list as the server's.
pub fn load_library(
    index: &ayon_index::Index,
    lib: &Library,
    site: Option<(&str, Platform)>,
) -> Result<(), ayon_index::IndexError> {
    for project in &lib.projects {
        index.replace_project(&index_snapshot(project, site))?;
    }
    index.record_server_projects(&server_projects(lib))
}
