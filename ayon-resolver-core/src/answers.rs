//! Decoded answers keyed by the identifier as the host gave it: the hot path of a host that
//! resolves the same asset again costs one sharded hash lookup, no parse, no JSON.

use std::hash::{BuildHasher, Hasher};
use std::time::Instant;

use crate::{Resolved, Source};

/// One remembered answer. Held by value, not behind an `Arc`: a hit then copies the path once
/// (which it must, to hand out a `String`) and writes to no memory other threads read, so
/// threads resolving at once do not fight over reference counts.
#[derive(Debug, Clone)]
struct Answer {
    path: Box<str>,
    source: Source,
    /// A hash of the lower-cased AYON project, for event invalidation; 0 for file paths.
    project: u64,
    /// Moving answers (`latest`, `hero`, …) expire; exact versions and files do not.
    expires: Option<Instant>,
}

/// The project key of [`Answer::project`] (never 0; a collision only drops more).
fn project_key(project: &str) -> u64 {
    let mut h = foldhash::fast::FixedState::with_seed(0xa70).build_hasher();
    for b in project.bytes() {
        h.write_u8(b.to_ascii_lowercase());
    }
    h.finish() | 1
}

/// A resolver-level cache shared by the contexts connected to it.
#[derive(Debug)]
pub(crate) struct Answers {
    map: quick_cache::sync::Cache<Box<str>, Answer>,
}

impl Answers {
    /// Room for about `capacity` answers.
    pub(crate) fn new(capacity: usize) -> Answers {
        Answers {
            map: quick_cache::sync::Cache::new(capacity.max(16)),
        }
    }

    /// The fresh answer for `identifier`, if any; an expired one is dropped.
    pub(crate) fn get(&self, identifier: &str) -> Option<Resolved> {
        let answer = self.map.get(identifier)?;
        if let Some(expires) = answer.expires
            && Instant::now() >= expires
        {
            self.map.remove(identifier);
            return None;
        }
        Some(Resolved {
            path: answer.path.into_string(),
            source: answer.source,
        })
    }

    /// Remembers an answer.
    pub(crate) fn put(
        &self,
        identifier: &str,
        resolved: &Resolved,
        project: Option<&str>,
        expires: Option<Instant>,
    ) {
        let answer = Answer {
            path: resolved.path.as_str().into(),
            source: resolved.source,
            project: project.map_or(0, project_key),
            expires,
        };
        self.map.insert(identifier.into(), answer);
    }

    /// Forgets one identifier; true if it was there.
    pub(crate) fn remove(&self, identifier: &str) -> bool {
        self.map.remove(identifier).is_some()
    }

    /// Forgets the moving answers of `project` (after an entity event).
    pub(crate) fn invalidate_project(&self, project: &str) {
        let key = project_key(project);
        self.map
            .retain(|_, a| a.expires.is_none() || a.project != key);
    }

    /// Forgets the moving answers of every project.
    pub(crate) fn invalidate_moving(&self) {
        self.map.retain(|_, a| a.expires.is_none());
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        self.map.clear();
    }

    /// How many answers are held.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn r(path: &str) -> Resolved {
        Resolved {
            path: path.into(),
            source: Source::Server,
        }
    }

    #[test]
    fn expiry_and_invalidation() {
        let a = Answers::new(100);
        a.put("exact", &r("/v1"), Some("demo"), None);
        a.put(
            "latest",
            &r("/v9"),
            Some("demo"),
            Some(Instant::now() + Duration::from_secs(60)),
        );
        a.put(
            "other",
            &r("/o"),
            Some("elsewhere"),
            Some(Instant::now() + Duration::from_secs(60)),
        );
        a.put(
            "gone",
            &r("/g"),
            Some("demo"),
            Some(Instant::now() - Duration::from_millis(1)),
        );
        assert_eq!(a.get("exact").unwrap().path, "/v1");
        assert!(a.get("gone").is_none(), "expired answers are not served");
        a.invalidate_project("DEMO");
        assert!(
            a.get("latest").is_none(),
            "moving answers of the project go"
        );
        assert!(a.get("exact").is_some(), "exact versions stay");
        assert!(a.get("other").is_some(), "other projects stay");
        a.invalidate_moving();
        assert!(
            a.get("other").is_none(),
            "every project's moving answers go"
        );
        assert!(a.get("exact").is_some(), "exact versions stay");
        assert!(a.remove("exact"));
        assert!(!a.remove("exact"));
        a.clear();
        assert_eq!(a.len(), 0);
    }
}
