//! The previous answer store: `quick_cache`'s sharded cache. A hit takes its shard's read
//! lock, an atomic write to a line every thread on that shard shares; kept only as the
//! benches' baseline (feature `bench-baseline`).

use super::Answer;
use crate::Resolved;

/// Answers in a sharded, weighted cache.
#[derive(Debug)]
pub(crate) struct Sharded {
    map: quick_cache::sync::Cache<Box<str>, Answer>,
}

impl Sharded {
    pub(super) fn new(capacity: usize) -> Sharded {
        Sharded {
            map: quick_cache::sync::Cache::new(capacity),
        }
    }

    pub(super) fn get(&self, identifier: &str) -> Option<Resolved> {
        let answer = self.map.get(identifier)?;
        if answer.expired_now() {
            self.map.remove(identifier);
            return None;
        }
        Some(Resolved {
            path: answer.path.into_string(),
            source: answer.source,
        })
    }

    pub(super) fn put(&self, identifier: &str, answer: Answer) {
        self.map.insert(identifier.into(), answer);
    }

    pub(super) fn remove(&self, identifier: &str) -> bool {
        self.map.remove(identifier).is_some()
    }

    pub(super) fn retain(&self, keep: impl Fn(&Answer) -> bool) {
        self.map.retain(|_, a| keep(a));
    }

    pub(super) fn clear(&self) {
        self.map.clear();
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }
}
