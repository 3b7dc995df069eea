//! The answer store: a lock-free hash map (`papaya`). A read pins a thread-local epoch and
//! loads; it writes nothing other threads read, so hits on two threads do not slow each other.
//! Bounded by evicting a slice of the keys (and every expired answer) when it overflows.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use super::Answer;
use crate::Resolved;

/// Eviction removes one of this many hash slices of the keys at a time (about 1/8 of them).
const SLICES: u64 = 8;

/// Answers in a lock-free map of about `capacity` entries.
#[derive(Debug)]
pub(crate) struct LockFree {
    map: papaya::HashMap<Box<str>, Answer, foldhash::fast::RandomState>,
    capacity: usize,
    /// Set while one thread evicts; the others skip it (the bound is loose by what they add).
    evicting: AtomicBool,
    /// The slice the next eviction takes, in turn, so no key range is always the victim.
    next_slice: AtomicU64,
}

impl LockFree {
    pub(super) fn new(capacity: usize) -> LockFree {
        LockFree {
            map: papaya::HashMap::builder()
                .hasher(foldhash::fast::RandomState::default())
                // Reads never wait either way; blocking resizes keep them to one table.
                .resize_mode(papaya::ResizeMode::Blocking)
                .build(),
            capacity,
            evicting: AtomicBool::new(false),
            next_slice: AtomicU64::new(0),
        }
    }

    #[inline]
    pub(super) fn get(&self, identifier: &str) -> Option<Resolved> {
        let map = self.map.pin();
        let answer = map.get(identifier)?;
        if answer.expired_now() {
            // Only this answer: a fresh one put meanwhile stays.
            let _ = map.remove_if(identifier, |_, a| std::ptr::eq(a, answer));
            return None;
        }
        Some(answer.resolved())
    }

    pub(super) fn put(&self, identifier: &str, answer: Answer) {
        let map = self.map.pin();
        map.insert(identifier.into(), answer);
        if map.len() > self.capacity {
            self.evict(identifier);
        }
    }

    /// Drops every expired answer and one slice of the others, never `keep` (just put).
    fn evict(&self, keep: &str) {
        if self.evicting.swap(true, Ordering::Acquire) {
            return;
        }
        let slice = self.next_slice.fetch_add(1, Ordering::Relaxed) % SLICES;
        let slicer = foldhash::fast::FixedState::with_seed(0x51ce);
        let now = Instant::now();
        self.map.pin().retain(|k, a| {
            &**k == keep || !(a.expired(now) || slicer.hash_one(k) % SLICES == slice)
        });
        self.evicting.store(false, Ordering::Release);
    }

    pub(super) fn remove(&self, identifier: &str) -> bool {
        self.map.pin().remove(identifier).is_some()
    }

    pub(super) fn retain(&self, keep: impl Fn(&Answer) -> bool) {
        self.map.pin().retain(|_, a| keep(a));
    }

    pub(super) fn clear(&self) {
        self.map.pin().clear();
    }

    pub(super) fn len(&self) -> usize {
        self.map.len()
    }
}
