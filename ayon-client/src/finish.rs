//! The one step from a raw server answer to a [`Resolution`], used by [`crate::Client`] and
//! [`crate::OfflineClient`] alike, for live and for stored answers.

use std::sync::Arc;

use ayon_site::{Roots, root_names};

use crate::error::ResolveError;
use crate::resolution::{Resolution, ResolvedEntity, Source};

/// The server's answer for one distinct URI before this site's roots are applied: what the
/// store keeps and what a single-flight lookup shares.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rootless {
    /// `entities` as the server sent them (paths with `{root[NAME]}`), possibly empty.
    Entities(Arc<[ResolvedEntity]>),
    /// A per-URI error from the server (not stored).
    Error(String),
}

impl Rootless {
    /// True when some path names a root, so the project's roots are needed to finish it.
    pub(crate) fn needs_roots(&self) -> bool {
        match self {
            Rootless::Entities(e) => e
                .iter()
                .any(|e| e.path().is_some_and(|p| root_names(p).next().is_some())),
            Rootless::Error(_) => false,
        }
    }
}

/// Turns `raw` into the answer for `uri`: a per-URI error, "not found" for no entities, else
/// every path rooted with this site's `roots` (required when [`Rootless::needs_roots`]; a
/// path naming a root the site lacks is [`ResolveError::UnknownRoot`]).
pub(crate) fn finish(
    uri: &str,
    raw: Rootless,
    roots: Option<&Roots>,
    source: Source,
) -> Result<Resolution, ResolveError> {
    let entities = match raw {
        Rootless::Error(message) => {
            return Err(ResolveError::ServerError {
                uri: uri.to_owned(),
                message,
            });
        }
        Rootless::Entities(e) if e.is_empty() => {
            return Err(ResolveError::NotFound {
                uri: uri.to_owned(),
            });
        }
        Rootless::Entities(e) => e,
    };
    let mut out = Vec::with_capacity(entities.len());
    for e in entities.iter() {
        let mut e = e.clone();
        if let Some(p) = e.path() {
            let unknown = |name: String| ResolveError::UnknownRoot {
                uri: uri.to_owned(),
                name,
                path: p.to_owned(),
            };
            match roots {
                Some(roots) => {
                    let rooted = roots.substitute(p).map_err(|u| unknown(u.name))?;
                    e.set_path(rooted);
                }
                None => {
                    if let Some(name) = root_names(p).next() {
                        return Err(unknown(name.to_owned()));
                    }
                }
            }
        }
        out.push(e);
    }
    Ok(Resolution::new(uri, out, source))
}

#[cfg(test)]
mod tests {
    use ayon_site::Platform;
    use ayon_uri::Target;

    use super::*;

    fn raw(paths: &[&str]) -> Rootless {
        Rootless::Entities(
            paths
                .iter()
                .map(|p| ResolvedEntity::new(Target::Representation).with_path(*p))
                .collect(),
        )
    }

    #[test]
    fn errors_not_found_and_rooted_paths() {
        let e = finish("u", Rootless::Error("boom".into()), None, Source::Server);
        assert!(matches!(e, Err(ResolveError::ServerError { message, .. }) if message == "boom"));
        let e = finish("u", raw(&[]), None, Source::Server);
        assert!(matches!(e, Err(ResolveError::NotFound { .. })));
        let r = raw(&["{root[work]}/a/b.usd"]);
        assert!(r.needs_roots());
        assert!(!raw(&["/abs/b.usd", "{root[work"]).needs_roots());
        let roots = Roots::from_pairs([("work", "P:/p")])
            .unwrap()
            .with_platform(Platform::Windows);
        let ok = finish("u", r.clone(), Some(&roots), Source::Server).unwrap();
        assert_eq!(ok.path(), Some("P:\\p\\a\\b.usd"));
        let e = finish("u", r, None, Source::Server).unwrap_err();
        assert_eq!(e.kind(), "unknown_root");
    }
}
