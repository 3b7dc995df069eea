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
//! - [`AnswerStore`]: how answers and site roots are kept in the cache, for anything else that
//!   fills it for offline use.
//! - [`ErrorKind`]: the stable codes every error maps to, for CLIs and language bindings.
//!
//! Paths are asked for rootless and rooted here, every `{root[NAME]}` by its own root.

mod batch;
mod bridge;
mod client;
mod config;
mod error;
mod finish;
mod flights;
mod http;
mod kind;
mod local_index;
mod offline;
mod prepare;
mod resolution;
mod site;
mod store;
mod wire;

/// The shared site vocabulary the client's API speaks, re-exported so hosts need one import.
pub use ayon_site::{Credential, Platform, Roots, Secret, ServerUrl};
pub use batch::UriInput;
pub use client::{Client, ServerInfo};
pub use config::{
    ClientBuilder, ClientConfig, Credentials, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT,
    RetryPolicy,
};
pub use error::{ClientError, ConfigError, ResolveError};
pub use kind::ErrorKind;
pub use offline::{DEFAULT_FAILURE_COOLDOWN, OfflineClient, OfflineClientBuilder, monitor_config};
pub use prepare::{
    CancelToken, DEFAULT_CLOCK_MARGIN, DEFAULT_EVENT_HISTORY, DEFAULT_IN_FLIGHT,
    DEFAULT_NEWEST_EXACT, DEFAULT_PAGE_SIZE, PrepareError, PrepareEstimate, PrepareMode,
    PrepareOptions, PrepareProgress, PrepareReport, PrepareScope,
};
pub use resolution::{Resolution, ResolvedEntity, Source};
pub use store::{
    AnswerStore, DEFAULT_MOVING_TTL, DEFAULT_NEGATIVE_TTL, StoredAnswer, is_invalidating,
};
