//! A loopback caching proxy in front of an AYON server, so unchanged AYON clients
//! (ayon-python-api, the launcher, add-ons) keep working when the server is gone: point
//! `AYON_SERVER_URL` at it.
//!
//! - While the server answers, every request is forwarded (bodies streamed, headers kept but
//!   hop-by-hop ones, `/ws` relayed) and the answers to reads are recorded in a persistent
//!   store (SQLite through `ayon-cache`, file mode 0600): `GET /`, `GET /api/...`,
//!   `POST /graphql` queries (not mutations) and `POST /api/resolve`, per user (the one the
//!   server names for the credential, asked once through `/api/users/me`). Answers above a size
//!   limit and file downloads pass through unrecorded.
//! - When the server is gone (the `ayon-connectivity` monitor says so, or a request fails for a
//!   transport reason or a 502/503/504), reads answer from the store at once with
//!   `x-ayon-offline: 1` and `age`; a read never seen is a 503 in AYON's error shape naming
//!   it; writes are a 503 that says they were not sent (never queued); `/ws` clients get a
//!   clean close (1012) so they reconnect. Offline, only a credential the server accepted
//!   before is honoured (kept as a salted HMAC-SHA-256, never in clear); any other gets 401.
//! - `POST /api/resolve` offline falls back on the prepared-project index (`ayon-index`) for
//!   URIs never asked before.
//! - `GET /_proxy/status` reports the state, counters and the store's size.
//!
//! ```no_run
//! # fn main() -> Result<(), ayon_proxy::ProxyError> {
//! let config = ayon_proxy::ProxyConfig::builder("https://ayon.studio.local").build()?;
//! let proxy = ayon_proxy::Proxy::start(config)?;
//! println!("export AYON_SERVER_URL={}", proxy.url());
//! # Ok(()) }
//! ```

mod answer;
mod config;
mod error;
mod exchange;
mod graphql;
mod health;
mod identity;
mod offline;
mod record;
mod request;
mod resolve;
mod server;
mod status;
mod upstream;
mod ws;

pub use answer::{OFFLINE_HEADER, PROXY_HEADER};
pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_ANSWER_BYTES, DEFAULT_MAX_INSPECTED_BODY, DEFAULT_PORT,
    DEFAULT_RETRY_AFTER, DEFAULT_UPSTREAM_TIMEOUT, ProxyConfig, ProxyConfigBuilder,
};
pub use error::ProxyError;
pub use server::{Proxy, STORE_FILE_NAME};
pub use status::{ProxyStatus, StatusCounts, StoreStatus};
