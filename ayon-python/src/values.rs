//! Plain answer objects: `Resolved` and the per-element `ResolveError` of `resolve_many`.

use ayon_resolver_core::{ResolveError, Resolved};
use pyo3::prelude::*;

use crate::errors;

/// A resolved asset: `path` to open, `source` it came from, `stale` when it is a cache answer
/// past its freshness.
#[pyclass(name = "Resolved", module = "ayon_offline", frozen, get_all)]
pub(crate) struct PyResolved {
    /// The file path (with any `:SDF_FORMAT_ARGS:` suffix of the request).
    path: String,
    /// `server`, `cache`, `local_index`, `pinning`, `mapping` or `filesystem`.
    source: &'static str,
    /// A cache answer past its freshness (the server is unreachable or failing).
    stale: bool,
}

impl From<Resolved> for PyResolved {
    fn from(r: Resolved) -> PyResolved {
        PyResolved {
            source: r.source.as_str(),
            stale: r.source.is_stale(),
            path: r.path,
        }
    }
}

impl PyResolved {
    pub(crate) fn into_path(self) -> String {
        self.path
    }
}

#[pymethods]
impl PyResolved {
    fn __str__(&self) -> &str {
        &self.path
    }

    fn __fspath__(&self) -> &str {
        &self.path
    }

    fn __repr__(&self) -> String {
        format!(
            "Resolved(path={:?}, source={:?}, stale={})",
            self.path,
            self.source,
            if self.stale { "True" } else { "False" }
        )
    }
}

/// Why one element of `resolve_many` did not resolve (returned, not raised).
#[pyclass(name = "ResolveError", module = "ayon_offline", frozen, get_all)]
pub(crate) struct PyResolveError {
    /// The asset path as given.
    path: String,
    /// The stable error code (`offline`, `not_found`, `invalid`, …).
    kind: &'static str,
    /// The message, in words.
    message: String,
    /// For an invalid URI, the byte offset where parsing failed.
    position: Option<usize>,
}

impl PyResolveError {
    pub(crate) fn new(path: &str, e: &ResolveError) -> PyResolveError {
        PyResolveError {
            path: path.to_owned(),
            kind: e.kind().as_str(),
            message: e.to_string(),
            position: errors::position(e),
        }
    }
}

#[pymethods]
impl PyResolveError {
    /// The matching exception (an `AyonOfflineError` subclass), to raise.
    fn exception(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let kind = ayon_resolver_core::ErrorKind::parse(self.kind)
            .unwrap_or(ayon_resolver_core::ErrorKind::Runtime);
        let err = errors::error(py, kind, &self.message, Some(&self.path));
        err.value(py).setattr("position", self.position)?;
        Ok(err.value(py).clone().into_any().unbind())
    }

    fn __bool__(&self) -> bool {
        false
    }

    fn __str__(&self) -> &str {
        &self.message
    }

    fn __repr__(&self) -> String {
        format!(
            "ResolveError(path={:?}, kind={:?}, message={:?})",
            self.path, self.kind, self.message
        )
    }
}
