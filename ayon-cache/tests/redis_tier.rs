//! The shared tier on a real `redis-server` (the testkit's fixture): sharing between processes,
//! what is stored and how, faults (killed, frozen, restarted empty, full), and invalidation
//! across processes.
//!
//! Skipped with a loud message only when `redis-server` is missing and `CI` is unset.
//! Children are this test binary re-executed with a role (`ayon_testkit::child`). Built only
//! with feature `redis` (`required-features` in Cargo.toml).

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use ayon_cache::{
    BreakerState, Cache, CacheAdmin, DiagnosticKind, Entry, Freshness, Key, Namespace, RedisConfig,
    Source, TieredCache, Value,
};
use ayon_testkit::child::{self, wait_for};
use ayon_testkit::redis::RedisServer;

const URL_ENV: &str = "AYON_CACHE_TEST_REDIS_URL";
const DIR_ENV: &str = "AYON_CACHE_TEST_REDIS_DIR";
const PREFIX_ENV: &str = "AYON_CACHE_TEST_REDIS_PREFIX";

/// Generous bound for "returns within the Redis timeout" on a loaded 2-core machine.
const CALL_BOUND: Duration = Duration::from_millis(500);

fn ns() -> Namespace {
    Namespace::for_server(
        &"https://ayon.studio.local".parse().expect("server URL"),
        "demo_offline",
    )
}

fn uri(i: usize) -> String {
    format!(
        "ayon+entity://demo_offline/assets/characters/hero{i}?product=usdAsset&version=v004&representation=usd"
    )
}

fn key(i: usize) -> Key {
    Key::new(&ns(), uri(i))
}

fn answer(i: usize) -> Entry {
    Entry::json(
        serde_json::json!({"path": format!("{{root[work]}}/demo_offline/hero{i}/v004/hero{i}.usd")}),
        Freshness::Immutable,
        Source::Server,
    )
}

fn moving(text: &str) -> Entry {
    Entry::bytes(
        text.as_bytes().to_vec(),
        Freshness::Moving {
            ttl: Duration::from_secs(600),
        },
        Source::Server,
    )
}

fn text_of(e: &Entry) -> String {
    match e.value() {
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Json(j) => j.to_string(),
    }
}

fn config(url: &str, prefix: &str) -> RedisConfig {
    RedisConfig::new(url)
        .prefix(prefix)
        .timeout(Duration::from_millis(50))
        .breaker(3, Duration::from_millis(300))
}

fn tiered(dir: &Path, config: RedisConfig) -> TieredCache {
    let cache = TieredCache::builder().dir(dir).redis(Some(config)).open();
    assert!(!cache.is_degraded(), "{:?}", cache.diagnostics());
    assert!(cache.shared().is_some(), "{:?}", cache.diagnostics());
    cache
}

fn child_env(url: &str, dir: &Path, prefix: &str) -> Vec<(&'static str, String)> {
    vec![
        (ayon_cache::REDIS_URL_ENV, url.to_owned()),
        (ayon_cache::REDIS_PREFIX_ENV, prefix.to_owned()),
        (URL_ENV, url.to_owned()),
        (DIR_ENV, dir.display().to_string()),
        (PREFIX_ENV, prefix.to_owned()),
    ]
}

fn spawn_child(test: &str, role: &str, url: &str, dir: &Path, prefix: &str) -> Child {
    child::spawn_self(test, role, &child_env(url, dir, prefix)).expect("spawn child")
}

fn finish(role: &str, c: Child) -> String {
    child::finish(role, c).unwrap_or_else(|e| panic!("{e}"))
}

/// The child side of a test, when this process is one: `(role, url, dir, prefix)`.
fn child_args() -> Option<(String, String, std::path::PathBuf, String)> {
    Some((
        child::role()?,
        std::env::var(URL_ENV).ok()?,
        std::env::var_os(DIR_ENV)?.into(),
        std::env::var(PREFIX_ENV).ok()?,
    ))
}

const TWO_PROCESSES: &str = "b_answers_from_redis_what_a_wrote";

#[test]
fn b_answers_from_redis_what_a_wrote() {
    if let Some((role, url, dir, prefix)) = child_args() {
        let cache = if role == "b" {
            // B is configured the way a host does it: from the environment.
            assert_eq!(
                std::env::var(ayon_cache::REDIS_URL_ENV).as_deref(),
                Ok(url.as_str())
            );
            let cache = TieredCache::builder().dir(&dir).redis_from_env().open();
            assert!(cache.shared().is_some(), "{:?}", cache.diagnostics());
            cache
        } else {
            tiered(&dir, config(&url, &prefix))
        };
        match role.as_str() {
            "a" => {
                for i in 0..300 {
                    cache.put(key(i), answer(i)).expect("put");
                }
                let s = cache.stats().shared.expect("shared stats");
                assert_eq!(s.errors, 0, "{s:?} {:?}", cache.diagnostics());
            }
            _ => {
                assert_eq!(
                    cache.len().unwrap(),
                    0,
                    "B must start with an empty local cache"
                );
                for i in 0..300 {
                    let got = cache.get(&key(i)).expect("get").unwrap_or_else(|| {
                        panic!("B: entry {i} not in Redis: {:?}", cache.stats())
                    });
                    assert_eq!(got, answer(i).with_stored_at(got.stored_at()));
                }
                let s = cache.stats().shared.expect("shared stats");
                assert_eq!(s.hits, 300, "{s:?}");
                // The hits filled the local tiers: the next reads do not go to Redis.
                cache.flush().unwrap();
                assert_eq!(cache.len().unwrap(), 300);
                for i in 0..300 {
                    assert!(cache.get(&key(i)).unwrap().is_some());
                }
                assert_eq!(cache.stats().shared.unwrap().hits, 300);
            }
        }
        println!("{} {role}", child::CHILD_OK);
        return;
    }
    let Some(server) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let prefix = "two-process:";
    finish(
        "a",
        spawn_child(TWO_PROCESSES, "a", &server.url(), dir_a.path(), prefix),
    );
    finish(
        "b",
        spawn_child(TWO_PROCESSES, "b", &server.url(), dir_b.path(), prefix),
    );
}

#[test]
fn stores_by_freshness_and_reads_bad_values_as_misses() {
    let Some(server) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let redis = config(&server.url(), "rules:").open().unwrap();
    let negative = Entry::bytes(
        Vec::<u8>::new(),
        Freshness::Negative {
            ttl: Duration::from_secs(60),
        },
        Source::Server,
    );
    redis.put(key(1), answer(1)).unwrap();
    redis.put(key(2), moving("latest")).unwrap();
    redis.put(key(3), negative).unwrap();
    assert!(redis.get(&key(1)).unwrap().is_some());
    assert_eq!(text_of(&redis.get(&key(2)).unwrap().unwrap()), "latest");
    assert_eq!(
        redis.get(&key(3)).unwrap(),
        None,
        "negative answers are not shared"
    );

    let mut conn = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("rules:e:*")
        .query(&mut conn)
        .unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for k in &keys {
        assert!(
            k.contains("https://ayon.studio.local|demo_offline") && k.contains("hero"),
            "keys name server, project and URI: {k}"
        );
        let ttl: i64 = redis::cmd("PTTL").arg(k).query(&mut conn).unwrap();
        if k.contains("hero1?") {
            assert_eq!(ttl, -1, "immutable: no expiry");
        } else {
            assert!(
                ttl > 590_000 && ttl <= 600_000,
                "moving: the local TTL, got {ttl}"
            );
        }
    }
    // Another record version, then garbage: misses, not errors.
    let k1 = keys.iter().find(|k| k.contains("hero1?")).unwrap();
    let mut bytes: Vec<u8> = redis::cmd("GET").arg(k1).query(&mut conn).unwrap();
    bytes[3] = bytes[3].wrapping_add(1);
    let _: () = redis::cmd("SET")
        .arg(k1)
        .arg(&bytes)
        .query(&mut conn)
        .unwrap();
    assert_eq!(redis.get(&key(1)).unwrap(), None);
    let _: () = redis::cmd("SET")
        .arg(k1)
        .arg("{not ours")
        .query(&mut conn)
        .unwrap();
    assert_eq!(redis.get(&key(1)).unwrap(), None);
    assert_eq!(redis.shared_stats().errors, 0);

    // Invalidation drops the shared moving entries of the namespace only.
    redis.put(key(4), answer(4)).unwrap();
    assert_eq!(redis.publish_invalidation(&ns()), Some(1));
    assert_eq!(redis.get(&key(2)).unwrap(), None);
    assert!(redis.get(&key(4)).unwrap().is_some());
    // remove_where by metadata.
    assert_eq!(
        redis
            .remove_where(Some(&ns()), &|k, m| m.freshness == Freshness::Immutable
                && k.name() == uri(4))
            .unwrap(),
        1
    );
    assert_eq!(redis.get(&key(4)).unwrap(), None);
}

#[test]
fn acl_user_and_password_from_the_url() {
    // Each directive's words are separate arguments (redis-server joins them until the next --).
    let Some(server) = RedisServer::start_or_skip(&[
        "--user", "default", "off", "--user", "farm", "on", ">s3cret", "~*", "&*", "+@all",
    ]) else {
        return;
    };
    let port = server.port();
    let good = config(&format!("redis://farm:s3cret@127.0.0.1:{port}"), "acl:")
        .open()
        .unwrap();
    good.put(key(1), answer(1)).unwrap();
    assert!(good.get(&key(1)).unwrap().is_some());
    assert_eq!(good.shared_stats().errors, 0);
    // A wrong password is a miss and a skipped write, never an error to the caller.
    let bad = config(&format!("redis://farm:wrong@127.0.0.1:{port}"), "acl:")
        .open()
        .unwrap();
    assert_eq!(bad.get(&key(1)).unwrap(), None);
    bad.put(key(2), answer(2)).unwrap();
    assert!(bad.shared_stats().errors >= 1);
    assert!(
        !format!("{bad:?}").contains("wrong"),
        "the password never shows in Debug"
    );
}

/// Runs `f` and asserts it returned within [`CALL_BOUND`].
fn bounded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(
        start.elapsed() < CALL_BOUND,
        "{what} took {:?}: a Redis fault must not block a call",
        start.elapsed()
    );
    out
}

#[test]
fn faults_are_misses_and_the_breaker_opens_and_closes() {
    let Some(mut server) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = tiered(dir.path(), config(&server.url(), "faults:"));
    for i in 0..20 {
        cache.put(key(i), answer(i)).unwrap();
    }
    let breaker = |c: &TieredCache| c.stats().shared.unwrap().breaker;

    // Frozen (SIGSTOP): local hits still answer, local misses come back within the timeout as
    // misses, and after 3 failures the breaker opens.
    server.pause().unwrap();
    for i in 0..20 {
        assert!(bounded("a local hit", || cache.get(&key(i)).unwrap()).is_some());
    }
    for i in 100..110 {
        assert_eq!(
            bounded("a miss with Redis frozen", || cache.get(&key(i)).unwrap()),
            None
        );
        bounded("a write with Redis frozen", || {
            cache.put(key(i + 1000), answer(i)).unwrap()
        });
    }
    assert_eq!(breaker(&cache), BreakerState::Open);
    let s = cache.stats().shared.unwrap();
    assert!(s.errors >= 3 && s.skipped > 0, "{s:?}");
    assert!(
        cache
            .diagnostics()
            .iter()
            .any(|d| d.kind == DiagnosticKind::SharedTierOff),
        "{:?}",
        cache.diagnostics()
    );
    // Thawed: after the cooldown a probe closes the breaker and Redis answers again.
    server.resume().unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || {
            let _ = cache.get(&key(999_999));
            breaker(&cache) == BreakerState::Closed
        }),
        "breaker did not close: {:?}",
        cache.stats()
    );
    assert!(
        cache
            .diagnostics()
            .iter()
            .any(|d| d.kind == DiagnosticKind::SharedTierOn)
    );

    // Killed: same, calls are bounded and succeed from the local tiers.
    server.stop();
    for i in 200..210 {
        assert_eq!(
            bounded("a miss with Redis dead", || cache.get(&key(i)).unwrap()),
            None
        );
        bounded("a write with Redis dead", || {
            cache.put(key(i), answer(i)).unwrap()
        });
        assert!(
            cache.get(&key(i)).unwrap().is_some(),
            "local tiers keep answering"
        );
    }
    assert_eq!(breaker(&cache), BreakerState::Open);

    // Restarted empty: the breaker closes, writes are shared again, old entries are gone.
    server.restart().unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || {
            let _ = cache.get(&key(999_999));
            breaker(&cache) == BreakerState::Closed
        }),
        "breaker did not close after restart: {:?}",
        cache.stats()
    );
    cache.put(key(300), answer(300)).unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let other = tiered(other_dir.path(), config(&server.url(), "faults:"));
    assert!(
        other.get(&key(300)).unwrap().is_some(),
        "shared after restart"
    );
    assert_eq!(
        other.get(&key(1)).unwrap(),
        None,
        "the restarted Redis is empty"
    );
}

#[test]
fn a_full_redis_is_a_skipped_write_not_an_error() {
    let Some(server) =
        RedisServer::start_or_skip(&["--maxmemory", "1mb", "--maxmemory-policy", "noeviction"])
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = tiered(dir.path(), config(&server.url(), "full:"));
    let big = |i: usize| {
        Entry::bytes(
            format!("{i:>16384}").into_bytes(),
            Freshness::Immutable,
            Source::Server,
        )
    };
    for i in 0..200 {
        bounded("a write to a full Redis", || {
            cache.put(key(i), big(i)).unwrap()
        });
    }
    for i in 0..200 {
        let got = cache
            .get(&key(i))
            .unwrap()
            .expect("the local tiers hold every write");
        assert_eq!(got, big(i).with_stored_at(got.stored_at()));
    }
    let s = cache.stats().shared.unwrap();
    assert!(
        s.errors > 0,
        "Redis must have refused writes at 1 MB: {s:?}"
    );
    assert_eq!(
        s.breaker,
        BreakerState::Closed,
        "a full Redis still answers reads: no reason to skip it"
    );
    // What fitted is shared.
    let other_dir = tempfile::tempdir().unwrap();
    let other = tiered(other_dir.path(), config(&server.url(), "full:"));
    assert!(other.get(&key(0)).unwrap().is_some());
}

const INVALIDATION: &str = "an_invalidation_reaches_four_processes";

#[test]
fn an_invalidation_reaches_four_processes() {
    if let Some((role, url, dir, prefix)) = child_args() {
        let cache = tiered(&dir, config(&url, &prefix));
        assert!(
            wait_for(Duration::from_secs(10), || cache.is_subscribed()),
            "{role}: never subscribed"
        );
        let latest = Key::new(&ns(), "latest");
        let pinned = Key::new(&ns(), "v004");
        cache
            .put(latest.clone(), moving(&format!("v1 from {role}")))
            .unwrap();
        cache.put(pinned.clone(), answer(4)).unwrap();
        std::fs::write(dir.join("READY"), &role).expect("write the ready marker");
        let local = cache.persistent().expect("persistent tier");
        assert!(
            wait_for(Duration::from_secs(20), || local
                .get(&latest)
                .unwrap()
                .is_none()),
            "{role}: the moving entry was never dropped: {:?}",
            cache.stats()
        );
        assert!(
            local.get(&pinned).unwrap().is_some(),
            "{role}: immutable entries stay"
        );
        assert_eq!(
            cache.get(&latest).unwrap(),
            None,
            "{role}: dropped in Redis too"
        );
        assert!(cache.stats().shared.unwrap().invalidations_received >= 1);
        println!("{} {role}", child::CHILD_OK);
        return;
    }
    let Some(server) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let prefix = "invalidation:";
    let url = server.url();
    let mut group = child::Group::spawn(INVALIDATION, 4, |dir| child_env(&url, dir, prefix))
        .expect("spawn children");
    // Wait for every child to hold its entries and listen (each writes a marker file).
    group
        .wait_ready(Duration::from_secs(30), "READY", || true)
        .unwrap_or_else(|e| panic!("{e}"));
    let publisher_dir = tempfile::tempdir().unwrap();
    let publisher = tiered(publisher_dir.path(), config(&server.url(), prefix));
    let started = Instant::now();
    publisher
        .invalidate(&ns(), &|_, m| m.freshness.is_moving())
        .unwrap();
    group.finish().unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "four processes dropped their moving entries in {:?}",
        started.elapsed()
    );
}

#[test]
fn peer_wait_gets_a_peers_answer_and_stops_on_a_negative_one() {
    let Some(server) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let wait = Duration::from_secs(5);
    let open = || {
        let dir = tempfile::tempdir().unwrap();
        let cache = tiered(dir.path(), config(&server.url(), "peers:").peer_wait(wait));
        (dir, cache)
    };
    let ((_da, a), (_db, b)) = (open(), open());
    // A misses first and so claims the key; its own second look does not wait for itself.
    assert_eq!(a.get(&key(1)).unwrap(), None);
    assert_eq!(
        bounded("a look at our own claim", || a.get(&key(1)).unwrap()),
        None
    );
    std::thread::scope(|s| {
        let waiter = s.spawn(|| b.get(&key(1)).unwrap());
        std::thread::sleep(Duration::from_millis(100));
        a.put(key(1), answer(1)).unwrap();
        let got = waiter
            .join()
            .unwrap()
            .expect("B gets A's answer instead of a miss");
        assert_eq!(got, answer(1).with_stored_at(got.stored_at()));
    });
    // A negative answer is not shared: storing it releases the claim and B stops waiting.
    assert_eq!(a.get(&key(2)).unwrap(), None);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let start = Instant::now();
            (b.get(&key(2)).unwrap(), start.elapsed())
        });
        std::thread::sleep(Duration::from_millis(100));
        let negative = Entry::bytes(
            Vec::<u8>::new(),
            Freshness::Negative {
                ttl: Duration::from_secs(60),
            },
            Source::Server,
        );
        a.put(key(2), negative).unwrap();
        let (got, waited) = waiter.join().unwrap();
        assert_eq!(got, None);
        assert!(
            waited < wait,
            "B waited the whole {wait:?}: the claim was not released"
        );
    });
}

#[test]
fn tiered_caches_share_through_tls_with_an_acl_user() {
    let Some(server) = RedisServer::start_tls_or_skip(&[
        "--user", "default", "off", "--user", "farm", "on", ">s3cret", "~*", "&*", "+@all",
    ]) else {
        return;
    };
    let (port, ca) = (
        server.tls_port().expect("TLS port"),
        server.tls_ca_file().expect("CA file"),
    );
    let url = format!("rediss://farm:s3cret@127.0.0.1:{port}");
    // A TLS handshake in an unoptimised build on a loaded 2-core machine can take longer than
    // the 50 ms default; the handshake is paid once per pooled connection.
    let tls = |prefix: &str| {
        config(&url, prefix)
            .ca_file(&ca)
            .timeout(Duration::from_secs(2))
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = tiered(dir_a.path(), tls("tls:"));
    let b = tiered(dir_b.path(), tls("tls:"));
    let first = Instant::now();
    a.put(key(1), answer(1)).unwrap();
    eprintln!(
        "first write over TLS (handshake included): {:?}",
        first.elapsed()
    );
    a.put(Key::new(&ns(), "latest"), moving("v1")).unwrap();
    let got = b.get(&key(1)).unwrap().unwrap_or_else(|| {
        panic!(
            "not shared through TLS: B {:?} {:?}; A {:?} {:?}",
            b.stats(),
            b.diagnostics(),
            a.stats(),
            a.shared().and_then(|r| r.last_error())
        )
    });
    assert_eq!(got, answer(1).with_stored_at(got.stored_at()));
    assert!(b.get(&Key::new(&ns(), "latest")).unwrap().is_some());
    // The invalidation channel runs over TLS too.
    assert!(
        wait_for(Duration::from_secs(10), || b.is_subscribed()),
        "B never subscribed over TLS: {:?}",
        b.diagnostics()
    );
    a.invalidate(&ns(), &|_, m| m.freshness.is_moving())
        .unwrap();
    assert!(
        wait_for(Duration::from_secs(10), || b.persistent().is_some_and(
            |p| p.get(&Key::new(&ns(), "latest")).unwrap().is_none()
        )),
        "B's moving entry survived the invalidation: {:?}",
        b.stats()
    );
    for c in [&a, &b] {
        let s = c.stats().shared.unwrap();
        assert_eq!(s.errors, 0, "{s:?} {:?}", c.diagnostics());
        assert!(!s.url.contains("s3cret"), "{}", s.url);
    }
    // The certificate is really checked: without our CA (the system's trust store) the
    // handshake fails, which is a miss, never an error.
    let untrusted_dir = tempfile::tempdir().unwrap();
    let untrusted = tiered(
        untrusted_dir.path(),
        config(&url, "tls:").timeout(Duration::from_secs(2)),
    );
    assert_eq!(untrusted.get(&key(1)).unwrap(), None);
    assert!(untrusted.stats().shared.unwrap().errors >= 1);
    let why = untrusted
        .shared()
        .and_then(|r| r.last_error())
        .unwrap_or_default();
    assert!(why.to_lowercase().contains("certificate"), "{why}");
}
