//! 8 threads, 100,000 mixed resolves (AYON URIs, absolute and search-path files, pinned URIs)
//! while other threads clear and drop caches and the server restarts: no panic, no deadlock,
//! and every answer is the right one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ayon_resolver_core::{Resolver, SearchPath, Source};
use ayon_testkit::{Library, TestServer};

#[test]
fn mixed_resolves_under_cache_churn_and_a_restart_stay_right() {
    let server = TestServer::builder()
        .library(Library::demo_offline())
        .heartbeat_interval(Duration::from_millis(200))
        .boot_time(Duration::from_millis(500))
        .start()
        .expect("server");
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    std::fs::create_dir_all(lib.join("models")).unwrap();
    std::fs::write(lib.join("models/tree.usd"), "#usda 1.0").unwrap();
    let abs = dir.path().join("scene.usd");
    std::fs::write(&abs, "#usda 1.0").unwrap();
    let r = Resolver::builder()
        .server_url(server.url())
        .api_key(server.session_token())
        .site_id("offline-test-linux")
        .cache_dir(dir.path().join("cache"))
        .connect_timeout(Duration::from_millis(300))
        .request_timeout(Duration::from_secs(2))
        .reconnect_backoff(Duration::from_millis(50), Duration::from_millis(300))
        .search_path(SearchPath::new([&lib]))
        .build();

    // What every item must resolve to, learned online.
    let mut uris: Vec<String> = (1..=40)
        .map(|i| format!("ayon+entity://demo_offline/assets/props/prop{i:03}?product=usdAsset&version=v001&representation=usd"))
        .collect();
    uris.push("ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd".into());
    let refs: Vec<&str> = uris.iter().map(String::as_str).collect();
    let mut expected: HashMap<String, String> = HashMap::new();
    for (u, a) in refs.iter().zip(r.resolve_many(&refs)) {
        expected.insert((*u).to_owned(), a.expect("warm-up").path);
    }
    let abs = abs.display().to_string();
    expected.insert(abs.clone(), abs.clone());
    let tree = r.resolve("models/tree.usd").expect("search path").path;
    expected.insert("models/tree.usd".into(), tree);
    let pinned_ctx = r.new_context();
    let pin = dir.path().join("pin.json");
    std::fs::write(
        &pin,
        serde_json::json!({"ayon_resolver_pinning_data": {uris[0].clone(): "/pinned/prop001.usd"}})
            .to_string(),
    )
    .unwrap();
    pinned_ctx
        .set_pinning_file(&pin, ayon_pinning::Roots::new())
        .unwrap();
    let items: Vec<String> = expected.keys().cloned().collect();

    let stop = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        // Churn: clear the shared cache, drop and re-drop a context's own cache.
        s.spawn(|| {
            let ctx = r.new_context();
            while !stop.load(Ordering::Relaxed) {
                r.connected_context().clear_cache();
                ctx.drop_cache();
                r.connected_context().delete_from_cache(&uris[1]);
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            server.restart();
        });
        let workers: Vec<_> = (0..8)
            .map(|t| {
                let (r, items, expected, pinned_ctx, done) =
                    (&r, &items, &expected, &pinned_ctx, &done);
                let first = &uris[0];
                s.spawn(move || {
                    for k in 0..12_500usize {
                        let item = &items[(k * 31 + t * 7) % items.len()];
                        if k % 10 == 0 {
                            let got = r.resolve_in(pinned_ctx, first).expect("pinned");
                            assert_eq!(
                                (got.path.as_str(), got.source),
                                ("/pinned/prop001.usd", Source::Pinning)
                            );
                        } else {
                            let got = r.resolve(item).unwrap_or_else(|e| panic!("{item}: {e}"));
                            assert_eq!(&got.path, &expected[item], "{item} via {:?}", got.source);
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("worker finished without panicking");
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert_eq!(done.load(Ordering::Relaxed), 100_000);
    eprintln!("100,000 resolves in {:?}; {:?}", start.elapsed(), r.stats());
}
