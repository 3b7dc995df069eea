//! The HTTP exchange with the server: the `x-ayon-*` headers, the credential (logging in once,
//! never again after a 401), retries of 503, and one `reqwest` client per process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use ayon_site::Credential;

use crate::config::{ClientConfig, Credentials};
use crate::error::{ClientError, ConfigError};
use crate::wire::{ErrorBody, LoginRequest, LoginResponse};

/// The connection to one server with one credential. Shared by all clones of a client.
pub(crate) struct Transport {
    config: ClientConfig,
    /// The HTTP client and the process it was built in (rebuilt in a forked child).
    http: Mutex<Option<(u32, reqwest::Client)>>,
    /// Session token obtained by logging in.
    login_token: RwLock<Option<String>>,
    login_lock: tokio::sync::Mutex<()>,
    /// Set by the first 401: the credential is not used again.
    auth_failure: RwLock<Option<String>>,
    /// The server refuses our site even after registering: no site header from now on.
    site_refused: AtomicBool,
}

/// What a request answered (any status but 401, which becomes [`ClientError::Auth`]).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn detail(&self) -> String {
        ErrorBody::detail_from(&String::from_utf8_lossy(&self.body))
    }
}

/// One request as the client sends it; cloned for each retry.
#[derive(Clone)]
pub(crate) struct Exchange<'a> {
    method: Method,
    path: &'a str,
    query: &'a [(&'a str, &'a str)],
    body: Option<Vec<u8>>,
    site: SiteHeader,
}

impl<'a> Exchange<'a> {
    pub(crate) fn get(path: &'a str, query: &'a [(&'a str, &'a str)], site: SiteHeader) -> Self {
        Exchange {
            method: Method::GET,
            path,
            query,
            body: None,
            site,
        }
    }

    pub(crate) fn post(path: &'a str, body: Vec<u8>, site: SiteHeader) -> Self {
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
pub(crate) enum SiteHeader {
    /// Send the site id (when configured and not refused).
    Send,
    /// Send no site id.
    Omit,
}

impl Transport {
    /// The transport for a checked configuration (no I/O).
    pub(crate) fn new(config: ClientConfig) -> Result<Transport, ConfigError> {
        let http = build_http(&config)?;
        Ok(Transport {
            config,
            http: Mutex::new(Some((std::process::id(), http))),
            login_token: RwLock::new(None),
            login_lock: tokio::sync::Mutex::new(()),
            auth_failure: RwLock::new(None),
            site_refused: AtomicBool::new(false),
        })
    }

    /// The configuration in use.
    pub(crate) fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// True once the server rejected the credential.
    pub(crate) fn auth_failed(&self) -> bool {
        self.auth_failure.read().is_some()
    }

    /// Stops sending the site id: the server refuses it even after registering.
    pub(crate) fn refuse_site(&self) {
        self.site_refused.store(true, Ordering::Relaxed);
    }

    pub(crate) fn server(&self) -> String {
        self.config.server_url().as_str().to_owned()
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
        put("x-ayon-platform", self.config.platform().as_str());
        put("x-ayon-hostname", self.config.hostname());
        put("x-ayon-version", self.config.client_version());
        if site == SiteHeader::Send
            && !self.site_refused.load(Ordering::Relaxed)
            && let Some(s) = self.config.site_id()
        {
            put("x-ayon-site-id", s);
        }
        match self.config.credentials() {
            Credentials::Key(Credential::ApiKey(k)) => put("x-api-key", k.expose()),
            Credentials::Key(Credential::Token(t)) => {
                put("authorization", &format!("Bearer {}", t.expose()))
            }
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
        let Credentials::Login { name, password } = self.config.credentials() else {
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
        let login = LoginRequest {
            name,
            password: password.expose(),
        };
        let body = serde_json::to_vec(&login).map_err(|e| ClientError::Runtime(e.to_string()))?;
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

    pub(crate) fn http_error(&self, route: &str, answer: &Answer) -> ClientError {
        ClientError::Http {
            server: self.server(),
            route: route.to_owned(),
            status: answer.status,
            detail: answer.detail(),
        }
    }

    pub(crate) fn decode_error(&self, route: &str, e: &dyn std::fmt::Display) -> ClientError {
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
        let url = self.config.server_url().join(ex.path);
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
                    after: self.config.request_timeout(),
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

    /// `GET path` answered 200 with JSON; any other status is an [`ClientError::Http`].
    pub(crate) async fn get_json(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<(serde_json::Value, usize), ClientError> {
        let route = format!("GET {path}");
        let answer = self
            .send(Exchange::get(path, query, SiteHeader::Send))
            .await?;
        if answer.status != 200 {
            return Err(self.http_error(&route, &answer));
        }
        let value =
            serde_json::from_slice(&answer.body).map_err(|e| self.decode_error(&route, &e))?;
        Ok((value, answer.body.len()))
    }

    /// `POST /graphql` with `query` and `variables`; GraphQL `errors` become
    /// [`ClientError::Http`] naming the first message. Returns `data` and the body size.
    pub(crate) async fn graphql(
        &self,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<(serde_json::Value, usize), ClientError> {
        let route = "POST /graphql";
        let body = serde_json::to_vec(&serde_json::json!({"query": query, "variables": variables}))
            .map_err(|e| ClientError::Runtime(e.to_string()))?;
        let answer = self
            .send(Exchange::post("/graphql", body, SiteHeader::Send))
            .await?;
        if answer.status != 200 {
            return Err(self.http_error(route, &answer));
        }
        let mut value: serde_json::Value =
            serde_json::from_slice(&answer.body).map_err(|e| self.decode_error(route, &e))?;
        if let Some(message) = value
            .get("errors")
            .and_then(|e| e.get(0))
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
        {
            return Err(ClientError::Http {
                server: self.server(),
                route: route.to_owned(),
                status: answer.status,
                detail: message.to_owned(),
            });
        }
        Ok((value["data"].take(), answer.body.len()))
    }

    /// A request with the credential: 401 marks the credential dead (one `Auth` error, no more
    /// requests), 503 is retried with the configured backoff and jitter.
    pub(crate) async fn send(&self, ex: Exchange<'_>) -> Result<Answer, ClientError> {
        if let Some(d) = self.auth_failure.read().clone() {
            return Err(self.auth_error(d));
        }
        let token = self.login_token().await?;
        let mut delays = self.config.retry().delays();
        loop {
            let answer = self.send_once(ex.clone(), token.as_deref()).await?;
            match answer.status {
                401 => {
                    let d = answer.detail();
                    tracing::warn!(target: "ayon_client", server = %self.config.server_url(), detail = %d, "credential rejected; not using it again");
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
}

fn build_http(config: &ClientConfig) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout())
        .timeout(config.request_timeout())
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
