//! Why an asset did not resolve.

use std::path::PathBuf;

use ayon_client::ErrorKind;

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
    /// The stable kind a host branches on (the same vocabulary as the client's, the CLI's,
    /// the Python exceptions' and the C result codes').
    pub fn kind(&self) -> ErrorKind {
        match self {
            ResolveError::Empty | ResolveError::FileNotFound { .. } => ErrorKind::NotFound,
            ResolveError::NotPinned { .. } => ErrorKind::NotPinned,
            ResolveError::Config { .. } => ErrorKind::Config,
            ResolveError::Client(e) => e.kind(),
        }
    }
}
