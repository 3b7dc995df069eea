//! The offline policy (design.md "Freshness classes", "Offline policy"): answer from the cache
//! when it is fresh or when the server is gone, ask the server otherwise, and say which it was.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use ayon_cache::{Cache, Entry, Freshness, Key, Namespace};
use ayon_connectivity::{ConnectionState, Monitor, ServerEvent};
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::batch::{Plan, Unique, UriInput};
use crate::client::{Client, Rootless, apply_roots};
use crate::config::{ClientConfig, Credentials, Platform};
use crate::error::{ClientError, ResolveError};
use crate::resolution::{Resolution, ResolvedEntity, Source};
use crate::roots::SiteRoots;

/// Default freshness of `latest` / `hero` / `latestdone` / `*` answers.
pub const DEFAULT_MOVING_TTL: Duration = Duration::from_secs(60);
/// After a transport failure or timeout, how long the client stays cache-only on its own, even
/// if the monitor still reports online (a hung server can keep its websocket alive).
pub const DEFAULT_FAILURE_COOLDOWN: Duration = Duration::from_secs(5);
/// Default freshness of "no such entity" answers.
pub const DEFAULT_NEGATIVE_TTL: Duration = Duration::from_secs(30);
/// Format version of the JSON this module stores (bumped when its shape changes).
const VALUE_FORMAT: u32 = 1;
/// Name of the per-project entry holding this site's roots (not a URI, so never a URI's key).
const ROOTS_NAME_PREFIX: &str = "@site-roots:";
/// Topic prefixes whose events make moving answers of their project stale.
pub const INVALIDATING_TOPICS: [&str; 3] = [
    "entity.version.",
    "entity.representation.",
    "entity.product.",
];

/// A monitor configuration for the server of `config`, with its credential, subscribed to the
/// entity topics that invalidate moving answers. Add `.project(..)` to narrow it, then start it.
pub fn monitor_config(config: &ClientConfig) -> ayon_connectivity::MonitorConfigBuilder {
    let b = ayon_connectivity::MonitorConfig::builder(config.server_url.clone()).subscribe([
        "entity.version",
        "entity.representation",
        "entity.product",
    ]);
    match &config.credentials {
        Credentials::ApiKey(k) => b.api_key(k.clone()),
        Credentials::Token(t) => b.token(t.clone()),
        Credentials::Login { .. } | Credentials::None => b,
    }
}

/// What the policy believes about the server right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Ask the server when the cache is not fresh; fall back to the cache if it fails.
    Online,
    /// Cache only, at once.
    Offline,
}

/// The outcome of one server lookup, shared by every caller that waited for it.
type Fetched = Option<Result<Rootless, ClientError>>;
/// One in-flight server lookup that concurrent callers for the same URI wait on.
type Flight = watch::Sender<Fetched>;
/// Per distinct URI: its answer, or `None` while still to be fetched.
type Answers = Vec<Option<Result<Resolution, ResolveError>>>;
/// Distinct URIs still to fetch: index, and the stale entry to fall back on.
type Pending = Vec<(usize, Option<Entry>)>;

/// Builder for [`OfflineClient`].
#[derive(Debug)]
pub struct OfflineClientBuilder {
    client: Client,
    cache: Arc<dyn Cache>,
    monitor: Option<Monitor>,
    moving_ttl: Duration,
    negative_ttl: Duration,
    force_offline: bool,
    failure_cooldown: Duration,
}

impl OfflineClientBuilder {
    /// How long to stay cache-only after a request failed for a transport reason (default 5 s).
    pub fn failure_cooldown(mut self, cooldown: Duration) -> Self {
        self.failure_cooldown = cooldown;
        self
    }

    /// The connectivity monitor: its state decides online/offline, its entity events drop moving
    /// answers early, and failed requests are reported to it.
    pub fn monitor(mut self, monitor: Monitor) -> Self {
        self.monitor = Some(monitor);
        self
    }

    /// Freshness of moving answers (`latest`, `hero`, `latestdone`, `*`); default 60 s.
    pub fn moving_ttl(mut self, ttl: Duration) -> Self {
        self.moving_ttl = ttl;
        self
    }

    /// Freshness of "not found" answers; default 30 s.
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = ttl;
        self
    }

    /// Never ask the server (the CLI's `--offline`, a render node with a warm cache).
    pub fn force_offline(mut self, on: bool) -> Self {
        self.force_offline = on;
        self
    }

    /// Starts the client (and, with a monitor, the task that listens for entity events).
    pub fn build(self) -> OfflineClient {
        let inner = Arc::new(OfflineInner {
            client: self.client,
            cache: self.cache,
            monitor: self.monitor,
            moving_ttl: self.moving_ttl,
            negative_ttl: self.negative_ttl,
            force_offline: AtomicBool::new(self.force_offline),
            failure_cooldown: self.failure_cooldown,
            failed_at: Mutex::new(None),
            flights: Mutex::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            platform: Mutex::new(HashMap::new()),
        });
        let listener = inner
            .monitor
            .as_ref()
            .and_then(|m| spawn_invalidator(Arc::downgrade(&inner), m.subscribe_events()));
        OfflineClient {
            inner,
            _listener: listener.map(|h| Arc::new(AbortOnDrop(h))),
        }
    }
}

/// Resolves through the server with the cache underneath: fresh hits and offline answers come
/// from the cache at once, misses go to the server (batched, single flight) and are written
/// through. Cheap to clone; `Send + Sync`.
#[derive(Clone, Debug)]
pub struct OfflineClient {
    inner: Arc<OfflineInner>,
    _listener: Option<Arc<AbortOnDrop>>,
}

#[derive(Debug)]
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct OfflineInner {
    client: Client,
    cache: Arc<dyn Cache>,
    monitor: Option<Monitor>,
    moving_ttl: Duration,
    negative_ttl: Duration,
    force_offline: AtomicBool,
    failure_cooldown: Duration,
    /// When a request last failed for a transport reason.
    failed_at: Mutex<Option<std::time::Instant>>,
    /// Canonical URI key → the lookup in flight for it.
    flights: Mutex<HashMap<Key, Arc<Flight>>>,
    /// Bumped by every invalidating event: an answer fetched across an event is not stored.
    epoch: AtomicU64,
    /// Site platform remembered with the roots per project (lower-cased).
    platform: Mutex<HashMap<String, Platform>>,
}

impl std::fmt::Debug for OfflineInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineClient")
            .field("client", &self.client)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl OfflineClient {
    /// A client over `client` with `cache` underneath (use a tiered cache so answers survive a
    /// process restart).
    pub fn builder(client: Client, cache: Arc<dyn Cache>) -> OfflineClientBuilder {
        OfflineClientBuilder {
            client,
            cache,
            monitor: None,
            moving_ttl: DEFAULT_MOVING_TTL,
            negative_ttl: DEFAULT_NEGATIVE_TTL,
            force_offline: false,
            failure_cooldown: DEFAULT_FAILURE_COOLDOWN,
        }
    }

    /// The server client underneath.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The cache underneath.
    pub fn cache(&self) -> &Arc<dyn Cache> {
        &self.inner.cache
    }

    /// The monitor, if one is attached.
    pub fn monitor(&self) -> Option<&Monitor> {
        self.inner.monitor.as_ref()
    }

    /// Switches cache-only mode on or off at run time.
    pub fn set_force_offline(&self, on: bool) {
        self.inner.force_offline.store(on, Ordering::Relaxed);
    }

    /// Resolves a batch with the offline policy; answers in input order, each with its source.
    pub async fn resolve<T: UriInput>(
        &self,
        inputs: &[T],
    ) -> Vec<Result<Resolution, ResolveError>> {
        let plan = Plan::new(inputs);
        let (answers, pending) = self.inner.lookup_all(&plan.unique);
        let answers = if pending.is_empty() {
            answers
        } else {
            let inner = self.inner.clone();
            let unique = plan.unique.clone();
            let run = async move { Ok(inner.complete(unique, answers, pending).await) };
            match on_runtime(run).await {
                Ok(a) => a,
                Err(e) => plan
                    .unique
                    .iter()
                    .map(|u| {
                        Some(Err(ResolveError::Request {
                            uri: u.canonical.clone(),
                            error: e.clone(),
                        }))
                    })
                    .collect(),
            }
        };
        plan.assemble(answers, rename)
    }

    /// Blocking [`resolve`](Self::resolve) for synchronous hosts: safe from many threads, from a
    /// forked child and from inside a tokio runtime. Cache hits are answered on the calling
    /// thread without touching the runtime.
    pub fn resolve_blocking<T: UriInput>(
        &self,
        inputs: &[T],
    ) -> Vec<Result<Resolution, ResolveError>> {
        let plan = Plan::new(inputs);
        let (answers, pending) = self.inner.lookup_all(&plan.unique);
        if pending.is_empty() {
            return plan.assemble(answers, rename);
        }
        let inner = self.inner.clone();
        let unique = plan.unique.clone();
        let deadline = self.inner.client.blocking_deadline(pending.len());
        let answers =
            match ayon_runtime::block_on(inner.complete(unique, answers, pending), deadline) {
                Ok(a) => a,
                Err(e) => {
                    let error = match e {
                        ayon_runtime::RuntimeError::Timeout(after) => ClientError::Timeout {
                            server: self.inner.client.config().server_url.clone(),
                            after,
                        },
                        other => ClientError::Runtime(other.to_string()),
                    };
                    plan.unique
                        .iter()
                        .map(|u| {
                            Some(Err(ResolveError::Request {
                                uri: u.canonical.clone(),
                                error: error.clone(),
                            }))
                        })
                        .collect()
                }
            };
        plan.assemble(answers, rename)
    }

    /// Blocking resolve of one URI.
    pub fn resolve_one_blocking(&self, uri: &str) -> Result<Resolution, ResolveError> {
        self.resolve_blocking(&[uri]).pop().unwrap_or_else(|| {
            Err(ResolveError::NotFound {
                uri: uri.to_owned(),
            })
        })
    }

    /// Drops the moving and negative answers of `project` (what an entity event does).
    pub fn invalidate_project(&self, project: &str) {
        self.inner.invalidate(Some(project));
    }
}

fn rename(r: Resolution, input: &str) -> Resolution {
    if r.uri() == input {
        r
    } else {
        Resolution::new(input.to_owned(), r.entities().into(), r.source())
    }
}

async fn on_runtime<F, T>(fut: F) -> Result<T, ClientError>
where
    F: std::future::Future<Output = Result<T, ClientError>> + Send + 'static,
    T: Send + 'static,
{
    let handle = ayon_runtime::handle().map_err(|e| ClientError::Runtime(e.to_string()))?;
    match handle.spawn(fut).await {
        Ok(r) => r,
        Err(e) => Err(ClientError::Runtime(format!("resolve task ended: {e}"))),
    }
}

/// The stored JSON of one answer: the rootless entities as the server sent them.
fn encode(entities: &[ResolvedEntity]) -> serde_json::Value {
    serde_json::json!({ "entities": entities })
}

fn decode(entry: &Entry) -> Option<Arc<[ResolvedEntity]>> {
    if entry.format_version() != VALUE_FORMAT {
        return None;
    }
    match entry.value() {
        ayon_cache::Value::Json(j) => {
            let v: Vec<ResolvedEntity> = serde_json::from_value(j.get("entities")?.clone()).ok()?;
            Some(v.into())
        }
        ayon_cache::Value::Bytes(_) => None,
    }
}

impl OfflineInner {
    fn server(&self) -> &str {
        &self.client.config().server_url
    }

    fn namespace(&self, project: &str) -> Namespace {
        Namespace::for_server(&self.client.inner.server_url, project)
    }

    fn key(&self, u: &Unique) -> Key {
        Key::new(&self.namespace(u.uri.project()), u.canonical.clone())
    }

    fn roots_key(&self, project: &str) -> Key {
        let c = self.client.config();
        let who = c
            .site_id
            .clone()
            .unwrap_or_else(|| format!("platform-{}", c.platform));
        Key::new(
            &self.namespace(project),
            format!("{ROOTS_NAME_PREFIX}{who}"),
        )
    }

    fn mode(&self) -> Mode {
        if self.force_offline.load(Ordering::Relaxed) {
            return Mode::Offline;
        }
        if self
            .failed_at
            .lock()
            .is_some_and(|at| at.elapsed() < self.failure_cooldown)
        {
            return Mode::Offline;
        }
        match self.monitor.as_ref().map(Monitor::state) {
            Some(ConnectionState::Offline { .. }) => Mode::Offline,
            // Online, Unknown (starting, reconnecting) or no monitor: try the server, fall back.
            _ => Mode::Online,
        }
    }

    fn cache_get(&self, key: &Key) -> Option<Entry> {
        match self.cache.get(key) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(target: "ayon_client", key = %key, error = %e, "cache read failed; treating as a miss");
                None
            }
        }
    }

    /// Roots and platform of `project` known without the network (memory, then the store).
    fn local_roots(&self, project: &str) -> Option<(Arc<SiteRoots>, Platform)> {
        let lower = project.to_lowercase();
        let platform = self.platform.lock().get(&lower).copied();
        if let Some(r) = self.client.inner.cached_roots(project) {
            return Some((
                r,
                platform.unwrap_or_else(|| self.client.effective_platform()),
            ));
        }
        let entry = self.cache_get(&self.roots_key(project))?;
        let ayon_cache::Value::Json(j) = entry.value() else {
            return None;
        };
        let roots: SiteRoots = serde_json::from_value(j.get("roots")?.clone()).ok()?;
        let platform = j
            .get("platform")
            .and_then(|p| p.as_str())
            .and_then(Platform::parse)
            .unwrap_or_else(|| self.client.effective_platform());
        let roots = Arc::new(roots);
        self.client.inner.remember_roots(project, roots.clone());
        self.platform.lock().insert(lower, platform);
        Some((roots, platform))
    }

    /// Roots of `project`: local, else (online) from the server, persisted for offline use.
    async fn roots(
        &self,
        project: &str,
        mode: Mode,
    ) -> Result<(Arc<SiteRoots>, Platform), ClientError> {
        if let Some(r) = self.local_roots(project) {
            return Ok(r);
        }
        if mode == Mode::Offline {
            return Err(ClientError::Offline {
                server: self.server().to_owned(),
                what: format!("site roots of project {project}"),
            });
        }
        let roots = self.client.inner.site_roots(project).await?;
        let platform = self.client.effective_platform();
        let value = serde_json::json!({ "roots": &*roots, "platform": platform.as_str() });
        let entry = Entry::json(value, Freshness::Immutable, ayon_cache::Source::Server)
            .with_format_version(VALUE_FORMAT);
        if let Err(e) = self.cache.put(self.roots_key(project), entry) {
            tracing::warn!(target: "ayon_client", project, error = %e, "could not store site roots");
        }
        self.platform
            .lock()
            .insert(project.to_lowercase(), platform);
        Ok((roots, platform))
    }

    fn needs_roots(entities: &[ResolvedEntity]) -> bool {
        entities
            .iter()
            .any(|e| e.file_path.as_deref().is_some_and(|p| p.contains("{root[")))
    }

    /// The answer for a cached entry, if it can be given without the network.
    fn answer_local(
        &self,
        u: &Unique,
        entry: &Entry,
        stale: bool,
    ) -> Option<Result<Resolution, ResolveError>> {
        let entities = decode(entry)?;
        let source = Source::Cache { stale };
        if entities.is_empty() {
            return Some(Err(ResolveError::NotFound {
                uri: u.canonical.clone(),
            }));
        }
        if !Self::needs_roots(&entities) {
            return Some(apply_roots(
                &u.canonical,
                &entities,
                None,
                self.client.effective_platform(),
                source,
            ));
        }
        let (roots, platform) = self.local_roots(u.uri.project())?;
        Some(apply_roots(
            &u.canonical,
            &entities,
            Some(&roots),
            platform,
            source,
        ))
    }

    /// The synchronous part: answers what the cache can answer now; the rest is pending
    /// (index, the stale entry to fall back on).
    fn lookup_all(&self, unique: &[Unique]) -> (Answers, Pending) {
        let mode = self.mode();
        let now = SystemTime::now();
        let mut answers = Vec::with_capacity(unique.len());
        let mut pending = Vec::new();
        for (i, u) in unique.iter().enumerate() {
            let entry = self.cache_get(&self.key(u));
            let answer = match (&entry, mode) {
                (Some(e), Mode::Offline) => {
                    let stale = !e.is_fresh_at(now);
                    self.answer_local(u, e, stale)
                }
                (Some(e), Mode::Online) if e.is_fresh_at(now) => self.answer_local(u, e, false),
                (None, Mode::Offline) => Some(Err(ResolveError::Offline {
                    uri: u.canonical.clone(),
                })),
                _ => None,
            };
            match answer {
                Some(a) => answers.push(Some(a)),
                None if mode == Mode::Offline => {
                    // Cached, but the roots for its path are not: nothing to answer with offline.
                    answers.push(Some(Err(ResolveError::Offline {
                        uri: u.canonical.clone(),
                    })));
                }
                None => {
                    answers.push(None);
                    pending.push((i, entry));
                }
            }
        }
        (answers, pending)
    }

    /// The asynchronous part: fetches the pending URIs (single flight), writes through, falls
    /// back to stale entries when the server is unavailable.
    async fn complete(
        self: Arc<Self>,
        unique: Vec<Unique>,
        mut answers: Vec<Option<Result<Resolution, ResolveError>>>,
        pending: Vec<(usize, Option<Entry>)>,
    ) -> Vec<Option<Result<Resolution, ResolveError>>> {
        let mode = self.mode();
        // Join flights already under way; lead the rest.
        let mut lead: Vec<(usize, Key, Arc<Flight>)> = Vec::new();
        let mut follow: Vec<(usize, watch::Receiver<Fetched>)> = Vec::new();
        let mut done: Vec<(usize, Result<Resolution, ResolveError>)> = Vec::new();
        {
            let mut flights = self.flights.lock();
            let now = SystemTime::now();
            for (i, _) in &pending {
                let key = self.key(&unique[*i]);
                match flights.get(&key) {
                    Some(f) => follow.push((*i, f.subscribe())),
                    None => {
                        // A leader that finished since our lookup wrote the cache before it
                        // left the map: look again so we don't ask a second time.
                        let fresh = self.cache_get(&key).filter(|e| e.is_fresh_at(now));
                        if let Some(a) =
                            fresh.and_then(|e| self.answer_local(&unique[*i], &e, false))
                        {
                            done.push((*i, a));
                            continue;
                        }
                        let f = Arc::new(watch::Sender::new(None));
                        flights.insert(key.clone(), f.clone());
                        lead.push((*i, key, f));
                    }
                }
            }
        }
        let done_now: std::collections::HashSet<usize> = done.iter().map(|(i, _)| *i).collect();
        for (i, a) in done {
            answers[i] = Some(a);
        }
        let pending: Vec<_> = pending
            .into_iter()
            .filter(|(i, _)| !done_now.contains(i))
            .collect();
        let guard = FlightGuard {
            inner: &self,
            keys: lead.iter().map(|(_, k, _)| k.clone()).collect(),
        };
        let mut results: HashMap<usize, Result<Rootless, ClientError>> = HashMap::new();
        if !lead.is_empty() {
            let epoch = self.epoch.load(Ordering::Acquire);
            let uris: Vec<String> = lead
                .iter()
                .map(|(i, _, _)| unique[*i].canonical.clone())
                .collect();
            let fetched = self.client.inner.fetch_rootless(&uris).await;
            let mut writes = Vec::new();
            let mut failure: Option<String> = None;
            for ((i, key, flight), r) in lead.iter().zip(fetched) {
                if let Ok(Rootless::Entities(e)) = &r {
                    let u = &unique[*i];
                    let freshness = if e.is_empty() {
                        Freshness::Negative {
                            ttl: self.negative_ttl,
                        }
                    } else if u.uri.is_immutable() {
                        Freshness::Immutable
                    } else {
                        Freshness::Moving {
                            ttl: self.moving_ttl,
                        }
                    };
                    let entry = Entry::json(encode(e), freshness, ayon_cache::Source::Server)
                        .with_format_version(VALUE_FORMAT);
                    writes.push((key.clone(), entry));
                }
                if let Err(e) = &r
                    && e.is_unavailable()
                {
                    failure.get_or_insert_with(|| e.to_string());
                }
                flight.send_replace(Some(r.clone()));
                results.insert(*i, r);
            }
            // An event during the request may have made these answers old: don't store them.
            let unchanged = self.epoch.load(Ordering::Acquire) == epoch;
            let writes: Vec<_> = writes
                .into_iter()
                .filter(|(_, e)| unchanged || e.freshness() == Freshness::Immutable)
                .collect();
            if !writes.is_empty()
                && let Err(e) = self.cache.put_many(writes)
            {
                tracing::warn!(target: "ayon_client", error = %e, "could not store resolve answers");
            }
            if let Some(what) = failure {
                *self.failed_at.lock() = Some(std::time::Instant::now());
                if let Some(m) = &self.monitor {
                    m.report_failure(what);
                }
            }
        }
        drop(guard);
        for (i, mut rx) in follow {
            let r = match rx.wait_for(Option::is_some).await {
                Ok(v) => v
                    .clone()
                    .unwrap_or_else(|| Err(ClientError::Runtime("lookup ended".into()))),
                Err(_) => Err(ClientError::Runtime(
                    "the concurrent lookup of this URI was cancelled".into(),
                )),
            };
            results.insert(i, r);
        }
        for (i, stale_entry) in pending {
            let u = &unique[i];
            let r = results
                .remove(&i)
                .unwrap_or_else(|| Err(ClientError::Runtime("no answer".into())));
            let answer = match r {
                Ok(Rootless::Error(message)) => Err(ResolveError::ServerError {
                    uri: u.canonical.clone(),
                    message,
                }),
                Ok(Rootless::Entities(e)) if e.is_empty() => Err(ResolveError::NotFound {
                    uri: u.canonical.clone(),
                }),
                Ok(Rootless::Entities(e)) => {
                    self.finish_fetched(u, &e, mode, stale_entry.as_ref()).await
                }
                Err(error) => match stale_entry
                    .as_ref()
                    .and_then(|s| self.answer_local(u, s, true))
                {
                    Some(a) if error.is_unavailable() => a,
                    _ => Err(ResolveError::Request {
                        uri: u.canonical.clone(),
                        error,
                    }),
                },
            };
            answers[i] = Some(answer);
        }
        answers
    }

    async fn finish_fetched(
        &self,
        u: &Unique,
        entities: &[ResolvedEntity],
        mode: Mode,
        stale: Option<&Entry>,
    ) -> Result<Resolution, ResolveError> {
        if !Self::needs_roots(entities) {
            return apply_roots(
                &u.canonical,
                entities,
                None,
                self.client.effective_platform(),
                Source::Server,
            );
        }
        match self.roots(u.uri.project(), mode).await {
            Ok((roots, platform)) => apply_roots(
                &u.canonical,
                entities,
                Some(&roots),
                platform,
                Source::Server,
            ),
            Err(error) => match stale.and_then(|s| self.answer_local(u, s, true)) {
                Some(a) if error.is_unavailable() => a,
                _ => Err(ResolveError::Request {
                    uri: u.canonical.clone(),
                    error,
                }),
            },
        }
    }

    /// Drops moving and negative answers (of one project, or of every project of this server).
    fn invalidate(&self, project: Option<&str>) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let not_immutable =
            |_: &Key, meta: &ayon_cache::EntryMeta| meta.freshness != Freshness::Immutable;
        let result = match project {
            Some(p) => self
                .cache
                .remove_where(Some(self.namespace(p).as_str()), &|k, m| {
                    !k.name().starts_with(ROOTS_NAME_PREFIX) && not_immutable(k, m)
                }),
            None => {
                let prefix = Namespace::server_prefix(&self.client.inner.server_url);
                self.cache.remove_where(None, &move |k, m| {
                    k.namespace().starts_with(&prefix)
                        && !k.name().starts_with(ROOTS_NAME_PREFIX)
                        && not_immutable(k, m)
                })
            }
        };
        match result {
            Ok(n) => {
                tracing::debug!(target: "ayon_client", ?project, removed = n, "dropped moving answers after an entity event")
            }
            Err(e) => {
                tracing::warn!(target: "ayon_client", ?project, error = %e, "could not drop moving answers")
            }
        }
    }

    fn on_event(&self, event: &ServerEvent) {
        if INVALIDATING_TOPICS
            .iter()
            .any(|t| event.topic.starts_with(t))
        {
            self.invalidate(event.project.as_deref());
        }
    }
}

/// Removes this leader's flights when it finishes or is cancelled (followers then see a closed
/// channel instead of waiting forever).
struct FlightGuard<'a> {
    inner: &'a OfflineInner,
    keys: Vec<Key>,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let mut flights = self.inner.flights.lock();
        for k in &self.keys {
            flights.remove(k);
        }
    }
}

fn spawn_invalidator(
    inner: std::sync::Weak<OfflineInner>,
    mut events: tokio::sync::broadcast::Receiver<ServerEvent>,
) -> Option<tokio::task::AbortHandle> {
    let handle = ayon_runtime::handle().ok()?;
    let task = handle.spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match events.recv().await {
                Ok(event) => match inner.upgrade() {
                    Some(inner) => inner.on_event(&event),
                    None => return,
                },
                Err(RecvError::Lagged(n)) => {
                    // Missed events: we cannot tell which projects changed, so drop them all.
                    tracing::warn!(target: "ayon_client", missed = n, "entity events lagged; dropping all moving answers");
                    match inner.upgrade() {
                        Some(inner) => inner.invalidate(None),
                        None => return,
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
    Some(task.abort_handle())
}
