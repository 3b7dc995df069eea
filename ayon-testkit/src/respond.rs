//! The response shapes the real server answers with: JSON with a status, the handled-error
//! shape, pydantic validation errors, the unknown-route 404 and the empty 204.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A JSON response with a status.
pub(crate) fn json_response(status: u16, body: Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, axum::Json(body)).into_response()
}

/// The handled-error shape `{"code": N, "detail": "..."}`.
pub(crate) fn error(status: u16, detail: impl Into<String>) -> Response {
    json_response(status, json!({"code": status, "detail": detail.into()}))
}

/// The unhandled-exception shape `{"status": 500, "detail", "traceback"}`: the exception line,
/// then the server file and line that raised it.
pub(crate) fn exception(detail: &str, location: &str) -> Response {
    json_response(
        500,
        json!({"status": 500, "detail": detail, "traceback": format!("{detail}\n\n{location}")}),
    )
}

/// How the server's `log_exception` words an unhandled exception for `detail`:
/// `Class: message`, stripped, with braces doubled (it escapes them for its logger).
pub(crate) fn python_exception(class: &str, message: &str) -> String {
    format!("{class}: {message}")
        .trim()
        .replace('{', "{{")
        .replace('}', "}}")
}

/// The 404 for a path no route serves.
pub(crate) fn endpoint_not_found(path: &str) -> Response {
    json_response(
        404,
        json!({"code": 404, "detail": format!("API endpoint {path} not found"), "path": path}),
    )
}

/// The handler for every path no route serves.
pub(crate) async fn unknown_endpoint(req: Request) -> Response {
    endpoint_not_found(req.uri().path())
}

/// One pydantic-v1 validation error.
pub(crate) struct Invalid {
    pub loc: Vec<Value>,
    pub msg: String,
    pub kind: String,
    pub ctx: Option<Value>,
}

/// The request-validation shape (400, not 422).
pub(crate) fn validation_error(method: &str, path: &str, errors: Vec<Invalid>) -> Response {
    // The server's handler names a field by its `loc` without the first element ("body",
    // "query"...) unless that is all there is, joined with dots: `uris.0`.
    let traceback = errors
        .iter()
        .map(|e| {
            let loc = if e.loc.len() > 1 {
                &e.loc[1..]
            } else {
                &e.loc[..]
            };
            let field = loc
                .iter()
                .map(|part| match part {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".");
            format!("{field}: {}", e.msg)
        })
        .collect::<Vec<_>>()
        .join("\n");
    let errs: Vec<Value> = errors
        .into_iter()
        .map(|e| {
            let mut v = json!({"loc": e.loc, "msg": e.msg, "type": e.kind});
            if let Some(ctx) = e.ctx {
                v["ctx"] = ctx;
            }
            v
        })
        .collect();
    json_response(
        400,
        json!({
            "code": 400,
            "detail": format!("Request validation error in [{method}] {path}"),
            "path": path,
            "traceback": traceback,
            "errors": errs,
        }),
    )
}

/// A "field required" validation error for a JSON body field.
pub(crate) fn missing_body_field(method: &str, path: &str, field: &str) -> Response {
    validation_error(
        method,
        path,
        vec![Invalid {
            loc: vec!["body".into(), field.into()],
            msg: "field required".into(),
            kind: "value_error.missing".into(),
            ctx: None,
        }],
    )
}

/// An empty 204 answer.
pub(crate) fn no_content() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}
