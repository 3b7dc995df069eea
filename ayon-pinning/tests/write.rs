//! Writing pinning files: AYON's shape, rootless keys and values, atomic replacement.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use ayon_pinning::{DATA_KEY, ENTRY_SCENE_KEY, PinningError, PinningFile, Roots};
use serde_json::Value;

fn roots(s: &str) -> Roots {
    Roots::parse(s).unwrap()
}

/// The file as AYON's resolver sees it: a top-level object whose only key holds string pairs.
fn ayon_view(p: &Path) -> (Vec<(String, String)>, String) {
    let text = fs::read_to_string(p).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let top = v.as_object().unwrap();
    assert_eq!(top.keys().collect::<Vec<_>>(), [DATA_KEY]);
    let data = top[DATA_KEY].as_object().unwrap();
    let pairs = data
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_owned()))
        .collect();
    (pairs, text)
}

fn data_map(p: &Path) -> HashMap<String, String> {
    ayon_view(p).0.into_iter().collect()
}

#[test]
fn writes_ayon_shape_rootless_with_the_entry_scene_last() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("job_pin.json");
    let r = roots("work=/mnt/work,pub=/mnt/work/publish");
    let uri = "ayon+entity://demo/hero?product=usdMain&version=v012&representation=usd";
    PinningFile::write(
        &p,
        [
            (uri, "/mnt/work/publish/hero/v012/hero.usd"),
            ("/mnt/work/demo/tex.exr", "/mnt/work/demo/tex.exr"),
            ("/elsewhere/x.usd", "/elsewhere/x.usd"),
        ],
        Some("/mnt/work/demo/sh010/__render__.usd"),
        &r,
    )
    .unwrap();
    let (pairs, text) = ayon_view(&p);
    let m: HashMap<_, _> = pairs.iter().cloned().collect();
    assert_eq!(m[uri], "{root[pub]}/hero/v012/hero.usd");
    assert_eq!(m["{root[work]}/demo/tex.exr"], "{root[work]}/demo/tex.exr");
    assert_eq!(m["/elsewhere/x.usd"], "/elsewhere/x.usd");
    assert_eq!(m[ENTRY_SCENE_KEY], "{root[work]}/demo/sh010/__render__.usd");
    let scene_at = text.find(ENTRY_SCENE_KEY).unwrap();
    assert!(text.find("/elsewhere/x.usd").unwrap() < scene_at, "{text}");
    // json.dump(indent=2) style, which is what the add-on writes.
    assert!(
        text.starts_with("{\n  \"ayon_resolver_pinning_data\": {\n    \""),
        "{text}"
    );

    let pins = PinningFile::load(&p, &r).unwrap();
    assert_eq!(pins.len(), 3);
    assert_eq!(
        pins.lookup(uri),
        Some("/mnt/work/publish/hero/v012/hero.usd")
    );
    assert_eq!(
        pins.entry_scene(),
        Some("/mnt/work/demo/sh010/__render__.usd")
    );
}

#[test]
fn roots_match_only_at_segment_boundaries_longest_first() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pin.json");
    let r = roots("a=/mnt/proj,b=/mnt/proj/sub,c=/mnt");
    PinningFile::write(
        &p,
        [
            ("/mnt/proj/sub/x", "1"),
            ("/mnt/proj/subway/x", "2"),
            ("/mnt/projects/x", "3"),
            ("/mntx/y", "4"),
            ("rel/mnt/proj/z", "5"),
        ],
        None,
        &r,
    )
    .unwrap();
    let m = data_map(&p);
    let mut keys: Vec<_> = m.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "/mntx/y",
            "rel/mnt/proj/z",
            "{root[a]}/subway/x",
            "{root[b]}/x",
            "{root[c]}/projects/x"
        ]
    );
}

#[test]
fn windows_unc_and_awkward_roots() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pin.json");
    // Roots containing `-`, `.` and `\`: AYON's generator (re.escape as dict key) leaves them.
    let r =
        roots("work=P:\\Projects-2024\\v1.0, unc=\\\\nas-01.studio\\share, posix=/mnt/a-b.c/d\\e");
    let entries = [
        (
            "p:/projects-2024/V1.0/demo/a.usd",
            "P:\\PROJECTS-2024\\v1.0\\demo\\a.usd",
        ),
        (
            "//NAS-01.studio/share/b.usd",
            "\\\\nas-01.studio\\share\\b.usd",
        ),
        ("/mnt/a-b.c/d\\e/c.usd", "/mnt/a-b.c/d\\e/c.usd"),
        ("/mnt/a-b.C/d\\e/c.usd", "/mnt/a-b.C/d\\e/c.usd"),
        (
            "P:\\Projects-2024\\v1.0x\\d.usd",
            "P:\\Projects-2024\\v1.0x\\d.usd",
        ),
    ];
    PinningFile::write(&p, entries, Some("P:\\Projects-2024\\v1.0\\sh.usd"), &r).unwrap();
    let m = data_map(&p);
    assert_eq!(m["{root[work]}/demo/a.usd"], "{root[work]}\\demo\\a.usd");
    assert_eq!(m["{root[unc]}/b.usd"], "{root[unc]}\\b.usd");
    assert_eq!(m["{root[posix]}/c.usd"], "{root[posix]}/c.usd");
    // POSIX roots are case-sensitive; segment boundary respected on Windows too.
    assert_eq!(m["/mnt/a-b.C/d\\e/c.usd"], "/mnt/a-b.C/d\\e/c.usd");
    assert_eq!(
        m["P:\\Projects-2024\\v1.0x\\d.usd"],
        "P:\\Projects-2024\\v1.0x\\d.usd"
    );
    assert_eq!(m[ENTRY_SCENE_KEY], "{root[work]}\\sh.usd");

    // Reading back: same files, and every original spelling still finds its entry.
    let pins = PinningFile::load(&p, &r).unwrap();
    for (k, v) in entries {
        let got = pins.lookup(k).unwrap_or_else(|| panic!("{k} not found"));
        assert!(
            got.replace('\\', "/")
                .eq_ignore_ascii_case(&v.replace('\\', "/")),
            "{k}: {got} vs {v}"
        );
    }
    assert_eq!(
        pins.lookup("P:\\Projects-2024\\v1.0/demo/a.usd"),
        Some("P:\\Projects-2024\\v1.0\\demo\\a.usd")
    );
}

#[test]
fn server_templates_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pin.json");
    PinningFile::write(
        &p,
        [("ayon://p/a", "{root[work]}/p/a.usd")],
        None,
        &roots("work=/w"),
    )
    .unwrap();
    assert_eq!(data_map(&p)["ayon://p/a"], "{root[work]}/p/a.usd");
    let pins = PinningFile::load(&p, &roots("work=/farm")).unwrap();
    assert_eq!(pins.lookup("ayon://p/a"), Some("/farm/p/a.usd"));
}

#[test]
fn repeated_keys_keep_the_last_value_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pin.json");
    PinningFile::write(
        &p,
        [("a", "1"), ("b", "2"), ("a", "3")],
        None,
        &Roots::new(),
    )
    .unwrap();
    let (pairs, text) = ayon_view(&p);
    assert_eq!(
        pairs,
        [
            ("a".to_owned(), "3".to_owned()),
            ("b".to_owned(), "2".to_owned())
        ]
    );
    // At the first key's place.
    assert!(
        text.find("\"a\"").unwrap() < text.find("\"b\"").unwrap(),
        "{text}"
    );
}

#[test]
fn replaces_atomically_keeps_mode_and_leaves_no_temp_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pin.json");
    PinningFile::write(&p, [("a", "1")], None, &Roots::new()).unwrap();
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o644
    );
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
    let reader = PinningFile::load(&p, &Roots::new()).unwrap();
    PinningFile::write(&p, [("a", "2")], None, &Roots::new()).unwrap();
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // A reader loaded before keeps its snapshot; a new load sees the new file.
    assert_eq!(reader.lookup("a"), Some("1"));
    assert_eq!(
        PinningFile::load(&p, &Roots::new()).unwrap().lookup("a"),
        Some("2")
    );
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["pin.json"]);
}

#[test]
fn refused_writes_leave_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pin.json");
    PinningFile::write(&p, [("a", "1")], None, &Roots::new()).unwrap();
    let before = fs::read(&p).unwrap();
    let err = PinningFile::write(&p, [(ENTRY_SCENE_KEY, "x")], None, &Roots::new()).unwrap_err();
    assert!(matches!(err, PinningError::ReservedKey { .. }), "{err:?}");
    assert_eq!(fs::read(&p).unwrap(), before);

    let missing = dir.path().join("no/such/dir/pin.json");
    let err = PinningFile::write(&missing, [("a", "1")], None, &Roots::new()).unwrap_err();
    assert!(
        matches!(err, PinningError::Write { ref file, .. } if *file == missing),
        "{err:?}"
    );
    assert!(err.to_string().contains("no/such/dir/pin.json"));
}
