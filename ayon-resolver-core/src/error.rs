//! Why an asset did not resolve.

use std::path::PathBuf;

/// Why a resolver call failed. Every variant names the asset path it is about.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The empty string was given.
    #[error("empty asset path")]
    Empty,
    /// A file path that does not exist (absolute), or was found neither next to the working
    /// directory nor on the search path (relative).
    #[error("`{path}` was not found on disk")]
    FileNotFound {
        /// The asset path as given.
        path: String,
    },
    /// Pinning mode is on and the pinning file has no entry for this identifier; no server is
    /// asked in pinning mode.
    #[error("`{path}` is not pinned in {}", .file.display())]
    NotPinned {
        /// The asset path as given.
        path: String,
        /// The pinning file consulted.
        file: PathBuf,
    },
    /// The resolver cannot reach AYON at all: its configuration is incomplete or wrong.
    #[error("cannot resolve `{path}`: {problem}")]
    Config {
        /// The asset path as given.
        path: String,
        /// What is missing or wrong, and how to fix it.
        problem: String,
    },
    /// The AYON client could not resolve the URI (offline and never seen, no such entity,
    /// an invalid URI, a server error…).
    #[error(transparent)]
    Client(#[from] ayon_client::ResolveError),
}

impl ResolveError {
    /// A stable machine-readable kind (`empty`, `file_not_found`, `not_pinned`, `config`, or
    /// the client's kind).
    pub fn kind(&self) -> &'static str {
        match self {
            ResolveError::Empty => "empty",
            ResolveError::FileNotFound { .. } => "file_not_found",
            ResolveError::NotPinned { .. } => "not_pinned",
            ResolveError::Config { .. } => "config",
            ResolveError::Client(e) => e.kind(),
        }
    }
}
