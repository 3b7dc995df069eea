//! The bytes a shared entry is stored as: a versioned header, then the payload.
//!
//! Layout (little-endian): magic `AYC` (3), record version (1), value kind (1), freshness (1),
//! source (1), stored-at ms (8), TTL ms (8), entry format version (4), payload. A value of
//! another record version, a truncated one or one with unknown codes decodes to `None`: a miss.

use std::sync::Arc;

use crate::entry::{from_ms, to_ms};
use crate::{Entry, EntryMeta, Freshness, Source, Value};

/// Version of the record layout above; bump it when the layout changes, so an older or newer
/// release sharing the Redis sees a miss instead of misreading.
pub(crate) const RECORD_VERSION: u8 = 1;

const MAGIC: &[u8; 3] = b"AYC";
const HEADER: usize = 3 + 1 + 1 + 1 + 1 + 8 + 8 + 4;

/// Encodes an entry; `None` if its JSON value cannot be serialised.
pub(crate) fn encode(entry: &Entry) -> Option<Vec<u8>> {
    let (kind, payload): (u8, std::borrow::Cow<'_, [u8]>) = match entry.value() {
        Value::Bytes(b) => (0, std::borrow::Cow::Borrowed(b)),
        Value::Json(j) => (
            1,
            std::borrow::Cow::Owned(serde_json::to_vec(j.as_ref()).ok()?),
        ),
    };
    let meta = entry.meta();
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.push(RECORD_VERSION);
    out.push(kind);
    out.push(meta.freshness.code() as u8);
    out.push(meta.source.code() as u8);
    out.extend_from_slice(&to_ms(meta.stored_at).to_le_bytes());
    let ttl = meta.freshness.ttl().map_or(0, |t| t.as_millis() as i64);
    out.extend_from_slice(&ttl.to_le_bytes());
    out.extend_from_slice(&meta.format_version.to_le_bytes());
    out.extend_from_slice(&payload);
    Some(out)
}

/// Decodes a stored record; `None` for anything not written by this record version.
pub(crate) fn decode(bytes: &[u8]) -> Option<Entry> {
    if bytes.len() < HEADER || &bytes[..3] != MAGIC || bytes[3] != RECORD_VERSION {
        return None;
    }
    let i64_at = |at: usize| {
        bytes
            .get(at..at + 8)?
            .try_into()
            .ok()
            .map(i64::from_le_bytes)
    };
    let stored_at = i64_at(7)?;
    let ttl_ms = i64_at(15)?;
    let format_version = u32::from_le_bytes(bytes.get(23..27)?.try_into().ok()?);
    let freshness = Freshness::from_code(i64::from(bytes[5]), Some(ttl_ms))?;
    let source = Source::from_code(i64::from(bytes[6]))?;
    let payload = &bytes[HEADER..];
    let value = match bytes[4] {
        0 => Value::Bytes(payload.into()),
        1 => Value::Json(Arc::new(serde_json::from_slice(payload).ok()?)),
        _ => return None,
    };
    let meta = EntryMeta {
        stored_at: from_ms(stored_at),
        freshness,
        source,
        format_version,
    };
    Some(Entry::from_parts(value, meta, payload.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn round_trips_and_rejects_foreign_bytes() {
        let e = Entry::json(
            serde_json::json!({"path": "{root[work]}/a.usd"}),
            Freshness::Moving {
                ttl: Duration::from_secs(90),
            },
            Source::Prefetch,
        )
        .with_format_version(3);
        let bytes = encode(&e).unwrap();
        assert_eq!(decode(&bytes), Some(e));
        let b = Entry::bytes(&b"xyz"[..], Freshness::Immutable, Source::Server);
        assert_eq!(decode(&encode(&b).unwrap()), Some(b));

        let mut other_version = bytes.clone();
        other_version[3] = RECORD_VERSION + 1;
        assert_eq!(decode(&other_version), None);
        assert_eq!(decode(&bytes[..10]), None);
        assert_eq!(
            decode(b"garbage that is long enough to pass the header"),
            None
        );
        let mut bad_json = bytes.clone();
        bad_json.truncate(bytes.len() - 2);
        assert_eq!(decode(&bad_json), None);
        let mut bad_code = bytes;
        bad_code[5] = 9;
        assert_eq!(decode(&bad_code), None);
    }
}
