//! [`AyonUri`]: the parsed URI, its accessors, canonical form, equality and formatting.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::error::UriError;
use crate::parse;
use crate::types::{Scheme, Target, VersionSelector};

/// The fields that decide equality: project, path, product, version, representation, task, workfile.
type Meaning<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<VersionSelector>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

/// Byte range of one component inside [`AyonUri`]'s single buffer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// A valid AYON entity URI, as the server understands it.
///
/// All components live in one buffer (one allocation per parse). Query values are stored
/// decoded (`%41` → `A`, `+` → space), the folder path exactly as written (the server does not
/// decode it).
///
/// **Equality and hashing follow the meaning**: two URIs are equal when the server would run
/// the same lookup for both, i.e. when their [`canonical`](AyonUri::canonical) forms are equal.
/// The scheme spelling, `//` after the project, the version spelling (`v4` = `V004` = `4`),
/// unknown query keys and the `:SDF_FORMAT_ARGS:` suffix do not matter. The project name is
/// compared as written (the server matches it case-insensitively, but only the server knows the
/// project's real spelling), so `DEMO` and `demo` are distinct keys.
#[derive(Clone)]
pub struct AyonUri {
    pub(crate) buf: String,
    pub(crate) scheme: Scheme,
    pub(crate) project: Span,
    pub(crate) path: Span,
    pub(crate) product: Option<Span>,
    pub(crate) version: Option<VersionSelector>,
    pub(crate) representation: Option<Span>,
    pub(crate) task: Option<Span>,
    pub(crate) workfile: Option<Span>,
    pub(crate) sdf: Option<Span>,
}

impl AyonUri {
    /// Parses `input` with the real server's rules, reaching the same accept/reject verdict.
    ///
    /// "Project X not found" is not decided here: it needs the server's project list.
    pub fn parse(input: &str) -> Result<AyonUri, UriError> {
        parse::parse(input)
    }

    fn get(&self, span: Span) -> &str {
        self.buf.get(span.start..span.end).unwrap_or_default()
    }

    fn opt(&self, span: Option<Span>) -> Option<&str> {
        span.map(|s| self.get(s))
    }

    /// Which scheme spelling the input used (both mean the same).
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The project name as written; the server matches it case-insensitively.
    pub fn project(&self) -> &str {
        self.get(self.project)
    }

    /// The folder path without leading/trailing `/` (`"assets/char/hero"`), `""` when absent.
    pub fn folder_path(&self) -> &str {
        self.get(self.path)
    }

    /// The folder path's elements, outermost first; empty when there is no path.
    pub fn folder_segments(&self) -> impl Iterator<Item = &str> {
        self.folder_path().split('/').filter(|s| !s.is_empty())
    }

    /// The `product` value (decoded); may be `"*"`.
    pub fn product(&self) -> Option<&str> {
        self.opt(self.product)
    }

    /// The version selector; `None` when the key is absent, which is not the same as
    /// `Some(Any)`: `version=*` makes the version the target, absence does not.
    pub fn version(&self) -> Option<VersionSelector> {
        self.version
    }

    /// The `representation` value (decoded); may be `"*"`.
    pub fn representation(&self) -> Option<&str> {
        self.opt(self.representation)
    }

    /// The `task` value (decoded); may be `"*"`.
    pub fn task(&self) -> Option<&str> {
        self.opt(self.task)
    }

    /// The `workfile` value (decoded): a file name matched as a suffix of the stored path.
    pub fn workfile(&self) -> Option<&str> {
        self.opt(self.workfile)
    }

    /// The `:SDF_FORMAT_ARGS:...` suffix (with its leading `:`), which the server strips before
    /// parsing and USD uses for layer arguments.
    pub fn sdf_format_args(&self) -> Option<&str> {
        self.opt(self.sdf)
    }

    /// The kind of entity the server returns for this URI; `None` for a URI with neither path
    /// nor known query key (the server answers `entities: []` for those).
    pub fn target(&self) -> Option<Target> {
        if self.task.is_some() || self.workfile.is_some() {
            return Some(if self.workfile.is_some() {
                Target::Workfile
            } else {
                Target::Task
            });
        }
        if self.representation.is_some() {
            Some(Target::Representation)
        } else if self.version.is_some() {
            Some(Target::Version)
        } else if self.product.is_some() {
            Some(Target::Product)
        } else if self.path.start != self.path.end {
            Some(Target::Folder)
        } else {
            None
        }
    }

    /// True when the answer can never change: one exact version of one named representation
    /// of one named product in one folder (no wildcard, no moving selector).
    pub fn is_immutable(&self) -> bool {
        self.target() == Some(Target::Representation)
            && matches!(self.version, Some(VersionSelector::Exact(_)))
            && self.product().is_some_and(|p| p != "*")
            && self.representation() != Some("*")
            && !self.folder_path().is_empty()
    }

    /// One string per meaning: `ayon+entity://`, single slashes, keys in the fixed order
    /// `product, version, representation, task, workfile`, versions as `v` + at least three
    /// digits, unknown keys and SDF args dropped. Parsing it gives back an equal URI.
    pub fn canonical(&self) -> String {
        let mut out = String::with_capacity(self.buf.len() + 64);
        // Writing to a String cannot fail.
        let _ = self.write_canonical(&mut out);
        out
    }

    fn write_canonical<W: fmt::Write>(&self, w: &mut W) -> fmt::Result {
        w.write_str("ayon+entity://")?;
        w.write_str(self.project())?;
        let path = self.folder_path();
        if !path.is_empty() {
            w.write_char('/')?;
            w.write_str(path)?;
        }
        let mut first = true;
        let mut key = |w: &mut W, k: &str| -> fmt::Result {
            w.write_char(if first { '?' } else { '&' })?;
            first = false;
            w.write_str(k)?;
            w.write_char('=')
        };
        if let Some(p) = self.product() {
            key(w, "product")?;
            write_value(w, p)?;
        }
        if let Some(v) = self.version {
            key(w, "version")?;
            write_version(w, v)?;
        }
        if let Some(r) = self.representation() {
            key(w, "representation")?;
            write_value(w, r)?;
        }
        if let Some(t) = self.task() {
            key(w, "task")?;
            write_value(w, t)?;
        }
        if let Some(f) = self.workfile() {
            key(w, "workfile")?;
            write_value(w, f)?;
        }
        Ok(())
    }

    fn meaning(&self) -> Meaning<'_> {
        (
            self.project(),
            self.folder_path(),
            self.product(),
            self.version,
            self.representation(),
            self.task(),
            self.workfile(),
        )
    }
}

/// Writes a decoded query value so that `parse_qs` decodes it back to the same string.
fn write_value<W: fmt::Write>(w: &mut W, v: &str) -> fmt::Result {
    let safe = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'*');
    if v.bytes().all(safe) {
        return w.write_str(v);
    }
    for b in v.bytes() {
        if safe(b) {
            w.write_char(b as char)?;
        } else {
            write!(w, "%{b:02X}")?;
        }
    }
    Ok(())
}

/// Writes the canonical version spelling without going through the formatting machinery.
fn write_version<W: fmt::Write>(w: &mut W, v: VersionSelector) -> fmt::Result {
    match v {
        VersionSelector::Exact(n) => {
            let mut digits = [b'0'; 10];
            let mut i = digits.len();
            let mut n = n;
            loop {
                i -= 1;
                digits[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let start = i.min(digits.len() - 3);
            w.write_char('v')?;
            // Only ASCII digits were written.
            w.write_str(std::str::from_utf8(&digits[start..]).unwrap_or("000"))
        }
        other => write!(w, "{other}"),
    }
}

impl PartialEq for AyonUri {
    fn eq(&self, other: &Self) -> bool {
        self.meaning() == other.meaning()
    }
}

impl Eq for AyonUri {}

impl Hash for AyonUri {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.meaning().hash(state);
    }
}

impl fmt::Debug for AyonUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AyonUri")
            .field("scheme", &self.scheme)
            .field("project", &self.project())
            .field("folder_path", &self.folder_path())
            .field("product", &self.product())
            .field("version", &self.version)
            .field("representation", &self.representation())
            .field("task", &self.task())
            .field("workfile", &self.workfile())
            .field("sdf_format_args", &self.sdf_format_args())
            .finish()
    }
}

impl fmt::Display for AyonUri {
    /// The canonical form followed by the SDF suffix, if any: parsing it gives an equal URI
    /// with the same [`AyonUri::sdf_format_args`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_canonical(f)?;
        if let Some(sdf) = self.sdf_format_args() {
            f.write_str(sdf)?;
        }
        Ok(())
    }
}

impl FromStr for AyonUri {
    type Err = UriError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AyonUri::parse(s)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for AyonUri {
    /// Serialized as its `Display` string, so the SDF suffix survives.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for AyonUri {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        AyonUri::parse(&s).map_err(serde::de::Error::custom)
    }
}
