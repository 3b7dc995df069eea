//! Issue 16's proofs through the resolver core, with real child processes (this test binary
//! re-executed), each configured from the environment the way a farm job is
//! (`AYON_SERVER_URL`, `AYON_API_KEY`, `AYON_OFFLINE_CACHE_DIR`, `AYON_OFFLINE_REDIS_URL`, ...),
//! each with its own local cache directory, all on one real `redis-server`:
//!
//! - A resolves 300 URIs through the testkit; B, with an empty local cache, answers all of them
//!   from Redis and the testkit counts no further resolve request (B only asks for its own
//!   site's roots, which are never shared).
//! - A version is published while four processes hold `latest`: one follows the server's
//!   events, the other three only Redis; all four answer the new path after that one event.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use ayon_resolver_core::{ResolverBuilder, Source};
use ayon_testkit::child::{self, wait_for};
use ayon_testkit::redis::RedisServer;
use ayon_testkit::{Library, TestServer};

const HERO_LATEST: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd";
/// Where a child writes its answers and markers.
const OUT_ENV: &str = "AYON_RESOLVER_TEST_SHARED_OUT";
/// Generous bounds for a loaded 2-core machine: facts, not timings, are asserted.
const READY_LIMIT: Duration = Duration::from_secs(30);
const FOLLOW_LIMIT: Duration = Duration::from_secs(20);

fn server() -> TestServer {
    TestServer::builder()
        .library(Library::demo_offline())
        .heartbeat_interval(Duration::from_millis(200))
        .start()
        .expect("testkit server starts")
}

/// A child's resolver, from the environment the parent set (plus short test timeouts).
fn child_resolver(follow_events: bool) -> ayon_resolver_core::Resolver {
    ResolverBuilder::from_env()
        .monitor(follow_events)
        .connect_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_secs(5))
        .reconnect_backoff(Duration::from_millis(100), Duration::from_millis(500))
        .build()
}

/// The environment of a child: the server, this site, its own cache, the shared Redis.
fn env_for(
    server: &TestServer,
    redis: &str,
    prefix: &str,
    dir: &Path,
) -> Vec<(&'static str, String)> {
    vec![
        ("AYON_SERVER_URL", server.url()),
        ("AYON_API_KEY", server.session_token()),
        ("AYON_SITE_ID", "offline-test-linux".to_owned()),
        (ayon_cache::CACHE_DIR_ENV, dir.display().to_string()),
        (ayon_cache::REDIS_URL_ENV, redis.to_owned()),
        (ayon_cache::REDIS_PREFIX_ENV, prefix.to_owned()),
        ("AYON_USD_RESOLVER_ENABLE_PINNING", "0".to_owned()),
        (OUT_ENV, dir.display().to_string()),
    ]
}

fn spawn(test: &str, role: &str, env: &[(&str, String)]) -> Child {
    child::spawn_self(test, role, env).expect("spawn child")
}

fn finish(role: &str, c: Child) -> String {
    child::finish(role, c).unwrap_or_else(|e| panic!("{e}"))
}

fn out_dir() -> std::path::PathBuf {
    std::env::var_os(OUT_ENV).expect("OUT_ENV").into()
}

const TWO: &str = "b_answers_300_uris_from_redis_through_the_resolver_core";

#[test]
fn b_answers_300_uris_from_redis_through_the_resolver_core() {
    if let Some(role) = child::role() {
        let r = child_resolver(false);
        let uris = Library::demo_prop_uris();
        let refs: Vec<&str> = uris.iter().map(String::as_str).collect();
        let mut lines = Vec::new();
        for (u, got) in uris.iter().zip(r.resolve_many(&refs)) {
            let got = got.unwrap_or_else(|e| panic!("{role}: {u}: {e}"));
            if role == "b" {
                assert_eq!(
                    got.source,
                    Source::Cache { stale: false },
                    "{role}: {u} did not come from the cache tiers"
                );
            }
            lines.push(format!("{u}\t{}", got.path));
        }
        let shared = r
            .cache_stats()
            .and_then(|s| s.shared)
            .unwrap_or_else(|| panic!("{role}: no shared tier: {:?}", r.diagnostics()));
        assert_eq!(shared.errors, 0, "{role}: {shared:?}");
        if role == "b" {
            assert_eq!(
                shared.hits, 300,
                "{role}: every answer from Redis: {shared:?}"
            );
        }
        std::fs::write(out_dir().join("results.txt"), lines.join("\n")).expect("results");
        println!("{}", child::CHILD_OK);
        return;
    }
    let Some(redis) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let server = server();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let run = |role: &str, dir: &Path| {
        finish(
            role,
            spawn(TWO, role, &env_for(&server, &redis.url(), "two:", dir)),
        );
        std::fs::read_to_string(dir.join("results.txt")).expect("results")
    };
    let a = run("a", dir_a.path());
    let resolves = server.request_count("POST /api/resolve");
    assert!(resolves > 0, "A asked the server");
    let roots = "GET /api/projects/demo_offline/siteRoots";
    let roots_before = server.request_count(roots);
    let b = run("b", dir_b.path());
    assert_eq!(
        server.request_count(roots),
        roots_before + 1,
        "B asks once for its own site's roots, which are never shared"
    );
    assert_eq!(a, b, "B's answers are A's");
    assert_eq!(a.lines().count(), 300);
    assert_eq!(
        server.request_count("POST /api/resolve"),
        resolves,
        "B answered everything from Redis: no further resolve request"
    );
    // Site roots are per site: shared answers are rootless and the roots stay local.
    let roots_keys = redis.command("KEYS *site-roots*").expect("redis answers");
    assert!(
        roots_keys.starts_with("*0"),
        "roots were shared: {roots_keys}"
    );
    let shared_keys = redis.command("DBSIZE").expect("redis answers");
    assert!(
        shared_keys
            .trim_start_matches(':')
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
            >= 300,
        "{shared_keys}"
    );
}

const FOUR: &str = "a_publish_reaches_four_processes_holding_latest";

#[test]
fn a_publish_reaches_four_processes_holding_latest() {
    if let Some(role) = child::role() {
        // Only p0 follows the server's events; the others learn of them through Redis alone.
        let follows = role == "p0";
        let r = child_resolver(follows);
        if follows {
            r.connect().expect("configured");
            assert!(
                wait_for(READY_LIMIT, || r.state().is_online()),
                "{role}: never online"
            );
        }
        let before = r.resolve(HERO_LATEST).expect("latest resolves").path;
        assert!(before.contains("/v003/"), "{role}: {before}");
        assert!(
            wait_for(READY_LIMIT, || r
                .cache_stats()
                .and_then(|s| s.shared)
                .is_some_and(|s| s.subscribed)),
            "{role}: never subscribed to invalidations: {:?}",
            r.diagnostics()
        );
        // Held: answered again without the server, until something says it moved.
        assert!(r.resolve(HERO_LATEST).unwrap().path.contains("/v003/"));
        std::fs::write(out_dir().join("READY"), &before).expect("ready marker");
        let mut now = before;
        let followed = wait_for(FOLLOW_LIMIT, || {
            now = r.resolve(HERO_LATEST).map(|x| x.path).unwrap_or_default();
            now.contains("/v004/")
        });
        // The moving TTL is 60 s: only the invalidation can make this happen in time.
        assert!(followed, "{role}: latest is still {now}");
        let shared = r.cache_stats().and_then(|s| s.shared).expect("shared tier");
        if !follows {
            assert!(shared.invalidations_received >= 1, "{role}: {shared:?}");
        }
        println!("{role} now {now}");
        println!("{}", child::CHILD_OK);
        return;
    }
    let Some(redis) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let server = server();
    let mut group =
        child::Group::spawn(FOUR, 4, |dir| env_for(&server, &redis.url(), "four:", dir))
            .expect("spawn children");
    // Every child holds `latest` and listens; p0's websocket is subscribed to events.
    group
        .wait_ready(READY_LIMIT, "READY", || server.ws_subscribed_count() >= 1)
        .unwrap_or_else(|e| panic!("{e}"));
    let published = Instant::now();
    let version = server.publish_demo_hero().expect("publish");
    assert_eq!(version, 4);
    for (role, out) in group.finish().unwrap_or_else(|e| panic!("{e}")) {
        assert!(
            out.contains(&format!("{role} now")) && out.contains("/v004/"),
            "{out}"
        );
    }
    eprintln!(
        "four processes answered v004 within {:?} of the publish",
        published.elapsed()
    );
}
