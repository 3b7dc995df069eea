//! Invalid store files (garbage, truncated mid-page, newer format, foreign) are reported, moved
//! aside under a name that says why, and replaced by a working store.

use std::fs;
use std::path::{Path, PathBuf};

use ayon_cache::{
    Cache, DiagnosticKind, Entry, Freshness, InvalidStore, Key, Namespace, STORE_FORMAT_VERSION,
    Source, SqliteCache, TieredCache, store_path,
};

fn key(i: usize) -> Key {
    Key::new(
        &Namespace::for_server(
            &"http://127.0.0.1:5000".parse().expect("server URL"),
            "demo",
        ),
        format!("ayon+entity://demo/a?product=p&version=v{i:03}"),
    )
}

fn fill(dir: &Path, n: usize) {
    let cache = SqliteCache::open_in(dir).unwrap();
    let batch = (0..n)
        .map(|i| {
            (
                key(i),
                Entry::bytes(vec![b'x'; 300], Freshness::Immutable, Source::Server),
            )
        })
        .collect();
    cache.put_many(batch).unwrap();
    drop(cache); // last connection: checkpoints the WAL into the main file
    assert!(!Path::new(&format!("{}-wal", store_path(dir).display())).exists());
}

/// Opens the store, checks exactly one move-aside with `reason`, the aside file's name and
/// content, and that the fresh store works and reopens cleanly.
fn assert_moved_aside(
    dir: &Path,
    reason: InvalidStore,
    name_part: &str,
    original: &[u8],
) -> PathBuf {
    let cache = SqliteCache::open_in(dir).expect("a store must open even over an invalid file");
    let diags = cache.diagnostics();
    assert_eq!(diags.len(), 1, "{diags:?}");
    let DiagnosticKind::MovedAside {
        from,
        to,
        reason: got,
    } = &diags[0].kind
    else {
        panic!("expected a move-aside diagnostic, got {diags:?}");
    };
    assert_eq!(got, &reason);
    assert_eq!(from, &store_path(dir));
    let aside_name = to.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        aside_name.starts_with(&format!("cache.sqlite.{name_part}-")),
        "aside name {aside_name}"
    );
    assert!(
        diags[0].message.contains(&aside_name),
        "message names the aside file: {}",
        diags[0].message
    );
    assert!(
        fs::read(to).unwrap() == original,
        "the invalid file is kept byte for byte"
    );
    // The fresh store works.
    assert_eq!(cache.len().unwrap(), 0);
    cache
        .put(
            key(1),
            Entry::bytes(&b"fresh"[..], Freshness::Immutable, Source::Server),
        )
        .unwrap();
    assert!(cache.get(&key(1)).unwrap().is_some());
    assert_eq!(cache.format_version().unwrap(), STORE_FORMAT_VERSION);
    drop(cache);
    let again = SqliteCache::open_in(dir).unwrap();
    assert!(
        again.diagnostics().is_empty(),
        "a healthy store reopens without events"
    );
    assert!(again.get(&key(1)).unwrap().is_some());
    to.clone()
}

#[test]
fn garbage_file_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(7);
    let garbage: Vec<u8> = (0..20_000).map(|_| rng.u8(..)).collect();
    fs::write(store_path(dir.path()), &garbage).unwrap();
    assert_moved_aside(dir.path(), InvalidStore::Corrupt, "corrupt", &garbage);
}

#[test]
fn garbage_after_a_valid_header_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 200);
    let path = store_path(dir.path());
    let mut bytes = fs::read(&path).unwrap();
    let mut rng = fastrand::Rng::with_seed(11);
    for b in bytes.iter_mut().skip(100) {
        *b = rng.u8(..);
    }
    fs::write(&path, &bytes).unwrap();
    assert_moved_aside(dir.path(), InvalidStore::Corrupt, "corrupt", &bytes);
}

#[test]
fn file_truncated_mid_page_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 2_000);
    let path = store_path(dir.path());
    let bytes = fs::read(&path).unwrap();
    assert!(
        bytes.len() > 64 * 1024,
        "store too small to truncate meaningfully: {}",
        bytes.len()
    );
    let cut = bytes.len() / 2 + 1_000; // not a multiple of any page size
    fs::write(&path, &bytes[..cut]).unwrap();
    assert_moved_aside(dir.path(), InvalidStore::Corrupt, "corrupt", &bytes[..cut]);
}

#[test]
fn newer_format_version_is_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 10);
    let path = store_path(dir.path());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", STORE_FORMAT_VERSION + 98)
            .unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let original = fs::read(&path).unwrap();
    let found = STORE_FORMAT_VERSION + 98;
    assert_moved_aside(
        dir.path(),
        InvalidStore::NewerFormat {
            found,
            supported: STORE_FORMAT_VERSION,
        },
        &format!("newer-format-v{found}"),
        &original,
    );
}

#[test]
fn foreign_database_is_moved_aside_not_written_into() {
    let dir = tempfile::tempdir().unwrap();
    let path = store_path(dir.path());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let original = fs::read(&path).unwrap();
    assert_moved_aside(dir.path(), InvalidStore::Foreign, "foreign", &original);
}

#[test]
fn tiered_cache_over_garbage_stays_persistent_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        store_path(dir.path()),
        b"definitely not sqlite, just text in the way",
    )
    .unwrap();
    let cache = TieredCache::builder().dir(dir.path()).open();
    assert!(!cache.is_degraded());
    assert!(cache.is_durable());
    assert!(
        cache.diagnostics().iter().any(|d| matches!(
            d.kind,
            DiagnosticKind::MovedAside {
                reason: InvalidStore::Corrupt,
                ..
            }
        )),
        "{:?}",
        cache.diagnostics()
    );
    cache
        .put(
            key(3),
            Entry::bytes(&b"v"[..], Freshness::Immutable, Source::Server),
        )
        .unwrap();
    drop(cache);
    assert!(
        SqliteCache::open_in(dir.path())
            .unwrap()
            .get(&key(3))
            .unwrap()
            .is_some()
    );
}
