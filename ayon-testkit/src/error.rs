//! The one error type of the test kit.

use std::path::PathBuf;

/// What went wrong starting, driving or feeding the test server.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// A library file or text could not be used.
    #[error("project library: {0}")]
    Library(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The server could not bind or start its runtime.
    #[error("test server failed to start: {0}")]
    Start(String),
    /// A recorded fixture is missing or unreadable.
    #[error("fixture {name}: {reason}")]
    Fixture {
        /// Fixture file name.
        name: String,
        /// Why it could not be loaded.
        reason: String,
    },
    /// `publish_version` and friends were pointed at something that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
}
