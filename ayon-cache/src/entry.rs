//! What the cache stores: a value plus the metadata the policy layer needs to judge it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Format version of the values this crate's callers write today. Stored with every entry so a
/// later release can tell old rows from new ones instead of misreading them.
pub const ENTRY_FORMAT_VERSION: u32 = 1;

/// The stored value. Cheap to clone (reference counted), so memory hits copy no payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Opaque bytes (the caller's own encoding).
    Bytes(Arc<[u8]>),
    /// A JSON document (e.g. a resolve answer as the server sent it).
    Json(Arc<serde_json::Value>),
}

/// How long an entry stays fresh. The cache never evicts by age (offline mode needs old
/// entries); the policy layer reads this to decide whether to serve or refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Freshness {
    /// An exact version of a representation: never changes once resolved.
    Immutable,
    /// `latest`, `hero`, `*` and the like: fresh for `ttl`, and invalidated early by events.
    Moving {
        /// How long after `stored_at` the entry counts as fresh.
        ttl: Duration,
    },
    /// "No such entity": fresh for a short `ttl`, never served as found.
    Negative {
        /// How long after `stored_at` the entry counts as fresh.
        ttl: Duration,
    },
}

impl Freshness {
    /// The TTL, `None` for immutable entries.
    pub fn ttl(&self) -> Option<Duration> {
        match self {
            Freshness::Immutable => None,
            Freshness::Moving { ttl } | Freshness::Negative { ttl } => Some(*ttl),
        }
    }

    /// True for moving entries (what entity events invalidate).
    pub fn is_moving(&self) -> bool {
        matches!(self, Freshness::Moving { .. })
    }

    pub(crate) fn code(&self) -> i64 {
        match self {
            Freshness::Immutable => 0,
            Freshness::Moving { .. } => 1,
            Freshness::Negative { .. } => 2,
        }
    }

    pub(crate) fn from_code(code: i64, ttl_ms: Option<i64>) -> Option<Freshness> {
        let ttl = Duration::from_millis(u64::try_from(ttl_ms.unwrap_or(0)).ok()?);
        match code {
            0 => Some(Freshness::Immutable),
            1 => Some(Freshness::Moving { ttl }),
            2 => Some(Freshness::Negative { ttl }),
            _ => None,
        }
    }
}

/// Where an entry came from, so diagnostics and the policy layer can tell answers apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// A live answer from the AYON server.
    Server,
    /// Fetched ahead of time by "prepare for offline".
    Prefetch,
    /// Taken from a pinning file.
    Pinning,
}

impl Source {
    pub(crate) fn code(&self) -> i64 {
        match self {
            Source::Server => 0,
            Source::Prefetch => 1,
            Source::Pinning => 2,
        }
    }

    pub(crate) fn from_code(code: i64) -> Option<Source> {
        match code {
            0 => Some(Source::Server),
            1 => Some(Source::Prefetch),
            2 => Some(Source::Pinning),
            _ => None,
        }
    }
}

/// The metadata of an entry, without its value: what predicates of
/// [`Cache::remove_where`](crate::Cache::remove_where) see, so invalidation never loads payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryMeta {
    /// When the entry was stored (millisecond precision, so it survives the SQLite round trip).
    pub stored_at: SystemTime,
    /// Freshness class and TTL.
    pub freshness: Freshness,
    /// Where the value came from.
    pub source: Source,
    /// Format version of the value (see [`ENTRY_FORMAT_VERSION`]).
    pub format_version: u32,
}

/// One cached value and its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    value: Value,
    meta: EntryMeta,
    /// Payload size in bytes (JSON: serialized length), computed once for weighting and stats.
    size: usize,
}

impl Entry {
    /// An entry stored now, with the current [`ENTRY_FORMAT_VERSION`].
    pub fn new(value: Value, freshness: Freshness, source: Source) -> Entry {
        let size = match &value {
            Value::Bytes(b) => b.len(),
            Value::Json(j) => serde_json::to_vec(j.as_ref()).map(|v| v.len()).unwrap_or(0),
        };
        Entry {
            value,
            meta: EntryMeta {
                stored_at: truncate_to_ms(SystemTime::now()),
                freshness,
                source,
                format_version: ENTRY_FORMAT_VERSION,
            },
            size,
        }
    }

    /// An entry holding bytes.
    pub fn bytes(bytes: impl Into<Arc<[u8]>>, freshness: Freshness, source: Source) -> Entry {
        Entry::new(Value::Bytes(bytes.into()), freshness, source)
    }

    /// An entry holding a JSON document.
    pub fn json(json: serde_json::Value, freshness: Freshness, source: Source) -> Entry {
        Entry::new(Value::Json(Arc::new(json)), freshness, source)
    }

    /// Overrides the stored-at time (e.g. when importing; kept to millisecond precision).
    pub fn with_stored_at(mut self, at: SystemTime) -> Entry {
        self.meta.stored_at = truncate_to_ms(at);
        self
    }

    /// Overrides the value format version (a caller that changed its encoding).
    pub fn with_format_version(mut self, version: u32) -> Entry {
        self.meta.format_version = version;
        self
    }

    pub(crate) fn from_parts(value: Value, meta: EntryMeta, size: usize) -> Entry {
        Entry { value, meta, size }
    }

    /// The value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The metadata.
    pub fn meta(&self) -> &EntryMeta {
        &self.meta
    }

    /// When it was stored.
    pub fn stored_at(&self) -> SystemTime {
        self.meta.stored_at
    }

    /// Its freshness class.
    pub fn freshness(&self) -> Freshness {
        self.meta.freshness
    }

    /// Where it came from.
    pub fn source(&self) -> Source {
        self.meta.source
    }

    /// The value's format version.
    pub fn format_version(&self) -> u32 {
        self.meta.format_version
    }

    /// Payload size in bytes (JSON: its serialized length).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether the entry is still fresh at `now` by its own class and TTL (immutable: always).
    /// The cache itself never drops stale entries; this is for the policy layer.
    pub fn is_fresh_at(&self, now: SystemTime) -> bool {
        match self.meta.freshness.ttl() {
            None => true,
            Some(ttl) => now
                .duration_since(self.meta.stored_at)
                .map(|age| age < ttl)
                .unwrap_or(true),
        }
    }
}

pub(crate) fn truncate_to_ms(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::from_millis(d.as_millis() as u64),
        Err(_) => UNIX_EPOCH,
    }
}

pub(crate) fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_follows_ttl_and_never_expires_immutable() {
        let e = Entry::bytes(
            &b"x"[..],
            Freshness::Moving {
                ttl: Duration::from_secs(60),
            },
            Source::Server,
        );
        assert!(e.is_fresh_at(e.stored_at() + Duration::from_secs(59)));
        assert!(!e.is_fresh_at(e.stored_at() + Duration::from_secs(60)));
        let i = Entry::bytes(&b"x"[..], Freshness::Immutable, Source::Server);
        assert!(i.is_fresh_at(i.stored_at() + Duration::from_secs(86_400 * 365)));
        let j = Entry::json(
            serde_json::json!({"a": 1}),
            Freshness::Immutable,
            Source::Prefetch,
        );
        assert_eq!(j.size(), br#"{"a":1}"#.len());
    }
}
