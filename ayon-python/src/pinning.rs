//! Writing pinning files from Python (what `ayon_offline.usd.pin_stage` ends with): the site
//! roots of a project, and `ayon-pinning`'s writer (AYON's format, rootless, atomic), so the
//! rootless rule and the file format stay in one place.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ayon_pinning::{PinningFile, Roots};
use ayon_resolver_core::Resolver;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors;

/// Roots as Python gives them: AYON's `name=path,…` string or a `{name: path}` dict.
#[derive(FromPyObject)]
pub(crate) enum RootsArg {
    /// `work=/mnt/projects,…` (the pinning roots syntax).
    Text(String),
    /// `{"work": "/mnt/projects"}` (what `site_roots` returns).
    Map(BTreeMap<String, String>),
}

impl RootsArg {
    fn into_roots(self, py: Python<'_>) -> PyResult<Roots> {
        match self {
            RootsArg::Text(s) => Roots::parse(&s),
            RootsArg::Map(m) => Roots::from_pairs(m),
        }
        .map_err(|e| errors::config_error(py, e))
    }
}

/// The roots of `project` for the resolver's site: asked of the server once per project (the
/// client keeps them; resolving a URI of the project has fetched them already), else the ones
/// stored in the persistent cache when offline.
pub(crate) fn site_roots(py: Python<'_>, r: &Resolver, project: &str) -> PyResult<Roots> {
    let client = r
        .offline_client()
        .map_err(|e| errors::config_error(py, e))?;
    py.detach(|| match client.client().site_roots_blocking(project) {
        Ok(roots) => Ok((*roots).clone()),
        Err(e) => client.store().roots(project).ok_or(e),
    })
    .map_err(|e| errors::error(py, e.kind(), &e.to_string(), None))
}

/// Site roots as the dict Python sees.
pub(crate) fn roots_dict(roots: &Roots) -> BTreeMap<String, String> {
    roots
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The projects named by the AYON URIs among `keys`, in first-seen order, once each.
fn projects<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in keys {
        if let Ok(uri) = ayon_uri::AyonUri::parse(key)
            && !out.iter().any(|p| p == uri.project())
        {
            out.push(uri.project().to_owned());
        }
    }
    out
}

/// Writes `entries` (identifier -> path) and `entry_scene` to `path` (see
/// `Resolver.write_pinning_file`); returns how many entries were written.
pub(crate) fn write(
    py: Python<'_>,
    r: &Resolver,
    path: PathBuf,
    entries: &Bound<'_, PyDict>,
    entry_scene: Option<String>,
    roots: Option<RootsArg>,
) -> PyResult<usize> {
    let pairs: Vec<(String, String)> = entries
        .iter()
        .map(|(k, v)| Ok((k.extract::<String>()?, v.extract::<String>()?)))
        .collect::<PyResult<_>>()?;
    let roots = match roots {
        Some(given) => given.into_roots(py)?,
        None => {
            // The site's platform (the first project's roots carry it) decides separators.
            let mut all: Option<Roots> = None;
            for project in projects(pairs.iter().map(|(k, _)| k.as_str())) {
                let roots = site_roots(py, r, &project)?;
                match &mut all {
                    Some(all) => all.merge(&roots),
                    None => all = Some(roots),
                }
            }
            all.unwrap_or_default()
        }
    };
    let n = pairs.len();
    py.detach(|| PinningFile::write(&path, pairs, entry_scene.as_deref(), &roots))
        .map_err(|e| errors::config_error(py, e))?;
    Ok(n)
}
