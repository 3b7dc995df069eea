//! Where an answer came from, so hosts and logs can tell a live answer from a fallback.

use std::time::SystemTime;

/// The tier that produced a [`Resolved`] path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// The AYON server answered just now.
    Server,
    /// The persistent or memory cache; `stale` when past its freshness (offline, or the
    /// server failing).
    Cache {
        /// Past its freshness window.
        stale: bool,
    },
    /// A prepared project's local index answered offline.
    LocalIndex {
        /// When the index last took the project from the server (the last prepare, full or
        /// incremental, or entity-event update).
        prepared_at: SystemTime,
    },
    /// A pinning file.
    Pinning,
    /// A mapping pair of the context redirected the asset to a file path.
    Mapping,
    /// A file path found on disk (absolute, anchored, or on the search path).
    Filesystem,
}

impl Source {
    /// A stable lower-case name (`server`, `cache`, `local_index`, `pinning`, `mapping`,
    /// `filesystem`) for logs, JSON and the bindings.
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Server => "server",
            Source::Cache { .. } => "cache",
            Source::LocalIndex { .. } => "local_index",
            Source::Pinning => "pinning",
            Source::Mapping => "mapping",
            Source::Filesystem => "filesystem",
        }
    }

    /// True for a cache answer past its freshness.
    pub fn is_stale(&self) -> bool {
        matches!(self, Source::Cache { stale: true })
    }
}

impl From<ayon_client::Source> for Source {
    fn from(s: ayon_client::Source) -> Source {
        match s {
            ayon_client::Source::Server => Source::Server,
            ayon_client::Source::Cache { stale } => Source::Cache { stale },
            ayon_client::Source::Pinning => Source::Pinning,
            ayon_client::Source::LocalIndex { prepared_at } => Source::LocalIndex { prepared_at },
            // A source added to the client later: the closest honest label.
            _ => Source::Cache { stale: false },
        }
    }
}

/// A resolved asset: the path to open and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The file path, with any `:SDF_FORMAT_ARGS:` suffix of the request kept on it.
    pub path: String,
    /// Where the answer came from.
    pub source: Source,
}
