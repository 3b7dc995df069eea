//! A local index of prepared AYON projects that answers any URI offline exactly as the
//! server's `POST /api/resolve` would.
//!
//! - A relational mirror in SQLite (`index.sqlite` in the cache directory; WAL, busy timeout,
//!   mode 0600, an invalid file moved aside): projects (name, code, anatomy roots, statuses),
//!   folders, tasks, products, versions, representations (template and context), workfiles,
//!   this site's roots, and when each project was prepared.
//! - A write API for a `prepare`: [`Index::replace_project`] swaps a whole snapshot in one
//!   transaction (a prepare killed half-way leaves the previous one answering);
//!   [`Index::apply_changes`] applies upserts and deletes from events or an incremental
//!   prepare, which keeps its mark with [`Index::set_prepare_mark`] and compares with
//!   [`Index::entity_ids`].
//! - A snapshot of only the newest N versions answers an older exact version
//!   [`IndexError::NotKept`], never "not found".
//! - [`Index::resolve`] follows the server's resolve code (ayon-backend 1.16.0
//!   `api/resolve/__init__.py`): the same joins per target, exact case-sensitive names, no
//!   `active` filter, levels left out are wildcards, `latest` / `latestdone` / `hero` / `*`,
//!   the 1000-row cap, case-insensitive project names, the same per-URI error strings.
//! - A memory layer in front of the SQL: a repeated URI is a hash lookup.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ayon_index::Index;
//! let index = Index::builder()
//!     .cache_dir("/tmp/ayon-cache")
//!     .platform(Some(ayon_site::Platform::Linux))
//!     .open()?;
//! let uri = ayon_uri::AyonUri::parse(
//!     "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=hero&representation=usd",
//! )?;
//! let answer = index.resolve(&uri)?;
//! println!("{:?}", answer.entities.first().and_then(|e| e.file_path.as_deref()));
//! # Ok(()) }
//! ```

mod answer;
mod error;
mod index;
mod memory;
mod model;
mod render;
mod store;

pub use answer::{Answer, AnswerEntity, Target, UriAnswer};
pub use error::IndexError;
pub use index::{DEFAULT_MEMORY_BYTES, DEFAULT_RECHECK, Index, IndexBuilder, PreparedProject};
pub use model::{
    AnatomyRoot, Change, EntityKind, FolderRecord, ProductRecord, ProjectRecord, ProjectSnapshot,
    RepresentationRecord, ServerProject, SiteRootsRecord, StatusRecord, TaskRecord, VersionRecord,
    WorkfileRecord,
};
pub use store::schema::INDEX_FILE_NAME;

#[cfg(test)]
mod send_sync {
    #[test]
    fn index_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<super::Index>();
        assert_send_sync::<super::IndexError>();
    }
}
