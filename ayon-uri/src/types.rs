//! The small value types a parsed URI is made of.

use std::fmt;

/// Which of the two equivalent URI schemes was written; kept so callers can echo the input style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `ayon://`, the short alias ayon-core emits.
    Ayon,
    /// `ayon+entity://`, the form the server itself generates and `canonical()` uses.
    AyonEntity,
}

impl Scheme {
    /// The scheme as the server names it (lower case, without `://`), for output and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Ayon => "ayon",
            Scheme::AyonEntity => "ayon+entity",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `version=` selector, already interpreted the way the server's SQL interprets it.
///
/// The distinction matters for caching: only [`VersionSelector::Exact`] names something that
/// never changes once published; the others move as artists publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionSelector {
    /// `latest` (any case): the highest version number of the product.
    Latest,
    /// `latestdone` (any case): the highest version whose status is in a "done" state.
    LatestDone,
    /// `hero` (any case): the hero version (stored by AYON as a negative number).
    Hero,
    /// `v004`, `V4`, `4`, `0004`...: one exact version number.
    ///
    /// Numbers too large for `u32` saturate to `u32::MAX`; AYON stores versions as a 32-bit
    /// signed integer, so both spellings match nothing and keep the same meaning.
    Exact(u32),
    /// `*`: every version, written explicitly (unlike an absent key it makes `version` the target).
    Any,
}

impl VersionSelector {
    /// True for the selectors whose answer changes when something new is published.
    pub fn is_moving(self) -> bool {
        !matches!(self, VersionSelector::Exact(_))
    }
}

impl fmt::Display for VersionSelector {
    /// Writes the canonical spelling: `latest`, `latestdone`, `hero`, `*`, or `v` + at least 3 digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSelector::Latest => f.write_str("latest"),
            VersionSelector::LatestDone => f.write_str("latestdone"),
            VersionSelector::Hero => f.write_str("hero"),
            VersionSelector::Any => f.write_str("*"),
            VersionSelector::Exact(n) => write!(f, "v{n:03}"),
        }
    }
}

/// The kind of entity a URI resolves to, derived exactly as the server's `resolve_entities` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Only a folder path was given.
    Folder,
    /// `product=` was the deepest key.
    Product,
    /// `version=` was the deepest key.
    Version,
    /// `representation=` was given: the only target with a file path.
    Representation,
    /// `task=` without `workfile=`.
    Task,
    /// `workfile=` (with or without `task=`).
    Workfile,
}

impl Target {
    /// The server's name for the target (`ProjectLevelEntityType`), as found in `target` fields.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Folder => "folder",
            Target::Product => "product",
            Target::Version => "version",
            Target::Representation => "representation",
            Target::Task => "task",
            Target::Workfile => "workfile",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
