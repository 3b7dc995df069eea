//! Parse, validate, canonicalize and format AYON entity URIs (`ayon://` and `ayon+entity://`)
//! with **the same verdict as the real AYON server** for every input.
//!
//! The server (ayon-backend `api/resolve`) strips a `:SDF_FORMAT_ARGS...` suffix, runs Python's
//! `urllib.parse.urlparse` and `parse_qs`, then checks names against its name regex. This crate
//! reproduces those steps exactly, including their quirks (scheme case, leading control
//! characters, tabs/newlines removed anywhere, first non-blank repeated key wins, `+` and
//! percent-escapes decoded in query values but not in the path, `;` not a separator), and
//! reports problems with the server's own per-URI `error` words.
//!
//! ```
//! use ayon_uri::{AyonUri, Target, VersionSelector};
//!
//! let uri = AyonUri::parse("ayon://demo//assets/hero?product=usdMain&version=4&representation=usd")?;
//! assert_eq!(uri.folder_path(), "assets/hero");
//! assert_eq!(uri.version(), Some(VersionSelector::Exact(4)));
//! assert_eq!(uri.target(), Some(Target::Representation));
//! assert_eq!(
//!     uri.canonical(),
//!     "ayon+entity://demo/assets/hero?product=usdMain&version=v004&representation=usd"
//! );
//!
//! let err = AyonUri::parse("ayon://demo/a?product=x&version=banana").unwrap_err();
//! assert_eq!(err.server_message(), "Invalid version name: banana");
//! # Ok::<(), ayon_uri::UriError>(())
//! ```

mod error;
mod parse;
mod types;
mod uri;
mod urllib;

pub use error::{UriError, UriErrorKind};
pub use types::{Scheme, Target, VersionSelector};
pub use uri::AyonUri;

/// Cheap check for hot paths (a USD resolver sees many non-AYON paths): does `s` start with
/// `ayon://` or `ayon+entity://`, in any case, after the leading control characters and spaces
/// the server ignores? A `true` does not mean the URI is valid; use [`AyonUri::parse`] for that.
pub fn is_ayon_uri(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] <= b' ' {
        i += 1;
    }
    let rest = &b[i..];
    let starts = |prefix: &[u8]| {
        rest.len() >= prefix.len() && rest[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    starts(b"ayon://") || starts(b"ayon+entity://")
}
