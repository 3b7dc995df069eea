//! `ayon demo` and the new TD commands as a user runs them: the real binary, real servers, real
//! cache directories.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ayon_testkit::{Library, TestServer};
use serde_json::Value;

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn ayon(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ayon"));
    c.args(args)
        .env_remove("AYON_SERVER_URL")
        .env_remove("AYON_API_KEY")
        .env_remove("AYON_PROJECT_NAME")
        .env_remove("AYON_SITE_ID")
        .env_remove("AYON_OFFLINE_CACHE_DIR")
        .env_remove("AYON_OFFLINE_REDIS_URL")
        .env_remove("AYON_OFFLINE_REDIS_PREFIX")
        .env_remove("AYON_USD_RESOLVER_ENABLE_PINNING")
        .env_remove("ENABLE_STATIC_GLOBAL_CACHE");
    c
}

#[test]
fn the_demo_tells_the_whole_story_and_every_step_checks_out() {
    let start = Instant::now();
    let out = ayon(&["--json", "demo"]).output().expect("ayon demo runs");
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "demo failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let steps = lines(&out);
    assert!(steps.len() >= 15, "{} steps", steps.len());
    for s in &steps {
        assert_eq!(s["ok"], true, "{s}");
    }
    let names: Vec<&str> = steps.iter().filter_map(|s| s["step"].as_str()).collect();
    for wanted in [
        "resolve hero v001",
        "the monitor knows it is gone",
        "a farm worker resolves the shot",
    ] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }
    let offline_latest = steps
        .iter()
        .find(|s| s["step"] == "`latest` never resolved before")
        .expect("the offline latest step");
    assert!(
        offline_latest["detail"]
            .as_str()
            .unwrap_or("")
            .contains("[local_index]")
    );
    assert!(took < Duration::from_secs(30), "the demo took {took:?}");
}

#[test]
fn prepare_offline_then_resolve_offline_and_list_it_in_cache_stats() {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let cache = tempfile::tempdir().expect("tmp");
    let url = server.url();
    let key = server.session_token();
    let key_file = cache.path().join("key.txt");
    std::fs::write(&key_file, format!("{key}\n")).expect("key file");
    let common = |c: &mut Command| {
        c.args([
            "--server",
            &url,
            "--site-id",
            "offline-test-linux",
            "--project",
            "demo_offline",
        ])
        .arg("--api-key-file")
        .arg(&key_file)
        .arg("--cache-dir")
        .arg(cache.path());
    };

    let mut dry = ayon(&["--json"]);
    common(&mut dry);
    let out = dry
        .args(["prepare-offline", "--dry-run"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let estimate = &lines(&out)[0];
    assert_eq!(estimate["dryRun"], true);
    assert!(
        estimate["representations"].as_u64().unwrap_or(0) > 100,
        "{estimate}"
    );

    let mut prep = ayon(&["--json"]);
    common(&mut prep);
    let out = prep.arg("prepare-offline").output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = &lines(&out)[0];
    assert_eq!(report["project"], "demo_offline");
    assert_eq!(
        report["representations"], estimate["representations"],
        "the estimate counted right"
    );

    server.stop();
    let never = "ayon://demo_offline/assets/props/prop077?product=usdAsset&version=latest&representation=usd";
    let mut res = ayon(&["--json"]);
    common(&mut res);
    let out = res
        .args(["resolve", "--offline", never])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let answer = &lines(&out)[0];
    assert_eq!(answer["source"], "local_index", "{answer}");
    assert!(
        answer["path"].as_str().unwrap_or("").contains("prop077"),
        "{answer}"
    );

    let mut stats = ayon(&["--json"]);
    common(&mut stats);
    let out = stats.args(["cache", "stats"]).output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\"prepared\"") && text.contains("demo_offline"),
        "{text}"
    );
}

#[test]
fn doctor_says_what_is_wrong_and_what_to_do() {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let cache = tempfile::tempdir().expect("tmp");
    let out = ayon(&[
        "--json",
        "--server",
        &server.url(),
        "--api-key",
        &server.session_token(),
        "--site-id",
        "offline-test-linux",
        "--project",
        "demo_offline",
    ])
    .arg("--cache-dir")
    .arg(cache.path())
    .arg("doctor")
    .output()
    .expect("runs");
    let checks = lines(&out);
    assert!(out.status.success(), "{checks:?}");
    let status = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"] == name)
            .map(|c| c["status"].as_str().unwrap_or("").to_owned())
            .unwrap_or_else(|| panic!("no {name} check in {checks:?}"))
    };
    assert_eq!(status("server"), "ok");
    assert_eq!(status("credential"), "ok");
    assert_eq!(status("site"), "ok");
    assert_eq!(status("roots"), "ok");
    assert_eq!(status("index"), "warn", "nothing prepared yet");

    let out = ayon(&[
        "--json",
        "--server",
        &server.url(),
        "--api-key",
        "not-a-real-key",
    ])
    .arg("--cache-dir")
    .arg(cache.path())
    .arg("doctor")
    .output()
    .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let checks = lines(&out);
    let cred = checks
        .iter()
        .find(|c| c["check"] == "credential")
        .expect("credential");
    assert_eq!(cred["status"], "fail", "{cred}");

    server.stop();
    let out = ayon(&["--server", &server.url(), "--api-key", "x"])
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["doctor", "--timeout", "1s"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("does not answer") && text.contains("is the server up"),
        "{text}"
    );
}

#[test]
fn doctor_shows_the_shared_tier_without_its_password() {
    let Some(redis) = ayon_testkit::redis::RedisServer::start_or_skip(&[
        "--user", "default", "off", "--user", "farm", "on", ">s3cret", "~*", "&*", "+@all",
    ]) else {
        return;
    };
    let cache = tempfile::tempdir().expect("tmp");
    let doctor = |url: &str| {
        let out = ayon(&["--json", "--cache-dir"])
            .arg(cache.path())
            .arg("doctor")
            .env("AYON_OFFLINE_REDIS_URL", url)
            .output()
            .expect("runs");
        let checks: Vec<Value> = lines(&out)
            .into_iter()
            .filter(|c| c["check"] == "shared tier")
            .collect();
        assert_eq!(checks.len(), 1, "one shared tier line: {checks:?}");
        let check = checks.into_iter().next().unwrap_or_else(|| {
            panic!(
                "no shared tier check: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        (check, String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let port = redis.port();
    let (ok, text) = doctor(&format!("redis://farm:s3cret@127.0.0.1:{port}"));
    assert_eq!(ok["status"], "ok", "{ok}");
    let message = ok["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("redis://***@127.0.0.1:{port}"))
            && message.contains("misses 1")
            && message.contains("breaker closed"),
        "{message}"
    );
    assert!(!text.contains("s3cret"), "the password never shows: {text}");
    let (bad, text) = doctor(&format!("redis://farm:wrong@127.0.0.1:{port}"));
    assert_eq!(bad["status"], "fail", "{bad}");
    assert!(
        bad["message"]
            .as_str()
            .unwrap_or_default()
            .contains("authentication failed"),
        "the failure says why: {bad}"
    );
    assert!(!text.contains("wrong@"), "{text}");
}

/// `--newest N`: an older exact version answers offline "not prepared (only the newest N
/// versions kept)", not "not found"; the newest answers from the index. A second prepare
/// reports what it did.
#[test]
fn prepare_offline_newest_n_says_an_older_version_was_not_prepared() {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let cache = tempfile::tempdir().expect("tmp");
    let args = |extra: &[&str]| {
        let mut c = ayon(&["--json"]);
        c.args(["--server", &server.url(), "--site-id", "offline-test-linux"])
            .args([
                "--project",
                "demo_offline",
                "--api-key",
                &server.session_token(),
            ])
            .arg("--cache-dir")
            .arg(cache.path())
            .args(extra);
        c.output().expect("runs")
    };
    let rejected = args(&["prepare-offline", "--newest", "0"]);
    assert_eq!(rejected.status.code(), Some(2));
    let out = args(&["prepare-offline", "--newest", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = &lines(&out)[0];
    assert_eq!(
        (first["mode"].as_str(), first["newest"].as_u64()),
        (Some("full"), Some(1))
    );

    server.stop();
    let uri = |v: &str| {
        format!(
            "ayon://demo_offline/assets/characters/hero?product=usdAsset&version={v}&representation=usd"
        )
    };
    let out = args(&["resolve", "--offline", &uri("v001"), &uri("v003")]);
    let answers = lines(&out);
    assert_eq!(answers[0]["ok"], false, "{}", answers[0]);
    assert_eq!(answers[0]["kind"], "offline", "{}", answers[0]);
    let error = answers[0]["error"].as_str().unwrap_or("");
    assert!(error.contains("only the newest 1 versions"), "{error}");
    assert_eq!(answers[1]["source"], "local_index", "{}", answers[1]);
}
