//! Shared by the index tests: the testkit's demo library written through the write API.
#![allow(dead_code)]

use std::path::Path;

use ayon_index::{
    AnatomyRoot, FolderRecord, Index, ProductRecord, ProjectRecord, ProjectSnapshot,
    RepresentationRecord, ServerProject, SiteRootsRecord, StatusRecord, TaskRecord, VersionRecord,
};
use ayon_testkit::Library;
use ayon_testkit::library::Project;
use serde_json::Value;

/// One project of the library as a snapshot, with `site`'s roots when given.
pub fn snapshot(project: &Project, site: Option<(&str, &str)>) -> ProjectSnapshot {
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
            platform: platform.to_owned(),
            roots: project.roots_for(platform, Some(id)).into_iter().collect(),
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

/// The server's project list of a library.
pub fn server_projects(lib: &Library) -> Vec<ServerProject> {
    lib.projects
        .iter()
        .map(|p| ServerProject {
            name: p.name.clone(),
            code: p.code.clone(),
        })
        .collect()
}

/// How a recorded request asked: which site (and so platform), roots or not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SiteConfig {
    pub site_id: Option<String>,
    pub platform: Option<String>,
    pub resolve_roots: bool,
}

/// An index in `dir` holding every project of the demo library, for one site configuration.
pub fn demo_index(dir: &Path, config: &SiteConfig) -> Index {
    let lib = Library::demo_offline();
    let index = Index::builder()
        .cache_dir(dir)
        .platform(config.platform.as_deref())
        .substitute_roots(config.resolve_roots && config.platform.is_some())
        .open()
        .expect("index opens");
    for project in &lib.projects {
        let site = match (&config.site_id, &config.platform) {
            (Some(id), Some(p)) => Some((id.as_str(), p.as_str())),
            _ => None,
        };
        index
            .replace_project(&snapshot(project, site))
            .expect("snapshot written");
    }
    index
        .record_server_projects(&server_projects(&lib))
        .expect("project list recorded");
    index
}

/// The platform a site id was registered with in the demo library.
pub fn platform_of(site: &str) -> Option<String> {
    Library::demo_offline()
        .site(site)
        .map(|s| s.platform.clone())
}
