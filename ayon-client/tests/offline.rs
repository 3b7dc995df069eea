//! The offline policy against ayon-testkit over real sockets, a real SQLite cache on disk, the
//! real connectivity monitor, and a real child process.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ayon_cache::{Cache, TieredCache};
use ayon_client::{Client, OfflineClient, Platform, ResolveError, Source, monitor_config};
use ayon_connectivity::Monitor;
use ayon_testkit::{Library, TestServer};

const HERO_V1: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
const HERO_LATEST: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd";
const SHOT_HERO: &str =
    "ayon://demo_offline/shots/sq010/sh010?product=usdShot&version=hero&representation=abc";
const MISSING: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v099&representation=usd";
const NEVER_SEEN: &str = "ayon+entity://demo_offline/assets/characters/hero?product=modelMain&version=v001&representation=abc";

fn server() -> TestServer {
    TestServer::builder()
        .library(Library::demo_offline())
        .heartbeat_interval(Duration::from_millis(200))
        .boot_time(Duration::from_secs(2))
        .start()
        .expect("testkit server starts")
}

fn client_for(url: &str, token: &str, timeout: Duration) -> Client {
    Client::builder(url)
        .session_token(token)
        .site_id("offline-test-linux")
        .platform(Platform::Linux)
        .request_timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .expect("client")
}

fn cache_in(dir: &Path) -> Arc<dyn Cache> {
    Arc::new(TieredCache::builder().dir(dir).open())
}

fn monitor_for(c: &Client) -> Monitor {
    Monitor::start(
        monitor_config(c.config())
            .project("demo_offline")
            .backoff(Duration::from_millis(100), Duration::from_millis(500))
            .connect_timeout(Duration::from_millis(500))
            .probe_timeout(Duration::from_millis(500))
            .build()
            .expect("monitor config"),
    )
}

/// A client with `timeout` and its monitor, once the monitor sees the server online.
fn online_client(server: &TestServer, timeout: Duration) -> (Client, Monitor) {
    let c = client_for(&server.url(), &server.session_token(), timeout);
    let monitor = monitor_for(&c);
    wait_until("monitor online", Duration::from_secs(10), || {
        monitor.is_online()
    });
    // Online is proven over REST; events only flow once the server took the ws auth message.
    assert!(
        server.wait_ws_subscribed(1, Duration::from_secs(5)),
        "the monitor's websocket never subscribed"
    );
    (c, monitor)
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Far below any request or connect timeout used here: a call slower than this waited on I/O.
const NO_WAIT: Duration = Duration::from_millis(100);

/// Runs `f` `n` times; the fastest and the slowest call.
fn timed(n: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut best = Duration::MAX;
    let mut worst = Duration::ZERO;
    for _ in 0..n {
        let start = Instant::now();
        f();
        let took = start.elapsed();
        best = best.min(took);
        worst = worst.max(took);
    }
    (best, worst)
}

fn path_of(r: &Result<ayon_client::Resolution, ResolveError>) -> String {
    r.as_ref()
        .unwrap_or_else(|e| panic!("{e}"))
        .path()
        .expect("path")
        .to_owned()
}

#[test]
fn a_fresh_hit_makes_no_request_and_answers_say_their_source() {
    let server = server();
    let dir = tempfile::tempdir().expect("tmp");
    let c = client_for(
        &server.url(),
        &server.session_token(),
        Duration::from_secs(5),
    );
    let oc = OfflineClient::builder(c, cache_in(dir.path())).build();
    let first = oc.resolve_blocking(&[HERO_V1, HERO_LATEST, MISSING]);
    assert_eq!(first[0].as_ref().expect("v1").source(), Source::Server);
    assert_eq!(first[1].as_ref().expect("latest").source(), Source::Server);
    assert!(matches!(first[2], Err(ResolveError::NotFound { .. })));
    assert_eq!(server.request_count("POST /api/resolve"), 1);
    let again = oc.resolve_blocking(&[HERO_V1, HERO_LATEST, MISSING]);
    assert_eq!(
        again[0].as_ref().expect("v1").source(),
        Source::Cache { stale: false }
    );
    assert_eq!(
        again[1].as_ref().expect("latest").source(),
        Source::Cache { stale: false }
    );
    assert!(
        matches!(again[2], Err(ResolveError::NotFound { .. })),
        "negative answers are cached, never served as found"
    );
    assert_eq!(path_of(&again[0]), path_of(&first[0]));
    assert_eq!(
        server.request_count("POST /api/resolve"),
        1,
        "fresh hits make no request"
    );
    assert_eq!(
        server.request_count("GET /api/projects/demo_offline/siteRoots"),
        1,
        "roots fetched once"
    );
}

#[test]
fn kill_the_server_after_warm_up() {
    let server = server();
    let dir = tempfile::tempdir().expect("tmp");
    let (c, monitor) = online_client(&server, Duration::from_secs(2));
    let oc = OfflineClient::builder(c, cache_in(dir.path()))
        .monitor(monitor.clone())
        .moving_ttl(Duration::from_millis(100))
        .build();
    let warm = [HERO_V1, HERO_LATEST, SHOT_HERO];
    let online: Vec<String> = oc.resolve_blocking(&warm).iter().map(path_of).collect();
    std::thread::sleep(Duration::from_millis(150)); // `latest` is now past its TTL.
    server.stop();
    wait_until("monitor offline", Duration::from_secs(2), || {
        !monitor.is_online()
    });
    for (uri, want) in warm.iter().zip(&online) {
        // Each URI's cost is its best of five calls: a call that waited on the network would be
        // slow every time, while a test thread descheduled by a busy CI machine is slow once.
        let (best, worst) = timed(5, || {
            let r = oc
                .resolve_one_blocking(uri)
                .unwrap_or_else(|e| panic!("{uri}: {e}"));
            assert_eq!(r.path(), Some(want.as_str()));
            let stale = *uri != HERO_V1; // latest and hero are moving, past their TTL by now
            assert_eq!(r.source(), Source::Cache { stale }, "{uri}");
        });
        eprintln!("offline cache answer for {uri}: best {best:?}, worst {worst:?}");
        assert!(best < Duration::from_millis(1), "{uri}: {best:?}");
        assert!(worst < NO_WAIT, "{uri}: a call took {worst:?}");
    }
    let (best, worst) = timed(3, || {
        let e = oc.resolve_one_blocking(NEVER_SEEN).expect_err("never seen");
        assert!(
            matches!(&e, ResolveError::Offline { uri } if uri == NEVER_SEEN),
            "{e}"
        );
        assert!(e.to_string().contains(NEVER_SEEN));
    });
    assert!(best < Duration::from_millis(5), "at once, took {best:?}");
    assert!(worst < NO_WAIT, "a miss took {worst:?}");
    monitor.shutdown();
}

#[test]
fn a_hanging_server_costs_one_timeout_then_answers_come_from_cache() {
    let server = server();
    let dir = tempfile::tempdir().expect("tmp");
    let timeout = Duration::from_millis(400);
    let (c, monitor) = online_client(&server, timeout);
    let oc = OfflineClient::builder(c, cache_in(dir.path()))
        .monitor(monitor.clone())
        .moving_ttl(Duration::from_millis(50))
        .build();
    let want = path_of(&oc.resolve_one_blocking(HERO_LATEST));
    std::thread::sleep(Duration::from_millis(80));
    server.hang(true);
    let start = Instant::now();
    let first = oc.resolve_one_blocking(HERO_LATEST).expect("stale answer");
    let took = start.elapsed();
    assert!(
        took < timeout + Duration::from_millis(300),
        "first call within the request timeout, took {took:?}"
    );
    assert_eq!(first.source(), Source::Cache { stale: true });
    assert_eq!(first.path(), Some(want.as_str()));
    assert!(
        !monitor.is_online(),
        "the failure was reported to the monitor"
    );
    let sent = server.request_count("POST /api/resolve");
    let (best, worst) = timed(20, || {
        let r = oc.resolve_one_blocking(HERO_LATEST).expect("cached");
        assert_eq!(r.source(), Source::Cache { stale: true });
    });
    assert!(best < Duration::from_millis(1), "then fast: {best:?}");
    assert!(worst < NO_WAIT, "a later call took {worst:?}");
    assert_eq!(
        server.request_count("POST /api/resolve"),
        sent,
        "no request once the monitor knows"
    );
    server.hang(false);
    monitor.shutdown();
}

#[test]
fn a_published_version_updates_latest_within_one_event() {
    let server = server();
    let dir = tempfile::tempdir().expect("tmp");
    let (c, monitor) = online_client(&server, Duration::from_secs(5));
    let oc = OfflineClient::builder(c, cache_in(dir.path()))
        .monitor(monitor.clone())
        .build();
    let before = path_of(&oc.resolve_one_blocking(HERO_LATEST));
    assert!(before.contains("/v003/"), "{before}");
    let cached = oc.resolve_one_blocking(HERO_LATEST).expect("cached");
    assert_eq!(cached.source(), Source::Cache { stale: false });
    let n = server.publish_demo_hero().expect("publish");
    assert_eq!(n, 4);
    let start = Instant::now();
    let mut now = before.clone();
    while !now.contains("/v004/") {
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "latest still {now} (TTL is 60 s)"
        );
        std::thread::sleep(Duration::from_millis(5));
        now = path_of(&oc.resolve_one_blocking(HERO_LATEST));
    }
    eprintln!("latest updated {:?} after publishing", start.elapsed());
    // The exact version stays cached (immutable): no request for it.
    monitor.shutdown();
}

#[test]
fn eight_threads_resolving_ten_thousand_times_ask_each_uri_once() {
    let server = server();
    let dir = tempfile::tempdir().expect("tmp");
    let c = client_for(
        &server.url(),
        &server.session_token(),
        Duration::from_secs(10),
    );
    let oc = OfflineClient::builder(c, cache_in(dir.path())).build();
    let mut uris = Vec::new();
    for i in 1..=100 {
        for v in ["v001", "v002", "v003", "latest", "*"] {
            uris.push(format!("ayon+entity://demo_offline/assets/props/prop{i:03}?product=usdAsset&version={v}&representation=usd"));
        }
    }
    assert_eq!(uris.len(), 500);
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..8usize {
            let oc = oc.clone();
            let uris = &uris;
            s.spawn(move || {
                for k in 0..10_000usize {
                    let u = &uris[(k * 7 + t * 61) % uris.len()];
                    let r = oc.resolve_one_blocking(u);
                    assert!(r.is_ok(), "{u}: {r:?}");
                }
            });
        }
    });
    eprintln!("80,000 resolves in {:?}", start.elapsed());
    let asked = server.resolved_uri_count();
    assert!(asked <= 500, "the server was asked for {asked} URIs");
    assert!(asked >= 500, "each distinct URI asked once: {asked}");
}

/// The child half of `a_new_process_started_offline_resolves_warm_uris`.
#[test]
fn child_process_resolves_from_the_persistent_tier() {
    let Ok(dir) = std::env::var("AYON_CLIENT_TEST_CHILD_DIR") else {
        return;
    };
    let url = std::env::var("AYON_CLIENT_TEST_CHILD_URL").expect("url");
    let c = client_for(&url, &"0".repeat(64), Duration::from_millis(500));
    let oc = OfflineClient::builder(c, cache_in(Path::new(&dir))).build();
    for uri in [HERO_V1, HERO_LATEST, SHOT_HERO, NEVER_SEEN] {
        match oc.resolve_one_blocking(uri) {
            Ok(r) => println!(
                "CHILD ok {uri} {} {}",
                r.path().unwrap_or(""),
                r.source().as_str()
            ),
            Err(e) => println!("CHILD err {uri} {}", e.kind()),
        }
    }
}

#[test]
fn a_new_process_started_offline_resolves_warm_uris() {
    let server = server();
    let dir = tempfile::tempdir().expect("tmp");
    let url = server.url();
    let paths: Vec<String> = {
        let c = client_for(&url, &server.session_token(), Duration::from_secs(5));
        let oc = OfflineClient::builder(c, cache_in(dir.path())).build();
        oc.resolve_blocking(&[HERO_V1, HERO_LATEST, SHOT_HERO])
            .iter()
            .map(path_of)
            .collect()
    };
    server.stop();
    let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_process_resolves_from_the_persistent_tier",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("AYON_CLIENT_TEST_CHILD_DIR", dir.path())
        .env("AYON_CLIENT_TEST_CHILD_URL", &url)
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (uri, path) in [HERO_V1, HERO_LATEST, SHOT_HERO].iter().zip(&paths) {
        let line = format!("CHILD ok {uri} {path} cache");
        assert!(
            stdout.lines().any(|l| l.ends_with(&line)),
            "missing `{line}` in:\n{stdout}"
        );
    }
    let never = format!("CHILD err {NEVER_SEEN} transport");
    assert!(stdout.lines().any(|l| l.ends_with(&never)), "{stdout}");
}
