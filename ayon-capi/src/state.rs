//! Connection state, its change callback, and the resolver's counters.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use ayon_resolver_core::{ConnectionState, StateSubscription};
use parking_lot::Mutex;

use crate::error::{
    Failure, arg_ref, ayon_error, ayon_result, boundary, c_string, out_ptr, write_out,
};
use crate::resolver::ayon_resolver;

/// Whether the AYON server is reachable, as far as the resolver knows.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ayon_connection_state {
    /// Not known yet (the client has not started, or no attempt has finished).
    AYON_STATE_UNKNOWN = 0,
    /// The server answers.
    AYON_STATE_ONLINE = 1,
    /// The server is unreachable; answers come from caches, index and pinning.
    AYON_STATE_OFFLINE = 2,
}

fn to_c(state: &ConnectionState) -> ayon_connection_state {
    match state {
        ConnectionState::Online => ayon_connection_state::AYON_STATE_ONLINE,
        ConnectionState::Offline { .. } => ayon_connection_state::AYON_STATE_OFFLINE,
        _ => ayon_connection_state::AYON_STATE_UNKNOWN,
    }
}

/// The connection state now, without blocking. Writes `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolver_state(
    resolver: *const ayon_resolver,
    out: *mut ayon_connection_state,
) -> ayon_result {
    boundary(std::ptr::null_mut(), || {
        let out = out_ptr(out, "out")?;
        write_out(out, to_c(&arg_ref(resolver, "resolver")?.inner.state()));
        Ok(())
    })
}

/// Starts the AYON client and its connection monitor now (in the background; never waits on
/// the network) instead of at the first AYON URI. `AYON_ERROR_CONFIG` when the configuration
/// cannot reach a server. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolver_connect(
    resolver: *const ayon_resolver,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let r = arg_ref(resolver, "resolver")?;
        r.inner
            .connect()
            .map_err(|p| Failure::new(ayon_result::AYON_ERROR_CONFIG, p))
    })
}

/// A state-change callback: `userdata` as registered, the new state, and a description
/// (`"online"`, `"offline (reason)"`) valid only during the call. Called on a thread of the
/// library's, one call at a time, in order. It must not call `ayon_subscription_free` on its
/// own subscription.
pub type ayon_state_callback = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        state: ayon_connection_state,
        detail: *const c_char,
    ),
>;

/// A state-change registration; `ayon_subscription_free` unregisters it.
#[derive(Debug)]
pub struct ayon_subscription {
    /// Cleared (under the lock) by `ayon_subscription_free`: after it returns, the callback
    /// is neither running nor called again, so the host may free `userdata`.
    live: Arc<Mutex<Option<Callback>>>,
    _inner: StateSubscription,
}

#[derive(Debug)]
struct Callback {
    function: unsafe extern "C" fn(*mut c_void, ayon_connection_state, *const c_char),
    userdata: *mut c_void,
}

// SAFETY: the host registers `userdata` knowing the callback runs on a library thread (the
// header says so); we only pass it back, never dereference it.
unsafe impl Send for Callback {}

/// Calls `callback(userdata, state, detail)` on every connection state change until the
/// returned subscription is freed. Needs a server URL and a credential (else
/// `AYON_ERROR_CONFIG`). Writes `*out` on success. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolver_on_state_change(
    resolver: *const ayon_resolver,
    callback: ayon_state_callback,
    userdata: *mut c_void,
    out: *mut *mut ayon_subscription,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let out = out_ptr(out, "out")?;
        let r = arg_ref(resolver, "resolver")?;
        let function = callback.ok_or_else(|| Failure::null("callback"))?;
        let live = Arc::new(Mutex::new(Some(Callback { function, userdata })));
        let gate = live.clone();
        let inner = r
            .inner
            .on_state_change(move |state| {
                let guard = gate.lock();
                if let Some(cb) = guard.as_ref() {
                    let detail = c_string(state.to_string());
                    // SAFETY: a C function pointer the host registered with this userdata;
                    // `detail` lives until after the call.
                    unsafe { (cb.function)(cb.userdata, to_c(state), detail.as_ptr()) };
                }
            })
            .map_err(|p| Failure::new(ayon_result::AYON_ERROR_CONFIG, p))?;
        let sub = ayon_subscription {
            live,
            _inner: inner,
        };
        write_out(out, Box::into_raw(Box::new(sub)));
        Ok(())
    })
}

/// Unregisters and frees a subscription; NULL is a no-op. When it returns the callback is not
/// running and will not be called again. Thread-safe, except from inside that callback.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_subscription_free(subscription: *mut ayon_subscription) {
    if subscription.is_null() {
        return;
    }
    // SAFETY: created by `Box::into_raw` in `ayon_resolver_on_state_change`, freed once.
    let sub = unsafe { Box::from_raw(subscription) };
    sub.live.lock().take();
    drop(sub);
}

/// What a resolver answered from since it was built.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ayon_stats {
    /// Answers from the decoded-answer cache (the hot path).
    pub memory_hits: u64,
    /// Answers from a pinning file.
    pub pinning_hits: u64,
    /// File paths found on disk (or through a mapping pair).
    pub filesystem_hits: u64,
    /// Answers the server gave.
    pub server_answers: u64,
    /// Fresh answers from the persistent cache.
    pub cache_answers: u64,
    /// Cache answers past their freshness.
    pub stale_answers: u64,
    /// Answers from a prepared project's local index.
    pub index_answers: u64,
    /// URIs that failed because the server was unreachable and nothing was cached.
    pub offline_failures: u64,
    /// Everything else that did not resolve.
    pub misses: u64,
}

/// The resolver's counters. Writes `*out`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_resolver_stats(
    resolver: *const ayon_resolver,
    out: *mut ayon_stats,
) -> ayon_result {
    boundary(std::ptr::null_mut(), || {
        let out = out_ptr(out, "out")?;
        let s = arg_ref(resolver, "resolver")?.inner.stats();
        write_out(
            out,
            ayon_stats {
                memory_hits: s.memory_hits,
                pinning_hits: s.pinning_hits,
                filesystem_hits: s.filesystem_hits,
                server_answers: s.server_answers,
                cache_answers: s.cache_answers,
                stale_answers: s.stale_answers,
                index_answers: s.index_answers,
                offline_failures: s.offline_failures,
                misses: s.misses,
            },
        );
        Ok(())
    })
}
