//! Know at once when the AYON server is gone, and when it is back.
//!
//! - [`Monitor`] holds a websocket to the server's `/ws`, turns closes, errors and silence into
//!   an [`ConnectionState`] readable without blocking, reconnects with backoff, and forwards
//!   server events (`entity.version.*`, ...) so caches can be invalidated.
//! - [`probe`] / [`probe_blocking`] answer "is it up?" with one unauthenticated `GET /api/info`
//!   for hosts that cannot hold a websocket.
//! - [`runtime`] is the one library-owned tokio runtime the AYON crates share, usable from
//!   synchronous hosts and from inside other tokio runtimes.
//!
//! TLS is rustls with the `ring` provider everywhere (reqwest `rustls-tls`, tokio-tungstenite
//! `rustls-tls-*-roots`), trusting both the system's roots and the webpki roots.

mod config;
mod event;
mod monitor;
mod probe;
pub mod runtime;
mod secret;
mod state;

pub use config::{ConfigError, Credential, MonitorConfig, MonitorConfigBuilder};
pub use event::ServerEvent;
pub use monitor::Monitor;
pub use probe::{ProbeError, ServerInfo, probe, probe_blocking};
pub use runtime::RuntimeError;
pub use secret::Secret;
pub use state::{ConnectionState, OfflineReason};
