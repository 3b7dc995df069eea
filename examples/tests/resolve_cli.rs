//! `ayon resolve` as a user runs it: the real binary against a loopback AYON server, then
//! with the server stopped, with a real cache directory.

use std::process::{Command, Output};

use ayon_testkit::{Library, TestServer};
use serde_json::Value;

const V1: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
const LATEST: &str =
    "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd";
const UNSEEN: &str =
    "ayon://demo_offline/assets/characters/hero?product=modelMain&version=v002&representation=usd";

fn ayon(server: &str, key: &str, cache: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ayon"))
        .args([
            "--json",
            "--server",
            server,
            "--api-key",
            key,
            "--site-id",
            "offline-test-linux",
        ])
        .arg("--cache-dir")
        .arg(cache)
        .arg("resolve")
        .args(args)
        .env_remove("AYON_PROJECT_NAME")
        .output()
        .expect("ayon runs")
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn resolve_online_then_offline_from_the_cache() {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let cache = tempfile::tempdir().expect("tmp");
    let url = server.url();
    let key = server.session_token();

    let out = ayon(
        &url,
        &key,
        cache.path(),
        &[V1, LATEST, "ayon://demo_offline/x?version=banana"],
    );
    assert_eq!(out.status.code(), Some(1), "one invalid URI: exit 1");
    let l = lines(&out);
    assert_eq!(l.len(), 3);
    assert_eq!(l[0]["uri"], V1);
    assert_eq!(l[0]["ok"], true);
    assert_eq!(l[0]["source"], "server");
    assert_eq!(l[0]["stale"], false);
    assert_eq!(
        l[0]["path"],
        "/mnt/projects/demo_offline/assets/characters/hero/publish/usd/usdAsset/v001/demo_hero_usdAsset_v001.usd"
    );
    assert!(l[1]["path"].as_str().expect("path").ends_with("v003.usd"));
    assert_eq!(l[2]["ok"], false);
    assert_eq!(l[2]["kind"], "invalid");
    assert!(
        l[2]["error"]
            .as_str()
            .expect("error")
            .contains("Invalid version name: banana")
    );

    let out = ayon(&url, &key, cache.path(), &[V1, LATEST]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        lines(&out)
            .iter()
            .all(|l| l["source"] == "cache" && l["ok"] == true)
    );

    server.stop();
    let sent = server.request_count("POST /api/resolve");
    let out = ayon(&url, &key, cache.path(), &["--offline", V1, LATEST, UNSEEN]);
    assert_eq!(out.status.code(), Some(1));
    let l = lines(&out);
    assert_eq!(l[0]["source"], "cache");
    assert_eq!(l[1]["source"], "cache");
    assert_eq!(l[2]["ok"], false);
    assert_eq!(l[2]["kind"], "offline");
    assert!(l[2]["error"].as_str().expect("error").contains(UNSEEN));
    assert_eq!(
        server.request_count("POST /api/resolve"),
        sent,
        "--offline makes no request"
    );

    // Without --offline, a stopped server falls back to the cache too.
    let out = ayon(&url, &key, cache.path(), &[V1, LATEST]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn pin_from_uris(server: &str, key: &str, cache: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ayon"))
        .args(["--json", "--server", server, "--api-key", key])
        .args(["--site-id", "offline-test-linux", "--cache-dir"])
        .arg(cache)
        .args(["pin", "from-uris"])
        .args(args)
        .env_remove("AYON_USD_RESOLVER_PINNING_ROOTS")
        .env_remove("PROJECT_ROOTS")
        .output()
        .expect("ayon runs")
}

#[test]
fn pin_from_uris_writes_a_rootless_file_online_and_from_the_cache_offline() {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let cache = tempfile::tempdir().expect("tmp");
    let dir = tempfile::tempdir().expect("tmp");
    let out_file = dir.path().join("shot_pin.json");
    let out_arg = out_file.to_str().expect("utf-8 path");
    let (url, key) = (server.url(), server.session_token());

    let out = pin_from_uris(
        &url,
        &key,
        cache.path(),
        &[
            "--out",
            out_arg,
            "--entry-scene",
            "/mnt/projects/s.usd",
            V1,
            LATEST,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // The file is rootless, in AYON's shape, with the server's site roots taken out.
    let raw: Value =
        serde_json::from_slice(&std::fs::read(&out_file).expect("written")).expect("valid JSON");
    let data = &raw["ayon_resolver_pinning_data"];
    assert_eq!(
        data[V1],
        "{root[work]}/demo_offline/assets/characters/hero/publish/usd/usdAsset/v001/demo_hero_usdAsset_v001.usd"
    );
    assert_eq!(data["ayon_pinning_data_entry_scene"], "{root[work]}/s.usd");
    // A farm worker with other roots gets its own paths.
    let roots = ayon_pinning::Roots::parse("work=/farm/projects").expect("roots");
    let pins = ayon_pinning::PinningFile::load(&out_file, &roots).expect("loads");
    assert_eq!(
        pins.lookup(LATEST),
        Some(
            "/farm/projects/demo_offline/assets/characters/hero/publish/usd/usdAsset/v003/demo_hero_usdAsset_v003.usd"
        )
    );

    // Offline: what was resolved before pins from the cache; an unseen URI fails, no file.
    server.stop();
    let offline_file = dir.path().join("offline_pin.json");
    let offline_arg = offline_file.to_str().expect("utf-8 path");
    let out = pin_from_uris(
        &url,
        &key,
        cache.path(),
        &[
            "--offline",
            "--roots",
            "work=/mnt/projects",
            "--out",
            offline_arg,
            V1,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(offline_file.exists());
    let out = pin_from_uris(
        &url,
        &key,
        cache.path(),
        &[
            "--offline",
            "--out",
            offline_arg,
            "--roots",
            "work=/mnt/projects",
            UNSEEN,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let l = lines(&out);
    assert_eq!(l[0]["uri"], UNSEEN);
    assert_eq!(l[0]["ok"], false);
}
