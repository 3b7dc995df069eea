//! The way to the real server: one `reqwest` client (no redirects followed, no decompression,
//! bodies streamed), a limit on the wait for the response head, and the one question the proxy
//! asks on its own (`GET /api/users/me`, once per credential).

use std::time::Duration;

use ayon_site::ServerUrl;
use hyper::Method;
use hyper::header::HeaderMap;

use crate::config::ProxyConfig;
use crate::error::ProxyError;

/// Why the server gave no answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The connection could not be made: the request never left.
    Connect(String),
    /// No response head within the limit.
    Timeout(Duration),
    /// The connection broke after the request was sent (it may have been applied).
    Broken(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Connect(e) => write!(f, "cannot connect: {e}"),
            Failure::Timeout(d) => write!(f, "no answer within {} ms", d.as_millis()),
            Failure::Broken(e) => write!(f, "connection broken: {e}"),
        }
    }
}

/// The HTTP client of one proxy.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    http: reqwest::Client,
    server: ServerUrl,
    timeout: Duration,
}

impl Upstream {
    pub(crate) fn new(config: &ProxyConfig) -> Result<Upstream, ProxyError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ProxyError::Start(format!("HTTP client: {e}")))?;
        Ok(Upstream {
            http,
            server: config.server.clone(),
            timeout: config.upstream_timeout,
        })
    }

    /// The limit on waiting for a response head (and for a recorded body).
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends one request; `path_and_query` is relative to the server's base URL. `limited`:
    /// the response head must come within the timeout (reads); a write is not limited here,
    /// because its upload (a published file) may take as long as it takes; its client's own
    /// timeout governs.
    pub(crate) async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: HeaderMap,
        body: reqwest::Body,
        limited: bool,
    ) -> Result<reqwest::Response, Failure> {
        let request = self
            .http
            .request(method, self.server.join(path_and_query))
            .headers(headers)
            .body(body)
            .send();
        let sent = if limited {
            tokio::time::timeout(self.timeout, request).await
        } else {
            Ok(request.await)
        };
        match sent {
            Err(_) => Err(Failure::Timeout(self.timeout)),
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) if e.is_connect() => Err(Failure::Connect(error_chain(&e))),
            Ok(Err(e)) if e.is_timeout() => Err(Failure::Timeout(self.timeout)),
            Ok(Err(e)) => Err(Failure::Broken(error_chain(&e))),
        }
    }

    /// The user the server says the credential in `auth` (the request's `authorization`,
    /// `x-api-key` and `cookie` headers) belongs to: `Ok(None)` when it refuses it.
    pub(crate) async fn user_of(&self, auth: HeaderMap) -> Result<Option<String>, Failure> {
        let r = self
            .send(
                Method::GET,
                "/api/users/me",
                auth,
                reqwest::Body::from(Vec::new()),
                true,
            )
            .await?;
        let status = r.status().as_u16();
        if status == 401 || status == 403 {
            return Ok(None);
        }
        if status >= 500 {
            return Err(Failure::Broken(format!("/api/users/me answered {status}")));
        }
        let body = tokio::time::timeout(self.timeout, r.bytes())
            .await
            .map_err(|_| Failure::Timeout(self.timeout))?
            .map_err(|e| Failure::Broken(error_chain(&e)))?;
        let me: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        Ok(me
            .get("name")
            .and_then(serde_json::Value::as_str)
            .filter(|_| status == 200)
            .map(str::to_owned))
    }
}

/// The error and its causes on one line (reqwest's top message alone says little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(c) = source {
        s.push_str(": ");
        s.push_str(&c.to_string());
        source = c.source();
    }
    s
}
