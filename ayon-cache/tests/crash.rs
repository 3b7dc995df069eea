//! SIGKILL at random moments: every write the cache acknowledged as durable is there afterwards,
//! and the store opens without error (nothing moved aside).
//!
//! The child is this test binary re-executing the same test with `CHILD_DIR_ENV` set; it writes
//! entries and prints `ACK <key>` on stdout after each durable write returns.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ayon_cache::{Cache, Entry, Freshness, Key, Namespace, Source, SqliteCache, Value};

const CHILD_DIR_ENV: &str = "AYON_CACHE_TEST_CRASH_CHILD_DIR";
const CHILD_ROUND_ENV: &str = "AYON_CACHE_TEST_CRASH_CHILD_ROUND";
const TEST_NAME: &str = "sigkill_at_random_moments_loses_no_acknowledged_write";
const KILLS: usize = 50;

fn ns() -> Namespace {
    Namespace::for_server(
        &"http://127.0.0.1:5000".parse().expect("server URL"),
        "crash",
    )
}

fn value_for(name: &str) -> Vec<u8> {
    name.as_bytes().iter().cycle().take(120).copied().collect()
}

fn entry_for(name: &str) -> Entry {
    Entry::bytes(value_for(name), Freshness::Immutable, Source::Server)
}

/// The child: write forever (until killed), acknowledging each durable write on stdout.
fn child(dir: &Path, round: &str) -> ! {
    let cache = SqliteCache::open_in(dir).expect("child: open");
    let mut out = std::io::stdout().lock();
    let deadline = Instant::now() + Duration::from_secs(20); // never outlive a broken parent
    let mut i = 0u64;
    while Instant::now() < deadline {
        match i % 3 {
            0 => {
                let name = format!("r{round}-single-{i}");
                cache
                    .put(Key::new(&ns(), &name), entry_for(&name))
                    .expect("child: put");
                writeln!(out, "ACK {name}").expect("child: stdout");
            }
            1 => {
                let names: Vec<String> = (0..8).map(|j| format!("r{round}-many-{i}-{j}")).collect();
                cache
                    .put_many(
                        names
                            .iter()
                            .map(|n| (Key::new(&ns(), n), entry_for(n)))
                            .collect(),
                    )
                    .expect("child: put_many");
                for n in &names {
                    writeln!(out, "ACK {n}").expect("child: stdout");
                }
            }
            _ => {
                let names: Vec<String> = (0..4)
                    .map(|j| format!("r{round}-buffered-{i}-{j}"))
                    .collect();
                for n in &names {
                    cache
                        .put_buffered(Key::new(&ns(), n), entry_for(n))
                        .expect("child: put_buffered");
                }
                cache.flush().expect("child: flush");
                for n in &names {
                    writeln!(out, "ACK {n}").expect("child: stdout");
                }
            }
        }
        i += 1;
    }
    std::process::exit(0)
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_write() {
    if let Some(dir) = std::env::var_os(CHILD_DIR_ENV) {
        let round = std::env::var(CHILD_ROUND_ENV).unwrap_or_default();
        child(Path::new(&dir), &round);
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = fastrand::Rng::new();
    let mut all_acked: BTreeSet<String> = BTreeSet::new();
    let mut kills_after_acks = 0;
    for round in 0..KILLS {
        let mut child = Command::new(&exe)
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_DIR_ENV, dir.path())
            .env(CHILD_ROUND_ENV, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(name) = line.strip_prefix("ACK ") {
                    let _ = tx.send(name.to_owned());
                }
            }
        });
        let mut acked = Vec::new();
        if round % 4 == 0 {
            // Any moment from spawn on: start-up, opening (lock, checks), or writing.
            std::thread::sleep(Duration::from_millis(rng.u64(0..60)));
        } else {
            // Mid-writing: after the first acknowledgement, a random while later.
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(first) => acked.push(first),
                Err(e) => panic!("round {round}: child acknowledged nothing within 10 s ({e})"),
            }
            std::thread::sleep(Duration::from_micros(rng.u64(0..30_000)));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: the child must die by the kill, not exit ({status})"
        );
        reader.join().unwrap();
        acked.extend(rx.try_iter());
        if !acked.is_empty() {
            kills_after_acks += 1;
        }

        let cache = SqliteCache::open_in(dir.path())
            .unwrap_or_else(|e| panic!("round {round}: store does not open after SIGKILL: {e}"));
        assert!(
            cache.diagnostics().is_empty(),
            "round {round}: store was not clean: {:?}",
            cache.diagnostics()
        );
        for name in &acked {
            let got = cache.get(&Key::new(&ns(), name)).unwrap();
            let Some(e) = got else {
                panic!(
                    "round {round}: acknowledged entry `{name}` lost ({} acked this round)",
                    acked.len()
                );
            };
            assert_eq!(
                e.value(),
                &Value::Bytes(value_for(name).into()),
                "round {round}: `{name}` damaged"
            );
        }
        all_acked.extend(acked);
    }
    let cache = SqliteCache::open_in(dir.path()).unwrap();
    for name in &all_acked {
        assert!(
            cache.get(&Key::new(&ns(), name)).unwrap().is_some(),
            "`{name}` lost by a later round"
        );
    }
    assert!(
        kills_after_acks >= KILLS * 3 / 4,
        "only {kills_after_acks} of {KILLS} kills hit a writing child"
    );
    eprintln!(
        "{} acknowledged entries over {KILLS} kills, {kills_after_acks} mid-writing",
        all_acked.len()
    );
}
