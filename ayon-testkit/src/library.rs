//! The project library: everything the test server serves, as plain data that loads from JSON.
//!
//! The JSON schema (camelCase keys; every key not marked *required* may be omitted):
//!
//! ```text
//! Library        { projects: [Project], sites: [Site] }
//! Site           { id*, platform* ("windows"|"linux"|"darwin"), hostname, version, users: [String] }
//! Project        { name*, code*, active, roots: {rootName: {windows, linux, darwin}},
//!                  statuses: [{name*, state* ("not_started"|"in_progress"|"done"|"blocked"), ...}],
//!                  siteRoots: {siteId: {rootName: path}},   // per-site root overrides
//!                  anatomy: {..}, extra: {..}, createdAt, updatedAt,
//!                  folders: [Folder] }
//! Folder         { id, name*, path* ("assets/characters/hero"), folderType*, label, status, tags,
//!                  attrib, data, active, thumbnailHash, createdAt, updatedAt,
//!                  tasks: [Task], products: [Product] }
//! Task           { id, name*, taskType*, label, assignees, status, tags, attrib, data, active, createdAt, updatedAt }
//! Product        { id, name*, productType*, productBaseType, status, tags, attrib, data, active,
//!                  createdAt, updatedAt, versions: [Version] }
//! Version        { id, version* (negative = hero version of that number), author, status, tags,
//!                  attrib, data, active, taskId, thumbnailId, createdAt, updatedAt,
//!                  representations: [Representation] }
//! Representation { id, name*, status, tags, attrib {path, template, ..}, data {context, ..},
//!                  files: [{id, name, path, size, hash, hashType}], active, traits, createdAt, updatedAt }
//! ```
//!
//! Folders are a flat list per project; a folder's parent is the folder whose `path` is its own
//! path minus the last element, and must exist. Missing ids are filled in deterministically from
//! the entity's path, so a hand-written library gets stable ids. `extra` holds the project fields
//! served verbatim by `GET /api/projects/{p}` (folderTypes, taskTypes, config, attrib, ...) and
//! `anatomy` the body of `GET /api/projects/{p}/anatomy`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::TestkitError;

mod create;

pub(crate) use create::create_in;

/// The demo library, generated from the recorded fixtures by `data/gen_demo_offline.py`.
const DEMO_OFFLINE_JSON: &str = include_str!("../data/demo_offline.json");

/// A JSON object, as attrib and data fields are stored.
pub type Object = Map<String, Value>;

/// Everything the server knows: projects with their entities, and registered sites.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Library {
    /// Projects, in the order `GET /api/projects` lists them.
    #[serde(default)]
    pub projects: Vec<Project>,
    /// Sites known to the server (registered through `GET /api/info` or listed here).
    #[serde(default)]
    pub sites: Vec<Site>,
}

/// A registered site: the only place a site id gets its platform.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    /// Site id, `^[a-z0-9-]+$`.
    pub id: String,
    /// `windows`, `linux` or `darwin`.
    pub platform: String,
    /// Host name reported by the launcher.
    #[serde(default)]
    pub hostname: String,
    /// Launcher version reported on registration.
    #[serde(default)]
    pub version: String,
    /// Users that registered the site.
    #[serde(default)]
    pub users: Vec<String>,
}

/// One anatomy root, with a path per platform.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RootPaths {
    /// Root on Windows, e.g. `P:/projects`.
    #[serde(default)]
    pub windows: String,
    /// Root on Linux, e.g. `/mnt/projects`.
    #[serde(default)]
    pub linux: String,
    /// Root on macOS, e.g. `/Volumes/projects`.
    #[serde(default)]
    pub darwin: String,
}

impl RootPaths {
    /// The path for a platform name (`windows`, `linux`, `darwin`), if the platform is known.
    pub fn for_platform(&self, platform: &str) -> Option<&str> {
        match platform {
            "windows" => Some(&self.windows),
            "linux" => Some(&self.linux),
            "darwin" => Some(&self.darwin),
            _ => None,
        }
    }
}

/// A project status; versions whose status has state `done` count for `latestdone`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Status name as entities reference it, e.g. `Approved`.
    pub name: String,
    /// `not_started`, `in_progress`, `done` or `blocked`.
    pub state: String,
    /// Other status fields (shortName, icon, color, scope) served verbatim.
    #[serde(flatten)]
    pub extra: Object,
}

/// A project and all its entities.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    /// Project name (matched case-insensitively by `/api/resolve`).
    pub name: String,
    /// Short code used in file names.
    pub code: String,
    /// Whether the project is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Anatomy roots by name.
    #[serde(default)]
    pub roots: BTreeMap<String, RootPaths>,
    /// Statuses with their states.
    #[serde(default)]
    pub statuses: Vec<Status>,
    /// Per-site root overrides: `{site_id: {root_name: path}}`.
    #[serde(default)]
    pub site_roots: BTreeMap<String, BTreeMap<String, String>>,
    /// Body of `GET /api/projects/{p}/anatomy`; built from the roots when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anatomy: Option<Value>,
    /// Further project-detail fields served verbatim.
    #[serde(default)]
    pub extra: Object,
    /// Creation time, ISO 8601.
    #[serde(default = "default_time")]
    pub created_at: String,
    /// Last update time, ISO 8601.
    #[serde(default = "default_time")]
    pub updated_at: String,
    /// Folders, flat, parents before children.
    #[serde(default)]
    pub folders: Vec<Folder>,
}

/// A folder with its tasks and products.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    /// 32-hex id.
    #[serde(default)]
    pub id: String,
    /// Last path element.
    pub name: String,
    /// Full path without leading or trailing `/`, e.g. `assets/characters/hero`.
    pub path: String,
    /// Folder type, e.g. `Asset`.
    pub folder_type: String,
    /// Parent folder id, derived from `path` on load.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Display label.
    #[serde(default)]
    pub label: Option<String>,
    /// Status name.
    #[serde(default = "default_status")]
    pub status: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Attributes.
    #[serde(default)]
    pub attrib: Object,
    /// Free-form data.
    #[serde(default)]
    pub data: Object,
    /// Whether the folder is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Thumbnail hash as the folder list reports it.
    #[serde(default)]
    pub thumbnail_hash: Option<String>,
    /// Creation time.
    #[serde(default = "default_time")]
    pub created_at: String,
    /// Last update time.
    #[serde(default = "default_time")]
    pub updated_at: String,
    /// Tasks of this folder.
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// Products of this folder.
    #[serde(default)]
    pub products: Vec<Product>,
}

/// A task of a folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// 32-hex id.
    #[serde(default)]
    pub id: String,
    /// Task name.
    pub name: String,
    /// Task type, e.g. `Modeling`.
    pub task_type: String,
    /// Display label.
    #[serde(default)]
    pub label: Option<String>,
    /// Assigned users.
    #[serde(default)]
    pub assignees: Vec<String>,
    /// Status name.
    #[serde(default = "default_status")]
    pub status: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Attributes.
    #[serde(default)]
    pub attrib: Object,
    /// Free-form data.
    #[serde(default)]
    pub data: Object,
    /// Whether the task is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Creation time.
    #[serde(default = "default_time")]
    pub created_at: String,
    /// Last update time.
    #[serde(default = "default_time")]
    pub updated_at: String,
}

/// A product with its versions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// 32-hex id.
    #[serde(default)]
    pub id: String,
    /// Product name, e.g. `usdAsset`.
    pub name: String,
    /// Product type, e.g. `usd`.
    pub product_type: String,
    /// Product base type; the product type when absent.
    #[serde(default)]
    pub product_base_type: Option<String>,
    /// Status name.
    #[serde(default = "default_status")]
    pub status: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Attributes.
    #[serde(default)]
    pub attrib: Object,
    /// Free-form data.
    #[serde(default)]
    pub data: Object,
    /// Whether the product is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Creation time.
    #[serde(default = "default_time")]
    pub created_at: String,
    /// Last update time.
    #[serde(default = "default_time")]
    pub updated_at: String,
    /// Versions, hero versions included (negative numbers).
    #[serde(default)]
    pub versions: Vec<Version>,
}

/// A version with its representations.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    /// 32-hex id.
    #[serde(default)]
    pub id: String,
    /// Version number; negative for the hero version (`-3` = hero of v003).
    pub version: i32,
    /// Author user name.
    #[serde(default = "default_author")]
    pub author: String,
    /// Status name; `latestdone` looks for a status whose state is `done`.
    #[serde(default = "default_version_status")]
    pub status: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Attributes.
    #[serde(default)]
    pub attrib: Object,
    /// Free-form data.
    #[serde(default)]
    pub data: Object,
    /// Whether the version is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Task the version was published from.
    #[serde(default)]
    pub task_id: Option<String>,
    /// Thumbnail id.
    #[serde(default)]
    pub thumbnail_id: Option<String>,
    /// Creation time.
    #[serde(default = "default_time")]
    pub created_at: String,
    /// Last update time.
    #[serde(default = "default_time")]
    pub updated_at: String,
    /// Representations of this version.
    #[serde(default)]
    pub representations: Vec<Representation>,
}

impl Version {
    /// Whether this is a hero version (stored with a negative number).
    pub fn is_hero(&self) -> bool {
        self.version < 0
    }

    /// The name AYON shows: `v001` or `HERO`.
    pub fn name(&self) -> String {
        if self.is_hero() {
            "HERO".to_owned()
        } else {
            format!("v{:03}", self.version)
        }
    }
}

/// A representation: the file(s) a URI finally points at.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Representation {
    /// 32-hex id.
    #[serde(default)]
    pub id: String,
    /// Representation name, e.g. `usd`.
    pub name: String,
    /// Status name.
    #[serde(default = "default_rep_status")]
    pub status: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Attributes; `path` and `template` as ayon-core publishes them.
    #[serde(default)]
    pub attrib: Object,
    /// Free-form data; `context` fills the template.
    #[serde(default)]
    pub data: Object,
    /// Files of the representation.
    #[serde(default)]
    pub files: Vec<RepresentationFile>,
    /// Whether the representation is active.
    #[serde(default = "yes")]
    pub active: bool,
    /// Representation traits (null in the demo).
    #[serde(default)]
    pub traits: Option<Value>,
    /// Creation time.
    #[serde(default = "default_time")]
    pub created_at: String,
    /// Last update time.
    #[serde(default = "default_time")]
    pub updated_at: String,
}

impl Representation {
    /// `attrib.template`, the only input of `filePath` besides the context.
    pub fn template(&self) -> Option<&str> {
        self.attrib.get("template").and_then(Value::as_str)
    }

    /// `data.context`, the values the template is filled with.
    pub fn context(&self) -> Option<&Object> {
        self.data.get("context").and_then(Value::as_object)
    }
}

/// One file of a representation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RepresentationFile {
    /// 32-hex id.
    #[serde(default)]
    pub id: String,
    /// File name.
    pub name: String,
    /// Path with unresolved roots.
    pub path: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Content hash.
    #[serde(default)]
    pub hash: String,
    /// Hash algorithm name.
    #[serde(default = "default_hash_type")]
    pub hash_type: String,
}

fn yes() -> bool {
    true
}
fn default_time() -> String {
    "2026-01-01T00:00:00.000000+00:00".to_owned()
}
fn default_status() -> String {
    "Not ready".to_owned()
}
fn default_version_status() -> String {
    "Pending review".to_owned()
}
fn default_rep_status() -> String {
    "Omitted".to_owned()
}
fn default_author() -> String {
    "admin".to_owned()
}
fn default_hash_type() -> String {
    "op3".to_owned()
}

/// A deterministic 32-hex id from a string: two FNV-1a 64-bit hashes with different offsets.
pub fn stable_id(seed: &str) -> String {
    let mut a: u64 = 0xcbf2_9ce4_8422_2325;
    let mut b: u64 = 0x6c62_272e_07bb_0142;
    for byte in seed.bytes() {
        a = (a ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        b = (b ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        b = b.rotate_left(5);
    }
    format!("{a:016x}{b:016x}")
}

/// A fresh random 32-hex id, as new entities get.
pub fn new_id() -> String {
    use rand::Rng;
    let v: u128 = rand::rng().random();
    format!("{v:032x}")
}

/// Now as the server stores entity times: `2026-11-22T22:28:59.047371+00:00`.
pub(crate) fn iso_now() -> String {
    let s = humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string();
    format!("{}+00:00", s.trim_end_matches('Z'))
}

/// Where an entity sits: indexes into the nested vectors of one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityPos {
    /// Index of the folder in `Project::folders`.
    pub folder: usize,
    /// Index of the product in `Folder::products` (or of the task in `Folder::tasks`).
    pub product: Option<usize>,
    /// Index of the version in `Product::versions`.
    pub version: Option<usize>,
    /// Index of the representation in `Version::representations`.
    pub representation: Option<usize>,
}

impl Library {
    /// The demo library: the entities of real-server.md "Demo data", with the recorded ids.
    pub fn demo_offline() -> Library {
        // The embedded JSON is checked by a unit test; an empty library is the only fallback.
        Library::from_json_str(DEMO_OFFLINE_JSON).unwrap_or_default()
    }

    /// The URI of the demo library's prop `n` (1 to 100): its `usdAsset` product at `version`
    /// (`v001`…`v003`, `latest`, …), `usd` representation. Bulk tests and benches use these.
    pub fn demo_prop_uri(n: usize, version: &str) -> String {
        format!(
            "ayon+entity://demo_offline/assets/props/prop{n:03}?product=usdAsset&version={version}&representation=usd"
        )
    }

    /// The 300 exact prop URIs of the demo library (100 props × `v001`…`v003`), in that order:
    /// 300 distinct, immutable answers.
    pub fn demo_prop_uris() -> Vec<String> {
        (1..=100)
            .flat_map(|n| (1..=3).map(move |v| Library::demo_prop_uri(n, &format!("v{v:03}"))))
            .collect()
    }

    /// The demo library as the JSON text it is shipped as.
    pub fn demo_offline_json() -> &'static str {
        DEMO_OFFLINE_JSON
    }

    /// Loads a library from a JSON file (schema in the module docs).
    pub fn from_json_file(path: &Path) -> Result<Library, TestkitError> {
        let text = std::fs::read_to_string(path).map_err(|source| TestkitError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Library::from_json_str(&text).map_err(|e| match e {
            TestkitError::Library(msg) => {
                TestkitError::Library(format!("{}: {msg}", path.display()))
            }
            other => other,
        })
    }

    /// Parses a library from JSON text and fills in derived fields (ids, parent ids).
    pub fn from_json_str(json: &str) -> Result<Library, TestkitError> {
        let mut lib: Library = serde_json::from_str(json)
            .map_err(|e| TestkitError::Library(format!("invalid library JSON: {e}")))?;
        lib.normalize()?;
        Ok(lib)
    }

    /// The library as pretty JSON, loadable by [`Library::from_json_str`].
    pub fn to_json_string(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the library as JSON.
    pub fn save_json_file(&self, path: &Path) -> Result<(), TestkitError> {
        std::fs::write(path, self.to_json_string()).map_err(|source| TestkitError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Fills missing ids and parent ids, and checks that every folder's parent exists.
    pub fn normalize(&mut self) -> Result<(), TestkitError> {
        for project in &mut self.projects {
            let mut ids_by_path: HashMap<String, String> = HashMap::new();
            for folder in &mut project.folders {
                let path = folder.path.trim_matches('/').to_owned();
                folder.path = path.clone();
                if folder.name.is_empty() {
                    folder.name = path.rsplit('/').next().unwrap_or_default().to_owned();
                }
                if folder.id.is_empty() {
                    folder.id = stable_id(&format!("{}/folder/{path}", project.name));
                }
                let parent = path.rsplit_once('/').map(|(p, _)| p.to_owned());
                folder.parent_id = match parent {
                    None => None,
                    Some(p) => Some(ids_by_path.get(&p).cloned().ok_or_else(|| {
                        TestkitError::Library(format!(
                            "project {}: folder {path} is listed before (or without) its parent {p}",
                            project.name
                        ))
                    })?),
                };
                ids_by_path.insert(path.clone(), folder.id.clone());
                for task in &mut folder.tasks {
                    if task.id.is_empty() {
                        task.id = stable_id(&format!("{}/task/{path}/{}", project.name, task.name));
                    }
                }
                for product in &mut folder.products {
                    if product.id.is_empty() {
                        product.id =
                            stable_id(&format!("{}/product/{path}/{}", project.name, product.name));
                    }
                    for version in &mut product.versions {
                        let vkey = format!("{path}/{}/{}", product.name, version.version);
                        if version.id.is_empty() {
                            version.id = stable_id(&format!("{}/version/{vkey}", project.name));
                        }
                        for rep in &mut version.representations {
                            if rep.id.is_empty() {
                                rep.id = stable_id(&format!(
                                    "{}/representation/{vkey}/{}",
                                    project.name, rep.name
                                ));
                            }
                            for (i, file) in rep.files.iter_mut().enumerate() {
                                if file.id.is_empty() {
                                    file.id = stable_id(&format!("{}/file/{i}", rep.id));
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The project with this name, matched case-insensitively as the server does.
    pub fn project(&self, name: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Mutable access to a project, matched case-insensitively.
    pub fn project_mut(&mut self, name: &str) -> Option<&mut Project> {
        self.projects
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// A registered site by id.
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    /// Registers (upserts) a site, as an authenticated `GET /api/info` with site headers does.
    pub fn register_site(&mut self, site: Site) {
        if let Some(existing) = self.sites.iter_mut().find(|s| s.id == site.id) {
            let mut users = std::mem::take(&mut existing.users);
            for u in &site.users {
                if !users.contains(u) {
                    users.push(u.clone());
                }
            }
            *existing = Site { users, ..site };
        } else {
            self.sites.push(site);
        }
    }
}

impl Project {
    /// The folder at this path (`a/b/c`, leading/trailing `/` ignored), matched exactly.
    pub fn folder_by_path(&self, path: &str) -> Option<&Folder> {
        let path = path.trim_matches('/');
        self.folders.iter().find(|f| f.path == path)
    }

    /// The folder at this path, to change it.
    pub fn folder_by_path_mut(&mut self, path: &str) -> Option<&mut Folder> {
        let path = path.trim_matches('/');
        self.folders.iter_mut().find(|f| f.path == path)
    }

    /// The folder with this id.
    pub fn folder(&self, id: &str) -> Option<&Folder> {
        self.folders.iter().find(|f| f.id == id)
    }

    /// Whether a status name has the state `done` in this project.
    pub fn status_is_done(&self, status: &str) -> bool {
        self.statuses
            .iter()
            .any(|s| s.name == status && s.state == "done")
    }

    /// The root paths for a platform, with a site's overrides applied when `site` is given.
    pub fn roots_for(&self, platform: &str, site: Option<&str>) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .roots
            .iter()
            .filter_map(|(k, v)| v.for_platform(platform).map(|p| (k.clone(), p.to_owned())))
            .collect();
        if let Some(overrides) = site.and_then(|s| self.site_roots.get(s)) {
            for (k, v) in overrides {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }

    /// Iterates over every product with its folder.
    pub fn products(&self) -> impl Iterator<Item = (&Folder, &Product)> {
        self.folders
            .iter()
            .flat_map(|f| f.products.iter().map(move |p| (f, p)))
    }

    /// Iterates over every version with its folder and product.
    pub fn versions(&self) -> impl Iterator<Item = (&Folder, &Product, &Version)> {
        self.products()
            .flat_map(|(f, p)| p.versions.iter().map(move |v| (f, p, v)))
    }

    /// Iterates over every representation with its folder, product and version.
    pub fn representations(
        &self,
    ) -> impl Iterator<Item = (&Folder, &Product, &Version, &Representation)> {
        self.versions()
            .flat_map(|(f, p, v)| v.representations.iter().map(move |r| (f, p, v, r)))
    }

    /// Iterates over every task with its folder.
    pub fn tasks(&self) -> impl Iterator<Item = (&Folder, &Task)> {
        self.folders
            .iter()
            .flat_map(|f| f.tasks.iter().map(move |t| (f, t)))
    }

    /// Finds a product by id.
    pub fn product(&self, id: &str) -> Option<(&Folder, &Product)> {
        self.products().find(|(_, p)| p.id == id)
    }

    /// Finds a version by id.
    pub fn version(&self, id: &str) -> Option<(&Folder, &Product, &Version)> {
        self.versions().find(|(_, _, v)| v.id == id)
    }

    /// Finds a representation by id.
    pub fn representation(
        &self,
        id: &str,
    ) -> Option<(&Folder, &Product, &Version, &Representation)> {
        self.representations().find(|(_, _, _, r)| r.id == id)
    }

    /// Finds a task by id.
    pub fn task(&self, id: &str) -> Option<(&Folder, &Task)> {
        self.tasks().find(|(_, t)| t.id == id)
    }

    /// Where the entity with this id sits, whatever its type.
    pub fn locate(&self, id: &str) -> Option<EntityPos> {
        for (fi, f) in self.folders.iter().enumerate() {
            let at = |product, version, representation| EntityPos {
                folder: fi,
                product,
                version,
                representation,
            };
            if f.id == id {
                return Some(at(None, None, None));
            }
            for (pi, p) in f.products.iter().enumerate() {
                if p.id == id {
                    return Some(at(Some(pi), None, None));
                }
                for (vi, v) in p.versions.iter().enumerate() {
                    if v.id == id {
                        return Some(at(Some(pi), Some(vi), None));
                    }
                    for (ri, r) in v.representations.iter().enumerate() {
                        if r.id == id {
                            return Some(at(Some(pi), Some(vi), Some(ri)));
                        }
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_matches_real_server_md() {
        let lib = Library::from_json_str(DEMO_OFFLINE_JSON).expect("demo JSON loads");
        let p = lib.project("DEMO_offline").expect("demo project");
        assert_eq!(p.code, "demo");
        assert_eq!(p.roots["work"].windows, "P:/projects");
        assert_eq!(p.roots["work"].linux, "/mnt/projects");
        assert_eq!(p.roots["work"].darwin, "/Volumes/projects");
        let hero = p.folder_by_path("assets/characters/hero").expect("hero");
        assert_eq!(hero.folder_type, "Asset");
        assert_eq!(hero.tasks[0].name, "modeling");
        let usd = &hero.products[0];
        assert_eq!(usd.name, "usdAsset");
        let numbers: Vec<i32> = usd.versions.iter().map(|v| v.version).collect();
        assert_eq!(numbers, [1, 2, 3, -3]);
        assert_eq!(usd.versions[3].name(), "HERO");
        assert_eq!(usd.versions[0].id, "797bd6aae6c311f1931b02fc00000001");
        let props = (1..=100)
            .filter(|i| {
                p.folder_by_path(&format!("assets/props/prop{i:03}"))
                    .is_some_and(|f| f.products[0].versions.len() == 3)
            })
            .count();
        assert_eq!(props, 100);
        assert_eq!(lib.sites.len(), 4);
        assert_eq!(
            p.roots_for("linux", Some("offline-test-override"))["work"],
            "/home/artist/ayon-work"
        );
        let mut ids = std::collections::HashSet::new();
        for (f, pr, v, r) in p.representations() {
            assert!(ids.insert(&r.id));
            assert_eq!(r.id.len(), 32);
            assert!(f.id.len() == 32 && pr.id.len() == 32 && v.id.len() == 32);
        }
    }

    #[test]
    fn hand_written_library_gets_stable_ids_and_parents() {
        let json = r#"{"projects":[{"name":"p","code":"p","folders":[
            {"name":"a","path":"a","folderType":"Folder"},
            {"name":"b","path":"/a/b/","folderType":"Asset","products":[
              {"name":"x","productType":"usd","versions":[{"version":1,"representations":[{"name":"usd"}]}]}]}]}]}"#;
        let a = Library::from_json_str(json).expect("loads");
        let b = Library::from_json_str(json).expect("loads");
        assert_eq!(a, b);
        let p = &a.projects[0];
        assert_eq!(p.folders[1].path, "a/b");
        assert_eq!(
            p.folders[1].parent_id.as_deref(),
            Some(p.folders[0].id.as_str())
        );
        let back = Library::from_json_str(&a.to_json_string()).expect("round trip");
        assert_eq!(back, a);
    }

    #[test]
    fn save_and_load_a_file() {
        let path = std::env::temp_dir().join(format!("ayon-testkit-lib-{}.json", new_id()));
        let lib = Library::demo_offline();
        lib.save_json_file(&path).expect("saved");
        let back = Library::from_json_file(&path).expect("loaded");
        let _ = std::fs::remove_file(&path);
        assert_eq!(back, lib);
        let missing = Library::from_json_file(&path).expect_err("gone");
        assert!(
            missing.to_string().contains("ayon-testkit-lib-"),
            "{missing}"
        );
    }

    #[test]
    fn orphan_folder_is_rejected_with_its_path() {
        let json = r#"{"projects":[{"name":"p","code":"p","folders":[
            {"name":"b","path":"a/b","folderType":"Asset"}]}]}"#;
        let err = Library::from_json_str(json).expect_err("orphan");
        assert!(err.to_string().contains("a/b"), "{err}");
    }
}
