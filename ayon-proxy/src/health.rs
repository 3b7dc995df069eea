//! Whether to go to the server or answer from the store right now: the connectivity monitor's
//! state (started with the first accepted credential), and the proxy's own transport failures.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ayon_connectivity::{ConnectionState, Monitor, MonitorConfig, OfflineReason};
use ayon_site::Credential;
use parking_lot::Mutex;
use tokio::sync::broadcast;

use crate::config::ProxyConfig;

/// The proxy's view of the server.
pub(crate) struct Health {
    monitor: OnceLock<Monitor>,
    failed_at: Mutex<Option<Instant>>,
    retry_after: Duration,
    answered_once: AtomicBool,
    /// Told when the server is found gone, so proxied websockets close at once.
    gone: broadcast::Sender<()>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("state", &self.state_str())
            .finish_non_exhaustive()
    }
}

impl Health {
    pub(crate) fn new(retry_after: Duration) -> Health {
        Health {
            monitor: OnceLock::new(),
            failed_at: Mutex::new(None),
            retry_after,
            answered_once: AtomicBool::new(false),
            gone: broadcast::channel(16).0,
        }
    }

    /// Starts the monitor with `credential` unless one runs already. Call on a tokio runtime
    /// (the state watcher is spawned on it).
    pub(crate) fn watch_with(&self, config: &ProxyConfig, credential: &Credential) {
        if self.monitor.get().is_some() {
            return;
        }
        let mut b = MonitorConfig::builder(config.server.as_str())
            .credential(credential.clone())
            .subscribe(Vec::<String>::new());
        if let Some(w) = config.monitor.silence_window {
            b = b.silence_window(w);
        }
        if let Some((initial, cap)) = config.monitor.backoff {
            b = b.backoff(initial, cap);
        }
        if let Some(t) = config.monitor.connect_timeout {
            b = b.connect_timeout(t).probe_timeout(t);
        }
        let monitor_config = match b.build() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(target: "ayon_proxy", error = %e, "cannot watch the server");
                return;
            }
        };
        if self.monitor.set(Monitor::start(monitor_config)).is_err() {
            return;
        }
        if let Some(m) = self.monitor.get() {
            let mut rx = m.subscribe_state();
            let gone = self.gone.clone();
            tokio::spawn(async move {
                while rx.changed().await.is_ok() {
                    let state = rx.borrow_and_update().clone();
                    tracing::info!(target: "ayon_proxy", state = %state, "server state");
                    if counts_as_gone(&state) {
                        let _ = gone.send(());
                    }
                }
            });
        }
    }

    /// True when requests should be answered from the store without asking the server.
    pub(crate) fn is_offline(&self) -> bool {
        if let Some(m) = self.monitor.get()
            && counts_as_gone(&m.state())
        {
            return true;
        }
        self.failed_at
            .lock()
            .is_some_and(|t| t.elapsed() < self.retry_after && self.monitor.get().is_none())
    }

    /// A request to the server failed for a transport reason or a 502/503/504.
    pub(crate) fn failed(&self, what: &str) {
        *self.failed_at.lock() = Some(Instant::now());
        if let Some(m) = self.monitor.get() {
            m.report_failure(what.to_owned());
        }
        let _ = self.gone.send(());
    }

    /// The server answered.
    pub(crate) fn answered(&self) {
        *self.failed_at.lock() = None;
        self.answered_once.store(true, Ordering::Relaxed);
    }

    /// A receiver told each time the server is found gone.
    pub(crate) fn subscribe_gone(&self) -> broadcast::Receiver<()> {
        self.gone.subscribe()
    }

    /// `online`, `offline` or `unknown` (nothing answered yet, or the monitor reconnecting).
    pub(crate) fn state_str(&self) -> &'static str {
        if self.is_offline() {
            return "offline";
        }
        let online = match self.monitor.get() {
            Some(m) => m.is_online(),
            None => self.answered_once.load(Ordering::Relaxed),
        };
        if online { "online" } else { "unknown" }
    }

    /// The monitor's state in words (with its reason), when one runs.
    pub(crate) fn monitor_state(&self) -> Option<String> {
        self.monitor.get().map(|m| m.state().to_string())
    }

    /// Stops the monitor.
    pub(crate) fn shutdown(&self) {
        if let Some(m) = self.monitor.get() {
            m.shutdown();
        }
    }
}

/// Offline for any reason but a refused credential: a monitor whose key was revoked says
/// nothing about the server, so requests keep going to it.
fn counts_as_gone(state: &ConnectionState) -> bool {
    matches!(state, ConnectionState::Offline { reason, .. }
        if !matches!(reason, OfflineReason::AuthRejected | OfflineReason::Stopped))
}
