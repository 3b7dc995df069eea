//! Through the proxy to a real (testkit) server over loopback: answers equal to the server's
//! while it runs; after it stops, the same answers from the store, marked offline; unseen
//! reads and writes refused in AYON's error shape; identities kept apart.

mod common;

use common::{Cred, graphql, reads, rig};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_records_and_replays_offline() {
    let rig = rig();
    let key = rig.key();
    let mut online = Vec::new();
    for (method, path, body) in reads() {
        let via = rig.send(method, path, &key, body.clone()).await;
        let direct = rig.direct(method, path, &key, body.clone()).await;
        assert_eq!(via.status, 200, "{method} {path}: {via:?}");
        assert!(!via.offline(), "{method} {path} answered online");
        if path != "/api/info" {
            // `/api/info` carries the server's uptime; everything else is equal byte for byte.
            assert_eq!(via.body, direct.body, "{method} {path}");
        }
        online.push(via);
    }
    // `GET /` without a credential (ayon_api probes it before logging in).
    let probe = rig.get("/", &Cred::None).await;
    assert_eq!(probe.status, 200);
    let status = rig.proxy.status();
    assert!(status.counts.recorded >= 7, "{status:?}");
    assert_eq!(status.identities, 1, "{status:?}");

    rig.server.stop();
    let before = rig.server.request_count("GET /api/projects");
    for ((method, path, body), was) in reads().into_iter().zip(&online) {
        let again = rig.send(method, path, &key, body).await;
        assert_eq!(again.status, 200, "{method} {path} offline: {again:?}");
        assert!(again.offline(), "{method} {path}: no offline header");
        assert!(again.headers.contains_key("age"), "{method} {path}: no age");
        assert_eq!(again.body, was.body, "{method} {path} offline");
    }
    assert_eq!(rig.get("/", &Cred::None).await.body, probe.body);
    assert_eq!(rig.server.request_count("GET /api/projects"), before);

    // Never asked while online: 503 in AYON's shape, naming what was not cached.
    let unseen = rig.get("/api/projects/demo_offline/anatomy", &key).await;
    unseen.assert_ayon_error(503);
    assert!(
        unseen
            .detail()
            .contains("GET /api/projects/demo_offline/anatomy"),
        "{unseen:?}"
    );
    let unseen_query = rig
        .send(
            "POST",
            "/graphql",
            &key,
            Some(graphql(
                "query Tasks { project(name: \"demo_offline\") { name } }",
            )),
        )
        .await;
    unseen_query.assert_ayon_error(503);
    assert!(
        unseen_query.detail().contains("`Tasks`"),
        "{unseen_query:?}"
    );

    // Reads the proxy never records: 503 saying so, not "not sent".
    let addon = rig.get("/addons/core/1.0.0/settings", &key).await;
    addon.assert_ayon_error(503);
    assert!(addon.detail().contains("does not record"), "{addon:?}");

    // A resolve never asked, with no prepared index: 503 saying so.
    let resolve = rig
        .send(
            "POST",
            "/api/resolve",
            &key,
            Some(json!({"uris": ["ayon://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd"]})),
        )
        .await;
    resolve.assert_ayon_error(503);
    assert!(resolve.detail().contains("prepared"), "{resolve:?}");

    // Writes: refused, not sent, not queued, never recorded as if written.
    let write = rig
        .send(
            "POST",
            "/api/projects/demo_offline/folders",
            &key,
            Some(json!({"name": "new_folder", "folderType": "Asset"})),
        )
        .await;
    write.assert_ayon_error(503);
    assert!(write.detail().contains("was not sent"), "{write:?}");
    assert!(write.offline(), "{write:?}");
    let mutation = rig
        .send("POST", "/graphql", &key, Some(graphql("mutation { x }")))
        .await;
    mutation.assert_ayon_error(503);
    let patch = rig
        .send(
            "PATCH",
            "/api/projects/demo_offline/versions/abc",
            &key,
            Some(json!({})),
        )
        .await;
    patch.assert_ayon_error(503);
    let status = rig.proxy.status();
    assert_eq!(status.counts.writes_refused, 3, "{status:?}");
    assert!(status.counts.not_cached >= 4, "{status:?}");
    assert_eq!(status.state, "offline");

    // A key the server never accepted: 401, not someone else's answers.
    let wrong = rig
        .get(
            "/api/projects",
            &Cred::Key("abcdefghijabcdefghijabcdefghij99".into()),
        )
        .await;
    wrong.assert_ayon_error(401);
    assert_eq!(rig.proxy.status().counts.unauthorized_offline, 1);
    // What the server gives anyone (its public answers) is still given to anyone.
    let public = rig
        .get("/", &Cred::Key("abcdefghijabcdefghijabcdefghij99".into()))
        .await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body, probe.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_survives_a_new_proxy_and_holds_no_secret() {
    let rig = rig();
    let key = rig.key();
    let token = rig.token();
    for cred in [&key, &token] {
        assert_eq!(rig.get("/api/projects", cred).await.status, 200);
    }
    let store = rig.dir.path().join(ayon_proxy::STORE_FILE_NAME);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store)
            .expect("store")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "store mode {mode:o}");
    }
    rig.server.stop();
    let url = rig.server.url();
    // A second proxy on the same store, started while the server is down (a new session).
    let second = ayon_proxy::Proxy::start(
        common::config(&rig.server, rig.dir.path())
            .build()
            .expect("config"),
    )
    .expect("second proxy");
    assert_ne!(second.url(), url);
    for cred in [&key, &token] {
        let a = rig
            .send_to(&second.url(), "GET", "/api/projects", cred, None)
            .await;
        assert_eq!(a.status, 200, "{a:?}");
        assert!(a.offline());
    }
    drop(second);
    // Nothing in the store's files spells a secret.
    for entry in std::fs::read_dir(rig.dir.path()).expect("dir") {
        let path = entry.expect("entry").path();
        let bytes = std::fs::read(&path).unwrap_or_default();
        for secret in [rig.server.api_key(), rig.server.session_token()] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a secret in clear",
                path.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_identities_never_see_each_other() {
    let rig = rig();
    let admin = rig.token();
    let service = rig.key();
    let me_admin = rig.get("/api/users/me", &admin).await;
    let me_service = rig.get("/api/users/me", &service).await;
    assert_eq!(me_admin.status, 200);
    assert_ne!(me_admin.body["name"], me_service.body["name"]);
    // Only the admin asked for the anatomy.
    let anatomy = rig.get("/api/projects/demo_offline/anatomy", &admin).await;
    assert_eq!(anatomy.status, 200);
    assert_eq!(rig.proxy.status().identities, 2);

    rig.server.stop();
    assert_eq!(rig.get("/api/users/me", &admin).await.body, me_admin.body);
    assert_eq!(
        rig.get("/api/users/me", &service).await.body,
        me_service.body
    );
    assert_eq!(
        rig.get("/api/projects/demo_offline/anatomy", &admin)
            .await
            .status,
        200
    );
    let not_theirs = rig
        .get("/api/projects/demo_offline/anatomy", &service)
        .await;
    not_theirs.assert_ayon_error(503);
    let name = me_service.body["name"].as_str().expect("name");
    assert!(not_theirs.detail().contains(name), "{not_theirs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_credential_is_not_remembered() {
    let rig = rig();
    let bad = Cred::Key("abcdefghijabcdefghijabcdefghij42".into());
    let online = rig.get("/api/projects", &bad).await;
    online.assert_ayon_error(401);
    assert!(!online.offline());
    // A token the server accepted, then logged out: forgotten at the first 401.
    let token = rig.token();
    assert_eq!(rig.get("/api/projects", &token).await.status, 200);
    let logout = rig.send("POST", "/api/auth/logout", &token, None).await;
    assert_eq!(logout.status, 200, "{logout:?}");
    assert_eq!(rig.get("/api/projects", &token).await.status, 401);
    rig.server.stop();
    rig.get("/api/projects", &bad).await.assert_ayon_error(401);
    rig.get("/api/projects", &token)
        .await
        .assert_ayon_error(401);
    assert_eq!(rig.proxy.status().identities, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_over_the_size_limit_pass_unrecorded() {
    let rig = common::rig_with(common::server(), |b| b.max_answer_bytes(4096));
    let key = rig.key();
    // `/api/info` is about 75 KB: streamed through whole, not recorded.
    let big = rig.get("/api/info", &key).await;
    let direct = rig.direct("GET", "/api/info", &key, None).await;
    assert_eq!(big.status, 200);
    assert_eq!(big.body["attributes"], direct.body["attributes"]);
    let small = rig.get("/api/users/me", &key).await;
    assert_eq!(small.status, 200);
    rig.server.stop();
    assert_eq!(rig.get("/api/users/me", &key).await.body, small.body);
    rig.get("/api/info", &key).await.assert_ayon_error(503);
}
