//! ayon-proxy under load: 8 client threads × 2,000 mixed reads (REST, GraphQL, resolve) through
//! the proxy to the testkit on loopback, against the same reads sent to the testkit directly,
//! and through the proxy with the server stopped (every answer from the store).
//!
//! Criterion times one whole load per iteration; the per-request latencies of one extra load of
//! each kind are printed as p50/p99 and the proxy's added latency (p50, p99 of through-proxy
//! minus direct). `AYON_BENCH_PROXY_REQUESTS` sets the reads per thread (default 2,000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ayon_proxy::{Proxy, ProxyConfig};
use ayon_testkit::{Library, TestServer};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

const THREADS: usize = 8;

fn requests_per_thread() -> usize {
    std::env::var("AYON_BENCH_PROXY_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

/// The mixed reads: (method, path, body).
fn reads() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("GET", "/api/info", None),
        ("GET", "/api/projects", None),
        ("GET", "/api/projects/demo_offline", None),
        ("GET", "/api/users/me", None),
        (
            "POST",
            "/graphql",
            Some(
                json!({"query": "query F { project(name: \"demo_offline\") { folders { edges { node { id name path } } } } }", "variables": {}}),
            ),
        ),
        (
            "POST",
            "/api/resolve",
            Some(json!({"resolveRoots": false, "uris": [
                "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd"
            ]})),
        ),
    ]
}

/// Runs THREADS × `per_thread` reads against `base`; every latency, in microseconds.
fn load(base: &str, key: &str, per_thread: usize) -> Vec<u64> {
    let reads = Arc::new(reads());
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (base, key, reads) = (base.to_owned(), key.to_owned(), reads.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let http = reqwest::Client::new();
                rt.block_on(async move {
                    let mut out = Vec::with_capacity(per_thread);
                    for i in 0..per_thread {
                        let (method, path, body) = &reads[(i + t) % reads.len()];
                        let mut req = http
                            .request(
                                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                                format!("{base}{path}"),
                            )
                            .header("x-api-key", &key);
                        if let Some(b) = body {
                            req = req.json(b);
                        }
                        let started = Instant::now();
                        let r = req.send().await.expect("answer");
                        assert!(r.status().is_success(), "{path}: {}", r.status());
                        r.bytes().await.expect("body");
                        out.push(started.elapsed().as_micros() as u64);
                    }
                    out
                })
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().expect("load thread"))
        .collect()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn report(name: &str, mut micros: Vec<u64>) -> (u64, u64) {
    micros.sort_unstable();
    let (p50, p99) = (percentile(&micros, 0.50), percentile(&micros, 0.99));
    eprintln!(
        "proxy load {name}: {} requests, p50 {p50} µs, p99 {p99} µs",
        micros.len()
    );
    (p50, p99)
}

fn proxy_load(c: &mut Criterion) {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let proxy = Proxy::start(
        ProxyConfig::builder(server.url())
            .listen("127.0.0.1:0".parse().expect("addr"))
            .cache_dir(dir.path())
            .build()
            .expect("config"),
    )
    .expect("proxy");
    let key = server.api_key();
    let n = requests_per_thread();
    // Warm: every read recorded, the identity learnt, connections pooled.
    load(&proxy.url(), &key, reads().len());

    let direct = report("direct", load(&server.url(), &key, n));
    let through = report("through proxy (online)", load(&proxy.url(), &key, n));
    eprintln!(
        "proxy added latency: p50 {} µs, p99 {} µs",
        through.0.saturating_sub(direct.0),
        through.1.saturating_sub(direct.1)
    );

    let mut g = c.benchmark_group("proxy_load_8_threads");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    for (name, base) in [("direct", server.url()), ("through_proxy", proxy.url())] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    load(&base, &key, n);
                }
                started.elapsed()
            })
        });
    }
    server.stop();
    report(
        "through proxy (offline, from the store)",
        load(&proxy.url(), &key, n),
    );
    g.bench_function("through_proxy_offline", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for _ in 0..iters {
                load(&proxy.url(), &key, n);
            }
            started.elapsed()
        })
    });
    g.finish();
}

criterion_group!(benches, proxy_load);
criterion_main!(benches);
