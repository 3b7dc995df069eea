//! The resolver: configuration, the lazily built AYON client, and the resolution order.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use ayon_cache::{
    Cache, CacheAdmin, CacheStats, MemoryCache, Namespace, RedisConfig, resolve_cache_dir,
};
use ayon_client::{
    AnswerStore, CancelToken, Client, Credentials, OfflineClient, PrepareOptions, PrepareProgress,
    PrepareReport, PrepareScope, Resolution,
};
use ayon_connectivity::{ConnectionState, Monitor, OfflineReason};
use ayon_index::{Index, PreparedProject};
use ayon_pinning::Roots;
use parking_lot::Mutex;

use crate::answers::{Answers, StoreKind};
use crate::asset_path::{AssetKind, split_sdf_args};
use crate::context::{ResolverContext, View};
use crate::env::EnvConfig;
use crate::fs::{self, SearchPath};
use crate::pinned::{DEFAULT_RECHECK, PinnedFile};
use crate::stats::{Counters, ResolverStats};
use crate::subscription::StateSubscription;
use crate::{ResolveError, Resolved, Source};

/// Default number of decoded answers a resolver keeps in memory.
pub const DEFAULT_ANSWER_CAPACITY: usize = 100_000;
/// Default freshness of `latest` / `hero` / `latestdone` / `*` answers.
pub const DEFAULT_MOVING_TTL: Duration = ayon_client::DEFAULT_MOVING_TTL;

/// What an AYON URI may be answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PinningPolicy {
    /// Mapping, cache, then the server (with offline fallback). Pinning files are used only
    /// where a context sets one.
    #[default]
    Live,
    /// Farm mode: the pinning file only; no server is ever contacted, a miss is
    /// [`ResolveError::NotPinned`].
    PinningOnly,
    /// Artist mode: the pinning file first, the live path for what it does not pin.
    PinningThenLive,
}

/// Builds a [`Resolver`]; never fails and does no I/O but reading a pinning file.
#[derive(Debug, Clone)]
pub struct ResolverBuilder {
    env: EnvConfig,
    policy: Option<PinningPolicy>,
    pinning_roots: Option<Roots>,
    memory_only: bool,
    monitor: bool,
    force_offline: bool,
    moving_ttl: Duration,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    answer_capacity: usize,
    search_path: Option<SearchPath>,
    backoff: Option<(Duration, Duration)>,
    shared_tier: Option<RedisConfig>,
    store: StoreKind,
}

impl Default for ResolverBuilder {
    fn default() -> Self {
        ResolverBuilder {
            env: EnvConfig::default(),
            policy: None,
            pinning_roots: None,
            memory_only: false,
            monitor: true,
            force_offline: false,
            moving_ttl: DEFAULT_MOVING_TTL,
            connect_timeout: None,
            request_timeout: None,
            answer_capacity: DEFAULT_ANSWER_CAPACITY,
            search_path: None,
            backoff: None,
            shared_tier: None,
            store: StoreKind::default(),
        }
    }
}

impl ResolverBuilder {
    /// Starts from what the environment says (see [`EnvConfig`]).
    pub fn from_env() -> ResolverBuilder {
        ResolverBuilder {
            env: EnvConfig::from_process_env(),
            ..ResolverBuilder::default()
        }
    }

    /// The AYON server's URL.
    pub fn server_url(mut self, url: impl Into<String>) -> Self {
        self.env.server_url = Some(url.into());
        self
    }

    /// An API key or a session token.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.env.api_key = Some(key.into());
        self
    }

    /// This machine's site id (its roots and platform).
    pub fn site_id(mut self, site_id: impl Into<String>) -> Self {
        self.env.site_id = Some(site_id.into());
        self
    }

    /// The project the host works in.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.env.project = Some(project.into());
        self
    }

    /// Where the persistent cache lives (else `AYON_OFFLINE_CACHE_DIR`, else the platform's
    /// per-user cache directory).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.env.cache_dir = Some(dir.into());
        self
    }

    /// Keep answers in memory only (nothing written to disk).
    pub fn memory_only(mut self, on: bool) -> Self {
        self.memory_only = on;
        self
    }

    /// The resolver-wide pinning file (a context may set its own).
    pub fn pinning_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.env.pinning_file = Some(file.into());
        self
    }

    /// Roots for `{root[NAME]}` in pinning files (else `AYON_USD_RESOLVER_PINNING_ROOTS` /
    /// `PROJECT_ROOTS`).
    pub fn pinning_roots(mut self, roots: Roots) -> Self {
        self.pinning_roots = Some(roots);
        self
    }

    /// What AYON URIs are answered from (else pinning-only when the environment switches
    /// pinning on, live otherwise).
    pub fn pinning_policy(mut self, policy: PinningPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Watch the server's `/ws` to know at once when it is gone (default on).
    pub fn monitor(mut self, on: bool) -> Self {
        self.monitor = on;
        self
    }

    /// Never contact the server: answer from cache, index and pinning only.
    pub fn force_offline(mut self, on: bool) -> Self {
        self.force_offline = on;
        self
    }

    /// Freshness of moving answers (`latest`, `hero`, …).
    pub fn moving_ttl(mut self, ttl: Duration) -> Self {
        self.moving_ttl = ttl;
        self
    }

    /// TCP connect timeout towards the server.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Whole-request timeout towards the server.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// The monitor's reconnect backoff (first delay, cap); tests and demos use short ones.
    pub fn reconnect_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = Some((initial, max));
        self
    }

    /// How many decoded answers to keep in memory.
    pub fn answer_capacity(mut self, capacity: usize) -> Self {
        self.answer_capacity = capacity;
        self
    }

    /// The shared cache tier's URL (else `AYON_OFFLINE_REDIS_URL`): `redis://` or `rediss://`,
    /// with `user:password@` for an ACL user. Answers resolved by one process are then
    /// answered from Redis in every other; entity events reach every process through it.
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.env.redis_url = Some(url.into());
        self
    }

    /// The shared tier's key prefix (else `AYON_OFFLINE_REDIS_PREFIX`, else `ayon-offline:`).
    pub fn redis_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.env.redis_prefix = Some(prefix.into());
        self
    }

    /// The shared tier with every setting (timeouts, breaker, CA file), instead of the URL and
    /// prefix above.
    pub fn shared_tier(mut self, config: RedisConfig) -> Self {
        self.shared_tier = Some(config);
        self
    }

    /// Keeps answers in the previous sharded store (a shard read lock per hit) instead of the
    /// lock-free one: only so the resolver bench can compare both in one run.
    #[cfg(feature = "bench-baseline")]
    pub fn sharded_answer_store(mut self, on: bool) -> Self {
        self.store = if on {
            StoreKind::Sharded
        } else {
            StoreKind::LockFree
        };
        self
    }

    /// Directories for search-path style assets (else `PXR_AR_DEFAULT_SEARCH_PATH`).
    pub fn search_path(mut self, search: SearchPath) -> Self {
        self.search_path = Some(search);
        self
    }

    /// The resolver. Does no network I/O; problems are kept for the calls that need them and
    /// for [`Resolver::diagnostics`].
    pub fn build(self) -> Resolver {
        let mut problems = Vec::new();
        for name in &self.env.unreadable {
            problems.push(format!(
                "environment variable {name} is not valid Unicode; ignored"
            ));
        }
        if let crate::PinningSwitch::Unrecognised(v) = &self.env.pinning {
            problems.push(format!(
                "pinning switch value {v:?} is not one of 1/true/yes/on or 0/false/no/off; treated as on"
            ));
        }
        let policy = self.policy.unwrap_or(if self.env.pinning.is_on() {
            PinningPolicy::PinningOnly
        } else {
            PinningPolicy::Live
        });
        let pinning = match (&self.env.pinning_file, policy) {
            (Some(file), _) => Some(open_pinning(file, self.pinning_roots.clone()).map(Arc::new)),
            (None, PinningPolicy::Live) => None,
            (None, _) => Some(Err(
                "pinning is on but no pinning file is set: set AYON_USD_RESOLVER_PINNING_FILE"
                    .to_owned(),
            )),
        };
        if let Some(Err(p)) = &pinning {
            problems.push(p.clone());
        }
        let search_path = self.search_path.clone().unwrap_or_else(|| {
            self.env
                .search_path
                .as_deref()
                .map(SearchPath::parse)
                .unwrap_or_default()
        });
        let registry = Arc::new(Registry::new(self.store));
        let global = registry.new_cache(self.answer_capacity);
        let connected =
            ResolverContext::connected_to(global, self.answer_capacity, registry.clone());
        Resolver {
            shared: Arc::new(Shared {
                policy,
                pinning,
                search_path,
                connected,
                registry,
                backend: OnceLock::new(),
                counters: Counters::default(),
                problems,
                settings: self,
            }),
        }
    }
}

fn open_pinning(file: &std::path::Path, roots: Option<Roots>) -> Result<PinnedFile, String> {
    let roots = match roots {
        Some(r) => r,
        None => ayon_pinning::roots_from_env().map_err(|e| e.to_string())?,
    };
    PinnedFile::open(file, roots, DEFAULT_RECHECK).map_err(|e| e.to_string())
}

/// Every answer cache of one resolver, so an entity event reaches contexts that dropped the
/// shared one too.
#[derive(Debug)]
pub(crate) struct Registry {
    kind: StoreKind,
    caches: Mutex<Vec<Weak<Answers>>>,
}

impl Registry {
    fn new(kind: StoreKind) -> Registry {
        Registry {
            kind,
            caches: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn new_cache(&self, capacity: usize) -> Arc<Answers> {
        let cache = Arc::new(Answers::new(self.kind, capacity));
        let mut caches = self.caches.lock();
        caches.retain(|w| w.strong_count() > 0);
        caches.push(Arc::downgrade(&cache));
        cache
    }

    pub(crate) fn invalidate_project(&self, project: &str) {
        for c in self.live() {
            c.invalidate_project(project);
        }
    }

    /// Forgets every moving answer (invalidations may have been missed).
    pub(crate) fn invalidate_moving(&self) {
        for c in self.live() {
            c.invalidate_moving();
        }
    }

    fn live(&self) -> Vec<Arc<Answers>> {
        self.caches
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }
}

/// The resolver hosts embed. Cheap to clone (clones share everything); `Send + Sync`; no call
/// panics.
#[derive(Clone, Debug)]
pub struct Resolver {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    settings: ResolverBuilder,
    policy: PinningPolicy,
    pinning: Option<Result<Arc<PinnedFile>, String>>,
    search_path: SearchPath,
    connected: ResolverContext,
    registry: Arc<Registry>,
    backend: OnceLock<Result<Backend, String>>,
    counters: Counters,
    problems: Vec<String>,
}

#[derive(Debug)]
struct Backend {
    client: OfflineClient,
    /// Prepared projects (none for a memory-only resolver).
    index: Option<Arc<Index>>,
    /// The same store as the client's, for diagnostics.
    admin: Arc<dyn CacheAdmin>,
    _listener: Option<crate::subscription::TaskGuard>,
}

/// What one step of resolution decided.
enum Step {
    Done(Result<Resolved, ResolveError>),
    /// Ask the AYON client for `target` (the URI after mapping), then put `suffix` back.
    Ask {
        target: String,
        suffix: String,
    },
}

impl Resolver {
    /// A resolver configured from the environment (see [`EnvConfig`]). Never fails and does
    /// no network I/O.
    pub fn from_env() -> Resolver {
        ResolverBuilder::from_env().build()
    }

    /// A builder starting from nothing (no environment).
    pub fn builder() -> ResolverBuilder {
        ResolverBuilder::default()
    }

    /// The context connected to this resolver's shared cache (AYON's `GetConnectedContext`):
    /// what [`resolve`](Self::resolve) uses.
    pub fn connected_context(&self) -> ResolverContext {
        self.shared.connected.clone()
    }

    /// A new context connected to the shared cache, with no mapping pairs and no pinning file.
    pub fn new_context(&self) -> ResolverContext {
        ResolverContext::connected_to(
            self.shared.connected.inner.view.load().cache.clone(),
            self.shared.settings.answer_capacity,
            self.shared.registry.clone(),
        )
    }

    /// The pinning policy in force.
    pub fn pinning_policy(&self) -> PinningPolicy {
        self.shared.policy
    }

    /// Resolves `asset_path` in the connected context.
    pub fn resolve(&self, asset_path: &str) -> Result<Resolved, ResolveError> {
        self.resolve_in(&self.shared.connected, asset_path)
    }

    /// Resolves `asset_path` in `context`: for an AYON URI the context's mapping pairs, its
    /// pinning file, its cache, then the AYON client (server, persistent cache, local index);
    /// for anything else the cache, then the filesystem the way USD's default resolver does.
    pub fn resolve_in(
        &self,
        context: &ResolverContext,
        asset_path: &str,
    ) -> Result<Resolved, ResolveError> {
        match self.step(context, asset_path) {
            Step::Done(r) => r,
            Step::Ask { target, suffix } => {
                let answer = match self.client() {
                    Ok(client) => client.resolve_one_blocking(&target),
                    Err(problem) => return Err(self.config_error(asset_path, problem)),
                };
                self.finish(context, &target, &suffix, answer)
            }
        }
    }

    /// Resolves many asset paths with one server round trip for all the URIs that need one;
    /// one answer per input, in order.
    pub fn resolve_many(&self, asset_paths: &[&str]) -> Vec<Result<Resolved, ResolveError>> {
        self.resolve_many_in(&self.shared.connected, asset_paths)
    }

    /// [`resolve_many`](Self::resolve_many) in `context`.
    pub fn resolve_many_in(
        &self,
        context: &ResolverContext,
        asset_paths: &[&str],
    ) -> Vec<Result<Resolved, ResolveError>> {
        let mut out: Vec<Option<Result<Resolved, ResolveError>>> =
            Vec::with_capacity(asset_paths.len());
        let mut asks: Vec<(usize, String, String)> = Vec::new();
        for (i, path) in asset_paths.iter().enumerate() {
            match self.step(context, path) {
                Step::Done(r) => out.push(Some(r)),
                Step::Ask { target, suffix } => {
                    out.push(None);
                    asks.push((i, target, suffix));
                }
            }
        }
        if !asks.is_empty() {
            match self.client() {
                Ok(client) => {
                    let targets: Vec<&str> = asks.iter().map(|(_, t, _)| t.as_str()).collect();
                    let answers = client.resolve_blocking(&targets);
                    for ((i, target, suffix), answer) in asks.iter().zip(answers) {
                        out[*i] = Some(self.finish(context, target, suffix, answer));
                    }
                }
                Err(problem) => {
                    for (i, _, _) in &asks {
                        out[*i] = Some(Err(self.config_error(asset_paths[*i], problem)));
                    }
                }
            }
        }
        out.into_iter()
            .zip(asset_paths)
            .map(|(r, p)| {
                r.unwrap_or_else(|| {
                    Err(ResolveError::Config {
                        path: (*p).to_owned(),
                        problem: "internal: no answer was produced".to_owned(),
                    })
                })
            })
            .collect()
    }

    /// Warms the caches for `uris` in one batched round trip (a whole layer-dependency level);
    /// returns how many resolved.
    pub fn prewarm(&self, uris: &[&str]) -> usize {
        self.resolve_many(uris).iter().filter(|r| r.is_ok()).count()
    }

    /// The identifier a host should use for `asset_path` named in the layer `anchor` (USD's
    /// `CreateIdentifier`): AYON URIs unchanged, relative file paths anchored.
    pub fn create_identifier(&self, asset_path: &str, anchor: Option<&str>) -> String {
        let (base, suffix) = split_sdf_args(asset_path);
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut id = fs::create_identifier(base, anchor, &cwd, &self.shared.search_path);
        id.push_str(suffix);
        id
    }

    /// The connection state as the monitor knows it, without blocking. `Unknown` before the
    /// first AYON URI (or [`connect`](Self::connect)) started the client; offline with the
    /// reason when the configuration cannot reach a server.
    pub fn state(&self) -> ConnectionState {
        match self.shared.backend.get() {
            None => ConnectionState::Unknown,
            Some(Err(problem)) => offline_because(problem),
            Some(Ok(b)) => match b.client.monitor() {
                Some(m) => m.state(),
                None if self.shared.settings.force_offline => offline_because("forced offline"),
                None => ConnectionState::Unknown,
            },
        }
    }

    /// Starts the AYON client and its monitor now (in the background; never blocks on the
    /// network) instead of at the first AYON URI. Returns the configuration problem, if any.
    pub fn connect(&self) -> Result<(), String> {
        self.client().map(|_| ()).map_err(str::to_owned)
    }

    /// Calls `callback` with every connection state change, in order, on a thread of the
    /// library's, until the returned subscription is dropped. Needs a monitor (a server URL
    /// and a credential); starts it if no AYON URI has yet. The changes are those after the
    /// subscription's [`initial_state`](StateSubscription::initial_state), none missed (even
    /// one made while the monitor starts) and none repeated: show that state, then each change.
    pub fn on_state_change<F>(&self, callback: F) -> Result<StateSubscription, String>
    where
        F: FnMut(&ConnectionState) + Send + 'static,
    {
        let client = self.client()?;
        let monitor = client
            .monitor()
            .ok_or("no connection monitor: it needs a server URL and an API key")?;
        StateSubscription::start(monitor, callback)
    }

    /// Prepares `project` (or part of it) for offline work: fetches it from the server into
    /// the local index, so that later offline resolves of any URI in `scope` get the server's
    /// answer, `latest` and `hero` included. `progress` is called after every request;
    /// `cancel` stops it between requests, leaving the previous index answering.
    pub fn prepare_offline(
        &self,
        project: &str,
        scope: &PrepareScope,
        options: &PrepareOptions,
        cancel: &CancelToken,
        progress: &(dyn Fn(&PrepareProgress) + Send + Sync),
    ) -> Result<PrepareReport, PrepareOfflineError> {
        let config = |problem: &str| PrepareOfflineError::Config {
            project: project.to_owned(),
            problem: problem.to_owned(),
        };
        let client = self.client().map_err(config)?;
        let index = self
            .backend_index()
            .ok_or_else(|| config("no local index: a memory-only resolver cannot prepare"))?;
        let report = client
            .client()
            .prepare_offline_blocking(&index, project, scope, options, cancel, progress)?;
        // Answers remembered before the prepare may be older than what it fetched.
        self.shared.registry.invalidate_project(project);
        Ok(report)
    }

    /// Counts what [`prepare_offline`](Self::prepare_offline) of `scope` would fetch, from
    /// id-only listings (a dry run).
    pub fn estimate_prepare(
        &self,
        project: &str,
        scope: &PrepareScope,
        options: &PrepareOptions,
    ) -> Result<ayon_client::PrepareEstimate, PrepareOfflineError> {
        let client = self
            .client()
            .map_err(|problem| PrepareOfflineError::Config {
                project: project.to_owned(),
                problem: problem.to_owned(),
            })?;
        let inner = client.client().clone();
        let (project, scope, options) = (project.to_owned(), scope.clone(), options.clone());
        let run = async move { inner.estimate_prepare(&project, &scope, &options).await };
        let handle = ayon_runtime::handle().map_err(|e| PrepareOfflineError::Config {
            project: String::new(),
            problem: e.to_string(),
        })?;
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(PrepareOfflineError::Config {
                project: String::new(),
                problem: "called from inside a tokio runtime; use ayon_client's async estimate"
                    .into(),
            });
        }
        Ok(handle.block_on(run)?)
    }

    /// The offline client underneath (server, persistent cache, local index), for tools that
    /// want whole answers (every entity, ids) rather than one path.
    pub fn offline_client(&self) -> Result<OfflineClient, String> {
        self.client().cloned().map_err(str::to_owned)
    }

    /// The projects prepared for offline on this machine (in this resolver's cache directory).
    pub fn prepared_projects(&self) -> Result<Vec<PreparedProject>, PrepareOfflineError> {
        let config = |problem: &str| PrepareOfflineError::Config {
            project: String::new(),
            problem: problem.to_owned(),
        };
        self.client().map_err(config)?;
        match self.backend_index() {
            Some(index) => index
                .projects()
                .map_err(|e| PrepareOfflineError::Index(Box::new(e))),
            None => Ok(Vec::new()),
        }
    }

    fn backend_index(&self) -> Option<Arc<Index>> {
        match self.shared.backend.get() {
            Some(Ok(b)) => b.index.clone(),
            _ => None,
        }
    }

    /// Counters per tier since the resolver was built.
    pub fn stats(&self) -> ResolverStats {
        self.shared.counters.snapshot()
    }

    /// The answer cache's own statistics (tiers, sizes, the shared tier's hits, misses and
    /// breaker), once the client is started; `None` before the first AYON URI or
    /// [`connect`](Self::connect), or when the configuration cannot reach a server.
    pub fn cache_stats(&self) -> Option<CacheStats> {
        match self.shared.backend.get() {
            Some(Ok(b)) => Some(b.admin.stats()),
            _ => None,
        }
    }

    /// Problems a user should see, in words: configuration, pinning file, cache health.
    pub fn diagnostics(&self) -> Vec<String> {
        let mut out = self.shared.problems.clone();
        if let Some(Err(p)) = self.shared.backend.get() {
            out.push(p.clone());
        }
        if let Some(Ok(b)) = self.shared.backend.get() {
            for d in b.admin.diagnostics() {
                out.push(d.message);
            }
        }
        out
    }

    fn step(&self, context: &ResolverContext, asset_path: &str) -> Step {
        let shared = &*self.shared;
        let (base, suffix) = split_sdf_args(asset_path);
        let view = context.inner.view.load();
        let mapping = &view.mapping;
        let (target, mapped) = match mapping.get(base) {
            Some(t) if !mapping.is_empty() => (t, true),
            _ => (base, false),
        };
        match AssetKind::of(target) {
            AssetKind::Empty => Step::Done(Err(ResolveError::Empty)),
            AssetKind::AyonUri => {
                if let Some(done) = self.pinned(&view, target, asset_path, suffix) {
                    return Step::Done(done);
                }
                if let Some(hit) = view.cache.get(target) {
                    shared.counters.memory.fetch_add(1, Ordering::Relaxed);
                    return Step::Done(Ok(with_suffix(hit, suffix)));
                }
                Step::Ask {
                    target: target.to_owned(),
                    suffix: suffix.to_owned(),
                }
            }
            _ => {
                let cache = &view.cache;
                if let Some(hit) = cache.get(target) {
                    shared.counters.memory.fetch_add(1, Ordering::Relaxed);
                    return Step::Done(Ok(with_suffix(hit, suffix)));
                }
                let cwd = std::env::current_dir().unwrap_or_default();
                match fs::resolve(target, &cwd, &shared.search_path) {
                    Some(path) => {
                        let source = if mapped {
                            Source::Mapping
                        } else {
                            Source::Filesystem
                        };
                        shared.counters.filesystem.fetch_add(1, Ordering::Relaxed);
                        let resolved = Resolved { path, source };
                        cache.put(target, &resolved, None, None);
                        Step::Done(Ok(with_suffix(resolved, suffix)))
                    }
                    None => {
                        shared.counters.misses.fetch_add(1, Ordering::Relaxed);
                        Step::Done(Err(ResolveError::FileNotFound {
                            path: asset_path.to_owned(),
                        }))
                    }
                }
            }
        }
    }

    /// The pinning answer for a URI, when the policy and the context say pinning decides.
    fn pinned(
        &self,
        view: &View,
        uri: &str,
        asset_path: &str,
        suffix: &str,
    ) -> Option<Result<Resolved, ResolveError>> {
        let shared = &*self.shared;
        let file: &PinnedFile = match (view.pinning.as_deref(), &shared.pinning, shared.policy) {
            (Some(f), _, _) => f,
            (None, _, PinningPolicy::Live) | (None, None, _) => return None,
            (None, Some(Ok(f)), _) => f,
            (None, Some(Err(problem)), _) => {
                return Some(Err(self.config_error(asset_path, problem)));
            }
        };
        match file.lookup(uri) {
            Some(path) => {
                shared.counters.pinning.fetch_add(1, Ordering::Relaxed);
                Some(Ok(with_suffix(
                    Resolved {
                        path,
                        source: Source::Pinning,
                    },
                    suffix,
                )))
            }
            None if shared.policy == PinningPolicy::PinningOnly => {
                shared.counters.misses.fetch_add(1, Ordering::Relaxed);
                Some(Err(ResolveError::NotPinned {
                    path: asset_path.to_owned(),
                    file: file.path().to_owned(),
                }))
            }
            None => None,
        }
    }

    /// Turns the client's answer into ours, remembering fresh answers.
    fn finish(
        &self,
        context: &ResolverContext,
        target: &str,
        suffix: &str,
        answer: Result<Resolution, ayon_client::ResolveError>,
    ) -> Result<Resolved, ResolveError> {
        let c = &self.shared.counters;
        let resolution = match answer {
            Ok(r) => r,
            Err(e) => {
                if e.kind() == ayon_client::ErrorKind::Offline {
                    c.offline.fetch_add(1, Ordering::Relaxed);
                } else {
                    c.misses.fetch_add(1, Ordering::Relaxed);
                }
                return Err(ResolveError::Client(e));
            }
        };
        let source = Source::from(resolution.source());
        let Some(path) = resolution.path() else {
            c.misses.fetch_add(1, Ordering::Relaxed);
            return Err(ResolveError::Client(ayon_client::ResolveError::NotFound {
                uri: target.to_owned(),
            }));
        };
        match source {
            Source::Server => c.server.fetch_add(1, Ordering::Relaxed),
            Source::Cache { stale: true } => c.stale.fetch_add(1, Ordering::Relaxed),
            Source::LocalIndex { .. } => c.index.fetch_add(1, Ordering::Relaxed),
            _ => c.cache.fetch_add(1, Ordering::Relaxed),
        };
        let resolved = Resolved {
            path: path.to_owned(),
            source,
        };
        self.remember(context, target, &resolved);
        Ok(with_suffix(resolved, suffix))
    }

    /// Keeps a client answer in the context's cache when it is safe to serve again without
    /// asking: exact versions from any fresh tier; moving ones only straight from the server
    /// (a cached moving answer may be one an event is about to invalidate in the client).
    fn remember(&self, context: &ResolverContext, target: &str, resolved: &Resolved) {
        let Ok(uri) = ayon_uri::AyonUri::parse(target) else {
            return;
        };
        let (expires, keep) = if uri.is_immutable() {
            (None, !resolved.source.is_stale())
        } else {
            let ttl = Instant::now() + self.shared.settings.moving_ttl;
            (Some(ttl), resolved.source == Source::Server)
        };
        if !keep {
            return;
        }
        let stored = match resolved.source {
            Source::Server | Source::Cache { .. } => Resolved {
                path: resolved.path.clone(),
                source: Source::Cache { stale: false },
            },
            _ => resolved.clone(),
        };
        context
            .inner
            .view
            .load()
            .cache
            .put(target, &stored, Some(uri.project()), expires);
    }

    fn client(&self) -> Result<&OfflineClient, &str> {
        let backend = self
            .shared
            .backend
            .get_or_init(|| build_backend(&self.shared.settings, &self.shared.registry));
        match backend {
            Ok(b) => Ok(&b.client),
            Err(p) => Err(p.as_str()),
        }
    }

    fn config_error(&self, path: &str, problem: &str) -> ResolveError {
        self.shared.counters.misses.fetch_add(1, Ordering::Relaxed);
        ResolveError::Config {
            path: path.to_owned(),
            problem: problem.to_owned(),
        }
    }
}

fn with_suffix(mut r: Resolved, suffix: &str) -> Resolved {
    r.path.push_str(suffix);
    r
}

fn offline_because(problem: &str) -> ConnectionState {
    ConnectionState::Offline {
        since: std::time::SystemTime::now(),
        reason: OfflineReason::Other(problem.to_owned()),
    }
}

/// The client's store, the same store for diagnostics, and the index of prepared projects.
type Stores = (Arc<dyn Cache>, Arc<dyn CacheAdmin>, Option<Arc<Index>>);

fn build_backend(s: &ResolverBuilder, registry: &Arc<Registry>) -> Result<Backend, String> {
    let server = s.env.server_url.as_deref().ok_or(
        "no AYON server configured: set AYON_SERVER_URL (or pass a server URL) to resolve AYON URIs",
    )?;
    let mut builder = Client::builder(server);
    if let Some(key) = &s.env.api_key {
        builder = builder.credentials(Credentials::from_secret(key));
    }
    if let Some(site) = &s.env.site_id {
        builder = builder.site_id(site);
    }
    if let Some(t) = s.connect_timeout {
        builder = builder.connect_timeout(t);
    }
    if let Some(t) = s.request_timeout {
        builder = builder.request_timeout(t);
    }
    let client = builder
        .build()
        .map_err(|e| format!("AYON client configuration: {e}"))?;
    let platform = client.config().platform();
    let shared = s.shared_tier.clone().or_else(|| s.env.redis_config());
    // Answers kept above the cache go too when another process says a project changed.
    let server = client.config().server_url().clone();
    let weak = Arc::downgrade(registry);
    let on_remote: ayon_cache::InvalidationHook = Arc::new(move |namespace: Option<&Namespace>| {
        let Some(registry) = weak.upgrade() else {
            return;
        };
        match namespace {
            Some(ns) => {
                if let Some(project) = ns.project_on(&server) {
                    registry.invalidate_project(project);
                }
            }
            None => registry.invalidate_moving(),
        }
    });
    let tiered = AnswerStore::cache_builder()
        .redis(shared.clone())
        .on_remote_invalidation(on_remote);
    let (cache, admin, index): Stores = if s.memory_only && shared.is_none() {
        let m = Arc::new(MemoryCache::new(ayon_cache::DEFAULT_MEMORY_BYTES));
        (m.clone(), m, None)
    } else if s.memory_only {
        let t = Arc::new(tiered.memory_only().open());
        (t.clone(), t, None)
    } else {
        let dir = resolve_cache_dir(s.env.cache_dir.as_deref())
            .map_err(|e| format!("cache directory: {e}"))?;
        let index = match Index::builder()
            .cache_dir(&dir)
            .platform(Some(platform))
            .substitute_roots(true)
            .open()
        {
            Ok(i) => Some(Arc::new(i)),
            Err(e) => {
                tracing::warn!(target: "ayon::resolver", error = %e, "local index unusable; offline answers come from the cache only");
                None
            }
        };
        let t = Arc::new(tiered.dir(dir).open());
        (t.clone(), t, index)
    };
    let monitor = if s.monitor && s.env.api_key.is_some() && !s.force_offline {
        let mut config = ayon_client::monitor_config(client.config());
        if let Some(p) = &s.env.project {
            config = config.project(p.clone());
        }
        if let Some((initial, max)) = s.backoff {
            config = config.backoff(initial, max);
        }
        if let Some(t) = s.connect_timeout {
            config = config.connect_timeout(t).probe_timeout(t);
        }
        match config.build() {
            Ok(c) => Some(Monitor::start(c)),
            Err(e) => return Err(format!("connection monitor configuration: {e}")),
        }
    } else {
        None
    };
    let listener = monitor
        .as_ref()
        .and_then(|m| crate::subscription::invalidate_on_events(m, Arc::downgrade(registry)));
    let mut offline = OfflineClient::builder(client, cache)
        .moving_ttl(s.moving_ttl)
        .force_offline(s.force_offline);
    if let Some(m) = monitor {
        offline = offline.monitor(m);
    }
    if let Some(i) = &index {
        offline = offline.index(i.clone());
    }
    Ok(Backend {
        client: offline.build(),
        index,
        admin,
        _listener: listener,
    })
}

impl Registry {
    pub(crate) fn on_event_project(&self, project: &str) {
        self.invalidate_project(project);
    }
}

/// Why [`Resolver::prepare_offline`] did not finish; the previous index keeps answering.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareOfflineError {
    /// The resolver cannot reach a server or has no place for an index.
    #[error("cannot prepare {project}: {problem}")]
    Config {
        /// The project asked for.
        project: String,
        /// What is missing, and how to fix it.
        problem: String,
    },
    /// The prepare itself failed (a request, the server's answer, writing, cancelled).
    #[error(transparent)]
    Prepare(#[from] ayon_client::PrepareError),
    /// The index could not be read.
    #[error("local index: {0}")]
    Index(Box<ayon_index::IndexError>),
}

impl PrepareOfflineError {
    /// The stable kind a host branches on.
    pub fn kind(&self) -> ayon_client::ErrorKind {
        match self {
            PrepareOfflineError::Config { .. } => ayon_client::ErrorKind::Config,
            PrepareOfflineError::Prepare(e) => e.kind(),
            PrepareOfflineError::Index(_) => ayon_client::ErrorKind::Cache,
        }
    }
}
