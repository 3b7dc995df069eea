//! Prepare for offline over real HTTP against ayon-testkit: the index it writes answers every
//! recorded URI exactly as an index loaded straight from the testkit's library does (which the
//! ayon-index tests hold to the recorded real-server answers), with the server stopped.

use std::sync::Mutex;
use std::time::Duration;

use ayon_client::{CancelToken, Client, PrepareError, PrepareOptions, PrepareScope};
use ayon_index::Index;
use ayon_testkit::index_snapshot::load_library;
use ayon_testkit::{Library, TestServer, fixtures_dir, load_fixture};

const SITE: &str = "offline-test-linux";

fn server() -> TestServer {
    TestServer::builder()
        .library(Library::demo_offline())
        .start()
        .expect("testkit starts")
}

fn client(server: &TestServer) -> Client {
    Client::builder(server.url())
        .session_token(server.session_token())
        .site_id(SITE)
        .request_timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

/// Every URI of every recorded resolve fixture.
fn recorded_uris() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures (set AYON_SHARED_DIR)")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("resolve_") && n.ends_with(".json"))
        .collect();
    files.sort();
    let mut uris = Vec::new();
    for f in files {
        let fixture = load_fixture(&f).expect("fixture");
        for ex in fixture["exchanges"].as_array().into_iter().flatten() {
            for u in ex["request"]["body"]["uris"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(u) = u.as_str() {
                    uris.push(u.to_owned());
                }
            }
        }
    }
    uris.sort();
    uris.dedup();
    uris
}

/// The whole `demo_offline` project into `index`, with default options.
fn prepare_project(c: &Client, index: &Index) -> Result<ayon_client::PrepareReport, PrepareError> {
    c.prepare_offline_blocking(
        index,
        "demo_offline",
        &PrepareScope::Project,
        &PrepareOptions::default(),
        &CancelToken::new(),
        &|_| {},
    )
}

fn index_in(dir: &std::path::Path) -> Index {
    Index::builder()
        .cache_dir(dir)
        .platform(Some(ayon_site::Platform::Linux))
        .substitute_roots(true)
        .open()
        .expect("index opens")
}

#[test]
fn a_prepared_project_answers_every_recorded_uri_like_the_library_itself() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let prepared = index_in(&dir.path().join("prepared"));
    let seen = Mutex::new(Vec::new());
    let report = client(&server)
        .prepare_offline_blocking(
            &prepared,
            "demo_offline",
            &PrepareScope::Project,
            &PrepareOptions::default(),
            &CancelToken::new(),
            &|p| seen.lock().unwrap().push(p.clone()),
        )
        .expect("prepare");
    assert!(
        report.representations > 0 && report.versions > 0,
        "{report:?}"
    );
    assert!(
        report.requests <= 10,
        "flat streams, few requests: {report:?}"
    );
    let seen = seen.into_inner().unwrap();
    assert!(seen.iter().any(|p| p.phase == "fetching"));
    assert!(seen.iter().any(|p| p.phase == "writing"));
    server.stop();

    let reference = index_in(&dir.path().join("reference"));
    load_library(
        &reference,
        &Library::demo_offline(),
        Some((SITE, ayon_site::Platform::Linux)),
    )
    .expect("load");
    let uris = recorded_uris();
    assert!(uris.len() >= 50, "{} uris", uris.len());
    let mut compared = 0;
    for uri in &uris {
        let want = reference.resolve_str(uri);
        let got = prepared.resolve_str(uri);
        match (want, got) {
            (Ok(w), Ok(g)) => {
                assert_eq!(*g, *w, "{uri}");
                compared += 1;
            }
            (Err(w), Err(g)) => assert_eq!(g.to_string(), w.to_string(), "{uri}"),
            (w, g) => panic!("{uri}: reference {w:?}, prepared {g:?}"),
        }
    }
    assert!(compared >= 50, "{compared}");
}

#[test]
fn a_folder_scope_fetches_only_its_subtree_and_estimate_counts_first() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let index = index_in(dir.path());
    let c = client(&server);
    let scope = PrepareScope::Folders(vec!["/assets/characters".into()]);
    let options = PrepareOptions {
        all_versions: false,
        newest_exact: 1,
        ..PrepareOptions::default()
    };
    let estimate = ayon_runtime_block(c.estimate_prepare("demo_offline", &scope, &options));
    let estimate = estimate.expect("estimate");
    let report = c
        .prepare_offline_blocking(
            &index,
            "demo_offline",
            &scope,
            &options,
            &CancelToken::new(),
            &|_| {},
        )
        .expect("prepare");
    assert_eq!(report.folders, estimate.folders);
    assert!(report.folders >= 1);
    assert!(
        report.versions <= estimate.versions,
        "only the versions latest/hero/newest need"
    );
    let hero = index
        .resolve_str("ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd")
        .expect("prepared");
    assert_eq!(hero.entities.len(), 1, "{hero:?}");
    assert!(
        hero.entities[0]
            .file_path
            .as_deref()
            .unwrap_or("")
            .contains("v003"),
        "{hero:?}"
    );
}

#[test]
fn a_cancelled_or_failed_prepare_leaves_the_previous_index_answering() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let index = index_in(dir.path());
    let c = client(&server);
    let uri = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd";
    prepare_project(&c, &index).expect("first prepare");
    let before = index.resolve_str(uri).expect("answers");

    let cancel = CancelToken::new();
    let err = c
        .prepare_offline_blocking(
            &index,
            "demo_offline",
            &PrepareScope::Project,
            &PrepareOptions::default(),
            &cancel,
            &|p| {
                if p.requests >= 2 {
                    cancel.cancel();
                }
            },
        )
        .unwrap_err();
    assert!(matches!(err, PrepareError::Cancelled { .. }), "{err}");
    assert_eq!(*index.resolve_str(uri).expect("still answers"), *before);

    server.fail_next(50, 500);
    let err = prepare_project(&c, &index).unwrap_err();
    assert!(err.to_string().contains("demo_offline"), "{err}");
    assert_eq!(*index.resolve_str(uri).expect("still answers"), *before);
}

fn ayon_runtime_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// The parity proof: prepare `demo_offline` for each recorded site, stop the server,
/// and every URI of the recorded `resolveRoots` answers for that site comes back offline, from
/// the index, exactly as the real server answered it.
#[test]
fn offline_answers_from_the_index_equal_the_recorded_server_answers() {
    use ayon_client::{OfflineClient, ResolveError, Source};
    use std::sync::Arc;

    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let fixtures = [
        ("resolve_valid_roots_site_linux.json", "offline-test-linux"),
        (
            "resolve_valid_roots_site_windows.json",
            "offline-test-windows",
        ),
        (
            "resolve_valid_roots_site_darwin.json",
            "offline-test-darwin",
        ),
        (
            "resolve_valid_roots_site_override.json",
            "offline-test-override",
        ),
        (
            "resolve_valid_roots_site_query_param.json",
            "offline-test-linux",
        ),
    ];
    let library = Library::demo_offline();
    let mut clients = Vec::new();
    for (n, (file, site)) in fixtures.iter().enumerate() {
        let platform = library
            .site(site)
            .and_then(|s| s.platform.parse::<ayon_site::Platform>().ok())
            .expect("site registered in the demo library");
        let index = Arc::new(
            Index::builder()
                .cache_dir(dir.path().join(format!("index{n}")))
                .platform(Some(platform))
                .substitute_roots(true)
                .open()
                .expect("index"),
        );
        let c = Client::builder(server.url())
            .session_token(server.session_token())
            .site_id(*site)
            .platform(platform)
            .connect_timeout(Duration::from_millis(300))
            .request_timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        prepare_project(&c, &index).expect("prepare");
        let cache: Arc<dyn ayon_cache::Cache> = Arc::new(ayon_cache::MemoryCache::new(1 << 20));
        clients.push((*file, OfflineClient::builder(c, cache).index(index).build()));
    }
    server.stop();

    let mut compared = 0;
    for (file, oc) in &clients {
        let fixture = load_fixture(file).expect("fixture");
        let exchange = &fixture["exchanges"][0];
        let uris: Vec<String> = exchange["request"]["body"]["uris"]
            .as_array()
            .expect("uris")
            .iter()
            .map(|u| u.as_str().unwrap_or_default().to_owned())
            .collect();
        let recorded = exchange["response"]["body"].as_array().expect("answers");
        let answers = oc.resolve_blocking(&uris);
        for ((uri, answer), want) in uris.iter().zip(&answers).zip(recorded) {
            let want_entities = &want["entities"];
            match answer {
                Ok(r) => {
                    assert!(
                        matches!(r.source(), Source::LocalIndex { .. }),
                        "{file} {uri}: {:?}",
                        r.source()
                    );
                    let got = serde_json::to_value(r.entities()).expect("serialises");
                    assert_eq!(&got, want_entities, "{file} {uri}");
                }
                Err(ResolveError::NotFound { .. }) => {
                    assert_eq!(want_entities, &serde_json::json!([]), "{file} {uri}");
                    assert!(want.get("error").is_none(), "{file} {uri}: {want}");
                }
                Err(
                    ResolveError::ServerError { message, .. }
                    | ResolveError::Invalid { message, .. },
                ) => {
                    assert_eq!(
                        want["error"].as_str(),
                        Some(message.as_str()),
                        "{file} {uri}"
                    );
                }
                Err(e) => panic!("{file} {uri}: {e}"),
            }
            compared += 1;
        }
    }
    assert!(compared >= 50, "{compared} answers compared");

    // A project the server knows but this machine never prepared: offline, naming the URI
    // and saying nothing was prepared (a project the server does not have gets the server's
    // own "Project X not found", as the index recorded the server's project list).
    let (_, oc) = &clients[0];
    let e = oc
        .resolve_one_blocking(
            "ayon+entity://other_project/assets/x?product=p&version=v001&representation=usd",
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "server error for `ayon+entity://other_project/assets/x?product=p&version=v001&representation=usd`: Project other_project not found"
    );
    let empty = Arc::new(
        Index::builder()
            .cache_dir(dir.path().join("empty"))
            .open()
            .expect("index"),
    );
    let c = Client::builder("http://127.0.0.1:9")
        .session_token(server.session_token())
        .connect_timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let cache: Arc<dyn ayon_cache::Cache> = Arc::new(ayon_cache::MemoryCache::new(1 << 20));
    let never = OfflineClient::builder(c, cache)
        .index(empty)
        .force_offline(true)
        .build();
    let uri = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=hero&representation=usd";
    let e = never.resolve_one_blocking(uri).unwrap_err();
    assert_eq!(e.kind().as_str(), "offline", "{e}");
    let text = e.to_string();
    assert!(
        text.contains(uri)
            && text.contains("was not prepared")
            && text.contains("ayon prepare-offline --project demo_offline"),
        "{text}"
    );
}

/// While online, entity events keep a prepared project current: a publish and a deletion on
/// the server reach the local index within one event, with no new prepare by hand.
#[test]
fn the_index_follows_a_publish_and_a_deletion_while_online() {
    use ayon_client::{OfflineClient, monitor_config};
    use std::sync::Arc;
    use std::time::Instant;

    let server = TestServer::builder()
        .library(Library::demo_offline())
        .heartbeat_interval(Duration::from_millis(200))
        .start()
        .expect("testkit");
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(index_in(dir.path()));
    let c = client(&server);
    prepare_project(&c, &index).expect("prepare");
    let monitor = ayon_connectivity::Monitor::start(
        monitor_config(c.config())
            .project("demo_offline")
            .build()
            .expect("monitor config"),
    );
    let start = Instant::now();
    while !monitor.is_online() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "monitor never online"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(server.wait_ws_subscribed(1, Duration::from_secs(5)));
    let cache: Arc<dyn ayon_cache::Cache> = Arc::new(ayon_cache::MemoryCache::new(1 << 20));
    let _oc = OfflineClient::builder(c, cache)
        .monitor(monitor.clone())
        .index(index.clone())
        .build();

    let latest = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd";
    let path = |uri: &str| {
        index
            .resolve_str(uri)
            .ok()
            .and_then(|a| a.entities.first().and_then(|e| e.file_path.clone()))
    };
    assert!(path(latest).unwrap_or_default().contains("/v003/"));
    server.publish_demo_hero().expect("publish");
    let start = Instant::now();
    while !path(latest).unwrap_or_default().contains("/v004/") {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the index never saw v004"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    let model = "ayon+entity://demo_offline/assets/characters/hero?product=modelMain&version=v001&representation=abc";
    assert!(path(model).is_some());
    server
        .delete_product("demo_offline", "assets/characters/hero", "modelMain")
        .expect("delete");
    let start = Instant::now();
    while path(model).is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the index still has the deleted product"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    monitor.shutdown();
}

/// `PrepareOptions::in_flight` bounds the requests the server handles at once (the testkit
/// counts them while each waits out its latency): one means strictly one after another; the
/// default lets the independent listings overlap, and never more than allowed.
#[test]
fn in_flight_bounds_the_requests_the_server_handles_at_once() {
    let server = server();
    server.latency(Duration::from_millis(30));
    let c = client(&server);
    let dir = tempfile::tempdir().unwrap();
    for (in_flight, at_least, at_most) in [(1, 1, 1), (3, 2, 3)] {
        let index = index_in(&dir.path().join(format!("in-flight-{in_flight}")));
        let options = PrepareOptions {
            in_flight,
            ..PrepareOptions::default()
        };
        server.reset_max_in_flight();
        let report = c
            .prepare_offline_blocking(
                &index,
                "demo_offline",
                &PrepareScope::Project,
                &options,
                &CancelToken::new(),
                &|_| {},
            )
            .expect("prepare");
        assert!(report.requests > 3, "{report:?}");
        let most = server.max_in_flight();
        assert!(
            (at_least..=at_most).contains(&most),
            "in_flight {in_flight}: the server handled {most} requests at once"
        );
    }
}
