//! What the client knows about its site: the platform (configured, then as the server reports
//! it) and each project's roots. The one place both are remembered in memory.

use std::collections::HashMap;
use std::sync::Arc;

use ayon_site::{Platform, Roots};
use parking_lot::RwLock;

/// This client's site: shared by all clones of a client and by the offline client over it.
pub(crate) struct SiteState {
    configured: Platform,
    /// The site's platform as the server reports it (`GET /api/info`).
    reported: RwLock<Option<Platform>>,
    /// Roots per project (lower-cased name, as the server compares them), each with the
    /// platform it was given for.
    roots: RwLock<HashMap<String, Arc<Roots>>>,
    /// Serialises fetching roots, so concurrent misses ask the server once.
    pub(crate) fetch_lock: tokio::sync::Mutex<()>,
}

impl SiteState {
    pub(crate) fn new(configured: Platform) -> SiteState {
        SiteState {
            configured,
            reported: RwLock::new(None),
            roots: RwLock::new(HashMap::new()),
            fetch_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The platform whose separators and roots apply: the server's word, else the configured.
    pub(crate) fn platform(&self) -> Platform {
        self.reported.read().unwrap_or(self.configured)
    }

    /// Records the platform the server reports for this site.
    pub(crate) fn set_reported(&self, platform: Platform) {
        *self.reported.write() = Some(platform);
    }

    /// The roots of `project` known in memory.
    pub(crate) fn roots(&self, project: &str) -> Option<Arc<Roots>> {
        self.roots.read().get(&project.to_lowercase()).cloned()
    }

    /// Keeps the roots of `project`.
    pub(crate) fn remember(&self, project: &str, roots: Arc<Roots>) {
        self.roots.write().insert(project.to_lowercase(), roots);
    }
}
