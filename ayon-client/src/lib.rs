//! Resolve AYON URIs through the server, fall back to the cache when it is gone, and never hang
//! on a dead server.
//!
//! - [`Client`]: the server client (`/api/info`, site roots, batch `/api/resolve`) on `reqwest`,
//!   driven by the one library-owned tokio runtime of `ayon-runtime`; async methods and
//!   `*_blocking` twins for synchronous hosts.
//! - [`OfflineClient`]: the same with a cache and a connectivity monitor underneath, applying
//!   the offline policy of design.md: fresh hits and offline answers from the cache at once,
//!   misses to the server (batched, single flight, written through), stale answers when the
//!   server fails, and moving answers dropped on entity events.
//!
//! Paths are asked for rootless and rooted here, every `{root[NAME]}` by its own root.

mod batch;
mod client;
mod config;
mod error;
mod offline;
mod resolution;
mod roots;
mod wire;

pub use batch::UriInput;
pub use client::{Client, ServerInfo};
pub use config::{
    ClientBuilder, ClientConfig, Credentials, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT,
    MAX_BATCH, Platform, RetryPolicy, is_session_token,
};
pub use error::{ClientError, ConfigError, ResolveError};
pub use offline::{
    DEFAULT_FAILURE_COOLDOWN, DEFAULT_MOVING_TTL, DEFAULT_NEGATIVE_TTL, INVALIDATING_TOPICS,
    OfflineClient, OfflineClientBuilder, monitor_config,
};
pub use resolution::{Resolution, ResolvedEntity, Source};
pub use roots::{SiteRoots, root_names, substitute_roots};
pub use wire::WireEntity;
