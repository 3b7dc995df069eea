//! Resolver contexts: mapping pairs, a pinning file, and the answer cache they are connected
//! to (AYON's `ResolverContext`).

use std::ffi::c_char;

use ayon_resolver_core::{ErrorKind, Resolver, ResolverContext};

use crate::error::{
    Failure, arg_ref, arg_str, ayon_error, ayon_result, boundary, opt_str, out_ptr, write_out,
};
use crate::resolver::ayon_resolver;

/// A resolver context. Created by `ayon_context_new` / `ayon_context_connected`, freed by
/// `ayon_context_free`. Every call on a context is thread-safe (changes are atomic swaps), so
/// one context may be bound on many threads while another thread edits it.
#[derive(Debug)]
pub struct ayon_context {
    pub(crate) inner: ResolverContext,
}

fn hand_out(out: *mut *mut ayon_context, inner: ResolverContext) {
    write_out(out, Box::into_raw(Box::new(ayon_context { inner })));
}

/// Hands out a handle on the context `make` gives for `resolver`.
fn new_handle(
    resolver: *const ayon_resolver,
    out: *mut *mut ayon_context,
    error: *mut *mut ayon_error,
    make: impl FnOnce(&Resolver) -> ResolverContext,
) -> ayon_result {
    boundary(error, || {
        let out = out_ptr(out, "out")?;
        let r = arg_ref(resolver, "resolver")?;
        hand_out(out, make(&r.inner));
        Ok(())
    })
}

/// A call on a context that cannot fail once the handle is non-NULL.
fn on_context(context: *const ayon_context, call: impl FnOnce(&ResolverContext)) -> ayon_result {
    boundary(std::ptr::null_mut(), || {
        call(&arg_ref(context, "context")?.inner);
        Ok(())
    })
}

/// A query on a context whose answer goes to `*out` (which must not be NULL).
fn read_context<T>(
    context: *const ayon_context,
    out: *mut T,
    query: impl FnOnce(&ResolverContext) -> T,
) -> ayon_result {
    boundary(std::ptr::null_mut(), || {
        let out = out_ptr(out, "out")?;
        write_out(out, query(&arg_ref(context, "context")?.inner));
        Ok(())
    })
}

/// A call on a context with one string argument named `what`, whose yes/no answer goes to
/// `*out` (NULL to skip).
fn with_str(
    context: *const ayon_context,
    (arg, what): (*const c_char, &str),
    out: *mut bool,
    error: *mut *mut ayon_error,
    call: impl FnOnce(&ResolverContext, &str) -> bool,
) -> ayon_result {
    boundary(error, || {
        let c = arg_ref(context, "context")?;
        let arg = arg_str(arg, what)?;
        write_out(out, call(&c.inner, arg));
        Ok(())
    })
}

/// A new context of `resolver`, connected to its shared cache, with no mapping pairs and no
/// pinning file. Writes `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_new(
    resolver: *const ayon_resolver,
    out: *mut *mut ayon_context,
    error: *mut *mut ayon_error,
) -> ayon_result {
    new_handle(resolver, out, error, Resolver::new_context)
}

/// A handle on the resolver's connected context (AYON's `GetConnectedContext`: what a NULL
/// context means in `ayon_resolve`). Writes `*out`; free the handle with `ayon_context_free`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_connected(
    resolver: *const ayon_resolver,
    out: *mut *mut ayon_context,
    error: *mut *mut ayon_error,
) -> ayon_result {
    new_handle(resolver, out, error, Resolver::connected_context)
}

/// Frees a context handle; NULL is a no-op. Not while another thread uses this handle.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_free(context: *mut ayon_context) {
    if !context.is_null() {
        // SAFETY: created by `Box::into_raw` in `hand_out`, freed once by contract.
        drop(unsafe { Box::from_raw(context) });
    }
}

/// The context's identity (unique in the process; two handles on one context share it):
/// what a C++ `ArResolverContext` compares and hashes. Writes `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_id(context: *const ayon_context, out: *mut u64) -> ayon_result {
    read_context(context, out, ResolverContext::id)
}

/// How many answers the context's cache holds. Writes `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_cached_len(
    context: *const ayon_context,
    out: *mut usize,
) -> ayon_result {
    read_context(context, out, ResolverContext::cached_len)
}

/// Gives this context a new, empty cache of its own (AYON's `dropCache`); other contexts keep
/// theirs. Thread-safe (resolves running meanwhile finish on the old cache).
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_drop_cache(context: *mut ayon_context) -> ayon_result {
    on_context(context, ResolverContext::drop_cache)
}

/// Clears the cache this context is connected to, for every context connected to it (AYON's
/// `clearCache`). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_clear_cache(context: *mut ayon_context) -> ayon_result {
    on_context(context, ResolverContext::clear_cache)
}

/// Forgets one identifier in the context's cache (AYON's `deleteFromCache`); writes whether it
/// was cached to `*out_was_cached` (NULL to skip). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_delete_from_cache(
    context: *mut ayon_context,
    identifier: *const c_char,
    out_was_cached: *mut bool,
    error: *mut *mut ayon_error,
) -> ayon_result {
    with_str(
        context,
        (identifier, "identifier"),
        out_was_cached,
        error,
        ResolverContext::delete_from_cache,
    )
}

/// Adds or replaces the mapping pair `source -> target` (a URI or file path to use instead).
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_add_mapping_pair(
    context: *mut ayon_context,
    source: *const c_char,
    target: *const c_char,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let c = arg_ref(context, "context")?;
        let source = arg_str(source, "source")?;
        let target = arg_str(target, "target")?;
        c.inner.add_mapping_pair(source, target);
        Ok(())
    })
}

/// Removes the mapping pair of `source`; writes whether there was one to `*out_removed` (NULL
/// to skip). Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_remove_mapping_pair(
    context: *mut ayon_context,
    source: *const c_char,
    out_removed: *mut bool,
    error: *mut *mut ayon_error,
) -> ayon_result {
    with_str(context, (source, "source"), out_removed, error, |c, s| {
        c.remove_mapping(s).is_some()
    })
}

/// Removes every mapping pair. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_clear_mapping_pairs(context: *mut ayon_context) -> ayon_result {
    on_context(context, ResolverContext::clear_mapping_pairs)
}

/// Replaces the mapping pairs with those of an AYON mapping file
/// (`{"mappingPairs": {src: dst}}`); writes how many to `*out_count` (NULL to skip). On error
/// (`AYON_ERROR_CONFIG`) nothing changes. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_set_mapping_file(
    context: *mut ayon_context,
    path: *const c_char,
    out_count: *mut usize,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let c = arg_ref(context, "context")?;
        let path = arg_str(path, "path")?;
        let n = c
            .inner
            .set_mapping_file(path)
            .map_err(|e| Failure::new(ayon_result::from_kind(ErrorKind::Config), e.to_string()))?;
        write_out(out_count, n);
        Ok(())
    })
}

/// Uses the pinning file `path` in this context (reloaded when it changes on disk), with
/// `roots` (`name=path,name=path`; NULL: none) for its `{root[NAME]}` templates. On error
/// (`AYON_ERROR_CONFIG`) the previous pinning file stays. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_set_pinning_file(
    context: *mut ayon_context,
    path: *const c_char,
    roots: *const c_char,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let c = arg_ref(context, "context")?;
        let path = arg_str(path, "path")?;
        let config = |e: String| Failure::new(ayon_result::AYON_ERROR_CONFIG, e);
        let roots = match opt_str(roots, "roots")? {
            Some(spec) => ayon_pinning::Roots::parse(spec).map_err(|e| config(e.to_string()))?,
            None => ayon_pinning::Roots::new(),
        };
        c.inner
            .set_pinning_file(path, roots)
            .map_err(|e| config(e.to_string()))
    })
}

/// Stops using a pinning file in this context. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_context_clear_pinning_file(context: *mut ayon_context) -> ayon_result {
    on_context(context, ResolverContext::clear_pinning_file)
}
