//! File paths resolved the way USD's default resolver (`ArDefaultResolver`) does, so a host
//! that swaps its resolver for ours sees the same answers for everything that is not AYON's.

use std::path::{Path, PathBuf};

use crate::asset_path::{AssetKind, is_absolute};

/// The variable USD's default resolver reads its search path from.
pub const SEARCH_PATH_ENV: &str = "PXR_AR_DEFAULT_SEARCH_PATH";

/// Directories tried, in order, for search-path style assets (`models/a.usd`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPath {
    dirs: Vec<PathBuf>,
}

impl SearchPath {
    /// These directories, in order.
    pub fn new(dirs: impl IntoIterator<Item = impl Into<PathBuf>>) -> SearchPath {
        SearchPath {
            dirs: dirs.into_iter().map(Into::into).collect(),
        }
    }

    /// Parses a search-path string as USD does: `:` separates directories on POSIX, `;` on
    /// Windows; empty items are skipped.
    pub fn parse(value: &str) -> SearchPath {
        let sep = if cfg!(windows) { ';' } else { ':' };
        SearchPath::new(value.split(sep).filter(|d| !d.trim().is_empty()))
    }

    /// The directories, in order.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }
}

/// USD's `TfNormPath`, lexically: `\` becomes `/`, repeated separators and `.` segments go,
/// `..` eats the segment before it (never above the root), a Windows drive letter is
/// lower-cased. Symlinks are not followed. The empty path stays empty.
pub fn norm_path(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let forward = path.replace('\\', "/");
    let (prefix, rest) = split_root(&forward);
    let mut out: Vec<&str> = Vec::new();
    for seg in rest.split('/') {
        match seg {
            "" | "." => {}
            ".." => match out.last() {
                Some(&last) if last != ".." => {
                    out.pop();
                }
                _ if !prefix.is_empty() => {} // `/..` is `/`
                _ => out.push(".."),
            },
            s => out.push(s),
        }
    }
    let body = out.join("/");
    match (prefix.is_empty(), body.is_empty()) {
        (true, true) => ".".to_owned(),
        (false, true) => prefix,
        _ => prefix + &body,
    }
}

/// The root part of a forward-slashed path (`//`, `/`, `c:/`, `c:`) and the rest.
fn split_root(path: &str) -> (String, &str) {
    let b = path.as_bytes();
    if let Some(rest) = path.strip_prefix("//") {
        ("//".to_owned(), rest)
    } else if let Some(rest) = path.strip_prefix('/') {
        ("/".to_owned(), rest)
    } else if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        let drive = (b[0].to_ascii_lowercase() as char).to_string() + ":";
        match path[2..].strip_prefix('/') {
            Some(rest) => (drive + "/", rest),
            None => (drive, &path[2..]),
        }
    } else {
        (String::new(), path)
    }
}

/// `relative` anchored to the directory of `anchor` (`ArDefaultResolver`'s
/// `_AnchorRelativePath`); an absolute `relative` or a relative anchor leave it as given.
pub fn anchor_relative(anchor: &str, relative: &str) -> String {
    if !is_absolute(anchor) || is_absolute(relative) {
        return relative.to_owned();
    }
    let anchor = anchor.replace('\\', "/");
    let dir = match anchor.rfind('/') {
        Some(i) => &anchor[..=i],
        None => "",
    };
    norm_path(&format!("{dir}{relative}"))
}

/// Where a non-AYON asset is on disk, or `None`: absolute paths must exist; relative ones are
/// tried against `cwd`, then (search-path style only) each search-path directory in order.
pub fn resolve(path: &str, cwd: &Path, search: &SearchPath) -> Option<String> {
    match AssetKind::of(path) {
        AssetKind::Empty | AssetKind::AyonUri => None,
        AssetKind::Absolute => exists(path).then(|| path.to_owned()),
        kind => {
            let in_cwd = join(cwd, path);
            if exists(&in_cwd) {
                return Some(in_cwd);
            }
            if kind == AssetKind::SearchPath {
                for dir in search.dirs() {
                    let candidate = join(dir, path);
                    if exists(&candidate) {
                        return Some(candidate);
                    }
                }
            }
            None
        }
    }
}

/// The identifier a host should use for `asset` named in the layer `anchor`
/// (`ArResolver::CreateIdentifier`): AYON URIs unchanged; file-relative paths anchored;
/// search-path style paths anchored only when that file exists, else kept for the search path.
pub fn create_identifier(
    asset: &str,
    anchor: Option<&str>,
    cwd: &Path,
    search: &SearchPath,
) -> String {
    let kind = AssetKind::of(asset);
    if matches!(kind, AssetKind::Empty | AssetKind::AyonUri) {
        return asset.to_owned();
    }
    let Some(anchor) = anchor.filter(|a| !a.is_empty()) else {
        return norm_path(asset);
    };
    let anchored = anchor_relative(anchor, asset);
    if kind == AssetKind::SearchPath && resolve(&anchored, cwd, search).is_none() {
        return norm_path(asset);
    }
    norm_path(&anchored)
}

fn join(dir: &Path, path: &str) -> String {
    norm_path(&format!("{}/{path}", dir.display()))
}

fn exists(path: &str) -> bool {
    Path::new(path).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_path_is_usd_s() {
        for (input, want) in [
            ("/a//b/./c/", "/a/b/c"),
            ("/a/b/../c", "/a/c"),
            ("/../a", "/a"),
            ("a/../../b", "../b"),
            ("./a", "a"),
            (".", "."),
            ("C:\\Proj\\x\\..\\a.usd", "c:/Proj/a.usd"),
            ("\\\\nas\\share\\a.usd", "//nas/share/a.usd"),
            ("/", "/"),
            ("", ""),
        ] {
            assert_eq!(norm_path(input), want, "{input}");
        }
    }

    #[test]
    fn anchors_to_the_layer_directory() {
        assert_eq!(
            anchor_relative("/show/sh010/shot.usd", "./a.usd"),
            "/show/sh010/a.usd"
        );
        assert_eq!(
            anchor_relative("/show/sh010/shot.usd", "../lib/a.usd"),
            "/show/lib/a.usd"
        );
        assert_eq!(
            anchor_relative("C:\\show\\shot.usd", "./a.usd"),
            "c:/show/a.usd"
        );
        assert_eq!(
            anchor_relative("/show/shot.usd", "/abs/a.usd"),
            "/abs/a.usd"
        );
        assert_eq!(anchor_relative("rel/shot.usd", "./a.usd"), "./a.usd");
    }

    #[test]
    fn resolves_against_cwd_then_search_path() {
        let cwd = tempfile::tempdir().unwrap();
        let lib = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(lib.path().join("models")).unwrap();
        std::fs::write(lib.path().join("models/a.usd"), "#usda 1.0").unwrap();
        std::fs::write(cwd.path().join("here.usd"), "#usda 1.0").unwrap();
        let search = SearchPath::new([lib.path()]);

        let found = resolve("models/a.usd", cwd.path(), &search).unwrap();
        assert_eq!(
            found,
            norm_path(&lib.path().join("models/a.usd").display().to_string())
        );
        assert!(
            resolve("./models/a.usd", cwd.path(), &search).is_none(),
            "file-relative never searches"
        );
        assert!(resolve("here.usd", cwd.path(), &search).is_some());
        assert!(resolve("missing.usd", cwd.path(), &search).is_none());
        let abs = cwd.path().join("here.usd").display().to_string();
        assert_eq!(resolve(&abs, Path::new("/"), &search), Some(abs.clone()));
        assert_eq!(
            resolve(&format!("{abs}.nope"), Path::new("/"), &search),
            None
        );
    }

    #[test]
    fn identifiers() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.usd"), "").unwrap();
        let anchor = dir.path().join("shot.usd").display().to_string();
        let cwd = Path::new("/");
        let none = SearchPath::default();
        let d = norm_path(&dir.path().display().to_string());
        assert_eq!(
            create_identifier("./a.usd", Some(&anchor), cwd, &none),
            format!("{d}/a.usd")
        );
        // search-path style: anchored only when the anchored file exists
        assert_eq!(
            create_identifier("b.usd", Some(&anchor), cwd, &none),
            format!("{d}/b.usd")
        );
        assert_eq!(
            create_identifier("models/x.usd", Some(&anchor), cwd, &none),
            "models/x.usd"
        );
        let uri = "ayon://p/a?product=x&version=latest&representation=usd";
        assert_eq!(create_identifier(uri, Some(&anchor), cwd, &none), uri);
        assert_eq!(create_identifier("/a//b.usd", None, cwd, &none), "/a/b.usd");
        assert_eq!(create_identifier("", Some(&anchor), cwd, &none), "");
    }

    #[test]
    fn search_path_string() {
        let sep = if cfg!(windows) { ";" } else { ":" };
        let s = SearchPath::parse(&format!("/a{sep}{sep}/b"));
        assert_eq!(s.dirs(), &[PathBuf::from("/a"), PathBuf::from("/b")]);
    }
}
