//! Prepare-for-offline against resolving the same scope URI by URI: a 102-folder project
//! (100 props, a character, a shot) from the testkit on loopback, and an indexed answer.

use std::time::Duration;

use ayon_client::{CancelToken, Client, PrepareOptions, PrepareScope};
use ayon_index::Index;
use ayon_testkit::{Library, TestServer};
use criterion::{Criterion, criterion_group, criterion_main};

fn client(server: &TestServer) -> Client {
    Client::builder(server.url())
        .session_token(server.session_token())
        .site_id("offline-test-linux")
        .build()
        .expect("client")
}

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

fn prepare_vs_resolve(c: &mut Criterion) {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let client = client(&server);
    let uris = uris();
    let dir = tempfile::tempdir().expect("tmp");
    let mut g = c.benchmark_group("prepare");
    g.sample_size(10);
    let mut n = 0;
    g.bench_function("prepare_whole_project", |b| {
        b.iter(|| {
            n += 1;
            let index = Index::builder()
                .cache_dir(dir.path().join(format!("i{n}")))
                .open()
                .expect("index");
            client
                .prepare_offline_blocking(
                    &index,
                    "demo_offline",
                    &PrepareScope::Project,
                    &PrepareOptions::default(),
                    &CancelToken::new(),
                    &|_| {},
                )
                .expect("prepare")
        })
    });
    g.bench_function("resolve_300_one_by_one", |b| {
        b.iter(|| {
            for u in &uris {
                let r = client.resolve_blocking(std::slice::from_ref(u));
                assert!(r[0].is_ok());
            }
        })
    });
    g.bench_function("resolve_300_in_batches", |b| {
        b.iter(|| {
            let r = client.resolve_blocking(&uris);
            assert!(r.iter().all(Result::is_ok));
        })
    });
    g.finish();

    // The same over a studio network: 5 ms per request (the testkit's latency fault).
    server.latency(Duration::from_millis(5));
    let mut g = c.benchmark_group("prepare_5ms_latency");
    g.sample_size(10);
    g.bench_function("prepare_whole_project", |b| {
        b.iter(|| {
            n += 1;
            let index = Index::builder()
                .cache_dir(dir.path().join(format!("i{n}")))
                .open()
                .expect("index");
            client
                .prepare_offline_blocking(
                    &index,
                    "demo_offline",
                    &PrepareScope::Project,
                    &PrepareOptions::default(),
                    &CancelToken::new(),
                    &|_| {},
                )
                .expect("prepare")
        })
    });
    g.bench_function("resolve_300_one_by_one", |b| {
        b.iter(|| {
            for u in &uris {
                let r = client.resolve_blocking(std::slice::from_ref(u));
                assert!(r[0].is_ok());
            }
        })
    });
    g.bench_function("resolve_300_in_batches", |b| {
        b.iter(|| {
            let r = client.resolve_blocking(&uris);
            assert!(r.iter().all(Result::is_ok));
        })
    });
    g.finish();
    server.latency(Duration::ZERO);

    // Requests each way, counted once by the testkit.
    server.reset_counters();
    let index = Index::builder()
        .cache_dir(dir.path().join("count"))
        .open()
        .expect("index");
    let report = client
        .prepare_offline_blocking(
            &index,
            "demo_offline",
            &PrepareScope::Project,
            &PrepareOptions::default(),
            &CancelToken::new(),
            &|_| {},
        )
        .expect("prepare");
    eprintln!(
        "prepare: {} requests for {} folders, {} versions, {} representations ({} KiB)",
        report.requests,
        report.folders,
        report.versions,
        report.representations,
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
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = prepare_vs_resolve
}
criterion_main!(benches);
