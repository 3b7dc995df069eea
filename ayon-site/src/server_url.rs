//! The server's base URL in one normalised spelling: the key of the cache, the base of every
//! REST route and the origin of the `/ws` URL.

use std::fmt;
use std::str::FromStr;

/// Why a server URL was refused; `url` is the text as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ServerUrlError {
    /// Not a URL at all (no scheme, bad host, bad port, ...).
    #[error("server URL `{url}` is not a URL: {why}")]
    Invalid {
        /// The URL as given.
        url: String,
        /// What the URL parser said.
        why: String,
    },
    /// A scheme other than `http` or `https`.
    #[error("server URL `{url}`: the scheme must be http or https, not `{scheme}`")]
    Scheme {
        /// The URL as given.
        url: String,
        /// The scheme found.
        scheme: String,
    },
    /// No host name (`http:///x`, `file:` style URLs).
    #[error("server URL `{url}` has no host")]
    NoHost {
        /// The URL as given.
        url: String,
    },
    /// A query, a fragment or a user name/password: not part of a server's address, and a
    /// password would end up in cache namespaces and logs.
    #[error("server URL `{url}` must not have {part}")]
    Extra {
        /// The URL as given.
        url: String,
        /// `a query`, `a fragment` or `credentials`.
        part: &'static str,
    },
}

/// An AYON server's base URL, normalised so that one server has one spelling.
///
/// `HTTPS://AYON.Studio.local:443/` and `https://ayon.studio.local` are the same `ServerUrl`:
/// scheme and host lower-cased (host names are case-insensitive; IDNA applied), the default
/// port of the scheme dropped, no trailing `/`. The path is kept as written (a server behind a
/// reverse proxy under `/ayon`), because paths are case-sensitive. Only `http` and `https` are
/// accepted; queries, fragments and credentials are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerUrl {
    /// The normalised URL, without a trailing `/`.
    text: String,
    /// Byte length of `scheme://host[:port]` in `text` (the rest is the path).
    origin_len: usize,
}

impl ServerUrl {
    /// Parses and normalises `url` (surrounding white space ignored).
    pub fn parse(url: &str) -> Result<ServerUrl, ServerUrlError> {
        let given = url;
        let url = url.trim();
        let parsed = url::Url::parse(url).map_err(|e| ServerUrlError::Invalid {
            url: given.to_owned(),
            why: e.to_string(),
        })?;
        let scheme = parsed.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(ServerUrlError::Scheme {
                url: given.to_owned(),
                scheme: scheme.to_owned(),
            });
        }
        let host = match parsed.host_str() {
            Some(h) if !h.is_empty() => h,
            _ => {
                return Err(ServerUrlError::NoHost {
                    url: given.to_owned(),
                });
            }
        };
        let extra = |part| ServerUrlError::Extra {
            url: given.to_owned(),
            part,
        };
        if parsed.query().is_some() {
            return Err(extra("a query"));
        }
        if parsed.fragment().is_some() {
            return Err(extra("a fragment"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(extra("credentials"));
        }
        // `url` already lower-cases the scheme and host and drops a default port.
        let mut text = match parsed.port() {
            Some(port) => format!("{scheme}://{host}:{port}"),
            None => format!("{scheme}://{host}"),
        };
        let origin_len = text.len();
        text.push_str(parsed.path().trim_end_matches('/'));
        Ok(ServerUrl { text, origin_len })
    }

    /// The normalised URL, e.g. `https://ayon.studio.local` or `http://127.0.0.1:5000/ayon`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        self.text.split_once("://").map_or("", |(s, _)| s)
    }

    /// True for `https`.
    pub fn is_https(&self) -> bool {
        self.scheme() == "https"
    }

    /// `scheme://host[:port]`, without the path.
    pub fn origin(&self) -> &str {
        &self.text[..self.origin_len]
    }

    /// The path under which the server lives: empty, or `/ayon` behind a reverse proxy.
    pub fn path(&self) -> &str {
        &self.text[self.origin_len..]
    }

    /// The URL of `route` on this server: `api/info` and `/api/info` both give
    /// `https://host/api/info`.
    pub fn join(&self, route: &str) -> String {
        let route = route.trim_start_matches('/');
        let mut out = String::with_capacity(self.text.len() + 1 + route.len());
        out.push_str(&self.text);
        out.push('/');
        out.push_str(route);
        out
    }

    /// The server's websocket URL: `ws://` for `http`, `wss://` for `https`, path + `/ws`.
    pub fn ws_url(&self) -> String {
        let rest = self.text.split_once("://").map_or("", |(_, r)| r);
        let scheme = if self.is_https() { "wss" } else { "ws" };
        format!("{scheme}://{rest}/ws")
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for ServerUrl {
    type Err = ServerUrlError;

    fn from_str(s: &str) -> Result<ServerUrl, ServerUrlError> {
        ServerUrl::parse(s)
    }
}

impl AsRef<str> for ServerUrl {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl TryFrom<&str> for ServerUrl {
    type Error = ServerUrlError;

    fn try_from(s: &str) -> Result<ServerUrl, ServerUrlError> {
        ServerUrl::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> ServerUrl {
        ServerUrl::parse(s).unwrap()
    }

    #[test]
    fn one_server_one_spelling() {
        let want = "https://ayon.studio.local";
        for s in [
            "https://ayon.studio.local",
            "https://ayon.studio.local/",
            "HTTPS://AYON.Studio.Local//",
            " https://ayon.studio.local:443 ",
            "https://ayon.studio.local:443/",
        ] {
            assert_eq!(url(s).as_str(), want, "{s}");
        }
        assert_eq!(url("http://H:80").as_str(), "http://h");
        assert_eq!(url("http://h:5000/").as_str(), "http://h:5000");
        assert_eq!(url("https://h:80").as_str(), "https://h:80");
        assert_eq!(url("http://[::1]:5000/").as_str(), "http://[::1]:5000");
    }

    #[test]
    fn paths_are_kept_as_written() {
        let u = url("https://A.b/sub/Path/");
        assert_eq!(u.as_str(), "https://a.b/sub/Path");
        assert_eq!(u.origin(), "https://a.b");
        assert_eq!(u.path(), "/sub/Path");
        assert_eq!(url("https://a.b").path(), "");
    }

    #[test]
    fn routes_and_websocket() {
        let u = url("http://127.0.0.1:5000");
        assert_eq!(u.join("api/info"), "http://127.0.0.1:5000/api/info");
        assert_eq!(u.join("/api/info"), "http://127.0.0.1:5000/api/info");
        assert_eq!(u.ws_url(), "ws://127.0.0.1:5000/ws");
        assert!(!u.is_https());
        let s = url("https://ayon.example/sub/");
        assert_eq!(s.ws_url(), "wss://ayon.example/sub/ws");
        assert_eq!(s.join("api/info"), "https://ayon.example/sub/api/info");
        assert_eq!(s.scheme(), "https");
    }

    #[test]
    fn bad_urls_are_named() {
        for (s, check) in [
            ("ftp://x", "ftp"),
            ("not a url", "not a url"),
            ("http://", "http://"),
            ("https://h/?q=1", "query"),
            ("https://h/#top", "fragment"),
            ("https://me:pw@h", "credentials"),
            ("", "not a URL"),
        ] {
            let e = ServerUrl::parse(s).unwrap_err();
            assert!(e.to_string().contains(check), "{s}: {e}");
        }
        assert!(matches!(
            ServerUrl::parse("ftp://x"),
            Err(ServerUrlError::Scheme { .. })
        ));
    }

    #[test]
    fn display_parses_back_to_itself() {
        for s in [
            "https://h",
            "http://h:5000/a/B",
            "https://xn--bcher-kva.example",
        ] {
            let u = url(s);
            assert_eq!(url(&format!("{u}")), u);
        }
        assert_eq!(
            url("https://bücher.example").as_str(),
            "https://xn--bcher-kva.example"
        );
    }
}
