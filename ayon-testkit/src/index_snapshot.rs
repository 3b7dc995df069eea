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
    for f in &project.folders {
        s.folders.push(FolderRecord {
            id: f.id.clone(),
            path: f.path.clone(),
            folder_type: f.folder_type.clone(),
            active: f.active,
            updated_at: f.updated_at.clone(),
        });
        for t in &f.tasks {
            s.tasks.push(TaskRecord {
                id: t.id.clone(),
                folder_id: f.id.clone(),
                name: t.name.clone(),
                task_type: t.task_type.clone(),
                active: t.active,
                updated_at: t.updated_at.clone(),
            });
        }
        for p in &f.products {
            s.products.push(ProductRecord {
                id: p.id.clone(),
                folder_id: f.id.clone(),
                name: p.name.clone(),
                product_type: p.product_type.clone(),
                active: p.active,
                updated_at: p.updated_at.clone(),
            });
            for v in &p.versions {
                s.versions.push(VersionRecord {
                    id: v.id.clone(),
                    product_id: p.id.clone(),
                    version: v.version,
                    status: v.status.clone(),
                    active: v.active,
                    updated_at: v.updated_at.clone(),
                });
                for r in &v.representations {
                    s.representations.push(RepresentationRecord {
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
                    });
                }
            }
        }
    }
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
