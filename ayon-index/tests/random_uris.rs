//! Random URIs over the demo library never panic, always get an answer (every project is
//! either prepared or absent from the server's list), and the memory layer answers exactly what
//! the SQL does.

mod common;

use std::sync::OnceLock;

use ayon_index::Index;
use ayon_uri::AyonUri;
use common::{SiteConfig, demo_index};
use proptest::prelude::*;

fn index() -> &'static Index {
    static INDEX: OnceLock<(tempfile::TempDir, Index)> = OnceLock::new();
    &INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let config = SiteConfig {
                site_id: Some("offline-test-linux".to_owned()),
                platform: Some("linux".to_owned()),
                resolve_roots: true,
            };
            let index = demo_index(dir.path(), &config);
            (dir, index)
        })
        .1
}

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(items).prop_map(str::to_owned)
}

fn uri() -> impl Strategy<Value = String> {
    let scheme = pick(&["ayon://", "ayon+entity://", "AYON://", "http://", ""]);
    let project = pick(&["demo_offline", "DEMO_OFFLINE", "nope", "", "a b"]);
    let segment = pick(&[
        "assets", "characters", "hero", "Hero", "shots", "sq010", "sh010", "props", "prop001",
        "*", "..", "",
    ]);
    let path = proptest::collection::vec(segment, 0..5).prop_map(|s| s.join("/"));
    let key = pick(&["product", "version", "representation", "task", "workfile", "foo"]);
    let value = pick(&[
        "usdAsset", "modelMain", "usdShot", "*", "", "latest", "LatestDone", "hero", "v001",
        "3", "V002", "banana", "usd", "abc", "modeling", "x.ma", "None", "a%41", "x+y",
    ]);
    let query = proptest::collection::vec((key, value), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    });
    let junk = "\\PC{0,30}";
    prop_oneof![
        4 => (scheme, project, path, query).prop_map(|(s, p, path, q)| {
            let q = if q.is_empty() { String::new() } else { format!("?{q}") };
            format!("{s}{p}/{path}{q}")
        }),
        1 => junk.prop_map(|s: String| s),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_uris_get_an_answer_and_memory_equals_sql(input in uri()) {
        let index = index();
        let answer = index.resolve_str(&input);
        prop_assert!(answer.is_ok(), "{input}: {answer:?}");
        let answer = answer.unwrap_or_default();
        prop_assert!(answer.entities.len() <= 1000);
        prop_assert!(answer.error.is_none() || answer.entities.is_empty());
        for e in &answer.entities {
            if let Some(p) = &e.file_path {
                prop_assert!(p.starts_with("/mnt/projects/"), "{input}: {p}");
            }
        }
        if let Ok(uri) = AyonUri::parse(&input) {
            let from_sql = index.resolve_from_sql(&uri);
            prop_assert!(from_sql.is_ok());
            let twice = index.resolve(&uri);
            prop_assert!(twice.is_ok());
            if let (Ok(sql), Ok(mem)) = (from_sql, twice) {
                prop_assert_eq!(&sql, &*mem);
                prop_assert_eq!(&sql, &*answer);
            }
        }
    }
}
