//! [`Index`]: the write API a `prepare` calls, and `resolve`, which answers as the server's
//! `POST /api/resolve` would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ayon_site::{Platform, Roots};
use ayon_uri::{AyonUri, Target, UriErrorKind, VersionSelector};

use crate::memory::Memory;
use crate::model::{Change, EntityKind, ProjectSnapshot, ServerProject};
use crate::render::{PathRules, Templates, render};
use crate::store::schema::INDEX_FILE_NAME;
use crate::store::{ProjectRow, Store};
use crate::{Answer, AnswerEntity, IndexError, UriAnswer};

/// Default size of the memory layer.
pub const DEFAULT_MEMORY_BYTES: u64 = 16 * 1024 * 1024;

/// Default interval between checks for changes committed by another process.
pub const DEFAULT_RECHECK: Duration = Duration::from_millis(50);

/// A prepared project: when, and how many entities.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PreparedProject {
    /// The project's name as created.
    pub name: String,
    /// When its last full snapshot was written.
    pub prepared_at: SystemTime,
    /// When it last changed (snapshot or incremental change).
    pub changed_at: SystemTime,
    /// Folders, tasks, products, versions, representations, workfiles.
    pub counts: [u64; 6],
    /// The folder subtrees prepared; empty for the whole project.
    pub subtrees: Vec<String>,
}

impl PreparedProject {
    /// [`counts`](Self::counts) with their entity names (`folders`, `tasks`, …), for reports and
    /// bindings that show them by name.
    pub fn named_counts(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        crate::store::schema::ENTITY_TABLES
            .iter()
            .copied()
            .zip(self.counts)
    }
}

/// Builds an [`Index`]: where it lives and how it finishes paths.
#[derive(Debug, Clone)]
#[must_use]
pub struct IndexBuilder {
    dir: Option<PathBuf>,
    file: Option<PathBuf>,
    platform: Option<Platform>,
    substitute_roots: bool,
    memory_bytes: u64,
    recheck: Duration,
    busy_timeout: Duration,
}

impl Default for IndexBuilder {
    fn default() -> Self {
        IndexBuilder {
            dir: None,
            file: None,
            platform: None,
            substitute_roots: true,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            recheck: DEFAULT_RECHECK,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl IndexBuilder {
    /// The cache directory holding `index.sqlite` (default: `ayon-cache`'s cache directory,
    /// i.e. `$AYON_OFFLINE_CACHE_DIR` or the platform's per-user cache directory).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// An explicit index file, instead of `index.sqlite` in the cache directory.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// This site's platform: which anatomy roots apply and whether paths use `\`. `None`
    /// answers as the server does for a request without a site (roots left as `{root[...]}`,
    /// `/` separators).
    pub fn platform(mut self, platform: Option<Platform>) -> Self {
        self.platform = platform;
        self
    }

    /// Substitute this site's roots in paths (default), or leave `{root[NAME]}` in place as the
    /// server does for `resolveRoots=false`.
    pub fn substitute_roots(mut self, yes: bool) -> Self {
        self.substitute_roots = yes;
        self
    }

    /// Size of the memory layer in bytes (0 still keeps a minimal layer).
    pub fn memory_bytes(mut self, bytes: u64) -> Self {
        self.memory_bytes = bytes;
        self
    }

    /// How often a lookup asks SQLite whether another process changed the index (default
    /// 50 ms): answers from memory are at most this much behind another process's write.
    /// Writes through this `Index` are seen at once.
    pub fn recheck_interval(mut self, every: Duration) -> Self {
        self.recheck = every;
        self
    }

    /// How long a write waits for another process's write to finish (default 5 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Opens (creating if needed) the index; an invalid file is moved aside and replaced.
    pub fn open(self) -> Result<Index, IndexError> {
        let path = match (self.file, self.dir) {
            (Some(file), _) => file,
            (None, dir) => ayon_cache::resolve_cache_dir(dir.as_deref())?.join(INDEX_FILE_NAME),
        };
        let store = Store::open(&path, self.busy_timeout)?;
        Ok(Index {
            store,
            memory: Memory::new(self.memory_bytes, self.recheck),
            templates: Templates::default(),
            platform: self.platform,
            substitute_roots: self.substitute_roots,
        })
    }
}

/// A local mirror of prepared projects that answers AYON URIs offline, exactly as the
/// server's `/api/resolve` would: same entities, same order, same per-URI errors, paths with
/// this site's roots.
///
/// `Send + Sync`: share one per process. Several processes may use the same file; writes are
/// transactions, so a reader never sees half a snapshot.
pub struct Index {
    store: Store,
    memory: Memory,
    templates: Templates,
    platform: Option<Platform>,
    substitute_roots: bool,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index")
            .field("path", &self.store.path())
            .field("platform", &self.platform)
            .field("substitute_roots", &self.substitute_roots)
            .finish_non_exhaustive()
    }
}

/// The version-name error is raised by the server's query builder, after the project lookup;
/// every other parse error comes first.
fn is_resolve_time_error(e: &ayon_uri::UriError) -> bool {
    e.kind() == UriErrorKind::BadVersion && e.server_message().starts_with("Invalid version name")
}

fn to_time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

impl Index {
    /// An [`IndexBuilder`] with the defaults.
    pub fn builder() -> IndexBuilder {
        IndexBuilder::default()
    }

    /// Opens `index.sqlite` in `dir` with the defaults (no platform: rootless answers).
    pub fn open_in(dir: impl AsRef<Path>) -> Result<Index, IndexError> {
        Index::builder().cache_dir(dir.as_ref()).open()
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        self.store.path()
    }

    // ---- writes ----------------------------------------------------------------------------

    /// Replaces everything stored for the snapshot's project, atomically: until this returns
    /// `Ok`, lookups (here and in other processes) answer from the previous snapshot, and a
    /// writer killed half-way leaves the previous snapshot in place.
    pub fn replace_project(&self, snapshot: &ProjectSnapshot) -> Result<(), IndexError> {
        self.replace_project_with_progress(snapshot, |_| {})
    }

    /// [`Index::replace_project`], calling `progress` with the number of entity rows written
    /// so far (every 256 rows, and once at the end after the commit).
    pub fn replace_project_with_progress(
        &self,
        snapshot: &ProjectSnapshot,
        mut progress: impl FnMut(u64),
    ) -> Result<(), IndexError> {
        let result = self.store.replace_project(snapshot, &mut progress);
        self.memory.invalidate();
        result
    }

    /// Applies incremental changes (events, `updatedAt`-filtered re-fetches) to a prepared
    /// project in one transaction: all or nothing.
    pub fn apply_changes(&self, project: &str, changes: &[Change]) -> Result<(), IndexError> {
        let result = self.store.apply_changes(project, changes);
        self.memory.invalidate();
        result
    }

    /// Records the projects the server lists, so a URI naming another project gets the
    /// server's `Project X not found` instead of [`IndexError::NotPrepared`].
    pub fn record_server_projects(&self, projects: &[ServerProject]) -> Result<(), IndexError> {
        let result = self.store.record_server_projects(projects);
        self.memory.invalidate();
        result
    }

    /// Records what a prepare needs to fetch only changes next time (opaque text: the index
    /// keeps it, and drops it when a full snapshot replaces the project). Call it after the
    /// snapshot or changes it describes are written. `false` when the project is not prepared.
    pub fn set_prepare_mark(&self, project: &str, mark: &str) -> Result<bool, IndexError> {
        self.store.set_mark(project, mark)
    }

    /// Forgets a prepared project; `false` when it was not prepared.
    pub fn remove_project(&self, project: &str) -> Result<bool, IndexError> {
        let result = self.store.remove_project(project);
        self.memory.invalidate();
        result
    }

    // ---- reads -----------------------------------------------------------------------------

    /// The prepared projects, by name.
    pub fn projects(&self) -> Result<Vec<PreparedProject>, IndexError> {
        let mut out = Vec::new();
        for name in self.store.projects()? {
            out.extend(self.prepared(&name)?);
        }
        Ok(out)
    }

    /// One prepared project (matched case-insensitively), or `None`.
    pub fn prepared(&self, project: &str) -> Result<Option<PreparedProject>, IndexError> {
        let Some(row) = self.store.project(project)? else {
            return Ok(None);
        };
        let counts = self.store.counts(row.pk)?;
        Ok(Some(PreparedProject {
            name: row.name,
            prepared_at: to_time(row.prepared_at_ms),
            changed_at: to_time(row.changed_at_ms),
            counts,
            subtrees: row.subtrees,
        }))
    }

    /// What the last prepare of `project` recorded with [`Index::set_prepare_mark`] (opaque to
    /// the index), or `None`: never recorded, or a full snapshot replaced the project since.
    pub fn prepare_mark(&self, project: &str) -> Result<Option<String>, IndexError> {
        match self.store.project(project)? {
            Some(row) => self.store.mark(row.pk),
            None => Ok(None),
        }
    }

    /// Every entity of `kind` in a prepared project as `(id, second)`, in the index's order:
    /// `second` is the path for folders and the parent's id for the others. An incremental
    /// prepare reads it to tell what it already holds; empty when the project is not prepared.
    pub fn entity_ids(
        &self,
        project: &str,
        kind: EntityKind,
    ) -> Result<Vec<(String, String)>, IndexError> {
        let table = match kind {
            EntityKind::Folder => "folders",
            EntityKind::Task => "tasks",
            EntityKind::Product => "products",
            EntityKind::Version => "versions",
            EntityKind::Representation => "representations",
            EntityKind::Workfile => "workfiles",
        };
        match self.store.project(project)? {
            Some(row) => self.store.id_pairs(row.pk, table),
            None => Ok(Vec::new()),
        }
    }

    /// Number of answers held in memory.
    pub fn memory_len(&self) -> usize {
        self.memory.len()
    }

    /// Drops the memory layer's answers for changes made in another process, when it is
    /// time to look (see [`IndexBuilder::recheck_interval`]).
    fn refresh(&self) -> Result<(), IndexError> {
        if self.memory.due_for_check() && self.store.changed_elsewhere()? {
            self.memory.invalidate();
        }
        Ok(())
    }

    /// What the server's `/api/resolve` answers for `uri`, from memory when this URI was
    /// answered before and nothing changed since, else from SQL.
    pub fn resolve(&self, uri: &AyonUri) -> Result<Arc<Answer>, IndexError> {
        self.refresh()?;
        if let Some(answer) = self.memory.get(uri) {
            return Ok(answer);
        }
        let generation = self.memory.generation();
        let answer = Arc::new(self.resolve_from_sql(uri)?);
        self.memory.insert(generation, uri, answer.clone());
        Ok(answer)
    }

    /// [`Index::resolve`] for a string, answering parse errors with the server's words (the
    /// version-name error only after the project lookup, as the server does).
    pub fn resolve_str(&self, uri: &str) -> Result<Arc<Answer>, IndexError> {
        match AyonUri::parse(uri) {
            Ok(parsed) => self.resolve(&parsed),
            Err(e) if is_resolve_time_error(&e) => {
                let message = e.server_message();
                match project_of_version_error(uri, &e) {
                    Some(project) => match self.project_known(&project)? {
                        Some(true) => Ok(Arc::new(Answer::error(message))),
                        Some(false) => Ok(Arc::new(not_found(&project))),
                        None => Err(self.not_prepared(&project)),
                    },
                    None => Ok(Arc::new(Answer::error(message))),
                }
            }
            Err(e) => Ok(Arc::new(Answer::error(e.server_message()))),
        }
    }

    /// Answers a batch as one `POST /api/resolve` would: one item per input, in order. With a
    /// platform and root substitution (the server's `resolveRoots=true` with a site), a URI the
    /// server cannot parse, or one naming a project the server does not have, makes the
    /// whole batch fail as it does on the server ([`IndexError::BatchRefused`]).
    pub fn resolve_batch<S: AsRef<str>>(&self, uris: &[S]) -> Result<Vec<UriAnswer>, IndexError> {
        if self.substitute_roots && self.platform.is_some() {
            self.refuse_like_the_server(uris)?;
        }
        uris.iter()
            .map(|u| {
                Ok(UriAnswer {
                    uri: u.as_ref().to_owned(),
                    answer: self.resolve_str(u.as_ref())?,
                })
            })
            .collect()
    }

    /// The server parses every URI before anything else when it resolves roots for a site,
    /// then reads each project's custom roots: a parse error or an unknown project fails all.
    fn refuse_like_the_server<S: AsRef<str>>(&self, uris: &[S]) -> Result<(), IndexError> {
        let mut projects = Vec::new();
        for u in uris {
            match AyonUri::parse(u.as_ref()) {
                Ok(parsed) => projects.push(parsed.project().to_owned()),
                Err(e) if is_resolve_time_error(&e) => {
                    if let Some(p) = project_of_version_error(u.as_ref(), &e) {
                        projects.push(p);
                    }
                }
                Err(e) => {
                    return Err(IndexError::BatchRefused {
                        status: 500,
                        detail: format!("ValueError: {}", e.server_message())
                            .trim_end()
                            .to_owned(),
                    });
                }
            }
        }
        for p in projects {
            if self.project_known(&p)? == Some(false) {
                return Err(IndexError::BatchRefused {
                    status: 500,
                    detail: format!(
                        "asyncpg.exceptions.UndefinedTableError: relation \"project_{}.custom_roots\" does not exist",
                        p.to_ascii_lowercase()
                    ),
                });
            }
        }
        Ok(())
    }

    /// `Some(true)`: prepared or listed by the server; `Some(false)`: the server's list lacks
    /// it; `None`: neither prepared nor any list recorded.
    fn project_known(&self, project: &str) -> Result<Option<bool>, IndexError> {
        if self.store.project(project)?.is_some() {
            return Ok(Some(true));
        }
        self.store.server_has_project(project)
    }

    fn not_prepared(&self, project: &str) -> IndexError {
        IndexError::NotPrepared {
            project: project.to_owned(),
            path: self.store.path().to_path_buf(),
        }
    }

    /// An exact version older than a limited prepare kept is [`IndexError::NotKept`], even
    /// when other products answer: the server's answer would have more.
    fn check_kept(
        &self,
        project: &ProjectRow,
        uri: &AyonUri,
        target: Target,
    ) -> Result<(), IndexError> {
        let (Some(newest), Some(VersionSelector::Exact(n))) =
            (project.newest_versions, uri.version())
        else {
            return Ok(());
        };
        let version = i32::try_from(n).unwrap_or(i32::MAX);
        if matches!(target, Target::Version | Target::Representation)
            && self
                .store
                .version_not_kept(project.pk, uri, version, newest)?
        {
            return Err(IndexError::NotKept {
                project: uri.project().to_owned(),
                version,
                newest,
            });
        }
        Ok(())
    }

    /// The answer computed from SQL, bypassing (and not filling) the memory layer.
    pub fn resolve_from_sql(&self, uri: &AyonUri) -> Result<Answer, IndexError> {
        let Some(project) = self.store.project(uri.project())? else {
            return match self.store.server_has_project(uri.project())? {
                Some(false) => Ok(not_found(uri.project())),
                _ => Err(self.not_prepared(uri.project())),
            };
        };
        let Some(target) = uri.target() else {
            return Ok(Answer::default());
        };
        check_scope(&project, uri)?;
        self.check_kept(&project, uri, target)?;
        let rows = self.store.rows(project.pk, uri, target)?;
        // Made on the first row with a template: a project without roots still answers
        // its representations that have none.
        let mut rules: Option<PathRules> = None;
        let mut entities = Vec::with_capacity(rows.len());
        for row in rows {
            let file_path = match (&row.template, &row.context, &row.representation_id) {
                (Some(t), Some(c), Some(id)) if !t.is_empty() => {
                    let rules = match &mut rules {
                        Some(r) => r,
                        None => match self.path_rules(&project) {
                            Ok(r) => rules.insert(r),
                            Err(message) => return Ok(Answer::error(message)),
                        },
                    };
                    match render(&self.templates, t, c, rules, id) {
                        Ok(p) => Some(p),
                        Err(message) => return Ok(Answer::error(message)),
                    }
                }
                _ => None,
            };
            entities.push(AnswerEntity {
                project_name: uri.project().to_owned(),
                folder_id: row.folder_id,
                product_id: row.product_id,
                task_id: row.task_id,
                version_id: row.version_id,
                representation_id: row.representation_id,
                workfile_id: row.workfile_id,
                file_path,
                target,
            });
        }
        Ok(Answer {
            entities,
            error: None,
        })
    }

    /// The roots and separators for this project's paths. Issue 11, class (c): the index
    /// substitutes this site's roots whatever the case the URI wrote the project name in.
    fn path_rules(&self, project: &ProjectRow) -> Result<PathRules, String> {
        let Some(platform) = self.platform.filter(|_| self.substitute_roots) else {
            return Ok(PathRules {
                roots: Roots::for_platform(self.platform.unwrap_or(Platform::Linux)),
                substitute: false,
                origin: String::new(),
            });
        };
        let site: Option<BTreeMap<String, String>> =
            match (&project.site_platform, &project.site_roots) {
                (Some(p), Some(json)) if Platform::parse(p) == Some(platform) => {
                    serde_json::from_str(json).ok()
                }
                _ => None,
            };
        let (pairs, origin) = match site {
            Some(roots) => (roots, format!("this site's roots ({platform})")),
            None => {
                let anatomy: BTreeMap<String, BTreeMap<String, String>> =
                    serde_json::from_str(&project.anatomy_roots).unwrap_or_default();
                let roots: BTreeMap<String, String> = anatomy
                    .into_iter()
                    .filter_map(|(name, paths)| {
                        paths
                            .get(platform.as_str())
                            .filter(|p| !p.is_empty())
                            .map(|p| (name, p.clone()))
                    })
                    .collect();
                (
                    roots,
                    format!("the anatomy of project {} for {platform}", project.name),
                )
            }
        };
        if pairs.is_empty() {
            return Err(format!(
                "project {} has no roots for platform {platform}: cannot make a path",
                project.name
            ));
        }
        let roots = Roots::from_pairs(pairs)
            .map_err(|e| format!("project {}: {e}", project.name))?
            .with_platform(platform);
        Ok(PathRules {
            roots,
            substitute: true,
            origin,
        })
    }
}

/// A snapshot of some subtrees answers only URIs inside them.
fn check_scope(project: &ProjectRow, uri: &AyonUri) -> Result<(), IndexError> {
    if project.subtrees.is_empty() {
        return Ok(());
    }
    let path = uri.folder_path();
    let inside = |t: &String| {
        path == t || (path.starts_with(t.as_str()) && path.as_bytes().get(t.len()) == Some(&b'/'))
    };
    if !path.is_empty() && project.subtrees.iter().any(inside) {
        return Ok(());
    }
    Err(IndexError::OutsidePreparedScope {
        project: uri.project().to_owned(),
        folder: if path.is_empty() {
            "(no folder)".to_owned()
        } else {
            path.to_owned()
        },
        subtrees: project.subtrees.join(", "),
    })
}

fn not_found(project: &str) -> Answer {
    Answer::error(format!("Project {project} not found"))
}

/// The project of a URI whose only fault is its version name: everything before the version
/// parsed, so putting `*` in its place gives a URI that parses.
fn project_of_version_error(uri: &str, e: &ayon_uri::UriError) -> Option<String> {
    let at = e.offset();
    let raw = e.text();
    if uri.get(at..at + raw.len()) != Some(raw) {
        return None;
    }
    let patched = format!("{}*{}", &uri[..at], &uri[at + raw.len()..]);
    AyonUri::parse(&patched)
        .ok()
        .map(|u| u.project().to_owned())
}
