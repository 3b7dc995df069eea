//! Shared by the index tests: the testkit's demo library written through the write API.
#![allow(dead_code)]

use std::path::Path;

use ayon_index::Index;
use ayon_testkit::Library;
// Not every test binary uses every helper.
#[allow(unused_imports)]
pub use ayon_testkit::index_snapshot::{
    index_snapshot as snapshot, load_library, server_projects,
};

/// How a recorded request asked: which site (and so platform), roots or not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SiteConfig {
    pub site_id: Option<String>,
    pub platform: Option<String>,
    pub resolve_roots: bool,
}

/// An index in `dir` holding every project of the demo library, for one site configuration.
pub fn demo_index(dir: &Path, config: &SiteConfig) -> Index {
    let lib = Library::demo_offline();
    let index = Index::builder()
        .cache_dir(dir)
        .platform(config.platform.as_deref())
        .substitute_roots(config.resolve_roots && config.platform.is_some())
        .open()
        .expect("index opens");
    let site = match (&config.site_id, &config.platform) {
        (Some(id), Some(p)) => Some((id.as_str(), p.as_str())),
        _ => None,
    };
    load_library(&index, &lib, site).expect("library written");
    index
}

/// The platform a site id was registered with in the demo library.
pub fn platform_of(site: &str) -> Option<String> {
    Library::demo_offline()
        .site(site)
        .map(|s| s.platform.clone())
}
