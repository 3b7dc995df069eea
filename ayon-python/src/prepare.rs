//! `Resolver.prepare_offline`: the prepare runs on a thread of its own while the calling Python
//! thread waits with the GIL released, wakes every 50 ms to deliver progress (the callback runs
//! on the caller's thread) and to check for Ctrl-C, and cancels through a `CancelToken`.

use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, UNIX_EPOCH};

use ayon_resolver_core::{
    CancelToken, ErrorKind, PrepareMode, PrepareOfflineError, PrepareOptions, PrepareProgress,
    PrepareReport, PrepareScope, PreparedProject, Resolver,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors;

/// How often the waiting thread wakes for progress and signals.
const POLL: Duration = Duration::from_millis(50);

/// Stops a running `prepare_offline` from another thread; the previous index keeps answering.
#[pyclass(name = "CancelToken", module = "ayon_offline", frozen)]
#[derive(Default)]
pub(crate) struct PyCancelToken {
    inner: CancelToken,
}

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> PyCancelToken {
        PyCancelToken::default()
    }

    /// Asks the prepare to stop (between requests).
    fn cancel(&self) {
        self.inner.cancel();
    }

    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

enum Msg {
    Progress(PrepareProgress),
    Done(Result<PrepareReport, PrepareOfflineError>),
}

fn epoch_seconds(t: std::time::SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn progress_dict<'py>(py: Python<'py>, p: &PrepareProgress) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("phase", p.phase)?;
    d.set_item("entities", p.entities)?;
    d.set_item("bytes", p.bytes)?;
    d.set_item("requests", p.requests)?;
    Ok(d)
}

fn report_dict<'py>(py: Python<'py>, r: &PrepareReport) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("project", &r.project)?;
    // `full` with the reason, or `incremental` with the server time changes were read from.
    match &r.mode {
        PrepareMode::Incremental { since } => {
            d.set_item("mode", "incremental")?;
            d.set_item("since", since)?;
        }
        PrepareMode::Full { reason } => {
            d.set_item("mode", "full")?;
            d.set_item("reason", reason)?;
        }
        _ => d.set_item("mode", "other")?,
    }
    d.set_item("fetched", r.fetched)?;
    d.set_item("deleted", r.deleted)?;
    d.set_item("folders", r.folders)?;
    d.set_item("products", r.products)?;
    d.set_item("versions", r.versions)?;
    d.set_item("representations", r.representations)?;
    d.set_item("bytes", r.bytes)?;
    d.set_item("requests", r.requests)?;
    d.set_item("elapsed", r.elapsed.as_secs_f64())?;
    d.set_item("prepared_at", epoch_seconds(r.prepared_at))?;
    Ok(d)
}

/// A prepared project as a dict (`name`, `prepared_at`, `changed_at`, `counts`).
pub(crate) fn project_dict<'py>(
    py: Python<'py>,
    p: &PreparedProject,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &p.name)?;
    d.set_item("prepared_at", epoch_seconds(p.prepared_at))?;
    d.set_item("changed_at", epoch_seconds(p.changed_at))?;
    let counts = PyDict::new(py);
    for (name, n) in p.named_counts() {
        counts.set_item(name, n)?;
    }
    d.set_item("counts", counts)?;
    Ok(d)
}

/// A prepare error as its exception.
pub(crate) fn prepare_error(py: Python<'_>, e: &PrepareOfflineError) -> PyErr {
    errors::error(py, e.kind(), &e.to_string(), None)
}

/// The scope from the keyword arguments: the whole project, folder subtrees or URIs.
pub(crate) fn scope(
    folders: Option<Vec<String>>,
    uris: Option<Vec<String>>,
) -> PyResult<PrepareScope> {
    match (folders, uris) {
        (None, None) => Ok(PrepareScope::Project),
        (Some(f), None) => Ok(PrepareScope::Folders(f)),
        (None, Some(u)) => Ok(PrepareScope::Uris(u)),
        (Some(_), Some(_)) => Err(PyValueError::new_err(
            "prepare_offline takes folders or uris, not both",
        )),
    }
}

/// Runs the prepare; see the module docs for the threads.
pub(crate) fn run<'py>(
    py: Python<'py>,
    resolver: &Resolver,
    project: String,
    scope: PrepareScope,
    all_versions: bool,
    progress: Option<Py<PyAny>>,
    cancel: CancelToken,
) -> PyResult<Bound<'py, PyDict>> {
    let options = PrepareOptions {
        all_versions,
        ..PrepareOptions::default()
    };
    let (tx, mut rx) = channel();
    let worker = {
        let resolver = resolver.clone();
        let cancel = cancel.clone();
        std::thread::Builder::new()
            .name("ayon-prepare".to_owned())
            .spawn(move || {
                let progress_tx = tx.clone();
                let on_progress = move |p: &PrepareProgress| {
                    let _ = progress_tx.send(Msg::Progress(p.clone()));
                };
                let out =
                    resolver.prepare_offline(&project, &scope, &options, &cancel, &on_progress);
                let _ = tx.send(Msg::Done(out));
            })
            .map_err(|e| errors::error(py, ErrorKind::Runtime, &e.to_string(), None))?
    };
    // An exception from the callback or a KeyboardInterrupt: raised once the worker stopped.
    let mut pending: Option<PyErr> = None;
    let outcome = loop {
        // The receiver is not Sync: it moves into the detached closure and back.
        let (msg, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
        rx = back;
        match msg {
            Ok(Msg::Progress(p)) => {
                if let (Some(cb), None) = (&progress, &pending) {
                    let answer = progress_dict(py, &p).and_then(|d| cb.call1(py, (d,)));
                    match answer {
                        // Returning False asks to stop, like a dialog's Cancel button.
                        Ok(v) if v.bind(py).extract::<bool>().ok() == Some(false) => {
                            cancel.cancel()
                        }
                        Ok(_) => {}
                        Err(e) => {
                            pending = Some(e);
                            cancel.cancel();
                        }
                    }
                }
            }
            Ok(Msg::Done(out)) => break Some(out),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break None,
        }
        if pending.is_none()
            && let Err(e) = py.check_signals()
        {
            pending = Some(e);
            cancel.cancel();
        }
    };
    let _ = py.detach(|| worker.join());
    if let Some(e) = pending {
        return Err(e);
    }
    match outcome {
        Some(Ok(report)) => report_dict(py, &report),
        Some(Err(e)) => Err(prepare_error(py, &e)),
        None => Err(errors::error(
            py,
            ErrorKind::Runtime,
            "the prepare thread ended without an answer",
            None,
        )),
    }
}

impl PyCancelToken {
    pub(crate) fn token(&self) -> CancelToken {
        self.inner.clone()
    }
}
