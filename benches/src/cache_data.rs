//! The cache benches' data (`--bench cache`, `--bench redis`): 10,000 keys of one project,
//! answers the size of a real resolve answer, and a multi-thread lookup loop.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ayon_cache::{Cache, Entry, Freshness, Key, Namespace, Source};
use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;

/// How many entries the cache benches fill.
pub const ENTRIES: usize = 10_000;

/// `n` keys of one project on one server, named like canonical exact-version URIs.
pub fn keys(n: usize) -> Vec<Key> {
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
pub fn entry(i: usize) -> Entry {
    let value = format!(
        r#"{{"path":"{{root[work]}}/demo_offline/assets/characters/hero{i}/publish/usd/usdAsset/v004/demo_offline_hero{i}_usdAsset_v004.usd"}}"#
    );
    Entry::bytes(value.into_bytes(), Freshness::Immutable, Source::Server)
}

/// Writes `entry(i)` under `keys[i]`, 1,000 per batch.
pub fn fill<C: Cache + ?Sized>(cache: &C, keys: &[Key]) {
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

/// `threads` threads doing `iters` lookups each over `keys`, started together; the time until
/// the last one is done (criterion's `iter_custom`).
pub fn parallel_gets<C: Cache + ?Sized>(
    cache: &C,
    keys: &[Key],
    threads: usize,
    iters: u64,
) -> Duration {
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
        // The scope's end joins the threads: measured until then.
        Instant::now()
    })
    .elapsed()
}

/// Benchmarks `name`: `op` on one key per iteration (its index and the key), cycling through
/// `keys`, e.g. a lookup of present entries or a write.
pub fn bench_each_key<R>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    keys: &[Key],
    mut op: impl FnMut(usize, &Key) -> R,
) {
    let mut i = 0usize;
    group.bench_function(name, |b| {
        b.iter(|| {
            i = (i + 1) % keys.len();
            op(i, black_box(&keys[i]))
        })
    });
}
