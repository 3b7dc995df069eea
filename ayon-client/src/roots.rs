//! Root substitution: rootless server paths (`{root[work]}/...`) become this site's real paths.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::Platform;

/// Root name → root path for one project on one site (`GET /api/projects/{p}/siteRoots`).
pub type SiteRoots = BTreeMap<String, String>;

/// The roots of one project for this site, with the platform they were given for (the platform
/// picks the separators of rooted paths). Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRoots {
    roots: Arc<SiteRoots>,
    platform: Platform,
}

impl ProjectRoots {
    /// Roots as the server gave them for a site of `platform`.
    pub fn new(roots: impl Into<Arc<SiteRoots>>, platform: Platform) -> ProjectRoots {
        ProjectRoots {
            roots: roots.into(),
            platform,
        }
    }

    /// Root name → path.
    pub fn roots(&self) -> &Arc<SiteRoots> {
        &self.roots
    }

    /// The platform the roots are for.
    pub fn platform(&self) -> Platform {
        self.platform
    }
}

const OPEN: &str = "{root[";
const CLOSE: &str = "]}";

/// Replaces every `{root[NAME]}` token by that root's own value (not the first root's, as the
/// C++ client does), then writes the separators of the site's platform (`\` on Windows, as the
/// server does). An unknown root name is `Err(name)`; a path without tokens only gets its
/// separators fixed.
pub fn substitute_roots(
    path: &str,
    roots: &SiteRoots,
    platform: Platform,
) -> Result<String, String> {
    let mut out = String::with_capacity(path.len() + 32);
    let mut rest = path;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find(CLOSE) else { break };
        let name = &after[..end];
        let value = roots.get(name).ok_or_else(|| name.to_owned())?;
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &after[end + CLOSE.len()..];
        // One separator at the junction, like the server's normpath: `/mnt/p/` + `/x` → `/mnt/p/x`.
        if value.ends_with(['/', '\\']) && rest.starts_with(['/', '\\']) {
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(match platform {
        Platform::Windows => out.replace('/', "\\"),
        Platform::Linux | Platform::Darwin => out,
    })
}

/// Root names a path refers to, in order of appearance (to know which roots a path needs).
pub(crate) fn root_names(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = path;
    std::iter::from_fn(move || {
        let start = rest.find(OPEN)?;
        let after = &rest[start + OPEN.len()..];
        let end = after.find(CLOSE)?;
        rest = &after[end + CLOSE.len()..];
        Some(&after[..end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(pairs: &[(&str, &str)]) -> SiteRoots {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn each_token_gets_its_own_root() {
        let r = roots(&[("work", "/mnt/work"), ("publish", "/mnt/pub")]);
        let p = substitute_roots("{root[publish]}/a/{root[work]}/b", &r, Platform::Linux).unwrap();
        assert_eq!(p, "/mnt/pub/a//mnt/work/b");
    }

    #[test]
    fn windows_sites_get_backslashes_even_from_server_backslashes() {
        let r = roots(&[("work", "P:/projects")]);
        let server = "{root[work]}\\demo_offline\\assets\\hero.usd";
        assert_eq!(
            substitute_roots(server, &r, Platform::Windows).unwrap(),
            "P:\\projects\\demo_offline\\assets\\hero.usd"
        );
        assert_eq!(
            substitute_roots("{root[work]}/demo/x.usd", &r, Platform::Windows).unwrap(),
            "P:\\projects\\demo\\x.usd"
        );
    }

    #[test]
    fn unknown_root_is_named() {
        let r = roots(&[("work", "/mnt")]);
        assert_eq!(
            substitute_roots("{root[render]}/x", &r, Platform::Linux),
            Err("render".to_owned())
        );
    }

    #[test]
    fn trailing_separator_on_root_is_not_doubled() {
        let r = roots(&[("work", "/mnt/projects/")]);
        assert_eq!(
            substitute_roots("{root[work]}/a", &r, Platform::Linux).unwrap(),
            "/mnt/projects/a"
        );
    }

    #[test]
    fn dollar_and_plain_paths_are_literal() {
        let r = roots(&[("work", "/mnt/$1")]);
        assert_eq!(
            substitute_roots("{root[work]}/a", &r, Platform::Darwin).unwrap(),
            "/mnt/$1/a"
        );
        assert_eq!(
            substitute_roots("/abs/a", &r, Platform::Linux).unwrap(),
            "/abs/a"
        );
        assert_eq!(
            substitute_roots("{root[work", &r, Platform::Linux).unwrap(),
            "{root[work"
        );
    }

    #[test]
    fn names_are_listed() {
        let v: Vec<_> = root_names("{root[a]}/x/{root[b_2]}").collect();
        assert_eq!(v, ["a", "b_2"]);
    }
}
