//! Mapping ("redirection") pairs: exact-string `source → target` rewrites a context applies
//! before anything else, loaded from AYON's mapping files or set by calls.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

/// The key of AYON's mapping files (`{"mappingPairs": {src: dst}}`).
pub const MAPPING_PAIRS_KEY: &str = "mappingPairs";

/// Why a mapping file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The file could not be read.
    #[error("cannot read mapping file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("mapping file {path} is not valid JSON: {source}")]
    Json {
        /// The file.
        path: String,
        /// The parse error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The JSON has no `mappingPairs` object.
    #[error("mapping file {path} has no \"mappingPairs\" object at its top level")]
    NoPairs {
        /// The file.
        path: String,
    },
    /// A target that is not a string (AYON ignores these silently; we name them).
    #[error("mapping file {path}: the target of {source_key:?} is not a string")]
    NotAString {
        /// The file.
        path: String,
        /// The source whose target is wrong.
        source_key: String,
    },
}

/// A set of exact-string rewrites. Cheap to look up (one hash probe); cloned on change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingPairs {
    pairs: HashMap<String, String>,
}

impl MappingPairs {
    /// No pairs.
    pub fn new() -> MappingPairs {
        MappingPairs::default()
    }

    /// Reads an AYON mapping file: a JSON object whose `mappingPairs` maps source to target.
    pub fn load(path: impl AsRef<Path>) -> Result<MappingPairs, MappingError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| MappingError::Read {
            path: shown.clone(),
            source,
        })?;
        MappingPairs::from_json(&bytes, &shown)
    }

    /// Parses the JSON of a mapping file; `name` stands for the file in errors.
    pub fn from_json(bytes: &[u8], name: &str) -> Result<MappingPairs, MappingError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|source| MappingError::Json {
            path: name.to_owned(),
            source,
        })?;
        let Some(Value::Object(map)) = value.get(MAPPING_PAIRS_KEY) else {
            return Err(MappingError::NoPairs {
                path: name.to_owned(),
            });
        };
        let mut pairs = HashMap::with_capacity(map.len());
        for (src, dst) in map {
            let Value::String(dst) = dst else {
                return Err(MappingError::NotAString {
                    path: name.to_owned(),
                    source_key: src.clone(),
                });
            };
            pairs.insert(src.clone(), dst.clone());
        }
        Ok(MappingPairs { pairs })
    }

    /// The target for `source`, if mapped.
    pub fn get(&self, source: &str) -> Option<&str> {
        self.pairs.get(source).map(String::as_str)
    }

    /// Adds or replaces a pair; returns the target it replaced.
    pub fn insert(
        &mut self,
        source: impl Into<String>,
        target: impl Into<String>,
    ) -> Option<String> {
        self.pairs.insert(source.into(), target.into())
    }

    /// Removes the pair whose source is `source`; returns its target.
    pub fn remove(&mut self, source: &str) -> Option<String> {
        self.pairs.remove(source)
    }

    /// Removes every pair whose target is `target`; returns how many.
    pub fn remove_by_target(&mut self, target: &str) -> usize {
        let before = self.pairs.len();
        self.pairs.retain(|_, t| t != target);
        before - self.pairs.len()
    }

    /// Removes every pair.
    pub fn clear(&mut self) {
        self.pairs.clear();
    }

    /// How many pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// A sorted copy, as AYON's `GetMappingPairs` returns it.
    pub fn to_sorted(&self) -> BTreeMap<String, String> {
        self.pairs
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_pairs_and_names_what_is_wrong() {
        let ok = br#"{"mappingPairs": {"ayon://p/a?product=x": "/mnt/a.usd"}, "other": 1}"#;
        let pairs = MappingPairs::from_json(ok, "m.json").unwrap();
        assert_eq!(pairs.get("ayon://p/a?product=x"), Some("/mnt/a.usd"));
        assert_eq!(pairs.len(), 1);

        let err = MappingPairs::from_json(b"{\"mappingPairs\": [1]}", "m.json").unwrap_err();
        assert!(matches!(err, MappingError::NoPairs { .. }), "{err}");
        let err = MappingPairs::from_json(b"{\"mappingPairs\": {\"a\": 3}}", "m.json").unwrap_err();
        assert!(err.to_string().contains("\"a\""), "{err}");
        let err = MappingPairs::from_json(b"{nope", "m.json").unwrap_err();
        assert!(err.to_string().contains("m.json"), "{err}");
    }

    #[test]
    fn edits() {
        let mut m = MappingPairs::new();
        assert_eq!(m.insert("a", "x"), None);
        assert_eq!(m.insert("a", "y"), Some("x".into()));
        m.insert("b", "y");
        m.insert("c", "z");
        assert_eq!(m.remove_by_target("y"), 2);
        assert_eq!(m.remove("c"), Some("z".into()));
        assert!(m.is_empty());
    }
}
