//! ayon-cache's shared tier: a Redis-tier hit over loopback (a local miss answered by Redis,
//! what a cold farm worker pays), 8-thread throughput, against the SQLite tier doing the same.
//! Needs `redis-server` (the testkit starts one on a free port); without it the bench says so
//! and measures nothing.

use std::hint::black_box;

use ayon_benches::cache_data::{ENTRIES, bench_each_key, entry, fill, keys, parallel_gets};
use ayon_cache::{Cache, RedisConfig, SqliteCache, TieredCache};
use ayon_testkit::redis::RedisServer;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

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
    bench_each_key(&mut group, "redis_get_hit", &keys, |_, k| redis.get(k));
    bench_each_key(&mut group, "sqlite_get_hit", &keys, |_, k| sqlite.get(k));
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
    bench_each_key(&mut group, "redis_put", &keys, |i, k| {
        redis.put(k.clone(), entry(i))
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
