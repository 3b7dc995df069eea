//! Incremental upserts and deletes, the memory layer following them (in this process and from
//! another connection), `latest` / `latestdone` / `hero` after a publish, and the project
//! lookups (case-insensitive names, "not found" versus "not prepared").

mod common;

use std::time::Duration;

use ayon_index::{
    Change, EntityKind, Index, IndexError, ProductRecord, StatusRecord, VersionRecord,
};
use ayon_testkit::Library;
use ayon_uri::AyonUri;
use common::{server_projects, snapshot};

const HERO: &str = "ayon://demo_offline/assets/characters/hero";

fn open(dir: &std::path::Path) -> Index {
    Index::builder()
        .cache_dir(dir)
        .recheck_interval(Duration::ZERO)
        .open()
        .expect("index opens")
}

fn prepared(dir: &std::path::Path) -> Index {
    let index = open(dir);
    let lib = Library::demo_offline();
    index
        .replace_project(&snapshot(&lib.projects[0], None))
        .expect("prepare");
    index
        .record_server_projects(&server_projects(&lib))
        .expect("project list");
    index
}

fn versions(index: &Index, query: &str) -> Vec<String> {
    let uri = AyonUri::parse(&format!("{HERO}?{query}")).expect("uri");
    let answer = index.resolve(&uri).expect("answers");
    assert!(answer.error.is_none(), "{answer:?}");
    answer
        .entities
        .iter()
        .map(|e| e.version_id.clone().unwrap_or_default())
        .collect()
}

fn version(id: &str, number: i32, status: &str) -> VersionRecord {
    VersionRecord {
        id: id.to_owned(),
        product_id: "79763858e6c311f1931b02fc00000001".to_owned(),
        version: number,
        status: status.to_owned(),
        active: true,
        updated_at: "2026-12-01T00:00:00+00:00".to_owned(),
    }
}

#[test]
fn a_publish_moves_latest_and_latestdone_and_a_delete_removes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = prepared(dir.path());
    let v3 = "79adbae4e6c311f1931b02fc00000001";
    assert_eq!(versions(&index, "product=usdAsset&version=latest"), [v3]);
    assert!(versions(&index, "product=usdAsset&version=latestdone").is_empty());
    assert_eq!(index.memory_len(), 2, "both answers are held in memory");

    // v004 published, inactive: the server does not filter on `active`.
    let mut v4 = version("a4", 4, "Pending review");
    v4.active = false;
    index
        .apply_changes("demo_offline", &[Change::Version(v4)])
        .expect("upsert");
    assert_eq!(index.memory_len(), 0, "a change drops the memory layer");
    assert_eq!(versions(&index, "product=usdAsset&version=latest"), ["a4"]);
    assert_eq!(
        versions(&index, "product=usdAsset&version=*")
            .last()
            .map(String::as_str),
        Some("a4"),
        "a new version comes after the existing ones"
    );

    // Approve v002: latestdone is the highest version whose status state is done.
    index
        .apply_changes(
            "demo_offline",
            &[Change::Version(version(
                "7996b8f8e6c311f1931b02fc00000001",
                2,
                "Approved",
            ))],
        )
        .expect("status change");
    assert_eq!(
        versions(&index, "product=usdAsset&version=latestdone"),
        ["7996b8f8e6c311f1931b02fc00000001"]
    );
    // Statuses are compared by name, case-sensitively, and their state decides.
    index
        .apply_changes(
            "demo_offline",
            &[Change::Statuses(vec![StatusRecord {
                name: "approved".to_owned(),
                state: "done".to_owned(),
            }])],
        )
        .expect("statuses");
    assert!(versions(&index, "product=usdAsset&version=latestdone").is_empty());

    // Deleting the product removes its versions.
    index
        .apply_changes(
            "demo_offline",
            &[Change::Delete(
                EntityKind::Product,
                "79763858e6c311f1931b02fc00000001".to_owned(),
            )],
        )
        .expect("delete");
    assert!(versions(&index, "product=usdAsset&version=*").is_empty());
    assert_eq!(
        index
            .prepared("demo_offline")
            .expect("reads")
            .expect("prepared")
            .counts[3],
        // One version added (a4), then the product's four and a4 removed.
        (Library::demo_offline().projects[0].versions().count() + 1 - 5) as u64
    );
}

#[test]
fn an_orphan_change_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = prepared(dir.path());
    let before = versions(&index, "product=usdAsset&version=*");
    let orphan = ProductRecord {
        id: "p1".to_owned(),
        folder_id: "no-such-folder".to_owned(),
        name: "x".to_owned(),
        product_type: "usd".to_owned(),
        active: true,
        updated_at: String::new(),
    };
    let err = index
        .apply_changes(
            "demo_offline",
            &[
                Change::Version(version("a4", 4, "x")),
                Change::Product(orphan),
            ],
        )
        .expect_err("orphan refused");
    assert!(matches!(err, IndexError::InvalidInput { .. }), "{err}");
    assert!(err.to_string().contains("no-such-folder"), "{err}");
    assert_eq!(
        versions(&index, "product=usdAsset&version=*"),
        before,
        "all or nothing"
    );
    let err = index
        .apply_changes("other_project", &[])
        .expect_err("not prepared");
    assert!(err.to_string().contains("not prepared"), "{err}");
}

#[test]
fn another_connection_sees_changes_and_drops_its_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = prepared(dir.path());
    let reader = open(dir.path());
    let v3 = "79adbae4e6c311f1931b02fc00000001";
    assert_eq!(versions(&reader, "product=usdAsset&version=latest"), [v3]);
    assert_eq!(reader.memory_len(), 1);
    writer
        .apply_changes("demo_offline", &[Change::Version(version("a9", 9, "x"))])
        .expect("upsert");
    assert_eq!(versions(&reader, "product=usdAsset&version=latest"), ["a9"]);
}

#[test]
fn projects_match_case_insensitively_and_unknown_ones_are_not_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = open(dir.path());
    let uri = |s: &str| AyonUri::parse(s).expect("uri");
    let err = index
        .resolve(&uri("ayon://demo_offline/assets"))
        .expect_err("nothing prepared, no project list");
    assert!(matches!(err, IndexError::NotPrepared { .. }), "{err}");
    assert!(err.to_string().contains("demo_offline"), "{err}");

    let lib = Library::demo_offline();
    index
        .replace_project(&snapshot(&lib.projects[0], None))
        .expect("prepare");
    let answer = index
        .resolve(&uri("ayon://DEMO_Offline/assets"))
        .expect("answers");
    assert_eq!(answer.entities.len(), 1);
    assert_eq!(
        answer.entities[0].project_name, "DEMO_Offline",
        "echoes the URI's casing"
    );
    // Without the server's list the index cannot tell "not on the server" from "not prepared".
    assert!(index.resolve(&uri("ayon://elsewhere/a")).is_err());
    index
        .record_server_projects(&server_projects(&lib))
        .expect("project list");
    let answer = index.resolve(&uri("ayon://elsewhere/a")).expect("answers");
    assert_eq!(answer.error.as_deref(), Some("Project elsewhere not found"));
    // The version-name error comes after the project lookup, as on the server.
    let answer = index
        .resolve_str("ayon://elsewhere/a?product=x&version=banana")
        .expect("answers");
    assert_eq!(answer.error.as_deref(), Some("Project elsewhere not found"));
    let answer = index
        .resolve_str("ayon://demo_offline/a?product=x&version=banana")
        .expect("answers");
    assert_eq!(
        answer.error.as_deref(),
        Some("Invalid version name: banana")
    );
    assert!(index.remove_project("Demo_Offline").expect("removes"));
    assert!(index.prepared("demo_offline").expect("reads").is_none());
}

#[test]
fn levels_left_out_search_more_widely() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = prepared(dir.path());
    let resolve = |s: &str| index.resolve_str(s).expect("answers");
    // No folder path: every folder's usdAsset v001 (hero and the hundred props).
    let all = resolve("ayon://demo_offline?product=usdAsset&version=v001");
    assert_eq!(all.entities.len(), 101, "{all:?}");
    // A blank product key is no product condition: every product of the folder.
    let blank = resolve(&format!("{HERO}?product=&version=1"));
    assert_eq!(
        blank.entities.len(),
        2,
        "usdAsset v001 and modelMain v001: {blank:?}"
    );
    // A task URI without a folder: every folder's `modeling` task.
    let tasks = resolve("ayon://demo_offline?task=modeling");
    assert!(!tasks.entities.is_empty());
    // A workfile without a task looks for a task literally named "None": nothing.
    assert!(
        resolve(&format!("{HERO}?workfile=x.ma"))
            .entities
            .is_empty()
    );
    // The project alone: nothing, no error.
    assert_eq!(
        *resolve("ayon://demo_offline"),
        ayon_index::Answer::default()
    );
}

#[test]
fn a_moved_folder_moves_its_subtree_and_a_deleted_one_takes_it_along() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = prepared(dir.path());
    let lib = Library::demo_offline();
    let characters = lib.projects[0]
        .folder_by_path("assets/characters")
        .expect("characters");
    let moved = ayon_index::FolderRecord {
        id: characters.id.clone(),
        path: "assets/people".to_owned(),
        folder_type: characters.folder_type.clone(),
        active: true,
        updated_at: String::new(),
    };
    index
        .apply_changes("demo_offline", &[Change::Folder(moved)])
        .expect("moved");
    let resolve = |s: &str| index.resolve_str(s).expect("answers");
    assert!(
        resolve(&format!("{HERO}?product=usdAsset"))
            .entities
            .is_empty()
    );
    let hero = resolve("ayon://demo_offline/assets/people/hero?product=usdAsset");
    assert_eq!(hero.entities.len(), 1, "{hero:?}");
    index
        .apply_changes(
            "demo_offline",
            &[Change::Delete(EntityKind::Folder, characters.id.clone())],
        )
        .expect("deleted");
    assert!(
        resolve("ayon://demo_offline/assets/people/hero?product=usdAsset")
            .entities
            .is_empty()
    );
    assert!(
        resolve("ayon://demo_offline?product=modelMain")
            .entities
            .is_empty()
    );
    let counts = index
        .prepared("demo_offline")
        .expect("reads")
        .expect("prepared")
        .counts;
    assert_eq!(counts[0], lib.projects[0].folders.len() as u64 - 2);
    assert_eq!(counts[1], lib.projects[0].tasks().count() as u64 - 1);
}

#[test]
fn readers_on_other_threads_never_keep_a_stale_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = prepared(dir.path());
    let uri = AyonUri::parse(&format!("{HERO}?product=usdAsset&version=latest")).expect("uri");
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let answer = index.resolve(&uri).expect("answers");
                    assert_eq!(answer.entities.len(), 1);
                }
            });
        }
        for n in 10..40 {
            index
                .apply_changes(
                    "demo_offline",
                    &[Change::Version(version(&format!("v{n}"), n, "x"))],
                )
                .expect("publish");
            // Once a write returned, no thread may answer from before it.
            assert_eq!(
                versions(&index, "product=usdAsset&version=latest"),
                [format!("v{n}")]
            );
            assert_eq!(
                index.resolve(&uri).expect("answers").entities[0]
                    .version_id
                    .as_deref(),
                Some(format!("v{n}").as_str())
            );
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

#[test]
fn prepared_projects_say_when_and_how_much() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = prepared(dir.path());
    let list = index.projects().expect("lists");
    assert_eq!(list.len(), 1);
    let p = &list[0];
    assert_eq!(p.name, "demo_offline");
    assert_eq!(p.prepared_at, p.changed_at);
    let demo = &Library::demo_offline().projects[0];
    assert_eq!(p.counts[0], demo.folders.len() as u64);
    assert_eq!(p.counts[4], demo.representations().count() as u64);
    std::thread::sleep(Duration::from_millis(5));
    index
        .apply_changes("demo_offline", &[Change::Version(version("a4", 4, "x"))])
        .expect("upsert");
    let p = index
        .prepared("DEMO_OFFLINE")
        .expect("reads")
        .expect("prepared");
    assert!(p.changed_at > p.prepared_at, "{p:?}");
}

#[test]
fn a_subtree_snapshot_answers_only_inside_its_subtrees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = open(dir.path());
    let lib = Library::demo_offline();
    let mut s = snapshot(&lib.projects[0], None);
    s.subtrees = vec!["assets/characters".to_owned()];
    index.replace_project(&s).expect("prepare");
    let inside = index
        .resolve_str(&format!("{HERO}?product=usdAsset&version=hero"))
        .expect("inside");
    assert_eq!(inside.entities.len(), 1);
    for outside in [
        "ayon://demo_offline/shots/sq010/sh010?product=usdShot",
        "ayon://demo_offline/assets/characters2/x?product=usdShot",
        "ayon://demo_offline?product=usdAsset",
    ] {
        let err = index.resolve_str(outside).expect_err(outside);
        assert!(
            matches!(err, IndexError::OutsidePreparedScope { .. }),
            "{outside}: {err}"
        );
        assert!(err.to_string().contains("assets/characters"), "{err}");
    }
}

#[test]
fn a_prepare_mark_lives_until_the_next_snapshot_and_project_changes_reach_paths() {
    let dir = tempfile::tempdir().unwrap();
    let index = prepared(dir.path());
    assert_eq!(index.prepare_mark("demo_offline").unwrap(), None);
    assert!(index.set_prepare_mark("Demo_Offline", "mark 1").unwrap());
    assert!(!index.set_prepare_mark("never_prepared", "x").unwrap());
    assert_eq!(
        index.prepare_mark("demo_offline").unwrap().as_deref(),
        Some("mark 1")
    );
    // Incremental changes keep it (the prepare that made them sets the next one).
    index
        .apply_changes("demo_offline", &[Change::Statuses(Vec::new())])
        .unwrap();
    assert_eq!(
        index.prepare_mark("demo_offline").unwrap().as_deref(),
        Some("mark 1")
    );
    // The ids an incremental prepare compares with, in the index's order.
    let folders = index
        .entity_ids("demo_offline", EntityKind::Folder)
        .unwrap();
    assert!(
        folders
            .iter()
            .any(|(_, path)| path == "assets/characters/hero")
    );
    let products = index
        .entity_ids("demo_offline", EntityKind::Product)
        .unwrap();
    assert!(
        products
            .iter()
            .all(|(_, folder)| folders.iter().any(|(id, _)| id == folder))
    );
    assert!(
        index
            .entity_ids("nope", EntityKind::Version)
            .unwrap()
            .is_empty()
    );

    // A changed anatomy root reaches the paths the index renders.
    let lib = Library::demo_offline();
    let mut record = snapshot(&lib.projects[0], None).project;
    let uri = format!("{HERO}?product=usdAsset&version=v001&representation=usd");
    let before = index.resolve_str(&uri).unwrap().entities[0]
        .file_path
        .clone();
    for root in record.roots.values_mut() {
        root.linux = "/elsewhere".to_owned();
        root.windows = "X:/elsewhere".to_owned();
        root.darwin = "/Volumes/elsewhere".to_owned();
    }
    index
        .apply_changes("demo_offline", &[Change::Project(record)])
        .unwrap();
    let linux = Index::builder()
        .cache_dir(dir.path())
        .platform(Some(ayon_site::Platform::Linux))
        .open()
        .unwrap();
    let after = linux.resolve_str(&uri).unwrap().entities[0]
        .file_path
        .clone();
    assert!(
        after.unwrap_or_default().starts_with("/elsewhere/"),
        "{before:?}"
    );

    // A full snapshot drops the mark: it described the data that snapshot replaced.
    index
        .replace_project(&snapshot(&lib.projects[0], None))
        .unwrap();
    assert_eq!(index.prepare_mark("demo_offline").unwrap(), None);
    index.set_prepare_mark("demo_offline", "mark 2").unwrap();
    assert!(index.remove_project("demo_offline").unwrap());
    assert_eq!(index.prepare_mark("demo_offline").unwrap(), None);
}

#[test]
fn an_exact_version_older_than_a_limited_prepare_kept_is_not_kept_rather_than_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let index = open(dir.path());
    let lib = Library::demo_offline();
    // Keep heroes and each product's newest exact version only, as a prepare with newest 1.
    let mut s = snapshot(&lib.projects[0], None);
    let mut newest: std::collections::HashMap<String, i32> = Default::default();
    for v in &s.versions {
        let n = newest.entry(v.product_id.clone()).or_insert(v.version);
        *n = (*n).max(v.version);
    }
    s.versions
        .retain(|v| v.version < 0 || newest.get(&v.product_id) == Some(&v.version));
    let kept: std::collections::HashSet<String> = s.versions.iter().map(|v| v.id.clone()).collect();
    s.representations.retain(|r| kept.contains(&r.version_id));
    s.newest_versions = Some(1);
    index.replace_project(&s).expect("prepare");

    let ask = |query: &str| index.resolve_str(&format!("{HERO}?{query}"));
    match ask("product=usdAsset&version=v001&representation=usd") {
        Err(IndexError::NotKept {
            project,
            version,
            newest,
        }) => assert_eq!((project.as_str(), version, newest), ("demo_offline", 1, 1)),
        other => panic!("expected NotKept, got {other:?}"),
    }
    // Every product of the folder: one of them lacks v001, so the answer would be partial.
    assert!(matches!(
        ask("version=v001&representation=usd"),
        Err(IndexError::NotKept { .. })
    ));
    let err = ask("product=usdAsset&version=v002")
        .unwrap_err()
        .to_string();
    assert!(err.contains("only the newest 1 versions"), "{err}");
    // What was kept answers; a version newer than any is not found, as on the server.
    for query in [
        "product=usdAsset&version=v003&representation=usd",
        "product=usdAsset&version=latest&representation=usd",
        "product=usdAsset&version=hero&representation=usd",
    ] {
        assert_eq!(ask(query).expect("answers").entities.len(), 1, "{query}");
    }
    assert!(
        ask("product=usdAsset&version=v009&representation=usd")
            .expect("answers")
            .entities
            .is_empty()
    );
    // A full snapshot of every version lifts the limit.
    index
        .replace_project(&snapshot(&lib.projects[0], None))
        .expect("prepare all");
    assert_eq!(
        ask("product=usdAsset&version=v001&representation=usd")
            .expect("answers")
            .entities
            .len(),
        1
    );
}
