//! Preparing a project for offline work, with progress and cancellation.

use std::ffi::{c_char, c_void};

use ayon_resolver_core::{CancelToken, PrepareOptions, PrepareProgress, PrepareScope};

use crate::error::{Failure, arg_ref, arg_str, ayon_error, ayon_result, boundary, write_out};
use crate::resolver::ayon_resolver;

/// Cancels a running `ayon_prepare_offline` from another thread. Created by
/// `ayon_cancel_token_new`, freed by `ayon_cancel_token_free`; every call is thread-safe.
#[derive(Debug)]
pub struct ayon_cancel_token {
    inner: CancelToken,
}

/// A new token, not cancelled; NULL only if memory is exhausted. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_cancel_token_new() -> *mut ayon_cancel_token {
    Box::into_raw(Box::new(ayon_cancel_token {
        inner: CancelToken::new(),
    }))
}

/// Asks the prepare using this token to stop (between requests; the previous index keeps
/// answering, and the prepare returns `AYON_ERROR_CANCELLED`). Thread-safe, also from inside
/// a progress callback.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_cancel_token_cancel(token: *const ayon_cancel_token) -> ayon_result {
    boundary(std::ptr::null_mut(), || {
        arg_ref(token, "token")?.inner.cancel();
        Ok(())
    })
}

/// Frees a token; NULL is a no-op. Not while a prepare uses it.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_cancel_token_free(token: *mut ayon_cancel_token) {
    if !token.is_null() {
        // SAFETY: created by `Box::into_raw` in `ayon_cancel_token_new`, freed once.
        drop(unsafe { Box::from_raw(token) });
    }
}

/// Where a prepare is, passed to the progress callback (valid only during the call).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ayon_prepare_progress {
    /// `"fetching"` or `"writing"` (a static string).
    pub phase: *const c_char,
    /// Entities fetched (or written, while writing).
    pub entities: u64,
    /// Response bytes received.
    pub bytes: u64,
    /// Requests made.
    pub requests: u64,
}

/// A progress callback: `userdata` as given, and the progress. Called on the calling thread
/// or a library thread, one call at a time, only while `ayon_prepare_offline` runs.
pub type ayon_prepare_progress_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, progress: *const ayon_prepare_progress)>;

/// What a finished prepare did.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct ayon_prepare_report {
    /// Folders indexed.
    pub folders: u64,
    /// Products indexed.
    pub products: u64,
    /// Versions indexed.
    pub versions: u64,
    /// Representations indexed.
    pub representations: u64,
    /// Response bytes received.
    pub bytes: u64,
    /// Requests made.
    pub requests: u64,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

/// The host's callback and its userdata, called from whichever thread reports progress.
struct Progress {
    function: unsafe extern "C" fn(*mut c_void, *const ayon_prepare_progress),
    userdata: *mut c_void,
    /// One call at a time, as documented.
    lock: parking_lot::Mutex<()>,
}

// SAFETY: the header tells the host the callback may run on a library thread during the
// call; we pass `userdata` back and never dereference it.
unsafe impl Send for Progress {}
// SAFETY: as above; calls are serialised by `lock`.
unsafe impl Sync for Progress {}

impl Progress {
    fn report(&self, p: &PrepareProgress) {
        let phase = match p.phase {
            "writing" => c"writing",
            _ => c"fetching",
        };
        let c = ayon_prepare_progress {
            phase: phase.as_ptr(),
            entities: p.entities,
            bytes: p.bytes,
            requests: p.requests,
        };
        let _one = self.lock.lock();
        // SAFETY: the host's function pointer with its own userdata; `c` outlives the call.
        unsafe { (self.function)(self.userdata, &c) };
    }
}

/// Prepares `project` for offline work: fetches it into the local index, so later offline
/// resolves of its URIs (`latest` and `hero` included) get the server's answer.
/// `folders`/`folder_count` limit it to folder subtrees (`assets/characters`); 0 folders is
/// the whole project. `all_versions` false keeps only what moving versions and the newest
/// exact ones need. `cancel` (NULL: none) stops it; `progress` (NULL: none) is called after
/// every request. Blocks until done; writes `*out_report` (NULL to skip) on success.
/// Thread-safe; a memory-only resolver has no index (`AYON_ERROR_CONFIG`).
#[unsafe(no_mangle)]
pub extern "C" fn ayon_prepare_offline(
    resolver: *const ayon_resolver,
    project: *const c_char,
    folders: *const *const c_char,
    folder_count: usize,
    all_versions: bool,
    cancel: *const ayon_cancel_token,
    progress: ayon_prepare_progress_callback,
    userdata: *mut c_void,
    out_report: *mut ayon_prepare_report,
    error: *mut *mut ayon_error,
) -> ayon_result {
    boundary(error, || {
        let r = &arg_ref(resolver, "resolver")?.inner;
        let project = arg_str(project, "project")?;
        let scope = if folder_count == 0 {
            PrepareScope::Project
        } else {
            let folders = crate::resolver::string_array(folders, folder_count, "folders")?;
            PrepareScope::Folders(folders.into_iter().map(str::to_owned).collect())
        };
        let options = PrepareOptions {
            all_versions,
            ..PrepareOptions::default()
        };
        let token = if cancel.is_null() {
            CancelToken::new()
        } else {
            arg_ref(cancel, "cancel")?.inner.clone()
        };
        let host = progress.map(|function| Progress {
            function,
            userdata,
            lock: parking_lot::Mutex::new(()),
        });
        let report = r
            .prepare_offline(project, &scope, &options, &token, &|p: &PrepareProgress| {
                if let Some(h) = &host {
                    h.report(p);
                }
            })
            .map_err(|e| Failure::new(ayon_result::from_kind(e.kind()), e.to_string()))?;
        write_out(
            out_report,
            ayon_prepare_report {
                folders: report.folders,
                products: report.products,
                versions: report.versions,
                representations: report.representations,
                bytes: report.bytes,
                requests: report.requests,
                elapsed_ms: u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
            },
        );
        Ok(())
    })
}
