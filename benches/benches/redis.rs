//! ayon-cache's shared tier: a Redis-tier hit over loopback (a local miss answered by Redis,
//! what a cold farm worker pays), 8-thread throughput, against the SQLite tier doing the same.
//! Needs `redis-server` (the testkit starts one on a free port); without it the bench says so
//! and measures nothing.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ayon_cache::{
    Cache, Entry, Freshness, Key, Namespace, RedisConfig, Source, SqliteCache, TieredCache,
};
use ayon_testkit::redis::RedisServer;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ENTRIES: usize = 10_000;

fn keys(n: usize) -> Vec<Key> {
    let ns = Namespace::for_server(
        &"https://ayon.studio.local".parse().expect("server URL"),
        "demo_offline",
    );
    (0..n)
        .map(|i| {
            Key::new(
                &ns,
                format!(
                    "ayon+entity://demo_offline/assets/characters/hero{i}?product=usdAsset&version=v004&representation=usd"
                ),
            )
        })
        .collect()
}

/// A resolve answer's size: a rootless path plus a little JSON around it (~200 bytes).
fn entry(i: usize) -> Entry {
    let value = format!(
        r#"{{"path":"{{root[work]}}/demo_offline/assets/characters/hero{i}/publish/usd/usdAsset/v004/demo_offline_hero{i}_usdAsset_v004.usd"}}"#
    );
    Entry::bytes(value.into_bytes(), Freshness::Immutable, Source::Server)
}

fn fill(cache: &dyn Cache, keys: &[Key]) {
    for (c, ks) in keys.chunks(1_000).enumerate() {
        cache
            .put_many(
                ks.iter()
                    .enumerate()
                    .map(|(i, k)| (k.clone(), entry(c * 1_000 + i)))
                    .collect(),
            )
            .expect("fill");
    }
}

fn parallel_gets(cache: &dyn Cache, keys: &[Key], threads: usize, iters: u64) -> Duration {
    let barrier = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                let mut i = t * 997;
                for _ in 0..iters {
                    i = (i + 1) % keys.len();
                    black_box(cache.get(black_box(&keys[i])).ok());
                }
            });
        }
        barrier.wait();
        Instant::now()
    })
    .elapsed()
}

fn redis(c: &mut Criterion) {
    let Some(server) = RedisServer::start_or_skip(&[]) else {
        return;
    };
    let keys = keys(ENTRIES);
    let config = RedisConfig::new(server.url()).subscribe(false);
    let redis = config.clone().open().expect("redis tier");
    fill(&redis, &keys);
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqliteCache::open_in(dir.path()).expect("sqlite");
    fill(&sqlite, &keys);

    let mut group = c.benchmark_group("cache_shared");
    let mut i = 0usize;
    group.bench_function("redis_get_hit", |b| {
        b.iter(|| {
            i = (i + 1) % ENTRIES;
            redis.get(black_box(&keys[i]))
        })
    });
    group.bench_function("sqlite_get_hit", |b| {
        b.iter(|| {
            i = (i + 1) % ENTRIES;
            sqlite.get(black_box(&keys[i]))
        })
    });
    // A cold worker: memory and SQLite miss, Redis answers and fills them. Each iteration uses
    // a fresh tiered cache only every ENTRIES lookups, so almost every lookup is such a miss.
    let mut tiered = TieredCache::builder()
        .memory_only()
        .redis(Some(config.clone()))
        .open();
    let mut n = 0usize;
    group.bench_function("tiered_local_miss_redis_hit", |b| {
        b.iter(|| {
            n += 1;
            if n.is_multiple_of(ENTRIES) {
                tiered = TieredCache::builder()
                    .memory_only()
                    .redis(Some(config.clone()))
                    .open();
            }
            tiered.get(black_box(&keys[n % ENTRIES]))
        })
    });
    group.bench_function("redis_put", |b| {
        b.iter(|| {
            i = (i + 1) % ENTRIES;
            redis.put(keys[i].clone(), entry(i))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("cache_shared_threads");
    group.throughput(Throughput::Elements(8));
    group.bench_function("redis_8_threads", |b| {
        b.iter_custom(|iters| parallel_gets(&redis, &keys, 8, iters))
    });
    group.bench_function("sqlite_8_threads", |b| {
        b.iter_custom(|iters| parallel_gets(&sqlite, &keys, 8, iters))
    });
    group.finish();
    let stats = redis.shared_stats();
    assert_eq!(stats.errors, 0, "the bench measured failures: {stats:?}");
}

criterion_group!(benches, redis);
criterion_main!(benches);
