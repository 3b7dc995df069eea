//! Namespaced cache keys.

use std::fmt;

use ayon_site::ServerUrl;

/// Separates the server URL from the project in a server namespace. Chosen because it cannot
/// appear in a URL's scheme/host/port nor in an AYON project name.
const SERVER_PROJECT_SEP: char = '|';

/// The part of a key that keeps one server's project apart from another's (and from other
/// callers' data), so a shared per-user cache never mixes studios or projects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(String);

impl Namespace {
    /// The namespace of one project on one server. The server URL is already normalised
    /// ([`ServerUrl`]: scheme and host lower-cased, default port and trailing `/` dropped) and
    /// the project is lower-cased, because the server matches project names
    /// case-insensitively: `https://AYON.local/` + `Demo` and `https://ayon.local` + `demo`
    /// share entries.
    pub fn for_server(server: &ServerUrl, project: &str) -> Namespace {
        Namespace(format!(
            "{server}{SERVER_PROJECT_SEP}{}",
            project.trim().to_lowercase()
        ))
    }

    /// The prefix every namespace of `server` starts with (to act on all its projects).
    pub fn server_prefix(server: &ServerUrl) -> String {
        format!("{server}{SERVER_PROJECT_SEP}")
    }

    /// The project of a [`for_server`](Self::for_server) namespace of `server` (lower-cased
    /// as stored); `None` for another server's namespace or a custom one.
    pub fn project_on(&self, server: &ServerUrl) -> Option<&str> {
        self.0.strip_prefix(&Namespace::server_prefix(server))
    }

    /// A namespace chosen by the caller (e.g. `"pinning"` or a tool's own name), used as given.
    pub fn custom(name: impl Into<String>) -> Namespace {
        Namespace(name.into())
    }

    /// The namespace as stored (what `ayon cache stats` lists and `clear --namespace` takes).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Namespace {
    fn from(s: &str) -> Self {
        Namespace(s.to_owned())
    }
}

/// A cache key: a namespace plus a name inside it (for resolution answers, the canonical URI).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    namespace: String,
    name: String,
}

impl Key {
    /// A key named `name` in `namespace`.
    pub fn new(namespace: &Namespace, name: impl Into<String>) -> Key {
        Key {
            namespace: namespace.0.clone(),
            name: name.into(),
        }
    }

    /// Builds a key from raw parts, as read back from a store.
    pub fn from_parts(namespace: impl Into<String>, name: impl Into<String>) -> Key {
        Key {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The namespace part.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The name inside the namespace.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes the key occupies, for memory weighting.
    pub(crate) fn byte_len(&self) -> usize {
        self.namespace.len() + self.name.len()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} :: {}", self.namespace, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> ServerUrl {
        ServerUrl::parse(url).expect("server URL")
    }

    #[test]
    fn server_namespace_is_normalised() {
        assert_eq!(
            Namespace::for_server(&server("HTTPS://AYON.Local:5000/"), "Demo"),
            Namespace::for_server(&server("https://ayon.local:5000"), "demo")
        );
        assert_eq!(
            Namespace::for_server(&server("https://a.b/sub/Path/"), "p").as_str(),
            "https://a.b/sub/Path|p"
        );
        assert_ne!(
            Namespace::for_server(&server("https://a"), "p1"),
            Namespace::for_server(&server("https://a"), "p2")
        );
        // A trailing `/`, an upper-case host or the default port: one namespace.
        assert_eq!(
            Namespace::for_server(&server("https://AYON.local:443//"), "demo"),
            Namespace::for_server(&server("https://ayon.local"), "demo")
        );
        let ns = Namespace::for_server(&server("https://a"), "p");
        assert_eq!(ns.project_on(&server("HTTPS://A/")), Some("p"));
        assert_eq!(ns.project_on(&server("https://b")), None);
        assert_eq!(
            Namespace::custom("pinning").project_on(&server("https://a")),
            None
        );
        assert!(
            ns.as_str()
                .starts_with(&Namespace::server_prefix(&server("https://A/")))
        );
    }
}
