//! Client configuration: where the server is, who we are, and how long we are willing to wait.

use std::fmt;
use std::time::Duration;

use ayon_site::{Credential, Platform, Secret, ServerUrl, is_session_token};

use crate::error::ConfigError;

/// Default connect timeout: a dead host must not stall a DCC for long.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default timeout of one whole HTTP request (a 200-URI batch takes ~0.6 s on a real server).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many URIs go in one `/api/resolve` request: the server resolves a batch in one
/// transaction and guards its database pool with 503 (ayon-cpp-api uses the same size).
pub(crate) const MAX_BATCH: usize = 200;

/// How the client proves who it is; secrets never appear in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// An API key (`x-api-key`) or a session token (`Authorization: Bearer`).
    Key(Credential),
    /// A user name and password, exchanged for a session token by `POST /api/auth/login`.
    Login {
        /// The AYON user name.
        name: String,
        /// The user's password.
        password: Secret,
    },
    /// No credentials: only unauthenticated calls (`GET /api/info`) can work.
    None,
}

impl Credentials {
    /// The credential kind of a bare secret (`AYON_API_KEY`), by the one token rule of
    /// [`ayon_site::is_session_token`].
    pub fn from_secret(secret: &str) -> Credentials {
        Credentials::Key(Credential::from_secret(secret))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Key(c) => c.fmt(f),
            Credentials::Login { name, .. } => {
                write!(f, "Login {{ name: {name:?}, password: <redacted> }}")
            }
            Credentials::None => f.write_str("None"),
        }
    }
}

/// How whole-request failures that are worth repeating (503 "busy") are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = never retry).
    pub max_retries: usize,
    /// Delay before the first retry.
    pub min_delay: Duration,
    /// Cap on any one delay.
    pub max_delay: Duration,
    /// Randomize each delay so many clients don't retry in lockstep.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (tests, and callers that retry themselves).
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The delays between attempts, in order (random when `jitter` is on).
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        use backon::BackoffBuilder;
        let mut builder = backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries);
        if self.jitter {
            builder = builder.with_jitter();
        }
        builder.build()
    }
}

/// Everything a [`crate::Client`] needs, checked by [`ClientBuilder`] (the only way to make
/// one, so a config in hand is always valid). Read it through [`crate::Client::config`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    server_url: ServerUrl,
    settings: Settings,
}

/// The knobs of a configuration apart from the server, as the builder collects them.
#[derive(Debug, Clone)]
struct Settings {
    credentials: Credentials,
    site_id: Option<String>,
    platform: Platform,
    hostname: String,
    client_version: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    retry: RetryPolicy,
    batch_size: usize,
}

impl ClientConfig {
    /// The server's base URL, normalised (one spelling per server, no trailing `/`).
    pub fn server_url(&self) -> &ServerUrl {
        &self.server_url
    }

    /// How the client authenticates.
    pub fn credentials(&self) -> &Credentials {
        &self.settings.credentials
    }

    /// This machine's site id (`^[a-z0-9-]+$`), or none (then roots come by platform).
    pub fn site_id(&self) -> Option<&str> {
        self.settings.site_id.as_deref()
    }

    /// The configured platform of the site; the server's word on the site wins once known
    /// (see [`crate::Client::effective_platform`]).
    pub fn platform(&self) -> Platform {
        self.settings.platform
    }

    /// Value of `x-ayon-hostname`.
    pub fn hostname(&self) -> &str {
        &self.settings.hostname
    }

    /// Value of `x-ayon-version` (the client's version).
    pub fn client_version(&self) -> &str {
        &self.settings.client_version
    }

    /// TCP + TLS connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.settings.connect_timeout
    }

    /// Timeout of one whole request (connect, send, answer).
    pub fn request_timeout(&self) -> Duration {
        self.settings.request_timeout
    }

    /// Retry of 503 answers.
    pub fn retry(&self) -> &RetryPolicy {
        &self.settings.retry
    }

    /// URIs per `/api/resolve` request (1..=200).
    pub fn batch_size(&self) -> usize {
        self.settings.batch_size
    }
}

/// Builder for [`ClientConfig`] / [`crate::Client`]: every knob has the default AYON tools use.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    server_url: String,
    config: Settings,
}

impl ClientBuilder {
    /// Starts a configuration for the server at `server_url` (checked and normalised by
    /// [`ayon_site::ServerUrl`] when built).
    pub fn new(server_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            server_url: server_url.into(),
            config: Settings {
                credentials: Credentials::None,
                site_id: None,
                platform: Platform::current(),
                hostname: gethostname::gethostname().to_string_lossy().into_owned(),
                client_version: env!("CARGO_PKG_VERSION").to_owned(),
                connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                request_timeout: DEFAULT_REQUEST_TIMEOUT,
                retry: RetryPolicy::default(),
                batch_size: MAX_BATCH,
            },
        }
    }

    /// Authenticates with an API key (`x-api-key`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.credentials = Credentials::Key(Credential::api_key(key));
        self
    }

    /// Authenticates with a 64-hex session token (`Authorization: Bearer`).
    pub fn session_token(mut self, token: impl Into<String>) -> Self {
        self.config.credentials = Credentials::Key(Credential::token(token));
        self
    }

    /// Authenticates by logging in with a user name and password on first use.
    pub fn login(mut self, name: impl Into<String>, password: impl Into<String>) -> Self {
        self.config.credentials = Credentials::Login {
            name: name.into(),
            password: Secret::new(password),
        };
        self
    }

    /// Sets the credentials directly.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.config.credentials = credentials;
        self
    }

    /// This machine's site id, as the AYON launcher registers it.
    pub fn site_id(mut self, site_id: impl Into<String>) -> Self {
        let s: String = site_id.into();
        self.config.site_id = if s.is_empty() { None } else { Some(s) };
        self
    }

    /// The site's platform (default: the running OS).
    pub fn platform(mut self, platform: Platform) -> Self {
        self.config.platform = platform;
        self
    }

    /// The `x-ayon-hostname` value (default: this machine's host name).
    pub fn hostname(mut self, hostname: impl Into<String>) -> Self {
        self.config.hostname = hostname.into();
        self
    }

    /// The `x-ayon-version` value (default: this crate's version).
    pub fn client_version(mut self, version: impl Into<String>) -> Self {
        self.config.client_version = version.into();
        self
    }

    /// TCP + TLS connect timeout (default 2 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Timeout of one whole request (default 10 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// Retry policy for 503 answers.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// URIs per request, clamped to 1..=200.
    pub fn batch_size(mut self, size: usize) -> Self {
        self.config.batch_size = size.clamp(1, MAX_BATCH);
        self
    }

    /// Checks the configuration and returns it ([`ClientBuilder::build`] is the public way).
    pub(crate) fn build_config(self) -> Result<ClientConfig, ConfigError> {
        let server_url = ServerUrl::parse(&self.server_url)?;
        let c = self.config;
        if let Some(site) = &c.site_id {
            let ok = site
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok {
                return Err(ConfigError::BadSiteId(site.clone()));
            }
        }
        if let Credentials::Key(Credential::Token(t)) = &c.credentials
            && !is_session_token(t.expose())
        {
            return Err(ConfigError::BadToken);
        }
        if c.connect_timeout.is_zero() || c.request_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        Ok(ClientConfig {
            server_url,
            settings: c,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_issue() {
        let c = ClientBuilder::new("http://h:5000/").build_config().unwrap();
        assert_eq!(c.server_url().as_str(), "http://h:5000");
        assert_eq!(c.connect_timeout(), Duration::from_secs(2));
        assert_eq!(c.request_timeout(), Duration::from_secs(10));
        assert_eq!(c.platform(), Platform::current());
        assert_eq!(c.batch_size(), 200);
        assert!(c.site_id().is_none());
        assert!(!c.hostname().is_empty());
    }

    #[test]
    fn bad_inputs_are_named() {
        let e = ClientBuilder::new("ftp://x").build_config().unwrap_err();
        assert!(e.to_string().contains("ftp://x"), "{e}");
        let e = ClientBuilder::new("http://x")
            .site_id("Bad_Site!")
            .build_config()
            .unwrap_err();
        assert!(e.to_string().contains("Bad_Site!"), "{e}");
        assert!(
            ClientBuilder::new("http://x")
                .session_token("abc")
                .build_config()
                .is_err()
        );
        assert!(
            ClientBuilder::new("http://x")
                .site_id("")
                .build_config()
                .unwrap()
                .site_id()
                .is_none()
        );
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let c = Credentials::from_secret(&"a".repeat(64));
        assert!(matches!(c, Credentials::Key(Credential::Token(_))));
        assert!(!format!("{c:?}").contains("aaaa"));
        let k = Credentials::from_secret("abcdefghijabcdefghijabcdefghij12");
        assert!(matches!(k, Credentials::Key(Credential::ApiKey(_))));
        assert!(!format!("{k:?}").contains("abcdef"));
        let l = Credentials::Login {
            name: "admin".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{l:?}").contains("hunter2"));
    }

    #[test]
    fn retry_schedule_is_capped_and_bounded() {
        let p = RetryPolicy {
            max_retries: 6,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(400),
            jitter: false,
        };
        let d: Vec<_> = p.delays().collect();
        assert_eq!(d.len(), 6);
        assert_eq!(d[0].as_millis(), 100);
        assert_eq!(d[1].as_millis(), 200);
        assert!(d.iter().all(|x| x.as_millis() <= 400));
        assert_eq!(RetryPolicy::none().delays().count(), 0);
        let j = RetryPolicy { jitter: true, ..p };
        let dj: Vec<_> = j.delays().collect();
        assert_eq!(dj.len(), 6);
        // backon's jitter adds up to one more delay: never below the plain schedule, never above twice it.
        for (a, b) in dj.iter().zip(&d) {
            assert!(
                a.as_millis() >= b.as_millis() && a.as_millis() <= b.as_millis() * 2,
                "{a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn platform_names_round_trip() {
        for p in [Platform::Windows, Platform::Linux, Platform::Darwin] {
            assert_eq!(Platform::parse(p.as_str()), Some(p));
        }
        assert_eq!(Platform::parse("amiga"), None);
        assert_eq!(Platform::Windows.separator(), '\\');
    }
}
