//! The router, the per-request fault middleware, and the small REST endpoints (info, login,
//! logout, me, attributes, GraphQL).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::auth::{Credential, authenticate};
use crate::library::{Site, new_id};
use crate::project_rest;
use crate::request::{header, valid_site_id};
use crate::respond::{error, json_response, missing_body_field, unknown_endpoint};
use crate::state::Shared;
use crate::users;

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
            axum::routing::put(users::put_user).patch(users::patch_user),
        )
        .route(
            "/api/users/{name}/apikeys",
            get(users::list_keys).post(users::add_key),
        )
        .route("/api/resolve", post(crate::resolve::resolve))
        .merge(project_rest::routes())
        .route("/graphql", post(graphql))
        .route("/ws", get(crate::ws::ws_handler))
        .fallback(unknown_endpoint)
        .layer(middleware::from_fn_with_state(shared.clone(), faults))
        .with_state(shared)
}

/// Counting, hanging, latency and injected failures, before any handler runs.
async fn faults(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    shared.count(format!("{} {}", req.method(), path));
    let _in_flight = InFlight::enter(&shared);
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
            if f.0 > 0 && f.2.as_deref().is_none_or(|only| only == path) {
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

/// Counts a request as being handled until dropped (also when the client goes away and the
/// handler is cancelled), keeping the high-water mark.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> InFlight<'a> {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn with_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert("server", HeaderValue::from_static("uvicorn"));
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        h.insert("x-request-id", v);
    }
    resp
}

/// An id-like random string for `x-request-id`.
fn request_id() -> String {
    new_id()[..16].to_owned()
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

async fn index() -> Response {
    (
        [("content-type", "text/html; charset=utf-8")],
        "<!DOCTYPE html><html><head><title>AYON</title></head><body>ayon-testkit</body></html>",
    )
        .into_response()
}

async fn info(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    let uptime = (shared.started.elapsed().as_secs_f64() * 10.0).round() / 10.0;
    let full = query.iter().any(|(k, v)| k == "full" && v == "true");
    let has_cred = !matches!(Credential::of(&headers), Credential::Missing);
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
    if let Credential::Bearer(token) = Credential::of(&headers) {
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
    let user = match authenticate(&shared, &headers).await {
        Ok(user) => user,
        Err(resp) => return resp,
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "Invalid JSON body");
    };
    let me = crate::graphql::Me {
        name: user.name.clone(),
        active: true,
        is_admin: user.is_admin,
        // The server's `is_manager`: managers, admins and services.
        is_manager: user.is_admin || user.is_service,
        is_service: user.is_service,
        is_guest: false,
    };
    let (status, value) =
        crate::graphql::execute_as(shared.library.clone(), shared.events.clone(), me, body).await;
    shared.graphql_edges.fetch_add(
        crate::graphql::edge_count(&value["data"]),
        std::sync::atomic::Ordering::SeqCst,
    );
    json_response(status, value)
}
