//! "Is it up?" with one unauthenticated `GET /api/info`, for hosts without a websocket.

use std::time::Duration;

use reqwest::Url;

use crate::state::OfflineReason;
use ayon_runtime::{self as runtime, RuntimeError};
use ayon_site::{ServerUrl, ServerUrlError};

/// What `GET /api/info` told us about the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerInfo {
    /// The server's version string, e.g. `1.16.0+DEVELOP`.
    pub version: String,
    /// Seconds since the server started, when reported.
    pub uptime: Option<f64>,
}

/// Why the server did not answer the probe.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The server URL could not be parsed.
    #[error("server URL `{url}` is not usable: {why}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What the parser said.
        why: String,
    },
    /// The server is unreachable, with the same reasons the monitor reports.
    #[error("server at {url} is unreachable: {reason}")]
    Unreachable {
        /// The probed URL.
        url: String,
        /// Why.
        reason: OfflineReason,
    },
    /// The answer was not the JSON `GET /api/info` gives.
    #[error("server at {url} answered something that is not AYON's /api/info: {why}")]
    NotAyon {
        /// The probed URL.
        url: String,
        /// What was wrong with the body.
        why: String,
    },
    /// The library runtime could not run the probe.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

impl ProbeError {
    /// The probe failure as an offline reason.
    pub fn reason(&self) -> OfflineReason {
        match self {
            ProbeError::Unreachable { reason, .. } => reason.clone(),
            ProbeError::Runtime(RuntimeError::Timeout(_)) => OfflineReason::Timeout,
            other => OfflineReason::Other(other.to_string()),
        }
    }
}

/// Maps a reqwest failure to an offline reason (refused, DNS, TLS, timeout, ...).
pub(crate) fn reason_from_reqwest(e: &reqwest::Error) -> OfflineReason {
    if e.is_timeout() {
        return OfflineReason::Timeout;
    }
    let chain = error_chain(e);
    if let Some(io) = find_io(e)
        && io.kind() == std::io::ErrorKind::ConnectionRefused
    {
        return OfflineReason::Refused;
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        OfflineReason::Dns(chain)
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        OfflineReason::Tls(chain)
    } else if lower.contains("connection refused") {
        OfflineReason::Refused
    } else if e.is_connect() || e.is_request() || e.is_body() {
        OfflineReason::ConnectionLost(chain)
    } else {
        OfflineReason::Other(chain)
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn find_io<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        current = err.source();
    }
    None
}

pub(crate) fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("ayon-connectivity/", env!("CARGO_PKG_VERSION")))
        .build()
        // Building only fails when the TLS backend cannot initialise; a default client then
        // reports the same failure on first use instead of panicking here.
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Probes `server_url` (`http(s)://host[:port]`) with `GET /api/info`, unauthenticated.
pub async fn probe(server_url: &str, timeout: Duration) -> Result<ServerInfo, ProbeError> {
    let client = http_client(timeout);
    probe_with(&client, server_url).await
}

pub(crate) async fn probe_with(
    client: &reqwest::Client,
    server_url: &str,
) -> Result<ServerInfo, ProbeError> {
    let bad = |why: String| ProbeError::BadUrl {
        url: server_url.to_owned(),
        why,
    };
    let server = ServerUrl::parse(server_url).map_err(|e| match e {
        ServerUrlError::Scheme { .. } => bad("the scheme must be http or https".to_owned()),
        other => bad(other.to_string()),
    })?;
    let url = Url::parse(&server.join("api/info")).map_err(|e| bad(e.to_string()))?;
    let unreachable = |reason| ProbeError::Unreachable {
        url: url.to_string(),
        reason,
    };
    let response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| unreachable(reason_from_reqwest(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(unreachable(OfflineReason::HttpStatus(status.as_u16())));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| unreachable(reason_from_reqwest(&e)))?;
    let not_ayon = |why: String| ProbeError::NotAyon {
        url: url.to_string(),
        why,
    };
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| not_ayon(e.to_string()))?;
    let version = value
        .get("version")
        .and_then(|v| v.as_str())
        .ok_or_else(|| not_ayon("no `version` string".to_owned()))?;
    Ok(ServerInfo {
        version: version.to_owned(),
        uptime: value.get("uptime").and_then(|v| v.as_f64()),
    })
}

/// [`probe`] for synchronous callers: runs on the library runtime with `timeout` overall.
pub fn probe_blocking(server_url: &str, timeout: Duration) -> Result<ServerInfo, ProbeError> {
    let url = server_url.to_owned();
    // A little slack so the request's own timeout (with its precise reason) fires first.
    let outer = timeout.saturating_add(Duration::from_millis(500));
    runtime::block_on(async move { probe(&url, timeout).await }, outer)?
}
