//! Who is calling: the credential a request carries and the user it stands for, with the
//! real server's 401 answers.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::Response;

use crate::respond::error;
use crate::state::{Shared, User};

/// The credential a request carries, in the order the server looks for one.
pub(crate) enum Credential {
    /// None at all.
    Missing,
    /// `Authorization: Bearer …` or the `accessToken` cookie.
    Bearer(String),
    /// `Authorization: ApiKey …` or `x-api-key`.
    ApiKey(String),
}

impl Credential {
    /// The credential of a request's headers.
    pub(crate) fn of(headers: &HeaderMap) -> Credential {
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
}

/// An authenticated caller, as a handler argument: extracting it answers the recorded 401
/// before the handler runs, as the server's dependency on the current user does. It carries
/// the server state the handler answers from.
pub(crate) struct Caller {
    /// Who is calling.
    pub user: User,
    /// The server state.
    pub shared: Arc<Shared>,
}

impl FromRequestParts<Arc<Shared>> for Caller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        shared: &Arc<Shared>,
    ) -> Result<Self, Self::Rejection> {
        let user = authenticate(shared, &parts.headers).await?;
        Ok(Caller {
            user,
            shared: shared.clone(),
        })
    }
}

/// The user behind a request's credentials, or the recorded 401.
pub(crate) async fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<User, Response> {
    match Credential::of(headers) {
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
