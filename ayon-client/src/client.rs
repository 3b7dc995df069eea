//! The server client: `/api/info` and site registration, site roots, batch `/api/resolve`, over
//! the HTTP transport of `http.rs`, run on the library-owned runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::batch::{Answers, Plan, Unique, UriInput, chunks};
use crate::bridge::{block_on, on_runtime};
use ayon_site::{Platform, Roots};

use crate::config::{ClientBuilder, ClientConfig};
use crate::error::{ClientError, ConfigError, ResolveError};
use crate::finish::{Rootless, finish};
use crate::http::{Answer, Exchange, SiteHeader, Transport};
use crate::resolution::{Resolution, Source};
use crate::site::SiteState;
use crate::store::AnswerStore;
use crate::wire::{ResolveItem, ResolveRequest};

/// What `GET /api/info` told us.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    /// Server version (semver, possibly with build metadata such as `1.16.0+DEVELOP`).
    pub version: String,
    /// The user the credential belongs to (authenticated calls only).
    pub user: Option<String>,
    /// This client's site as the server now knows it (after registration), with its platform.
    pub site_platform: Option<Platform>,
    /// The whole answer, for callers that need more.
    pub raw: serde_json::Value,
}

/// An AYON server client. Cheap to clone; all clones share connections, credentials, the site
/// registration and the per-project roots.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.http.config())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    /// Requests, credential and headers.
    pub(crate) http: Transport,
    /// The site was registered by an authenticated `GET /api/info` with the site headers.
    site_registered: AtomicBool,
    /// The site's platform and each project's roots.
    site: SiteState,
}

impl Client {
    /// Starts a configuration for the server at `server_url`.
    pub fn builder(server_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(server_url)
    }

    /// A client for a configuration the builder checked. No network I/O happens here.
    fn new(config: ClientConfig) -> Result<Client, ConfigError> {
        Ok(Client {
            inner: Arc::new(Inner {
                site: SiteState::new(config.platform()),
                http: Transport::new(config)?,
                site_registered: AtomicBool::new(false),
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        self.inner.http.config()
    }

    /// The platform whose separators and roots apply: the site's as the server knows it, else
    /// the configured one.
    pub fn effective_platform(&self) -> Platform {
        self.inner.site.platform()
    }

    /// `GET /api/info` with the credential and the four `x-ayon-*` site headers, which also
    /// registers this site on the server (as ayon-python-api does on connect).
    pub async fn info(&self) -> Result<ServerInfo, ClientError> {
        let this = self.clone();
        on_runtime(async move { this.inner.info().await }).await?
    }

    /// The roots of `project` for this site (`{"work": "/mnt/projects"}`), fetched once per
    /// project and kept.
    pub async fn site_roots(&self, project: &str) -> Result<Arc<Roots>, ClientError> {
        let this = self.clone();
        let project = project.to_owned();
        on_runtime(async move { this.inner.site_roots(&project).await }).await?
    }

    /// Resolves a batch: one answer per input, in input order. Duplicates are sent once, at most
    /// 200 URIs go in one request, and URIs our parser rejects never reach the server.
    pub async fn resolve<T: UriInput>(
        &self,
        inputs: &[T],
    ) -> Vec<Result<Resolution, ResolveError>> {
        let plan = Plan::new(inputs);
        let run = self.inner.clone().resolve_unique(plan.unique.clone());
        let answers = match on_runtime(run).await {
            Ok(answers) => answers,
            Err(error) => plan.fail(&error),
        };
        plan.assemble(answers, Resolution::renamed)
    }

    /// Resolves one URI.
    pub async fn resolve_one(&self, uri: &str) -> Result<Resolution, ResolveError> {
        self.resolve(&[uri]).await.pop().unwrap_or_else(|| {
            Err(ResolveError::NotFound {
                uri: uri.to_owned(),
            })
        })
    }

    /// How long a blocking call for `n` distinct URIs may take at most: every chunk may use its
    /// request timeout on each retry, plus the retry delays and the roots/registration calls.
    /// A safety net only; each request has its own timeout.
    pub(crate) fn blocking_deadline(&self, n: usize) -> Duration {
        let c = &self.inner.http.config();
        let chunks = n.div_ceil(c.batch_size().max(1)).max(1) as u32;
        let attempts = c.retry().max_retries as u32 + 1;
        let per_chunk = (c.request_timeout() + c.connect_timeout()) * attempts
            + c.retry().max_delay * 2 * attempts;
        per_chunk * (chunks + 2)
    }

    /// Blocking [`info`](Self::info) for synchronous hosts.
    pub fn info_blocking(&self) -> Result<ServerInfo, ClientError> {
        let this = self.clone();
        block_on(
            async move { this.inner.info().await },
            self.blocking_deadline(1),
            self.inner.http.config().server_url().as_str(),
        )?
    }

    /// Blocking [`site_roots`](Self::site_roots) for synchronous hosts.
    pub fn site_roots_blocking(&self, project: &str) -> Result<Arc<Roots>, ClientError> {
        let this = self.clone();
        let project = project.to_owned();
        block_on(
            async move { this.inner.site_roots(&project).await },
            self.blocking_deadline(1),
            self.inner.http.config().server_url().as_str(),
        )?
    }

    /// Blocking [`resolve`](Self::resolve): safe from many threads at once, from a forked child,
    /// and from inside a caller's tokio runtime (it runs on the library-owned runtime).
    pub fn resolve_blocking<T: UriInput>(
        &self,
        inputs: &[T],
    ) -> Vec<Result<Resolution, ResolveError>> {
        let plan = Plan::new(inputs);
        let deadline = self.blocking_deadline(plan.slots.len());
        let run = self.inner.clone().resolve_unique(plan.unique.clone());
        let server = self.inner.http.config().server_url().as_str();
        let answers = match block_on(run, deadline, server) {
            Ok(answers) => answers,
            Err(error) => plan.fail(&error),
        };
        plan.assemble(answers, Resolution::renamed)
    }

    /// True once the server rejected the credential (no more requests are made with it).
    pub fn auth_failed(&self) -> bool {
        self.inner.http.auth_failed()
    }
}

fn is_site_not_found(answer: &Answer) -> bool {
    answer.status == 400 && answer.detail().starts_with("Site not found")
}

fn valid_project_name(p: &str) -> bool {
    !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Inner {
    fn server(&self) -> String {
        self.http.server()
    }

    async fn info(&self) -> Result<ServerInfo, ClientError> {
        let route = "GET /api/info";
        let answer = self
            .http
            .send(Exchange::get("/api/info", &[], SiteHeader::Send))
            .await?;
        if answer.status != 200 {
            return Err(self.http.http_error(route, &answer));
        }
        let raw: serde_json::Value =
            serde_json::from_slice(&answer.body).map_err(|e| self.http.decode_error(route, &e))?;
        let version = raw
            .get("version")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let user = raw
            .get("user")
            .and_then(|u| u.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_owned);
        let site_platform = self.http.config().site_id().and_then(|id| {
            raw.get("sites")?
                .as_array()?
                .iter()
                .find(|s| s.get("id").and_then(|v| v.as_str()) == Some(id))
                .and_then(|s| s.get("platform")?.as_str().and_then(Platform::parse))
        });
        if user.is_some() && self.http.config().site_id().is_some() {
            self.site_registered.store(true, Ordering::Relaxed);
        }
        if let Some(p) = site_platform {
            self.site.set_reported(p);
        }
        Ok(ServerInfo {
            version,
            user,
            site_platform,
            raw,
        })
    }

    /// Registers the site once (authenticated `GET /api/info` with the site headers).
    async fn register_site(&self) -> Result<(), ClientError> {
        if self.http.config().site_id().is_none() || self.site_registered.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.info().await.map(|_| ())
    }

    /// The roots of `project` known without the network: memory, then `store` (kept in memory
    /// once read).
    pub(crate) fn known_roots(
        &self,
        project: &str,
        store: Option<&AnswerStore>,
    ) -> Option<Arc<Roots>> {
        if let Some(r) = self.site.roots(project) {
            return Some(r);
        }
        let r = Arc::new(store?.roots(project)?);
        self.site.remember(project, r.clone());
        Some(r)
    }

    /// The roots of `project`: known ones, else (unless `offline`) asked of the server once and
    /// persisted to `store`.
    pub(crate) async fn project_roots(
        &self,
        project: &str,
        store: Option<&AnswerStore>,
        offline: bool,
    ) -> Result<Arc<Roots>, ClientError> {
        if let Some(r) = self.known_roots(project, store) {
            return Ok(r);
        }
        if offline {
            return Err(ClientError::Offline {
                server: self.server(),
                what: format!("site roots of project {project}"),
            });
        }
        let _guard = self.site.fetch_lock.lock().await;
        if let Some(r) = self.site.roots(project) {
            return Ok(r);
        }
        let roots = self.fetch_site_roots(project).await?;
        let roots = Arc::new(roots.with_platform(self.site.platform()));
        if let Some(store) = store
            && let Err(e) = store.put_roots(project, &roots)
        {
            tracing::warn!(target: "ayon_client", project, error = %e, "could not store site roots");
        }
        self.site.remember(project, roots.clone());
        Ok(roots)
    }

    async fn site_roots(&self, project: &str) -> Result<Arc<Roots>, ClientError> {
        self.project_roots(project, None, false).await
    }

    /// `GET /api/projects/{p}/siteRoots?platform=..` with the site header: a registered site's
    /// platform and the user's overrides win; an unknown site falls back to our platform.
    async fn fetch_site_roots(&self, project: &str) -> Result<Roots, ClientError> {
        let route = format!("GET /api/projects/{project}/siteRoots");
        if !valid_project_name(project) {
            return Err(ClientError::Http {
                server: self.server(),
                route,
                status: 400,
                detail: format!("invalid project name `{project}`"),
            });
        }
        let path = format!("/api/projects/{project}/siteRoots");
        let platform = self.http.config().platform().as_str();
        let query = [("platform", platform)];
        let mut answer = self
            .http
            .send(Exchange::get(&path, &query, SiteHeader::Send))
            .await?;
        if is_site_not_found(&answer) {
            // Not reached in practice (the platform param covers unknown sites), kept for safety.
            answer = self
                .http
                .send(Exchange::get(&path, &query, SiteHeader::Omit))
                .await?;
        }
        if answer.status != 200 {
            return Err(self.http.http_error(&route, &answer));
        }
        serde_json::from_slice(&answer.body).map_err(|e| self.http.decode_error(&route, &e))
    }

    /// Sends distinct canonical URIs in chunks and returns one rootless answer per URI (a whole
    /// request failure is that chunk's answer for each of its URIs).
    pub(crate) async fn fetch_rootless(
        &self,
        uris: &[String],
    ) -> Vec<Result<Rootless, ClientError>> {
        let mut out = Vec::with_capacity(uris.len());
        for chunk in chunks(uris, self.http.config().batch_size()) {
            match self.post_resolve(chunk).await {
                Ok(items) => out.extend(items.into_iter().map(|item| {
                    Ok(match item.error {
                        Some(e) => Rootless::Error(e),
                        None => Rootless::Entities(item.entities.into()),
                    })
                })),
                Err(e) => out.extend(chunk.iter().map(|_| Err(e.clone()))),
            }
        }
        out
    }

    /// One `POST /api/resolve` of at most 200 URIs with `resolveRoots=false`; an unregistered
    /// site is registered and the request repeated, and if the server still refuses the site
    /// the request goes without it (roots then come by platform).
    async fn post_resolve(&self, uris: &[String]) -> Result<Vec<ResolveItem>, ClientError> {
        let route = "POST /api/resolve";
        let body = serde_json::to_vec(&ResolveRequest {
            resolve_roots: false,
            uris,
        })
        .map_err(|e| ClientError::Runtime(e.to_string()))?;
        let post = |site| {
            self.http
                .send(Exchange::post("/api/resolve", body.clone(), site))
        };
        let mut answer = post(SiteHeader::Send).await?;
        if is_site_not_found(&answer) {
            tracing::info!(target: "ayon_client", site = ?self.http.config().site_id(), "site not registered; registering it");
            self.site_registered.store(false, Ordering::Relaxed);
            if self.register_site().await.is_ok() {
                answer = post(SiteHeader::Send).await?;
            }
            if is_site_not_found(&answer) {
                tracing::warn!(target: "ayon_client", site = ?self.http.config().site_id(), "server refuses the site; resolving without it");
                self.http.refuse_site();
                answer = post(SiteHeader::Omit).await?;
            }
        }
        if answer.status != 200 {
            return Err(self.http.http_error(route, &answer));
        }
        let items: Vec<ResolveItem> =
            serde_json::from_slice(&answer.body).map_err(|e| self.http.decode_error(route, &e))?;
        if items.len() != uris.len() {
            return Err(self.http.decode_error(
                route,
                &format!("{} answers for {} URIs", items.len(), uris.len()),
            ));
        }
        Ok(items)
    }

    /// Resolves distinct URIs through the server: one answer each, in order.
    async fn resolve_unique(self: Arc<Self>, unique: Vec<Unique>) -> Answers {
        let canon: Vec<String> = unique.iter().map(|u| u.canonical.clone()).collect();
        let raw = self.fetch_rootless(&canon).await;
        let mut out = Vec::with_capacity(unique.len());
        for (u, r) in unique.iter().zip(raw) {
            out.push(Some(match r {
                Ok(raw) => {
                    self.finish_fetched(&u.canonical, u.uri.project(), raw, None, false)
                        .await
                }
                Err(error) => Err(ResolveError::Request {
                    uri: u.canonical.clone(),
                    error,
                }),
            }));
        }
        out
    }

    /// A live answer with this site's roots, fetched if needed (unless `offline`) and persisted
    /// to `store`; a roots failure is a [`ResolveError::Request`].
    pub(crate) async fn finish_fetched(
        &self,
        uri: &str,
        project: &str,
        raw: Rootless,
        store: Option<&AnswerStore>,
        offline: bool,
    ) -> Result<Resolution, ResolveError> {
        let roots = if raw.needs_roots() {
            let roots = self
                .project_roots(project, store, offline)
                .await
                .map_err(|error| ResolveError::Request {
                    uri: uri.to_owned(),
                    error,
                })?;
            Some(roots)
        } else {
            None
        };
        finish(uri, raw, roots.as_deref(), Source::Server)
    }

    /// A stored answer with roots known without the network; `None` when they are not.
    pub(crate) fn finish_stored(
        &self,
        uri: &str,
        project: &str,
        raw: Rootless,
        store: &AnswerStore,
        stale: bool,
    ) -> Option<Result<Resolution, ResolveError>> {
        let roots = if raw.needs_roots() {
            Some(self.known_roots(project, Some(store))?)
        } else {
            None
        };
        Some(finish(uri, raw, roots.as_deref(), Source::Cache { stale }))
    }
}

impl ClientBuilder {
    /// Checks the configuration and builds the client (no network I/O).
    pub fn build(self) -> Result<Client, ConfigError> {
        Client::new(self.build_config()?)
    }
}
