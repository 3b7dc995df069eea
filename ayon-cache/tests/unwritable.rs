//! A cache directory that cannot be written: the SQLite cache says why, the tiered cache runs
//! memory-only, visibly, and keeps answering.

use std::path::Path;

use ayon_cache::{
    Cache, CacheError, DiagnosticKind, Entry, Freshness, Key, Namespace, Source, SqliteCache,
    TieredCache,
};

fn key() -> Key {
    Key::new(
        &Namespace::for_server(
            &"http://127.0.0.1:5000".parse().expect("server URL"),
            "demo",
        ),
        "ayon+entity://demo/a?product=p&version=v001",
    )
}

fn assert_degraded_but_working(dir: &Path) {
    let err = SqliteCache::open_in(dir).expect_err("an unwritable directory cannot hold a store");
    assert!(matches!(err, CacheError::Unwritable { .. }), "{err}");
    assert!(
        err.to_string().contains(&dir.display().to_string()),
        "error names the directory: {err}"
    );

    let cache = TieredCache::builder().dir(dir).open();
    assert!(cache.is_degraded());
    assert!(!cache.is_durable());
    assert!(cache.persistent().is_none());
    let stats = cache.stats();
    assert!(stats.degraded);
    assert!(
        stats
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("not writable")),
        "{stats:?}"
    );
    let diags = cache.diagnostics();
    assert!(
        diags
            .iter()
            .any(|d| d.kind == DiagnosticKind::Degraded && d.message.contains("memory-only")),
        "{diags:?}"
    );
    // Resolving keeps working from memory.
    cache
        .put(
            key(),
            Entry::bytes(
                &b"/p/a/v001/a.usd"[..],
                Freshness::Immutable,
                Source::Server,
            ),
        )
        .unwrap();
    assert!(cache.get(&key()).unwrap().is_some());
    assert_eq!(cache.len().unwrap(), 1);
}

#[test]
fn directory_under_a_regular_file_degrades_to_memory() {
    // Works as root too: no permission bit lets anyone create a directory inside a file.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    assert_degraded_but_working(&file.join("cache"));
}

#[cfg(unix)]
#[test]
fn read_only_directory_degrades_to_memory_unless_root() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    // root ignores permission bits (CAP_DAC_OVERRIDE): probe whether they apply to us.
    let probe = dir.join("probe");
    let bits_apply = std::fs::write(&probe, b"x").is_err();
    if bits_apply {
        assert_degraded_but_working(&dir);
    } else {
        std::fs::remove_file(&probe).unwrap();
        eprintln!(
            "running as root: mode 0500 does not stop writes, checking the store opens instead"
        );
        let cache = TieredCache::builder().dir(&dir).open();
        assert!(!cache.is_degraded());
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
}
