//! Decoded answers keyed by the identifier as the host gave it: the hot path of a host that
//! resolves the same asset again costs one sharded hash lookup, no parse, no JSON.

use std::sync::Arc;
use std::time::Instant;

use crate::{Resolved, Source};

/// One remembered answer.
#[derive(Debug)]
struct Answer {
    path: Box<str>,
    source: Source,
    /// The AYON project, for event invalidation; `None` for file paths.
    project: Option<Box<str>>,
    /// Moving answers (`latest`, `hero`, …) expire; exact versions and files do not.
    expires: Option<Instant>,
}

/// A resolver-level cache shared by the contexts connected to it.
#[derive(Debug)]
pub(crate) struct Answers {
    map: quick_cache::sync::Cache<Box<str>, Arc<Answer>>,
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
            path: answer.path.as_ref().to_owned(),
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
            project: project.map(Into::into),
            expires,
        };
        self.map.insert(identifier.into(), Arc::new(answer));
    }

    /// Forgets one identifier; true if it was there.
    pub(crate) fn remove(&self, identifier: &str) -> bool {
        self.map.remove(identifier).is_some()
    }

    /// Forgets the moving answers of `project` (after an entity event).
    pub(crate) fn invalidate_project(&self, project: &str) {
        self.map.retain(|_, a| {
            a.expires.is_none()
                || !a
                    .project
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case(project))
        });
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
        assert!(a.remove("exact"));
        assert!(!a.remove("exact"));
        a.clear();
        assert_eq!(a.len(), 0);
    }
}
