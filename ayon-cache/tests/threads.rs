//! Threads hammering get/put (plus bulk invalidation) on the memory and tiered caches: no
//! deadlock, no lost update, and no reader ever sees a key go back in time.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use ayon_cache::{
    Cache, CacheError, Entry, Freshness, Key, MemoryCache, Namespace, Source, SqliteCache,
    TieredCache, Value,
};

/// A cache with buffered writes: the tiered cache's own, a plain `put` for the memory cache.
trait Buffered: Cache {
    fn put_buffered(&self, key: Key, entry: Entry) -> Result<(), CacheError>;
}

impl Buffered for MemoryCache {
    fn put_buffered(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
        self.put(key, entry)
    }
}

impl Buffered for TieredCache {
    fn put_buffered(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
        TieredCache::put_buffered(self, key, entry)
    }
}

const KEYS_PER_THREAD: u64 = 8;
const ROUNDS: u64 = 60;

fn ns() -> Namespace {
    Namespace::custom("threads")
}

fn key(t: usize, k: u64) -> Key {
    Key::new(&ns(), format!("t{t}-k{k}"))
}

fn entry(version: u64) -> Entry {
    Entry::bytes(
        version.to_le_bytes().to_vec(),
        Freshness::Immutable,
        Source::Server,
    )
}

fn version(e: &Entry) -> u64 {
    match e.value() {
        Value::Bytes(b) => u64::from_le_bytes(b.as_ref().try_into().expect("8-byte value")),
        Value::Json(_) => panic!("unexpected JSON"),
    }
}

/// Each thread owns some keys and writes increasing versions to them (single puts, batches and
/// buffered puts), reading its own keys back and other threads' keys, while one thread in four
/// also runs bulk invalidations of a scratch namespace. Runs with a deadlock watchdog.
fn hammer(cache: Arc<dyn Buffered>, threads: usize) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker_cache = cache.clone();
    std::thread::spawn(move || {
        std::thread::scope(|s| {
            for t in 0..threads {
                let cache = &*worker_cache;
                s.spawn(move || {
                    let mut rng = fastrand::Rng::with_seed(t as u64);
                    let mut last_seen: HashMap<Key, u64> = HashMap::new();
                    let scratch = Namespace::custom(format!("scratch-{t}"));
                    for round in 0..ROUNDS {
                        match round % 3 {
                            0 => {
                                for k in 0..KEYS_PER_THREAD {
                                    cache.put(key(t, k), entry(round)).unwrap();
                                }
                            }
                            1 => cache
                                .put_many(
                                    (0..KEYS_PER_THREAD)
                                        .map(|k| (key(t, k), entry(round)))
                                        .collect(),
                                )
                                .unwrap(),
                            _ => {
                                for k in 0..KEYS_PER_THREAD {
                                    cache.put_buffered(key(t, k), entry(round)).unwrap();
                                }
                            }
                        }
                        for k in 0..KEYS_PER_THREAD {
                            let got = cache.get(&key(t, k)).unwrap().expect("own key missing");
                            assert_eq!(
                                version(&got),
                                round,
                                "thread {t} lost its own write to k{k}"
                            );
                        }
                        for _ in 0..KEYS_PER_THREAD {
                            let other = key(rng.usize(0..threads), rng.u64(0..KEYS_PER_THREAD));
                            if let Some(e) = cache.get(&other).unwrap() {
                                let v = version(&e);
                                let prev = last_seen.insert(other.clone(), v).unwrap_or(0);
                                assert!(v >= prev, "{other} went back from {prev} to {v}");
                            }
                        }
                        if t % 4 == 0 {
                            cache
                                .put(Key::new(&scratch, format!("s{round}")), entry(round))
                                .unwrap();
                            cache
                                .remove_where(Some(&scratch), &|_, m| {
                                    m.freshness == Freshness::Immutable
                                })
                                .unwrap();
                            cache
                                .remove_where(Some(&scratch), &|k, _| k.name().starts_with('s'))
                                .unwrap();
                        }
                    }
                    cache.flush().unwrap();
                });
            }
        });
        let _ = done_tx.send(());
    });
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("deadlock: the threads did not finish within 60 s");
    for t in 0..threads {
        for k in 0..KEYS_PER_THREAD {
            let got = cache
                .get(&key(t, k))
                .unwrap()
                .unwrap_or_else(|| panic!("{} lost", key(t, k)));
            assert_eq!(
                version(&got),
                ROUNDS - 1,
                "{} lost its last update",
                key(t, k)
            );
        }
    }
}

#[test]
fn memory_cache_two_threads() {
    hammer(Arc::new(MemoryCache::new(64 * 1024 * 1024)), 2);
}

#[test]
fn memory_cache_eight_threads() {
    hammer(Arc::new(MemoryCache::new(64 * 1024 * 1024)), 8);
}

fn tiered(threads: usize) {
    let dir = tempfile::tempdir().unwrap();
    // A small memory tier, so evictions and promotions from SQLite happen under contention.
    let cache = TieredCache::builder()
        .memory_bytes(64 * 1024)
        .dir(dir.path())
        .open();
    assert!(!cache.is_degraded());
    hammer(Arc::new(cache), threads);
    let reopened = SqliteCache::open_in(dir.path()).unwrap();
    for t in 0..threads {
        for k in 0..KEYS_PER_THREAD {
            let got = reopened
                .get(&key(t, k))
                .unwrap()
                .expect("durable copy missing");
            assert_eq!(
                version(&got),
                ROUNDS - 1,
                "{} lost its last update on disk",
                key(t, k)
            );
        }
    }
}

#[test]
fn tiered_cache_two_threads() {
    tiered(2);
}

#[test]
fn tiered_cache_eight_threads() {
    tiered(8);
}
