//! Properties: write then load gives back the map for any roots; no input makes anything panic.

use std::collections::HashMap;

use ayon_pinning::{PinningFile, Roots};
use proptest::prelude::*;

/// Root values of every shape that matters: POSIX, drive letters, UNC, `-`, `.`, `\`, trailing
/// separators, roots nested in each other.
fn root_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "/[a-z.-]{1,6}(/[A-Za-z0-9._-]{1,6}){0,2}",
        "[A-Za-z]:[/\\\\][A-Za-z0-9._-]{1,6}([/\\\\][A-Za-z0-9 ._-]{1,5}){0,2}",
        "(//|\\\\\\\\)[a-z0-9.-]{1,8}[/\\\\][A-Za-z0-9._-]{1,6}",
        "/[a-z]{1,3}/",
        Just("/mnt".to_owned()),
        Just("/mnt/proj".to_owned()),
        Just("P:\\Proj".to_owned()),
    ]
}

fn roots_strategy() -> impl Strategy<Value = Pairs> {
    prop::collection::vec(("[a-z][a-z0-9_.-]{0,6}", root_value()), 0..5)
}

/// A string to pin: a root spelled exactly as configured (`exact`) or, on Windows roots, with
/// other case and separators, then a tail; or arbitrary text without `{`.
fn pinned_string(roots: Vec<(String, String)>, exact: bool) -> impl Strategy<Value = String> {
    let n = roots.len();
    let tail = prop_oneof![
        "([/\\\\][A-Za-z0-9 ._-]{1,6}){0,3}",
        "[A-Za-z0-9 ._/\\\\:-]{0,12}",
    ];
    let from_root = (0..n.max(1), tail, any::<u64>()).prop_map(move |(i, tail, seed)| {
        let Some((_, value)) = roots.get(i) else {
            return tail;
        };
        let prefix = if exact {
            value.clone()
        } else {
            respell(value, seed)
        };
        format!("{prefix}{tail}")
    });
    prop_oneof![3 => from_root, 1 => "[^{]{0,20}"]
}

/// Another spelling of the same Windows path (case, separators); POSIX values stay as they are.
fn respell(value: &str, seed: u64) -> String {
    let windows = value.len() >= 2
        && ((value.as_bytes()[1] == b':') || value.starts_with("//") || value.starts_with("\\\\"));
    if !windows {
        return value.to_owned();
    }
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let bit = (seed >> (i % 64)) & 1 == 1;
            match c {
                '/' | '\\' if bit => {
                    if c == '/' {
                        '\\'
                    } else {
                        '/'
                    }
                }
                c if bit => {
                    if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                }
                c => c,
            }
        })
        .collect()
}

fn case_and_slash_fold(s: &str) -> String {
    s.replace('\\', "/").to_ascii_lowercase()
}

fn build_roots(pairs: &[(String, String)]) -> Roots {
    Roots::from_pairs(pairs.iter().cloned()).unwrap()
}

/// Entries with unique keys (an index segment keeps distinct keys distinct after folding).
/// `(name, value)` roots or `(identifier, path)` entries.
type Pairs = Vec<(String, String)>;

fn entries_strategy(exact: bool) -> impl Strategy<Value = (Pairs, Pairs)> {
    roots_strategy()
        .prop_flat_map(move |roots| {
            let entry = (
                pinned_string(roots.clone(), exact),
                pinned_string(roots.clone(), exact),
            );
            (Just(roots), prop::collection::vec(entry, 0..12))
        })
        .prop_map(|(roots, entries)| {
            let entries = entries
                .into_iter()
                .enumerate()
                .map(|(i, (k, v))| (format!("{k}#{i}"), v))
                .collect();
            (roots, entries)
        })
}

/// Text mixing `{root[..]}` tokens (known and unknown roots) with characters JSON escapes.
const TOKENISH: &str = "(\\{root\\[[wxq]\\]\\}|[a-z/é\"{}\\[\\]\\\\]){0,6}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Entries whose roots are spelled as configured come back exactly, as the same map.
    #[test]
    fn round_trip_is_exact(
        (roots, entries) in entries_strategy(true),
        scene in proptest::option::of("[^{]{0,20}"),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pin.json");
        let r = build_roots(&roots);
        PinningFile::write(&p, entries.iter().map(|(k, v)| (k, v)), scene.as_deref(), &r).unwrap();
        let pins = PinningFile::load(&p, &r).unwrap();
        let got: HashMap<&str, &str> = pins.iter().collect();
        let want: HashMap<&str, &str> = entries.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(pins.entry_scene(), scene.as_deref());
    }

    /// With other spellings of Windows roots, every key is still found, by its original
    /// spelling, with a value naming the same file.
    #[test]
    fn round_trip_with_respelled_windows_roots(
        (roots, entries) in entries_strategy(false),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pin.json");
        let r = build_roots(&roots);
        PinningFile::write(&p, entries.iter().map(|(k, v)| (k, v)), None, &r).unwrap();
        let pins = PinningFile::load(&p, &r).unwrap();
        prop_assert!(pins.len() <= entries.len());
        for (k, v) in &entries {
            let got = pins.lookup(k);
            prop_assert!(got.is_some(), "{} not found", k);
            let got = got.unwrap();
            if got != v {
                prop_assert_eq!(case_and_slash_fold(got), case_and_slash_fold(v));
            }
        }
    }

    /// Arbitrary bytes never panic the loader, and the streaming and in-memory loaders agree.
    #[test]
    fn loader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let streamed = PinningFile::from_reader(&bytes[..], "fuzz.json", &Roots::new());
        let sliced = PinningFile::from_slice(&bytes, "fuzz.json", &Roots::new());
        prop_assert_eq!(streamed.is_ok(), sliced.is_ok());
    }

    /// Streaming and in-memory loading give the same entries and the same errors.
    #[test]
    fn streaming_and_slice_loaders_agree(
        pairs in prop::collection::vec((TOKENISH, TOKENISH), 0..8),
        roots in "(w=/w|x=X:/x|,){0,3}",
        cut in any::<prop::sample::Index>(),
    ) {
        let r = Roots::parse(&roots).unwrap();
        let mut data = serde_json::Map::new();
        for (k, v) in &pairs {
            data.insert(k.clone(), serde_json::Value::String(v.clone()));
        }
        let text = serde_json::json!({ "ayon_resolver_pinning_data": data }).to_string();
        // Also a truncated copy, to compare error positions.
        let cut = cut.index(text.len() + 1);
        for bytes in [text.as_bytes(), &text.as_bytes()[..cut]] {
            let a = PinningFile::from_reader(bytes, "t.json", &r);
            let b = PinningFile::from_slice(bytes, "t.json", &r);
            match (a, b) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(a.iter().collect::<Vec<_>>(), b.iter().collect::<Vec<_>>());
                    prop_assert_eq!(a.entry_scene(), b.entry_scene());
                }
                // serde_json's reader may report a column one past its slice parser.
                (Err(a), Err(b)) => prop_assert_eq!(
                    std::mem::discriminant(&a),
                    std::mem::discriminant(&b),
                    "{} vs {}",
                    a,
                    b
                ),
                (a, b) => prop_assert!(false, "{:?} vs {:?}", a.map(|p| p.len()), b.map(|p| p.len())),
            }
        }
    }

    /// Well-formed files with arbitrary strings and arbitrary roots strings never panic the
    /// loader, the roots parser or lookups.
    #[test]
    fn loader_and_lookup_never_panic_on_strings(
        roots in "\\PC{0,40}",
        pairs in prop::collection::vec(("\\PC{0,30}", "\\PC{0,30}"), 0..6),
        probes in prop::collection::vec("\\PC{0,40}", 0..6),
        scalar in prop_oneof![Just("1"), Just("null"), Just("[]"), Just("{}"), Just("\"s\"")],
    ) {
        let r = Roots::parse(&roots).unwrap_or_default();
        let _ = ayon_pinning::roots_from_env_values(Some(&roots), Some(&roots));
        let mut data = serde_json::Map::new();
        for (k, v) in &pairs {
            data.insert(k.clone(), serde_json::Value::String(v.clone()));
        }
        let good = serde_json::json!({ "ayon_resolver_pinning_data": data }).to_string();
        if let Ok(pins) = PinningFile::from_reader(good.as_bytes(), "t.json", &r) {
            for probe in probes.iter().chain(pairs.iter().map(|(k, _)| k)) {
                let _ = pins.lookup(probe);
            }
        }
        let odd = format!("{{\"ayon_resolver_pinning_data\": {{\"k\": {scalar}}}}}");
        let _ = PinningFile::from_reader(odd.as_bytes(), "t.json", &r);
    }
}
