//! Issue 16's first proof, end to end: process A resolves 300 URIs through the testkit server
//! with a tiered cache that has a Redis tier; process B, with an empty local cache, answers all
//! of them from Redis and the server counts no further resolve request.
//!
//! The client is handed a tiered cache from `AnswerStore::cache_builder()` (site roots stay
//! local) with `.redis(...)`, as any host can; the resolver core's own proofs, configured from
//! the environment, are in `ayon-resolver-core/tests/shared_tier.rs`. Children are this test
//! binary re-executed with `ROLE_ENV`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ayon_cache::RedisConfig;
use ayon_client::{AnswerStore, Client, OfflineClient, Platform, Source};
use ayon_testkit::redis::RedisServer;
use ayon_testkit::{Library, TestServer};

const ROLE_ENV: &str = "AYON_CLIENT_TEST_SHARED_ROLE";
const SERVER_ENV: &str = "AYON_CLIENT_TEST_SHARED_SERVER";
const TOKEN_ENV: &str = "AYON_CLIENT_TEST_SHARED_TOKEN";
const REDIS_ENV: &str = "AYON_CLIENT_TEST_SHARED_REDIS";
const DIR_ENV: &str = "AYON_CLIENT_TEST_SHARED_DIR";
const PEER_WAIT_ENV: &str = "AYON_CLIENT_TEST_SHARED_PEER_WAIT_MS";
const TEST_NAME: &str = "b_resolves_from_redis_what_a_resolved_without_asking_the_server";

fn child(role: &str, server: &str, token: &str, redis: &str, dir: &Path) {
    let client = Client::builder(server)
        .session_token(token)
        .site_id("offline-test-linux")
        .platform(Platform::Linux)
        .build()
        .expect("client");
    // An empty Redis URL: a worker without the shared tier (the farm's baseline).
    let peer_wait = std::env::var(PEER_WAIT_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::ZERO, Duration::from_millis);
    let shared = (!redis.is_empty()).then(|| {
        RedisConfig::new(redis)
            .prefix("client-proof:")
            .peer_wait(peer_wait)
    });
    let with_shared = shared.is_some();
    // The store's sharing rule: answers are shared, this site's roots stay local.
    let cache = AnswerStore::cache_builder().dir(dir).redis(shared).open();
    assert_eq!(cache.shared().is_some(), with_shared, "{role}: shared tier");
    let offline = OfflineClient::builder(client, Arc::new(cache)).build();
    let uris = Library::demo_prop_uris();
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

/// The child side, when this process is one.
fn as_child() -> bool {
    if let (Ok(role), Ok(server), Ok(token), Ok(redis), Some(dir)) = (
        std::env::var(ROLE_ENV),
        std::env::var(SERVER_ENV),
        std::env::var(TOKEN_ENV),
        std::env::var(REDIS_ENV),
        std::env::var_os(DIR_ENV),
    ) {
        child(&role, &server, &token, &redis, Path::new(&dir));
        return true;
    }
    false
}

fn spawn(test: &str, role: &str, server: &TestServer, redis: &str, dir: &Path) -> Child {
    spawn_with(test, role, server, redis, dir, Duration::ZERO)
}

fn spawn_with(
    test: &str,
    role: &str,
    server: &TestServer,
    redis: &str,
    dir: &Path,
    peer_wait: Duration,
) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .env(PEER_WAIT_ENV, peer_wait.as_millis().to_string())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE_ENV, role)
        .env(SERVER_ENV, server.url())
        .env(TOKEN_ENV, server.session_token())
        .env(REDIS_ENV, redis)
        .env(DIR_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn child")
}

fn finish(role: &str, child: Child, dir: &Path) -> String {
    let out = child.wait_with_output().expect("wait for child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD-OK"),
        "process {role} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("results.txt")).expect("results")
}

#[test]
fn b_resolves_from_redis_what_a_resolved_without_asking_the_server() {
    if as_child() {
        return;
    }
    let Some(redis) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let server = TestServer::start(Library::demo_offline()).expect("testkit server");
    let run = |role: &str, dir: &Path| {
        finish(
            role,
            spawn(TEST_NAME, role, &server, &redis.url(), dir),
            dir,
        )
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

const FARM: &str = "a_farm_asks_the_server_once_per_answer_with_the_shared_tier";

/// Runs `workers` worker processes in waves of `wave` (each wave starts when the previous one
/// is done, as farm jobs arrive over time), each with an empty local cache, resolving the same
/// 300 URIs. Returns (resolve requests the server saw, wall time).
fn farm(
    test: &str,
    server: &TestServer,
    redis: &str,
    workers: usize,
    wave: usize,
    peer_wait: Duration,
) -> (u64, Duration) {
    let before = server.request_count("POST /api/resolve");
    let start = Instant::now();
    let mut first: Option<String> = None;
    let dirs: Vec<_> = (0..workers).map(|_| tempfile::tempdir().unwrap()).collect();
    for chunk in dirs.chunks(wave) {
        let running: Vec<_> = chunk
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let child = spawn_with(test, "worker", server, redis, d.path(), peer_wait);
                (format!("w{i}"), child, d)
            })
            .collect();
        for (role, child, dir) in running {
            let results = finish(&role, child, dir.path());
            match &first {
                None => first = Some(results),
                Some(f) => assert_eq!(f, &results, "{role} answered differently"),
            }
        }
    }
    (
        server.request_count("POST /api/resolve") - before,
        start.elapsed(),
    )
}

/// The scale simulation, small by default (8 workers in waves of 4; set
/// `AYON_FARM_WORKERS=32` for the figures in BENCHMARKS.md, `AYON_FARM_WAVE` for the wave
/// size): with the shared tier only the first wave asks the server; without it every worker
/// does. Workers of one wave start together and all miss together: there is no cross-process
/// single-flight yet.
#[test]
fn a_farm_asks_the_server_once_per_answer_with_the_shared_tier() {
    if as_child() {
        return;
    }
    let Some(redis) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let workers = env_usize("AYON_FARM_WORKERS", 8);
    let wave = env_usize("AYON_FARM_WAVE", 4).clamp(1, workers.max(1));
    let server = TestServer::start(Library::demo_offline()).expect("testkit server");
    let (without, t_without) = farm(FARM, &server, "", workers, wave, Duration::ZERO);
    let (with, t_with) = farm(FARM, &server, &redis.url(), workers, wave, Duration::ZERO);
    eprintln!(
        "farm of {workers} workers (waves of {wave}), 300 URIs each: \
         without shared tier {without} resolve requests in {t_without:?}, \
         with {with} in {t_with:?}"
    );
    let per_worker = without / workers as u64;
    assert!(
        per_worker > 0,
        "each worker asks the server without the shared tier"
    );
    assert!(
        with <= per_worker * wave as u64,
        "only the first wave may ask the server: {with} requests, {per_worker} per worker"
    );
    assert!(with < without);
}

/// A size from the environment (for running the simulations larger by hand), else `default`.
fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const TOGETHER: &str = "workers_starting_together_wait_for_one_fetch_with_peer_wait";

/// All workers start at once: with `RedisConfig::peer_wait` the first to miss claims each URI
/// and the others wait for its answer in Redis, so the server sees about one worker's requests.
#[test]
fn workers_starting_together_wait_for_one_fetch_with_peer_wait() {
    if as_child() {
        return;
    }
    let Some(redis) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let workers = env_usize("AYON_FARM_WORKERS", 8);
    let server = TestServer::start(Library::demo_offline()).expect("testkit server");
    let (without, _) = farm(TOGETHER, &server, "", 1, 1, Duration::ZERO);
    // Generous: the claimant's fetch must land within the wait on a loaded machine.
    let wait = Duration::from_secs(10);
    let (with, t_with) = farm(TOGETHER, &server, &redis.url(), workers, workers, wait);
    eprintln!(
        "{workers} workers at once with peer wait: {with} resolve requests \
         (one worker alone: {without}) in {t_with:?}"
    );
    assert!(without > 0);
    assert!(
        with <= 2 * without,
        "with peer wait the server should see about one worker's requests: {with} vs {without}"
    );
}
