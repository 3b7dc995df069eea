//! What `GET /_proxy/status` says: the state, what the proxy did, and what it holds.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::Serialize;

/// Counters of what the proxy did since it started.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    forwarded: AtomicU64,
    recorded: AtomicU64,
    served_offline: AtomicU64,
    resolved_from_index: AtomicU64,
    not_cached: AtomicU64,
    writes_refused: AtomicU64,
    unauthorized_offline: AtomicU64,
    upstream_failures: AtomicU64,
    bad_requests: AtomicU64,
    ws_open: AtomicI64,
}

/// Which counter to bump.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Count {
    Forwarded,
    Recorded,
    ServedOffline,
    ResolvedFromIndex,
    NotCached,
    WriteRefused,
    UnauthorizedOffline,
    UpstreamFailure,
    BadRequest,
}

impl Counters {
    pub(crate) fn bump(&self, c: Count) {
        let counter = match c {
            Count::Forwarded => &self.forwarded,
            Count::Recorded => &self.recorded,
            Count::ServedOffline => &self.served_offline,
            Count::ResolvedFromIndex => &self.resolved_from_index,
            Count::NotCached => &self.not_cached,
            Count::WriteRefused => &self.writes_refused,
            Count::UnauthorizedOffline => &self.unauthorized_offline,
            Count::UpstreamFailure => &self.upstream_failures,
            Count::BadRequest => &self.bad_requests,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn ws_open(&self, delta: i64) {
        self.ws_open.fetch_add(delta, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> StatusCounts {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatusCounts {
            forwarded: g(&self.forwarded),
            recorded: g(&self.recorded),
            served_offline: g(&self.served_offline),
            resolved_from_index: g(&self.resolved_from_index),
            not_cached: g(&self.not_cached),
            writes_refused: g(&self.writes_refused),
            unauthorized_offline: g(&self.unauthorized_offline),
            upstream_failures: g(&self.upstream_failures),
            bad_requests: g(&self.bad_requests),
            websockets_open: self.ws_open.load(Ordering::Relaxed).max(0) as u64,
        }
    }
}

/// Counts of what the proxy did since it started (camelCase in JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCounts {
    /// Requests sent on to the server.
    pub forwarded: u64,
    /// Answers written to the store (an unchanged answer is not written again).
    pub recorded: u64,
    /// Reads answered from the store while the server was unreachable.
    pub served_offline: u64,
    /// Offline resolves answered by the prepared index.
    pub resolved_from_index: u64,
    /// Offline reads never seen before (answered 503).
    pub not_cached: u64,
    /// Writes refused while the server was unreachable (answered 503, never queued).
    pub writes_refused: u64,
    /// Offline requests with a credential the server never accepted (answered 401).
    pub unauthorized_offline: u64,
    /// Requests the server did not answer (transport failure, timeout, 502/503/504).
    pub upstream_failures: u64,
    /// Requests the proxy refused as malformed (bad request line, body too large, bad JSON).
    pub bad_requests: u64,
    /// Websockets relayed right now.
    pub websockets_open: u64,
}

/// The JSON of `GET /_proxy/status`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyStatus {
    /// `online`, `offline` or `unknown`.
    pub state: String,
    /// The connectivity monitor's state with its reason, once it runs.
    pub monitor: Option<String>,
    /// The server behind the proxy.
    pub server: String,
    /// The proxy's own URL (what `AYON_SERVER_URL` should be).
    pub url: String,
    /// Counters since start.
    pub counts: StatusCounts,
    /// Credentials the server accepted that this process knows.
    pub identities: usize,
    /// The store.
    pub store: StoreStatus,
}

/// The persistent store in the status.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreStatus {
    /// The SQLite file, when the store is persistent.
    pub path: Option<String>,
    /// Entries (answers, identities, the salt).
    pub entries: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// The file's size on disk.
    pub file_bytes: u64,
    /// True when the store could not be opened and answers live in memory only.
    pub degraded: bool,
}
