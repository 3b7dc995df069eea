//! Issue 16's first proof, end to end: process A resolves 300 URIs through the testkit server
//! with a tiered cache that has a Redis tier; process B, with an empty local cache, answers all
//! of them from Redis and the server counts no further resolve request.
//!
//! The client is not wired to Redis here: it is handed a `TieredCache` built with
//! `.redis(...)`, as any host can. Children are this test binary re-executed with `ROLE_ENV`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use ayon_cache::{RedisConfig, TieredCache};
use ayon_client::{Client, OfflineClient, Platform, Source};
use ayon_testkit::redis::RedisServer;
use ayon_testkit::{Library, TestServer};

const ROLE_ENV: &str = "AYON_CLIENT_TEST_SHARED_ROLE";
const SERVER_ENV: &str = "AYON_CLIENT_TEST_SHARED_SERVER";
const TOKEN_ENV: &str = "AYON_CLIENT_TEST_SHARED_TOKEN";
const REDIS_ENV: &str = "AYON_CLIENT_TEST_SHARED_REDIS";
const DIR_ENV: &str = "AYON_CLIENT_TEST_SHARED_DIR";
const TEST_NAME: &str = "b_resolves_from_redis_what_a_resolved_without_asking_the_server";

/// 100 props × 3 versions in the demo library: 300 distinct immutable answers.
fn uris() -> Vec<String> {
    (1..=100)
        .flat_map(|i| {
            (1..=3).map(move |v| {
                format!(
                    "ayon+entity://demo_offline/assets/props/prop{i:03}?product=usdAsset&version=v{v:03}&representation=usd"
                )
            })
        })
        .collect()
}

fn child(role: &str, server: &str, token: &str, redis: &str, dir: &Path) {
    let client = Client::builder(server)
        .session_token(token)
        .site_id("offline-test-linux")
        .platform(Platform::Linux)
        .build()
        .expect("client");
    let cache = TieredCache::builder()
        .dir(dir)
        .redis(Some(RedisConfig::new(redis).prefix("client-proof:")))
        .open();
    assert!(cache.shared().is_some(), "{role}: no shared tier");
    let offline = OfflineClient::builder(client, Arc::new(cache)).build();
    let uris = uris();
    let results = offline.resolve_blocking(&uris);
    let mut lines = Vec::new();
    for (u, r) in uris.iter().zip(results) {
        let r = r.unwrap_or_else(|e| panic!("{role}: {u}: {e}"));
        if role == "b" {
            assert!(
                matches!(r.source(), Source::Cache { stale: false }),
                "{role}: {u} came from {:?}",
                r.source()
            );
        }
        lines.push(format!("{u}\t{}", r.path().unwrap_or("-")));
    }
    std::fs::write(dir.join("results.txt"), lines.join("\n")).expect("write results");
    println!("CHILD-OK {role}");
}

#[test]
fn b_resolves_from_redis_what_a_resolved_without_asking_the_server() {
    if let (Ok(role), Ok(server), Ok(token), Ok(redis), Some(dir)) = (
        std::env::var(ROLE_ENV),
        std::env::var(SERVER_ENV),
        std::env::var(TOKEN_ENV),
        std::env::var(REDIS_ENV),
        std::env::var_os(DIR_ENV),
    ) {
        child(&role, &server, &token, &redis, Path::new(&dir));
        return;
    }
    let Some(redis) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let server = TestServer::start(Library::demo_offline()).expect("testkit server");
    let run = |role: &str, dir: &Path| {
        let out = Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(ROLE_ENV, role)
            .env(SERVER_ENV, server.url())
            .env(TOKEN_ENV, server.session_token())
            .env(REDIS_ENV, redis.url())
            .env(DIR_ENV, dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run child");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("CHILD-OK"),
            "process {role} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read_to_string(dir.join("results.txt")).expect("results")
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = run("a", dir_a.path());
    let after_a = server.request_count("POST /api/resolve");
    assert!(after_a > 0, "A must have asked the server");
    let b = run("b", dir_b.path());
    assert_eq!(a, b, "B's answers are A's");
    assert_eq!(a.lines().count(), 300);
    assert!(!a.contains("\t-"), "every URI resolved to a path");
    assert_eq!(
        server.request_count("POST /api/resolve"),
        after_a,
        "B answered everything from Redis: no further resolve request"
    );
}
