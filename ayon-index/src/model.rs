//! What the index stores: plain records a `prepare` fills from the server's REST and GraphQL
//! answers, one per entity, with the fields `/api/resolve` reads and `updatedAt` for
//! incremental re-fetches.
//!
//! Order matters: within each list, give entities in the server's creation order (the order
//! its listings return them). The server's resolve query has no `ORDER BY`, so its rows come in
//! physical (creation) order; the index keeps the order it was given and answers in it.

use std::collections::BTreeMap;

use ayon_site::Platform;
use serde_json::Value;

/// One anatomy root with a path per platform (`config.roots` of the project).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnatomyRoot {
    /// Path on Windows sites, e.g. `P:/projects`.
    pub windows: String,
    /// Path on Linux sites, e.g. `/mnt/projects`.
    pub linux: String,
    /// Path on macOS sites, e.g. `/Volumes/projects`.
    pub darwin: String,
}

impl AnatomyRoot {
    /// The path for `platform`.
    pub fn path_for(&self, platform: Platform) -> &str {
        match platform {
            Platform::Windows => &self.windows,
            Platform::Linux => &self.linux,
            Platform::Darwin => &self.darwin,
        }
    }
}

/// A project status: `latestdone` keeps versions whose status has the state `done`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusRecord {
    /// The name entities refer to (compared case-sensitively, as the server's join does).
    pub name: String,
    /// `not_started`, `in_progress`, `done` or `blocked`.
    pub state: String,
}

/// The project itself: name, code, anatomy roots and statuses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectRecord {
    /// The project's name as created (URIs match it case-insensitively).
    pub name: String,
    /// The project's short code.
    pub code: String,
    /// Anatomy roots by root name.
    pub roots: BTreeMap<String, AnatomyRoot>,
    /// Statuses with their states.
    pub statuses: Vec<StatusRecord>,
}

/// A folder: its full path is what URIs name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderRecord {
    /// 32-hex id.
    pub id: String,
    /// Full path without leading or trailing `/` (`assets/characters/hero`), matched exactly.
    pub path: String,
    /// Folder type (`Asset`, `Shot`, ...).
    pub folder_type: String,
    /// Whether the folder is active (the server's resolve does not filter on it).
    pub active: bool,
    /// `updatedAt` as the server reports it, for incremental re-fetches.
    pub updated_at: String,
}

/// A task of a folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskRecord {
    /// 32-hex id.
    pub id: String,
    /// The folder the task belongs to.
    pub folder_id: String,
    /// Task name, matched exactly.
    pub name: String,
    /// Task type.
    pub task_type: String,
    /// Whether the task is active (not filtered by resolve).
    pub active: bool,
    /// `updatedAt`.
    pub updated_at: String,
}

/// A product of a folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductRecord {
    /// 32-hex id.
    pub id: String,
    /// The folder the product belongs to.
    pub folder_id: String,
    /// Product name, matched exactly.
    pub name: String,
    /// Product type.
    pub product_type: String,
    /// Whether the product is active (not filtered by resolve).
    pub active: bool,
    /// `updatedAt`.
    pub updated_at: String,
}

/// A version of a product.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionRecord {
    /// 32-hex id.
    pub id: String,
    /// The product the version belongs to.
    pub product_id: String,
    /// Version number; negative for a hero version (`-3` is the hero of v003).
    pub version: i32,
    /// Status name (joined with the project's statuses for `latestdone`).
    pub status: String,
    /// Whether the version is active (not filtered by resolve).
    pub active: bool,
    /// `updatedAt`.
    pub updated_at: String,
}

/// A representation of a version: what a representation URI resolves to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepresentationRecord {
    /// 32-hex id.
    pub id: String,
    /// The version the representation belongs to.
    pub version_id: String,
    /// Representation name, matched exactly.
    pub name: String,
    /// `attrib.template`; `None` or empty gives no `filePath`, as on the server.
    pub template: Option<String>,
    /// `data.context`, the values the template is filled with (`null` when absent).
    pub context: Value,
    /// Whether the representation is active (not filtered by resolve).
    pub active: bool,
    /// `updatedAt`.
    pub updated_at: String,
}

/// A workfile of a task: `workfile=` URIs match the end of its path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkfileRecord {
    /// 32-hex id.
    pub id: String,
    /// The task the workfile belongs to.
    pub task_id: String,
    /// The workfile's (rootless) path; `workfile=NAME` matches `%/NAME` as SQL `LIKE` does.
    pub path: String,
    /// Whether the workfile is active (not filtered by resolve).
    pub active: bool,
    /// `updatedAt`.
    pub updated_at: String,
}

/// This site's view of a project: its platform and its effective roots (anatomy roots for the
/// platform with the user's overrides for this site applied), as `GET /siteRoots` returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRootsRecord {
    /// The site id (`x-ayon-site-id`).
    pub site_id: String,
    /// The site's platform.
    pub platform: Platform,
    /// Root name to path.
    pub roots: BTreeMap<String, String>,
}

/// Everything the index holds about one project; [`crate::Index::replace_project`] swaps it in
/// whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectSnapshot {
    /// The project, its roots and statuses.
    pub project: ProjectRecord,
    /// This site's roots, when known.
    pub site_roots: Option<SiteRootsRecord>,
    /// Folders, parents before children, in creation order.
    pub folders: Vec<FolderRecord>,
    /// Tasks in creation order.
    pub tasks: Vec<TaskRecord>,
    /// Products in creation order.
    pub products: Vec<ProductRecord>,
    /// Versions in creation order.
    pub versions: Vec<VersionRecord>,
    /// Representations in creation order.
    pub representations: Vec<RepresentationRecord>,
    /// Workfiles in creation order.
    pub workfiles: Vec<WorkfileRecord>,
    /// The folder subtrees this snapshot covers (`assets/characters`), when a prepare fetched
    /// only those; empty for the whole project. A URI outside them (or naming no folder, which
    /// searches the whole project) is not answered.
    pub subtrees: Vec<String>,
    /// `Some(N)` when only the newest N exact versions of each product were fetched (with
    /// heroes and the latest done one): an older exact version is then
    /// [`crate::IndexError::NotKept`], not "not found". `None`: every version.
    pub newest_versions: Option<u32>,
}

impl ProjectSnapshot {
    /// Number of entity rows (folders, tasks, products, versions, representations, workfiles).
    pub fn entity_count(&self) -> usize {
        self.folders.len()
            + self.tasks.len()
            + self.products.len()
            + self.versions.len()
            + self.representations.len()
            + self.workfiles.len()
    }
}

/// One incremental change, from an entity event or an `updatedAt`-filtered re-fetch.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// Insert or update a folder (a new id goes after every existing folder).
    Folder(FolderRecord),
    /// Insert or update a task.
    Task(TaskRecord),
    /// Insert or update a product.
    Product(ProductRecord),
    /// Insert or update a version.
    Version(VersionRecord),
    /// Insert or update a representation.
    Representation(RepresentationRecord),
    /// Insert or update a workfile.
    Workfile(WorkfileRecord),
    /// Remove an entity of this kind by id, with everything below it.
    Delete(EntityKind, String),
    /// Replace the project's statuses.
    Statuses(Vec<StatusRecord>),
    /// Replace the project's name spelling, code, anatomy roots and statuses (what a prepare
    /// reads again every time, as no `updatedAt` filter covers it).
    Project(ProjectRecord),
    /// Replace this site's roots.
    SiteRoots(SiteRootsRecord),
}

/// The entity tables of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntityKind {
    /// Folders (deleting one deletes its tasks and products, recursively).
    Folder,
    /// Tasks (and their workfiles).
    Task,
    /// Products (and their versions).
    Product,
    /// Versions (and their representations).
    Version,
    /// Representations.
    Representation,
    /// Workfiles.
    Workfile,
}

/// A project the server lists, recorded at prepare time so the index can tell "not on the
/// server" (`Project X not found`, as the server says) from "not prepared here".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerProject {
    /// The project's name.
    pub name: String,
    /// The project's code.
    pub code: String,
}
