//! What the monitor connects to and how patiently.

use std::fmt;
use std::time::Duration;

use ayon_site::{Credential, ServerUrl, ServerUrlError};
use reqwest::Url;

/// Why a [`MonitorConfig`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The server URL is not an absolute `http(s)://host[:port][/path]` URL
    /// (see [`ServerUrl::parse`]).
    #[error("server URL `{url}` is not usable: {why}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// `/ws` needs a token or an API key to send anything.
    #[error("no token or API key given: the server's /ws sends nothing to unauthenticated clients")]
    MissingCredential,
    /// A duration that must be positive was zero.
    #[error("`{0}` must be greater than zero")]
    ZeroDuration(&'static str),
}

/// Everything the monitor needs; build it with [`MonitorConfig::builder`].
#[derive(Clone, Debug)]
pub struct MonitorConfig {
    pub(crate) server: ServerUrl,
    pub(crate) base_url: Url,
    pub(crate) ws_url: Url,
    pub(crate) credential: Credential,
    pub(crate) subscribe: Vec<String>,
    pub(crate) project: Option<String>,
    pub(crate) silence_window: Duration,
    pub(crate) backoff_initial: Duration,
    pub(crate) backoff_cap: Duration,
    pub(crate) auth_rejected_backoff: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) probe_timeout: Duration,
    pub(crate) confirm_auth_over_rest: bool,
    pub(crate) event_capacity: usize,
}

impl MonitorConfig {
    /// Starts a configuration for the server at `server_url` (`http(s)://...`, as ayon_api takes).
    pub fn builder(server_url: impl Into<String>) -> MonitorConfigBuilder {
        MonitorConfigBuilder {
            server_url: server_url.into(),
            credential: None,
            subscribe: vec!["entity.".to_owned()],
            project: None,
            silence_window: Duration::from_secs(15),
            backoff_initial: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(30),
            auth_rejected_backoff: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(5),
            confirm_auth_over_rest: true,
            event_capacity: 1024,
        }
    }

    /// The server's base URL (`http(s)://host:port/...`, with a trailing `/`).
    pub fn server_url(&self) -> &str {
        self.base_url.as_str()
    }

    /// The server, normalised (no trailing `/`): what the cache namespaces answers by.
    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    /// The websocket URL the monitor connects to (`ws(s)://host:port/.../ws`).
    pub fn ws_url(&self) -> &str {
        self.ws_url.as_str()
    }

    /// The silence window after which a quiet connection counts as dropped.
    pub fn silence_window(&self) -> Duration {
        self.silence_window
    }

    /// `path` (relative, e.g. `api/info`) under the base URL.
    pub(crate) fn api_url(&self, path: &str) -> Result<Url, String> {
        self.base_url
            .join(path)
            .map_err(|e| format!("bad URL for {path}: {e}"))
    }
}

/// Builder for [`MonitorConfig`]; every setting has the default the issue asks for.
#[derive(Clone)]
pub struct MonitorConfigBuilder {
    server_url: String,
    credential: Option<Credential>,
    subscribe: Vec<String>,
    project: Option<String>,
    silence_window: Duration,
    backoff_initial: Duration,
    backoff_cap: Duration,
    auth_rejected_backoff: Duration,
    connect_timeout: Duration,
    probe_timeout: Duration,
    confirm_auth_over_rest: bool,
    event_capacity: usize,
}

impl fmt::Debug for MonitorConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonitorConfigBuilder")
            .field("server_url", &self.server_url)
            .field("credential", &self.credential)
            .field("subscribe", &self.subscribe)
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

impl MonitorConfigBuilder {
    /// Authenticate with a session token (`Authorization: Bearer`).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.credential = Some(Credential::token(token));
        self
    }

    /// Authenticate with an API key; the monitor makes one REST call with it before `/ws`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.credential = Some(Credential::api_key(key));
        self
    }

    /// Authenticate with an explicit credential (e.g. from [`Credential::from_secret`]).
    pub fn credential(mut self, credential: Credential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// Topic prefixes to receive events for (`"*"` for all). Default: `["entity."]`.
    /// Heartbeats and `server.*` messages always arrive.
    pub fn subscribe<I, S>(mut self, topics: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subscribe = topics.into_iter().map(Into::into).collect();
        self
    }

    /// Only receive project-scoped events of this project.
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// How long a connection may stay quiet before it counts as dropped (default 15 s; the
    /// server sends a heartbeat every 5-6 s).
    pub fn silence_window(mut self, window: Duration) -> Self {
        self.silence_window = window;
        self
    }

    /// Reconnect delays: exponential from `initial`, capped at `cap`, with full jitter
    /// (defaults 250 ms and 30 s).
    pub fn backoff(mut self, initial: Duration, cap: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_cap = cap;
        self
    }

    /// Delay before retrying after the credentials were rejected (default 30 s, as ayon_api).
    pub fn auth_rejected_backoff(mut self, delay: Duration) -> Self {
        self.auth_rejected_backoff = delay;
        self
    }

    /// Limit for DNS + TCP + TLS + websocket handshake of one attempt (default 5 s). A booting
    /// server accepts TCP and hangs; this is what turns that into `Timeout`.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit for the REST auth check, `probe_now` pings and [`crate::probe`] (default 5 s).
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = timeout;
        self
    }

    /// With a session token, confirm it with `GET /api/users/me` before `/ws` (default on), so
    /// the state turns online as soon as the handshake is done and a bad token is known at once
    /// instead of after the server's silent close. Off: online only on the first message.
    /// API keys always make this call (the server needs it before accepting the key on `/ws`).
    pub fn confirm_auth_over_rest(mut self, on: bool) -> Self {
        self.confirm_auth_over_rest = on;
        self
    }

    /// How many events a slow event subscriber may fall behind before it skips (default 1024).
    pub fn event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity.max(1);
        self
    }

    /// Checks the settings and derives the websocket URL.
    pub fn build(self) -> Result<MonitorConfig, ConfigError> {
        let bad = |why: &str| ConfigError::BadUrl {
            url: self.server_url.clone(),
            why: why.to_owned(),
        };
        let server = ServerUrl::parse(&self.server_url).map_err(|e| match e {
            ServerUrlError::Scheme { .. } => bad("the scheme must be http or https"),
            ServerUrlError::NoHost { .. } => bad("it has no host"),
            other => bad(&other.to_string()),
        })?;
        // `Url::join` needs the trailing `/` to keep a sub-path (`/ayon/` + `api/info`).
        let base = Url::parse(&format!("{server}/")).map_err(|e| bad(&e.to_string()))?;
        let ws_url = Url::parse(&server.ws_url()).map_err(|e| bad(&e.to_string()))?;
        let credential = self.credential.ok_or(ConfigError::MissingCredential)?;
        for (name, d) in [
            ("silence_window", self.silence_window),
            ("backoff initial", self.backoff_initial),
            ("backoff cap", self.backoff_cap),
            ("connect_timeout", self.connect_timeout),
            ("probe_timeout", self.probe_timeout),
        ] {
            if d.is_zero() {
                return Err(ConfigError::ZeroDuration(name));
            }
        }
        Ok(MonitorConfig {
            server,
            base_url: base,
            ws_url,
            credential,
            subscribe: self.subscribe,
            project: self.project,
            silence_window: self.silence_window,
            backoff_initial: self.backoff_initial,
            backoff_cap: self.backoff_cap.max(self.backoff_initial),
            auth_rejected_backoff: self.auth_rejected_backoff,
            connect_timeout: self.connect_timeout,
            probe_timeout: self.probe_timeout,
            confirm_auth_over_rest: self.confirm_auth_over_rest,
            event_capacity: self.event_capacity,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_ws_url_and_keeps_paths() {
        let c = MonitorConfig::builder("http://127.0.0.1:5000")
            .token("t")
            .build()
            .expect("ok");
        assert_eq!(c.ws_url(), "ws://127.0.0.1:5000/ws");
        let c = MonitorConfig::builder("https://ayon.example/sub")
            .api_key("k")
            .build()
            .expect("ok");
        assert_eq!(c.ws_url(), "wss://ayon.example/sub/ws");
        assert_eq!(
            c.api_url("api/info").expect("join").as_str(),
            "https://ayon.example/sub/api/info"
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            MonitorConfig::builder("ftp://x").token("t").build(),
            Err(ConfigError::BadUrl { .. })
        ));
        assert!(matches!(
            MonitorConfig::builder("not a url").token("t").build(),
            Err(ConfigError::BadUrl { .. })
        ));
        assert_eq!(
            MonitorConfig::builder("http://x").build().err(),
            Some(ConfigError::MissingCredential)
        );
        assert_eq!(
            MonitorConfig::builder("http://x")
                .token("t")
                .silence_window(Duration::ZERO)
                .build()
                .err(),
            Some(ConfigError::ZeroDuration("silence_window"))
        );
    }

    #[test]
    fn debug_hides_credentials() {
        let token = "a".repeat(64);
        let b = MonitorConfig::builder("http://x").token(token.clone());
        assert!(!format!("{b:?}").contains(&token));
        let c = b.build().expect("ok");
        assert!(!format!("{c:?}").contains(&token));
        assert!(matches!(
            Credential::from_secret(token),
            Credential::Token(_)
        ));
        assert!(matches!(
            Credential::from_secret("abcdef"),
            Credential::ApiKey(_)
        ));
    }
}
