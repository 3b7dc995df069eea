//! The resolver hosts embed: USD asset-resolver plugins, DCC add-ons, farm tools.
//!
//! It mirrors what AYON's USD resolver does for a host (contexts with mapping pairs, a shared
//! cache, pinning files for farms), without its flaws: no network I/O at construction,
//! `latest` that expires, answers from cache, index or pinning at once when the server is
//! gone, per-context pinning files instead of one global table, and no panic across the API.
//!
//! ```no_run
//! use ayon_resolver_core::Resolver;
//!
//! let resolver = Resolver::from_env(); // never fails, never waits on the network
//! match resolver.resolve("ayon://demo/assets/hero?product=usdMain&version=latest&representation=usd") {
//!     Ok(r) => println!("{} (from {})", r.path, r.source.as_str()),
//!     Err(e) => eprintln!("{e} [{}]", e.kind()),
//! }
//! ```

mod answers;
mod asset_path;
mod context;
mod env;
mod error;
mod fs;
mod mapping;
mod pinned;
mod resolver;
mod source;
mod stats;
mod subscription;

pub use asset_path::{AssetKind, SDF_FORMAT_ARGS, split_sdf_args};
pub use ayon_client::{
    CancelToken, ErrorKind, PrepareMode, PrepareOptions, PrepareProgress, PrepareReport,
    PrepareScope,
};
pub use ayon_connectivity::{ConnectionState, OfflineReason};
pub use ayon_index::PreparedProject;
pub use context::ResolverContext;
pub use env::{
    API_KEY_ENV, EnvConfig, LEGACY_PINNING_ENABLE_ENV, LEGACY_PINNING_FILE_ENV, LOG_ENV,
    PINNING_ENABLE_ENV, PINNING_FILE_ENV, PROJECT_ENV, PinningSwitch, SERVER_URL_ENV, SITE_ID_ENV,
    launcher_site_id,
};
pub use error::ResolveError;
pub use fs::{
    SEARCH_PATH_ENV, SearchPath, anchor_relative, create_identifier, norm_path,
    resolve as resolve_file,
};
pub use mapping::{MAPPING_PAIRS_KEY, MappingError, MappingPairs};
pub use pinned::{DEFAULT_RECHECK, PinnedFile};
pub use resolver::{
    DEFAULT_ANSWER_CAPACITY, DEFAULT_MOVING_TTL, PinningPolicy, PrepareOfflineError, Resolver,
    ResolverBuilder,
};
pub use source::{Resolved, Source};
pub use stats::ResolverStats;
pub use subscription::StateSubscription;

#[cfg(test)]
mod send_sync {
    #[test]
    fn handles_are_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::Resolver>();
        check::<super::ResolverContext>();
        check::<super::ResolveError>();
        check::<super::StateSubscription>();
    }
}
