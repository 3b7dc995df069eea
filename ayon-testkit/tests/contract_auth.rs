//! Replays the recorded auth and `/api/info` exchanges against the testkit.

mod common;

use common::{Opts, Replay, assert_clean};
use serde_json::json;

/// Server clock and account times differ from the recording's.
const VARIABLE: &[&str] = &["uptime", "createdAt", "updatedAt"];

#[test]
fn info_unauthenticated() {
    let mut r = Replay::new();
    assert_clean(
        "info_unauthenticated.json",
        r.replay("info_unauthenticated.json", &Opts::ignoring(VARIABLE)),
    );
}

#[test]
fn info_authenticated_and_site_registration() {
    let mut r = Replay::new();
    assert_clean(
        "info_authenticated.json",
        r.replay("info_authenticated.json", &Opts::ignoring(VARIABLE)),
    );
    let lib = r.server.library();
    let lib = lib.read();
    let site = lib.site("offline-test-windows").expect("registered");
    assert_eq!(site.platform, "windows");
}

#[test]
fn auth_login_logout() {
    let mut r = Replay::new();
    // The recording masks both the right and the wrong password as <PASSWORD>.
    let opts =
        Opts::ignoring(VARIABLE).body(1, json!({"name": "admin", "password": "not-the-password"}));
    assert_clean("auth_login.json", r.replay("auth_login.json", &opts));
}

#[test]
fn users_me() {
    let mut r = Replay::new();
    assert_clean(
        "users_me.json",
        r.replay("users_me.json", &Opts::ignoring(VARIABLE)),
    );
}

#[test]
fn ayon_api_session() {
    let mut r = Replay::new();
    // The recording's admin had a personal API key (`data.apiKeys`) from the api_keys session.
    let mut ignore = VARIABLE.to_vec();
    ignore.push("data");
    let opts = Opts {
        ignore: ignore.into_iter().collect(),
        ..Opts::default()
    };
    assert_clean(
        "ayon_api_session.json",
        r.replay("ayon_api_session.json", &opts),
    );
}

#[test]
fn api_keys_service_user_and_personal_keys() {
    let mut r = Replay::new();
    let key = "Resolver0Service0Key0123456789AB";
    assert_eq!(key.len(), 32);
    r.bind("<RESOLVER_SERVICE_API_KEY>", key);
    r.bind(
        "<ADMIN_PERSONAL_API_KEY>",
        "admin-personal-key-of-this-replay",
    );
    // The recording masks the keys sent; these are a valid and an invalid one.
    let opts = Opts::ignoring(&["createdAt", "updatedAt", "apiKeyPreview", "preview", "created", "id", "traceback"])
        .body(0, json!({"attrib": {"fullName": "Resolver service"}, "data": {"isService": true}, "apiKey": key}))
        .body(1, json!({"data": {"isService": true}, "apiKey": "not-32-alnum"}));
    assert_clean("api_keys.json", r.replay("api_keys.json", &opts));
}
