//! `ResolverContext`: mapping pairs, a pinning file and the answer cache a host binds around a
//! stage, with the camelCase names AYON's USD resolver gives hosts as aliases.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ayon_resolver_core::ResolverContext;
use pyo3::prelude::*;

use crate::errors;

/// A resolver context. Contexts compare by identity (`id`), like AYON's.
#[pyclass(name = "ResolverContext", module = "ayon_offline", frozen, eq, hash)]
pub(crate) struct PyResolverContext {
    pub(crate) inner: ResolverContext,
}

impl PartialEq for PyResolverContext {
    fn eq(&self, other: &Self) -> bool {
        self.inner.id() == other.inner.id()
    }
}

impl std::hash::Hash for PyResolverContext {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.id().hash(state);
    }
}

/// Roots for a pinning file: the `name=path,…` string given, else the environment's.
pub(crate) fn roots(py: Python<'_>, given: Option<&str>) -> PyResult<ayon_pinning::Roots> {
    match given {
        Some(s) => ayon_pinning::Roots::parse(s).map_err(|e| errors::config_error(py, e)),
        None => ayon_pinning::roots_from_env().map_err(|e| errors::config_error(py, e)),
    }
}

#[pymethods]
impl PyResolverContext {
    /// This context's identity, unique in the process.
    #[getter]
    fn id(&self) -> u64 {
        self.inner.id()
    }

    /// Forgets one identifier in the connected cache; True if it was cached.
    fn delete_from_cache(&self, identifier: &str) -> bool {
        self.inner.delete_from_cache(identifier)
    }

    /// AYON USD resolver name of `delete_from_cache`.
    #[pyo3(name = "deleteFromCache")]
    fn delete_from_cache_alias(&self, identifier: &str) -> bool {
        self.inner.delete_from_cache(identifier)
    }

    /// Clears the connected cache, for every context connected to it.
    fn clear_cache(&self) {
        self.inner.clear_cache();
    }

    /// AYON USD resolver name of `clear_cache`.
    #[pyo3(name = "clearCache")]
    fn clear_cache_alias(&self) {
        self.inner.clear_cache();
    }

    /// Gives this context a new, empty cache of its own.
    fn drop_cache(&self) {
        self.inner.drop_cache();
    }

    /// AYON USD resolver name of `drop_cache`.
    #[pyo3(name = "dropCache")]
    fn drop_cache_alias(&self) {
        self.inner.drop_cache();
    }

    /// How many answers the connected cache holds.
    fn cached_len(&self) -> usize {
        self.inner.cached_len()
    }

    /// Whether this context shares its cache with `other`.
    fn shares_cache_with(&self, other: &PyResolverContext) -> bool {
        self.inner.shares_cache_with(&other.inner)
    }

    /// Adds or replaces a mapping pair; returns the target it replaced.
    fn add_mapping_pair(&self, source: &str, target: &str) -> Option<String> {
        self.inner.add_mapping_pair(source, target)
    }

    /// Removes the pair for `source`; returns its target.
    fn remove_mapping(&self, source: &str) -> Option<String> {
        self.inner.remove_mapping(source)
    }

    /// Removes every mapping pair.
    fn clear_mapping_pairs(&self) {
        self.inner.clear_mapping_pairs();
    }

    /// The mapping pairs, sorted by source.
    fn mapping_pairs(&self) -> BTreeMap<String, String> {
        self.inner.mapping_pairs()
    }

    /// Loads mapping pairs from an AYON mapping file (replacing the current ones); returns how
    /// many. On error nothing changes.
    fn set_mapping_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<usize> {
        let inner = self.inner.clone();
        py.detach(move || inner.set_mapping_file(path))
            .map_err(|e| errors::config_error(py, e))
    }

    /// The mapping file last loaded, if any.
    fn mapping_file(&self) -> Option<PathBuf> {
        self.inner.mapping_file()
    }

    /// Reloads the mapping file; None when the context has none.
    fn refresh_mapping_file(&self, py: Python<'_>) -> PyResult<Option<usize>> {
        let inner = self.inner.clone();
        py.detach(move || inner.refresh_mapping_file())
            .map_err(|e| errors::config_error(py, e))
    }

    /// Uses `path` as this context's pinning file; `roots` is a `name=path,…` string (else
    /// `AYON_USD_RESOLVER_PINNING_ROOTS` / `PROJECT_ROOTS`). On error the previous one stays.
    #[pyo3(signature = (path, roots=None))]
    fn set_pinning_file(&self, py: Python<'_>, path: PathBuf, roots: Option<&str>) -> PyResult<()> {
        let roots = self::roots(py, roots)?;
        let inner = self.inner.clone();
        py.detach(move || inner.set_pinning_file(path, roots))
            .map_err(|e| errors::config_error(py, e))
    }

    /// Stops using a pinning file in this context.
    fn clear_pinning_file(&self) {
        self.inner.clear_pinning_file();
    }

    /// This context's pinning file, if any.
    fn pinning_file(&self) -> Option<PathBuf> {
        self.inner.pinning_file()
    }

    fn __repr__(&self) -> String {
        format!("<ayon_offline.ResolverContext id={}>", self.inner.id())
    }
}
