//! Site roots (`name -> path`) that `{root[NAME]}` tokens stand for, and their env-string form.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// The environment variable the ayon-usd farm hook sets (`name=value,name=value`).
pub const ROOTS_ENV: &str = "AYON_USD_RESOLVER_PINNING_ROOTS";

/// The deprecated variable older resolvers read; consulted only when [`ROOTS_ENV`] is unset or blank.
pub const LEGACY_ROOTS_ENV: &str = "PROJECT_ROOTS";

/// Why a roots string or a root name was refused.
///
/// `origin` says where the string came from (an environment variable's name, or `roots string`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
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

/// The roots a pinning file's `{root[NAME]}` tokens refer to, in insertion order.
///
/// Names are matched exactly (case-sensitive), as AYON's anatomy does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roots {
    entries: Vec<(String, String)>,
}

impl Roots {
    /// No roots: a file with any `{root[..]}` token then fails to load, naming the token.
    pub fn new() -> Roots {
        Roots::default()
    }

    /// Builds roots from `(name, value)` pairs; a later pair with the same name wins.
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

    /// Parses the env-string form that the ayon-usd hook writes and AYON's resolver reads.
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

    fn parse_from(s: &str, origin: &str) -> Result<Roots, RootsError> {
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

    /// Roots from the values of [`ROOTS_ENV`] and [`LEGACY_ROOTS_ENV`], passed in so callers
    /// (and tests) need not touch the process environment.
    ///
    /// The first value that is present and not blank is parsed; neither gives no roots.
    pub fn from_env_values(
        pinning_roots: Option<&str>,
        project_roots: Option<&str>,
    ) -> Result<Roots, RootsError> {
        if let Some(v) = pinning_roots.filter(|v| !v.trim().is_empty()) {
            return Roots::parse_from(v, ROOTS_ENV);
        }
        if let Some(v) = project_roots.filter(|v| !v.trim().is_empty()) {
            return Roots::parse_from(v, LEGACY_ROOTS_ENV);
        }
        Ok(Roots::new())
    }

    /// Reads [`ROOTS_ENV`], then [`LEGACY_ROOTS_ENV`], as [`Roots::from_env_values`] does.
    pub fn from_env() -> Result<Roots, RootsError> {
        let current = env_string(ROOTS_ENV)?;
        let legacy = env_string(LEGACY_ROOTS_ENV)?;
        Roots::from_env_values(current.as_deref(), legacy.as_deref())
    }
}

fn env_string(name: &str) -> Result<Option<String>, RootsError> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(v) => v
            .into_string()
            .map(Some)
            .map_err(|_| RootsError::NotUnicode {
                origin: name.to_owned(),
            }),
    }
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
mod tests {
    use super::*;

    fn pairs(r: &Roots) -> Vec<(&str, &str)> {
        r.iter().collect()
    }

    #[test]
    fn parses_name_equals_value_and_trims() {
        let r = Roots::parse(" work = /mnt/work , publish=/mnt/pub ").unwrap();
        assert_eq!(pairs(&r), [("work", "/mnt/work"), ("publish", "/mnt/pub")]);
    }

    #[test]
    fn legacy_colon_form_keeps_drive_letters() {
        let r = Roots::parse("work:P:/projects,pub:Q:\\pub").unwrap();
        assert_eq!(pairs(&r), [("work", "P:/projects"), ("pub", "Q:\\pub")]);
    }

    #[test]
    fn equals_form_value_may_hold_colons_and_equals() {
        let r = Roots::parse("work=P:/projects,x=/a=b,y:/c=d").unwrap();
        assert_eq!(
            pairs(&r),
            [("work", "P:/projects"), ("x", "/a=b"), ("y", "/c=d")]
        );
    }

    #[test]
    fn blank_items_are_skipped_and_empty_value_allowed() {
        let r = Roots::parse(",, work=/w ,,empty=,").unwrap();
        assert_eq!(pairs(&r), [("work", "/w"), ("empty", "")]);
        assert!(Roots::parse("   ").unwrap().is_empty());
    }

    #[test]
    fn comma_in_a_value_is_an_error_naming_the_fragment() {
        let err = Roots::parse("work=/mnt/a,b,pub=/p").unwrap_err();
        assert_eq!(
            err,
            RootsError::NotAPair {
                origin: "roots string".into(),
                index: 2,
                item: "b".into()
            }
        );
        assert!(err.to_string().contains("`b`"), "{err}");
    }

    #[test]
    fn empty_or_bracketed_names_are_refused() {
        assert!(matches!(
            Roots::parse("=/x"),
            Err(RootsError::BadName { name, .. }) if name.is_empty()
        ));
        assert!(matches!(
            Roots::parse("a]b=/x"),
            Err(RootsError::BadName { .. })
        ));
        assert!(Roots::new().insert("a{", "/x").is_err());
    }

    #[test]
    fn later_duplicate_wins() {
        let r = Roots::parse("work=/a,work=/b").unwrap();
        assert_eq!(pairs(&r), [("work", "/b")]);
    }

    #[test]
    fn env_values_prefer_the_current_variable_then_legacy() {
        let r = Roots::from_env_values(Some("work=/new"), Some("work:/old")).unwrap();
        assert_eq!(r.get("work"), Some("/new"));
        let r = Roots::from_env_values(None, Some("work:/old")).unwrap();
        assert_eq!(r.get("work"), Some("/old"));
        let r = Roots::from_env_values(Some("  "), Some("work:/old")).unwrap();
        assert_eq!(r.get("work"), Some("/old"));
        assert!(Roots::from_env_values(None, None).unwrap().is_empty());
    }

    #[test]
    fn env_errors_name_the_variable() {
        let err = Roots::from_env_values(Some("oops"), None).unwrap_err();
        assert!(err.to_string().starts_with(ROOTS_ENV), "{err}");
        let err = Roots::from_env_values(None, Some("work:/a,oops")).unwrap_err();
        assert!(err.to_string().starts_with(LEGACY_ROOTS_ENV), "{err}");
    }

    #[test]
    fn display_round_trips() {
        let r = Roots::parse("work=P:/projects,pub=//nas/pub").unwrap();
        assert_eq!(Roots::parse(&r.to_string()).unwrap(), r);
    }
}
