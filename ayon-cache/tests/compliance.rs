//! One behaviour suite, run against every backend: memory, SQLite and tiered.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ayon_cache::{
    Cache, ENTRY_FORMAT_VERSION, Entry, Freshness, Key, MemoryCache, Namespace, Source,
    SqliteCache, TieredCache, Value,
};
use serde_json::json;

/// A backend under test plus whatever must outlive it (its temp directory).
struct Subject {
    cache: Box<dyn Cache>,
    _dir: Option<tempfile::TempDir>,
}

fn memory() -> Subject {
    Subject {
        cache: Box::new(MemoryCache::new(16 * 1024 * 1024)),
        _dir: None,
    }
}

fn sqlite() -> Subject {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = SqliteCache::open_in(dir.path()).expect("open sqlite cache");
    Subject {
        cache: Box::new(cache),
        _dir: Some(dir),
    }
}

fn tiered() -> Subject {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = TieredCache::builder()
        .memory_bytes(16 * 1024 * 1024)
        .dir(dir.path())
        .open();
    assert!(
        !cache.is_degraded(),
        "tiered cache degraded: {:?}",
        cache.diagnostics()
    );
    Subject {
        cache: Box::new(cache),
        _dir: Some(dir),
    }
}

fn ns() -> Namespace {
    Namespace::for_server(
        &"http://127.0.0.1:5000".parse().expect("server URL"),
        "demo_offline",
    )
}

fn key(name: &str) -> Key {
    Key::new(&ns(), name)
}

fn moving(secs: u64) -> Freshness {
    Freshness::Moving {
        ttl: Duration::from_secs(secs),
    }
}

fn bytes_of(e: &Entry) -> Vec<u8> {
    match e.value() {
        Value::Bytes(b) => b.to_vec(),
        Value::Json(j) => panic!("expected bytes, got JSON {j}"),
    }
}

fn roundtrip_keeps_value_and_metadata(c: &dyn Cache) {
    let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
    let b = Entry::bytes(
        &b"/proj/a/v004/a.usd"[..],
        Freshness::Immutable,
        Source::Server,
    )
    .with_stored_at(at);
    let j = Entry::json(
        json!({"entities": [{"path": "{root[work]}/x.usd"}]}),
        moving(60),
        Source::Prefetch,
    )
    .with_format_version(7);
    let n = Entry::bytes(
        Vec::<u8>::new(),
        Freshness::Negative {
            ttl: Duration::from_secs(30),
        },
        Source::Pinning,
    );
    c.put(key("b"), b.clone()).unwrap();
    c.put(key("j"), j.clone()).unwrap();
    c.put(key("n"), n.clone()).unwrap();
    assert_eq!(c.get(&key("b")).unwrap().as_ref(), Some(&b));
    assert_eq!(c.get(&key("j")).unwrap().as_ref(), Some(&j));
    assert_eq!(c.get(&key("n")).unwrap().as_ref(), Some(&n));
    let got = c.get(&key("b")).unwrap().unwrap();
    assert_eq!(got.stored_at(), at);
    assert_eq!(got.format_version(), ENTRY_FORMAT_VERSION);
    assert_eq!(c.get(&key("j")).unwrap().unwrap().format_version(), 7);
    assert_eq!(
        c.get(&key("j")).unwrap().unwrap().freshness().ttl(),
        Some(Duration::from_secs(60))
    );
}

fn missing_is_none(c: &dyn Cache) {
    assert_eq!(c.get(&key("nope")).unwrap(), None);
}

fn put_replaces(c: &dyn Cache) {
    c.put(
        key("k"),
        Entry::bytes(&b"one"[..], moving(60), Source::Server),
    )
    .unwrap();
    c.put(
        key("k"),
        Entry::bytes(&b"two"[..], moving(60), Source::Server),
    )
    .unwrap();
    assert_eq!(bytes_of(&c.get(&key("k")).unwrap().unwrap()), b"two");
    assert_eq!(c.len().unwrap(), 1);
}

fn namespaces_are_isolated(c: &dyn Cache) {
    let a = Key::new(
        &Namespace::for_server(&"https://a.example".parse().expect("server URL"), "p"),
        "same",
    );
    let b = Key::new(
        &Namespace::for_server(&"https://b.example".parse().expect("server URL"), "p"),
        "same",
    );
    let d = Key::new(&Namespace::custom("tool"), "same");
    c.put(
        a.clone(),
        Entry::bytes(&b"a"[..], Freshness::Immutable, Source::Server),
    )
    .unwrap();
    c.put(
        b.clone(),
        Entry::bytes(&b"bb"[..], Freshness::Immutable, Source::Server),
    )
    .unwrap();
    c.put(
        d.clone(),
        Entry::bytes(&b"ddd"[..], Freshness::Immutable, Source::Server),
    )
    .unwrap();
    assert_eq!(bytes_of(&c.get(&a).unwrap().unwrap()), b"a");
    assert_eq!(bytes_of(&c.get(&b).unwrap().unwrap()), b"bb");
    let stats = c.namespaces().unwrap();
    let names: Vec<_> = stats
        .iter()
        .map(|s| (s.namespace.as_str(), s.entries, s.bytes))
        .collect();
    assert_eq!(
        names,
        vec![
            ("https://a.example|p", 1, 1),
            ("https://b.example|p", 1, 2),
            ("tool", 1, 3)
        ]
    );
    assert_eq!(c.size_bytes().unwrap(), 6);
}

fn remove_one(c: &dyn Cache) {
    c.put(
        key("r"),
        Entry::bytes(&b"x"[..], Freshness::Immutable, Source::Server),
    )
    .unwrap();
    assert!(c.remove(&key("r")).unwrap());
    assert!(!c.remove(&key("r")).unwrap());
    assert_eq!(c.get(&key("r")).unwrap(), None);
}

fn remove_prefix_stays_in_namespace(c: &dyn Cache) {
    let other = Namespace::custom("other");
    for name in [
        "ayon+entity://p/a?x",
        "ayon+entity://p/ab?x",
        "ayon+entity://p/b?x",
        "ayon+entity://p/é/a",
    ] {
        c.put(
            key(name),
            Entry::bytes(&b"v"[..], moving(60), Source::Server),
        )
        .unwrap();
        c.put(
            Key::new(&other, name),
            Entry::bytes(&b"v"[..], moving(60), Source::Server),
        )
        .unwrap();
    }
    assert_eq!(
        c.remove_prefix(ns().as_str(), "ayon+entity://p/a").unwrap(),
        2
    );
    assert_eq!(
        c.remove_prefix(ns().as_str(), "ayon+entity://p/é").unwrap(),
        1
    );
    assert!(c.get(&key("ayon+entity://p/b?x")).unwrap().is_some());
    assert!(c.get(&key("ayon+entity://p/a?x")).unwrap().is_none());
    assert!(
        c.get(&Key::new(&other, "ayon+entity://p/a?x"))
            .unwrap()
            .is_some()
    );
    assert_eq!(c.remove_prefix(other.as_str(), "").unwrap(), 4);
    assert_eq!(c.len().unwrap(), 1);
}

fn remove_where_invalidates_moving_entries_of_one_project(c: &dyn Cache) {
    let other = Namespace::custom("other");
    c.put(
        key("imm"),
        Entry::bytes(&b"i"[..], Freshness::Immutable, Source::Server),
    )
    .unwrap();
    c.put(
        key("latest"),
        Entry::bytes(&b"l"[..], moving(60), Source::Server),
    )
    .unwrap();
    c.put(
        key("hero"),
        Entry::bytes(&b"h"[..], moving(60), Source::Prefetch),
    )
    .unwrap();
    c.put(
        Key::new(&other, "latest"),
        Entry::bytes(&b"o"[..], moving(60), Source::Server),
    )
    .unwrap();
    let removed = c
        .remove_where(Some(ns().as_str()), &|_k, m| m.freshness.is_moving())
        .unwrap();
    assert_eq!(removed, 2);
    assert!(c.get(&key("imm")).unwrap().is_some());
    assert!(c.get(&key("latest")).unwrap().is_none());
    assert!(c.get(&Key::new(&other, "latest")).unwrap().is_some());
    let removed = c
        .remove_where(None, &|k, m| {
            k.name() == "latest" && m.source == Source::Server
        })
        .unwrap();
    assert_eq!(removed, 1);
    assert_eq!(c.len().unwrap(), 1);
}

fn clear_empties(c: &dyn Cache) {
    c.put(
        key("a"),
        Entry::bytes(&b"x"[..], Freshness::Immutable, Source::Server),
    )
    .unwrap();
    c.put(
        Key::new(&Namespace::custom("z"), "b"),
        Entry::bytes(&b"x"[..], Freshness::Immutable, Source::Server),
    )
    .unwrap();
    c.clear().unwrap();
    assert!(c.is_empty().unwrap());
    assert_eq!(c.get(&key("a")).unwrap(), None);
    assert_eq!(c.size_bytes().unwrap(), 0);
}

fn put_many_stores_all(c: &dyn Cache) {
    let batch: Vec<_> = (0..500)
        .map(|i| {
            (
                key(&format!("k{i}")),
                Entry::bytes(
                    format!("value {i}").into_bytes(),
                    Freshness::Immutable,
                    Source::Prefetch,
                ),
            )
        })
        .collect();
    c.put_many(batch).unwrap();
    assert_eq!(c.len().unwrap(), 500);
    for i in [0, 1, 250, 499] {
        assert_eq!(
            bytes_of(&c.get(&key(&format!("k{i}"))).unwrap().unwrap()),
            format!("value {i}").as_bytes()
        );
    }
}

fn put_buffered_is_visible_then_flushed(c: &dyn Cache) {
    c.put(
        key("x"),
        Entry::bytes(&b"old"[..], moving(60), Source::Server),
    )
    .unwrap();
    c.put_buffered(
        key("x"),
        Entry::bytes(&b"new"[..], moving(60), Source::Server),
    )
    .unwrap();
    c.put_buffered(
        key("y"),
        Entry::bytes(&b"y"[..], moving(60), Source::Server),
    )
    .unwrap();
    assert_eq!(bytes_of(&c.get(&key("x")).unwrap().unwrap()), b"new");
    c.flush().unwrap();
    assert_eq!(bytes_of(&c.get(&key("x")).unwrap().unwrap()), b"new");
    assert_eq!(c.len().unwrap(), 2);
    // A buffered write followed by a direct one: the direct (later) one wins.
    c.put_buffered(
        key("x"),
        Entry::bytes(&b"buffered"[..], moving(60), Source::Server),
    )
    .unwrap();
    c.put(
        key("x"),
        Entry::bytes(&b"direct"[..], moving(60), Source::Server),
    )
    .unwrap();
    c.flush().unwrap();
    assert_eq!(bytes_of(&c.get(&key("x")).unwrap().unwrap()), b"direct");
    // A buffered write then a removal: gone.
    c.put_buffered(
        key("z"),
        Entry::bytes(&b"z"[..], moving(60), Source::Server),
    )
    .unwrap();
    assert!(c.remove(&key("z")).unwrap());
    c.flush().unwrap();
    assert_eq!(c.get(&key("z")).unwrap(), None);
}

fn stale_entries_are_kept(c: &dyn Cache) {
    let old = SystemTime::now() - Duration::from_secs(3600);
    c.put(
        key("stale"),
        Entry::bytes(&b"s"[..], moving(1), Source::Server).with_stored_at(old),
    )
    .unwrap();
    let got = c
        .get(&key("stale"))
        .unwrap()
        .expect("the cache must not evict by age");
    assert!(!got.is_fresh_at(SystemTime::now()));
}

fn stats_count_hits_and_misses(c: &dyn Cache) {
    c.put(
        key("h"),
        Entry::bytes(&b"h"[..], Freshness::Immutable, Source::Server),
    )
    .unwrap();
    let before = c.stats();
    c.get(&key("h")).unwrap();
    c.get(&key("h")).unwrap();
    c.get(&key("missing")).unwrap();
    let after = c.stats();
    let total = |s: &ayon_cache::CacheStats| {
        let m = s.memory.unwrap_or_default();
        let p = s.persistent.unwrap_or_default();
        (m.hits + p.hits, m.misses)
    };
    let (h0, _) = total(&before);
    let (h1, _) = total(&after);
    assert!(h1 >= h0 + 2, "hits did not grow: {before:?} -> {after:?}");
    let first_tier_misses = |s: &ayon_cache::CacheStats| s.memory.or(s.persistent).unwrap().misses;
    assert_eq!(first_tier_misses(&after), first_tier_misses(&before) + 1);
    assert_eq!(after.entries, 1);
    assert_eq!(after.bytes, 1);
    assert!(!after.degraded);
    assert_eq!(after.last_error, None);
}

fn shared_as_arc_across_threads(c: &dyn Cache) {
    // Object safety + Send + Sync in use: scoped threads writing through the trait object.
    std::thread::scope(|s| {
        for t in 0..4 {
            s.spawn(move || {
                for i in 0..50 {
                    c.put(
                        key(&format!("t{t}-{i}")),
                        Entry::bytes(vec![t as u8; 10], Freshness::Immutable, Source::Server),
                    )
                    .unwrap();
                }
            });
        }
    });
    assert_eq!(c.len().unwrap(), 200);
    let _: Arc<dyn Cache> = Arc::new(MemoryCache::default());
}

macro_rules! compliance {
    ($backend:ident) => {
        mod $backend {
            use super::*;
            #[test]
            fn roundtrip_keeps_value_and_metadata() {
                super::roundtrip_keeps_value_and_metadata(&*$backend().cache)
            }
            #[test]
            fn missing_is_none() {
                super::missing_is_none(&*$backend().cache)
            }
            #[test]
            fn put_replaces() {
                super::put_replaces(&*$backend().cache)
            }
            #[test]
            fn namespaces_are_isolated() {
                super::namespaces_are_isolated(&*$backend().cache)
            }
            #[test]
            fn remove_one() {
                super::remove_one(&*$backend().cache)
            }
            #[test]
            fn remove_prefix_stays_in_namespace() {
                super::remove_prefix_stays_in_namespace(&*$backend().cache)
            }
            #[test]
            fn remove_where_invalidates_moving_entries_of_one_project() {
                super::remove_where_invalidates_moving_entries_of_one_project(&*$backend().cache)
            }
            #[test]
            fn clear_empties() {
                super::clear_empties(&*$backend().cache)
            }
            #[test]
            fn put_many_stores_all() {
                super::put_many_stores_all(&*$backend().cache)
            }
            #[test]
            fn put_buffered_is_visible_then_flushed() {
                super::put_buffered_is_visible_then_flushed(&*$backend().cache)
            }
            #[test]
            fn stale_entries_are_kept() {
                super::stale_entries_are_kept(&*$backend().cache)
            }
            #[test]
            fn stats_count_hits_and_misses() {
                super::stats_count_hits_and_misses(&*$backend().cache)
            }
            #[test]
            fn shared_as_arc_across_threads() {
                super::shared_as_arc_across_threads(&*$backend().cache)
            }
        }
    };
}

compliance!(memory);
compliance!(sqlite);
compliance!(tiered);
