//! The connection state, readable from any thread without blocking.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use tokio::sync::{broadcast, watch};

/// Whether the server is reachable right now, as far as the monitor knows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Starting: no connection attempt has finished yet.
    Unknown,
    /// The server answered (an authenticated request succeeded, or a message arrived).
    Online,
    /// The server is not reachable; reconnection attempts continue in the background.
    Offline {
        /// When the outage began (kept while the reason changes between attempts).
        since: SystemTime,
        /// Why the last attempt or connection failed.
        reason: OfflineReason,
    },
}

impl ConnectionState {
    /// True only for [`ConnectionState::Online`].
    pub fn is_online(&self) -> bool {
        matches!(self, ConnectionState::Online)
    }

    /// The reason, when offline.
    pub fn reason(&self) -> Option<&OfflineReason> {
        match self {
            ConnectionState::Offline { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// `"unknown"`, `"online"` or `"offline"`, for logs and JSON output.
    pub fn kind_str(&self) -> &'static str {
        match self {
            ConnectionState::Unknown => "unknown",
            ConnectionState::Online => "online",
            ConnectionState::Offline { .. } => "offline",
        }
    }

    fn kind(&self) -> u8 {
        match self {
            ConnectionState::Unknown => KIND_UNKNOWN,
            ConnectionState::Online => KIND_ONLINE,
            ConnectionState::Offline { .. } => KIND_OFFLINE,
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionState::Offline { reason, .. } => write!(f, "offline ({reason})"),
            other => f.write_str(other.kind_str()),
        }
    }
}

/// Why the server is considered unreachable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfflineReason {
    /// The server closed the websocket with this close code (1012 on a graceful restart).
    ClosedByServer {
        /// The close code (1005 when the close frame carried none).
        code: u16,
        /// The close reason text, often empty.
        reason: String,
    },
    /// The connection ended without a close frame (a crashed worker: EOF, reset).
    ConnectionLost(String),
    /// Nothing listens on the server's port.
    Refused,
    /// The server's host name did not resolve.
    Dns(String),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
    /// Connecting, the websocket handshake or a request did not finish in time (a server that
    /// accepts TCP but hangs while it boots).
    Timeout,
    /// The credentials were refused (401/403), or the server closed the socket with 1000
    /// before sending anything, which is how `/ws` says no.
    AuthRejected,
    /// No message within the silence window: the network dropped without a FIN.
    Silence {
        /// The configured window.
        window: Duration,
    },
    /// The server sent `server.restart_requested`; it is going away.
    RestartAnnounced,
    /// The server answered a request with this unexpected HTTP status.
    HttpStatus(u16),
    /// A client told the monitor one of its requests failed (`Monitor::report_failure`).
    ReportedFailure(String),
    /// The monitor was shut down.
    Stopped,
    /// Anything else (I/O or protocol error), with its message.
    Other(String),
}

impl fmt::Display for OfflineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OfflineReason::ClosedByServer { code, reason } if reason.is_empty() => {
                write!(f, "closed by server, code {code}")
            }
            OfflineReason::ClosedByServer { code, reason } => {
                write!(f, "closed by server, code {code} \"{reason}\"")
            }
            OfflineReason::ConnectionLost(m) => write!(f, "connection lost: {m}"),
            OfflineReason::Refused => f.write_str("connection refused"),
            OfflineReason::Dns(m) => write!(f, "DNS lookup failed: {m}"),
            OfflineReason::Tls(m) => write!(f, "TLS failure: {m}"),
            OfflineReason::Timeout => f.write_str("timed out"),
            OfflineReason::AuthRejected => f.write_str("authentication rejected"),
            OfflineReason::Silence { window } => {
                write!(f, "no message from the server for {window:?}")
            }
            OfflineReason::RestartAnnounced => f.write_str("server announced a restart"),
            OfflineReason::HttpStatus(s) => write!(f, "server answered HTTP {s}"),
            OfflineReason::ReportedFailure(m) => write!(f, "a request failed: {m}"),
            OfflineReason::Stopped => f.write_str("monitor stopped"),
            OfflineReason::Other(m) => f.write_str(m),
        }
    }
}

const KIND_UNKNOWN: u8 = 0;
const KIND_ONLINE: u8 = 1;
const KIND_OFFLINE: u8 = 2;

/// How many transitions a `subscribe_transitions` receiver may fall behind before it lags.
const TRANSITION_BACKLOG: usize = 256;

/// The state: lock-free reads (an atomic kind plus an `ArcSwap` of the full value), serialised
/// writes, a `watch` channel for "the latest state" and a bounded broadcast of every
/// transition, so neither kind of subscriber slows the writer.
pub(crate) struct StateCell {
    kind: AtomicU8,
    full: ArcSwap<ConnectionState>,
    write: Mutex<()>,
    tx: watch::Sender<ConnectionState>,
    transitions: broadcast::Sender<ConnectionState>,
}

impl StateCell {
    pub(crate) fn new() -> StateCell {
        StateCell {
            kind: AtomicU8::new(KIND_UNKNOWN),
            full: ArcSwap::from_pointee(ConnectionState::Unknown),
            write: Mutex::new(()),
            tx: watch::Sender::new(ConnectionState::Unknown),
            transitions: broadcast::Sender::new(TRANSITION_BACKLOG),
        }
    }

    pub(crate) fn get(&self) -> ConnectionState {
        ConnectionState::clone(&self.full.load())
    }

    pub(crate) fn is_online(&self) -> bool {
        self.kind.load(Ordering::Acquire) == KIND_ONLINE
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<ConnectionState> {
        self.tx.subscribe()
    }

    pub(crate) fn subscribe_transitions(&self) -> broadcast::Receiver<ConnectionState> {
        self.transitions.subscribe()
    }

    /// The state and a receiver of the changes after it, taken under the write lock so that no
    /// change falls between them.
    pub(crate) fn state_and_transitions(
        &self,
    ) -> (ConnectionState, broadcast::Receiver<ConnectionState>) {
        let _w = self.write.lock();
        (self.get(), self.transitions.subscribe())
    }

    pub(crate) fn set_online(&self) {
        self.store(ConnectionState::Online);
    }

    /// Offline with `reason`; an ongoing outage keeps its `since`.
    pub(crate) fn set_offline(&self, reason: OfflineReason) {
        let _w = self.write.lock();
        let since = match &**self.full.load() {
            ConnectionState::Offline { since, .. } => *since,
            _ => SystemTime::now(),
        };
        self.store_locked(ConnectionState::Offline { since, reason });
    }

    fn store(&self, new: ConnectionState) {
        let _w = self.write.lock();
        self.store_locked(new);
    }

    fn store_locked(&self, new: ConnectionState) {
        if **self.full.load() == new {
            return;
        }
        tracing::debug!(state = %new, "ayon connection state changed");
        // The transition goes out first, so whoever sees a state in `state()` finds it (and
        // every earlier one) already in the transitions stream. No receiver is fine.
        let _ = self.transitions.send(new.clone());
        self.kind.store(new.kind(), Ordering::Release);
        self.full.store(Arc::new(new.clone()));
        self.tx.send_replace(new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_keeps_its_start_and_notifies_changes() {
        let cell = StateCell::new();
        let mut rx = cell.subscribe();
        assert_eq!(cell.get(), ConnectionState::Unknown);
        cell.set_offline(OfflineReason::Refused);
        let first = cell.get();
        assert!(rx.has_changed().expect("open"));
        rx.mark_unchanged();
        std::thread::sleep(Duration::from_millis(5));
        cell.set_offline(OfflineReason::Timeout);
        let (
            ConnectionState::Offline { since: a, .. },
            ConnectionState::Offline { since: b, reason },
        ) = (first, cell.get())
        else {
            panic!("offline expected");
        };
        assert_eq!(a, b);
        assert_eq!(reason, OfflineReason::Timeout);
        assert!(rx.has_changed().expect("open"));
        rx.mark_unchanged();
        // The same state again is not a change.
        cell.set_offline(OfflineReason::Timeout);
        assert!(!rx.has_changed().expect("open"));
        cell.set_online();
        assert!(cell.is_online());
        assert!(cell.get().is_online());
    }

    #[test]
    fn a_state_and_its_transitions_neither_miss_nor_repeat_a_change() {
        let cell = Arc::new(StateCell::new());
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flipper = {
            let (cell, done) = (cell.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    cell.set_online();
                    cell.set_offline(OfflineReason::Refused);
                }
            })
        };
        let mut checked = 0;
        for _ in 0..300 {
            let (now, mut rx) = cell.state_and_transitions();
            let next = loop {
                match rx.try_recv() {
                    Ok(s) => break Some(s),
                    // Fell behind the backlog: the first change is gone, nothing to check.
                    Err(broadcast::error::TryRecvError::Lagged(_)) => break None,
                    Err(_) => std::thread::yield_now(),
                }
            };
            if let Some(next) = next {
                // States alternate, so a change seen twice or one missed shows as no change.
                assert_ne!(
                    now, next,
                    "the first change after the state differs from it"
                );
                checked += 1;
            }
        }
        done.store(true, Ordering::Relaxed);
        flipper.join().expect("flipper");
        assert!(checked > 30, "only {checked} rounds checked");
    }

    #[test]
    fn transitions_are_kept_in_order_without_duplicates() {
        let cell = StateCell::new();
        let mut rx = cell.subscribe_transitions();
        cell.set_offline(OfflineReason::ClosedByServer {
            code: 1012,
            reason: String::new(),
        });
        cell.set_offline(OfflineReason::Refused);
        cell.set_offline(OfflineReason::Refused);
        cell.set_offline(OfflineReason::Timeout);
        cell.set_online();
        let mut seen = Vec::new();
        while let Ok(s) = rx.try_recv() {
            seen.push(s.reason().cloned());
        }
        assert_eq!(
            seen,
            [
                Some(OfflineReason::ClosedByServer {
                    code: 1012,
                    reason: String::new()
                }),
                Some(OfflineReason::Refused),
                Some(OfflineReason::Timeout),
                None,
            ]
        );
        assert!(cell.get().is_online());
    }
}
