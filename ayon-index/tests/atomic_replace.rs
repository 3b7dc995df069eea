//! A prepare killed half-way (SIGKILL while its snapshot transaction is open) leaves the previous
//! snapshot answering, and the next prepare completes.
//!
//! The child is this test binary re-executing the same test with `CHILD_DIR_ENV` set: it starts
//! replacing the demo project with a much larger snapshot, prints `HALF` once half of its rows
//! are written (inside the open transaction), and waits to be killed.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ayon_index::{FolderRecord, Index, ProjectSnapshot};
use ayon_testkit::Library;
use ayon_uri::AyonUri;
use common::{server_projects, snapshot};

const CHILD_DIR_ENV: &str = "AYON_INDEX_TEST_KILL_CHILD_DIR";
const TEST_NAME: &str = "prepare_killed_half_way_leaves_the_previous_snapshot";
const URI: &str = "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=*";

fn open(dir: &Path) -> Index {
    Index::builder()
        .cache_dir(dir)
        .recheck_interval(Duration::ZERO)
        .open()
        .expect("index opens")
}

/// The demo project, its hero folder renamed, plus `extra` more folders: a different answer.
fn bigger_snapshot(extra: usize) -> ProjectSnapshot {
    let lib = Library::demo_offline();
    let mut s = snapshot(&lib.projects[0], None);
    for f in &mut s.folders {
        if f.path == "assets/characters/hero" {
            f.path = "assets/characters/renamed".to_owned();
        }
    }
    for i in 0..extra {
        s.folders.push(FolderRecord {
            id: format!("{i:032x}"),
            path: format!("bulk/f{i}"),
            folder_type: "Folder".to_owned(),
            active: true,
            updated_at: "2026-12-01T00:00:00+00:00".to_owned(),
        });
    }
    s
}

fn child(dir: &Path) -> ! {
    let index = open(dir);
    let big = bigger_snapshot(200_000);
    let half = big.entity_count() as u64 / 2;
    let mut out = std::io::stdout();
    let mut told = false;
    let _ = index.replace_project_with_progress(&big, |rows| {
        if !told && rows >= half {
            told = true;
            let _ = writeln!(out, "\nHALF {rows}");
            let _ = out.flush();
            // Hold the transaction open until the parent kills us (bounded, never a zombie).
            std::thread::sleep(Duration::from_secs(60));
        }
    });
    let _ = writeln!(out, "FINISHED");
    std::process::exit(3);
}

fn version_ids(index: &Index) -> Vec<String> {
    let uri = AyonUri::parse(URI).expect("uri");
    let answer = index.resolve(&uri).expect("answers");
    assert!(answer.error.is_none(), "{answer:?}");
    answer
        .entities
        .iter()
        .map(|e| e.version_id.clone().unwrap_or_default())
        .collect()
}

#[test]
fn prepare_killed_half_way_leaves_the_previous_snapshot() {
    if let Some(dir) = std::env::var_os(CHILD_DIR_ENV) {
        child(Path::new(&dir));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let lib = Library::demo_offline();
    let before = {
        let index = open(dir.path());
        index
            .replace_project(&snapshot(&lib.projects[0], None))
            .expect("first prepare");
        index
            .record_server_projects(&server_projects(&lib))
            .expect("project list");
        let ids = version_ids(&index);
        assert_eq!(ids.len(), 4, "v001, v002, v003 and hero of usdAsset");
        ids
    };
    let counts_before = open(dir.path())
        .prepared("demo_offline")
        .expect("reads")
        .expect("prepared")
        .counts;

    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("child stdout");
    let mut lines = BufReader::new(stdout).lines();
    let half = lines
        .by_ref()
        .map_while(Result::ok)
        // The harness prints `test NAME ... ` without a newline before the child's first line.
        .find(|l| l.contains("HALF ") || l.contains("FINISHED"))
        .expect("child reports progress");
    assert!(
        half.contains("HALF "),
        "child finished before it could be killed: {half}"
    );

    // While the child's transaction is open, another process still reads the old snapshot.
    let reader = open(dir.path());
    assert_eq!(version_ids(&reader), before);

    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "{status:?}");

    let after = open(dir.path());
    assert_eq!(
        version_ids(&after),
        before,
        "the old snapshot still answers"
    );
    let counts_after = after
        .prepared("demo_offline")
        .expect("reads")
        .expect("still prepared")
        .counts;
    assert_eq!(counts_after, counts_before, "no half snapshot left behind");
    // The reader opened before the kill sees the same.
    assert_eq!(version_ids(&reader), before);

    // The next prepare completes, and every open index sees it.
    after
        .replace_project(&bigger_snapshot(1_000))
        .expect("next prepare");
    let uri = AyonUri::parse(URI).expect("uri");
    assert!(after.resolve(&uri).expect("answers").entities.is_empty());
    assert!(reader.resolve(&uri).expect("answers").entities.is_empty());
    let renamed = AyonUri::parse(&URI.replace("/hero?", "/renamed?")).expect("uri");
    assert_eq!(reader.resolve(&renamed).expect("answers").entities.len(), 4);
    assert_eq!(
        after
            .prepared("demo_offline")
            .expect("reads")
            .expect("prepared")
            .counts[0],
        counts_before[0] + 1_000
    );
}
