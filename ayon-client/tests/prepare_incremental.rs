//! Incremental prepare over real HTTP against ayon-testkit: a second prepare of the same scope
//! fetches only what changed (counted at the testkit), follows publishes and deletions made
//! in between, and falls back to a full prepare, saying why, when the server cannot tell.

use std::time::Duration;

use ayon_client::{CancelToken, Client, PrepareMode, PrepareOptions, PrepareReport, PrepareScope};
use ayon_index::Index;
use ayon_testkit::{Library, TestServer};

const SITE: &str = "offline-test-linux";
const PROJECT: &str = "demo_offline";
const HERO: &str = "assets/characters/hero";
const LATEST: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd";
const MODEL: &str = "ayon+entity://demo_offline/assets/characters/hero?product=modelMain&version=v001&representation=abc";

fn server() -> TestServer {
    TestServer::start(Library::demo_offline()).expect("testkit starts")
}

fn client_with(server: &TestServer, key: Option<&str>) -> Client {
    let builder = Client::builder(server.url())
        .site_id(SITE)
        .request_timeout(Duration::from_secs(5));
    match key {
        Some(key) => builder.api_key(key),
        None => builder.session_token(server.session_token()),
    }
    .build()
    .expect("client")
}

/// A testkit with `demo_offline`, an index in a new directory, and an admin's client.
fn setup() -> (TestServer, tempfile::TempDir, Index, Client) {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let index = Index::builder()
        .cache_dir(dir.path())
        .platform(Some(ayon_site::Platform::Linux))
        .open()
        .expect("index opens");
    let client = client_with(&server, None);
    (server, dir, index, client)
}

fn prepare(
    c: &Client,
    index: &Index,
    scope: &PrepareScope,
    options: &PrepareOptions,
) -> PrepareReport {
    c.prepare_offline_blocking(index, PROJECT, scope, options, &CancelToken::new(), &|_| {})
        .expect("prepare")
}

fn prepare_project(c: &Client, index: &Index) -> PrepareReport {
    prepare(c, index, &PrepareScope::Project, &PrepareOptions::default())
}

fn path(index: &Index, uri: &str) -> Option<String> {
    index
        .resolve_str(uri)
        .ok()
        .and_then(|a| a.entities.first().and_then(|e| e.file_path.clone()))
}

fn assert_incremental(report: &PrepareReport) {
    assert!(
        matches!(report.mode, PrepareMode::Incremental { .. }),
        "{report:?}"
    );
}

fn full_reason(report: &PrepareReport) -> String {
    match &report.mode {
        PrepareMode::Full { reason } => reason.clone(),
        other => panic!("expected a full prepare, got {other:?}"),
    }
}

#[test]
fn a_second_prepare_of_an_unchanged_project_fetches_almost_nothing() {
    let (server, _dir, index, c) = setup();

    server.reset_counters();
    let first = prepare_project(&c, &index);
    assert!(full_reason(&first).contains("first prepare"), "{first:?}");
    let full_rows = server.graphql_edge_count();
    assert_eq!(first.fetched, full_rows);
    assert!(full_rows > 500, "{full_rows}");
    let before = path(&index, LATEST).expect("latest answers");

    server.reset_counters();
    let second = prepare_project(&c, &index);
    assert_incremental(&second);
    // Only the rows stamped with the newest `updatedAt` the first prepare saw come again.
    let rows = server.graphql_edge_count();
    assert_eq!(second.fetched, rows);
    assert!(rows <= 5, "an unchanged project fetched {rows} rows");
    assert_eq!(second.deleted, 0);
    assert_eq!(
        server.request_count("POST /graphql"),
        6,
        "events and five filtered listings"
    );
    assert!(
        second.requests <= first.requests + 1,
        "{second:?} vs {first:?}"
    );
    // The index holds what it held, and answers the same.
    assert_eq!(
        (
            second.folders,
            second.products,
            second.versions,
            second.representations
        ),
        (
            first.folders,
            first.products,
            first.versions,
            first.representations
        )
    );
    assert_eq!(path(&index, LATEST), Some(before));
}

#[test]
fn a_publish_and_a_deletion_between_two_prepares_appear_after_the_second() {
    let (server, _dir, index, c) = setup();
    let first = prepare_project(&c, &index);
    assert!(path(&index, LATEST).unwrap_or_default().contains("/v003/"));
    assert!(path(&index, MODEL).is_some());
    let model_versions = server
        .library()
        .read()
        .project(PROJECT)
        .and_then(|p| p.folder_by_path(HERO))
        .and_then(|f| f.products.iter().find(|p| p.name == "modelMain"))
        .map_or(0, |p| p.versions.len() as u64);
    assert!(model_versions > 0);

    server
        .publish_version(PROJECT, HERO, "usdAsset", &["usd", "abc"])
        .expect("publish");
    server
        .delete_product(PROJECT, HERO, "modelMain")
        .expect("delete");
    server.reset_counters();
    let second = prepare_project(&c, &index);
    assert_incremental(&second);
    assert_eq!(second.deleted, 1);
    // The new version and its two representations, and not much else.
    assert!(
        (3..=8).contains(&server.graphql_edge_count()),
        "{}",
        server.graphql_edge_count()
    );
    assert!(path(&index, LATEST).unwrap_or_default().contains("/v004/"));
    let model = index.resolve_str(MODEL).expect("answers");
    assert!(model.entities.is_empty(), "{model:?}");
    assert_eq!(
        second.versions,
        first.versions + 1 - model_versions,
        "v004 in, modelMain's versions out"
    );
}

#[test]
fn a_full_prepare_when_the_event_log_cannot_tell_and_it_says_why() {
    let (server, _dir, index, admin) = setup();
    prepare_project(&admin, &index);

    // The previous prepare is older than the event history trusted.
    let short_history = PrepareOptions {
        event_history: Duration::ZERO,
        ..PrepareOptions::default()
    };
    std::thread::sleep(Duration::from_millis(5));
    let r = prepare(&admin, &index, &PrepareScope::Project, &short_history);
    assert!(full_reason(&r).contains("event history"), "{r:?}");

    // A user who is not a manager sees only their own events: a deletion by someone else
    // would go unseen, so the prepare fetches everything, and the deletion is seen that way.
    let key = "Artistkey0123456789abcdefghijklm";
    server.add_artist("artist", key);
    let artist = client_with(&server, Some(key));
    prepare_project(&artist, &index);
    server
        .delete_product(PROJECT, HERO, "modelMain")
        .expect("delete");
    let r = prepare_project(&artist, &index);
    assert!(full_reason(&r).contains("own events"), "{r:?}");
    assert!(
        index
            .resolve_str(MODEL)
            .expect("answers")
            .entities
            .is_empty()
    );

    // Asked for, or a different scope or selection than last time.
    let full = PrepareOptions {
        incremental: false,
        ..PrepareOptions::default()
    };
    let r = prepare(&admin, &index, &PrepareScope::Project, &full);
    assert!(full_reason(&r).contains("asked"), "{r:?}");
    let scope = PrepareScope::Folders(vec!["assets/characters".to_owned()]);
    let r = prepare(&admin, &index, &scope, &PrepareOptions::default());
    assert!(full_reason(&r).contains("scope"), "{r:?}");
    let newest = PrepareOptions {
        all_versions: false,
        ..PrepareOptions::default()
    };
    let r = prepare(&admin, &index, &scope, &newest);
    assert!(full_reason(&r).contains("selection"), "{r:?}");
}

#[test]
fn a_folder_scope_takes_only_the_changes_inside_it() {
    let (server, _dir, index, c) = setup();
    let scope = PrepareScope::Folders(vec!["assets/characters".to_owned()]);
    let first = prepare(&c, &index, &scope, &PrepareOptions::default());
    server
        .publish_version(PROJECT, "assets/props/prop001", "usdAsset", &["usd"])
        .expect("publish outside");
    server
        .publish_version(PROJECT, HERO, "usdAsset", &["usd"])
        .expect("publish inside");
    let second = prepare(&c, &index, &scope, &PrepareOptions::default());
    assert_incremental(&second);
    assert_eq!(second.versions, first.versions + 1, "only the hero's v004");
    assert!(path(&index, LATEST).unwrap_or_default().contains("/v004/"));
    let prepared = index.prepared(PROJECT).unwrap().expect("prepared");
    assert_eq!(prepared.subtrees, vec!["assets/characters".to_owned()]);
}

#[test]
fn an_entity_changed_in_place_is_updated_by_the_second_prepare() {
    let (server, _dir, index, c) = setup();
    prepare_project(&c, &index);
    let latest_done = LATEST.replace("version=latest", "version=latestdone");
    assert_eq!(
        path(&index, &latest_done),
        None,
        "no version is approved yet"
    );
    server
        .set_version_status(PROJECT, HERO, "usdAsset", 2, "Approved")
        .expect("approve v002");
    let second = prepare_project(&c, &index);
    assert_incremental(&second);
    assert!(
        path(&index, &latest_done)
            .unwrap_or_default()
            .contains("/v002/"),
        "{:?}",
        path(&index, &latest_done)
    );
}

#[test]
fn with_only_the_newest_versions_a_second_prepare_moves_the_selection() {
    let (server, _dir, index, c) = setup();
    let newest = PrepareOptions {
        all_versions: false,
        newest_exact: 1,
        ..PrepareOptions::default()
    };
    let v = |n: &str| LATEST.replace("version=latest", &format!("version={n}"));
    let first = prepare(&c, &index, &PrepareScope::Project, &newest);
    assert!(full_reason(&first).contains("first prepare"), "{first:?}");
    assert!(path(&index, &v("v003")).is_some());
    assert!(matches!(
        index.resolve_str(&v("v002")),
        Err(ayon_index::IndexError::NotKept { .. })
    ));

    // A publish makes v004 the newest (v003 leaves); approving v002 makes it the latest done,
    // an older version the index did not hold, which comes back with its representations.
    server
        .publish_version(PROJECT, HERO, "usdAsset", &["usd"])
        .expect("publish");
    server
        .set_version_status(PROJECT, HERO, "usdAsset", 2, "Approved")
        .expect("approve v002");
    server.reset_counters();
    let second = prepare(&c, &index, &PrepareScope::Project, &newest);
    assert_incremental(&second);
    // The version listing (light rows) is read whole; representations only where needed.
    assert!(
        second.bytes * 2 < first.bytes,
        "{} bytes against {}",
        second.bytes,
        first.bytes
    );
    assert!(
        path(&index, &v("v004"))
            .unwrap_or_default()
            .contains("/v004/")
    );
    assert!(
        path(&index, &v("latestdone"))
            .unwrap_or_default()
            .contains("/v002/")
    );
    assert!(
        path(&index, &v("v002")).is_some(),
        "kept as the latest done"
    );
    assert!(matches!(
        index.resolve_str(&v("v003")),
        Err(ayon_index::IndexError::NotKept { .. })
    ));
    assert_eq!(
        second.versions,
        first.versions + 1,
        "v004 and v002 in, v003 out"
    );
}
