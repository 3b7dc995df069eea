//! Resolver contexts: what a host binds around a stage — mapping pairs, a pinning file, and
//! the answer cache it is connected to.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use crate::answers::Answers;
use crate::mapping::{MappingError, MappingPairs};
use crate::pinned::{DEFAULT_RECHECK, PinnedFile};
use crate::resolver::Registry;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A resolver context. Cheap to clone: clones are the same context (AYON's contexts compare
/// by identity; so do ours, through [`ResolverContext::id`]).
///
/// A new context is connected to its resolver's shared answer cache: `clear_cache` on any
/// context connected to it clears it for all of them. [`drop_cache`](Self::drop_cache) gives
/// this context a cache of its own.
#[derive(Clone, Debug)]
pub struct ResolverContext {
    pub(crate) inner: Arc<ContextState>,
}

#[derive(Debug)]
pub(crate) struct ContextState {
    id: u64,
    pub(crate) view: ArcSwap<View>,
    mapping_file: Mutex<Option<PathBuf>>,
    cache_capacity: usize,
    registry: Arc<Registry>,
}

/// What a resolve reads of a context, swapped as a whole: a resolve pays one atomic load (not
/// one per part) and sees the mapping, the pinning file and the cache of one moment.
#[derive(Debug, Clone)]
pub(crate) struct View {
    pub(crate) mapping: Arc<MappingPairs>,
    pub(crate) pinning: Option<Arc<PinnedFile>>,
    pub(crate) cache: Arc<Answers>,
}

impl ContextState {
    /// Changes part of the view; `change` runs again if another change landed meanwhile, so
    /// concurrent changes to different parts are all kept.
    fn update(&self, mut change: impl FnMut(&mut View)) {
        self.view.rcu(|v| {
            let mut next = View::clone(v);
            change(&mut next);
            next
        });
    }
}

impl ResolverContext {
    pub(crate) fn connected_to(
        cache: Arc<Answers>,
        cache_capacity: usize,
        registry: Arc<Registry>,
    ) -> ResolverContext {
        ResolverContext {
            inner: Arc::new(ContextState {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                view: ArcSwap::from_pointee(View {
                    mapping: Arc::new(MappingPairs::new()),
                    pinning: None,
                    cache,
                }),
                mapping_file: Mutex::new(None),
                cache_capacity,
                registry,
            }),
        }
    }

    /// This context's identity (unique in the process).
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// Forgets one identifier in the connected cache (AYON's `deleteFromCache`); true if it
    /// was cached.
    pub fn delete_from_cache(&self, identifier: &str) -> bool {
        self.inner.view.load().cache.remove(identifier)
    }

    /// Clears the connected cache (AYON's `clearCache`): for every context connected to it.
    pub fn clear_cache(&self) {
        self.inner.view.load().cache.clear();
    }

    /// Gives this context a new, empty cache of its own (AYON's `dropCache`); other contexts
    /// keep theirs.
    pub fn drop_cache(&self) {
        let own = self.inner.registry.new_cache(self.inner.cache_capacity);
        self.inner.update(|v| v.cache = own.clone());
    }

    /// How many answers the connected cache holds.
    pub fn cached_len(&self) -> usize {
        self.inner.view.load().cache.len()
    }

    /// Whether this context shares its cache with `other`.
    pub fn shares_cache_with(&self, other: &ResolverContext) -> bool {
        Arc::ptr_eq(
            &self.inner.view.load().cache,
            &other.inner.view.load().cache,
        )
    }

    /// Adds or replaces a mapping pair; returns the target it replaced.
    pub fn add_mapping_pair(&self, source: &str, target: &str) -> Option<String> {
        let mut old = None;
        self.inner.update(|v| {
            let mut next = MappingPairs::clone(&v.mapping);
            old = next.insert(source, target);
            v.mapping = Arc::new(next);
        });
        old
    }

    /// Removes the pair for `source`; returns its target.
    pub fn remove_mapping(&self, source: &str) -> Option<String> {
        let mut old = None;
        self.inner.update(|v| {
            let mut next = MappingPairs::clone(&v.mapping);
            old = next.remove(source);
            v.mapping = Arc::new(next);
        });
        old
    }

    /// Removes every pair.
    pub fn clear_mapping_pairs(&self) {
        self.inner
            .update(|v| v.mapping = Arc::new(MappingPairs::new()));
    }

    /// The mapping pairs, sorted.
    pub fn mapping_pairs(&self) -> std::collections::BTreeMap<String, String> {
        self.inner.view.load().mapping.to_sorted()
    }

    /// Loads mapping pairs from an AYON mapping file (`{"mappingPairs": {src: dst}}`),
    /// replacing the current ones, and remembers the file for
    /// [`refresh_mapping_file`](Self::refresh_mapping_file). On error nothing changes.
    pub fn set_mapping_file(&self, path: impl AsRef<Path>) -> Result<usize, MappingError> {
        let path = path.as_ref();
        let pairs = MappingPairs::load(path)?;
        let n = pairs.len();
        let pairs = Arc::new(pairs);
        self.inner.update(|v| v.mapping = pairs.clone());
        *self.inner.mapping_file.lock() = Some(path.to_owned());
        Ok(n)
    }

    /// The mapping file last loaded, if any.
    pub fn mapping_file(&self) -> Option<PathBuf> {
        self.inner.mapping_file.lock().clone()
    }

    /// Reloads the mapping file; `Ok(None)` when the context has none.
    pub fn refresh_mapping_file(&self) -> Result<Option<usize>, MappingError> {
        match self.mapping_file() {
            Some(path) => self.set_mapping_file(path).map(Some),
            None => Ok(None),
        }
    }

    /// Uses `file` as this context's pinning file (expanded with `roots`), reloaded when it
    /// changes on disk. On error the previous pinning file stays.
    pub fn set_pinning_file(
        &self,
        file: impl Into<PathBuf>,
        roots: ayon_pinning::Roots,
    ) -> Result<(), ayon_pinning::PinningError> {
        let pinned = PinnedFile::open(file, roots, DEFAULT_RECHECK)?;
        let pinned = Arc::new(pinned);
        self.inner.update(|v| v.pinning = Some(pinned.clone()));
        Ok(())
    }

    /// Stops using a pinning file in this context.
    pub fn clear_pinning_file(&self) {
        self.inner.update(|v| v.pinning = None);
    }

    /// This context's pinning file, if any.
    pub fn pinning_file(&self) -> Option<PathBuf> {
        self.inner
            .view
            .load()
            .pinning
            .as_ref()
            .map(|p| p.path().to_owned())
    }
}
