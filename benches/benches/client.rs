//! ayon-client: cache-hit resolve latency (memory tier, persistent tier) and one batch of 100
//! URIs against 100 single requests through the testkit server on loopback.

use std::sync::Arc;
use std::time::Duration;

use ayon_cache::{Cache, SqliteCache, TieredCache};
use ayon_client::{Client, OfflineClient, Platform};
use ayon_testkit::{Library, TestServer};
use criterion::{Criterion, criterion_group, criterion_main};

const URI: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd";

fn client(server: &TestServer) -> Client {
    Client::builder(server.url())
        .session_token(server.session_token())
        .site_id("offline-test-linux")
        .platform(Platform::Linux)
        .build()
        .expect("client")
}

fn prop_uris(version: &str) -> Vec<String> {
    (1..=100)
        .map(|i| format!("ayon+entity://demo_offline/assets/props/prop{i:03}?product=usdAsset&version={version}&representation=usd"))
        .collect()
}

fn cache_hits(c: &mut Criterion) {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let tiered: Arc<dyn Cache> = Arc::new(TieredCache::builder().dir(dir.path()).open());
    let warm = OfflineClient::builder(client(&server), tiered).build();
    warm.resolve_one_blocking(URI).expect("warm up");
    let mut g = c.benchmark_group("client_cache_hit");
    g.bench_function("memory_tier", |b| {
        b.iter(|| {
            warm.resolve_one_blocking(std::hint::black_box(URI))
                .expect("hit")
        })
    });
    // A persistent-only cache over the same store: every hit reads SQLite (as a new process would).
    let sqlite: Arc<dyn Cache> = Arc::new(
        SqliteCache::builder()
            .dir(dir.path())
            .open()
            .expect("sqlite"),
    );
    let cold = OfflineClient::builder(client(&server), sqlite)
        .force_offline(true)
        .build();
    cold.resolve_one_blocking(URI).expect("persistent hit");
    g.bench_function("persistent_tier", |b| {
        b.iter(|| {
            cold.resolve_one_blocking(std::hint::black_box(URI))
                .expect("hit")
        })
    });
    g.finish();
}

fn batch_vs_singles(c: &mut Criterion) {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let cl = client(&server);
    let uris = prop_uris("v002");
    cl.resolve_blocking(&uris[..1]); // roots and connection warm
    let mut g = c.benchmark_group("client_server_resolve_100");
    g.sample_size(10);
    g.bench_function("one_batch", |b| {
        b.iter(|| {
            let r = cl.resolve_blocking(&uris);
            assert!(r.iter().all(Result::is_ok));
        })
    });
    g.bench_function("100_single_requests", |b| {
        b.iter(|| {
            for u in &uris {
                cl.resolve_blocking(&[u.as_str()])[0].as_ref().expect("ok");
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = cache_hits, batch_vs_singles
}
criterion_main!(benches);
