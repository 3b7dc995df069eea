//! Handing strings to C: into a caller's buffer, or as an owned string.

use std::ffi::c_char;

use crate::error::{Failure, ayon_result, c_string, write_out};

/// Copies `s` and a NUL into `buf` of `buf_len` bytes; writes `s`'s length (without the NUL)
/// to `out_len` either way, so a caller with a small buffer learns what to allocate.
pub(crate) fn to_buffer(
    s: &str,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    write_out(out_len, s.len());
    if buf.is_null() || buf_len < s.len() + 1 {
        return Err(Failure::new(
            ayon_result::AYON_ERROR_BUFFER_TOO_SMALL,
            format!("the buffer needs {} bytes, got {buf_len}", s.len() + 1),
        ));
    }
    // SAFETY: `buf` is non-NULL and, by contract, writable for `buf_len` bytes, which we
    // checked is at least `s.len() + 1`; the source is a distinct Rust string.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), s.len());
        buf.add(s.len()).write(0);
    }
    Ok(())
}

/// Addresses of the strings handed out and not yet freed, so that a double free (or a foreign
/// pointer) given to `ayon_string_free` is refused with a code instead of corrupting the heap.
// A B-tree rather than a hash set: its root points at the start of its allocation, so leak
// checkers see the (process-long) set as reachable rather than "possibly lost".
static LIVE: std::sync::LazyLock<parking_lot::Mutex<std::collections::BTreeSet<usize>>> =
    std::sync::LazyLock::new(Default::default);

/// An owned C string for the caller, freed with `ayon_string_free`.
pub(crate) fn owned(s: impl Into<String>) -> *mut c_char {
    let p = c_string(s).into_raw();
    LIVE.lock().insert(p as usize);
    p
}

/// Forgets a handed-out string; false when `p` is not one (never handed out, or freed).
pub(crate) fn release(p: *mut c_char) -> bool {
    LIVE.lock().remove(&(p as usize))
}
