//! Why a proxy could not be configured or started.

use std::net::SocketAddr;

/// Errors of configuring and starting a proxy (requests never fail with these: a request that
/// cannot be served gets an HTTP answer in AYON's error shape).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The server URL is not usable.
    #[error(transparent)]
    ServerUrl(#[from] ayon_site::ServerUrlError),
    /// A non-loopback listen address without `allow_remote`.
    #[error(
        "refusing to listen on {0}: it is not a loopback address and the proxy serves recorded \
         answers of everyone who used it (pass --allow-remote to do it anyway)"
    )]
    RemoteListen(SocketAddr),
    /// Another setting is out of range.
    #[error("proxy configuration: {0}")]
    Config(String),
    /// Binding the listen address failed (in use, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The proxy's runtime or HTTP client could not be built.
    #[error("cannot start the proxy: {0}")]
    Start(String),
    /// The persistent store could not be opened.
    #[error(transparent)]
    Cache(#[from] ayon_cache::CacheError),
}
