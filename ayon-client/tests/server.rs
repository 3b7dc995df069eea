//! The server client against ayon-testkit over real loopback sockets: recorded answers, site
//! registration, auth, 503 retries, batching, and use from inside a caller's tokio runtime.

use std::time::{Duration, Instant};

use ayon_client::{Client, ClientError, Platform, ResolveError, ResolvedEntity, RetryPolicy};
use ayon_testkit::{Library, TestServer, load_fixture};
use serde_json::Value;

fn server() -> TestServer {
    TestServer::start(Library::demo_offline()).expect("testkit server starts")
}

fn client(server: &TestServer) -> ayon_client::ClientBuilder {
    Client::builder(server.url())
        .session_token(server.session_token())
        .request_timeout(Duration::from_secs(5))
        .retry(RetryPolicy {
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        })
}

/// The URIs, site id and answers of a recorded `/api/resolve` exchange.
fn recorded(name: &str) -> (Vec<String>, String, Vec<Value>) {
    let fixture = load_fixture(name).unwrap_or_else(|e| panic!("fixture {name} is required: {e}"));
    let ex = &fixture["exchanges"][0];
    let uris = ex["request"]["body"]["uris"]
        .as_array()
        .expect("uris")
        .iter()
        .map(|u| u.as_str().expect("str").to_owned())
        .collect();
    let site = ex["request"]["headers"]["x-ayon-site-id"]
        .as_str()
        .expect("site header")
        .to_owned();
    let answers = ex["response"]["body"]
        .as_array()
        .expect("answer list")
        .clone();
    (uris, site, answers)
}

fn check_against_recording(name: &str, platform: Platform) {
    let server = server();
    let (uris, site, recorded) = recorded(name);
    let c = client(&server)
        .site_id(&site)
        .platform(platform)
        .build()
        .expect("client");
    let ours = c.resolve_blocking(&uris);
    assert_eq!(ours.len(), recorded.len());
    for ((uri, ours), rec) in uris.iter().zip(&ours).zip(&recorded) {
        assert_eq!(rec["uri"].as_str(), Some(uri.as_str()));
        let rec_entities: Vec<ResolvedEntity> =
            serde_json::from_value(rec["entities"].clone()).expect("entities");
        match (ours, rec.get("error").and_then(Value::as_str)) {
            (Err(ResolveError::ServerError { message, .. }), Some(e)) => {
                assert_eq!(message, e, "{uri}")
            }
            (other, Some(e)) => panic!("{name}: {uri}: recorded error {e:?}, ours {other:?}"),
            (Ok(r), None) => {
                assert_eq!(r.uri(), uri);
                assert_eq!(r.entities(), rec_entities.as_slice(), "{name}: {uri}");
            }
            (Err(ResolveError::NotFound { uri: u }), None) => {
                assert!(
                    rec_entities.is_empty(),
                    "{name}: {uri}: ours not found, recorded {rec_entities:?}"
                );
                assert_eq!(u, uri);
            }
            (Err(e), None) => panic!("{name}: {uri}: {e}"),
        }
    }
    // 32 URIs, some duplicates by meaning: one request, fewer URIs than given.
    assert_eq!(server.request_count("POST /api/resolve"), 1);
    assert!(server.resolved_uri_count() < uris.len() as u64);
}

#[test]
fn answers_equal_the_recorded_linux_site() {
    check_against_recording("resolve_valid_roots_site_linux.json", Platform::Linux);
}

#[test]
fn answers_equal_the_recorded_windows_site() {
    check_against_recording("resolve_valid_roots_site_windows.json", Platform::Windows);
}

#[test]
fn answers_equal_the_recorded_darwin_site() {
    check_against_recording("resolve_valid_roots_site_darwin.json", Platform::Darwin);
}

#[test]
fn answers_equal_the_recorded_override_site() {
    check_against_recording("resolve_valid_roots_site_override.json", Platform::Linux);
}

#[test]
fn invalid_uris_get_the_servers_error_without_being_sent() {
    let server = server();
    let fixture = load_fixture("resolve_batch_noroots_nosite.json")
        .expect("fixture resolve_batch_noroots_nosite.json is required");
    let ex = &fixture["exchanges"][0];
    let recorded = ex["response"]["body"].as_array().expect("answers");
    let c = client(&server).build().expect("client");
    let uris: Vec<&str> = recorded
        .iter()
        .map(|r| r["uri"].as_str().expect("uri"))
        .collect();
    let ours = c.resolve_blocking(&uris);
    let mut invalid = 0;
    for (rec, ours) in recorded.iter().zip(&ours) {
        let Some(err) = rec.get("error").and_then(Value::as_str) else {
            continue;
        };
        match ours {
            Err(ResolveError::Invalid { message, .. }) => {
                invalid += 1;
                assert_eq!(message, err);
            }
            Err(ResolveError::ServerError { message, .. }) => assert_eq!(message, err),
            other => panic!("{}: recorded {err:?}, ours {other:?}", rec["uri"]),
        }
    }
    assert!(
        invalid >= 5,
        "the batch holds several malformed URIs, got {invalid}"
    );
    let valid: u64 = ours
        .iter()
        .filter(|r| !matches!(r, Err(ResolveError::Invalid { .. })))
        .count() as u64;
    assert!(
        server.resolved_uri_count() <= valid,
        "invalid URIs must never be sent"
    );
}

#[test]
fn an_unregistered_site_is_registered_then_used() {
    let server = server();
    let c = client(&server)
        .site_id("brand-new-site")
        .platform(Platform::Windows)
        .build()
        .expect("client");
    let r = c.resolve_blocking(&["ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd"]);
    let path = r[0]
        .as_ref()
        .expect("resolves after registering")
        .path()
        .expect("path")
        .to_owned();
    assert_eq!(
        path,
        "P:\\projects\\demo_offline\\assets\\characters\\hero\\publish\\usd\\usdAsset\\v001\\demo_hero_usdAsset_v001.usd"
    );
    assert_eq!(server.request_count("GET /api/info"), 1, "one registration");
    // First attempt refused (400 Site not found), second accepted.
    assert_eq!(server.request_count("POST /api/resolve"), 2);
    let info = c.info_blocking().expect("info");
    assert_eq!(info.site_platform, Some(Platform::Windows));
    assert!(!info.version.is_empty());
}

#[test]
fn a_rejected_credential_is_one_auth_error_and_no_more_requests() {
    let server = server();
    let c = Client::builder(server.url())
        .api_key("definitelyNotAValidKey0000000000")
        .build()
        .expect("client");
    let uri = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
    let first = c.resolve_blocking(&[uri]);
    let e = first[0].as_ref().expect_err("rejected");
    assert_eq!(e.kind(), "auth", "{e}");
    assert!(c.auth_failed());
    let sent = server.request_count("POST /api/resolve");
    assert_eq!(sent, 1);
    for _ in 0..5 {
        assert_eq!(
            c.resolve_blocking(&[uri])[0]
                .as_ref()
                .expect_err("still rejected")
                .kind(),
            "auth"
        );
    }
    assert!(matches!(c.info_blocking(), Err(ClientError::Auth { .. })));
    assert_eq!(
        server.request_count("POST /api/resolve"),
        sent,
        "no request after the 401"
    );
    assert_eq!(server.request_count("GET /api/info"), 0);
}

#[test]
fn busy_503_is_retried_with_backoff() {
    let server = server();
    let c = client(&server).build().expect("client");
    server.fail_next(2, 503);
    let r = c.resolve_blocking(&["ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd"]);
    assert!(
        r[0].as_ref()
            .expect("resolved after retries")
            .path()
            .expect("path")
            .ends_with("v003.usd")
    );
    assert_eq!(server.request_count("POST /api/resolve"), 3);
    // Out of retries: a clear HTTP error naming the status.
    let c = client(&server)
        .retry(RetryPolicy {
            max_retries: 1,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(10),
            jitter: true,
        })
        .build()
        .expect("client");
    server.fail_next(5, 503);
    let r = c.resolve_blocking(&["ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v002&representation=usd"]);
    let e = r[0].as_ref().expect_err("busy");
    assert!(e.to_string().contains("503"), "{e}");
}

fn prop_uris() -> Vec<String> {
    let mut v = Vec::new();
    for i in 1..=100 {
        for version in ["v001", "v002", "v003", "latest", "hero"] {
            v.push(format!("ayon+entity://demo_offline/assets/props/prop{i:03}?product=usdAsset&version={version}&representation=usd"));
        }
    }
    v
}

#[test]
fn batches_are_deduplicated_chunked_and_in_input_order() {
    let server = server();
    let c = client(&server).build().expect("client");
    let distinct = prop_uris();
    let mut inputs: Vec<String> = distinct.iter().take(450).cloned().collect();
    // Duplicates (also by meaning), and a malformed one in the middle.
    inputs.extend(
        distinct
            .iter()
            .take(30)
            .map(|u| u.replace("ayon+entity://", "ayon://")),
    );
    inputs.insert(17, "ayon://demo_offline/assets?version=banana".to_owned());
    let out = c.resolve_blocking(&inputs);
    assert_eq!(out.len(), inputs.len());
    assert_eq!(
        server.request_count("POST /api/resolve"),
        3,
        "450 distinct URIs in chunks of 200"
    );
    assert_eq!(server.resolved_uri_count(), 450);
    for (input, r) in inputs.iter().zip(&out) {
        match r {
            Ok(r) => {
                assert_eq!(r.uri(), input);
                let want = if input.contains("latest") {
                    "v003".to_owned()
                } else {
                    input.split("version=").nth(1).expect("v")[..4].to_owned()
                };
                assert!(
                    r.path().expect("path").contains(&format!("/{want}/")),
                    "{input} -> {:?}",
                    r.path()
                );
            }
            Err(ResolveError::NotFound { uri }) => {
                assert_eq!(uri, input);
                assert!(input.contains("version=hero"), "{input}");
            }
            Err(ResolveError::Invalid { uri, message, .. }) => {
                assert_eq!(uri, input);
                assert_eq!(message, "Invalid version name: banana");
            }
            Err(e) => panic!("{input}: {e}"),
        }
    }
}

#[test]
fn an_unknown_root_is_an_error_naming_it() {
    let lib: Value = serde_json::from_str(Library::demo_offline_json()).expect("demo json");
    // The project defines only `work`: make the first representation template use `render`.
    let text = serde_json::to_string(&lib).expect("json");
    let needle = r#""template":"{root[work]}"#;
    assert!(
        text.contains(needle),
        "demo library has representation templates"
    );
    let text = text.replacen(needle, r#""template":"{root[render]}"#, 1);
    let server =
        TestServer::start(Library::from_json_str(&text).expect("library")).expect("server");
    let c = client(&server)
        .platform(Platform::Linux)
        .build()
        .expect("client");
    let mut uris = prop_uris();
    for product in ["usdAsset", "modelMain"] {
        for v in ["v001", "v002", "v003"] {
            for rep in ["usd", "abc"] {
                uris.push(format!("ayon://demo_offline/assets/characters/hero?product={product}&version={v}&representation={rep}"));
            }
        }
    }
    uris.push(
        "ayon://demo_offline/shots/sq010/sh010?product=usdShot&version=*&representation=*"
            .to_owned(),
    );
    let all = c.resolve_blocking(&uris);
    let unknown: Vec<_> = all
        .iter()
        .filter_map(|r| r.as_ref().err())
        .filter(|e| e.kind() == "unknown_root")
        .collect();
    assert_eq!(
        unknown.len(),
        1,
        "exactly the edited representation: {unknown:?}"
    );
    let e = unknown[0].to_string();
    assert!(
        e.contains("`render`") && e.contains("{root[render]}"),
        "{e}"
    );
    // Every other path was rooted with `work`.
    assert!(
        all.iter()
            .flatten()
            .all(|r| r.paths().all(|p| p.starts_with("/mnt/projects/")))
    );
}

#[test]
fn login_with_name_and_password() {
    let server = server();
    let (name, password) = server.admin_credentials();
    let c = Client::builder(server.url())
        .login(name, password)
        .build()
        .expect("client");
    let info = c.info_blocking().expect("info after login");
    assert!(info.user.is_some(), "authenticated info names the user");
    let r = c.resolve_blocking(&["ayon://demo_offline/assets/characters/hero?product=usdAsset&version=hero&representation=usd"]);
    assert!(
        r[0].as_ref()
            .expect("ok")
            .path()
            .expect("path")
            .contains("/hero/")
    );
    assert_eq!(server.request_count("POST /api/auth/login"), 1);
    let bad = Client::builder(server.url())
        .login("admin", "wrong")
        .build()
        .expect("client");
    assert!(matches!(bad.info_blocking(), Err(ClientError::Auth { .. })));
}

#[test]
fn a_dead_server_fails_fast_with_a_transport_error() {
    let server = server();
    let url = server.url();
    server.stop();
    let c = Client::builder(url)
        .session_token("a".repeat(64))
        .build()
        .expect("client");
    let start = Instant::now();
    let r = c.resolve_blocking(&["ayon://demo_offline/assets?product=x"]);
    assert_eq!(r[0].as_ref().expect_err("down").kind(), "transport");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_and_blocking_apis_work_inside_a_callers_runtime() {
    let server = server();
    let c = client(&server).build().expect("client");
    let uri =
        "ayon://demo_offline/shots/sq010/sh010?product=usdShot&version=latest&representation=usd";
    let a = c.resolve(&[uri]).await;
    assert!(
        a[0].as_ref()
            .expect("async")
            .path()
            .expect("path")
            .ends_with("v002.usd")
    );
    // The blocking facade from inside a runtime must not panic.
    let b = c.resolve_blocking(&[uri]);
    assert_eq!(
        a[0].as_ref().expect("a").path(),
        b[0].as_ref().expect("b").path()
    );
    let roots = c.site_roots("demo_offline").await.expect("roots");
    assert!(roots.get("work").is_some());
}

#[tokio::test(flavor = "current_thread")]
async fn blocking_api_inside_a_current_thread_runtime() {
    let server = server();
    let c = client(&server).build().expect("client");
    let b = c.resolve_blocking(&["ayon://demo_offline/assets/characters/hero?product=modelMain&version=latest&representation=usd"]);
    assert!(
        b[0].as_ref()
            .expect("ok")
            .path()
            .expect("path")
            .ends_with("v002.usd")
    );
}

#[test]
fn many_threads_share_one_client() {
    let server = server();
    let c = client(&server).build().expect("client");
    let uris = prop_uris();
    std::thread::scope(|s| {
        for t in 0..8 {
            let c = c.clone();
            let uris = &uris;
            s.spawn(move || {
                for u in uris.iter().skip(t * 7).step_by(50).take(10) {
                    let r = c.resolve_blocking(&[u.as_str()]);
                    assert!(r[0].is_ok() || u.contains("hero"), "{u}: {:?}", r[0]);
                }
            });
        }
    });
}
