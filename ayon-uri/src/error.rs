//! Parse errors: what was wrong, where, and how the real server words it.

/// What kind of rule an input broke; lets callers react without matching on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UriErrorKind {
    /// The scheme is neither `ayon` nor `ayon+entity` (any case), or there is none.
    BadScheme,
    /// Python's `urlparse` itself refuses the authority part (brackets, NFKC look-alikes),
    /// so the server answers with `urlparse`'s own message.
    BadNetloc,
    /// The project (URL authority) is empty or does not match the server's name pattern.
    BadProject,
    /// A folder path element is empty, `.`, `..`, escaped, non-ASCII or otherwise not a name.
    BadPathElement,
    /// A `product`, `representation`, `task` or `workfile` value is not a name (nor `*`).
    BadName,
    /// The `version` value is neither a keyword, `*`, nor a (`v`-prefixed) number.
    BadVersion,
    /// `task`/`workfile` given together with `product`, `version` or `representation`.
    MixedTaskAndProduct,
}

/// Why an input is not a valid AYON URI, with the byte offset and the offending text.
///
/// `Display` gives `"<server words> at byte N: `text`"`; [`UriError::server_message`] gives the
/// server's per-URI `error` string alone, so offline answers can look exactly like online ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at byte {offset}: `{text}`")]
pub struct UriError {
    kind: UriErrorKind,
    offset: usize,
    text: String,
    message: String,
}

impl UriError {
    pub(crate) fn new(kind: UriErrorKind, offset: usize, text: &str, message: String) -> Self {
        UriError {
            kind,
            offset,
            text: text.to_owned(),
            message,
        }
    }

    /// The rule that was broken.
    pub fn kind(&self) -> UriErrorKind {
        self.kind
    }

    /// Byte offset of the offending text in the input string as given to `parse`.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The offending text as the parser saw it (query values before percent-decoding).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Exactly the `error` string the real server puts in this URI's `/api/resolve` item.
    pub fn server_message(&self) -> String {
        self.message.clone()
    }
}
