//! What a request is, for the proxy: a read it may record and replay, a write it must never
//! replay or queue, the websocket, or its own status page. Also the hop-by-hop header rule.

use hyper::Method;
use hyper::header::{HeaderMap, HeaderName};

/// The proxy's own status page.
pub(crate) const STATUS_PATH: &str = "/_proxy/status";

/// How the proxy treats a request, judged by method and path (the body is read only for
/// [`Route::Inspect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /_proxy/status`.
    Status,
    /// `GET /ws` with an upgrade.
    Ws,
    /// `GET /` or `GET /api/...`: recorded, replayed offline.
    Get,
    /// `POST /graphql` or `POST /api/resolve`: the body decides (query or mutation) and keys it.
    Inspect(Inspected),
    /// Another GET, HEAD or OPTIONS (`/addons/...`, the web frontend): forwarded while
    /// online, never recorded, so offline it is a 503 saying so.
    Unrecorded,
    /// Anything else, a change: forwarded while online, refused offline, never queued.
    Other,
}

/// The POST routes whose body the proxy reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inspected {
    /// `POST /graphql`: a read when every operation is a query.
    Graphql,
    /// `POST /api/resolve`: always a read.
    Resolve,
}

impl Route {
    /// The route of `method path`; `upgrade` says the request asks for a websocket.
    pub(crate) fn of(method: &Method, path: &str, upgrade: bool) -> Route {
        let path = trim_path(path);
        match (method, path) {
            (&Method::GET, STATUS_PATH) => Route::Status,
            (&Method::GET, "/ws") if upgrade => Route::Ws,
            (&Method::GET, "/") => Route::Get,
            (&Method::GET, p) if p.starts_with("/api/") => Route::Get,
            (&Method::POST, "/graphql") => Route::Inspect(Inspected::Graphql),
            (&Method::POST, "/api/resolve") => Route::Inspect(Inspected::Resolve),
            (&Method::GET | &Method::HEAD | &Method::OPTIONS, _) => Route::Unrecorded,
            _ => Route::Other,
        }
    }
}

/// The path without a trailing `/` (but `/` stays `/`), as the server's router matches it.
fn trim_path(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    if t.is_empty() { "/" } else { t }
}

/// True for a file download route: `/api/projects/{p}/files/...`, installers and dependency
/// packages. Such answers are large and are not recorded unless asked.
pub(crate) fn is_download_path(path: &str) -> bool {
    let p = trim_path(path);
    if let Some(rest) = p.strip_prefix("/api/projects/") {
        let mut parts = rest.split('/');
        let _project = parts.next();
        return matches!(parts.next(), Some("files" | "thumbnails"));
    }
    (p.starts_with("/api/desktop/installers/") || p.starts_with("/api/desktop/dependencyPackages/"))
        && p.matches('/').count() >= 4
}

/// True for an answer that is a file rather than data (`application/octet-stream`, or any
/// `Content-Disposition: attachment`).
pub(crate) fn is_download_answer(headers: &HeaderMap) -> bool {
    let ct = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let attachment = headers
        .get(hyper::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("attachment")
        });
    ct.starts_with("application/octet-stream") || attachment
}

/// Headers that belong to one connection, not to the message (RFC 9110 §7.6.1), plus those the
/// `Connection` header names; never forwarded either way. `host` is set by the client for the
/// server it connects to.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    ] {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::of(&Method::GET, "/", false), Route::Get);
        assert_eq!(Route::of(&Method::GET, "/api/info", false), Route::Get);
        assert_eq!(Route::of(&Method::GET, "/ws", true), Route::Ws);
        assert_eq!(Route::of(&Method::GET, "/ws", false), Route::Unrecorded);
        assert_eq!(
            Route::of(&Method::GET, "/addons/x", false),
            Route::Unrecorded
        );
        assert_eq!(
            Route::of(&Method::HEAD, "/api/info", false),
            Route::Unrecorded
        );
        assert_eq!(
            Route::of(&Method::GET, "/_proxy/status", false),
            Route::Status
        );
        assert_eq!(
            Route::of(&Method::POST, "/graphql", false),
            Route::Inspect(Inspected::Graphql)
        );
        assert_eq!(
            Route::of(&Method::POST, "/api/resolve/", false),
            Route::Inspect(Inspected::Resolve)
        );
        for (m, p) in [
            (Method::POST, "/api/projects/demo/folders"),
            (Method::PATCH, "/api/projects/demo/versions/x"),
            (Method::DELETE, "/api/projects/demo"),
            (Method::PUT, "/api/users/x"),
        ] {
            assert_eq!(Route::of(&m, p, false), Route::Other, "{m} {p}");
        }
    }

    #[test]
    fn downloads() {
        assert!(is_download_path("/api/projects/demo/files/abc"));
        assert!(is_download_path("/api/projects/demo/thumbnails/abc"));
        assert!(!is_download_path("/api/projects/demo/folders"));
        assert!(!is_download_path("/api/projects/demo"));
        assert!(is_download_path("/api/desktop/installers/x.zip"));
        assert!(!is_download_path("/api/desktop/installers"));
    }

    #[test]
    fn hop_by_hop_headers_go() {
        let mut h = HeaderMap::new();
        h.insert("connection", "keep-alive, x-private".parse().expect("v"));
        h.insert("x-private", "1".parse().expect("v"));
        h.insert("keep-alive", "timeout=5".parse().expect("v"));
        h.insert("transfer-encoding", "chunked".parse().expect("v"));
        h.insert("x-api-key", "k".parse().expect("v"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key("x-api-key"));
    }
}
