//! Lookup keys: the forms of one identifier that must find the same entry.
//!
//! The add-on writes keys as authored, while the resolver presents `TfNormPath`ed paths
//! (forward slashes, lower-case drive letter) and URIs in whatever spelling the scene holds, so
//! exact string matching misses (ayon-usd#94). Each key therefore also has a normalized form.

use std::borrow::Cow;

use ayon_site::is_windows_path;

/// The normalized form of a file path: `\` becomes `/`; a Windows path is also ASCII
/// lower-cased (its file system ignores case, and this covers the drive-letter case that
/// `TfNormPath` changes). Borrowed when nothing changes; idempotent.
pub(crate) fn path_key(s: &str) -> Cow<'_, str> {
    let windows = is_windows_path(s);
    let changes = if windows {
        s.bytes().any(|b| b == b'\\' || b.is_ascii_uppercase())
    } else {
        s.contains('\\')
    };
    if !changes {
        return Cow::Borrowed(s);
    }
    let mut out = s.replace('\\', "/");
    if windows {
        out.make_ascii_lowercase();
    }
    Cow::Owned(out)
}

/// The canonical form of an AYON URI, or `None` when `s` is not one or does not parse.
pub(crate) fn uri_key(s: &str) -> Option<String> {
    if !ayon_uri::is_ayon_uri(s) {
        return None;
    }
    ayon_uri::AyonUri::parse(s).ok().map(|u| u.canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_key_folds_separators_and_windows_case() {
        assert_eq!(path_key("P:\\Proj\\A.usd"), "p:/proj/a.usd");
        assert_eq!(path_key("\\\\NAS\\Share\\X"), "//nas/share/x");
        assert_eq!(path_key("/mnt/Proj\\A.usd"), "/mnt/Proj/A.usd");
        assert!(matches!(path_key("/mnt/Proj/A.usd"), Cow::Borrowed(_)));
        assert!(matches!(path_key("p:/proj"), Cow::Borrowed(_)));
        let once = path_key("Q:\\Ünï\\B").into_owned();
        assert_eq!(path_key(&once), once);
    }
}
