//! The resolver hosts embed: USD asset-resolver plugins, DCC add-ons, farm tools.
//!
//! It mirrors what AYON's USD resolver does for a host (contexts with mapping pairs, a
//! process-wide cache, pinning files for farms), without its flaws: no network I/O at load,
//! `latest` that expires, answers from cache, index or pinning when the server is gone, and
//! per-context pinning files instead of one global table.
//!
//! This first part holds the pieces that need no server: telling asset paths apart,
//! USD-style filesystem resolution, mapping pairs, the environment, and pinning files that
//! reload when they change.

mod asset_path;
mod env;
mod fs;
mod mapping;
mod pinned;

pub use asset_path::{AssetKind, SDF_FORMAT_ARGS, split_sdf_args};
pub use env::{
    API_KEY_ENV, CACHE_DIR_ENV, EnvConfig, LEGACY_PINNING_ENABLE_ENV, LEGACY_PINNING_FILE_ENV,
    LOG_ENV, PINNING_ENABLE_ENV, PINNING_FILE_ENV, PROJECT_ENV, PinningSwitch, SERVER_URL_ENV,
    SITE_ID_ENV, launcher_site_id,
};
pub use fs::{
    SEARCH_PATH_ENV, SearchPath, anchor_relative, create_identifier, norm_path,
    resolve as resolve_file,
};
pub use mapping::{MAPPING_PAIRS_KEY, MappingError, MappingPairs};
pub use pinned::{DEFAULT_RECHECK, PinnedFile};
