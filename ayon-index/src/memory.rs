//! The memory layer in front of the SQL: answers by URI meaning, dropped whenever the index
//! changes (here or in another process), so a repeated URI costs a hash lookup.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ayon_uri::AyonUri;
use quick_cache::Weighter;
use quick_cache::sync::Cache;

use crate::Answer;

#[derive(Clone)]
struct ByBytes;

impl Weighter<AyonUri, Arc<Answer>> for ByBytes {
    fn weight(&self, _key: &AyonUri, answer: &Arc<Answer>) -> u64 {
        // The key's own buffer is about as long as the URI; 128 covers it and the map slot.
        128 + answer.weight()
    }
}

/// Answers kept in memory, with the generation that guards against storing a stale one.
pub(crate) struct Memory {
    answers: Cache<AyonUri, Arc<Answer>, ByBytes>,
    generation: AtomicU64,
    started: Instant,
    /// Milliseconds after `started` of the last cross-process change check.
    last_check_ms: AtomicU64,
    recheck_ms: u64,
}

impl Memory {
    pub(crate) fn new(bytes: u64, recheck: Duration) -> Memory {
        let estimated_items = (bytes / 512).clamp(16, 1 << 20) as usize;
        Memory {
            answers: Cache::with_weighter(estimated_items, bytes.max(1), ByBytes),
            generation: AtomicU64::new(0),
            started: Instant::now(),
            last_check_ms: AtomicU64::new(0),
            recheck_ms: recheck.as_millis() as u64,
        }
    }

    /// True when it is time to ask SQLite whether another connection committed.
    pub(crate) fn due_for_check(&self) -> bool {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_check_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < self.recheck_ms && last != 0 {
            return false;
        }
        self.last_check_ms
            .compare_exchange(last, now.max(1), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    pub(crate) fn get(&self, uri: &AyonUri) -> Option<Arc<Answer>> {
        self.answers.get(uri)
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores an answer computed at `generation`, unless the index changed meanwhile.
    pub(crate) fn insert(&self, generation: u64, uri: &AyonUri, answer: Arc<Answer>) {
        if self.generation() == generation {
            self.answers.insert(uri.clone(), answer);
            // An invalidation between the check and the insert: take the answer back out.
            if self.generation() != generation {
                self.answers.remove(uri);
            }
        }
    }

    /// Drops every answer: the index changed.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.answers.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.answers.len()
    }
}
