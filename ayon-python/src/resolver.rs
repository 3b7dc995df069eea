//! `Resolver`: construction from keywords or the environment, resolution with the GIL
//! released, state and statistics.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ayon_resolver_core::{PinningPolicy, Resolver, ResolverBuilder};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::context::{self, PyResolverContext};
use crate::errors;
use crate::pinning::{self, RootsArg};
use crate::prepare::{self, PyCancelToken};
use crate::state::{PyConnectionState, PyStateSubscription};
use crate::values::{PyResolveError, PyResolved};

/// Resolves AYON URIs (and USD-style file paths) to file paths, online and offline.
/// Construction never touches the network; thread-safe; every waiting call releases the GIL.
#[pyclass(name = "Resolver", module = "ayon_offline", frozen)]
pub(crate) struct PyResolver {
    inner: Resolver,
}

/// The keyword arguments both constructors take.
struct Options<'a> {
    server_url: Option<String>,
    api_key: Option<String>,
    site_id: Option<String>,
    cache_dir: Option<PathBuf>,
    pinning_file: Option<PathBuf>,
    project: Option<String>,
    pinning: Option<&'a str>,
    pinning_roots: Option<&'a str>,
    memory_only: bool,
    force_offline: bool,
    monitor: bool,
    connect_timeout: Option<f64>,
    request_timeout: Option<f64>,
    moving_ttl: Option<f64>,
    reconnect_backoff: Option<(f64, f64)>,
}

fn seconds(py: Python<'_>, name: &str, s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| {
        let _ = py;
        PyValueError::new_err(format!("{name} must be a non-negative number of seconds"))
    })
}

fn policy(name: &str) -> PyResult<PinningPolicy> {
    match name {
        "live" => Ok(PinningPolicy::Live),
        "pinning_only" => Ok(PinningPolicy::PinningOnly),
        "pinning_then_live" => Ok(PinningPolicy::PinningThenLive),
        other => Err(PyValueError::new_err(format!(
            "pinning must be 'live', 'pinning_only' or 'pinning_then_live', not {other:?}"
        ))),
    }
}

impl Options<'_> {
    fn apply(self, py: Python<'_>, mut b: ResolverBuilder) -> PyResult<ResolverBuilder> {
        if let Some(v) = self.server_url {
            b = b.server_url(v);
        }
        if let Some(v) = self.api_key {
            b = b.api_key(v);
        }
        if let Some(v) = self.site_id {
            b = b.site_id(v);
        }
        if let Some(v) = self.cache_dir {
            b = b.cache_dir(v);
        }
        if let Some(v) = self.pinning_file {
            b = b.pinning_file(v);
        }
        if let Some(v) = self.project {
            b = b.project(v);
        }
        if let Some(v) = self.pinning {
            b = b.pinning_policy(policy(v)?);
        }
        if let Some(v) = self.pinning_roots {
            b = b.pinning_roots(context::roots(py, Some(v))?);
        }
        if let Some(v) = self.connect_timeout {
            b = b.connect_timeout(seconds(py, "connect_timeout", v)?);
        }
        if let Some(v) = self.request_timeout {
            b = b.request_timeout(seconds(py, "request_timeout", v)?);
        }
        if let Some(v) = self.moving_ttl {
            b = b.moving_ttl(seconds(py, "moving_ttl", v)?);
        }
        if let Some((first, cap)) = self.reconnect_backoff {
            b = b.reconnect_backoff(
                seconds(py, "reconnect_backoff", first)?,
                seconds(py, "reconnect_backoff", cap)?,
            );
        }
        Ok(b.memory_only(self.memory_only)
            .force_offline(self.force_offline)
            .monitor(self.monitor))
    }
}

/// Resolves in `context` (or the connected one) with the GIL released.
fn resolve_detached(
    py: Python<'_>,
    r: &Resolver,
    context: Option<&PyResolverContext>,
    path: &str,
) -> PyResult<PyResolved> {
    let ctx = context.map(|c| c.inner.clone());
    let answer = py.detach(|| match &ctx {
        Some(c) => r.resolve_in(c, path),
        None => r.resolve(path),
    });
    answer
        .map(PyResolved::from)
        .map_err(|e| errors::resolve_error(py, &e, path))
}

#[pymethods]
impl PyResolver {
    /// A resolver from keyword arguments only (the environment is not read). `pinning` is
    /// `live`, `pinning_only` or `pinning_then_live`; times are in seconds.
    #[new]
    #[pyo3(signature = (server_url=None, api_key=None, site_id=None, cache_dir=None,
        pinning_file=None, project=None, *, pinning=None, pinning_roots=None, memory_only=false,
        force_offline=false, monitor=true, connect_timeout=None, request_timeout=None,
        moving_ttl=None, reconnect_backoff=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        server_url: Option<String>,
        api_key: Option<String>,
        site_id: Option<String>,
        cache_dir: Option<PathBuf>,
        pinning_file: Option<PathBuf>,
        project: Option<String>,
        pinning: Option<&str>,
        pinning_roots: Option<&str>,
        memory_only: bool,
        force_offline: bool,
        monitor: bool,
        connect_timeout: Option<f64>,
        request_timeout: Option<f64>,
        moving_ttl: Option<f64>,
        reconnect_backoff: Option<(f64, f64)>,
    ) -> PyResult<PyResolver> {
        let options = Options {
            server_url,
            api_key,
            site_id,
            cache_dir,
            pinning_file,
            project,
            pinning,
            pinning_roots,
            memory_only,
            force_offline,
            monitor,
            connect_timeout,
            request_timeout,
            moving_ttl,
            reconnect_backoff,
        };
        let builder = options.apply(py, Resolver::builder())?;
        Ok(PyResolver {
            inner: py.detach(move || builder.build()),
        })
    }

    /// A resolver configured from the environment (`AYON_SERVER_URL`, `AYON_API_KEY`,
    /// `AYON_SITE_ID`, `AYON_OFFLINE_CACHE_DIR`, the USD resolver's pinning variables…);
    /// keyword arguments override it. Never fails on a bad environment: problems are reported
    /// by the calls that need the value and by `diagnostics()`.
    #[staticmethod]
    #[pyo3(signature = (*, server_url=None, api_key=None, site_id=None, cache_dir=None,
        pinning_file=None, project=None, pinning=None, pinning_roots=None, memory_only=false,
        force_offline=false, monitor=true, connect_timeout=None, request_timeout=None,
        moving_ttl=None, reconnect_backoff=None))]
    #[allow(clippy::too_many_arguments)]
    fn from_env(
        py: Python<'_>,
        server_url: Option<String>,
        api_key: Option<String>,
        site_id: Option<String>,
        cache_dir: Option<PathBuf>,
        pinning_file: Option<PathBuf>,
        project: Option<String>,
        pinning: Option<&str>,
        pinning_roots: Option<&str>,
        memory_only: bool,
        force_offline: bool,
        monitor: bool,
        connect_timeout: Option<f64>,
        request_timeout: Option<f64>,
        moving_ttl: Option<f64>,
        reconnect_backoff: Option<(f64, f64)>,
    ) -> PyResult<PyResolver> {
        let options = Options {
            server_url,
            api_key,
            site_id,
            cache_dir,
            pinning_file,
            project,
            pinning,
            pinning_roots,
            memory_only,
            force_offline,
            monitor,
            connect_timeout,
            request_timeout,
            moving_ttl,
            reconnect_backoff,
        };
        let builder = options.apply(py, ResolverBuilder::from_env())?;
        Ok(PyResolver {
            inner: py.detach(move || builder.build()),
        })
    }

    /// The file path for `path` (an AYON URI or a file path), or an `AyonOfflineError`
    /// subclass naming why not.
    #[pyo3(signature = (path, context=None))]
    fn resolve(
        &self,
        py: Python<'_>,
        path: &str,
        context: Option<PyRef<'_, PyResolverContext>>,
    ) -> PyResult<String> {
        resolve_detached(py, &self.inner, context.as_deref(), path).map(|r| r.into_path())
    }

    /// Like `resolve`, with where the answer came from (`Resolved`).
    #[pyo3(signature = (path, context=None))]
    fn resolve_info(
        &self,
        py: Python<'_>,
        path: &str,
        context: Option<PyRef<'_, PyResolverContext>>,
    ) -> PyResult<PyResolved> {
        resolve_detached(py, &self.inner, context.as_deref(), path)
    }

    /// One answer per path, in order: a `Resolved` or a `ResolveError` (never raises for one
    /// element); every URI that needs the server goes in one request.
    #[pyo3(signature = (paths, context=None))]
    fn resolve_many<'py>(
        &self,
        py: Python<'py>,
        paths: Vec<String>,
        context: Option<PyRef<'_, PyResolverContext>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let ctx = context.as_deref().map(|c| c.inner.clone());
        let r = &self.inner;
        let answers = py.detach(|| {
            let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
            match &ctx {
                Some(c) => r.resolve_many_in(c, &refs),
                None => r.resolve_many(&refs),
            }
        });
        let list = PyList::empty(py);
        for (answer, path) in answers.into_iter().zip(&paths) {
            match answer {
                Ok(ok) => list.append(PyResolved::from(ok))?,
                Err(e) => list.append(PyResolveError::new(path, &e))?,
            }
        }
        Ok(list)
    }

    /// Warms the caches for `uris` in one batched request; returns how many resolved.
    fn prewarm(&self, py: Python<'_>, uris: Vec<String>) -> usize {
        let r = &self.inner;
        py.detach(|| {
            let refs: Vec<&str> = uris.iter().map(String::as_str).collect();
            r.prewarm(&refs)
        })
    }

    /// The identifier for `path` named in the layer `anchor` (USD's `CreateIdentifier`).
    #[pyo3(signature = (path, anchor=None))]
    fn create_identifier(&self, py: Python<'_>, path: &str, anchor: Option<&str>) -> String {
        py.detach(|| self.inner.create_identifier(path, anchor))
    }

    /// The context `resolve` uses, connected to the shared cache.
    fn connected_context(&self) -> PyResolverContext {
        PyResolverContext {
            inner: self.inner.connected_context(),
        }
    }

    /// AYON USD resolver name of `connected_context`.
    #[pyo3(name = "GetConnectedContext")]
    fn get_connected_context(&self) -> PyResolverContext {
        self.connected_context()
    }

    /// A new context connected to the shared cache, without mapping pairs or pinning file.
    fn new_context(&self) -> PyResolverContext {
        PyResolverContext {
            inner: self.inner.new_context(),
        }
    }

    /// `live`, `pinning_only` or `pinning_then_live`.
    #[getter]
    fn pinning_policy(&self) -> &'static str {
        match self.inner.pinning_policy() {
            PinningPolicy::Live => "live",
            PinningPolicy::PinningOnly => "pinning_only",
            PinningPolicy::PinningThenLive => "pinning_then_live",
        }
    }

    /// The connection state, without blocking.
    fn state(&self) -> PyConnectionState {
        PyConnectionState::from(&self.inner.state())
    }

    /// Starts the client and its connection monitor now (never blocks on the network);
    /// raises `ConfigError` when the configuration cannot reach a server.
    fn connect(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.connect())
            .map_err(|e| errors::config_error(py, e))
    }

    /// Calls `callback(state)` on a library thread (holding the GIL) at every connection state
    /// change, in order, until the returned subscription is unsubscribed. An exception in the
    /// callback goes to `sys.unraisablehook`; the callback keeps being called.
    fn on_state_change(
        &self,
        py: Python<'_>,
        callback: Py<PyAny>,
    ) -> PyResult<PyStateSubscription> {
        if !callback.bind(py).is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "on_state_change needs a callable",
            ));
        }
        let subscription = py
            .detach(|| {
                self.inner.on_state_change(move |state| {
                    Python::attach(|py| {
                        let arg = PyConnectionState::from(state);
                        if let Err(e) = callback.call1(py, (arg,)) {
                            e.write_unraisable(py, Some(callback.bind(py)));
                        }
                    });
                })
            })
            .map_err(|e| errors::config_error(py, e))?;
        Ok(PyStateSubscription::new(subscription))
    }

    /// Fetches `project` (or the `folders` subtrees, or the folders `uris` name) into the local
    /// index, so that offline resolves of any URI in it get the server's answer, `latest` and
    /// `hero` included. `progress(dict)` is called on this thread after every request; it may
    /// return False to stop. Stops with `CancelledError` when `cancel.cancel()` is called from
    /// another thread, and with `KeyboardInterrupt` on Ctrl-C; the previous index keeps
    /// answering. Returns the report as a dict.
    #[pyo3(signature = (project, folders=None, uris=None, all_versions=false, progress=None,
        cancel=None))]
    #[allow(clippy::too_many_arguments)]
    fn prepare_offline<'py>(
        &self,
        py: Python<'py>,
        project: String,
        folders: Option<Vec<String>>,
        uris: Option<Vec<String>>,
        all_versions: bool,
        progress: Option<Py<PyAny>>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let scope = prepare::scope(folders, uris)?;
        let token = cancel.map(|c| c.token()).unwrap_or_default();
        prepare::run(
            py,
            &self.inner,
            project,
            scope,
            all_versions,
            progress,
            token,
        )
    }

    /// The projects prepared for offline in this resolver's cache directory.
    fn prepared_projects<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let projects = py
            .detach(|| self.inner.prepared_projects())
            .map_err(|e| prepare::prepare_error(py, &e))?;
        projects
            .iter()
            .map(|p| prepare::project_dict(py, p))
            .collect()
    }

    /// The roots of `project` for this resolver's site (`{"work": "/mnt/projects"}`): the
    /// server's answer, kept per project (resolving a URI of the project fetched it already),
    /// else the copy in the persistent cache when offline.
    fn site_roots(&self, py: Python<'_>, project: &str) -> PyResult<BTreeMap<String, String>> {
        pinning::site_roots(py, &self.inner, project).map(|r| pinning::roots_dict(&r))
    }

    /// Writes an AYON pinning file (`ayon_resolver_pinning_data`, the entry scene under
    /// `ayon_pinning_data_entry_scene`) atomically: `entries` maps identifiers to paths, made
    /// rootless with `roots` (a `name=path,…` string or a dict), by default the site roots of
    /// every project the entries' AYON URIs name. Returns how many entries were written.
    #[pyo3(signature = (path, entries, entry_scene=None, roots=None))]
    fn write_pinning_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        entries: &Bound<'_, PyDict>,
        entry_scene: Option<String>,
        roots: Option<RootsArg>,
    ) -> PyResult<usize> {
        pinning::write(py, &self.inner, path, entries, entry_scene, roots)
    }

    /// Answers per tier since the resolver was built.
    fn stats(&self) -> BTreeMap<&'static str, u64> {
        let s = self.inner.stats();
        BTreeMap::from([
            ("memory_hits", s.memory_hits),
            ("pinning_hits", s.pinning_hits),
            ("filesystem_hits", s.filesystem_hits),
            ("server_answers", s.server_answers),
            ("cache_answers", s.cache_answers),
            ("stale_answers", s.stale_answers),
            ("index_answers", s.index_answers),
            ("offline_failures", s.offline_failures),
            ("misses", s.misses),
        ])
    }

    /// Problems a user should see, in words (configuration, pinning file, cache health).
    fn diagnostics(&self, py: Python<'_>) -> Vec<String> {
        py.detach(|| self.inner.diagnostics())
    }

    fn __repr__(&self) -> String {
        format!(
            "<ayon_offline.Resolver {} {}>",
            self.pinning_policy(),
            self.inner.state().kind_str()
        )
    }
}
