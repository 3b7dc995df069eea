//! The async server client: `/api/info`, site roots, batch `/api/resolve`, on `reqwest` driven by
//! the library-owned runtime of `ayon-connectivity`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::batch::{Plan, UriInput, chunks};
use crate::config::{ClientBuilder, ClientConfig, Credentials, Platform};
use crate::error::{ClientError, ConfigError, ResolveError};
use crate::resolution::{Resolution, ResolvedEntity, Source};
use crate::roots::{SiteRoots, substitute_roots};
use crate::wire::{ErrorBody, LoginRequest, LoginResponse, ResolveItem, ResolveRequest};

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

/// The rootless server answer for one distinct URI: what the cache stores.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rootless {
    /// `entities` as the server sent them (paths with `{root[NAME]}`), possibly empty.
    Entities(Arc<[ResolvedEntity]>),
    /// A per-URI error from the server (not cached as data).
    Error(String),
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
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    /// `config.server_url`, normalised: what cache namespaces are keyed by.
    pub(crate) server_url: ayon_site::ServerUrl,
    /// The HTTP client and the process it was built in (rebuilt in a forked child).
    http: Mutex<Option<(u32, reqwest::Client)>>,
    /// Session token obtained by logging in.
    login_token: RwLock<Option<String>>,
    login_lock: tokio::sync::Mutex<()>,
    /// Set by the first 401: the credential is not used again.
    auth_failure: RwLock<Option<String>>,
    /// The site was registered by an authenticated `GET /api/info` with the site headers.
    site_registered: AtomicBool,
    /// The server refuses our site even after registering: resolve without the site header.
    site_unusable: AtomicBool,
    /// The site's platform as the server reports it.
    site_platform: RwLock<Option<Platform>>,
    /// Site roots per project (lower-cased name).
    roots: RwLock<HashMap<String, Arc<SiteRoots>>>,
    roots_lock: tokio::sync::Mutex<()>,
}

/// What a request answered (any status but 401, which becomes [`ClientError::Auth`]).
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn detail(&self) -> String {
        ErrorBody::detail_from(&String::from_utf8_lossy(&self.body))
    }
}

/// One request as the client sends it; cloned for each retry.
#[derive(Clone)]
struct Exchange<'a> {
    method: Method,
    path: &'a str,
    query: &'a [(&'a str, &'a str)],
    body: Option<Vec<u8>>,
    site: SiteHeader,
}

impl<'a> Exchange<'a> {
    fn get(path: &'a str, query: &'a [(&'a str, &'a str)], site: SiteHeader) -> Self {
        Exchange {
            method: Method::GET,
            path,
            query,
            body: None,
            site,
        }
    }

    fn post(path: &'a str, body: Vec<u8>, site: SiteHeader) -> Self {
        Exchange {
            method: Method::POST,
            path,
            query: &[],
            body: Some(body),
            site,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SiteHeader {
    /// Send the site id (when configured and not refused).
    Send,
    /// Send no site id.
    Omit,
}

impl Client {
    /// Starts a configuration for the server at `server_url`.
    pub fn builder(server_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(server_url)
    }

    /// A client for a checked configuration. No network I/O happens here.
    pub fn new(config: ClientConfig) -> Result<Client, ConfigError> {
        let server_url = ayon_site::ServerUrl::parse(&config.server_url)
            .map_err(|_| ConfigError::BadServerUrl(config.server_url.clone()))?;
        let http = build_http(&config)?;
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                server_url,
                http: Mutex::new(Some((std::process::id(), http))),
                login_token: RwLock::new(None),
                login_lock: tokio::sync::Mutex::new(()),
                auth_failure: RwLock::new(None),
                site_registered: AtomicBool::new(false),
                site_unusable: AtomicBool::new(false),
                site_platform: RwLock::new(None),
                roots: RwLock::new(HashMap::new()),
                roots_lock: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The platform whose separators and roots apply: the site's as the server knows it, else
    /// the configured one.
    pub fn effective_platform(&self) -> Platform {
        self.inner
            .site_platform
            .read()
            .unwrap_or(self.inner.config.platform)
    }

    /// `GET /api/info` with the credential and the four `x-ayon-*` site headers, which also
    /// registers this site on the server (as ayon-python-api does on connect).
    pub async fn info(&self) -> Result<ServerInfo, ClientError> {
        let this = self.clone();
        on_runtime(async move { this.inner.info().await }).await
    }

    /// The roots of `project` for this site (`{"work": "/mnt/projects"}`), fetched once per
    /// project and kept.
    pub async fn site_roots(&self, project: &str) -> Result<Arc<SiteRoots>, ClientError> {
        let this = self.clone();
        let project = project.to_owned();
        on_runtime(async move { this.inner.site_roots(&project).await }).await
    }

    /// Resolves a batch: one answer per input, in input order. Duplicates are sent once, at most
    /// 200 URIs go in one request, and URIs our parser rejects never reach the server.
    pub async fn resolve<T: UriInput>(
        &self,
        inputs: &[T],
    ) -> Vec<Result<Resolution, ResolveError>> {
        let plan = Plan::new(inputs);
        let canon: Vec<String> = plan.unique.iter().map(|u| u.canonical.clone()).collect();
        let projects: Vec<String> = plan
            .unique
            .iter()
            .map(|u| u.uri.project().to_owned())
            .collect();
        let this = self.clone();
        let answers = on_runtime(async move {
            let rootless = this.inner.fetch_rootless(&canon).await;
            let mut out = Vec::with_capacity(canon.len());
            for ((uri, project), answer) in canon.iter().zip(&projects).zip(rootless) {
                let r = match answer {
                    Ok(rootless) => {
                        this.inner
                            .finish(uri, project, rootless, Source::Server)
                            .await
                    }
                    Err(error) => Err(ResolveError::Request {
                        uri: uri.clone(),
                        error,
                    }),
                };
                out.push(Some(r));
            }
            Ok(out)
        })
        .await;
        match answers {
            Ok(answers) => plan.assemble(answers, |r: Resolution, input| {
                Resolution::new(input.to_owned(), r.entities().into(), r.source())
            }),
            Err(error) => {
                let n = plan.unique.len();
                plan.assemble(
                    (0..n)
                        .map(|_| {
                            Some(Err(ResolveError::Request {
                                uri: String::new(),
                                error: error.clone(),
                            }))
                        })
                        .collect(),
                    |r, _| r,
                )
            }
        }
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
        let c = &self.inner.config;
        let chunks = n.div_ceil(c.batch_size.max(1)).max(1) as u32;
        let attempts = c.retry.max_retries as u32 + 1;
        let per_chunk =
            (c.request_timeout + c.connect_timeout) * attempts + c.retry.max_delay * 2 * attempts;
        per_chunk * (chunks + 2)
    }

    /// Blocking [`info`](Self::info) for synchronous hosts.
    pub fn info_blocking(&self) -> Result<ServerInfo, ClientError> {
        let this = self.clone();
        block(
            async move { this.inner.info().await },
            self.blocking_deadline(1),
            &self.inner.config.server_url,
        )
    }

    /// Blocking [`site_roots`](Self::site_roots) for synchronous hosts.
    pub fn site_roots_blocking(&self, project: &str) -> Result<Arc<SiteRoots>, ClientError> {
        let this = self.clone();
        let project = project.to_owned();
        block(
            async move { this.inner.site_roots(&project).await },
            self.blocking_deadline(1),
            &self.inner.config.server_url,
        )
    }

    /// Blocking [`resolve`](Self::resolve): safe from many threads at once, from a forked child,
    /// and from inside a caller's tokio runtime (it runs on the library-owned runtime).
    pub fn resolve_blocking<T: UriInput>(
        &self,
        inputs: &[T],
    ) -> Vec<Result<Resolution, ResolveError>> {
        let owned: Vec<String> = inputs.iter().map(|i| i.as_input().into_owned()).collect();
        let this = self.clone();
        let deadline = self.blocking_deadline(owned.len());
        let n = owned.len();
        let run = async move { Ok(this.resolve(&owned).await) };
        match block(run, deadline, &self.inner.config.server_url) {
            Ok(v) => v,
            Err(error) => {
                let owned: Vec<String> = inputs.iter().map(|i| i.as_input().into_owned()).collect();
                debug_assert_eq!(owned.len(), n);
                owned
                    .into_iter()
                    .map(|uri| {
                        Err(ResolveError::Request {
                            uri,
                            error: error.clone(),
                        })
                    })
                    .collect()
            }
        }
    }

    /// True once the server rejected the credential (no more requests are made with it).
    pub fn auth_failed(&self) -> bool {
        self.inner.auth_failure.read().is_some()
    }
}

/// Runs `fut` on the library-owned runtime, so connections live on it even when the caller's
/// own runtime goes away.
async fn on_runtime<F, T>(fut: F) -> Result<T, ClientError>
where
    F: Future<Output = Result<T, ClientError>> + Send + 'static,
    T: Send + 'static,
{
    let handle = ayon_runtime::handle().map_err(|e| ClientError::Runtime(e.to_string()))?;
    match handle.spawn(fut).await {
        Ok(r) => r,
        Err(e) => Err(ClientError::Runtime(format!("request task ended: {e}"))),
    }
}

/// Runs `fut` on the library runtime from synchronous code, waiting at most `deadline`.
fn block<F, T>(fut: F, deadline: Duration, server: &str) -> Result<T, ClientError>
where
    F: Future<Output = Result<T, ClientError>> + Send + 'static,
    T: Send + 'static,
{
    match ayon_runtime::block_on(fut, deadline) {
        Ok(r) => r,
        Err(ayon_runtime::RuntimeError::Timeout(after)) => Err(ClientError::Timeout {
            server: server.to_owned(),
            after,
        }),
        Err(e) => Err(ClientError::Runtime(e.to_string())),
    }
}

fn build_http(config: &ClientConfig) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .user_agent(concat!("ayon-client/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConfigError::Http(error_chain(&e)))
}

/// The error and its causes in one line (reqwest's Display alone hides "connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn is_site_not_found(answer: &Answer) -> bool {
    answer.status == 400 && answer.detail().starts_with("Site not found")
}

fn valid_project_name(p: &str) -> bool {
    !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Inner {
    fn server(&self) -> String {
        self.config.server_url.clone()
    }

    /// The HTTP client for this process (a forked child gets a fresh one: the parent's pooled
    /// connections belong to a runtime that does not exist there).
    fn http(&self) -> Result<reqwest::Client, ClientError> {
        let pid = std::process::id();
        let mut slot = self.http.lock();
        if let Some((p, c)) = slot.as_ref()
            && *p == pid
        {
            return Ok(c.clone());
        }
        let c = build_http(&self.config).map_err(|e| ClientError::Runtime(e.to_string()))?;
        *slot = Some((pid, c.clone()));
        Ok(c)
    }

    fn headers(&self, site: SiteHeader, token: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(HeaderName::from_static(name), v);
            }
        };
        put("x-ayon-platform", self.config.platform.as_str());
        put("x-ayon-hostname", &self.config.hostname);
        put("x-ayon-version", &self.config.client_version);
        if site == SiteHeader::Send
            && !self.site_unusable.load(Ordering::Relaxed)
            && let Some(s) = &self.config.site_id
        {
            put("x-ayon-site-id", s);
        }
        match &self.config.credentials {
            Credentials::ApiKey(k) => put("x-api-key", k),
            Credentials::Token(t) => put("authorization", &format!("Bearer {t}")),
            Credentials::Login { .. } => {
                if let Some(t) = token {
                    put("authorization", &format!("Bearer {t}"));
                }
            }
            Credentials::None => {}
        }
        if let Some(v) = h.get("authorization").cloned() {
            let mut v = v;
            v.set_sensitive(true);
            h.insert(reqwest::header::AUTHORIZATION, v);
        }
        if let Some(v) = h.get("x-api-key").cloned() {
            let mut v = v;
            v.set_sensitive(true);
            h.insert(HeaderName::from_static("x-api-key"), v);
        }
        h
    }

    fn auth_error(&self, detail: String) -> ClientError {
        ClientError::Auth {
            server: self.server(),
            detail,
        }
    }

    /// The session token for `Login` credentials, logging in once.
    async fn login_token(&self) -> Result<Option<String>, ClientError> {
        let Credentials::Login { name, password } = &self.config.credentials else {
            return Ok(None);
        };
        if let Some(t) = self.login_token.read().clone() {
            return Ok(Some(t));
        }
        let _guard = self.login_lock.lock().await;
        if let Some(t) = self.login_token.read().clone() {
            return Ok(Some(t));
        }
        if let Some(d) = self.auth_failure.read().clone() {
            return Err(self.auth_error(d));
        }
        let body = serde_json::to_vec(&LoginRequest { name, password })
            .map_err(|e| ClientError::Runtime(e.to_string()))?;
        let answer = self
            .send_once(
                Exchange::post("/api/auth/login", body, SiteHeader::Send),
                None,
            )
            .await?;
        if answer.status == 401 || answer.status == 403 {
            let d = answer.detail();
            *self.auth_failure.write() = Some(d.clone());
            return Err(self.auth_error(d));
        }
        if answer.status != 200 {
            return Err(self.http_error("POST /api/auth/login", &answer));
        }
        let parsed: LoginResponse = serde_json::from_slice(&answer.body)
            .map_err(|e| self.decode_error("POST /api/auth/login", &e))?;
        let token = parsed
            .token
            .ok_or_else(|| self.decode_error("POST /api/auth/login", &"no token in the answer"))?;
        *self.login_token.write() = Some(token.clone());
        Ok(Some(token))
    }

    fn http_error(&self, route: &str, answer: &Answer) -> ClientError {
        ClientError::Http {
            server: self.server(),
            route: route.to_owned(),
            status: answer.status,
            detail: answer.detail(),
        }
    }

    fn decode_error(&self, route: &str, e: &dyn std::fmt::Display) -> ClientError {
        ClientError::Decode {
            server: self.server(),
            route: route.to_owned(),
            detail: e.to_string(),
        }
    }

    /// One HTTP exchange, no retry.
    async fn send_once(
        &self,
        ex: Exchange<'_>,
        token: Option<&str>,
    ) -> Result<Answer, ClientError> {
        let http = self.http()?;
        let url = format!("{}{}", self.config.server_url, ex.path);
        let mut req = http
            .request(ex.method, &url)
            .headers(self.headers(ex.site, token));
        if !ex.query.is_empty() {
            req = req.query(ex.query);
        }
        if let Some(b) = ex.body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b);
        }
        let map = |e: reqwest::Error| {
            if e.is_timeout() {
                ClientError::Timeout {
                    server: self.server(),
                    after: self.config.request_timeout,
                }
            } else {
                ClientError::Transport {
                    server: self.server(),
                    detail: error_chain(&e),
                }
            }
        };
        let resp = req.send().await.map_err(map)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(map)?.to_vec();
        Ok(Answer { status, body })
    }

    /// A request with the credential: 401 marks the credential dead (one `Auth` error, no more
    /// requests), 503 is retried with the configured backoff and jitter.
    async fn send(&self, ex: Exchange<'_>) -> Result<Answer, ClientError> {
        if let Some(d) = self.auth_failure.read().clone() {
            return Err(self.auth_error(d));
        }
        let token = self.login_token().await?;
        let mut delays = self.config.retry.delays();
        loop {
            let answer = self.send_once(ex.clone(), token.as_deref()).await?;
            match answer.status {
                401 => {
                    let d = answer.detail();
                    tracing::warn!(target: "ayon_client", server = %self.config.server_url, detail = %d, "credential rejected; not using it again");
                    *self.auth_failure.write() = Some(d.clone());
                    return Err(self.auth_error(d));
                }
                503 => match delays.next() {
                    Some(delay) => {
                        tracing::debug!(target: "ayon_client", ?delay, path = ex.path, "server busy (503), retrying");
                        tokio::time::sleep(delay).await;
                    }
                    None => return Ok(answer),
                },
                _ => return Ok(answer),
            }
        }
    }

    async fn info(&self) -> Result<ServerInfo, ClientError> {
        let route = "GET /api/info";
        let answer = self
            .send(Exchange::get("/api/info", &[], SiteHeader::Send))
            .await?;
        if answer.status != 200 {
            return Err(self.http_error(route, &answer));
        }
        let raw: serde_json::Value =
            serde_json::from_slice(&answer.body).map_err(|e| self.decode_error(route, &e))?;
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
        let site_platform = self.config.site_id.as_deref().and_then(|id| {
            raw.get("sites")?
                .as_array()?
                .iter()
                .find(|s| s.get("id").and_then(|v| v.as_str()) == Some(id))
                .and_then(|s| s.get("platform")?.as_str().and_then(Platform::parse))
        });
        if user.is_some() && self.config.site_id.is_some() {
            self.site_registered.store(true, Ordering::Relaxed);
        }
        if let Some(p) = site_platform {
            *self.site_platform.write() = Some(p);
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
        if self.config.site_id.is_none() || self.site_registered.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.info().await.map(|_| ())
    }

    pub(crate) fn cached_roots(&self, project: &str) -> Option<Arc<SiteRoots>> {
        self.roots.read().get(&project.to_lowercase()).cloned()
    }

    pub(crate) fn remember_roots(&self, project: &str, roots: Arc<SiteRoots>) {
        self.roots.write().insert(project.to_lowercase(), roots);
    }

    pub(crate) async fn site_roots(&self, project: &str) -> Result<Arc<SiteRoots>, ClientError> {
        if let Some(r) = self.cached_roots(project) {
            return Ok(r);
        }
        let _guard = self.roots_lock.lock().await;
        if let Some(r) = self.cached_roots(project) {
            return Ok(r);
        }
        let roots = Arc::new(self.fetch_site_roots(project).await?);
        self.remember_roots(project, roots.clone());
        Ok(roots)
    }

    /// `GET /api/projects/{p}/siteRoots?platform=..` with the site header: a registered site's
    /// platform and the user's overrides win; an unknown site falls back to our platform.
    async fn fetch_site_roots(&self, project: &str) -> Result<SiteRoots, ClientError> {
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
        let platform = self.config.platform.as_str();
        let query = [("platform", platform)];
        let mut answer = self
            .send(Exchange::get(&path, &query, SiteHeader::Send))
            .await?;
        if is_site_not_found(&answer) {
            // Not reached in practice (the platform param covers unknown sites), kept for safety.
            answer = self
                .send(Exchange::get(&path, &query, SiteHeader::Omit))
                .await?;
        }
        if answer.status != 200 {
            return Err(self.http_error(&route, &answer));
        }
        serde_json::from_slice(&answer.body).map_err(|e| self.decode_error(&route, &e))
    }

    /// Sends distinct canonical URIs in chunks and returns one rootless answer per URI (a whole
    /// request failure is that chunk's answer for each of its URIs).
    pub(crate) async fn fetch_rootless(
        &self,
        uris: &[String],
    ) -> Vec<Result<Rootless, ClientError>> {
        let mut out = Vec::with_capacity(uris.len());
        for chunk in chunks(uris, self.config.batch_size) {
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
        let post = |site| self.send(Exchange::post("/api/resolve", body.clone(), site));
        let mut answer = post(SiteHeader::Send).await?;
        if is_site_not_found(&answer) {
            tracing::info!(target: "ayon_client", site = ?self.config.site_id, "site not registered; registering it");
            self.site_registered.store(false, Ordering::Relaxed);
            if self.register_site().await.is_ok() {
                answer = post(SiteHeader::Send).await?;
            }
            if is_site_not_found(&answer) {
                tracing::warn!(target: "ayon_client", site = ?self.config.site_id, "server refuses the site; resolving without it");
                self.site_unusable.store(true, Ordering::Relaxed);
                answer = post(SiteHeader::Omit).await?;
            }
        }
        if answer.status != 200 {
            return Err(self.http_error(route, &answer));
        }
        let items: Vec<ResolveItem> =
            serde_json::from_slice(&answer.body).map_err(|e| self.decode_error(route, &e))?;
        if items.len() != uris.len() {
            return Err(self.decode_error(
                route,
                &format!("{} answers for {} URIs", items.len(), uris.len()),
            ));
        }
        Ok(items)
    }

    /// Turns a rootless answer into a [`Resolution`] with this site's roots (fetched if needed).
    pub(crate) async fn finish(
        &self,
        uri: &str,
        project: &str,
        rootless: Rootless,
        source: Source,
    ) -> Result<Resolution, ResolveError> {
        let entities = match rootless {
            Rootless::Error(message) => {
                return Err(ResolveError::ServerError {
                    uri: uri.to_owned(),
                    message,
                });
            }
            Rootless::Entities(e) if e.is_empty() => {
                return Err(ResolveError::NotFound {
                    uri: uri.to_owned(),
                });
            }
            Rootless::Entities(e) => e,
        };
        let needs_roots = entities
            .iter()
            .any(|e| e.file_path.as_deref().is_some_and(|p| p.contains("{root[")));
        let roots = if needs_roots {
            Some(
                self.site_roots(project)
                    .await
                    .map_err(|error| ResolveError::Request {
                        uri: uri.to_owned(),
                        error,
                    })?,
            )
        } else {
            None
        };
        apply_roots(
            uri,
            &entities,
            roots.as_deref(),
            self.site_platform.read().unwrap_or(self.config.platform),
            source,
        )
    }
}

/// Substitutes roots into every entity's path (any unknown root name is an error naming it).
pub(crate) fn apply_roots(
    uri: &str,
    entities: &[ResolvedEntity],
    roots: Option<&SiteRoots>,
    platform: Platform,
    source: Source,
) -> Result<Resolution, ResolveError> {
    let empty = SiteRoots::new();
    let roots = roots.unwrap_or(&empty);
    let mut out = Vec::with_capacity(entities.len());
    for e in entities {
        let mut e = e.clone();
        if let Some(p) = &e.file_path {
            let rooted =
                substitute_roots(p, roots, platform).map_err(|name| ResolveError::UnknownRoot {
                    uri: uri.to_owned(),
                    name,
                    path: p.clone(),
                })?;
            e.file_path = Some(rooted);
        }
        out.push(e);
    }
    Ok(Resolution::new(uri.to_owned(), out.into(), source))
}

impl ClientBuilder {
    /// Checks the configuration and builds the client (no network I/O).
    pub fn build(self) -> Result<Client, ConfigError> {
        Client::new(self.build_config()?)
    }
}
