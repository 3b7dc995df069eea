//! The resolver against ayon-testkit over real sockets, real SQLite caches in temp dirs, real
//! pinning and mapping files.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ayon_resolver_core::{
    ConnectionState, PinningPolicy, ResolveError, Resolver, ResolverBuilder, Source,
};
use ayon_testkit::{Library, TestServer};

const HERO_V1: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
const HERO_V2: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v002&representation=usd";
const HERO_LATEST: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd";
const SHOT_HERO: &str =
    "ayon://demo_offline/shots/sq010/sh010?product=usdShot&version=hero&representation=abc";
const NEVER_SEEN: &str = "ayon+entity://demo_offline/assets/characters/hero?product=modelMain&version=v001&representation=abc";

/// Far below any timeout used here: a call slower than this waited on I/O.
const NO_WAIT: Duration = Duration::from_millis(100);

/// A resolver for a server that does not answer: built without waiting, and its first call
/// fails within the connect/request timeouts (300/600 ms) with a transport-kind error.
fn built_at_once_then_first_call_fails(url: &str, key: &str, dir: &std::path::Path) -> Resolver {
    let start = Instant::now();
    let r = Resolver::builder()
        .server_url(url)
        .api_key(key)
        .cache_dir(dir)
        .connect_timeout(Duration::from_millis(300))
        .request_timeout(Duration::from_millis(600))
        .build();
    assert!(start.elapsed() < NO_WAIT, "construction waited");
    let first = Instant::now();
    let e = r.resolve(HERO_V1).unwrap_err();
    assert!(
        first.elapsed() < Duration::from_secs(3),
        "first call took {:?}",
        first.elapsed()
    );
    assert!(
        matches!(e.kind().as_str(), "offline" | "transport" | "timeout"),
        "{e}"
    );
    r
}

fn server() -> TestServer {
    TestServer::builder()
        .library(Library::demo_offline())
        .heartbeat_interval(Duration::from_millis(200))
        .boot_time(Duration::from_secs(2))
        .start()
        .expect("testkit server starts")
}

fn builder_for(server: &TestServer, dir: &std::path::Path) -> ResolverBuilder {
    Resolver::builder()
        .server_url(server.url())
        .api_key(server.session_token())
        .site_id("offline-test-linux")
        .cache_dir(dir)
        .connect_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_secs(2))
        .reconnect_backoff(Duration::from_millis(100), Duration::from_millis(500))
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn online(resolver: &Resolver, server: &TestServer) {
    resolver.connect().expect("configured");
    wait_until("online", Duration::from_secs(10), || {
        resolver.state().is_online()
    });
    assert!(server.wait_ws_subscribed(1, Duration::from_secs(5)));
}

#[test]
fn a_uri_comes_from_the_server_once_then_from_memory() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let r = builder_for(&server, dir.path()).build();
    let first = r.resolve(HERO_V1).expect("resolves");
    assert_eq!(first.source, Source::Server);
    assert!(first.path.ends_with(".usd"), "{}", first.path);
    let requests = server.request_count("POST /api/resolve");
    let again = r.resolve(HERO_V1).expect("cached");
    assert_eq!(again.path, first.path);
    assert_eq!(again.source, Source::Cache { stale: false });
    assert_eq!(
        server.request_count("POST /api/resolve"),
        requests,
        "no request for a hit"
    );
    let stats = r.stats();
    assert_eq!(stats.server_answers, 1);
    assert_eq!(stats.memory_hits, 1);

    // SDF format arguments ride along on the answer, the cache entry is shared.
    let with_args = r
        .resolve(&format!("{HERO_V1}:SDF_FORMAT_ARGS:target=preview"))
        .expect("with args");
    assert_eq!(
        with_args.path,
        format!("{}:SDF_FORMAT_ARGS:target=preview", first.path)
    );
    assert_eq!(server.request_count("POST /api/resolve"), requests);
}

#[test]
fn resolve_many_is_one_round_trip_and_keeps_order_and_per_item_errors() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let r = builder_for(&server, dir.path()).monitor(false).build();
    let before = server.request_count("POST /api/resolve");
    let bad = "ayon://demo_offline/a?product=x&version=banana";
    let answers = r.resolve_many(&[HERO_V1, bad, HERO_V2, "", SHOT_HERO, HERO_V1]);
    assert_eq!(
        server.request_count("POST /api/resolve") - before,
        1,
        "one batch"
    );
    assert!(answers[0].as_ref().unwrap().path.contains("v001"));
    assert!(answers[2].as_ref().unwrap().path.contains("v002"));
    assert!(answers[4].is_ok(), "{:?}", answers[4]);
    assert_eq!(
        answers[5].as_ref().unwrap().path,
        answers[0].as_ref().unwrap().path
    );
    let invalid = answers[1].as_ref().unwrap_err();
    assert_eq!(invalid.kind().as_str(), "invalid", "{invalid}");
    assert!(invalid.to_string().contains("banana"), "{invalid}");
    assert!(matches!(answers[3], Err(ResolveError::Empty)));
    assert_eq!(r.prewarm(&[HERO_V1, HERO_V2]), 2);
    assert_eq!(
        server.request_count("POST /api/resolve") - before,
        1,
        "prewarmed from memory"
    );
}

#[test]
fn a_dead_server_never_holds_the_caller() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let r = builder_for(&server, dir.path()).build();
    online(&r, &server);
    let v1 = r.resolve(HERO_V1).expect("warm");
    let latest = r.resolve(HERO_LATEST).expect("warm");
    server.crash();
    wait_until("offline", Duration::from_secs(5), || {
        matches!(r.state(), ConnectionState::Offline { .. })
    });
    let start = Instant::now();
    assert_eq!(r.resolve(HERO_V1).unwrap().path, v1.path);
    assert_eq!(r.resolve(HERO_LATEST).unwrap().path, latest.path);
    // A context with its own (empty) cache still answers, from the client's persistent cache.
    let own = r.new_context();
    own.drop_cache();
    assert!(!own.shares_cache_with(&r.connected_context()));
    let from_store = r.resolve_in(&own, HERO_V1).expect("from the store");
    assert_eq!(from_store.path, v1.path);
    assert!(matches!(from_store.source, Source::Cache { .. }));
    let unknown = r.resolve(NEVER_SEEN).unwrap_err();
    assert_eq!(unknown.kind().as_str(), "offline", "{unknown}");
    assert!(
        start.elapsed() < NO_WAIT * 5,
        "answered in {:?}",
        start.elapsed()
    );
}

#[test]
fn nothing_listening_fails_once_within_the_timeout_then_at_once() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let r = built_at_once_then_first_call_fails(
        &format!("http://127.0.0.1:{port}"),
        "0123456789abcdef0123456789abcdef",
        dir.path(),
    );
    for _ in 0..5 {
        let t = Instant::now();
        assert!(r.resolve(HERO_V2).is_err());
        assert!(
            t.elapsed() < NO_WAIT,
            "a later call waited {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn no_server_configured_is_a_clear_error_not_a_crash() {
    let r = Resolver::builder().build();
    let e = r.resolve(HERO_V1).unwrap_err();
    assert_eq!(e.kind().as_str(), "config");
    assert!(e.to_string().contains("AYON_SERVER_URL"), "{e}");
    assert!(matches!(r.state(), ConnectionState::Offline { .. }));
    assert!(
        r.diagnostics()
            .iter()
            .any(|d| d.contains("AYON_SERVER_URL"))
    );
}

#[test]
fn pinning_mode_asks_no_server_and_names_the_missing_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let pin = dir.path().join("job_pin.json");
    std::fs::write(
        &pin,
        serde_json::json!({"ayon_resolver_pinning_data": {
            HERO_V1: "{root[work]}/demo_offline/hero_v001.usd",
            "ayon_pinning_data_entry_scene": "{root[work]}/demo_offline/sh010.usd"
        }})
        .to_string(),
    )
    .unwrap();
    let r = Resolver::builder()
        .pinning_policy(PinningPolicy::PinningOnly)
        .pinning_file(&pin)
        .pinning_roots(ayon_pinning::Roots::parse("work=/mnt/farm").unwrap())
        .build();
    // The same URI spelled differently finds the pinned entry.
    let spelled =
        "ayon://demo_offline//assets/characters/hero?product=usdAsset&version=1&representation=usd";
    let hit = r.resolve(spelled).expect("pinned");
    assert_eq!(hit.path, "/mnt/farm/demo_offline/hero_v001.usd");
    assert_eq!(hit.source, Source::Pinning);
    let miss = r.resolve(HERO_V2).unwrap_err();
    assert_eq!(miss.kind().as_str(), "not_pinned");
    assert!(
        miss.to_string().contains("v002") && miss.to_string().contains("job_pin.json"),
        "{miss}"
    );
    assert_eq!(r.stats().server_answers, 0);
}

#[test]
fn pinning_then_live_falls_back_to_the_server() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let pin = dir.path().join("pin.json");
    std::fs::write(
        &pin,
        serde_json::json!({"ayon_resolver_pinning_data": {HERO_V1: "/pinned/hero.usd"}})
            .to_string(),
    )
    .unwrap();
    let r = builder_for(&server, dir.path())
        .monitor(false)
        .pinning_policy(PinningPolicy::PinningThenLive)
        .pinning_file(&pin)
        .pinning_roots(ayon_pinning::Roots::new())
        .build();
    assert_eq!(r.resolve(HERO_V1).unwrap().source, Source::Pinning);
    assert_eq!(r.resolve(HERO_V2).unwrap().source, Source::Server);
}

#[test]
fn contexts_map_pin_and_share_or_drop_their_cache() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let r = builder_for(&server, dir.path()).monitor(false).build();
    let file = dir.path().join("override.usd");
    std::fs::write(&file, "#usda 1.0").unwrap();

    let ctx = r.new_context();
    assert!(ctx.shares_cache_with(&r.connected_context()));
    ctx.add_mapping_pair(HERO_LATEST, &file.display().to_string());
    let mapped = r.resolve_in(&ctx, HERO_LATEST).expect("mapped");
    assert_eq!(mapped.source, Source::Mapping);
    assert_eq!(mapped.path, file.display().to_string());
    // A mapping to another URI resolves that URI.
    ctx.add_mapping_pair("ayon://alias", HERO_V2);
    assert!(
        r.resolve_in(&ctx, "ayon://alias")
            .unwrap()
            .path
            .contains("v002")
    );
    // The connected context has no mapping.
    assert_eq!(r.resolve(HERO_LATEST).unwrap().source, Source::Server);

    // Mapping file.
    let mapping = dir.path().join("mapping.json");
    std::fs::write(
        &mapping,
        serde_json::json!({"mappingPairs": {HERO_V1: file.display().to_string()}}).to_string(),
    )
    .unwrap();
    let other = r.new_context();
    assert_eq!(other.set_mapping_file(&mapping).unwrap(), 1);
    assert_eq!(
        r.resolve_in(&other, HERO_V1).unwrap().source,
        Source::Mapping
    );

    // Cache semantics: delete one, clear the shared cache for every context on it.
    r.resolve(HERO_V1).unwrap();
    assert!(ctx.delete_from_cache(HERO_V1));
    assert!(!ctx.delete_from_cache(HERO_V1));
    r.resolve(HERO_V1).unwrap();
    assert!(r.connected_context().cached_len() > 0);
    ctx.clear_cache();
    assert_eq!(
        r.connected_context().cached_len(),
        0,
        "cleared for all connected contexts"
    );
    r.resolve(HERO_V1).unwrap();
    ctx.drop_cache();
    assert_eq!(ctx.cached_len(), 0);
    assert!(
        r.connected_context().cached_len() > 0,
        "dropping leaves the shared cache alone"
    );

    // Per-context pinning file.
    let pin = dir.path().join("pin.json");
    std::fs::write(
        &pin,
        serde_json::json!({"ayon_resolver_pinning_data": {HERO_V2: "/pinned/v2.usd"}}).to_string(),
    )
    .unwrap();
    ctx.set_pinning_file(&pin, ayon_pinning::Roots::new())
        .unwrap();
    assert_eq!(r.resolve_in(&ctx, HERO_V2).unwrap().path, "/pinned/v2.usd");
    assert_ne!(
        r.resolve(HERO_V2).unwrap().path,
        "/pinned/v2.usd",
        "only that context"
    );
}

#[test]
fn file_paths_resolve_like_usd_s_default_resolver() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir_all(lib.join("models")).unwrap();
    std::fs::write(lib.join("models/tree.usd"), "#usda 1.0").unwrap();
    let r = Resolver::builder()
        .search_path(ayon_resolver_core::SearchPath::new([&lib]))
        .build();
    let abs = lib.join("models/tree.usd").display().to_string();
    let hit = r.resolve(&abs).unwrap();
    assert_eq!(
        (hit.path.as_str(), hit.source),
        (abs.as_str(), Source::Filesystem)
    );
    assert!(
        r.resolve("models/tree.usd")
            .unwrap()
            .path
            .ends_with("lib/models/tree.usd")
    );
    let gone = r.resolve(&format!("{abs}.missing")).unwrap_err();
    assert_eq!(gone.kind().as_str(), "not_found");
    assert!(matches!(gone, ResolveError::FileNotFound { .. }), "{gone}");
    let with_args = r.resolve(&format!("{abs}:SDF_FORMAT_ARGS:a=b")).unwrap();
    assert_eq!(with_args.path, format!("{abs}:SDF_FORMAT_ARGS:a=b"));
    let anchor = lib.join("shot.usd").display().to_string();
    assert_eq!(
        r.create_identifier("./models/tree.usd", Some(&anchor)),
        ayon_resolver_core::norm_path(&abs)
    );
    assert_eq!(r.create_identifier(HERO_V1, Some(&anchor)), HERO_V1);
}

#[test]
fn latest_follows_a_published_version_within_one_event() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let r = builder_for(&server, dir.path())
        .project("demo_offline")
        .build();
    online(&r, &server);
    let before = r.resolve(HERO_LATEST).unwrap().path;
    assert!(before.contains("/v003/"), "{before}");
    assert_eq!(
        r.resolve(HERO_LATEST).unwrap().source,
        Source::Cache { stale: false }
    );
    server.publish_demo_hero().unwrap();
    let start = Instant::now();
    let mut now = before;
    while !now.contains("/v004/") {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "latest still {now} (TTL is 60 s)"
        );
        std::thread::sleep(Duration::from_millis(5));
        now = r.resolve(HERO_LATEST).unwrap().path;
    }
}

#[test]
fn state_callbacks_see_a_restart_and_stop_when_dropped() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let r = builder_for(&server, dir.path()).build();
    online(&r, &server);
    let seen = Arc::new(parking_lot::Mutex::new(Vec::<String>::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let sub = {
        let seen = seen.clone();
        let calls = calls.clone();
        r.on_state_change(move |s| {
            calls.fetch_add(1, Ordering::SeqCst);
            seen.lock().push(s.kind_str().to_owned());
            if calls.load(Ordering::SeqCst) == 1 {
                panic!("a host callback that panics must not take the resolver down");
            }
        })
        .expect("subscribed")
    };
    server.restart();
    wait_until("offline seen", Duration::from_secs(5), || {
        !seen.lock().is_empty()
    });
    assert_eq!(seen.lock()[0], "offline");
    drop(sub);
    // The resolver still answers after the callback panicked.
    wait_until("online again", Duration::from_secs(20), || {
        r.state().is_online()
    });
    assert!(r.resolve(HERO_V1).is_ok());
}

#[test]
fn a_subscription_made_as_the_monitor_starts_misses_no_change() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    // No AYON URI yet: subscribing starts the monitor, whose first change races the subscribe.
    let r = builder_for(&server, dir.path()).build();
    let seen = Arc::new(parking_lot::Mutex::new(Vec::<ConnectionState>::new()));
    let sub = {
        let seen = seen.clone();
        r.on_state_change(move |s| seen.lock().push(s.clone()))
            .expect("subscribed")
    };
    // The host's view: the initial state, then each change.
    let view = || {
        let mut v = vec![sub.initial_state().clone()];
        v.extend(seen.lock().iter().cloned());
        v
    };
    wait_until("online", Duration::from_secs(10), || r.state().is_online());
    wait_until("the view ends online", Duration::from_secs(5), || {
        view().last().is_some_and(ConnectionState::is_online)
    });
    let v = view();
    assert!(
        v.windows(2).all(|w| w[0] != w[1]),
        "a change repeated: {v:?}"
    );
    server.restart();
    wait_until("offline seen", Duration::from_secs(5), || {
        view().last().is_some_and(|s| s.kind_str() == "offline")
    });
}

#[test]
fn a_prepared_project_answers_never_resolved_uris_offline_from_the_index() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let r = builder_for(&server, dir.path()).build();
    online(&r, &server);
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let report = r
        .prepare_offline(
            "demo_offline",
            &ayon_resolver_core::PrepareScope::Project,
            &ayon_resolver_core::PrepareOptions::default(),
            &ayon_resolver_core::CancelToken::new(),
            &|_| {
                calls.fetch_add(1, Ordering::Relaxed);
            },
        )
        .expect("prepared");
    assert!(report.representations > 100, "{report:?}");
    assert!(calls.load(Ordering::Relaxed) > 0);
    let prepared = r.prepared_projects().expect("listed");
    assert_eq!(prepared.len(), 1);
    assert_eq!(prepared[0].name, "demo_offline");
    server.crash();
    wait_until("offline", Duration::from_secs(5), || {
        matches!(r.state(), ConnectionState::Offline { .. })
    });
    for uri in [HERO_LATEST, SHOT_HERO, NEVER_SEEN] {
        let got = r.resolve(uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert!(
            matches!(got.source, Source::LocalIndex { .. }),
            "{uri}: {:?}",
            got.source
        );
        assert!(got.path.starts_with('/'), "{}", got.path);
    }
    assert!(r.resolve(HERO_LATEST).unwrap().path.contains("/v003/"));
    assert!(r.stats().index_answers >= 3);
}

#[test]
fn a_server_that_accepts_and_never_answers_costs_one_timeout_then_nothing() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    server.hang(true);
    let r = built_at_once_then_first_call_fails(&server.url(), &server.session_token(), dir.path());
    let requests = server.request_count("POST /api/resolve");
    for uri in [HERO_V2, HERO_LATEST, SHOT_HERO] {
        let t = Instant::now();
        assert!(r.resolve(uri).is_err());
        assert!(t.elapsed() < NO_WAIT, "{uri} waited {:?}", t.elapsed());
    }
    assert_eq!(
        server.request_count("POST /api/resolve"),
        requests,
        "no request reached the hung server after the first"
    );
    server.hang(false);
}
