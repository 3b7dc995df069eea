//! Know at once when the AYON server is gone, and when it is back.
//!
//! - [`Monitor`] holds a websocket to the server's `/ws`, turns closes, errors and silence into
//!   an [`ConnectionState`] readable without blocking, reconnects with backoff, and forwards
//!   server events (`entity.version.*`, ...) so caches can be invalidated.
//! - [`probe`] / [`probe_blocking`] answer "is it up?" with one unauthenticated `GET /api/info`
//!   for hosts that cannot hold a websocket.
//!
//! Everything runs on the library-owned tokio runtime of `ayon-runtime`; credentials and the
//! server URL are `ayon-site`'s [`Credential`](ayon_site::Credential) and
//! [`ServerUrl`](ayon_site::ServerUrl).
//!
//! TLS is rustls with the `ring` provider everywhere (reqwest `rustls-tls`, tokio-tungstenite
//! `rustls-tls-*-roots`), trusting both the system's roots and the webpki roots.

mod config;
mod event;
mod monitor;
mod probe;
mod state;

pub use config::{ConfigError, MonitorConfig, MonitorConfigBuilder};
pub use event::ServerEvent;
pub use monitor::Monitor;
pub use probe::{ProbeError, ServerInfo, probe, probe_blocking};
pub use state::{ConnectionState, OfflineReason};
