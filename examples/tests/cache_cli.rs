//! Runs the real `ayon` binary: `ayon cache path|stats|clear` against a temporary cache dir.

use std::path::Path;
use std::process::{Command, Output};

use ayon_cache::{Cache, Entry, Freshness, Key, Namespace, Source, SqliteCache};
use serde_json::Value;

fn ayon(cache_dir: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ayon"));
    cmd.env_remove("AYON_OFFLINE_CACHE_DIR")
        .env_remove("AYON_SERVER_URL");
    if let Some(dir) = cache_dir {
        cmd.arg("--cache-dir").arg(dir);
    }
    cmd.args(args).output().expect("the ayon binary runs")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn populate(dir: &Path) -> (Namespace, Namespace) {
    let a = Namespace::for_server(
        &"https://ayon.studio.local".parse().expect("server URL"),
        "demo",
    );
    let b = Namespace::custom("tool");
    let cache = SqliteCache::open_in(dir).unwrap();
    let e = |s: &str| Entry::bytes(s.as_bytes().to_vec(), Freshness::Immutable, Source::Server);
    cache
        .put_many(vec![
            (Key::new(&a, "ayon+entity://demo/a"), e("12345")),
            (Key::new(&a, "ayon+entity://demo/b"), e("12345")),
            (Key::new(&a, "ayon+entity://demo/c"), e("12345")),
            (Key::new(&b, "x"), e("1")),
            (Key::new(&b, "y"), e("12")),
        ])
        .unwrap();
    (a, b)
}

#[test]
fn path_follows_flag_then_env() {
    let dir = tempfile::tempdir().unwrap();
    let out = ayon(Some(dir.path()), &["cache", "path"]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out).trim(),
        dir.path().join("cache.sqlite").display().to_string()
    );

    let env_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ayon"))
        .args(["--json", "cache", "path"])
        .env("AYON_OFFLINE_CACHE_DIR", env_dir.path())
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(
        v["path"],
        env_dir.path().join("cache.sqlite").display().to_string()
    );
    assert_eq!(v["exists"], false);
}

#[test]
fn stats_of_a_missing_cache_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let v = json(&ayon(Some(dir.path()), &["cache", "stats", "--json"]));
    assert_eq!(v["exists"], false);
    assert_eq!(v["entries"], 0);
    assert!(!dir.path().join("cache.sqlite").exists());
}

#[test]
fn stats_lists_namespaces_and_clear_removes_them() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = populate(dir.path());

    let v = json(&ayon(Some(dir.path()), &["cache", "stats", "--json"]));
    assert_eq!(v["exists"], true);
    assert_eq!(v["entries"], 5);
    assert_eq!(v["bytes"], 18);
    assert_eq!(v["format_version"], 1);
    assert!(v["file_size"].as_u64().unwrap() > 0);
    let ns = v["namespaces"].as_array().unwrap();
    assert_eq!(ns.len(), 2);
    assert_eq!(ns[0]["namespace"], a.as_str());
    assert_eq!(ns[0]["entries"], 3);
    assert_eq!(ns[0]["bytes"], 15);
    assert_eq!(ns[1]["namespace"], b.as_str());
    assert_eq!(ns[1]["entries"], 2);

    let text = stdout(&ayon(Some(dir.path()), &["cache", "stats"]));
    assert!(text.contains("https://ayon.studio.local|demo"), "{text}");
    assert!(text.contains("entries:         5"), "{text}");

    let v = json(&ayon(
        Some(dir.path()),
        &["--json", "cache", "clear", "--namespace", a.as_str()],
    ));
    assert_eq!(v["removed"], 3);
    let v = json(&ayon(Some(dir.path()), &["cache", "stats", "--json"]));
    assert_eq!(v["entries"], 2);
    assert_eq!(v["namespaces"][0]["namespace"], b.as_str());

    let out = ayon(Some(dir.path()), &["cache", "clear"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("removed all 2 entries"),
        "{}",
        stdout(&out)
    );
    assert_eq!(SqliteCache::open_in(dir.path()).unwrap().len().unwrap(), 0);
}

#[test]
fn unwritable_cache_dir_fails_with_a_message_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let dir = file.join("cache");
    let out = ayon(Some(&dir), &["cache", "clear"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not writable") && err.contains("a-file"),
        "{err}"
    );
}
