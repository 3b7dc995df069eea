//! Decoded answers keyed by the identifier as the host gave it: the hot path of a host that
//! resolves the same asset again costs one hash lookup, no parse, no JSON.
//!
//! The store is a lock-free map ([`lock_free`]): a hit writes no memory another thread reads
//! (no lock word, no reference count, no shared counter), so cached resolves scale with
//! threads. With the `bench-baseline` feature the previous sharded store ([`sharded`], one
//! reader-writer lock per shard) can be chosen instead, so benches compare both in one run.

use std::hash::{BuildHasher, Hasher};
use std::time::Instant;

use crate::{Resolved, Source};

mod lock_free;
#[cfg(feature = "bench-baseline")]
mod sharded;

/// One remembered answer. Held by value, not behind an `Arc`: a hit then copies the path once
/// (which it must, to hand out a `String`) and writes to no memory other threads read.
#[derive(Debug, Clone)]
struct Answer {
    path: Box<str>,
    source: Source,
    /// A hash of the lower-cased AYON project, for event invalidation; 0 for file paths.
    project: u64,
    /// Moving answers (`latest`, `hero`, …) expire; exact versions and files do not.
    expires: Option<Instant>,
}

impl Answer {
    fn new(resolved: &Resolved, project: Option<&str>, expires: Option<Instant>) -> Answer {
        Answer {
            path: resolved.path.as_str().into(),
            source: resolved.source,
            project: project.map_or(0, project_key),
            expires,
        }
    }

    /// Past its freshness at `now`.
    fn expired(&self, now: Instant) -> bool {
        self.expires.is_some_and(|e| now >= e)
    }

    /// Past its freshness now (the clock is read only for answers that expire).
    #[inline]
    fn expired_now(&self) -> bool {
        self.expires.is_some_and(|e| Instant::now() >= e)
    }

    /// Dropped by an entity event of the project with key `project`: moving answers only.
    fn moves_with(&self, project: u64) -> bool {
        self.expires.is_some() && self.project == project
    }

    fn resolved(&self) -> Resolved {
        Resolved {
            path: self.path.as_ref().to_owned(),
            source: self.source,
        }
    }
}

/// The project key of [`Answer::project`] (never 0; a collision only drops more).
fn project_key(project: &str) -> u64 {
    let mut h = foldhash::fast::FixedState::with_seed(0xa70).build_hasher();
    for b in project.bytes() {
        h.write_u8(b.to_ascii_lowercase());
    }
    h.finish() | 1
}

/// Which store a resolver's answer caches use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum StoreKind {
    /// [`lock_free::LockFree`]: what every resolver uses.
    #[default]
    LockFree,
    /// [`sharded::Sharded`]: the previous store, kept as the benches' baseline.
    #[cfg(feature = "bench-baseline")]
    Sharded,
}

/// A resolver-level cache shared by the contexts connected to it.
#[derive(Debug)]
pub(crate) enum Answers {
    LockFree(lock_free::LockFree),
    #[cfg(feature = "bench-baseline")]
    Sharded(sharded::Sharded),
}

/// Calls the same method on whichever store this is.
macro_rules! each_store {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Answers::LockFree($s) => $e,
            #[cfg(feature = "bench-baseline")]
            Answers::Sharded($s) => $e,
        }
    };
}

impl Answers {
    /// Room for about `capacity` answers.
    pub(crate) fn new(kind: StoreKind, capacity: usize) -> Answers {
        let capacity = capacity.max(16);
        match kind {
            StoreKind::LockFree => Answers::LockFree(lock_free::LockFree::new(capacity)),
            #[cfg(feature = "bench-baseline")]
            StoreKind::Sharded => Answers::Sharded(sharded::Sharded::new(capacity)),
        }
    }

    /// The fresh answer for `identifier`, if any; an expired one is dropped.
    #[inline]
    pub(crate) fn get(&self, identifier: &str) -> Option<Resolved> {
        each_store!(self, s => s.get(identifier))
    }

    /// Remembers an answer.
    pub(crate) fn put(
        &self,
        identifier: &str,
        resolved: &Resolved,
        project: Option<&str>,
        expires: Option<Instant>,
    ) {
        let answer = Answer::new(resolved, project, expires);
        each_store!(self, s => s.put(identifier, answer))
    }

    /// Forgets one identifier; true if it was there.
    pub(crate) fn remove(&self, identifier: &str) -> bool {
        each_store!(self, s => s.remove(identifier))
    }

    /// Forgets the moving answers of `project` (after an entity event).
    pub(crate) fn invalidate_project(&self, project: &str) {
        let key = project_key(project);
        each_store!(self, s => s.retain(|a| !a.moves_with(key)))
    }

    /// Forgets the moving answers of every project.
    pub(crate) fn invalidate_moving(&self) {
        each_store!(self, s => s.retain(|a| a.expires.is_none()))
    }

    /// Forgets everything.
    pub(crate) fn clear(&self) {
        each_store!(self, s => s.clear())
    }

    /// How many answers are held.
    pub(crate) fn len(&self) -> usize {
        each_store!(self, s => s.len())
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

    fn kinds() -> Vec<StoreKind> {
        vec![
            StoreKind::LockFree,
            #[cfg(feature = "bench-baseline")]
            StoreKind::Sharded,
        ]
    }

    #[test]
    fn expiry_and_invalidation() {
        for kind in kinds() {
            let a = Answers::new(kind, 100);
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

    #[test]
    fn bounded_while_threads_put_and_get() {
        for kind in kinds() {
            let a = Answers::new(kind, 256);
            std::thread::scope(|s| {
                for t in 0..4 {
                    let a = &a;
                    s.spawn(move || {
                        for i in 0..5_000 {
                            let id = format!("ayon+entity://demo/t{t}/a{i}?version=v001");
                            a.put(&id, &r("/p"), Some("demo"), None);
                            if let Some(hit) = a.get(&id) {
                                assert_eq!(hit.path, "/p");
                            }
                        }
                    });
                }
            });
            assert!(a.len() <= 512, "{kind:?}: {} answers held", a.len());
        }
    }

    #[test]
    fn bounded_and_keeps_the_newest() {
        for kind in kinds() {
            let a = Answers::new(kind, 1000);
            for i in 0..20_000 {
                let id = format!("ayon+entity://demo/a{i}?version=v001");
                a.put(&id, &r("/p"), Some("demo"), None);
                assert!(
                    a.get(&id).is_some(),
                    "{kind:?}: the answer just put is served"
                );
            }
            assert!(a.len() <= 1100, "{kind:?}: {} answers held", a.len());
            assert!(a.len() >= 500, "{kind:?}: {} answers held", a.len());
        }
    }
}
