//! URI parsing: `ayon_uri` against `url::Url::parse` on the same typical representation URI.
//! Targets (BENCHMARKS.md): parse < 150 ns and < half of `url::Url::parse`.

use std::hint::black_box;

use ayon_uri::{AyonUri, is_ayon_uri};
use criterion::{Criterion, criterion_group, criterion_main};

/// What ayon-core writes into a USD layer: `ayon://`, the `//` after the project, `v`-version.
const TYPICAL: &str =
    "ayon://demo_offline//assets/characters/hero?product=usdAsset&version=v004&representation=usd";

fn uri(c: &mut Criterion) {
    let parsed = AyonUri::parse(TYPICAL).expect("the bench URI is valid");
    let mut group = c.benchmark_group("uri");
    group.bench_function("ayon_uri_parse", |b| {
        b.iter(|| AyonUri::parse(black_box(TYPICAL)))
    });
    group.bench_function("url_parse", |b| {
        b.iter(|| url::Url::parse(black_box(TYPICAL)))
    });
    group.bench_function("canonical", |b| b.iter(|| black_box(&parsed).canonical()));
    group.bench_function("parse_and_canonical", |b| {
        b.iter(|| AyonUri::parse(black_box(TYPICAL)).map(|u| u.canonical()))
    });
    group.bench_function("is_ayon_uri", |b| {
        b.iter(|| is_ayon_uri(black_box(TYPICAL)))
    });
    group.bench_function("is_ayon_uri_negative", |b| {
        b.iter(|| is_ayon_uri(black_box("/mnt/share/projects/demo/hero_v004.usd")))
    });
    group.finish();
}

criterion_group!(benches, uri);
criterion_main!(benches);
