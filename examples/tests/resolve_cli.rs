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
