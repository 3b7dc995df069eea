//! `ayon_offline`: the AYON offline resolver (`ayon-resolver-core`) as a Python module.
//!
//! Every call that may wait on the network, a lock or a file releases the GIL, so Python
//! threads resolving at once overlap and a host's UI thread is never held by our I/O. Errors
//! are Python exceptions: one base class, `AyonOfflineError`, and one subclass per stable
//! error kind of the stack (`OfflineError`, `NotFoundError`, …). Built with maturin
//! (`maturin develop` in this directory); tested from Python by `tests/`.

mod context;
mod errors;
mod pinning;
mod prepare;
mod resolver;
mod state;
mod values;

use pyo3::prelude::*;

/// True when `path` is an AYON URI (`ayon://` or `ayon+entity://`, any case): the one test
/// the resolver applies, for Python code that walks asset paths (`ayon_offline.usd`).
#[pyfunction]
fn is_ayon_uri(path: &str) -> bool {
    ayon_uri::is_ayon_uri(path)
}

/// The native module `ayon_offline._native`; the package `ayon_offline` (python/) re-exports
/// it and adds the pure-Python submodule `ayon_offline.usd`.
#[pymodule]
#[pyo3(name = "_native")]
fn ayon_offline(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<resolver::PyResolver>()?;
    m.add_class::<context::PyResolverContext>()?;
    m.add_class::<values::PyResolved>()?;
    m.add_class::<values::PyResolveError>()?;
    m.add_class::<state::PyConnectionState>()?;
    m.add_class::<state::PyStateSubscription>()?;
    m.add_class::<prepare::PyCancelToken>()?;
    m.add_function(wrap_pyfunction!(is_ayon_uri, m)?)?;
    Ok(())
}
