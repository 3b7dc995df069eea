//! Telling the kinds of asset path apart, once per call, the way USD's Ar 2.0 resolvers do.

/// The `:SDF_FORMAT_ARGS:` marker USD appends to layer identifiers that carry file-format
/// arguments; we resolve what comes before it and keep the suffix on the answer.
pub const SDF_FORMAT_ARGS: &str = ":SDF_FORMAT_ARGS:";

/// What kind of asset path a host handed the resolver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetKind {
    /// The empty string: resolves to nothing.
    Empty,
    /// `ayon://…` or `ayon+entity://…` (any case): answered by mapping, pinning, cache, server.
    AyonUri,
    /// An absolute file path (`/…`, `\…`, `C:\…`, `C:/…`, `\\server\…`).
    Absolute,
    /// `./…` or `../…`: relative to the layer that names it (its anchor).
    FileRelative,
    /// Any other relative path: looked up against the working directory, then the search path.
    SearchPath,
}

impl AssetKind {
    /// Classifies `path` (without its SDF suffix). Never allocates.
    pub fn of(path: &str) -> AssetKind {
        if path.is_empty() {
            AssetKind::Empty
        } else if ayon_uri::is_ayon_uri(path) {
            AssetKind::AyonUri
        } else if is_absolute(path) {
            AssetKind::Absolute
        } else if is_file_relative(path) {
            AssetKind::FileRelative
        } else {
            AssetKind::SearchPath
        }
    }

    /// True for the kinds whose answer depends on the bound context or the search path
    /// (`ArResolver::_IsContextDependentPath`): AYON URIs and search paths.
    pub fn is_context_dependent(self) -> bool {
        matches!(self, AssetKind::AyonUri | AssetKind::SearchPath)
    }
}

/// Splits a `:SDF_FORMAT_ARGS:` suffix off `path`: `(path, suffix)` with the suffix (marker
/// included) or `""`.
pub fn split_sdf_args(path: &str) -> (&str, &str) {
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(SDF_FORMAT_ARGS));
    match FINDER.find(path.as_bytes()) {
        // The marker is ASCII, so `i` is a char boundary.
        Some(i) => path.split_at(i),
        None => (path, ""),
    }
}

/// Absolute on any platform a studio mixes: POSIX root, a Windows drive (`C:\`, `C:/`), a UNC
/// share or a rooted Windows path. Paths travel between sites, so this does not depend on the
/// platform we run on.
pub(crate) fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    match b {
        [b'/' | b'\\', ..] => true,
        [d, b':', b'/' | b'\\', ..] => d.is_ascii_alphabetic(),
        _ => false,
    }
}

/// `./x`, `../x` (either separator), `.` and `..`.
pub(crate) fn is_file_relative(path: &str) -> bool {
    let rest = path
        .strip_prefix("..")
        .or_else(|| path.strip_prefix('.'))
        .unwrap_or(path);
    rest.len() != path.len() && (rest.is_empty() || rest.starts_with(['/', '\\']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(AssetKind::of(""), AssetKind::Empty);
        assert_eq!(AssetKind::of("ayon://p/a?product=x"), AssetKind::AyonUri);
        assert_eq!(AssetKind::of("AYON+ENTITY://p/a"), AssetKind::AyonUri);
        for abs in [
            "/mnt/a.usd",
            "\\\\nas\\p\\a.usd",
            "C:/p/a.usd",
            "c:\\p\\a.usd",
            "\\p",
        ] {
            assert_eq!(AssetKind::of(abs), AssetKind::Absolute, "{abs}");
        }
        for rel in ["./a.usd", "../a.usd", ".\\a.usd", "..\\x", ".", ".."] {
            assert_eq!(AssetKind::of(rel), AssetKind::FileRelative, "{rel}");
        }
        for search in [
            "a.usd",
            "models/a.usd",
            ".hidden/a.usd",
            "...",
            "C:a.usd",
            "ayon:/x",
        ] {
            assert_eq!(AssetKind::of(search), AssetKind::SearchPath, "{search}");
        }
        assert!(AssetKind::of("x.usd").is_context_dependent());
        assert!(!AssetKind::of("/x.usd").is_context_dependent());
    }

    #[test]
    fn sdf_suffix() {
        assert_eq!(
            split_sdf_args("/a.usd:SDF_FORMAT_ARGS:target=x"),
            ("/a.usd", ":SDF_FORMAT_ARGS:target=x")
        );
        assert_eq!(split_sdf_args("/a.usd"), ("/a.usd", ""));
    }
}
