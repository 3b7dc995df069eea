//! Property tests: canonical forms re-parse to the same URI, and no input makes the parser panic.

use ayon_uri::{AyonUri, VersionSelector, is_ayon_uri};
use proptest::prelude::*;

const NAME: &str = "[a-zA-Z0-9_]([a-zA-Z0-9_.-]{0,10}[a-zA-Z0-9_])?";

/// What a generated URI means, to compare with what the parser found.
#[derive(Debug, Clone)]
struct Meaning {
    project: String,
    path: Vec<String>,
    product: Option<String>,
    version: Option<VersionSelector>,
    representation: Option<String>,
    task: Option<String>,
    workfile: Option<String>,
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![4 => NAME, 1 => Just("*".to_owned())]
}

fn version() -> impl Strategy<Value = VersionSelector> {
    prop_oneof![
        Just(VersionSelector::Latest),
        Just(VersionSelector::LatestDone),
        Just(VersionSelector::Hero),
        Just(VersionSelector::Any),
        any::<u32>().prop_map(VersionSelector::Exact),
        (0u32..20).prop_map(VersionSelector::Exact),
    ]
}

fn meaning() -> impl Strategy<Value = Meaning> {
    let products = (
        proptest::option::of(value()),
        proptest::option::of(version()),
        proptest::option::of(value()),
    )
        .prop_map(|(p, v, r)| (p, v, r, None, None));
    let tasks = (proptest::option::of(value()), proptest::option::of(NAME))
        .prop_map(|(t, w)| (None, None, None, t, w));
    (
        NAME,
        proptest::collection::vec(NAME, 0..4),
        prop_oneof![products, tasks],
    )
        .prop_map(
            |(project, path, (product, version, representation, task, workfile))| Meaning {
                project,
                path,
                product,
                version,
                representation,
                task,
                workfile,
            },
        )
}

/// Percent-encodes some bytes of a value (what a client library may do).
fn encode(v: &str, mask: u64) -> String {
    v.bytes()
        .enumerate()
        .map(|(i, b)| {
            if mask >> (i % 64) & 1 == 1 {
                format!("%{b:02x}")
            } else {
                (b as char).to_string()
            }
        })
        .collect()
}

fn version_spelling(v: VersionSelector, style: u8) -> String {
    match v {
        VersionSelector::Exact(n) => match style % 4 {
            0 => n.to_string(),
            1 => format!("v{n:03}"),
            2 => format!("V{n:06}"),
            _ => format!("v{n}"),
        },
        VersionSelector::Latest => {
            ["latest", "LATEST", "Latest", "lAtEsT"][style as usize % 4].to_owned()
        }
        VersionSelector::LatestDone => {
            ["latestdone", "latestDone", "LATESTDONE", "LatestDone"][style as usize % 4].to_owned()
        }
        VersionSelector::Hero => ["hero", "HERO", "Hero", "hErO"][style as usize % 4].to_owned(),
        VersionSelector::Any => "*".to_owned(),
    }
}

/// One of the many spellings of `m` the server accepts.
fn spelling() -> impl Strategy<Value = (Meaning, String)> {
    (
        meaning(),
        any::<(u8, u8, u8, u64, bool, bool)>(),
        any::<u8>(),
    )
        .prop_map(|(m, (scheme, slashes, style, mask, junk, sdf), order)| {
            let scheme = ["ayon", "ayon+entity", "AYON", "Ayon+Entity"][scheme as usize % 4];
            let mut s = format!("{scheme}://{}", m.project);
            let lead = "/".repeat(1 + slashes as usize % 2);
            if !m.path.is_empty() {
                s.push_str(&lead);
                s.push_str(&m.path.join("/"));
                if slashes & 4 != 0 {
                    s.push('/');
                }
            }
            let mut pairs: Vec<String> = Vec::new();
            let mut add = |k: &str, v: &Option<String>| {
                if let Some(v) = v {
                    pairs.push(format!("{k}={}", encode(v, mask)));
                }
            };
            add("product", &m.product);
            add("representation", &m.representation);
            add("task", &m.task);
            add("workfile", &m.workfile);
            if let Some(v) = m.version {
                pairs.push(format!("version={}", version_spelling(v, style)));
            }
            if junk {
                pairs.push("foo=bar".to_owned());
                pairs.push("product=".to_owned());
                pairs.insert(0, "PRODUCT=zzz".to_owned());
            }
            let n = pairs.len().max(1);
            pairs.rotate_left(order as usize % n);
            if !pairs.is_empty() {
                s.push('?');
                s.push_str(&pairs.join("&"));
            }
            if sdf {
                s.push_str(":SDF_FORMAT_ARGS:a=b");
            }
            (m, s)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn generated_valid_uris_parse_to_their_meaning_and_canonical_round_trips((m, s) in spelling()) {
        let u = AyonUri::parse(&s).map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
        prop_assert_eq!(u.project(), m.project.as_str());
        prop_assert_eq!(u.folder_path(), m.path.join("/"));
        prop_assert_eq!(u.product(), m.product.as_deref());
        prop_assert_eq!(u.version(), m.version);
        prop_assert_eq!(u.representation(), m.representation.as_deref());
        prop_assert_eq!(u.task(), m.task.as_deref());
        prop_assert_eq!(u.workfile(), m.workfile.as_deref());
        prop_assert!(is_ayon_uri(&s));

        let canonical = u.canonical();
        let again = AyonUri::parse(&canonical).map_err(|e| TestCaseError::fail(format!("{canonical}: {e}")))?;
        prop_assert_eq!(&again, &u);
        prop_assert_eq!(again.canonical(), canonical.clone(), "canonical is a fixed point");
        prop_assert_eq!(again.target(), u.target());
        prop_assert!(canonical.starts_with("ayon+entity://"));

        let shown = AyonUri::parse(&u.to_string()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(shown.sdf_format_args(), u.sdf_format_args());
        prop_assert_eq!(shown, u);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        check_total(&s);
    }

    #[test]
    fn uri_shaped_noise_never_panics(s in "[ \t\n\u{1}a-zA-Z0-9:/?#&=%+;.*\\[\\]@_é\u{2100}-]{0,60}") {
        check_total(&s);
        check_total(&format!("ayon://{s}"));
        check_total(&format!("ayon://p/a?{s}"));
    }

    #[test]
    fn mutated_valid_uris_never_panic((_, s) in spelling(), cuts in proptest::collection::vec((any::<usize>(), any::<char>(), 0usize..4), 1..5)) {
        let mut chars: Vec<char> = s.chars().collect();
        for (at, c, op) in cuts {
            let at = at % (chars.len() + 1);
            match op {
                0 => chars.insert(at, c),
                1 if at < chars.len() => { chars.remove(at); }
                2 if at < chars.len() => chars[at] = c,
                _ => chars.truncate(at),
            }
        }
        let s: String = chars.into_iter().collect();
        check_total(&s);
    }
}

/// Whatever the input, parse gives a URI whose canonical form re-parses equal, or an error
/// whose offset lies inside the input and whose message is non-empty.
fn check_total(s: &str) {
    let _ = is_ayon_uri(s);
    match AyonUri::parse(s) {
        Ok(u) => {
            let again = AyonUri::parse(&u.canonical()).expect("canonical re-parses");
            assert_eq!(again, u);
            let _ = (
                u.target(),
                u.is_immutable(),
                u.folder_segments().count(),
                u.to_string(),
            );
        }
        Err(e) => {
            assert!(e.offset() <= s.len(), "offset {} beyond {s:?}", e.offset());
            assert!(!e.server_message().is_empty());
            let _ = e.to_string();
        }
    }
}
