//! What the persistent tiers keep across reopening, file permissions, and tier promotion.

use std::path::Path;

use ayon_cache::{
    Cache, CacheAdmin, Durability, Entry, Freshness, Key, Namespace, Source, SqliteCache,
    TieredCache, Value, store_path,
};

fn key(name: &str) -> Key {
    Key::new(&Namespace::custom("persist"), name)
}

fn entry(v: &str) -> Entry {
    Entry::bytes(v.as_bytes().to_vec(), Freshness::Immutable, Source::Server)
}

#[test]
fn committed_and_buffered_writes_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let c = SqliteCache::builder()
            .dir(dir.path())
            .durability(Durability::PowerSafe)
            .open()
            .unwrap();
        c.put(key("direct"), entry("d")).unwrap();
        c.put_many(vec![(key("m1"), entry("1")), (key("m2"), entry("2"))])
            .unwrap();
        c.put_buffered(key("buffered"), entry("b")).unwrap();
        // Dropping flushes the buffer.
    }
    let c = SqliteCache::open_in(dir.path()).unwrap();
    for k in ["direct", "m1", "m2", "buffered"] {
        assert!(c.get(&key(k)).unwrap().is_some(), "{k} lost");
    }
    assert_eq!(c.len().unwrap(), 4);
}

#[test]
fn buffer_commits_itself_when_full() {
    let dir = tempfile::tempdir().unwrap();
    let writer = SqliteCache::builder()
        .dir(dir.path())
        .buffer_limit(10)
        .open()
        .unwrap();
    let other = SqliteCache::open_in(dir.path()).unwrap(); // another handle sees only commits
    for i in 0..9 {
        writer
            .put_buffered(key(&format!("b{i}")), entry("x"))
            .unwrap();
    }
    assert_eq!(
        other.len().unwrap(),
        0,
        "buffered entries are not committed yet"
    );
    writer.put_buffered(key("b9"), entry("x")).unwrap();
    assert_eq!(
        other.len().unwrap(),
        10,
        "the tenth buffered put commits the buffer"
    );
}

#[test]
fn json_values_round_trip_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let doc = serde_json::json!({"uri": "ayon+entity://demo/a", "entities": [{"filePath": "{root[work]}/a.usd"}]});
    SqliteCache::open_in(dir.path())
        .unwrap()
        .put(
            key("j"),
            Entry::json(doc.clone(), Freshness::Immutable, Source::Server),
        )
        .unwrap();
    let got = SqliteCache::open_in(dir.path())
        .unwrap()
        .get(&key("j"))
        .unwrap()
        .unwrap();
    assert_eq!(got.value(), &Value::Json(doc.into()));
}

#[cfg(unix)]
#[test]
fn store_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let c = SqliteCache::open_in(dir.path()).unwrap();
    c.put(key("a"), entry("a")).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let db = store_path(dir.path());
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(Path::new(&format!("{}-wal", db.display()))), 0o600);
    assert_eq!(mode(Path::new(&format!("{}-shm", db.display()))), 0o600);
    assert_eq!(mode(Path::new(&format!("{}.lock", db.display()))), 0o600);
}

#[test]
fn persistent_hit_is_promoted_to_memory() {
    let dir = tempfile::tempdir().unwrap();
    SqliteCache::open_in(dir.path())
        .unwrap()
        .put(key("p"), entry("p"))
        .unwrap();
    let t = TieredCache::builder().dir(dir.path()).open();
    assert!(t.get(&key("p")).unwrap().is_some());
    let s = t.stats();
    assert_eq!((s.memory.unwrap().hits, s.memory.unwrap().misses), (0, 1));
    assert_eq!(s.persistent.unwrap().hits, 1);
    assert!(t.get(&key("p")).unwrap().is_some());
    let s = t.stats();
    assert_eq!(s.memory.unwrap().hits, 1, "second read served from memory");
    assert_eq!(
        s.persistent.unwrap().hits,
        1,
        "second read did not touch SQLite"
    );
}

#[test]
fn size_cap_fails_writes_as_disk_full_and_tiered_keeps_memory() {
    let dir = tempfile::tempdir().unwrap();
    let t = TieredCache::builder()
        .sqlite(
            SqliteCache::builder()
                .dir(dir.path())
                .max_size_bytes(64 * 1024),
        )
        .open();
    let big = |i: usize| {
        (
            key(&format!("big{i}")),
            Entry::bytes(vec![7u8; 8 * 1024], Freshness::Immutable, Source::Server),
        )
    };
    let mut failed = None;
    for i in 0..64 {
        let (k, e) = big(i);
        if let Err(err) = t.put(k.clone(), e) {
            failed = Some((k, err));
            break;
        }
    }
    let (k, err) = failed.expect("a 64 KiB store cannot take 512 KiB");
    assert!(
        matches!(err, ayon_cache::CacheError::Unwritable { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("full"), "{err}");
    assert!(
        t.get(&k).unwrap().is_some(),
        "the entry is still served from memory"
    );
    let stats = t.stats();
    assert!(stats.last_error.is_some());
    assert!(
        t.diagnostics()
            .iter()
            .any(|d| d.kind == ayon_cache::DiagnosticKind::WriteFailed)
    );
}
