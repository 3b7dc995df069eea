//! User administration the recordings exercise: service users with API keys, personal keys.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::library::new_id;
use crate::respond::{error, exception, json_response, missing_body_field, no_content};
use crate::state::{PersonalKey, User};

fn preview(key: &str, stars: usize) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(stars);
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(stars))
}

fn is_service_key(key: &str) -> bool {
    key.len() == 32 && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The JSON body, `null` when it is not JSON: the handlers then answer as the server does for
/// a missing field.
fn json_or_null(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

fn user_not_found(name: &str) -> Response {
    error(404, format!("User {name} not found"))
}

/// `PUT /api/users/{name}`: creates or replaces a user; `apiKey` makes it a service user.
pub(crate) async fn put_user(caller: Caller, Path(name): Path<String>, body: Bytes) -> Response {
    let v = json_or_null(&body);
    let full_name = v
        .pointer("/attrib/fullName")
        .and_then(Value::as_str)
        .unwrap_or(&name)
        .to_owned();
    let is_service = v.pointer("/data/isService").and_then(Value::as_bool) == Some(true);
    let key = v.get("apiKey").and_then(Value::as_str).map(str::to_owned);
    if let Some(k) = &key
        && !is_service_key(k)
    {
        // The real server fails an assertion here.
        return json_response(
            500,
            json!({"path": format!("[PUT] /users/{name}"),
                   "file": "<SERVER_DIR>/backend/ayon_server/entities/user.py",
                   "function": "set_api_key", "line": 479, "user": caller.user.name, "detail": "", "status": 500}),
        );
    }
    let mut user = User::new(&name, &full_name, false, is_service);
    user.password = v.get("password").and_then(Value::as_str).map(str::to_owned);
    user.created_by = Some(caller.user.name.clone());
    user.api_key_preview = key.as_deref().map(|k| preview(k, 3));
    let mut auth = caller.shared.auth.lock();
    auth.api_keys.retain(|_, owner| owner != &name);
    if let Some(k) = key {
        auth.api_keys.insert(k, name.clone());
    }
    auth.users.insert(name, user);
    no_content()
}

/// `PATCH /api/users/{name}`: only `data.apiKeys` is honoured (the recorded workaround).
pub(crate) async fn patch_user(caller: Caller, Path(name): Path<String>, body: Bytes) -> Response {
    let v = json_or_null(&body);
    let mut auth = caller.shared.auth.lock();
    let Some(user) = auth.users.get_mut(&name) else {
        return user_not_found(&name);
    };
    if let Some(Value::Array(_)) = v.pointer("/data/apiKeys") {
        user.personal_keys.get_or_insert_with(Vec::new);
    }
    if let Some(full) = v.pointer("/attrib/fullName").and_then(Value::as_str) {
        user.full_name = full.to_owned();
    }
    no_content()
}

fn none_bug() -> Response {
    exception(
        "TypeError: 'NoneType' object is not iterable",
        "api/users/apikeys.py:49\nreturn [ApiKeyModel(**record) for record in records]",
    )
}

/// `GET /api/users/{name}/apikeys` (500 until `data.apiKeys` exists, as recorded).
pub(crate) async fn list_keys(caller: Caller, Path(name): Path<String>) -> Response {
    let mut auth = caller.shared.auth.lock();
    let Some(user) = auth.users.get_mut(&name) else {
        return user_not_found(&name);
    };
    match &user.personal_keys {
        None => none_bug(),
        Some(keys) => json_response(
            200,
            keys.iter()
                .map(|k| {
                    json!({"id": k.id, "label": k.label, "preview": k.preview,
                                "created": k.created, "expires": k.expires})
                })
                .collect(),
        ),
    }
}

/// `POST /api/users/{name}/apikeys {"label","key","expires"}`: 200 `null`.
pub(crate) async fn add_key(caller: Caller, Path(name): Path<String>, body: Bytes) -> Response {
    let v = json_or_null(&body);
    let Some(key) = v.get("key").and_then(Value::as_str).map(str::to_owned) else {
        return missing_body_field("POST", &format!("/api/users/{name}/apikeys"), "key");
    };
    let mut auth = caller.shared.auth.lock();
    let Some(user) = auth.users.get_mut(&name) else {
        return user_not_found(&name);
    };
    let Some(keys) = user.personal_keys.as_mut() else {
        return none_bug();
    };
    keys.push(PersonalKey {
        id: new_id(),
        label: v
            .get("label")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        preview: preview(&key, 5),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default(),
        expires: v.get("expires").cloned().unwrap_or(Value::Null),
    });
    auth.api_keys.insert(key, name);
    json_response(200, Value::Null)
}
