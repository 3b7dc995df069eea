//! Two processes write and read one cache directory at the same time: neither fails nor waits
//! beyond the busy timeout, and afterwards each sees the other's entries.
//!
//! The children are this test binary re-executing the same test with `ROLE_ENV` set. Process
//! `a` uses the tiered cache, `b` the bare SQLite cache.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ayon_cache::{
    Cache, CacheAdmin, Entry, Freshness, Key, Namespace, Source, SqliteCache, TieredCache, Value,
};

const ROLE_ENV: &str = "AYON_CACHE_TEST_TWO_PROCESS_ROLE";
const DIR_ENV: &str = "AYON_CACHE_TEST_TWO_PROCESS_DIR";
const TEST_NAME: &str = "two_processes_share_one_cache_directory";
const BUSY_TIMEOUT: Duration = Duration::from_secs(2);
const RUN_FOR: Duration = Duration::from_secs(2);

fn ns() -> Namespace {
    Namespace::custom("two-process")
}

fn key(role: &str, i: u64) -> Key {
    Key::new(&ns(), format!("{role}-{i}"))
}

fn entry(role: &str, i: u64) -> Entry {
    Entry::bytes(
        format!("{role}:{i}").into_bytes(),
        Freshness::Immutable,
        Source::Server,
    )
}

fn check(e: Option<Entry>, role: &str, i: u64) {
    let e = e.unwrap_or_else(|| panic!("{role}-{i} missing"));
    assert_eq!(
        e.value(),
        &Value::Bytes(format!("{role}:{i}").into_bytes().into()),
        "{role}-{i} damaged"
    );
}

fn child(role: &str, dir: &Path) {
    let other = if role == "a" { "b" } else { "a" };
    let sqlite = SqliteCache::builder().dir(dir).busy_timeout(BUSY_TIMEOUT);
    let cache: Box<dyn Cache> = if role == "a" {
        let t = TieredCache::builder().sqlite(sqlite).open();
        assert!(!t.is_degraded(), "{role}: degraded: {:?}", t.diagnostics());
        Box::new(t)
    } else {
        Box::new(sqlite.open().expect("open"))
    };
    let mut rng = fastrand::Rng::new();
    let mut slowest = Duration::ZERO;
    let mut timed = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        f();
        slowest = slowest.max(t.elapsed());
    };
    let start = Instant::now();
    let mut written = 0u64;
    let mut seen_other = 0u64;
    while start.elapsed() < RUN_FOR {
        if written % 10 == 9 {
            let batch: Vec<_> = (written..written + 10)
                .map(|i| (key(role, i), entry(role, i)))
                .collect();
            timed(&mut || cache.put_many(batch.clone()).expect("put_many"));
            written += 10;
        } else {
            timed(&mut || {
                cache
                    .put(key(role, written), entry(role, written))
                    .expect("put")
            });
            written += 1;
        }
        let mine = rng.u64(0..written);
        timed(&mut || check(cache.get(&key(role, mine)).expect("get own"), role, mine));
        let theirs = rng.u64(0..1000);
        timed(&mut || {
            if let Some(e) = cache.get(&key(other, theirs)).expect("get other's") {
                check(Some(e), other, theirs);
                seen_other += 1;
            }
        });
    }
    cache
        .put(
            Key::new(&ns(), format!("done-{role}")),
            entry("count", written),
        )
        .expect("put done marker");
    // Wait for the other process to finish, then check everything it wrote.
    let wait_start = Instant::now();
    let their_count = loop {
        if let Some(e) = cache
            .get(&Key::new(&ns(), format!("done-{other}")))
            .expect("get marker")
        {
            let Value::Bytes(b) = e.value() else {
                panic!("marker is not bytes")
            };
            let text = String::from_utf8_lossy(b);
            break text
                .trim_start_matches("count:")
                .parse::<u64>()
                .expect("marker count");
        }
        assert!(
            wait_start.elapsed() < Duration::from_secs(20),
            "{role}: the other process never finished"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    for i in 0..their_count {
        check(cache.get(&key(other, i)).expect("get other's"), other, i);
    }
    assert!(
        slowest < BUSY_TIMEOUT,
        "{role}: one call took {slowest:?}, beyond the busy timeout"
    );
    println!(
        "CHILD-OK role={role} wrote={written} verified_other={their_count} seen_other_during_run={seen_other} slowest={slowest:?}"
    );
}

#[test]
fn two_processes_share_one_cache_directory() {
    if let (Some(role), Some(dir)) = (std::env::var_os(ROLE_ENV), std::env::var_os(DIR_ENV)) {
        child(&role.to_string_lossy(), Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let spawn = |role: &str| {
        Command::new(&exe)
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(ROLE_ENV, role)
            .env(DIR_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("a"), spawn("b"));
    for (role, child) in [("a", a), ("b", b)] {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report = stdout
            .find("CHILD-OK")
            .map(|i| stdout[i..].lines().next().unwrap_or_default().to_owned());
        assert!(
            out.status.success() && report.is_some(),
            "process {role} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{}", report.unwrap_or_default());
    }
    let cache = SqliteCache::open_in(dir.path()).unwrap();
    assert!(cache.diagnostics().is_empty(), "{:?}", cache.diagnostics());
    assert!(cache.get(&Key::new(&ns(), "done-a")).unwrap().is_some());
    assert!(cache.get(&Key::new(&ns(), "done-b")).unwrap().is_some());
}
