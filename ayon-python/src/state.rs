//! The connection state and state-change subscriptions.

use std::time::UNIX_EPOCH;

use ayon_resolver_core::{ConnectionState, StateSubscription};
use pyo3::prelude::*;
use pyo3::sync::MutexExt;

/// The connection to the AYON server as the resolver's monitor knows it.
#[pyclass(name = "ConnectionState", module = "ayon_offline", frozen, get_all)]
pub(crate) struct PyConnectionState {
    /// `unknown`, `online` or `offline`.
    kind: &'static str,
    /// Why it is offline, in words (None unless offline).
    reason: Option<String>,
    /// When the outage began, seconds since the Unix epoch (None unless offline).
    since: Option<f64>,
}

impl From<&ConnectionState> for PyConnectionState {
    fn from(s: &ConnectionState) -> PyConnectionState {
        let (reason, since) = match s {
            ConnectionState::Offline { since, reason } => (
                Some(reason.to_string()),
                since
                    .duration_since(UNIX_EPOCH)
                    .ok()
                    .map(|d| d.as_secs_f64()),
            ),
            _ => (None, None),
        };
        PyConnectionState {
            kind: s.kind_str(),
            reason,
            since,
        }
    }
}

#[pymethods]
impl PyConnectionState {
    /// True only when online.
    #[getter]
    fn is_online(&self) -> bool {
        self.kind == "online"
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.extract::<String>() {
            Ok(s) => s == self.kind,
            Err(_) => other
                .cast::<PyConnectionState>()
                .is_ok_and(|o| o.get().kind == self.kind && o.get().reason == self.reason),
        }
    }

    /// The hash of `kind`, so that a state equal to a string hashes like it.
    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        pyo3::types::PyString::new(py, self.kind).hash()
    }

    fn __str__(&self) -> &'static str {
        self.kind
    }

    fn __repr__(&self) -> String {
        match &self.reason {
            Some(r) => format!("ConnectionState({:?}, reason={r:?})", self.kind),
            None => format!("ConnectionState({:?})", self.kind),
        }
    }
}

/// A state-change callback registration: the callback stops when `unsubscribe()` is called
/// or this object is garbage-collected.
#[pyclass(name = "StateSubscription", module = "ayon_offline", frozen)]
pub(crate) struct PyStateSubscription {
    inner: std::sync::Mutex<Option<StateSubscription>>,
}

impl PyStateSubscription {
    pub(crate) fn new(s: StateSubscription) -> PyStateSubscription {
        PyStateSubscription {
            inner: std::sync::Mutex::new(Some(s)),
        }
    }
}

#[pymethods]
impl PyStateSubscription {
    /// Stops the callback now.
    fn unsubscribe(&self, py: Python<'_>) {
        let taken = match self.inner.lock_py_attached(py) {
            Ok(mut g) => g.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        // Dropping aborts the task; a callback already running finishes on its own thread.
        py.detach(move || drop(taken));
    }

    /// Whether the callback is still registered.
    #[getter]
    fn active(&self, py: Python<'_>) -> bool {
        match self.inner.lock_py_attached(py) {
            Ok(g) => g.is_some(),
            Err(_) => false,
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _t: Option<&Bound<'_, PyAny>>,
        _v: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) {
        self.unsubscribe(py);
    }
}
