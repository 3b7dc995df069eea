//! ayon-index: an indexed answer from the memory layer and from SQL (the demo library, linux
//! site with roots). Target (issue 11, BENCHMARKS.md): < 5 us from memory.

use std::hint::black_box;

use ayon_index::Index;
use ayon_site::Platform;
use ayon_testkit::Library;
use ayon_testkit::index_snapshot::load_library;
use ayon_uri::AyonUri;
use criterion::{Criterion, criterion_group, criterion_main};

const EXACT: &str =
    "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
const LATEST: &str =
    "ayon://demo_offline/assets/props/prop042?product=usdAsset&version=latest&representation=usd";
const WIDE: &str = "ayon://demo_offline?product=usdAsset&version=v001&representation=usd";

fn bench_index(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = Index::builder()
        .cache_dir(dir.path())
        .platform(Some(Platform::Linux))
        .open()
        .expect("index opens");
    load_library(
        &index,
        &Library::demo_offline(),
        Some(("offline-test-linux", Platform::Linux)),
    )
    .expect("demo library written");
    let reps = index
        .projects()
        .expect("lists")
        .iter()
        .map(|p| p.counts[4])
        .sum::<u64>();
    let size = |suffix: &str| {
        let mut path = index.path().as_os_str().to_owned();
        path.push(suffix);
        std::fs::metadata(path).map_or(0, |m| m.len())
    };
    let (file, wal) = (size(""), size("-wal"));
    println!(
        "index on disk: {file} bytes + {wal} bytes of WAL for {reps} representations \
         ({} bytes per 1,000 with the WAL)",
        (file + wal) * 1000 / reps.max(1)
    );
    let mut group = c.benchmark_group("index");
    for (name, uri) in [("exact", EXACT), ("latest", LATEST), ("wide_101", WIDE)] {
        let uri = AyonUri::parse(uri).expect("uri");
        let answer = index.resolve(&uri).expect("answers");
        assert!(
            answer.error.is_none() && !answer.entities.is_empty(),
            "{answer:?}"
        );
        group.bench_function(format!("memory_{name}"), |b| {
            b.iter(|| index.resolve(black_box(&uri)).expect("answers"))
        });
        group.bench_function(format!("sql_{name}"), |b| {
            b.iter(|| index.resolve_from_sql(black_box(&uri)).expect("answers"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_index);
criterion_main!(benches);
