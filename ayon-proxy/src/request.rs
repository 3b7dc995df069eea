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
    /// Anything else: forwarded while online, refused offline, never recorded.
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

/// What the operations of a GraphQL document are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Only queries (`query ...` or a bare `{ ... }`): a read.
    Query,
    /// At least one mutation or subscription: never recorded or replayed.
    Mutation,
}

/// The kind of a `POST /graphql` body, or why it is not a GraphQL request
/// (not JSON, no `query` string).
pub(crate) fn graphql_operation(body: &[u8]) -> Result<Operation, String> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("the GraphQL request body is not JSON: {e}"))?;
    let query = v
        .get("query")
        .and_then(serde_json::Value::as_str)
        .ok_or("the GraphQL request body has no `query` string")?;
    Ok(document_operation(query))
}

/// Scans the document's top level (outside braces, strings and comments) for the keywords
/// `mutation` and `subscription`; fragments and queries are reads.
fn document_operation(doc: &str) -> Operation {
    let bytes = doc.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                let block = bytes[i..].starts_with(b"\"\"\"");
                i += if block { 3 } else { 1 };
                while i < bytes.len() {
                    if block && bytes[i..].starts_with(b"\"\"\"") {
                        i += 2;
                        break;
                    }
                    if !block && bytes[i] == b'\\' {
                        i += 1;
                    } else if !block && bytes[i] == b'"' {
                        break;
                    }
                    i += 1;
                }
            }
            b'{' | b'(' => depth += 1,
            b'}' | b')' => depth = depth.saturating_sub(1),
            c if depth == 0 && (c.is_ascii_alphabetic() || c == b'_') => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if matches!(&doc[start..i], "mutation" | "subscription") {
                    return Operation::Mutation;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Operation::Query
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::of(&Method::GET, "/", false), Route::Get);
        assert_eq!(Route::of(&Method::GET, "/api/info", false), Route::Get);
        assert_eq!(Route::of(&Method::GET, "/ws", true), Route::Ws);
        assert_eq!(Route::of(&Method::GET, "/ws", false), Route::Other);
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
            (Method::GET, "/addons/x"),
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
    fn graphql_operations() {
        let op =
            |q: &str| graphql_operation(serde_json::json!({ "query": q }).to_string().as_bytes());
        assert_eq!(
            op("query Folders { project { name } }"),
            Ok(Operation::Query)
        );
        assert_eq!(
            op("{ projects { edges { node { name } } } }"),
            Ok(Operation::Query)
        );
        assert_eq!(
            op("query A($m: String = \"mutation\") { a(x: \"mutation {\") } # mutation\n"),
            Ok(Operation::Query)
        );
        assert_eq!(op("mutation { createThing }"), Ok(Operation::Mutation));
        assert_eq!(
            op("query A { a } mutation B { b }"),
            Ok(Operation::Mutation)
        );
        assert_eq!(op("subscription { s }"), Ok(Operation::Mutation));
        assert!(graphql_operation(b"not json").is_err());
        assert!(graphql_operation(b"{\"variables\": {}}").is_err());
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
