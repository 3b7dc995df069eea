//! ayon-cache: memory and SQLite lookups, a 1,000-entry batch write, and memory lookups from one
//! thread vs two. Targets (BENCHMARKS.md): memory get < 100 ns, SQLite get < 10 us.

use std::hint::black_box;

use ayon_benches::cache_data::{ENTRIES, bench_each_key, entry, fill, keys, parallel_gets};
use ayon_cache::{Cache, Key, MemoryCache, SqliteCache};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn cache(c: &mut Criterion) {
    let keys = keys(ENTRIES);
    let dir = tempfile::tempdir().expect("temp dir");
    let memory = MemoryCache::new(256 * 1024 * 1024);
    fill(&memory, &keys);
    let sqlite = SqliteCache::open_in(dir.path()).expect("open");
    fill(&sqlite, &keys);

    let mut group = c.benchmark_group("cache");
    bench_each_key(&mut group, "memory_get_hit", &keys, |_, k| memory.get(k));
    group.bench_function("memory_get_hot_key", |b| {
        b.iter(|| memory.get(black_box(&keys[42])))
    });
    let missing = Key::from_parts(keys[0].namespace(), "not-there");
    group.bench_function("memory_get_miss", |b| {
        b.iter(|| memory.get(black_box(&missing)))
    });
    bench_each_key(&mut group, "sqlite_get_hit", &keys, |_, k| sqlite.get(k));
    bench_each_key(&mut group, "sqlite_put_durable", &keys, |i, k| {
        sqlite.put(k.clone(), entry(i))
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

criterion_group!(benches, cache);
criterion_main!(benches);
