//! The offline policy (design.md "Freshness classes", "Offline policy"): answer from the cache
//! when it is fresh or when the server is gone, ask the server otherwise, and say which it was.
//! What is stored and how lives in [`AnswerStore`]; lookups in flight are shared through
//! [`Flights`]; raw answers become results in `finish`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ayon_cache::{Cache, Entry, Key};
use ayon_connectivity::{ConnectionState, Monitor, ServerEvent};
use parking_lot::Mutex;

use crate::batch::{Answers, Plan, Unique, UriInput};
use crate::bridge;
use crate::client::Client;
use crate::config::{ClientConfig, Credentials};
use crate::error::{ClientError, ResolveError};
use crate::finish::Rootless;
use crate::flights::{Flights, Joined};
use crate::local_index::LocalIndex;
use crate::resolution::Resolution;
use crate::store::{
    AnswerStore, DEFAULT_MOVING_TTL, DEFAULT_NEGATIVE_TTL, INVALIDATING_TOPICS, is_invalidating,
};

/// After a transport failure or timeout, how long the client stays cache-only on its own, even
/// if the monitor still reports online (a hung server can keep its websocket alive).
pub const DEFAULT_FAILURE_COOLDOWN: Duration = Duration::from_secs(5);

/// A monitor configuration for the server of `config`, with its credential, subscribed to the
/// entity topics that invalidate moving answers. Add `.project(..)` to narrow it, then start it.
pub fn monitor_config(config: &ClientConfig) -> ayon_connectivity::MonitorConfigBuilder {
    let b = ayon_connectivity::MonitorConfig::builder(config.server_url().as_str())
        .subscribe(INVALIDATING_TOPICS);
    match config.credentials() {
        Credentials::Key(c) => b.credential(c.clone()),
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
    index: Option<Arc<ayon_index::Index>>,
}

impl OfflineClientBuilder {
    /// The local index of prepared projects: offline (or with the server failing), a URI
    /// missing from the cache is answered from it, as the server would, with
    /// [`Source::LocalIndex`](crate::Source::LocalIndex).
    pub fn index(mut self, index: Arc<ayon_index::Index>) -> Self {
        self.index = Some(index);
        self
    }

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
        let store = AnswerStore::new(self.cache, self.client.config())
            .with_ttls(self.moving_ttl, self.negative_ttl);
        let inner = Arc::new(OfflineInner {
            client: self.client,
            store,
            monitor: self.monitor,
            force_offline: AtomicBool::new(self.force_offline),
            failure_cooldown: self.failure_cooldown,
            failed_at: Mutex::new(None),
            flights: Flights::new(),
            local: self.index.map(LocalIndex::new),
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
    store: AnswerStore,
    monitor: Option<Monitor>,
    force_offline: AtomicBool,
    failure_cooldown: Duration,
    /// When a request last failed for a transport reason.
    failed_at: Mutex<Option<Instant>>,
    /// Server lookups under way, by answer key.
    flights: Flights<Key, Result<Rootless, ClientError>>,
    /// Prepared projects, for URIs the cache cannot answer offline.
    local: Option<LocalIndex>,
}

impl std::fmt::Debug for OfflineInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineClient")
            .field("client", &self.client)
            .field("store", &self.store)
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
            index: None,
        }
    }

    /// The local index of prepared projects, when one is attached.
    pub fn index(&self) -> Option<&Arc<ayon_index::Index>> {
        self.inner.local.as_ref().map(LocalIndex::index)
    }

    /// The server client underneath.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The cache underneath.
    pub fn cache(&self) -> &Arc<dyn Cache> {
        self.inner.store.cache()
    }

    /// The answers store over the cache (its keys, format and invalidation).
    pub fn store(&self) -> &AnswerStore {
        &self.inner.store
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
            let run = self
                .inner
                .clone()
                .complete(plan.unique.clone(), answers, pending);
            bridge::on_runtime(run)
                .await
                .unwrap_or_else(|e| plan.fail(&e))
        };
        plan.assemble(answers, Resolution::renamed)
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
            return plan.assemble(answers, Resolution::renamed);
        }
        let deadline = self.inner.client.blocking_deadline(pending.len());
        let run = self
            .inner
            .clone()
            .complete(plan.unique.clone(), answers, pending);
        let server = self.inner.client.config().server_url().as_str();
        let answers = bridge::block_on(run, deadline, server).unwrap_or_else(|e| plan.fail(&e));
        plan.assemble(answers, Resolution::renamed)
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

impl OfflineInner {
    fn key(&self, u: &Unique) -> Key {
        self.store.key_of(u.uri.project(), u.canonical.clone())
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

    /// The answer for a stored entry, if it can be given without the network.
    fn answer_local(
        &self,
        u: &Unique,
        entry: &Entry,
        stale: bool,
    ) -> Option<Result<Resolution, ResolveError>> {
        let raw = AnswerStore::decode(entry)?;
        self.client
            .inner
            .finish_stored(&u.canonical, u.uri.project(), raw, &self.store, stale)
    }

    /// The stale answer to give instead of `error` when the server is unavailable, else the
    /// error for this URI.
    fn fall_back(
        &self,
        u: &Unique,
        stale: Option<&Entry>,
        error: ClientError,
    ) -> Result<Resolution, ResolveError> {
        match stale.and_then(|s| self.answer_local(u, s, true)) {
            Some(a) if error.is_unavailable() => a,
            _ => {
                // The server is failing and nothing is cached: a prepared index still knows.
                // Its "no such entity" and per-URI errors are answers too; only "not prepared"
                // leaves the request's own error standing.
                let indexed = match &self.local {
                    Some(local) if error.is_unavailable() => {
                        match local.answer(&u.canonical, &u.uri) {
                            Err(ResolveError::NotPrepared { .. }) => None,
                            answer => Some(answer),
                        }
                    }
                    _ => None,
                };
                indexed.unwrap_or(Err(ResolveError::Request {
                    uri: u.canonical.clone(),
                    error,
                }))
            }
        }
    }

    /// The answer for a URI the cache cannot give while offline: the prepared index's, or an
    /// error saying nothing was resolved or prepared for it.
    fn offline_miss(&self, u: &Unique) -> Result<Resolution, ResolveError> {
        match &self.local {
            Some(local) => local.answer(&u.canonical, &u.uri),
            None => Err(ResolveError::Offline {
                uri: u.canonical.clone(),
            }),
        }
    }

    /// The synchronous part: answers what the cache can answer now; the rest is pending
    /// (index, the stale entry to fall back on).
    fn lookup_all(&self, unique: &[Unique]) -> (Answers, Pending) {
        let mode = self.mode();
        let now = SystemTime::now();
        let mut answers = Vec::with_capacity(unique.len());
        let mut pending = Vec::new();
        for (i, u) in unique.iter().enumerate() {
            let entry = self.store.get_entry(&self.key(u));
            let answer = match (&entry, mode) {
                (Some(e), Mode::Offline) => {
                    let stale = !e.is_fresh_at(now);
                    self.answer_local(u, e, stale)
                }
                (Some(e), Mode::Online) if e.is_fresh_at(now) => self.answer_local(u, e, false),
                (None, Mode::Offline) => Some(self.offline_miss(u)),
                _ => None,
            };
            match answer {
                Some(a) => answers.push(Some(a)),
                None if mode == Mode::Offline => {
                    // Cached, but the roots for its path are not: only the index can answer.
                    answers.push(Some(self.offline_miss(u)));
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
        mut answers: Answers,
        pending: Pending,
    ) -> Answers {
        let mode = self.mode();
        let now = SystemTime::now();
        // A fresh answer that lacked only this site's roots (shared by a process of another
        // site through a shared tier, which keeps roots local): fetch the roots, not the answer.
        // Asked once per project and call, so a failing server costs one wait, not one per URI.
        let mut rest = Vec::with_capacity(pending.len());
        let mut roots_known: std::collections::HashMap<&str, bool> = Default::default();
        for (i, stale) in pending {
            let u = &unique[i];
            if mode == Mode::Online
                && let Some(fresh) = stale.as_ref().filter(|e| e.is_fresh_at(now))
            {
                let project = u.uri.project();
                let known = match roots_known.get(project) {
                    Some(known) => *known,
                    None => {
                        let known = self
                            .client
                            .inner
                            .project_roots(project, Some(&self.store), false)
                            .await
                            .is_ok();
                        roots_known.insert(project, known);
                        known
                    }
                };
                if known && let Some(a) = self.answer_local(u, fresh, false) {
                    answers[i] = Some(a);
                    continue;
                }
            }
            rest.push((i, stale));
        }
        // Join lookups already under way; lead the rest.
        let mut leads = Vec::new();
        let mut follows = Vec::new();
        let mut waiting = Vec::new();
        for (i, stale) in rest {
            let u = &unique[i];
            let key = self.key(u);
            // A leader that finished since our lookup wrote the cache before it left the
            // flights: look again so we don't ask a second time.
            let vacant = || {
                let fresh = self.store.get_entry(&key).filter(|e| e.is_fresh_at(now))?;
                self.answer_local(u, &fresh, false)
            };
            match self.flights.join(&key, vacant) {
                Joined::Ready(a) => answers[i] = Some(a),
                Joined::Lead(lead) => {
                    leads.push((i, lead));
                    waiting.push((i, stale));
                }
                Joined::Follow(follow) => {
                    follows.push((i, follow));
                    waiting.push((i, stale));
                }
            }
        }
        let mut results = std::collections::HashMap::new();
        if !leads.is_empty() {
            let epoch = self.store.epoch();
            let uris: Vec<String> = leads
                .iter()
                .map(|(i, _)| unique[*i].canonical.clone())
                .collect();
            let fetched = self.client.inner.fetch_rootless(&uris).await;
            let mut writes = Vec::new();
            let mut failure: Option<String> = None;
            for ((i, lead), r) in leads.iter().zip(fetched) {
                match &r {
                    Ok(Rootless::Entities(e)) => {
                        writes.push((lead.key().clone(), self.store.entry(&unique[*i].uri, e)));
                    }
                    Err(e) if e.is_unavailable() => {
                        failure.get_or_insert_with(|| e.to_string());
                    }
                    _ => {}
                }
                lead.send(r.clone());
                results.insert(*i, r);
            }
            // Stored before the leads leave the flights, so a later caller finds it.
            self.store.put_fetched(writes, epoch);
            if let Some(what) = failure {
                *self.failed_at.lock() = Some(Instant::now());
                if let Some(m) = &self.monitor {
                    m.report_failure(what);
                }
            }
        }
        drop(leads);
        for (i, follow) in follows {
            let r = follow.wait().await.unwrap_or_else(|| {
                Err(ClientError::Runtime(
                    "the concurrent lookup of this URI was cancelled".into(),
                ))
            });
            results.insert(i, r);
        }
        for (i, stale) in waiting {
            let u = &unique[i];
            let r = results
                .remove(&i)
                .unwrap_or_else(|| Err(ClientError::Runtime("no answer".into())));
            let answer = match r {
                Ok(raw) => {
                    let offline = mode == Mode::Offline;
                    let finished = self
                        .client
                        .inner
                        .finish_fetched(
                            &u.canonical,
                            u.uri.project(),
                            raw,
                            Some(&self.store),
                            offline,
                        )
                        .await;
                    match finished {
                        Err(ResolveError::Request { error, .. }) => {
                            self.fall_back(u, stale.as_ref(), error)
                        }
                        other => other,
                    }
                }
                Err(error) => self.fall_back(u, stale.as_ref(), error),
            };
            answers[i] = Some(answer);
        }
        answers
    }

    /// Drops moving and negative answers (of one project, or of every project of this server).
    fn invalidate(&self, project: Option<&str>) {
        match self.store.invalidate(project) {
            Ok(n) => {
                tracing::debug!(target: "ayon_client", ?project, removed = n, "dropped moving answers after an entity event")
            }
            Err(e) => {
                tracing::warn!(target: "ayon_client", ?project, error = %e, "could not drop moving answers")
            }
        }
    }

    fn on_event(&self, event: &ServerEvent) {
        if is_invalidating(&event.topic) {
            self.invalidate(event.project.as_deref());
            if let (Some(local), Some(project)) = (&self.local, event.project.as_deref()) {
                local.follow(&self.client, project);
            }
        }
    }
}

fn spawn_invalidator(
    inner: std::sync::Weak<OfflineInner>,
    mut events: tokio::sync::broadcast::Receiver<ServerEvent>,
) -> Option<tokio::task::AbortHandle> {
    bridge::spawn(async move {
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
    })
}
