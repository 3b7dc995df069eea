//! Loading pinning files: the format AYON's add-on writes, roots, lookups and every error.

use std::fs;
use std::path::{Path, PathBuf};

use ayon_pinning::{ENTRY_SCENE_KEY, PinningError, PinningFile, Roots};

fn write_raw(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

fn roots(s: &str) -> Roots {
    Roots::parse(s).unwrap()
}

/// The reconstructed ayon-usd example (ayon-protocol.md §8.1), as `json.dump(indent=2)` writes it.
const AYON_EXAMPLE: &str = r#"{
  "ayon_resolver_pinning_data": {
    "ayon+entity://demo/assets/char/hero?product=usdMain&version=latest&representation=usd": "{root[work]}/demo/assets/char/hero/publish/usd/usdMain/v012/dm_hero_usdMain_v012.usd",
    "{root[work]}/demo/assets/char/hero/publish/usd/usdMain/v012/dm_hero_usdMain_v012.usd": "{root[work]}/demo/assets/char/hero/publish/usd/usdMain/v012/dm_hero_usdMain_v012.usd",
    "{root[work]}/demo/assets/char/hero/publish/texture/diff/v003/diff.1001.exr": "{root[pub]}/demo/diff.1001.exr",
    "ayon_pinning_data_entry_scene": "{root[work]}/demo/shots/sh010/work/lighting/__render__.usd"
  }
}"#;

#[test]
fn reads_the_ayon_add_on_format_with_each_root_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_raw(dir.path(), "pin.json", AYON_EXAMPLE);
    let pins = PinningFile::load(&p, &roots("work=/mnt/work, pub = /mnt/pub")).unwrap();
    assert_eq!(pins.len(), 3);
    assert_eq!(
        pins.lookup(
            "ayon+entity://demo/assets/char/hero?product=usdMain&version=latest&representation=usd"
        ),
        Some("/mnt/work/demo/assets/char/hero/publish/usd/usdMain/v012/dm_hero_usdMain_v012.usd")
    );
    // Key and value both expanded; the second token gets `pub`, not the first token's root.
    assert_eq!(
        pins.lookup("/mnt/work/demo/assets/char/hero/publish/texture/diff/v003/diff.1001.exr"),
        Some("/mnt/pub/demo/diff.1001.exr")
    );
    assert_eq!(
        pins.entry_scene(),
        Some("/mnt/work/demo/shots/sh010/work/lighting/__render__.usd")
    );
    assert_eq!(pins.lookup(ENTRY_SCENE_KEY), None);
    assert!(pins.iter().all(|(k, _)| k != ENTRY_SCENE_KEY));
    assert_eq!(pins.source(), p.as_path());
}

#[test]
fn several_tokens_in_one_string_each_take_their_root() {
    let text = r#"{"ayon_resolver_pinning_data": {"k": "{root[a]}|{root[b]}|{root[a]}"}}"#;
    let pins = PinningFile::from_reader(text.as_bytes(), "mem", &roots("a=A,b=B")).unwrap();
    assert_eq!(pins.lookup("k"), Some("A|B|A"));
}

#[test]
fn unknown_root_names_the_root_and_the_entry() {
    let r = roots("work=/w");
    let in_key = r#"{"ayon_resolver_pinning_data": {
  "{root[nas]}/a.usd": "/x"}}"#;
    match PinningFile::from_reader(in_key.as_bytes(), "pin.json", &r) {
        Err(PinningError::UnknownRoot {
            root, entry, line, ..
        }) => {
            assert_eq!(
                (root.as_str(), entry.as_str(), line),
                ("nas", "{root[nas]}/a.usd", 2)
            );
        }
        other => panic!("{other:?}"),
    }
    let in_value = r#"{"ayon_resolver_pinning_data": {"{root[work]}/a.usd": "{root[pub]}/a.usd"}}"#;
    let err = PinningFile::from_reader(in_value.as_bytes(), "pin.json", &r).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("pin.json") && msg.contains("`pub`") && msg.contains("`{root[work]}/a.usd`"),
        "{msg}"
    );
    let in_scene =
        r#"{"ayon_resolver_pinning_data": {"ayon_pinning_data_entry_scene": "{root[x]}/s.usd"}}"#;
    assert!(matches!(
        PinningFile::from_reader(in_scene.as_bytes(), "pin.json", &r),
        Err(PinningError::UnknownRoot { root, entry, .. }) if root == "x" && entry == ENTRY_SCENE_KEY
    ));
    // No roots at all: any token is unknown.
    assert!(matches!(
        PinningFile::from_reader(in_value.as_bytes(), "pin.json", &Roots::new()),
        Err(PinningError::UnknownRoot { root, .. }) if root == "work"
    ));
}

#[test]
fn missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope.json");
    let err = PinningFile::load(&p, &Roots::new()).unwrap_err();
    assert!(matches!(err, PinningError::NotFound { ref file } if *file == p));
    assert!(err.to_string().contains("nope.json"), "{err}");
}

#[test]
fn unreadable_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    // A directory opens on Unix but fails on read.
    let err = PinningFile::load(dir.path(), &Roots::new()).unwrap_err();
    assert!(
        matches!(err, PinningError::Unreadable { ref file, .. } if file == dir.path()),
        "{err:?}"
    );
    assert!(err.to_string().contains(&dir.path().display().to_string()));
}

#[test]
fn invalid_json_has_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_raw(
        dir.path(),
        "bad.json",
        "{\n  \"ayon_resolver_pinning_data\": {\n    \"a\": \"b\",\n  }\n}\n",
    );
    match PinningFile::load(&p, &Roots::new()).unwrap_err() {
        PinningError::InvalidJson {
            file,
            line,
            column,
            message,
        } => {
            assert_eq!(file, p);
            assert_eq!((line, column), (4, 3));
            assert!(message.contains("trailing comma"), "{message}");
            assert!(!message.contains("at line"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    for text in [
        "",
        "{",
        "{\"ayon_resolver_pinning_data\": {}} trailing",
        "\u{feff}{}",
    ] {
        let err = PinningFile::from_reader(text.as_bytes(), "t.json", &Roots::new()).unwrap_err();
        assert!(
            matches!(err, PinningError::InvalidJson { line: 1, .. }),
            "{text:?}: {err:?}"
        );
    }
}

#[test]
fn missing_or_misshapen_data_is_reported() {
    let r = Roots::new();
    let load = |t: &str| PinningFile::from_reader(t.as_bytes(), "t.json", &r);
    assert!(matches!(
        load(r#"{"other": {"a": "b"}}"#),
        Err(PinningError::MissingData { file }) if file == Path::new("t.json")
    ));
    assert!(matches!(
        load("[1, 2]"),
        Err(PinningError::NotAnObject {
            what: "the top level",
            found: "an array",
            ..
        })
    ));
    assert!(matches!(
        load("\"x\""),
        Err(PinningError::NotAnObject {
            what: "the top level",
            found: "a string",
            ..
        })
    ));
    assert!(matches!(
        load(r#"{"ayon_resolver_pinning_data": ["a"]}"#),
        Err(PinningError::NotAnObject {
            what: "ayon_resolver_pinning_data",
            found: "an array",
            ..
        })
    ));
    assert!(matches!(
        load(r#"{"ayon_resolver_pinning_data": null}"#),
        Err(PinningError::NotAnObject { found: "null", .. })
    ));
}

#[test]
fn non_string_values_name_the_entry_and_position() {
    let r = Roots::new();
    for (value, found) in [
        ("1", "a number"),
        ("-1", "a number"),
        ("1.5", "a number"),
        ("true", "a boolean"),
        ("null", "null"),
        ("[\"a\"]", "an array"),
        ("{\"a\": \"b\"}", "an object"),
    ] {
        let text =
            format!("{{\"ayon_resolver_pinning_data\": {{\n\"ok\": \"/p\",\n\"bad\": {value}}}}}");
        match PinningFile::from_reader(text.as_bytes(), "t.json", &r) {
            Err(PinningError::NotAString {
                entry,
                found: f,
                line,
                ..
            }) => {
                assert_eq!((entry.as_str(), f, line), ("bad", found, 3), "{value}");
            }
            other => panic!("{value}: {other:?}"),
        }
    }
    let text = r#"{"ayon_resolver_pinning_data": {"ayon_pinning_data_entry_scene": 3}}"#;
    assert!(matches!(
        PinningFile::from_reader(text.as_bytes(), "t.json", &r),
        Err(PinningError::NotAString { entry, .. }) if entry == ENTRY_SCENE_KEY
    ));
}

#[test]
fn other_top_level_keys_are_ignored_and_repeated_keys_keep_the_last() {
    let text = r#"{"meta": {"x": [1, {"y": null}]},
        "ayon_resolver_pinning_data": {"a": "1", "a": "2", "b": "3"},
        "more": 5}"#;
    let pins = PinningFile::from_reader(text.as_bytes(), "t.json", &Roots::new()).unwrap();
    assert_eq!(pins.len(), 2);
    assert_eq!(pins.lookup("a"), Some("2"));
    assert_eq!(pins.entry_scene(), None);
}

#[test]
fn json_escapes_are_decoded() {
    let text = r#"{"ayon_resolver_pinning_data": {"C:\\proj\\\u00e9.usd": "\"q\"\n"}}"#;
    let pins = PinningFile::from_reader(text.as_bytes(), "t.json", &Roots::new()).unwrap();
    assert_eq!(pins.lookup("C:\\proj\\é.usd"), Some("\"q\"\n"));
}

#[test]
fn uris_are_found_by_any_spelling_of_the_same_meaning() {
    let canonical =
        "ayon+entity://demo/assets/hero?product=usdMain&version=v004&representation=usd";
    let sloppy = "ayon://demo//assets/hero/?product=usdMain&version=4&representation=usd";
    let text = format!(
        r#"{{"ayon_resolver_pinning_data": {{"{canonical}": "/a.usd", "ayon://demo/b?product=x&version=2&representation=abc": "/b.usd"}}}}"#
    );
    let pins = PinningFile::from_reader(text.as_bytes(), "t.json", &Roots::new()).unwrap();
    assert_eq!(pins.lookup(canonical), Some("/a.usd"));
    assert_eq!(pins.lookup(sloppy), Some("/a.usd"));
    assert_eq!(
        pins.lookup("AYON://demo/assets/hero?product=usdMain&version=4&representation=usd"),
        Some("/a.usd")
    );
    assert_eq!(
        pins.lookup(&format!("{sloppy}:SDF_FORMAT_ARGS:a=b")),
        Some("/a.usd")
    );
    // A non-canonical key in the file is found by its canonical form and by other spellings.
    assert_eq!(
        pins.lookup("ayon+entity://demo/b?product=x&version=v002&representation=abc"),
        Some("/b.usd")
    );
    assert_eq!(
        pins.lookup("ayon://demo//b?product=x&version=002&representation=abc"),
        Some("/b.usd")
    );
    // Different meaning, no match; invalid URIs are simply not found.
    assert_eq!(
        pins.lookup("ayon://demo/assets/hero?product=usdMain&version=5&representation=usd"),
        None
    );
    assert_eq!(pins.lookup("ayon://demo/a?version=banana"), None);
}

#[test]
fn file_paths_tolerate_slashes_and_windows_case() {
    let text = r#"{"ayon_resolver_pinning_data": {
        "C:\\Proj\\Hero.usd": "1",
        "d:/proj/tex.exr": "2",
        "\\\\NAS\\Share\\x.usd": "3",
        "/mnt/Proj/A.usd": "4",
        "/mnt/proj\\b.usd": "5"}}"#;
    let pins = PinningFile::from_reader(text.as_bytes(), "t.json", &Roots::new()).unwrap();
    assert_eq!(pins.lookup("c:/Proj/Hero.usd"), Some("1"));
    assert_eq!(pins.lookup("c:/proj/hero.usd"), Some("1"));
    assert_eq!(pins.lookup("C:\\Proj\\Hero.usd"), Some("1"));
    assert_eq!(pins.lookup("D:\\proj\\tex.exr"), Some("2"));
    assert_eq!(pins.lookup("//nas/share/x.usd"), Some("3"));
    assert_eq!(pins.lookup("\\\\nas\\share\\X.USD"), Some("3"));
    assert_eq!(pins.lookup("\\mnt\\Proj\\A.usd"), Some("4"));
    assert_eq!(pins.lookup("/mnt/proj/b.usd"), Some("5"));
    // POSIX paths stay case-sensitive.
    assert_eq!(pins.lookup("/mnt/proj/a.usd"), None);
    assert_eq!(pins.lookup("c:/proj/other.usd"), None);
}

#[test]
fn exact_key_wins_over_a_folded_one() {
    let text = r#"{"ayon_resolver_pinning_data": {"C:\\a.usd": "folded", "c:/a.usd": "exact"}}"#;
    let pins = PinningFile::from_reader(text.as_bytes(), "t.json", &Roots::new()).unwrap();
    assert_eq!(pins.lookup("C:\\a.usd"), Some("folded"));
    assert_eq!(pins.lookup("c:/a.usd"), Some("exact"));
    assert_eq!(pins.lookup("C:/A.usd"), Some("exact"));
}

#[test]
fn roots_from_env_values_including_legacy_drive_letters() {
    let text = r#"{"ayon_resolver_pinning_data": {"{root[work]}/a.usd": "{root[work]}/a_v1.usd"}}"#;
    let r = ayon_pinning::roots_from_env_values(None, Some("work:P:/projects")).unwrap();
    let pins = PinningFile::from_reader(text.as_bytes(), "t.json", &r).unwrap();
    assert_eq!(
        pins.lookup("P:/projects/a.usd"),
        Some("P:/projects/a_v1.usd")
    );
    assert_eq!(
        pins.lookup("p:\\projects\\a.usd"),
        Some("P:/projects/a_v1.usd")
    );
    let r = ayon_pinning::roots_from_env_values(
        Some("work = //nas-01.studio/proj "),
        Some("work:P:/x"),
    )
    .unwrap();
    let pins = PinningFile::from_reader(text.as_bytes(), "t.json", &r).unwrap();
    assert_eq!(
        pins.lookup("//nas-01.studio/proj/a.usd"),
        Some("//nas-01.studio/proj/a_v1.usd")
    );
}

#[test]
fn a_large_file_loads_completely() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.json");
    let mut text = String::from("{\"ayon_resolver_pinning_data\": {\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            "\"ayon+entity://demo/assets/a{i}?product=usdMain&version=v001&representation=usd\": \"{{root[work]}}/demo/a{i}/v001/a{i}.usd\",\n"
        ));
    }
    text.push_str("\"ayon_pinning_data_entry_scene\": \"{root[work]}/s.usd\"}}");
    fs::write(&p, text).unwrap();
    let pins = PinningFile::load(&p, &roots("work=/mnt/w")).unwrap();
    assert_eq!(pins.len(), 20_000);
    assert_eq!(
        pins.lookup("ayon://demo/assets/a19999?product=usdMain&version=1&representation=usd"),
        Some("/mnt/w/demo/a19999/v001/a19999.usd")
    );
    assert_eq!(pins.entry_scene(), Some("/mnt/w/s.usd"));
}
