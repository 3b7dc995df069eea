//! Result codes, the owned error object, and the boundary every call goes through: NULL
//! checks, UTF-8 checks and panics turned into codes.

use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use ayon_resolver_core::ErrorKind;

/// What a call returned. `AYON_OK` is zero; every other value is a failure and the call wrote
/// none of its outputs (except `AYON_ERROR_BUFFER_TOO_SMALL`, which writes the needed length).
/// One code per error kind of the resolver (the same vocabulary as the CLI's `kind` field, see
/// `ayon_result_code_str`), plus the boundary's own.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ayon_result {
    /// Success.
    AYON_OK = 0,
    /// `invalid`: not a valid AYON URI.
    AYON_ERROR_INVALID_URI = 1,
    /// `not_found`: no such entity, or a file path not on disk.
    AYON_ERROR_NOT_FOUND = 2,
    /// `server_error`: the server answered this URI with an error.
    AYON_ERROR_SERVER_ERROR = 3,
    /// `offline`: the server is unreachable and nothing was cached.
    AYON_ERROR_OFFLINE = 4,
    /// `unknown_root`: a `{root[NAME]}` this site does not define.
    AYON_ERROR_UNKNOWN_ROOT = 5,
    /// `auth`: the server rejected the credential.
    AYON_ERROR_AUTH = 6,
    /// `transport`: the server could not be reached.
    AYON_ERROR_TRANSPORT = 7,
    /// `timeout`: no answer in the configured time.
    AYON_ERROR_TIMEOUT = 8,
    /// `http`: the server answered the whole request with an error status.
    AYON_ERROR_HTTP = 9,
    /// `decode`: the server's answer did not follow the protocol.
    AYON_ERROR_DECODE = 10,
    /// `config`: the configuration is incomplete or wrong (no server URL, bad file...).
    AYON_ERROR_CONFIG = 11,
    /// `not_pinned`: pinning mode and the pinning file has no entry.
    AYON_ERROR_NOT_PINNED = 12,
    /// `cache`: the local cache could not be read or written.
    AYON_ERROR_CACHE = 13,
    /// `runtime`: the library's async runtime is unavailable.
    AYON_ERROR_RUNTIME = 14,
    /// `cancelled`: the caller cancelled the operation (`ayon_cancel_token_cancel`).
    AYON_ERROR_CANCELLED = 15,
    /// A required pointer argument was NULL.
    AYON_ERROR_NULL_ARGUMENT = 100,
    /// The caller's buffer is too small; the needed length was written.
    AYON_ERROR_BUFFER_TOO_SMALL = 101,
    /// A string argument is not valid UTF-8.
    AYON_ERROR_INVALID_UTF8 = 102,
    /// An index argument is out of range.
    AYON_ERROR_OUT_OF_RANGE = 103,
    /// A bug in the library: a Rust panic was caught at the boundary.
    AYON_ERROR_PANIC = 104,
    /// A string given to `ayon_string_free` that this library did not hand out, or already
    /// freed (a double free is answered with this code, not a crash).
    AYON_ERROR_NOT_OWNED = 105,
}

use ayon_result::*;

impl ayon_result {
    /// The code for a resolver error kind (kinds added later map to `AYON_ERROR_RUNTIME`
    /// until they get their own code).
    pub fn from_kind(kind: ErrorKind) -> ayon_result {
        match kind {
            ErrorKind::InvalidUri => AYON_ERROR_INVALID_URI,
            ErrorKind::NotFound => AYON_ERROR_NOT_FOUND,
            ErrorKind::ServerError => AYON_ERROR_SERVER_ERROR,
            ErrorKind::Offline => AYON_ERROR_OFFLINE,
            ErrorKind::UnknownRoot => AYON_ERROR_UNKNOWN_ROOT,
            ErrorKind::Auth => AYON_ERROR_AUTH,
            ErrorKind::Transport => AYON_ERROR_TRANSPORT,
            ErrorKind::Timeout => AYON_ERROR_TIMEOUT,
            ErrorKind::Http => AYON_ERROR_HTTP,
            ErrorKind::Decode => AYON_ERROR_DECODE,
            ErrorKind::Config => AYON_ERROR_CONFIG,
            ErrorKind::NotPinned => AYON_ERROR_NOT_PINNED,
            ErrorKind::Cache => AYON_ERROR_CACHE,
            ErrorKind::Runtime => AYON_ERROR_RUNTIME,
            ErrorKind::Cancelled => AYON_ERROR_CANCELLED,
            _ => AYON_ERROR_RUNTIME,
        }
    }

    /// The stable snake_case code: the error kind's for kind codes, ours for the others.
    pub fn code_str(self) -> &'static CStr {
        match self {
            AYON_OK => c"ok",
            AYON_ERROR_INVALID_URI => c"invalid",
            AYON_ERROR_NOT_FOUND => c"not_found",
            AYON_ERROR_SERVER_ERROR => c"server_error",
            AYON_ERROR_OFFLINE => c"offline",
            AYON_ERROR_UNKNOWN_ROOT => c"unknown_root",
            AYON_ERROR_AUTH => c"auth",
            AYON_ERROR_TRANSPORT => c"transport",
            AYON_ERROR_TIMEOUT => c"timeout",
            AYON_ERROR_HTTP => c"http",
            AYON_ERROR_DECODE => c"decode",
            AYON_ERROR_CONFIG => c"config",
            AYON_ERROR_NOT_PINNED => c"not_pinned",
            AYON_ERROR_CACHE => c"cache",
            AYON_ERROR_RUNTIME => c"runtime",
            AYON_ERROR_CANCELLED => c"cancelled",
            AYON_ERROR_NULL_ARGUMENT => c"null_argument",
            AYON_ERROR_BUFFER_TOO_SMALL => c"buffer_too_small",
            AYON_ERROR_INVALID_UTF8 => c"invalid_utf8",
            AYON_ERROR_OUT_OF_RANGE => c"out_of_range",
            AYON_ERROR_PANIC => c"panic",
            AYON_ERROR_NOT_OWNED => c"not_owned",
        }
    }
}

/// An error: its code and its message. Created by the library (through a call's
/// `ayon_error **error` argument), freed by the caller with `ayon_error_free`.
#[derive(Debug)]
pub struct ayon_error {
    pub(crate) code: ayon_result,
    pub(crate) message: CString,
}

/// A failed call's code and message, before it is handed to the caller.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: ayon_result,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: ayon_result, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn null(what: &str) -> Failure {
        Failure::new(AYON_ERROR_NULL_ARGUMENT, format!("`{what}` is NULL"))
    }
}

impl From<ayon_resolver_core::ResolveError> for Failure {
    fn from(e: ayon_resolver_core::ResolveError) -> Failure {
        Failure::new(ayon_result::from_kind(e.kind()), e.to_string())
    }
}

/// A message as a C string (interior NULs, which C cannot carry, become spaces).
pub(crate) fn c_string(s: impl Into<String>) -> CString {
    let mut bytes = s.into().into_bytes();
    for b in bytes.iter_mut().filter(|b| **b == 0) {
        *b = b' ';
    }
    CString::new(bytes).unwrap_or_default()
}

/// Runs one call of the ABI: its failure (or a caught panic) becomes a code and, when the
/// caller asked for it, an `ayon_error` written to `*error`.
pub(crate) fn boundary(
    error: *mut *mut ayon_error,
    call: impl FnOnce() -> Result<(), Failure>,
) -> ayon_result {
    let failure = match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok(())) => return AYON_OK,
        Ok(Err(f)) => f,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Failure::new(AYON_ERROR_PANIC, format!("internal error (panic): {what}"))
        }
    };
    if !error.is_null() {
        let boxed = Box::new(ayon_error {
            code: failure.code,
            message: c_string(failure.message),
        });
        // SAFETY: `error` is non-NULL and, by the documented contract, points to writable
        // storage for one pointer.
        unsafe { *error = Box::into_raw(boxed) };
    }
    failure.code
}

/// Reads a required UTF-8 string argument.
///
/// The pointer must be NULL or point to a NUL-terminated string that outlives `'a`.
pub(crate) fn arg_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: non-NULL, and the caller's contract is a NUL-terminated string valid for the call.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map_err(|_| Failure::new(AYON_ERROR_INVALID_UTF8, format!("`{what}` is not UTF-8")))
}

/// Reads an optional UTF-8 string argument (NULL is `None`).
pub(crate) fn opt_str<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        Ok(None)
    } else {
        arg_str(p, what).map(Some)
    }
}

/// Borrows a required handle argument.
pub(crate) fn arg_ref<'a, T>(p: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: the caller's contract is NULL or a live handle this library created.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(what))
}

/// Writes an output: the pointer was checked non-NULL by [`out_ptr`] before any work.
pub(crate) fn write_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL and, by contract, writable storage for one `T`.
        unsafe { out.write(value) };
    }
}

/// Checks a required output pointer.
pub(crate) fn out_ptr<T>(p: *mut T, what: &str) -> Result<*mut T, Failure> {
    if p.is_null() {
        Err(Failure::null(what))
    } else {
        Ok(p)
    }
}

/// The stable snake_case name of a result code (`"ok"`, `"not_found"`, `"offline"`, ...):
/// a static string, never NULL, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_result_code_str(code: ayon_result) -> *const c_char {
    code.code_str().as_ptr()
}

/// The code of an error; `AYON_ERROR_NULL_ARGUMENT` for NULL. Thread-safe (the error is
/// immutable).
#[unsafe(no_mangle)]
pub extern "C" fn ayon_error_code(error: *const ayon_error) -> ayon_result {
    match arg_ref(error, "error") {
        Ok(e) => e.code,
        Err(f) => f.code,
    }
}

/// The message of an error, valid until `ayon_error_free(error)`; a static empty string for
/// NULL. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_error_message(error: *const ayon_error) -> *const c_char {
    match arg_ref(error, "error") {
        Ok(e) => e.message.as_ptr(),
        Err(_) => c"".as_ptr(),
    }
}

/// Frees an error; NULL is a no-op. Not to be called twice on one error, nor while another
/// thread reads it.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_error_free(error: *mut ayon_error) {
    if !error.is_null() {
        // SAFETY: created by `Box::into_raw` in `boundary`, freed once by contract.
        drop(unsafe { Box::from_raw(error) });
    }
}

/// Frees a string the library returned (`ayon_resolve_owned`, `ayon_create_identifier`...).
/// Returns `AYON_ERROR_NULL_ARGUMENT` for NULL and `AYON_ERROR_NOT_OWNED` for a pointer that is
/// not a live string of this library (a second free, or someone else's memory): nothing
/// happens then. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn ayon_string_free(string: *mut c_char) -> ayon_result {
    if string.is_null() {
        return AYON_ERROR_NULL_ARGUMENT;
    }
    if !crate::strings::release(string) {
        return AYON_ERROR_NOT_OWNED;
    }
    // SAFETY: `release` confirmed this pointer came from `CString::into_raw` in `owned` and
    // has not been freed since (it is removed from the live set exactly once).
    drop(unsafe { CString::from_raw(string) });
    AYON_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_code_with_the_kind_s_name() {
        let mut seen = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            let code = ayon_result::from_kind(kind);
            assert!(seen.insert(code as i32), "{kind} shares a code");
            assert_eq!(code.code_str().to_str().unwrap(), kind.as_str());
            assert_ne!(code, AYON_OK);
        }
    }

    #[test]
    fn a_panic_becomes_a_code_and_an_error() {
        let mut err: *mut ayon_error = std::ptr::null_mut();
        let code = boundary(&mut err, || panic!("boom"));
        assert_eq!(code, AYON_ERROR_PANIC);
        assert_eq!(ayon_error_code(err), AYON_ERROR_PANIC);
        // SAFETY: the message of a live error is a valid C string.
        let msg = unsafe { CStr::from_ptr(ayon_error_message(err)) };
        assert!(msg.to_str().unwrap().contains("boom"));
        ayon_error_free(err);
    }
}
