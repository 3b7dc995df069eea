//! Offline `POST /api/resolve` for URIs never asked through the proxy: the prepared index
//! answers them exactly as the server does.

mod common;

use ayon_site::Platform;
use ayon_testkit::Library;
use common::rig;
use serde_json::json;

const NEVER_ASKED: [&str; 3] = [
    "ayon://demo_offline/shots/sq010/sh010?product=usdShot&version=hero&representation=abc",
    "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd",
    "ayon://demo_offline/assets/nothing_here?product=usdAsset&version=latest&representation=usd",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolves_never_asked_come_from_the_prepared_index() {
    let rig = rig();
    let key = rig.key();
    // Prepared for offline (the library written as a prepare would), for this machine's site.
    let site = "offline-test-linux";
    let index = ayon_index::Index::builder()
        .cache_dir(rig.dir.path())
        .platform(Some(Platform::current()))
        .open()
        .expect("index");
    ayon_testkit::index_snapshot::load_library(
        &index,
        &Library::demo_offline(),
        Some((site, Platform::Linux)),
    )
    .expect("prepared");
    // The proxy has seen the server answer something (the monitor runs).
    assert_eq!(rig.get("/api/projects", &key).await.status, 200);

    let rootless = json!({"resolveRoots": false, "uris": NEVER_ASKED});
    let server_said = rig
        .direct("POST", "/api/resolve", &key, Some(rootless.clone()))
        .await;
    assert_eq!(server_said.status, 200);
    let unknown_project =
        json!({"uris": ["ayon://elsewhere/a?product=p&version=latest&representation=r"]});
    let server_on_unknown = rig
        .direct("POST", "/api/resolve", &key, Some(unknown_project.clone()))
        .await;
    rig.server.stop();
    let offline = rig.send("POST", "/api/resolve", &key, Some(rootless)).await;
    assert_eq!(offline.status, 200, "{offline:?}");
    assert!(offline.offline());
    assert_eq!(offline.headers["x-ayon-offline-source"], "prepared-index");
    assert_eq!(offline.body, server_said.body);
    assert_eq!(rig.proxy.status().counts.resolved_from_index, 1);

    // A project the server does not have: the server's own per-URI error.
    let other = rig
        .send("POST", "/api/resolve", &key, Some(unknown_project))
        .await;
    assert_eq!(other.status, server_on_unknown.status);
    assert_eq!(other.body, server_on_unknown.body);
    assert!(other.offline());
}
