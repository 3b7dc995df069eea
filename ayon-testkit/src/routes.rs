//! The router, the per-request fault middleware, auth, and the small REST endpoints.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::library::Site;
use crate::state::{Shared, User};

/// Version string the real server reported.
pub(crate) const SERVER_VERSION: &str = "1.16.0+DEVELOP";

const INFO_ATTRIBUTES: &str = include_str!("../data/info_attributes.json");
const ATTRIBUTES: &str = include_str!("../data/attributes.json");

/// Builds the whole application.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/info", get(info))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/users/me", get(users_me))
        .route("/api/attributes", get(attributes))
        .route(
            "/api/users/{name}",
            axum::routing::put(crate::users::put_user).patch(crate::users::patch_user),
        )
        .route(
            "/api/users/{name}/apikeys",
            get(crate::users::list_keys).post(crate::users::add_key),
        )
        .route("/api/resolve", post(crate::resolve::resolve))
        .route(
            "/api/projects",
            get(crate::entities::list_projects).post(crate::entities::create_project),
        )
        .route(
            "/api/projects/{project}",
            get(crate::entities::project_detail),
        )
        .route(
            "/api/projects/{project}/anatomy",
            get(crate::entities::project_anatomy),
        )
        .route(
            "/api/projects/{project}/siteRoots",
            get(crate::entities::site_roots),
        )
        .route(
            "/api/projects/{project}/roots",
            get(crate::entities::get_roots),
        )
        .route(
            "/api/projects/{project}/roots/{site}",
            get(crate::entities::get_site_overrides).put(crate::entities::put_roots),
        )
        .route(
            "/api/projects/{project}/folders",
            get(crate::entities::list_folders).post(crate::entities::create_entity_folders),
        )
        .route(
            "/api/projects/{project}/hierarchy",
            get(crate::entities::hierarchy),
        )
        .route(
            "/api/projects/{project}/{kind}/{id}",
            get(crate::entities::get_entity),
        )
        .route(
            "/api/projects/{project}/{kind}",
            get(not_found).post(crate::entities::create_entity),
        )
        .route("/graphql", post(graphql))
        .route("/ws", get(crate::ws::ws_handler))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), faults))
        .with_state(shared)
}

/// Counting, hanging, latency and injected failures, before any handler runs.
async fn faults(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    shared.count(format!("{} {}", req.method(), path));
    // hang(true) or booting: existing keep-alive connections hang too.
    let mut phase = shared.phase.subscribe();
    while !phase.borrow_and_update().answering() {
        if phase.changed().await.is_err() {
            break;
        }
    }
    let latency = *shared.latency.lock();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if path.starts_with("/api") || path == "/graphql" {
        let injected = {
            let mut f = shared.fail_next.lock();
            if f.0 > 0 {
                f.0 -= 1;
                Some(f.1)
            } else {
                None
            }
        };
        if let Some(status) = injected {
            return with_headers(injected_failure(status, req.method(), &path));
        }
    }
    with_headers(next.run(req).await)
}

fn with_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert("server", HeaderValue::from_static("uvicorn"));
    if let Ok(v) = HeaderValue::from_str(&crate::server::request_id()) {
        h.insert("x-request-id", v);
    }
    resp
}

fn injected_failure(status: u16, method: &Method, path: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = if status == 500 {
        json!({"status": 500, "detail": "Injected failure", "traceback": format!("[{method}] {path}")})
    } else {
        let detail = match status {
            503 => "Service unavailable",
            502 => "Bad gateway",
            504 => "Gateway timeout",
            429 => "Too many requests",
            _ => code.canonical_reason().unwrap_or("Error"),
        };
        json!({"code": status, "detail": detail})
    };
    (code, axum::Json(body)).into_response()
}

/// A JSON response with a status.
pub(crate) fn json_response(status: u16, body: Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, axum::Json(body)).into_response()
}

/// The handled-error shape `{"code": N, "detail": "..."}`.
pub(crate) fn error(status: u16, detail: impl Into<String>) -> Response {
    json_response(status, json!({"code": status, "detail": detail.into()}))
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
    let traceback = errors
        .iter()
        .map(|e| {
            let field = e.loc.last().and_then(Value::as_str).unwrap_or_default();
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

/// The unknown-route shape.
async fn not_found(req: Request) -> Response {
    let path = req.uri().path().to_owned();
    json_response(
        404,
        json!({"code": 404, "detail": format!("API endpoint {path} not found"), "path": path}),
    )
}

async fn index() -> Response {
    (
        [("content-type", "text/html; charset=utf-8")],
        "<!DOCTYPE html><html><head><title>AYON</title></head><body>ayon-testkit</body></html>",
    )
        .into_response()
}

enum Credential {
    Missing,
    Bearer(String),
    ApiKey(String),
}

fn credential(headers: &HeaderMap) -> Credential {
    if let Some(v) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if let Some((scheme, rest)) = v.split_once(' ') {
            let rest = rest.trim().to_owned();
            if scheme.eq_ignore_ascii_case("bearer") {
                return Credential::Bearer(rest);
            }
            if scheme.eq_ignore_ascii_case("apikey") {
                return Credential::ApiKey(rest);
            }
        }
    }
    if let Some(v) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Credential::ApiKey(v.trim().to_owned());
    }
    if let Some(cookies) = headers.get("cookie").and_then(|v| v.to_str().ok()) {
        for c in cookies.split(';') {
            if let Some(t) = c.trim().strip_prefix("accessToken=") {
                return Credential::Bearer(t.to_owned());
            }
        }
    }
    Credential::Missing
}

/// The user behind a request's credentials, or the recorded 401.
pub(crate) async fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<User, Response> {
    match credential(headers) {
        Credential::Missing => Err(error(401, "Access token is missing")),
        // A bearer value that is not a 64-hex token counts as no token at all (recorded with
        // an API key sent as `Bearer`).
        Credential::Bearer(token) if !is_session_token(&token) => {
            Err(error(401, "Access token is missing"))
        }
        Credential::Bearer(token) => {
            let auth = shared.auth.lock();
            if let Some(name) = auth.sessions.get(&token) {
                return auth
                    .users
                    .get(name)
                    .cloned()
                    .ok_or_else(|| error(401, "Invalid session"));
            }
            if auth.logged_out.contains(&token) {
                Err(error(401, "User logged out"))
            } else {
                Err(error(401, "Invalid session"))
            }
        }
        Credential::ApiKey(key) => {
            let known = {
                let mut auth = shared.auth.lock();
                match auth.api_keys.get(&key).cloned() {
                    Some(name) => {
                        auth.api_key_sessions.insert(key.clone());
                        auth.users.get(&name).cloned()
                    }
                    None if auth.invalid_keys.contains(&key) => {
                        return Err(error(401, "Invalid session"));
                    }
                    None => None,
                }
            };
            match known {
                Some(user) => Ok(user),
                None => {
                    // The real server sleeps before refusing an unknown key.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    shared.auth.lock().invalid_keys.insert(key);
                    Err(error(401, "Invalid API key"))
                }
            }
        }
    }
}

fn is_session_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Site ids the server accepts: `^[a-z0-9-]+$`.
pub(crate) fn valid_site_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

async fn info(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let uptime = (shared.started.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    let full = query.iter().any(|(k, v)| k == "full" && v == "true");
    let has_cred = !matches!(credential(&headers), Credential::Missing);
    let user = if has_cred {
        authenticate(&shared, &headers).await.ok()
    } else {
        None
    };
    let Some(user) = user else {
        let mut body = json!({"version": SERVER_VERSION, "uptime": uptime});
        if full {
            body["passwordRecoveryAvailable"] = false.into();
            body["ssoOptions"] = json!([]);
        }
        body["disableFeedback"] = true.into();
        body["offlineMode"] = true.into();
        return json_response(200, body);
    };
    let site_id = header(&headers, "x-ayon-site-id");
    if let (Some(id), Some(platform), Some(hostname), Some(version)) = (
        site_id,
        header(&headers, "x-ayon-platform"),
        header(&headers, "x-ayon-hostname"),
        header(&headers, "x-ayon-version"),
    ) {
        if !valid_site_id(id) {
            return error(400, format!("Invalid site id: {id}"));
        }
        shared.library.write().register_site(Site {
            id: id.to_owned(),
            platform: platform.to_owned(),
            hostname: hostname.to_owned(),
            version: version.to_owned(),
            users: vec![user.name.clone()],
        });
    }
    let mut sites: Vec<Value> = {
        let lib = shared.library.read();
        let mut mine: Vec<&Site> = lib
            .sites
            .iter()
            .filter(|s| s.users.contains(&user.name))
            .collect();
        mine.sort_by_key(|s| Some(s.id.as_str()) != site_id);
        mine.iter()
            .map(|s| serde_json::to_value(s).unwrap_or(Value::Null))
            .collect()
    };
    sites.retain(|v| !v.is_null());
    let attributes: Value = serde_json::from_str(INFO_ATTRIBUTES).unwrap_or(json!([]));
    let mut user_json = user.to_json();
    if user.is_service
        && let Some(o) = user_json.as_object_mut()
    {
        o.remove("uiExposureLevel");
    }
    json_response(
        200,
        json!({
            "version": SERVER_VERSION,
            "uptime": uptime,
            "user": user_json,
            "attributes": attributes,
            "sites": sites,
            "ssoOptions": [],
            "frontendFlags": [],
            "extras": "",
            "disableChangelog": true,
            "disableFeedback": true,
            "offlineMode": true,
        }),
    )
}

async fn login(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let name = v.get("name").and_then(Value::as_str);
    let password = v.get("password").and_then(Value::as_str);
    let Some(name) = name else {
        return missing_body_field("POST", "/api/auth/login", "name");
    };
    let Some(password) = password else {
        return missing_body_field("POST", "/api/auth/login", "password");
    };
    let user = {
        let auth = shared.auth.lock();
        auth.users
            .get(name)
            .filter(|u| u.password.as_deref() == Some(password))
            .cloned()
    };
    let Some(user) = user else {
        return error(403, "Invalid login/password combination");
    };
    let token = shared.new_session(&user.name);
    let mut user_json = user.to_json();
    user_json["uiExposureLevel"] = Value::Null;
    user_json["attrib"] = json!({"fullName": user.full_name, "email": null, "avatarUrl": null, "developerMode": null});
    user_json["ownAttrib"] = json!(["fullName"]);
    json_response(
        200,
        json!({
            "detail": format!("Logged in as {}", user.name),
            "error": null,
            "token": token,
            "user": user_json,
            "redirectUrl": null,
        }),
    )
}

async fn logout(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(resp) = authenticate(&shared, &headers).await {
        return resp;
    }
    if let Credential::Bearer(token) = credential(&headers) {
        let mut auth = shared.auth.lock();
        auth.sessions.remove(&token);
        auth.logged_out.insert(token);
    }
    json_response(200, json!({"detail": "Logged out"}))
}

async fn users_me(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match authenticate(&shared, &headers).await {
        Ok(user) => json_response(200, user.to_json()),
        Err(resp) => resp,
    }
}

async fn attributes(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(resp) = authenticate(&shared, &headers).await {
        return resp;
    }
    json_response(
        200,
        serde_json::from_str(ATTRIBUTES).unwrap_or(json!({"attributes": []})),
    )
}

async fn graphql(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(resp) = authenticate(&shared, &headers).await {
        return resp;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "Invalid JSON body");
    };
    let (status, value) = crate::graphql::execute(shared.library.clone(), body).await;
    json_response(status, value)
}

/// An empty 204 answer.
pub(crate) fn no_content() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}
