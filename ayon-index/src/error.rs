//! The one error type of the crate.

use std::path::PathBuf;

/// What went wrong in an index operation, naming the file or project involved.
///
/// Per-URI problems the server would report (`Project x not found`, a bad version) are not
/// errors: they are in [`crate::Answer::error`], exactly as the server words them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// The URI's project has not been prepared on this machine, so the index cannot know what
    /// the server would answer.
    #[error("project {project} is not prepared for offline use in {path}")]
    NotPrepared {
        /// The project name as the URI wrote it.
        project: String,
        /// The index file.
        path: PathBuf,
    },
    /// The project was prepared for some folder subtrees only, and the URI asks outside them
    /// (or names no folder, which searches the whole project).
    #[error("{folder} is outside the prepared subtrees of project {project} ({subtrees})")]
    OutsidePreparedScope {
        /// The project name as the URI wrote it.
        project: String,
        /// The URI's folder path (`(no folder)` when it names none).
        folder: String,
        /// The prepared subtrees, comma-separated.
        subtrees: String,
    },
    /// The project was prepared with only the newest versions of each product, and the URI
    /// asks for an older exact version, which was therefore not fetched.
    #[error(
        "version {version} of project {project} is not prepared (only the newest {newest} versions of each product were kept)"
    )]
    NotKept {
        /// The project name as the URI wrote it.
        project: String,
        /// The exact version asked for.
        version: i32,
        /// How many exact versions per product were kept.
        newest: u32,
    },
    /// An SQLite call failed.
    #[error("SQLite error on {path} while {action}: {source}")]
    Sqlite {
        /// The index file.
        path: PathBuf,
        /// What the index was doing.
        action: String,
        /// The error from SQLite.
        #[source]
        source: rusqlite::Error,
    },
    /// The index directory or file cannot be created or written.
    #[error("index directory {path} is not writable: {reason}")]
    Unwritable {
        /// The directory or file.
        path: PathBuf,
        /// What the operating system or SQLite said.
        reason: String,
    },
    /// The index file cannot be used even after moving an invalid one aside.
    #[error("index {path} cannot be opened: {reason}")]
    Unusable {
        /// The index file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A snapshot or change given to the write API is inconsistent (a parent id that is not
    /// in the project, an unknown project).
    #[error("invalid index input for project {project}: {reason}")]
    InvalidInput {
        /// The project being written.
        project: String,
        /// What is wrong, naming the entity.
        reason: String,
    },
    /// The server would refuse this whole batch (`resolveRoots=true` with a site): one URI
    /// cannot be parsed, or one names a project the server does not have.
    #[error("the server would refuse the whole batch with HTTP {status}: {detail}")]
    BatchRefused {
        /// The HTTP status the server answers (500).
        status: u16,
        /// The server's `detail` string.
        detail: String,
    },
    /// No cache directory is configured and the platform has none.
    #[error(transparent)]
    Cache(#[from] ayon_cache::CacheError),
}

impl IndexError {
    pub(crate) fn sqlite(
        path: &std::path::Path,
        action: impl Into<String>,
        source: rusqlite::Error,
    ) -> Self {
        IndexError::Sqlite {
            path: path.to_path_buf(),
            action: action.into(),
            source,
        }
    }
}
