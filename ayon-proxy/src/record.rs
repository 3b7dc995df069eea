//! Recorded answers: how a read is keyed, and how its answer (status, headers, body) is kept in
//! the store and turned back into a response.

use std::sync::Arc;
use std::time::SystemTime;

use ayon_cache::{Cache, Entry, Freshness, Key, Namespace, Source, Value};
use ayon_site::ServerUrl;
use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde::{Deserialize, Serialize};

use crate::answer::{Body, OFFLINE_HEADER, PROXY_HEADER, full};
use crate::identity::hex;

/// Format of a recorded answer (stored as the entry's format version).
const RECORD_FORMAT: u32 = 1;

/// Response headers that describe one transfer or one moment, not the answer: never recorded.
const NOT_RECORDED: [&str; 6] = [
    "date",
    "content-length",
    "set-cookie",
    "age",
    "server",
    "x-ayon-offline",
];

/// What a read is stored under: the user, then the method, path, query, the site header (it
/// changes resolved paths) and, for POST reads, a digest of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReadKey {
    /// The user namespace (`-` for requests without a credential).
    pub(crate) namespace: Namespace,
    /// The key inside it.
    pub(crate) name: String,
    /// `GET /api/...` as a person would say it, for messages.
    pub(crate) what: String,
}

impl ReadKey {
    /// The key of a read by `user` (acting as `as_user`, when a service key says so).
    pub(crate) fn new(
        server: &ServerUrl,
        user: &str,
        as_user: Option<&str>,
        method: &str,
        path_and_query: &str,
        site: Option<&str>,
        body: Option<&[u8]>,
    ) -> ReadKey {
        let who = match as_user {
            Some(a) => format!("{user}>{a}"),
            None => user.to_owned(),
        };
        let mut name = format!("{method} {path_and_query}");
        if let Some(site) = site {
            name.push_str(" @");
            name.push_str(site);
        }
        if let Some(body) = body {
            name.push_str(" #");
            name.push_str(&hex(
                ring::digest::digest(&ring::digest::SHA256, body).as_ref()
            ));
        }
        ReadKey {
            namespace: Namespace::custom(format!("ayon-proxy|{server}|{who}")),
            name,
            what: format!("{method} {path_and_query}"),
        }
    }

    fn key(&self) -> Key {
        Key::new(&self.namespace, self.name.clone())
    }
}

/// The head of a recorded answer (the body follows it in the stored bytes).
#[derive(Debug, Serialize, Deserialize)]
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

/// A recorded answer read back from the store.
#[derive(Debug)]
pub(crate) struct Recorded {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
    stored_at: SystemTime,
}

impl Recorded {
    /// The answer as an offline response: recorded status, headers and body, plus
    /// `x-ayon-offline: 1` and `age` (seconds since it was recorded).
    pub(crate) fn into_response(self) -> Response<Body> {
        let age = SystemTime::now()
            .duration_since(self.stored_at)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut r = Response::new(full(self.body));
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let h = r.headers_mut();
        for (k, v) in &self.headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                h.append(k, v);
            }
        }
        h.insert(OFFLINE_HEADER, HeaderValue::from_static("1"));
        h.insert(PROXY_HEADER, HeaderValue::from_static("ayon-proxy"));
        h.insert(hyper::header::AGE, HeaderValue::from(age));
        r
    }
}

/// Reads and writes recorded answers in the store.
#[derive(Debug, Clone)]
pub(crate) struct Recorder {
    store: Arc<dyn Cache>,
}

impl Recorder {
    pub(crate) fn new(store: Arc<dyn Cache>) -> Recorder {
        Recorder { store }
    }

    /// The recorded answer under `key`, if any (a store failure reads as none, and is logged).
    pub(crate) fn get(&self, key: &ReadKey) -> Option<Recorded> {
        let entry = match self.store.get(&key.key()) {
            Ok(e) => e?,
            Err(e) => {
                tracing::warn!(target: "ayon_proxy", error = %e, "store unreadable");
                return None;
            }
        };
        if entry.format_version() != RECORD_FORMAT {
            return None;
        }
        let Value::Bytes(bytes) = entry.value() else {
            return None;
        };
        let (head, body) = decode(bytes)?;
        Some(Recorded {
            status: head.status,
            headers: head.headers,
            body: Bytes::copy_from_slice(body),
            stored_at: entry.stored_at(),
        })
    }

    /// Records an answer; `false` when it was already stored byte for byte (nothing written)
    /// or the store failed (logged).
    pub(crate) fn put(&self, key: &ReadKey, status: u16, headers: &HeaderMap, body: &[u8]) -> bool {
        let head = Head {
            status,
            headers: headers
                .iter()
                .filter(|(k, _)| !NOT_RECORDED.contains(&k.as_str()))
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect(),
        };
        let Ok(head) = serde_json::to_vec(&head) else {
            return false;
        };
        let len = u32::try_from(head.len()).unwrap_or(u32::MAX).to_le_bytes();
        let mut bytes = Vec::with_capacity(4 + head.len() + body.len());
        bytes.extend_from_slice(&len);
        bytes.extend_from_slice(&head);
        bytes.extend_from_slice(body);
        let k = key.key();
        if let Ok(Some(old)) = self.store.get(&k)
            && matches!(old.value(), Value::Bytes(b) if **b == *bytes)
        {
            return false;
        }
        let entry = Entry::bytes(bytes, Freshness::Immutable, Source::Server)
            .with_format_version(RECORD_FORMAT);
        match self.store.put(k, entry) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(target: "ayon_proxy", error = %e, what = %key.what, "could not record an answer");
                false
            }
        }
    }
}

fn decode(bytes: &[u8]) -> Option<(Head, &[u8])> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let head = bytes.get(4..4 + len)?;
    let head: Head = serde_json::from_slice(head).ok()?;
    Some((head, bytes.get(4 + len..)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ayon_cache::MemoryCache;

    #[test]
    fn round_trip_and_keys_apart() {
        let server = ServerUrl::parse("http://127.0.0.1:5000").expect("url");
        let rec = Recorder::new(Arc::new(MemoryCache::new(1 << 20)));
        let a = ReadKey::new(&server, "alice", None, "GET", "/api/projects", None, None);
        let b = ReadKey::new(&server, "bob", None, "GET", "/api/projects", None, None);
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.insert("date", HeaderValue::from_static("now"));
        assert!(rec.put(&a, 200, &h, b"[1]"));
        assert!(
            !rec.put(&a, 200, &h, b"[1]"),
            "the same bytes are not written twice"
        );
        assert!(rec.get(&b).is_none());
        let r = rec.get(&a).expect("recorded").into_response();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.headers()[OFFLINE_HEADER], "1");
        assert!(r.headers().get("date").is_none());
        let post = |body: &[u8]| {
            ReadKey::new(&server, "alice", None, "POST", "/graphql", None, Some(body))
        };
        let (q1, q2) = (post(b"{1}"), post(b"{2}"));
        assert_ne!(q1, q2);
        let s = ReadKey::new(
            &server,
            "alice",
            None,
            "GET",
            "/api/projects",
            Some("s1"),
            None,
        );
        assert_ne!(s, a);
        let as_bob = ReadKey::new(&server, "svc", Some("bob"), "GET", "/api/x", None, None);
        let svc = ReadKey::new(&server, "svc", None, "GET", "/api/x", None, None);
        assert_ne!(as_bob.namespace, svc.namespace);
    }
}
