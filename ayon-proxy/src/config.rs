//! What a proxy is told: which server, where to listen, where to keep answers, and its limits.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ayon_site::{Credential, ServerUrl};

use crate::error::ProxyError;

/// The port `ayon proxy` listens on unless told otherwise (AYON's own default is 5000).
pub const DEFAULT_PORT: u16 = 5055;
/// The largest answer recorded for offline use (8 MiB); bigger ones are forwarded, not stored.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 8 << 20;
/// The largest request body the proxy reads to classify or key a read (`POST /graphql`,
/// `POST /api/resolve`): 4 MiB, far above the batches AYON clients send; bigger ones get 413.
pub const DEFAULT_MAX_INSPECTED_BODY: usize = 4 << 20;
/// How long the proxy waits for the server's response head before answering from the store
/// (8 s: under ayon-python-api's own 10 s timeout, so the client never times out first).
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(8);
/// How long connecting to the server may take (3 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// After a transport failure with no monitor yet, how long requests go to the store before the
/// server is tried again (2 s).
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(2);

/// A checked proxy configuration; build one with [`ProxyConfig::builder`].
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub(crate) server: ServerUrl,
    pub(crate) listen: SocketAddr,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) index_dir: Option<PathBuf>,
    pub(crate) max_answer_bytes: usize,
    pub(crate) max_inspected_body: usize,
    pub(crate) store_downloads: bool,
    pub(crate) upstream_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) retry_after: Duration,
    pub(crate) credential: Option<Credential>,
    pub(crate) monitor: MonitorTuning,
}

/// Timings of the connectivity monitor the proxy starts (defaults: the monitor's own).
#[derive(Debug, Clone, Default)]
pub(crate) struct MonitorTuning {
    pub(crate) silence_window: Option<Duration>,
    pub(crate) backoff: Option<(Duration, Duration)>,
    pub(crate) connect_timeout: Option<Duration>,
}

impl ProxyConfig {
    /// A builder for a proxy in front of `server` (e.g. `https://ayon.studio.local`).
    pub fn builder(server: impl Into<String>) -> ProxyConfigBuilder {
        ProxyConfigBuilder {
            server: server.into(),
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
            allow_remote: false,
            cache_dir: None,
            index_dir: None,
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            max_inspected_body: DEFAULT_MAX_INSPECTED_BODY,
            store_downloads: false,
            upstream_timeout: DEFAULT_UPSTREAM_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry_after: DEFAULT_RETRY_AFTER,
            credential: None,
            monitor: MonitorTuning::default(),
        }
    }

    /// The server the proxy stands in front of.
    pub fn server(&self) -> &ServerUrl {
        &self.server
    }

    /// The address it listens on (port 0 until bound).
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }
}

/// Builder for [`ProxyConfig`]; every setting has a default.
#[derive(Debug, Clone)]
pub struct ProxyConfigBuilder {
    server: String,
    listen: SocketAddr,
    allow_remote: bool,
    cache_dir: Option<PathBuf>,
    index_dir: Option<PathBuf>,
    max_answer_bytes: usize,
    max_inspected_body: usize,
    store_downloads: bool,
    upstream_timeout: Duration,
    connect_timeout: Duration,
    retry_after: Duration,
    credential: Option<Credential>,
    monitor: MonitorTuning,
}

impl ProxyConfigBuilder {
    /// Where to listen (default `127.0.0.1:5055`; port 0 picks a free one). An address other
    /// than loopback is refused unless [`allow_remote`](Self::allow_remote) is set: the proxy
    /// answers with recorded data of the users who went through it.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Accept a non-loopback listen address (the caller is expected to warn the user).
    pub fn allow_remote(mut self, yes: bool) -> Self {
        self.allow_remote = yes;
        self
    }

    /// Directory of the persistent store (`proxy.sqlite`); default: the cache directory of
    /// `ayon-cache` (`AYON_OFFLINE_CACHE_DIR`, else the per-user cache directory).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Directory of the prepared-project index (`index.sqlite`) that answers `/api/resolve`
    /// offline for URIs never asked before; default: the cache directory.
    pub fn index_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.index_dir = Some(dir.into());
        self
    }

    /// Largest answer recorded (default [`DEFAULT_MAX_ANSWER_BYTES`]); larger ones still pass.
    pub fn max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer_bytes = bytes;
        self
    }

    /// Largest read request body inspected (default [`DEFAULT_MAX_INSPECTED_BODY`]).
    pub fn max_inspected_body(mut self, bytes: usize) -> Self {
        self.max_inspected_body = bytes;
        self
    }

    /// Also record file downloads (`/api/projects/*/files/*`, `application/octet-stream`);
    /// default off (they are large and rarely needed on a train).
    pub fn store_downloads(mut self, yes: bool) -> Self {
        self.store_downloads = yes;
        self
    }

    /// How long to wait for the server's response head (default [`DEFAULT_UPSTREAM_TIMEOUT`]).
    pub fn upstream_timeout(mut self, timeout: Duration) -> Self {
        self.upstream_timeout = timeout;
        self
    }

    /// How long connecting to the server may take (default [`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long to answer from the store after a transport failure before trying the server
    /// again, while no monitor runs (default [`DEFAULT_RETRY_AFTER`]).
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = wait;
        self
    }

    /// A credential for the connectivity monitor, so it watches the server from the start.
    /// Without one, the monitor starts with the first client credential the server accepts
    /// (kept in memory only).
    pub fn credential(mut self, credential: Credential) -> Self {
        self.credential = Some(credential);
        self
    }

    /// The monitor's silence window (default 15 s).
    pub fn monitor_silence_window(mut self, window: Duration) -> Self {
        self.monitor.silence_window = Some(window);
        self
    }

    /// The monitor's reconnect backoff (defaults 250 ms to 30 s).
    pub fn monitor_backoff(mut self, initial: Duration, cap: Duration) -> Self {
        self.monitor.backoff = Some((initial, cap));
        self
    }

    /// The monitor's connect timeout (default 5 s).
    pub fn monitor_connect_timeout(mut self, timeout: Duration) -> Self {
        self.monitor.connect_timeout = Some(timeout);
        self
    }

    /// Checks the settings.
    pub fn build(self) -> Result<ProxyConfig, ProxyError> {
        let server = ServerUrl::parse(&self.server)?;
        if !self.listen.ip().is_loopback() && !self.allow_remote {
            return Err(ProxyError::RemoteListen(self.listen));
        }
        if points_at(&server, self.listen) {
            return Err(ProxyError::Config(format!(
                "the server URL {server} is the proxy's own address: AYON_SERVER_URL still \
                 points at the proxy? Give the real server with --server"
            )));
        }
        for (name, d) in [
            ("upstream timeout", self.upstream_timeout),
            ("connect timeout", self.connect_timeout),
        ] {
            if d.is_zero() {
                return Err(ProxyError::Config(format!("the {name} must not be zero")));
            }
        }
        Ok(ProxyConfig {
            server,
            listen: self.listen,
            cache_dir: self.cache_dir,
            index_dir: self.index_dir,
            max_answer_bytes: self.max_answer_bytes,
            max_inspected_body: self.max_inspected_body.max(1024),
            store_downloads: self.store_downloads,
            upstream_timeout: self.upstream_timeout,
            connect_timeout: self.connect_timeout,
            retry_after: self.retry_after,
            credential: self.credential,
            monitor: self.monitor,
        })
    }
}

/// True when `server` is this machine at `listen`'s port (the proxy would forward to itself).
fn points_at(server: &ServerUrl, listen: SocketAddr) -> bool {
    let Ok(url) = url::Url::parse(server.as_str()) else {
        return false;
    };
    let local = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || IpAddr::V4(ip) == listen.ip(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || IpAddr::V6(ip) == listen.ip(),
        None => false,
    };
    local && url.port_or_known_default() == Some(listen.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_by_default_and_remote_needs_the_flag() {
        let c = ProxyConfig::builder("http://127.0.0.1:5000/")
            .build()
            .expect("config");
        assert!(c.listen().ip().is_loopback());
        assert_eq!(c.server().as_str(), "http://127.0.0.1:5000");
        let remote: SocketAddr = "0.0.0.0:5055".parse().expect("addr");
        assert!(matches!(
            ProxyConfig::builder("http://a").listen(remote).build(),
            Err(ProxyError::RemoteListen(_))
        ));
        assert!(
            ProxyConfig::builder("http://a")
                .listen(remote)
                .allow_remote(true)
                .build()
                .is_ok()
        );
        assert!(ProxyConfig::builder("ftp://a").build().is_err());
        // Forwarding to itself (AYON_SERVER_URL left pointing at the proxy) is refused.
        for itself in ["http://127.0.0.1:5055", "http://localhost:5055/"] {
            assert!(matches!(
                ProxyConfig::builder(itself).build(),
                Err(ProxyError::Config(_))
            ));
        }
        assert!(
            ProxyConfig::builder("http://127.0.0.1:5000")
                .build()
                .is_ok()
        );
    }
}
