//! Random URIs over the demo library never panic, always get an answer (every project is
//! either prepared or absent from the server's list), and the memory layer answers exactly what
//! the SQL does.

mod common;

use std::sync::OnceLock;

use ayon_index::Index;
use ayon_uri::AyonUri;
use common::{SiteConfig, demo_index, uri};
use proptest::prelude::*;

fn index() -> &'static Index {
    static INDEX: OnceLock<(tempfile::TempDir, Index)> = OnceLock::new();
    &INDEX
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let config = SiteConfig {
                site_id: Some("offline-test-linux".to_owned()),
                platform: Some(ayon_site::Platform::Linux),
                resolve_roots: true,
            };
            let index = demo_index(dir.path(), &config);
            (dir, index)
        })
        .1
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
