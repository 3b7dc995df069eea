//! The exception hierarchy: `AyonOfflineError` and one subclass per [`ErrorKind`], made from
//! the kind list itself so a new kind gets its exception without touching this file.

use ayon_resolver_core::{ErrorKind, ResolveError};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// The base class and the subclasses, in [`ErrorKind::ALL`] order.
struct Classes {
    base: Py<PyType>,
    kinds: Vec<(ErrorKind, Py<PyType>)>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// The Python class name of a kind: its Rust name ending in `Error` (`InvalidUri` →
/// `InvalidUriError`, `ServerError` stays).
pub(crate) fn class_name(kind: ErrorKind) -> String {
    let name = format!("{kind:?}");
    if name.ends_with("Error") {
        name
    } else {
        format!("{name}Error")
    }
}

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let base = PyErr::new_type(
            py,
            c"ayon_offline.AyonOfflineError",
            Some(c"Base class of every ayon_offline error; `kind` is the stable error code."),
            Some(&py.get_type::<PyException>()),
            None,
        )?;
        let mut kinds = Vec::with_capacity(ErrorKind::ALL.len());
        for kind in ErrorKind::ALL {
            let name = std::ffi::CString::new(format!("ayon_offline.{}", class_name(kind)))
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            let doc = std::ffi::CString::new(format!("An error of kind `{}`.", kind.as_str()))
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
            let class = PyErr::new_type(py, &name, Some(&doc), Some(base.bind(py)), None)?;
            class.bind(py).setattr("kind", kind.as_str())?;
            kinds.push((kind, class));
        }
        base.bind(py).setattr("kind", "error")?;
        Ok(Classes { base, kinds })
    })
}

/// Adds the classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let c = classes(py)?;
    m.add("AyonOfflineError", c.base.bind(py))?;
    for (kind, class) in &c.kinds {
        m.add(class_name(*kind).as_str(), class.bind(py))?;
    }
    Ok(())
}

/// The exception for `kind` with `message`; `kind`, `path` and `message` set on the instance.
pub(crate) fn error(py: Python<'_>, kind: ErrorKind, message: &str, path: Option<&str>) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let c = classes(py)?;
        let class = c
            .kinds
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, t)| t)
            .unwrap_or(&c.base);
        let value = class.bind(py).call1((message,))?;
        value.setattr("kind", kind.as_str())?;
        value.setattr("message", message)?;
        value.setattr("path", path)?;
        value.setattr("position", None::<usize>)?;
        Ok(PyErr::from_value(value))
    })();
    made.unwrap_or_else(|e| e)
}

/// A resolver error as its exception; an invalid URI's also carries `position`, the byte
/// offset where parsing failed.
pub(crate) fn resolve_error(py: Python<'_>, e: &ResolveError, path: &str) -> PyErr {
    let err = error(py, e.kind(), &e.to_string(), Some(path));
    let _ = err.value(py).setattr("position", position(e));
    err
}

/// Where an invalid URI failed to parse (a byte offset), for editors that underline it.
pub(crate) fn position(e: &ResolveError) -> Option<usize> {
    match e {
        ResolveError::Client(ayon_client::ResolveError::Invalid { error, .. }) => {
            Some(error.offset())
        }
        _ => None,
    }
}

/// A configuration problem (no server, bad roots string…) as a `ConfigError`.
pub(crate) fn config_error(py: Python<'_>, message: impl std::fmt::Display) -> PyErr {
    error(py, ErrorKind::Config, &message.to_string(), None)
}
