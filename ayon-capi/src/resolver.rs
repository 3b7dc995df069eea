//! The resolver handle: construction, resolution (one, many, prewarm) and identifiers.

use std::ffi::c_char;
use std::time::Duration;

use ayon_resolver_core::{
    AssetKind, PinningPolicy, ResolveError, Resolved, Resolver, ResolverBuilder, Source,
};

use crate::context::ayon_context;
use crate::error::{
    Failure, arg_ref, arg_str, ayon_error, ayon_result, boundary, c_string, opt_str, out_ptr,
    write_out,
};
use crate::strings::{owned, to_buffer};

/// A resolver: its caches, pinning, contexts and (lazily) the AYON client. Created by
/// `ayon_resolver_new*`, freed by `ayon_resolver_free`. Every call taking a
/// `const ayon_resolver *` is thread-safe: share one resolver between all threads.
#[derive(Debug)]
pub struct ayon_resolver {
    pub(crate) inner: Resolver,
}

/// What AYON URIs are answered from.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ayon_pinning_policy {
    /// As the environment says (pinning-only when `AYON_USD_RESOLVER_ENABLE_PINNING` is on,
    /// live otherwise).
    AYON_PINNING_FROM_ENV = 0,
    /// Mapping, cache, then the server with offline fallback.
    AYON_PINNING_LIVE = 1,
    /// Farm mode: the pinning file only, never the server.
    AYON_PINNING_ONLY = 2,
    /// The pinning file first, then the live path.
    AYON_PINNING_THEN_LIVE = 3,
}

/// Where an answer came from.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ayon_source {
    /// The AYON server answered just now.
    AYON_SOURCE_SERVER = 0,
    /// A cache, within its freshness.
    AYON_SOURCE_CACHE = 1,
    /// A cache past its freshness (the server is offline or failing).
    AYON_SOURCE_STALE_CACHE = 2,
    /// A prepared project's local index.
    AYON_SOURCE_LOCAL_INDEX = 3,
    /// A pinning file.
    AYON_SOURCE_PINNING = 4,
    /// A mapping pair of the context.
    AYON_SOURCE_MAPPING = 5,
    /// A file path found on disk.
    AYON_SOURCE_FILESYSTEM = 6,
}

impl From<Source> for ayon_source {
    fn from(s: Source) -> ayon_source {
        match s {
            Source::Server => ayon_source::AYON_SOURCE_SERVER,
            Source::Cache { stale: true } => ayon_source::AYON_SOURCE_STALE_CACHE,
            Source::Cache { stale: false } => ayon_source::AYON_SOURCE_CACHE,
            Source::LocalIndex { .. } => ayon_source::AYON_SOURCE_LOCAL_INDEX,
            Source::Pinning => ayon_source::AYON_SOURCE_PINNING,
            Source::Mapping => ayon_source::AYON_SOURCE_MAPPING,
            Source::Filesystem => ayon_source::AYON_SOURCE_FILESYSTEM,
            // A source added later: the closest honest label.
            _ => ayon_source::AYON_SOURCE_CACHE,
        }
    }
}

/// How to build a resolver. Start from `ayon_resolver_config_default()` and set what you
/// need; strings are borrowed for the duration of `ayon_resolver_new` only. NULL strings and
/// zero numbers mean "the default" (the environment is not read).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ayon_resolver_config {
    /// The AYON server's URL (needed for AYON URIs unless pinning-only).
    pub server_url: *const c_char,
    /// An API key or a session token.
    pub api_key: *const c_char,
    /// This machine's site id.
    pub site_id: *const c_char,
    /// The project the host works in (events of this project refresh `latest`).
    pub project: *const c_char,
    /// Directory of the persistent cache (else `AYON_OFFLINE_CACHE_DIR`, else per-user).
    pub cache_dir: *const c_char,
    /// The resolver-wide pinning file.
    pub pinning_file: *const c_char,
    /// Roots for `{root[NAME]}` in pinning files, `name=path,name=path` (else the
    /// `AYON_USD_RESOLVER_PINNING_ROOTS` environment variable).
    pub pinning_roots: *const c_char,
    /// What AYON URIs are answered from.
    pub pinning_policy: ayon_pinning_policy,
    /// Keep answers in memory only (nothing written to disk).
    pub memory_only: bool,
    /// Watch the server's websocket to learn at once when it goes away (default true).
    pub monitor: bool,
    /// Never contact the server.
    pub force_offline: bool,
    /// TCP connect timeout in milliseconds (0: the client's default).
    pub connect_timeout_ms: u32,
    /// Whole-request timeout in milliseconds (0: the client's default).
    pub request_timeout_ms: u32,
    /// First reconnect delay of the monitor in milliseconds (0: default).
    pub reconnect_initial_ms: u32,
    /// Longest reconnect delay of the monitor in milliseconds (0: default).
    pub reconnect_max_ms: u32,
    /// How many decoded answers to keep in memory (0: default).
    pub answer_capacity: usize,
}

/// A configuration with every field at its default (`monitor` on, the rest NULL/0/false).
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolver_config_default() -> ayon_resolver_config {
    ayon_resolver_config {
        server_url: std::ptr::null(),
        api_key: std::ptr::null(),
        site_id: std::ptr::null(),
        project: std::ptr::null(),
        cache_dir: std::ptr::null(),
        pinning_file: std::ptr::null(),
        pinning_roots: std::ptr::null(),
        pinning_policy: ayon_pinning_policy::AYON_PINNING_FROM_ENV,
        memory_only: false,
        monitor: true,
        force_offline: false,
        connect_timeout_ms: 0,
        request_timeout_ms: 0,
        reconnect_initial_ms: 0,
        reconnect_max_ms: 0,
        answer_capacity: 0,
    }
}

fn builder_from(c: &ayon_resolver_config) -> Result<ResolverBuilder, Failure> {
    let mut b = Resolver::builder();
    if let Some(v) = opt_str(c.server_url, "config.server_url")? {
        b = b.server_url(v);
    }
    if let Some(v) = opt_str(c.api_key, "config.api_key")? {
        b = b.api_key(v);
    }
    if let Some(v) = opt_str(c.site_id, "config.site_id")? {
        b = b.site_id(v);
    }
    if let Some(v) = opt_str(c.project, "config.project")? {
        b = b.project(v);
    }
    if let Some(v) = opt_str(c.cache_dir, "config.cache_dir")? {
        b = b.cache_dir(v);
    }
    if let Some(v) = opt_str(c.pinning_file, "config.pinning_file")? {
        b = b.pinning_file(v);
    }
    if let Some(v) = opt_str(c.pinning_roots, "config.pinning_roots")? {
        let roots = ayon_pinning::Roots::parse(v).map_err(|e| {
            Failure::new(
                ayon_result::AYON_ERROR_CONFIG,
                format!("config.pinning_roots: {e}"),
            )
        })?;
        b = b.pinning_roots(roots);
    }
    b = match c.pinning_policy {
        ayon_pinning_policy::AYON_PINNING_FROM_ENV => b,
        ayon_pinning_policy::AYON_PINNING_LIVE => b.pinning_policy(PinningPolicy::Live),
        ayon_pinning_policy::AYON_PINNING_ONLY => b.pinning_policy(PinningPolicy::PinningOnly),
        ayon_pinning_policy::AYON_PINNING_THEN_LIVE => {
            b.pinning_policy(PinningPolicy::PinningThenLive)
        }
    };
    b = b
        .memory_only(c.memory_only)
        .monitor(c.monitor)
        .force_offline(c.force_offline);
    let ms = |v: u32| Duration::from_millis(u64::from(v));
    if c.connect_timeout_ms > 0 {
        b = b.connect_timeout(ms(c.connect_timeout_ms));
    }
    if c.request_timeout_ms > 0 {
        b = b.request_timeout(ms(c.request_timeout_ms));
    }
    if c.reconnect_initial_ms > 0 || c.reconnect_max_ms > 0 {
        let initial = ms(c.reconnect_initial_ms.max(1));
        let max = ms(c.reconnect_max_ms.max(c.reconnect_initial_ms).max(1));
        b = b.reconnect_backoff(initial, max);
    }
    if c.answer_capacity > 0 {
        b = b.answer_capacity(c.answer_capacity);
    }
    Ok(b)
}

fn hand_out(out: *mut *mut ayon_resolver, resolver: Resolver) {
    write_out(
        out,
        Box::into_raw(Box::new(ayon_resolver { inner: resolver })),
    );
}

/// A resolver configured from the environment (`AYON_SERVER_URL`, `AYON_API_KEY`,
/// `AYON_SITE_ID`, pinning variables...). Never waits on the network: problems show in the
/// calls that need the server. Writes `*out` on success. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolver_new_from_env(
    out: *mut *mut ayon_resolver,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let out = out_ptr(out, "out")?;
        hand_out(out, Resolver::from_env());
        Ok(())
    })
}

/// A resolver from `config` (the environment is not read, except for pinning roots when
/// `config->pinning_roots` is NULL). Writes `*out` on success. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolver_new(
    config: *const ayon_resolver_config,
    out: *mut *mut ayon_resolver,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let config = arg_ref(config, "config")?;
        let out = out_ptr(out, "out")?;
        hand_out(out, builder_from(config)?.build());
        Ok(())
    })
}

/// Frees a resolver; NULL is a no-op. Contexts and subscriptions made from it stay valid
/// (and must still be freed). Not thread-safe with other calls on the same resolver: free it
/// once no thread uses it.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolver_free(resolver: *mut ayon_resolver) {
    if !resolver.is_null() {
        // SAFETY: created by `Box::into_raw` in `hand_out`, freed once by contract.
        drop(unsafe { Box::from_raw(resolver) });
    }
}

/// Resolves in `context`, or in the connected context when it is NULL.
fn resolve_in(
    resolver: *const ayon_resolver,
    context: *const ayon_context,
    asset_path: *const c_char,
) -> Result<Resolved, Failure> {
    let r = &arg_ref(resolver, "resolver")?.inner;
    let path = arg_str(asset_path, "asset_path")?;
    let answer = if context.is_null() {
        r.resolve(path)
    } else {
        r.resolve_in(&arg_ref(context, "context")?.inner, path)
    };
    Ok(answer?)
}

/// Resolves `asset_path` (an AYON URI or a file path) in `context` (NULL: the resolver's
/// connected context) into the caller's buffer `buf` of `buf_len` bytes, NUL-terminated.
///
/// On `AYON_OK` writes the path, its length without the NUL to `*out_len`, and its source to
/// `*out_source` (NULL to skip). On `AYON_ERROR_BUFFER_TOO_SMALL` (or a NULL `buf`) writes
/// only the needed length (without the NUL) to `*out_len`: call again with `*out_len + 1`
/// bytes (the answer is cached by then). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolve(
    resolver: *const ayon_resolver,
    context: *const ayon_context,
    asset_path: *const c_char,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
    out_source: *mut ayon_source,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let out_len = out_ptr(out_len, "out_len")?;
        let resolved = resolve_in(resolver, context, asset_path)?;
        to_buffer(&resolved.path, buf, buf_len, out_len)?;
        write_out(out_source, resolved.source.into());
        Ok(())
    })
}

/// Resolves `asset_path` in `context` (NULL: the connected context) into a new string
/// `*out_path`, freed with `ayon_string_free`; writes the source to `*out_source` (NULL to
/// skip). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolve_owned(
    resolver: *const ayon_resolver,
    context: *const ayon_context,
    asset_path: *const c_char,
    out_path: *mut *mut c_char,
    out_source: *mut ayon_source,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let out_path = out_ptr(out_path, "out_path")?;
        let resolved = resolve_in(resolver, context, asset_path)?;
        write_out(out_path, owned(resolved.path));
        write_out(out_source, resolved.source.into());
        Ok(())
    })
}

/// The answers of `ayon_resolve_many`, one per input, in order. Freed by `ayon_batch_free`;
/// reading it from many threads at once is safe.
#[derive(Debug)]
pub struct ayon_batch {
    items: Vec<BatchItem>,
}

#[derive(Debug)]
struct BatchItem {
    code: ayon_result,
    source: ayon_source,
    /// The path on success, the error message on failure.
    text: std::ffi::CString,
}

/// Reads `count` required strings (`what[i]` in errors).
pub(crate) fn string_array<'a>(
    items: *const *const c_char,
    count: usize,
    what: &str,
) -> Result<Vec<&'a str>, Failure> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL and, by contract, `count` readable pointers.
    let ptrs = unsafe { std::slice::from_raw_parts(items, count) };
    ptrs.iter()
        .enumerate()
        .map(|(i, p)| arg_str(*p, &format!("{what}[{i}]")))
        .collect()
}

/// Resolves `count` asset paths in `context` (NULL: the connected context) with one server
/// round trip for all URIs that need one. Every element gets its own result: read them with
/// `ayon_batch_get`. Fails as a whole only for bad arguments (a NULL or non-UTF-8 element).
/// Writes `*out_batch` on success. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolve_many(
    resolver: *const ayon_resolver,
    context: *const ayon_context,
    asset_paths: *const *const c_char,
    count: usize,
    out_batch: *mut *mut ayon_batch,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let out_batch = out_ptr(out_batch, "out_batch")?;
        let r = &arg_ref(resolver, "resolver")?.inner;
        let paths = string_array(asset_paths, count, "asset_paths")?;
        let answers = if context.is_null() {
            r.resolve_many(&paths)
        } else {
            r.resolve_many_in(&arg_ref(context, "context")?.inner, &paths)
        };
        let items = answers.into_iter().map(batch_item).collect();
        write_out(out_batch, Box::into_raw(Box::new(ayon_batch { items })));
        Ok(())
    })
}

fn batch_item(answer: Result<Resolved, ResolveError>) -> BatchItem {
    match answer {
        Ok(r) => BatchItem {
            code: ayon_result::AYON_OK,
            source: r.source.into(),
            text: c_string(r.path),
        },
        Err(e) => BatchItem {
            code: ayon_result::from_kind(e.kind()),
            source: ayon_source::AYON_SOURCE_SERVER,
            text: c_string(e.to_string()),
        },
    }
}

/// The number of answers in a batch (0 for NULL). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_batch_len(batch: *const ayon_batch) -> usize {
    arg_ref(batch, "batch").map_or(0, |b| b.items.len())
}

/// Element `index` of a batch: returns its result code (`AYON_ERROR_OUT_OF_RANGE` for a bad
/// index, `AYON_ERROR_NULL_ARGUMENT` for a NULL batch). Always writes `*out_text` (NULL to
/// skip): the path when the element's code is `AYON_OK`, else its error message, valid until
/// `ayon_batch_free`. Writes `*out_source` (NULL to skip) only for `AYON_OK`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_batch_get(
    batch: *const ayon_batch,
    index: usize,
    out_text: *mut *const c_char,
    out_source: *mut ayon_source,
) -> ayon_result {
    let b = match arg_ref(batch, "batch") {
        Ok(b) => b,
        Err(f) => return f.code,
    };
    let Some(item) = b.items.get(index) else {
        return ayon_result::AYON_ERROR_OUT_OF_RANGE;
    };
    write_out(out_text, item.text.as_ptr());
    if item.code == ayon_result::AYON_OK {
        write_out(out_source, item.source);
    }
    item.code
}

/// Frees a batch and its strings; NULL is a no-op. Not while another thread reads it.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_batch_free(batch: *mut ayon_batch) {
    if !batch.is_null() {
        // SAFETY: created by `Box::into_raw` in `ayon_resolve_many`, freed once by contract.
        drop(unsafe { Box::from_raw(batch) });
    }
}

/// Warms the caches for `count` URIs in one batched round trip (USD's
/// `_CreateDefaultContextForAsset` is a good moment: the whole layer's dependencies);
/// writes how many resolved to `*out_resolved` (NULL to skip). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_prewarm(
    resolver: *const ayon_resolver,
    uris: *const *const c_char,
    count: usize,
    out_resolved: *mut usize,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let r = &arg_ref(resolver, "resolver")?.inner;
        let uris = string_array(uris, count, "uris")?;
        write_out(out_resolved, r.prewarm(&uris));
        Ok(())
    })
}

/// The identifier for `asset_path` named in the layer `anchor` (NULL: none), as USD's
/// `CreateIdentifier`: AYON URIs unchanged, relative file paths anchored. Writes a new string
/// to `*out` (free with `ayon_string_free`). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_create_identifier(
    resolver: *const ayon_resolver,
    asset_path: *const c_char,
    anchor: *const c_char,
    out: *mut *mut c_char,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let out = out_ptr(out, "out")?;
        let r = &arg_ref(resolver, "resolver")?.inner;
        let path = arg_str(asset_path, "asset_path")?;
        let anchor = opt_str(anchor, "anchor")?;
        write_out(out, owned(r.create_identifier(path, anchor)));
        Ok(())
    })
}

/// What kind of asset path a string is.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ayon_asset_kind {
    /// The empty string.
    AYON_ASSET_EMPTY = 0,
    /// `ayon://...` or `ayon+entity://...`.
    AYON_ASSET_AYON_URI = 1,
    /// An absolute file path (POSIX, drive letter or UNC).
    AYON_ASSET_ABSOLUTE = 2,
    /// `./...` or `../...`: relative to the layer that names it.
    AYON_ASSET_FILE_RELATIVE = 3,
    /// Any other relative path: the working directory, then the search path.
    AYON_ASSET_SEARCH_PATH = 4,
}

/// Classifies `asset_path` (without its `:SDF_FORMAT_ARGS:` suffix); writes `*out`.
/// Thread-safe, no I/O.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_asset_kind_of(
    asset_path: *const c_char,
    out: *mut ayon_asset_kind,
) -> ayon_result {
    boundary(std::ptr::null_mut(), || {
        let out = out_ptr(out, "out")?;
        let path = arg_str(asset_path, "asset_path")?;
        let (base, _) = ayon_resolver_core::split_sdf_args(path);
        let kind = match AssetKind::of(base) {
            AssetKind::Empty => ayon_asset_kind::AYON_ASSET_EMPTY,
            AssetKind::AyonUri => ayon_asset_kind::AYON_ASSET_AYON_URI,
            AssetKind::Absolute => ayon_asset_kind::AYON_ASSET_ABSOLUTE,
            AssetKind::FileRelative => ayon_asset_kind::AYON_ASSET_FILE_RELATIVE,
            AssetKind::SearchPath => ayon_asset_kind::AYON_ASSET_SEARCH_PATH,
        };
        write_out(out, kind);
        Ok(())
    })
}

/// USD's `_IsContextDependentPath`: whether the answer for `asset_path` depends on the bound
/// context (AYON URIs and search paths). Writes `*out`. Thread-safe, no I/O.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_is_context_dependent_path(
    asset_path: *const c_char,
    out: *mut bool,
) -> ayon_result {
    boundary(std::ptr::null_mut(), || {
        let out = out_ptr(out, "out")?;
        let path = arg_str(asset_path, "asset_path")?;
        let (base, _) = ayon_resolver_core::split_sdf_args(path);
        write_out(out, AssetKind::of(base).is_context_dependent());
        Ok(())
    })
}

/// USD's `_GetModificationTimestamp` for a *resolved* path (what `ayon_resolve` returned,
/// `:SDF_FORMAT_ARGS:` suffix allowed): its modification time in nanoseconds since the Unix
/// epoch, written to `*out_unix_ns`. `AYON_ERROR_NOT_FOUND` when the file cannot be read.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_modification_time(
    resolved_path: *const c_char,
    out_unix_ns: *mut i64,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let out = out_ptr(out_unix_ns, "out_unix_ns")?;
        let path = arg_str(resolved_path, "resolved_path")?;
        let (base, _) = ayon_resolver_core::split_sdf_args(path);
        let not_found = |e: std::io::Error| {
            Failure::new(ayon_result::AYON_ERROR_NOT_FOUND, format!("{base}: {e}"))
        };
        let modified = std::fs::metadata(base)
            .and_then(|m| m.modified())
            .map_err(not_found)?;
        let ns = match modified.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
        };
        write_out(out, ns);
        Ok(())
    })
}
