//! What can go wrong loading or writing a pinning file; every variant names the file.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use ayon_site::RootsError;

/// A pinning file could not be loaded or written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PinningError {
    /// The file does not exist.
    #[error("pinning file {} does not exist", .file.display())]
    NotFound {
        /// The file.
        file: PathBuf,
    },
    /// The file exists but could not be read (permissions, a directory, an I/O error).
    #[error("pinning file {} could not be read: {source}", .file.display())]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not valid JSON.
    #[error("pinning file {} is not valid JSON at line {line}, column {column}: {message}", .file.display())]
    InvalidJson {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// The JSON is not an object with an `ayon_resolver_pinning_data` object inside.
    #[error("pinning file {} has no `{}` object at the top level", .file.display(), crate::DATA_KEY)]
    MissingData {
        /// The file.
        file: PathBuf,
    },
    /// The top level, or the value of `ayon_resolver_pinning_data`, is not a JSON object.
    #[error("pinning file {}: {what} is {found}, not an object (line {line}, column {column})", .file.display())]
    NotAnObject {
        /// The file.
        file: PathBuf,
        /// Which value (`the top level` or `ayon_resolver_pinning_data`).
        what: &'static str,
        /// The JSON type found.
        found: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// An entry's value is not a string.
    #[error("pinning file {}: entry `{entry}` has {found} where a path string was expected (line {line}, column {column})", .file.display())]
    NotAString {
        /// The file.
        file: PathBuf,
        /// The entry's key as written.
        entry: String,
        /// The JSON type found.
        found: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// An entry uses `{root[NAME]}` with a root that is not known.
    #[error("pinning file {}: entry `{entry}` uses unknown root `{root}` (line {line})", .file.display())]
    UnknownRoot {
        /// The file.
        file: PathBuf,
        /// The root name inside the token.
        root: String,
        /// The entry's key as written.
        entry: String,
        /// 1-based line.
        line: usize,
    },
    /// The roots from the environment could not be parsed.
    #[error("pinning roots: {0}")]
    Roots(#[from] RootsError),
    /// An entry to write uses the key reserved for the entry scene.
    #[error("pinning file {}: `{}` is reserved for the entry scene and cannot be an identifier", .file.display(), crate::ENTRY_SCENE_KEY)]
    ReservedKey {
        /// The file being written.
        file: PathBuf,
    },
    /// Writing the file (or its temporary sibling) failed; the target is left as it was.
    #[error("pinning file {} could not be written: {source}", .file.display())]
    Write {
        /// The file being written.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}
