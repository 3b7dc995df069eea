//! Prepare for offline: fetch a project (or part of it) with the reads ayon-python-api uses and
//! write it into the local index, so that later offline resolves of any URI in that scope get
//! the answer the server would give, `latest` and `hero` included.
//!
//! Fetching follows the server's own listings: flat project-level GraphQL streams (folders,
//! products, versions, representations with `allAttrib` and `context`; nested edges page one
//! item per parent, so nothing is nested), large pages, at most a few requests in flight; REST
//! for the project (anatomy roots, statuses), the project list and this site's roots. The index
//! swaps the snapshot in atomically, so a prepare that fails or is killed leaves the previous
//! one answering.
//!
//! A second prepare of the same scope fetches only what changed ([`changes`] has the rules:
//! `updatedAt` filters, deletions from the event log, and when a full re-fetch is needed
//! instead); the [`PrepareReport`] says which it did and what it fetched.

mod changes;
mod records;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ayon_index::{
    AnatomyRoot, Index, IndexError, ProjectRecord, ProjectSnapshot, ServerProject, SiteRootsRecord,
    StatusRecord,
};
use serde_json::{Value, json};

use changes::{Fetched, Mark};
use records::{
    folder_record, product_record, representation_record, str_of, task_record, version_record,
};

use crate::client::{Client, Inner};
use crate::error::ClientError;

/// Entities per GraphQL page. The server sets no upper bound on `first`; a thousand rows keeps
/// each answer well under a few megabytes.
pub const DEFAULT_PAGE_SIZE: usize = 1000;
/// GraphQL requests in flight at once.
pub const DEFAULT_IN_FLIGHT: usize = 4;
/// Exact versions kept per product when not preparing all versions.
pub const DEFAULT_NEWEST_EXACT: usize = 3;
/// How far back the server's event log is trusted to hold every deletion: the server's
/// default `eventHistory` (7 days).
pub const DEFAULT_EVENT_HISTORY: Duration = Duration::from_secs(7 * 24 * 3600);
/// How far the server's clock (and a write in flight) may lag this machine's: changes and
/// deletions are read again from this much before the previous prepare started.
pub const DEFAULT_CLOCK_MARGIN: Duration = Duration::from_secs(300);

/// The fields each listing asks for, the same in a full and an incremental prepare.
struct Fields {
    folders: &'static str,
    tasks: &'static str,
    products: &'static str,
    versions: &'static str,
    representations: &'static str,
}

const FIELDS: Fields = Fields {
    folders: "id path folderType active updatedAt",
    tasks: "id folderId name taskType active updatedAt",
    products: "id folderId name productType active updatedAt",
    versions: "id productId version status active updatedAt",
    representations: "id versionId name active updatedAt allAttrib context",
};

/// What to prepare.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrepareScope {
    /// The whole project.
    Project,
    /// These folder subtrees (paths like `assets/characters`, with or without `/`).
    Folders(Vec<String>),
    /// The folders these URIs name (a workfile's references).
    Uris(Vec<String>),
}

/// How much to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareOptions {
    /// Every version, or only what `latest`, `latestdone`, `hero` and the newest exact
    /// versions need.
    pub all_versions: bool,
    /// Exact versions kept per product when `all_versions` is off.
    pub newest_exact: usize,
    /// Entities per GraphQL page.
    pub page_size: usize,
    /// Requests (GraphQL and REST) in flight at once; at least one.
    pub in_flight: usize,
    /// Fetch only what changed since the previous prepare of the same scope, when the server
    /// can tell (see [`PrepareMode`]); off fetches everything.
    pub incremental: bool,
    /// How far back the server's event log is trusted to list every deletion; an older
    /// previous prepare means a full one.
    pub event_history: Duration,
    /// How far the server's clock may lag this machine's (see [`DEFAULT_CLOCK_MARGIN`]).
    pub clock_margin: Duration,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        PrepareOptions {
            all_versions: true,
            newest_exact: DEFAULT_NEWEST_EXACT,
            page_size: DEFAULT_PAGE_SIZE,
            in_flight: DEFAULT_IN_FLIGHT,
            incremental: true,
            event_history: DEFAULT_EVENT_HISTORY,
            clock_margin: DEFAULT_CLOCK_MARGIN,
        }
    }
}

/// Whether a prepare fetched everything or only the changes since the previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrepareMode {
    /// Everything in scope, swapped in whole.
    Full {
        /// Why not incremental (`first prepare of this project here`, ...).
        reason: String,
    },
    /// Entities with `updatedAt` at or after `since`, and deletions from the event log.
    Incremental {
        /// The server timestamp the changes were read from.
        since: String,
    },
}

/// Where a prepare is, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareProgress {
    /// `fetching` or `writing`.
    pub phase: &'static str,
    /// Entities fetched (or written, while writing).
    pub entities: u64,
    /// Response bytes received.
    pub bytes: u64,
    /// Requests made.
    pub requests: u64,
}

/// Stops a prepare from another thread (or a Ctrl-C handler); checked between requests.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Asks the prepare to stop; the previous index keeps answering.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a finished prepare did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareReport {
    /// The project as the server names it.
    pub project: String,
    /// Full or incremental, and why.
    pub mode: PrepareMode,
    /// Entity rows received (all listings; an incremental attempt that turned full included).
    pub fetched: u64,
    /// Entities deleted from the index through deletion events.
    pub deleted: u64,
    /// Folders indexed.
    pub folders: u64,
    /// Products indexed.
    pub products: u64,
    /// Versions indexed.
    pub versions: u64,
    /// Representations indexed.
    pub representations: u64,
    /// Response bytes received.
    pub bytes: u64,
    /// Requests made.
    pub requests: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// When the index took this prepare's snapshot or changes.
    pub prepared_at: SystemTime,
}

/// Counts before fetching, from id-only listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrepareEstimate {
    /// Folders in scope.
    pub folders: u64,
    /// Products in scope.
    pub products: u64,
    /// Versions in scope.
    pub versions: u64,
    /// Representations in scope.
    pub representations: u64,
    /// Expected response bytes of the real fetch.
    pub bytes: u64,
    /// Requests the estimate made.
    pub requests: u64,
}

/// Why a prepare did not finish. The previous index keeps answering in every case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// A request failed.
    #[error("prepare of {project}: {source}")]
    Request {
        /// The project.
        project: String,
        /// What failed.
        #[source]
        source: ClientError,
    },
    /// The server's answer lacks something the index needs.
    #[error("prepare of {project}: unexpected answer from {route}: {detail}")]
    Shape {
        /// The project.
        project: String,
        /// The request.
        route: String,
        /// What is missing.
        detail: String,
    },
    /// Writing the index failed.
    #[error("prepare of {project}: {source}")]
    Index {
        /// The project.
        project: String,
        /// The index error (boxed: it is large and rare).
        #[source]
        source: Box<ayon_index::IndexError>,
    },
    /// Cancelled through the [`CancelToken`] (or the progress callback).
    #[error("prepare of {project} cancelled; the previous index is unchanged")]
    Cancelled {
        /// The project.
        project: String,
    },
}

impl PrepareError {
    /// The stable kind a host branches on: the request's kind when a request failed, `decode`
    /// for an answer the index cannot use, `cache` for the index, `cancelled`.
    pub fn kind(&self) -> crate::ErrorKind {
        match self {
            PrepareError::Request { source, .. } => source.kind(),
            PrepareError::Shape { .. } => crate::ErrorKind::Decode,
            PrepareError::Index { .. } => crate::ErrorKind::Cache,
            PrepareError::Cancelled { .. } => crate::ErrorKind::Cancelled,
        }
    }
}

/// Running totals shared by the fetches.
#[derive(Debug, Default)]
struct Tally {
    requests: AtomicU64,
    bytes: AtomicU64,
    entities: AtomicU64,
}

impl Tally {
    fn progress(&self, phase: &'static str) -> PrepareProgress {
        PrepareProgress {
            phase,
            entities: self.entities.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
        }
    }
}

/// The work of one prepare.
struct Job<'a> {
    inner: &'a Inner,
    project: String,
    options: &'a PrepareOptions,
    cancel: &'a CancelToken,
    tally: Tally,
    progress: &'a (dyn Fn(&PrepareProgress) + Send + Sync),
    /// One permit per request in flight: [`PrepareOptions::in_flight`].
    permits: tokio::sync::Semaphore,
}

impl Client {
    /// Fetches `scope` of `project` and swaps it into `index` atomically. `progress` is called
    /// after every request; `cancel` stops it between requests.
    pub async fn prepare_offline(
        &self,
        index: &Index,
        project: &str,
        scope: &PrepareScope,
        options: &PrepareOptions,
        cancel: &CancelToken,
        progress: &(dyn Fn(&PrepareProgress) + Send + Sync),
    ) -> Result<PrepareReport, PrepareError> {
        let started = Instant::now();
        let started_at = SystemTime::now();
        let job = Job {
            inner: &self.inner,
            project: project.to_owned(),
            options,
            cancel,
            tally: Tally::default(),
            progress,
            permits: tokio::sync::Semaphore::new(options.in_flight.max(1)),
        };
        let index_error = |source: IndexError| PrepareError::Index {
            project: project.to_owned(),
            source: Box::new(source),
        };
        let subtrees = scope_subtrees(scope, project);
        let reason = match changes::plan(index, project, &subtrees, options, started_at) {
            Ok(mark) => match job.fetch_changes(index, &mark, &subtrees).await? {
                Fetched::NeedFull(reason) => reason,
                Fetched::Changes {
                    changes,
                    deleted,
                    watermark,
                } => {
                    job.check_cancel()?;
                    match index.apply_changes(project, &changes) {
                        Ok(()) => {
                            let since = mark.changed_since(options.clock_margin);
                            let mode = PrepareMode::Incremental { since };
                            return job
                                .finish(index, started, started_at, watermark, mode, deleted);
                        }
                        Err(IndexError::InvalidInput { reason, .. }) => {
                            format!("the changes did not fit the index ({reason})")
                        }
                        Err(e) => return Err(index_error(e)),
                    }
                }
            },
            Err(reason) => reason,
        };
        job.check_cancel()?;
        let (snapshot, server_projects) = job.fetch(scope).await?;
        job.check_cancel()?;
        index
            .replace_project_with_progress(&snapshot, |n| {
                (job.progress)(&PrepareProgress {
                    phase: "writing",
                    entities: n,
                    ..job.tally.progress("writing")
                });
            })
            .map_err(index_error)?;
        index
            .record_server_projects(&server_projects)
            .map_err(index_error)?;
        let watermark = changes::newest(
            snapshot
                .folders
                .iter()
                .map(|f| f.updated_at.as_str())
                .chain(snapshot.tasks.iter().map(|t| t.updated_at.as_str()))
                .chain(snapshot.products.iter().map(|p| p.updated_at.as_str()))
                .chain(snapshot.versions.iter().map(|v| v.updated_at.as_str()))
                .chain(
                    snapshot
                        .representations
                        .iter()
                        .map(|r| r.updated_at.as_str()),
                ),
        );
        let mode = PrepareMode::Full { reason };
        job.finish(index, started, started_at, watermark, mode, 0)
    }

    /// Blocking [`prepare_offline`](Self::prepare_offline) for synchronous hosts.
    pub fn prepare_offline_blocking(
        &self,
        index: &Index,
        project: &str,
        scope: &PrepareScope,
        options: &PrepareOptions,
        cancel: &CancelToken,
        progress: &(dyn Fn(&PrepareProgress) + Send + Sync),
    ) -> Result<PrepareReport, PrepareError> {
        let fut = self.prepare_offline(index, project, scope, options, cancel, progress);
        // No deadline of our own: each request has the client's timeout, and cancel stops it.
        crate::bridge::block_on_local(fut).map_err(|source| PrepareError::Request {
            project: project.to_owned(),
            source,
        })?
    }

    /// Counts what a prepare of `scope` would fetch, from id-only listings.
    pub async fn estimate_prepare(
        &self,
        project: &str,
        scope: &PrepareScope,
        options: &PrepareOptions,
    ) -> Result<PrepareEstimate, PrepareError> {
        let cancel = CancelToken::new();
        let job = Job {
            inner: &self.inner,
            project: project.to_owned(),
            options,
            cancel: &cancel,
            tally: Tally::default(),
            progress: &|_| {},
            permits: tokio::sync::Semaphore::new(options.in_flight.max(1)),
        };
        let folders = job.folders_in_scope(scope, "id path").await?;
        let ids: Vec<String> = folders.iter().map(|f| str_of(f, "id")).collect();
        let filter = (!matches!(scope, PrepareScope::Project)).then_some(ids);
        let products = job
            .list("products", "id", filter.map(|ids| ("folderIds", ids)))
            .await?;
        let product_ids: Vec<String> = products.iter().map(|p| str_of(p, "id")).collect();
        let versions = job
            .list("versions", "id", Some(("productIds", product_ids)))
            .await?;
        let version_ids: Vec<String> = versions.iter().map(|v| str_of(v, "id")).collect();
        let reps = job
            .list("representations", "id", Some(("versionIds", version_ids)))
            .await?;
        // Measured on recorded answers: a full node is about this many bytes per kind.
        let bytes =
            folders.len() * 160 + products.len() * 170 + versions.len() * 150 + reps.len() * 900;
        Ok(PrepareEstimate {
            folders: folders.len() as u64,
            products: products.len() as u64,
            versions: versions.len() as u64,
            representations: reps.len() as u64,
            bytes: bytes as u64,
            requests: job.tally.requests.load(Ordering::Relaxed),
        })
    }
}

impl Job<'_> {
    /// Records the mark for the next prepare and reports what the index now holds.
    fn finish(
        &self,
        index: &Index,
        started: Instant,
        started_at: SystemTime,
        watermark: String,
        mode: PrepareMode,
        deleted: u64,
    ) -> Result<PrepareReport, PrepareError> {
        let index_error = |source: IndexError| PrepareError::Index {
            project: self.project.clone(),
            source: Box::new(source),
        };
        let mark = Mark {
            started: started_at,
            watermark,
            selection: changes::selection(self.options),
        };
        index
            .set_prepare_mark(&self.project, &mark.to_text())
            .map_err(index_error)?;
        let prepared = index
            .prepared(&self.project)
            .map_err(index_error)?
            .ok_or_else(|| self.shape("the local index", "the prepared project is gone"))?;
        let t = &self.tally;
        Ok(PrepareReport {
            project: prepared.name,
            mode,
            fetched: t.entities.load(Ordering::Relaxed),
            deleted,
            folders: prepared.counts[0],
            products: prepared.counts[2],
            versions: prepared.counts[3],
            representations: prepared.counts[4],
            bytes: t.bytes.load(Ordering::Relaxed),
            requests: t.requests.load(Ordering::Relaxed),
            elapsed: started.elapsed(),
            prepared_at: prepared.changed_at,
        })
    }

    /// Waits for a request slot ([`PrepareOptions::in_flight`]); held while the request runs.
    async fn permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        // The semaphore is never closed, so this is always a permit.
        self.permits.acquire().await.ok()
    }

    fn check_cancel(&self) -> Result<(), PrepareError> {
        if self.cancel.is_cancelled() {
            return Err(PrepareError::Cancelled {
                project: self.project.clone(),
            });
        }
        Ok(())
    }

    fn request_error(&self, source: ClientError) -> PrepareError {
        PrepareError::Request {
            project: self.project.clone(),
            source,
        }
    }

    fn shape(&self, route: &str, detail: impl Into<String>) -> PrepareError {
        PrepareError::Shape {
            project: self.project.clone(),
            route: route.to_owned(),
            detail: detail.into(),
        }
    }

    fn counted(&self, bytes: usize, entities: usize) {
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        self.tally.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.tally
            .entities
            .fetch_add(entities as u64, Ordering::Relaxed);
        (self.progress)(&self.tally.progress("fetching"));
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, PrepareError> {
        self.check_cancel()?;
        let _permit = self.permit().await;
        let (value, bytes) = self
            .inner
            .http
            .get_json(path, query)
            .await
            .map_err(|e| self.request_error(e))?;
        self.counted(bytes, 0);
        Ok(value)
    }

    /// Every node of one project-level connection, page by page.
    async fn list(
        &self,
        field: &'static str,
        fields: &'static str,
        ids: Option<(&'static str, Vec<String>)>,
    ) -> Result<Vec<Value>, PrepareError> {
        self.list_filtered(field, fields, ids, None).await
    }

    /// [`Job::list`] with an id list argument and a QueryFilter (`filter`, JSON text).
    async fn list_filtered(
        &self,
        field: &'static str,
        fields: &'static str,
        ids: Option<(&'static str, Vec<String>)>,
        filter: Option<String>,
    ) -> Result<Vec<Value>, PrepareError> {
        // An empty id filter matches nothing on the server: skip the request.
        if ids.as_ref().is_some_and(|(_, ids)| ids.is_empty()) {
            return Ok(Vec::new());
        }
        let mut decl = String::new();
        let mut args = String::new();
        let mut vars = json!({"projectName": self.project});
        if let Some((name, ids)) = ids {
            decl.push_str(&format!(", ${name}: [String!]"));
            args.push_str(&format!(", {name}: ${name}"));
            vars[name] = json!(ids);
        }
        if let Some(filter) = filter {
            decl.push_str(", $filter: String");
            args.push_str(", filter: $filter");
            vars["filter"] = json!(filter);
        }
        let query = format!(
            "query Prepare($projectName: String!, $first: Int, $after: String{decl}) {{ project(name: $projectName) {{ {field}(first: $first, after: $after{args}) {{ edges {{ node {{ {fields} }} }} pageInfo {{ endCursor hasNextPage }} }} }} }}"
        );
        let route = format!("POST /graphql ({field})");
        let (nodes, _) = self
            .pages(&query, vars, &["project", field], &route)
            .await?;
        Ok(nodes)
    }

    /// Every node of the connection at `path` in the answers to `query` (which declares
    /// `$first` and `$after`), page by page; also the first page's data.
    async fn pages(
        &self,
        query: &str,
        mut vars: Value,
        path: &[&str],
        route: &str,
    ) -> Result<(Vec<Value>, Value), PrepareError> {
        let mut out = Vec::new();
        let mut first_page = None;
        let mut after: Option<String> = None;
        vars["first"] = json!(self.options.page_size.max(1));
        loop {
            self.check_cancel()?;
            vars["after"] = json!(after);
            let permit = self.permit().await;
            let (data, bytes) = self
                .inner
                .http
                .graphql(query, vars.clone())
                .await
                .map_err(|e| self.request_error(e))?;
            drop(permit);
            let conn = path.iter().fold(&data, |v, key| &v[*key]);
            let Some(edges) = conn["edges"].as_array() else {
                return Err(self.shape(
                    route,
                    format!("no `{}` edges (is the project there?)", path.join(".")),
                ));
            };
            let n = edges.len();
            out.extend(edges.iter().map(|e| e["node"].clone()));
            self.counted(bytes, n);
            let next = conn["pageInfo"]["hasNextPage"].as_bool().unwrap_or(false);
            let cursor = conn["pageInfo"]["endCursor"].as_str().map(str::to_owned);
            first_page.get_or_insert(data);
            match cursor {
                Some(cursor) if next && n > 0 => after = Some(cursor),
                _ => break,
            }
        }
        Ok((out, first_page.unwrap_or(Value::Null)))
    }

    /// Folders of the project, narrowed to the scope's subtrees.
    async fn folders_in_scope(
        &self,
        scope: &PrepareScope,
        fields: &'static str,
    ) -> Result<Vec<Value>, PrepareError> {
        let all = self.list("folders", fields, None).await?;
        if matches!(scope, PrepareScope::Project) {
            return Ok(all);
        }
        // A URI scope naming no folder of this project fetches no folder.
        let wanted = scope_subtrees(scope, &self.project);
        Ok(all
            .into_iter()
            .filter(|f| {
                !wanted.is_empty() && in_subtrees(str_of(f, "path").trim_matches('/'), &wanted)
            })
            .collect())
    }

    async fn fetch(
        &self,
        scope: &PrepareScope,
    ) -> Result<(ProjectSnapshot, Vec<ServerProject>), PrepareError> {
        let project_path = format!("/api/projects/{}", self.project);
        let (project, projects, folders) = tokio::try_join!(
            self.get(&project_path, &[]),
            self.get("/api/projects", &[]),
            self.folders_in_scope(scope, FIELDS.folders),
        )?;
        let record = self.project_record(&project)?;
        let folder_ids: Vec<String> = folders.iter().map(|f| str_of(f, "id")).collect();
        let scoped = !matches!(scope, PrepareScope::Project);
        let products = self
            .list(
                "products",
                FIELDS.products,
                scoped.then(|| ("folderIds", folder_ids.clone())),
            )
            .await?;
        let tasks = self
            .list(
                "tasks",
                FIELDS.tasks,
                scoped.then_some(("folderIds", folder_ids)),
            )
            .await?;
        let product_ids: Vec<String> = products.iter().map(|p| str_of(p, "id")).collect();
        let versions = self
            .list(
                "versions",
                FIELDS.versions,
                scoped.then_some(("productIds", product_ids)),
            )
            .await?;
        let versions = self.select_versions(versions, &record);
        let version_ids: Vec<String> = versions.iter().map(|v| str_of(v, "id")).collect();
        let filter = (scoped || !self.options.all_versions).then_some(("versionIds", version_ids));
        let representations = self
            .list("representations", FIELDS.representations, filter)
            .await?;
        let site_roots = self.site_roots().await?;
        let server_projects = records::server_projects(&projects);
        let snapshot = ProjectSnapshot {
            project: record,
            site_roots: Some(site_roots),
            folders: folders.iter().map(folder_record).collect(),
            tasks: tasks.iter().map(task_record).collect(),
            products: products.iter().map(product_record).collect(),
            versions: versions.iter().map(version_record).collect(),
            representations: representations.iter().map(representation_record).collect(),
            workfiles: Vec::new(),
            subtrees: scope_subtrees(scope, &self.project),
            newest_versions: (!self.options.all_versions)
                .then(|| u32::try_from(self.options.newest_exact.max(1)).unwrap_or(u32::MAX)),
        };
        Ok((snapshot, server_projects))
    }

    fn project_record(&self, project: &Value) -> Result<ProjectRecord, PrepareError> {
        let route = format!("GET /api/projects/{}", self.project);
        let name = project["name"]
            .as_str()
            .ok_or_else(|| self.shape(&route, "no `name`"))?
            .to_owned();
        let roots = project["config"]["roots"]
            .as_object()
            .map(|roots| {
                roots
                    .iter()
                    .map(|(name, paths)| {
                        (
                            name.clone(),
                            AnatomyRoot {
                                windows: str_of(paths, "windows"),
                                linux: str_of(paths, "linux"),
                                darwin: str_of(paths, "darwin"),
                            },
                        )
                    })
                    .collect::<BTreeMap<_, _>>()
            })
            .unwrap_or_default();
        let statuses = project["statuses"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|s| StatusRecord {
                        name: str_of(s, "name"),
                        state: str_of(s, "state"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(ProjectRecord {
            name,
            code: str_of(project, "code"),
            roots,
            statuses,
        })
    }

    /// All versions, or per product: heroes, the latest, the latest done, and the newest N.
    fn select_versions(&self, versions: Vec<Value>, project: &ProjectRecord) -> Vec<Value> {
        if self.options.all_versions {
            return versions;
        }
        let done: HashSet<&str> = project
            .statuses
            .iter()
            .filter(|s| s.state == "done")
            .map(|s| s.name.as_str())
            .collect();
        let mut per_product: BTreeMap<String, Vec<(i64, bool, String)>> = BTreeMap::new();
        for v in &versions {
            per_product
                .entry(str_of(v, "productId"))
                .or_default()
                .push((
                    v["version"].as_i64().unwrap_or(0),
                    done.contains(v["status"].as_str().unwrap_or("")),
                    str_of(v, "id"),
                ));
        }
        let mut keep: HashSet<String> = HashSet::new();
        for list in per_product.values_mut() {
            list.sort_by_key(|v| std::cmp::Reverse(v.0));
            keep.extend(list.iter().filter(|v| v.0 < 0).map(|v| v.2.clone()));
            let exact: Vec<&(i64, bool, String)> = list.iter().filter(|v| v.0 >= 0).collect();
            keep.extend(
                exact
                    .iter()
                    .take(self.options.newest_exact.max(1))
                    .map(|v| v.2.clone()),
            );
            if let Some(d) = exact.iter().find(|v| v.1) {
                keep.insert(d.2.clone());
            }
        }
        versions
            .into_iter()
            .filter(|v| keep.contains(&str_of(v, "id")))
            .collect()
    }

    async fn site_roots(&self) -> Result<SiteRootsRecord, PrepareError> {
        let _permit = self.permit().await;
        let roots = self
            .inner
            .project_roots(&self.project, None, false)
            .await
            .map_err(|e| self.request_error(e))?;
        self.counted(0, 0);
        Ok(SiteRootsRecord {
            site_id: self
                .inner
                .http
                .config()
                .site_id()
                .unwrap_or_default()
                .to_owned(),
            platform: roots.platform(),
            roots: roots
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
        })
    }
}

/// The folder subtrees a scope covers, as the index records them (none: the whole project).
/// A URI scope covers the subtree of each folder its URIs name, so a URI naming no folder
/// (which searches the whole project) stays unanswered offline rather than wrongly empty.
fn scope_subtrees(scope: &PrepareScope, project: &str) -> Vec<String> {
    let mut out: Vec<String> = match scope {
        PrepareScope::Project => return Vec::new(),
        PrepareScope::Folders(paths) => paths
            .iter()
            .map(|p| p.trim_matches('/').to_owned())
            .collect(),
        PrepareScope::Uris(uris) => uris
            .iter()
            .filter_map(|u| ayon_uri::AyonUri::parse(u).ok())
            .filter(|u| u.project().eq_ignore_ascii_case(project) && !u.folder_path().is_empty())
            .map(|u| u.folder_path().to_owned())
            .collect(),
    };
    out.sort();
    out.dedup();
    out
}

/// Whether a folder `path` is in one of `subtrees` (all of them when there are none; an empty
/// subtree is the whole project).
fn in_subtrees(path: &str, subtrees: &[String]) -> bool {
    subtrees.is_empty()
        || subtrees.iter().any(|w| {
            w.is_empty()
                || path == w
                || path
                    .strip_prefix(w.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
}
