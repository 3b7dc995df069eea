//! ayon-cache: memory and SQLite lookups, a 1,000-entry batch write, and memory lookups from one
//! thread vs two. Targets (BENCHMARKS.md): memory get < 100 ns, SQLite get < 10 us.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ayon_cache::{Cache, Entry, Freshness, Key, MemoryCache, Namespace, Source, SqliteCache};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

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

fn filled<C: Cache>(cache: C, keys: &[Key]) -> C {
    cache
        .put_many(
            keys.iter()
                .enumerate()
                .map(|(i, k)| (k.clone(), entry(i)))
                .collect(),
        )
        .expect("fill");
    cache
}

fn cache(c: &mut Criterion) {
    let keys = keys(ENTRIES);
    let dir = tempfile::tempdir().expect("temp dir");
    let memory = Arc::new(filled(MemoryCache::new(256 * 1024 * 1024), &keys));
    let sqlite = filled(SqliteCache::open_in(dir.path()).expect("open"), &keys);

    let mut group = c.benchmark_group("cache");
    let mut i = 0usize;
    group.bench_function("memory_get_hit", |b| {
        b.iter(|| {
            i = (i + 1) % ENTRIES;
            memory.get(black_box(&keys[i]))
        })
    });
    group.bench_function("memory_get_hot_key", |b| {
        b.iter(|| memory.get(black_box(&keys[42])))
    });
    let missing = Key::from_parts(keys[0].namespace(), "not-there");
    group.bench_function("memory_get_miss", |b| {
        b.iter(|| memory.get(black_box(&missing)))
    });
    group.bench_function("sqlite_get_hit", |b| {
        b.iter(|| {
            i = (i + 1) % ENTRIES;
            sqlite.get(black_box(&keys[i]))
        })
    });
    group.bench_function("sqlite_put_durable", |b| {
        b.iter(|| {
            i = (i + 1) % ENTRIES;
            sqlite.put(keys[i].clone(), entry(i))
        })
    });
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("sqlite_put_many_1000", |b| {
        b.iter_batched(
            || {
                keys[..1_000]
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (k.clone(), entry(i)))
                    .collect::<Vec<_>>()
            },
            |batch| sqlite.put_many(batch),
            BatchSize::LargeInput,
        )
    });
    group.finish();

    // Memory lookups: one thread vs two, each doing the same work; throughput = total lookups/s.
    let mut group = c.benchmark_group("cache_memory_get_threads");
    for threads in [1usize, 2] {
        group.throughput(Throughput::Elements(threads as u64));
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter_custom(|iters| parallel_gets(&memory, &keys, threads, iters))
        });
    }
    group.finish();
}

fn parallel_gets(memory: &Arc<MemoryCache>, keys: &[Key], threads: usize, iters: u64) -> Duration {
    let barrier = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                let mut i = t * 997;
                for _ in 0..iters {
                    i = (i + 1) % keys.len();
                    black_box(memory.get(black_box(&keys[i])).ok());
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        // Scope end joins the threads; measure until then.
        start
    })
    .elapsed()
}

criterion_group!(benches, cache);
criterion_main!(benches);
