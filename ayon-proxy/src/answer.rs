//! The answers the proxy writes itself, in the AYON server's own shapes, and the body type every
//! response shares.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Response, StatusCode};

/// The error type of response bodies (the server's stream may fail mid-way).
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Every response body: a buffered answer, a recorded one, or the server's stream.
pub(crate) type Body = BoxBody<Bytes, BoxError>;

/// Marks an answer given from the store while the server is unreachable (`1`).
pub const OFFLINE_HEADER: &str = "x-ayon-offline";
/// Marks every answer the proxy wrote itself (its own errors, offline answers): `ayon-proxy`.
pub const PROXY_HEADER: &str = "x-ayon-proxy";

/// A body of bytes already in memory.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|e| match e {}).boxed()
}

/// A JSON answer with `status`, marked as the proxy's own.
pub(crate) fn json(status: u16, value: &serde_json::Value) -> Response<Body> {
    let mut r = Response::new(full(value.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r.headers_mut()
        .insert(PROXY_HEADER, HeaderValue::from_static("ayon-proxy"));
    r
}

/// The server's handled-error shape, `{"code": N, "detail": "..."}`, which ayon-python-api
/// puts in the message of the exception it raises.
pub(crate) fn error(status: u16, detail: impl Into<String>) -> Response<Body> {
    json(
        status,
        &serde_json::json!({"code": status, "detail": detail.into()}),
    )
}

/// The raw bytes of a 400 in the error shape, for a connection whose request line could not be
/// parsed (hyper never sees it); the connection closes after it.
pub(crate) fn raw_bad_request(detail: &str) -> Vec<u8> {
    let body = serde_json::json!({"code": 400, "detail": detail}).to_string();
    format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         {PROXY_HEADER}: ayon-proxy\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
