//! Shared by the index tests: the testkit's demo library written through the write API.
#![allow(dead_code)]

use std::path::Path;

use ayon_index::Index;
use ayon_site::Platform;
use ayon_testkit::Library;
use proptest::prelude::*;
// Not every test binary uses every helper.
#[allow(unused_imports)]
pub use ayon_testkit::index_snapshot::{index_snapshot as snapshot, load_library, server_projects};

/// How a recorded request asked: which site (and so platform), roots or not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SiteConfig {
    pub site_id: Option<String>,
    pub platform: Option<Platform>,
    pub resolve_roots: bool,
}

/// An index in `dir` holding every project of the demo library, for one site configuration.
pub fn demo_index(dir: &Path, config: &SiteConfig) -> Index {
    let lib = Library::demo_offline();
    let index = Index::builder()
        .cache_dir(dir)
        .platform(config.platform)
        .substitute_roots(config.resolve_roots && config.platform.is_some())
        .open()
        .expect("index opens");
    let site = match (&config.site_id, &config.platform) {
        (Some(id), Some(p)) => Some((id.as_str(), *p)),
        _ => None,
    };
    load_library(&index, &lib, site).expect("library written");
    index
}

/// The platform a site id was registered with in the demo library.
pub fn platform_of(site: &str) -> Option<Platform> {
    Library::demo_offline()
        .site(site)
        .and_then(|s| Platform::parse(&s.platform))
}

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(items).prop_map(str::to_owned)
}

/// URIs over the demo library's names, with malformed ones and junk among them.
pub fn uri() -> impl Strategy<Value = String> {
    let scheme = pick(&["ayon://", "ayon+entity://", "AYON://", "http://", ""]);
    let project = pick(&["demo_offline", "DEMO_OFFLINE", "nope", "", "a b"]);
    let segment = pick(&[
        "assets",
        "characters",
        "hero",
        "Hero",
        "shots",
        "sq010",
        "sh010",
        "props",
        "prop001",
        "*",
        "..",
        "",
    ]);
    let path = proptest::collection::vec(segment, 0..5).prop_map(|s| s.join("/"));
    let key = pick(&[
        "product",
        "version",
        "representation",
        "task",
        "workfile",
        "foo",
    ]);
    let value = pick(&[
        "usdAsset",
        "modelMain",
        "usdShot",
        "*",
        "",
        "latest",
        "LatestDone",
        "hero",
        "v001",
        "3",
        "V002",
        "banana",
        "usd",
        "abc",
        "modeling",
        "x.ma",
        "None",
        "a%41",
        "x+y",
    ]);
    let query = proptest::collection::vec((key, value), 0..5).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    });
    let junk = "\\PC{0,30}";
    // URIs that mostly name things the demo library has.
    let plausible = (
        pick(&["assets/characters/hero", "shots/sq010/sh010", "assets/props/prop042", "assets", ""]),
        pick(&["usdAsset", "modelMain", "usdShot", "*", "", "nope"]),
        pick(&["latest", "latestdone", "hero", "v001", "2", "v003", "*", ""]),
        pick(&["usd", "abc", "*", "", "ma"]),
    )
        .prop_map(|(path, product, version, representation)| {
            format!(
                "ayon://demo_offline/{path}?product={product}&version={version}&representation={representation}"
            )
        });
    prop_oneof![
        3 => plausible,
        4 => (scheme, project, path, query).prop_map(|(s, p, path, q)| {
            let q = if q.is_empty() { String::new() } else { format!("?{q}") };
            format!("{s}{p}/{path}{q}")
        }),
        1 => junk.prop_map(|s: String| s),
    ]
}
