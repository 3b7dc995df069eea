//! Errors: per-URI (`ResolveError`), whole-request (`ClientError`) and configuration.

use std::time::Duration;

use ayon_uri::UriError;

use crate::kind::ErrorKind;

/// A configuration the builder refused, naming the bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The server URL is not an `http://` or `https://` URL with a host (the error says why).
    #[error(transparent)]
    BadServerUrl(#[from] ayon_site::ServerUrlError),
    /// The site id does not match the server's `^[a-z0-9-]+$`.
    #[error("site id `{0}` is invalid: the server accepts only a-z, 0-9 and `-`")]
    BadSiteId(String),
    /// A session token must be 64 lower-case hex characters, as the server issues them.
    #[error("session token is not 64 lower-case hex characters (use an API key instead)")]
    BadToken,
    /// A zero timeout would fail every request.
    #[error("connect and request timeouts must be greater than zero")]
    ZeroTimeout,
    /// The HTTP stack could not be set up (TLS roots, ...).
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

/// A whole request failed (not one URI of it); names the server and what it said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server rejected the credential (401). No more requests are made with it.
    #[error("authentication with {server} failed: {detail}")]
    Auth {
        /// The server URL.
        server: String,
        /// The server's words ("Invalid API key", "Invalid session", "Access token is missing").
        detail: String,
    },
    /// The server could not be reached or the connection broke.
    #[error("cannot reach {server}: {detail}")]
    Transport {
        /// The server URL.
        server: String,
        /// What failed (refused, reset, DNS, TLS).
        detail: String,
    },
    /// No answer within the configured time.
    #[error("{server} did not answer within {after:?}")]
    Timeout {
        /// The server URL.
        server: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// The server answered with an error status.
    #[error("{server} answered {status} to {route}: {detail}")]
    Http {
        /// The server URL.
        server: String,
        /// `METHOD /path` of the request.
        route: String,
        /// The HTTP status.
        status: u16,
        /// The `detail` of the error body.
        detail: String,
    },
    /// The answer was not the JSON we expected.
    #[error("unexpected answer from {server} to {route}: {detail}")]
    Decode {
        /// The server URL.
        server: String,
        /// `METHOD /path` of the request.
        route: String,
        /// What did not parse.
        detail: String,
    },
    /// The monitor says the server is offline, so no request was made.
    #[error("{server} is offline; nothing cached for {what}")]
    Offline {
        /// The server URL.
        server: String,
        /// What was asked for.
        what: String,
    },
    /// The library-owned runtime is not available (it could not be built).
    #[error("async runtime unavailable: {0}")]
    Runtime(String),
}

impl ConfigError {
    /// Always [`ErrorKind::Config`].
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Config
    }
}

impl ClientError {
    /// The stable code of this failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::Auth { .. } => ErrorKind::Auth,
            ClientError::Transport { .. } => ErrorKind::Transport,
            ClientError::Timeout { .. } => ErrorKind::Timeout,
            ClientError::Http { .. } => ErrorKind::Http,
            ClientError::Decode { .. } => ErrorKind::Decode,
            ClientError::Offline { .. } => ErrorKind::Offline,
            ClientError::Runtime(_) => ErrorKind::Runtime,
        }
    }

    /// True when the server may be gone (transport, timeout, 5xx): the offline fallback applies.
    pub fn is_unavailable(&self) -> bool {
        match self {
            ClientError::Transport { .. }
            | ClientError::Timeout { .. }
            | ClientError::Offline { .. } => true,
            ClientError::Http { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Why one URI did not resolve. Cheap to clone: duplicates in a batch share one answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// Our parser rejected the URI, so it never reached the server; `message` is exactly what
    /// the server would have answered.
    #[error("invalid AYON URI `{uri}`: {message}")]
    Invalid {
        /// The input as given.
        uri: String,
        /// The server's per-URI error string (e.g. `Invalid version name: banana`).
        message: String,
        /// The parser's error (kind, byte offset, offending text).
        error: UriError,
    },
    /// A valid URI that matches no entity (the server answered `entities: []`).
    #[error("nothing matches `{uri}`")]
    NotFound {
        /// The input as given.
        uri: String,
    },
    /// The server answered this URI with an error (e.g. `Project X not found`).
    #[error("server error for `{uri}`: {message}")]
    ServerError {
        /// The input as given.
        uri: String,
        /// The server's words.
        message: String,
    },
    /// Offline and nothing cached for this URI.
    #[error("offline and `{uri}` was never resolved on this machine")]
    Offline {
        /// The input as given.
        uri: String,
    },
    /// Offline, nothing cached for this URI, and no prepared index covers it (kind `offline`).
    #[error("offline and `{uri}` was never resolved on this machine; {why}")]
    NotPrepared {
        /// The input as given.
        uri: String,
        /// The project the URI names.
        project: String,
        /// Why the local index cannot answer, and what to run.
        why: String,
    },
    /// The path names a root that this site does not define.
    #[error("`{uri}`: unknown root `{name}` for this site (path `{path}`)")]
    UnknownRoot {
        /// The input as given.
        uri: String,
        /// The root name in `{root[NAME]}`.
        name: String,
        /// The rootless path.
        path: String,
    },
    /// The whole request failed and nothing was cached for this URI.
    #[error("`{uri}`: {error}")]
    Request {
        /// The input as given.
        uri: String,
        /// What failed.
        error: ClientError,
    },
}

/// The `uri` field of any [`ResolveError`] (by reference or by mutable reference): every
/// variant names the URI it is about.
macro_rules! uri_of {
    ($error:expr) => {
        match $error {
            ResolveError::Invalid { uri, .. }
            | ResolveError::NotFound { uri }
            | ResolveError::ServerError { uri, .. }
            | ResolveError::Offline { uri }
            | ResolveError::NotPrepared { uri, .. }
            | ResolveError::UnknownRoot { uri, .. }
            | ResolveError::Request { uri, .. } => uri,
        }
    };
}

impl ResolveError {
    /// The stable code of this failure (the CLI's `kind`); a whole-request failure gives the
    /// request's kind (`auth`, `transport`, `timeout`, ...).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ResolveError::Invalid { .. } => ErrorKind::InvalidUri,
            ResolveError::NotFound { .. } => ErrorKind::NotFound,
            ResolveError::ServerError { .. } => ErrorKind::ServerError,
            ResolveError::Offline { .. } | ResolveError::NotPrepared { .. } => ErrorKind::Offline,
            ResolveError::UnknownRoot { .. } => ErrorKind::UnknownRoot,
            ResolveError::Request { error, .. } => error.kind(),
        }
    }

    /// The URI this error is about, as given.
    pub fn uri(&self) -> &str {
        uri_of!(self)
    }

    pub(crate) fn with_uri(mut self, new_uri: &str) -> ResolveError {
        let uri = uri_of!(&mut self);
        if uri != new_uri {
            new_uri.clone_into(uri);
        }
        self
    }
}
