//! Stable, machine-readable error kinds: the one vocabulary the CLI's `kind` field, and later
//! the Python exceptions and the C result codes, are derived from.

use std::fmt;

/// What went wrong, as a stable code a host can branch on without parsing messages.
///
/// The strings of [`as_str`](ErrorKind::as_str) are part of the public contract (the CLI prints
/// them, scripts match on them): a kind may be added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `invalid`: the URI is not a valid AYON URI; it never reached the server.
    InvalidUri,
    /// `not_found`: a valid URI that matches no entity.
    NotFound,
    /// `server_error`: the server answered this one URI with an error (e.g. unknown project).
    ServerError,
    /// `offline`: the server is known to be unreachable and nothing was cached for the request.
    Offline,
    /// `unknown_root`: the path names a `{root[NAME]}` this site does not define.
    UnknownRoot,
    /// `auth`: the server rejected the credential; no more requests are made with it.
    Auth,
    /// `transport`: the server could not be reached or the connection broke.
    Transport,
    /// `timeout`: no answer within the configured time.
    Timeout,
    /// `http`: the server answered the whole request with an error status.
    Http,
    /// `decode`: the server's answer was not what the protocol says.
    Decode,
    /// `config`: the configuration was refused before any request (bad URL, site id, token).
    Config,
    /// `not_pinned`: a pinning file is in use and has no entry for the URI.
    NotPinned,
    /// `cache`: the local cache could not be read or written.
    Cache,
    /// `runtime`: the library's async runtime is unavailable or the task ended early.
    Runtime,
    /// `cancelled`: the caller cancelled a long operation (prepare-for-offline).
    Cancelled,
}

impl ErrorKind {
    /// Every kind, in declaration order (for bindings that export the codes as constants).
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::InvalidUri,
        ErrorKind::NotFound,
        ErrorKind::ServerError,
        ErrorKind::Offline,
        ErrorKind::UnknownRoot,
        ErrorKind::Auth,
        ErrorKind::Transport,
        ErrorKind::Timeout,
        ErrorKind::Http,
        ErrorKind::Decode,
        ErrorKind::Config,
        ErrorKind::NotPinned,
        ErrorKind::Cache,
        ErrorKind::Runtime,
        ErrorKind::Cancelled,
    ];

    /// The stable snake_case code. `invalid` (not `invalid_uri`) because the CLI has printed
    /// it since its first release.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidUri => "invalid",
            ErrorKind::NotFound => "not_found",
            ErrorKind::ServerError => "server_error",
            ErrorKind::Offline => "offline",
            ErrorKind::UnknownRoot => "unknown_root",
            ErrorKind::Auth => "auth",
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Http => "http",
            ErrorKind::Decode => "decode",
            ErrorKind::Config => "config",
            ErrorKind::NotPinned => "not_pinned",
            ErrorKind::Cache => "cache",
            ErrorKind::Runtime => "runtime",
            ErrorKind::Cancelled => "cancelled",
        }
    }

    /// The kind for a code from [`as_str`](ErrorKind::as_str).
    pub fn parse(code: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == code)
    }

    /// True when the server may come back: asking again later (or from the cache) can help.
    pub fn is_unavailable(self) -> bool {
        matches!(
            self,
            ErrorKind::Offline | ErrorKind::Transport | ErrorKind::Timeout
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ErrorKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for k in ErrorKind::ALL {
            let s = k.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            assert_eq!(ErrorKind::parse(s), Some(k));
            assert_eq!(k.to_string(), s);
            assert_eq!(k, s);
        }
        assert_eq!(ErrorKind::parse("nope"), None);
    }
}
