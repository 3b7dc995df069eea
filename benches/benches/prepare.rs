//! Prepare-for-offline against resolving the same scope URI by URI: a 102-folder project
//! (100 props, a character, a shot) from the testkit, on loopback and at 5 ms per request; and
//! a second (incremental) prepare of the unchanged project against a full one.

use std::path::Path;
use std::time::Duration;

use ayon_client::{CancelToken, Client, PrepareMode, PrepareOptions, PrepareReport, PrepareScope};
use ayon_index::Index;
use ayon_testkit::{Library, TestServer};
use criterion::{Criterion, criterion_group, criterion_main};

/// The project's 300 prop representation URIs (100 props × v001-v003).
fn uris() -> Vec<String> {
    (1..=100)
        .flat_map(|i| {
            (1..=3).map(move |v| {
                format!("ayon+entity://demo_offline/assets/props/prop{i:03}?product=usdAsset&version=v{v:03}&representation=usd")
            })
        })
        .collect()
}

/// The whole project into a new index in `dir` (a full prepare).
fn prepare(client: &Client, dir: &Path) -> PrepareReport {
    let index = Index::builder().cache_dir(dir).open().expect("index");
    prepare_into(client, &index)
}

/// The whole project into `index`: full the first time, incremental after.
fn prepare_into(client: &Client, index: &Index) -> PrepareReport {
    client
        .prepare_offline_blocking(
            index,
            "demo_offline",
            &PrepareScope::Project,
            &PrepareOptions::default(),
            &CancelToken::new(),
            &|_| {},
        )
        .expect("prepare")
}

/// The three ways, as one criterion group.
fn group(c: &mut Criterion, name: &str, client: &Client, uris: &[String], dir: &Path) {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    let mut n = 0;
    g.bench_function("prepare_whole_project", |b| {
        b.iter(|| {
            n += 1;
            prepare(client, &dir.join(format!("{name}{n}")))
        })
    });
    let prepared = Index::builder()
        .cache_dir(dir.join(format!("{name}-again")))
        .open()
        .expect("index");
    prepare_into(client, &prepared);
    g.bench_function("prepare_again_unchanged", |b| {
        b.iter(|| {
            let report = prepare_into(client, &prepared);
            assert!(matches!(report.mode, PrepareMode::Incremental { .. }));
            report
        })
    });
    g.bench_function("resolve_300_one_by_one", |b| {
        b.iter(|| {
            for u in uris {
                assert!(client.resolve_blocking(std::slice::from_ref(u))[0].is_ok());
            }
        })
    });
    g.bench_function("resolve_300_in_batches", |b| {
        b.iter(|| assert!(client.resolve_blocking(uris).iter().all(Result::is_ok)))
    });
    g.finish();
}

fn prepare_vs_resolve(c: &mut Criterion) {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let client = Client::builder(server.url())
        .session_token(server.session_token())
        .site_id("offline-test-linux")
        .build()
        .expect("client");
    let uris = uris();
    let dir = tempfile::tempdir().expect("tmp");
    group(c, "prepare", &client, &uris, dir.path());
    // A studio network: 5 ms per request (the testkit's latency fault).
    server.latency(Duration::from_millis(5));
    group(c, "prepare_5ms_latency", &client, &uris, dir.path());
    server.latency(Duration::ZERO);

    // Requests each way, counted once by the testkit.
    server.reset_counters();
    let report = prepare(&client, &dir.path().join("count"));
    eprintln!(
        "prepare: {} requests, {} rows fetched for {} folders, {} versions, {} representations ({} KiB)",
        report.requests,
        report.fetched,
        report.folders,
        report.versions,
        report.representations,
        report.bytes / 1024
    );
    let again = Index::builder()
        .cache_dir(dir.path().join("count-again"))
        .open()
        .expect("index");
    prepare_into(&client, &again);
    server.reset_counters();
    let report = prepare_into(&client, &again);
    eprintln!(
        "prepare again (unchanged): {:?}, {} requests, {} rows fetched ({} served), {} KiB",
        report.mode,
        report.requests,
        report.fetched,
        server.graphql_edge_count(),
        report.bytes / 1024
    );
    server.reset_counters();
    for u in &uris {
        let _ = client.resolve_blocking(std::slice::from_ref(u));
    }
    eprintln!(
        "one by one: {} resolve requests",
        server.request_count("POST /api/resolve")
    );
    server.reset_counters();
    let _ = client.resolve_blocking(&uris);
    eprintln!(
        "batched: {} resolve requests",
        server.request_count("POST /api/resolve")
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = prepare_vs_resolve
}
criterion_main!(benches);
