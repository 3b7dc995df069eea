//! Pinning-file benchmarks: loading a 100,000-entry file (target < 150 ms) and looking up one
//! entry (target < 100 ns). The file is generated into a temp dir, shaped like what the
//! ayon-usd add-on writes for a big shot: per asset a URI key and a resolved-path key, all
//! rootless (`{root[work]}`).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use ayon_pinning::{PinningFile, Roots};
use criterion::{Criterion, criterion_group, criterion_main};

const ENTRIES: usize = 100_000;
const ROOT: &str = "/mnt/studio/projects";

fn uri(i: usize) -> String {
    format!(
        "ayon+entity://demo_project/assets/set/prop_{i:06}?product=usdModel&version=v{:03}&representation=usd",
        i % 50 + 1
    )
}

fn path(i: usize) -> String {
    format!(
        "{ROOT}/demo_project/assets/set/prop_{i:06}/publish/usd/usdModel/v{:03}/dp_prop_{i:06}_usdModel_v{:03}.usd",
        i % 50 + 1,
        i % 50 + 1
    )
}

fn generate(file: &Path, roots: &Roots) {
    let entries = (0..ENTRIES / 2).flat_map(|i| [(uri(i), path(i)), (path(i), path(i))]);
    PinningFile::write(
        file,
        entries,
        Some(&format!("{ROOT}/demo_project/shots/sh010/__render__.usd")),
        roots,
    )
    .expect("bench file written");
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pin_100k.json");
    let roots = Roots::parse(&format!("work={ROOT}")).expect("roots");
    generate(&file, &roots);
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    eprintln!("pinning bench file: {ENTRIES} entries, {size} bytes");

    let mut g = c.benchmark_group("pinning_load");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("load_100k", |b| {
        b.iter(|| PinningFile::load(black_box(&file), &roots).expect("load"))
    });
    // A miss builds the index of other spellings (URI canonical forms, folded paths) once.
    g.bench_function("load_100k_then_first_miss", |b| {
        b.iter(|| {
            let pins = PinningFile::load(black_box(&file), &roots).expect("load");
            black_box(pins.lookup("/mnt/studio/projects/not/pinned.usd"));
            pins
        })
    });
    g.finish();

    let pins = PinningFile::load(&file, &roots).expect("load");
    let hit_uri = uri(31_337);
    let hit_path = path(31_337);
    let sloppy_uri = format!(
        "ayon://demo_project//assets/set/prop_{:06}?product=usdModel&version={}&representation=usd",
        31_337,
        31_337 % 50 + 1
    );
    let windows_spelling = hit_path.replace('/', "\\");
    let miss = format!("{ROOT}/demo_project/not/pinned.usd");
    assert!(pins.lookup(&hit_uri).is_some());
    assert!(pins.lookup(&hit_path).is_some());
    assert!(pins.lookup(&sloppy_uri).is_some());
    assert!(pins.lookup(&windows_spelling).is_some());
    assert!(pins.lookup(&miss).is_none());

    let mut g = c.benchmark_group("pinning_lookup");
    g.bench_function("exact_uri_hit", |b| {
        b.iter(|| pins.lookup(black_box(&hit_uri)))
    });
    g.bench_function("exact_path_hit", |b| {
        b.iter(|| pins.lookup(black_box(&hit_path)))
    });
    g.bench_function("path_miss", |b| b.iter(|| pins.lookup(black_box(&miss))));
    g.bench_function("backslash_path_hit", |b| {
        b.iter(|| pins.lookup(black_box(&windows_spelling)))
    });
    g.bench_function("non_canonical_uri_hit", |b| {
        b.iter(|| pins.lookup(black_box(&sloppy_uri)))
    });
    g.finish();
}

criterion_group!(pinning, benches);
criterion_main!(pinning);
