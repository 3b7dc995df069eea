//! Site roots (`name -> path` for one site and platform), the one `{root[NAME]}` substitution,
//! and its inverse (making a path rootless).
//!
//! # The substitution rule
//!
//! The server stores paths rootless (`{root[work]}/demo/...`) and, when asked for a site's real
//! paths, fills the template with that site's roots, applies `os.path.normpath`, and writes `\`
//! for Windows sites (`api/resolve/__init__.py`). Rooting a rootless answer here gives the same
//! path:
//!
//! - every `{root[NAME]}` token is replaced by the value of *its own* root (AYON's C++ client
//!   replaces all tokens with the first one's root), as written, and the replacement text is not
//!   scanned again; `{root[` without a closing `]}` is plain text;
//! - an unknown root name is an error naming it ([`UnknownRoot`]), never a silently wrong path;
//! - where a root ending in `/` or `\` meets a remainder starting with one, one of them is
//!   dropped (the server's `normpath` does that: `/mnt/p/` + `/x` is `/mnt/p/x`);
//! - on a Windows site, a path that had a root substituted is written with `\` throughout (the
//!   server's last step); a path without tokens (an identifier, an absolute path) is left alone.
//!
//! Two server quirks are not copied: its `normpath` is POSIX, so a Windows root ending in `\`
//! gives `\\` in its answer (here one `\`); and it replaces a leading `//` by `/`, which breaks a
//! UNC root spelled `//nas/share` (here kept).
//!
//! # Making a path rootless
//!
//! [`Roots::make_rootless`] replaces a leading root by its token: the longest root that is a
//! prefix ending at a path-segment boundary (so `/mnt/proj` never eats `/mnt/project2`).
//! Windows roots (a drive letter or UNC) match ignoring ASCII case and `\` vs `/`; POSIX roots
//! match exactly. Substituting the result gives the input back (spelled with the root's
//! spelling), on a site whose separators are those of the input.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::platform::Platform;

const OPEN: &str = "{root[";
const CLOSE: &str = "]}";

/// Why a roots string or a root name was refused.
///
/// `origin` says where the string came from (an environment variable's name, or `roots string`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RootsError {
    /// An item has neither `=` nor `:`. A `,` inside a root value produces exactly this, because
    /// `,` always separates items (see [`Roots::parse`]).
    #[error(
        "{origin}: item {index} `{item}` is neither `name=value` nor `name:value` \
         (`,` always separates roots, so a root path cannot contain `,`)"
    )]
    NotAPair {
        /// Where the string came from.
        origin: String,
        /// 1-based position of the item in the string.
        index: usize,
        /// The item as written.
        item: String,
    },
    /// A root name is empty or holds a character that cannot appear in a `{root[NAME]}` token.
    #[error("{origin}: bad root name `{name}` (must be non-empty, without `{{`, `}}`, `[` or `]`)")]
    BadName {
        /// Where the name came from.
        origin: String,
        /// The name as written.
        name: String,
    },
    /// An environment variable holds bytes that are not UTF-8.
    #[error("{origin} is not valid UTF-8")]
    NotUnicode {
        /// The variable's name.
        origin: String,
    },
}

/// A `{root[NAME]}` token whose root is not among the site's roots.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown root `{name}`")]
pub struct UnknownRoot {
    /// The name inside the token.
    pub name: String,
}

/// The roots of one site (on one platform): what `{root[NAME]}` tokens stand for there.
///
/// Names are matched exactly (case-sensitive), as AYON's anatomy does; insertion order is kept
/// (it is the order of [`Roots::iter`] and of the `name=value,...` form). The platform decides
/// the separators of substituted paths (`\` on Windows); it defaults to the running OS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    entries: Vec<(String, String)>,
    platform: Platform,
}

impl Default for Roots {
    fn default() -> Roots {
        Roots::new()
    }
}

impl Roots {
    /// No roots, for the running OS: substituting any token then fails, naming it.
    pub fn new() -> Roots {
        Roots::for_platform(Platform::current())
    }

    /// No roots, for a site of `platform`.
    pub fn for_platform(platform: Platform) -> Roots {
        Roots {
            entries: Vec::new(),
            platform,
        }
    }

    /// The same roots for a site of `platform`.
    pub fn with_platform(mut self, platform: Platform) -> Roots {
        self.platform = platform;
        self
    }

    /// The platform of the site these roots belong to.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// Builds roots (for the running OS) from `(name, value)` pairs; a later pair with the same
    /// name wins.
    pub fn from_pairs<I, N, V>(pairs: I) -> Result<Roots, RootsError>
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<String>,
        V: Into<String>,
    {
        let mut roots = Roots::new();
        for (name, value) in pairs {
            roots.insert(name, value)?;
        }
        Ok(roots)
    }

    /// Adds or replaces one root; fails only for a name no token could spell.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<(), RootsError> {
        let name = name.into();
        if !valid_name(&name) {
            return Err(RootsError::BadName {
                origin: "root".to_owned(),
                name,
            });
        }
        self.put(name, value.into());
        Ok(())
    }

    /// Adds every root of `other`, replacing roots of the same name (to combine the roots of
    /// several projects of one site). The platform stays this one's.
    pub fn merge(&mut self, other: &Roots) {
        for (n, v) in &other.entries {
            self.put(n.clone(), v.clone());
        }
    }

    fn put(&mut self, name: String, value: String) {
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// The path of root `name`, if known.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `(name, value)` pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of roots.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no roots.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parses the `name=value,name=value` form that the ayon-usd farm hook writes and AYON's
    /// resolver reads (roots for the running OS).
    ///
    /// - Items are separated by `,`; blank items are skipped; names and values are trimmed.
    /// - Each item is split at its first `=` or `:`, whichever comes first, so the documented
    ///   `work=P:/projects`, the legacy `work:P:/projects` (value `P:/projects`, not `P` as in
    ///   old resolvers) and `work:/mnt/a=b` (value `/mnt/a=b`) all mean what they say.
    /// - `,` always separates items, as in AYON's resolver and hook (which write no escapes),
    ///   so a root path cannot contain `,`. Rather than silently truncating such a root (what
    ///   AYON's resolver does), the leftover fragment, which has no `=`/`:`, is an error
    ///   ([`RootsError::NotAPair`]) naming it.
    /// - A name repeated later replaces the earlier value.
    pub fn parse(s: &str) -> Result<Roots, RootsError> {
        Roots::parse_from(s, "roots string")
    }

    /// [`Roots::parse`], naming `origin` (e.g. an environment variable) in its errors.
    pub fn parse_from(s: &str, origin: &str) -> Result<Roots, RootsError> {
        let mut roots = Roots::new();
        for (i, item) in s.split(',').enumerate() {
            let trimmed = item.trim();
            if trimmed.is_empty() {
                continue;
            }
            let Some(at) = trimmed.find(['=', ':']) else {
                return Err(RootsError::NotAPair {
                    origin: origin.to_owned(),
                    index: i + 1,
                    item: trimmed.to_owned(),
                });
            };
            let name = trimmed[..at].trim();
            let value = trimmed[at + 1..].trim();
            if !valid_name(name) {
                return Err(RootsError::BadName {
                    origin: origin.to_owned(),
                    name: name.to_owned(),
                });
            }
            roots.put(name.to_owned(), value.to_owned());
        }
        Ok(roots)
    }

    /// `path` with every `{root[NAME]}` token replaced by its root, by
    /// [the substitution rule](self#the-substitution-rule).
    pub fn substitute(&self, path: &str) -> Result<String, UnknownRoot> {
        let mut out = String::with_capacity(path.len() + 32);
        self.substitute_into(path, &mut out)?;
        Ok(out)
    }

    /// Appends the substituted `path` to `out` (for callers that fill one buffer with many
    /// paths); returns whether any token was replaced. On error `out` is left as it was.
    pub fn substitute_into(&self, path: &str, out: &mut String) -> Result<bool, UnknownRoot> {
        let start = out.len();
        let mut rest = path;
        let mut replaced = false;
        while let Some(at) = find_open(rest) {
            let after_open = &rest[at + OPEN.len()..];
            let Some(close) = after_open.find(CLOSE) else {
                break;
            };
            let name = &after_open[..close];
            let Some(value) = self.get(name) else {
                out.truncate(start);
                return Err(UnknownRoot {
                    name: name.to_owned(),
                });
            };
            out.push_str(&rest[..at]);
            out.push_str(value);
            rest = &after_open[close + CLOSE.len()..];
            // One separator at the junction, like the server's normpath.
            if value.ends_with(is_sep_char) && rest.starts_with(is_sep_char) {
                rest = &rest[1..];
            }
            replaced = true;
        }
        out.push_str(rest);
        if replaced && self.platform.is_windows() && out[start..].contains('/') {
            let tail = out.split_off(start);
            out.extend(tail.chars().map(|c| if c == '/' { '\\' } else { c }));
        }
        Ok(replaced)
    }

    /// `path` with a leading root replaced by its token (see
    /// [making a path rootless](self#making-a-path-rootless)); borrowed when no root matches.
    ///
    /// For many paths, [`Roots::rootless`] sorts the roots once.
    pub fn make_rootless<'p>(&self, path: &'p str) -> Cow<'p, str> {
        self.rootless().make_rootless(path)
    }

    /// The roots ordered for making paths rootless, to reuse over many paths.
    pub fn rootless(&self) -> Rootless<'_> {
        let mut order: Vec<(&str, &str)> = self.iter().filter(|(_, v)| !v.is_empty()).collect();
        // Longest value first; ties by name, for stable output.
        order.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        Rootless { order }
    }
}

/// Roots sorted for [`Roots::make_rootless`] (longest first; empty values never match).
#[derive(Debug, Clone)]
pub struct Rootless<'r> {
    order: Vec<(&'r str, &'r str)>,
}

impl Rootless<'_> {
    /// `path` with a leading root replaced by its token; borrowed when no root matches.
    pub fn make_rootless<'p>(&self, path: &'p str) -> Cow<'p, str> {
        for (name, root) in &self.order {
            if let Some(n) = prefix_len(path, root) {
                let rest = &path[n..];
                // The substitution drops one separator where a root ending in one meets a
                // remainder starting with one; write an extra one so it gives `path` back.
                let extra = if root.ends_with(is_sep_char) {
                    rest.chars().next().filter(|c| is_sep_char(*c))
                } else {
                    None
                };
                let mut out = String::with_capacity(path.len() + name.len() + 8);
                out.push_str(OPEN);
                out.push_str(name);
                out.push_str(CLOSE);
                out.extend(extra);
                out.push_str(rest);
                return Cow::Owned(out);
            }
        }
        Cow::Borrowed(path)
    }
}

/// Root names a path refers to, in order of appearance (to know which roots a path needs).
pub fn root_names(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = path;
    std::iter::from_fn(move || {
        let start = find_open(rest)?;
        let after = &rest[start + OPEN.len()..];
        let end = after.find(CLOSE)?;
        rest = &after[end + CLOSE.len()..];
        Some(&after[..end])
    })
}

/// A drive-letter path (`C:/`, `c:\`, `C:`) or a UNC path (`\\server`, `//server`): a path on a
/// case-insensitive Windows file system, whatever platform reads it.
pub fn is_windows_path(s: &str) -> bool {
    let b = s.as_bytes();
    match b {
        [d, b':'] => d.is_ascii_alphabetic(),
        [d, b':', s, ..] => d.is_ascii_alphabetic() && is_sep(*s),
        [a, b, ..] => is_sep(*a) && is_sep(*b),
        _ => false,
    }
}

/// `/` or `\`.
fn is_sep(b: u8) -> bool {
    b == b'/' || b == b'\\'
}

fn is_sep_char(c: char) -> bool {
    c == '/' || c == '\\'
}

/// Position of the next `{root[` (memchr for `{`, then a prefix check: much cheaper than a
/// substring searcher on short strings).
fn find_open(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find('{') {
        let at = from + i;
        if s[at..].starts_with(OPEN) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Length of the prefix of `s` that is `root` ending at a segment boundary, if any.
fn prefix_len(s: &str, root: &str) -> Option<usize> {
    let (sb, rb) = (s.as_bytes(), root.as_bytes());
    let n = rb.len();
    if n == 0 || sb.len() < n {
        return None;
    }
    let matches = if is_windows_path(root) {
        sb[..n]
            .iter()
            .zip(rb)
            .all(|(a, b)| a.eq_ignore_ascii_case(b) || (is_sep(*a) && is_sep(*b)))
    } else {
        &sb[..n] == rb
    };
    let boundary = n == sb.len() || is_sep(sb[n]) || is_sep(rb[n - 1]);
    (matches && boundary && s.is_char_boundary(n)).then_some(n)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['{', '}', '[', ']'])
}

impl FromStr for Roots {
    type Err = RootsError;

    fn from_str(s: &str) -> Result<Roots, RootsError> {
        Roots::parse(s)
    }
}

/// The `name=value,name=value` form [`Roots::parse`] reads (for values without `,`).
impl fmt::Display for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (n, v)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{n}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
