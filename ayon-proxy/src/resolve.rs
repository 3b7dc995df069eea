//! Offline `POST /api/resolve` for batches never asked before: the prepared-project index
//! (`ayon prepare-offline`) answers them as the server would.

use std::path::PathBuf;
use std::sync::Arc;

use ayon_index::{Index, IndexError};
use ayon_site::Platform;
use parking_lot::Mutex;

/// The two views of the index a resolve can need: roots substituted for this machine's
/// platform (`resolveRoots` with a site), or left as `{root[NAME]}`.
#[derive(Debug)]
pub(crate) struct OfflineResolver {
    dir: Option<PathBuf>,
    rooted: Mutex<Option<Arc<Index>>>,
    rootless: Mutex<Option<Arc<Index>>>,
}

/// What the index said about a batch.
pub(crate) enum IndexAnswer {
    /// The server's answer (a JSON list, one item per URI).
    Answer(serde_json::Value),
    /// The server would refuse the whole batch with this status and detail.
    Refused(u16, String),
    /// The index cannot answer (not prepared, outside the prepared scope, unreadable).
    Unknown(String),
}

impl OfflineResolver {
    pub(crate) fn new(dir: Option<PathBuf>) -> OfflineResolver {
        OfflineResolver {
            dir,
            rooted: Mutex::new(None),
            rootless: Mutex::new(None),
        }
    }

    fn index(&self, roots: bool) -> Result<Arc<Index>, IndexError> {
        let slot = if roots { &self.rooted } else { &self.rootless };
        let mut slot = slot.lock();
        if let Some(i) = &*slot {
            return Ok(i.clone());
        }
        let mut b = Index::builder()
            .substitute_roots(roots)
            .platform(roots.then(Platform::current));
        if let Some(dir) = &self.dir {
            b = b.cache_dir(dir);
        }
        let index = Arc::new(b.open()?);
        *slot = Some(index.clone());
        Ok(index)
    }

    /// The answer for a `POST /api/resolve` body sent with `site` (`x-ayon-site-id`).
    pub(crate) fn answer(&self, body: &[u8], site: Option<&str>) -> IndexAnswer {
        let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
            return IndexAnswer::Refused(400, "the resolve request body is not JSON".to_owned());
        };
        let Some(uris) = request.get("uris").and_then(|u| u.as_array()) else {
            return IndexAnswer::Refused(400, "the resolve request has no `uris` list".to_owned());
        };
        let uris: Vec<&str> = uris.iter().filter_map(|u| u.as_str()).collect();
        let roots = site.is_some()
            && request
                .get("resolveRoots")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
        let index = match self.index(roots) {
            Ok(i) => i,
            Err(e) => return IndexAnswer::Unknown(format!("no prepared index: {e}")),
        };
        match index.resolve_batch(&uris) {
            Ok(answers) => match serde_json::to_value(&answers) {
                Ok(v) => IndexAnswer::Answer(v),
                Err(e) => IndexAnswer::Unknown(e.to_string()),
            },
            Err(IndexError::BatchRefused { status, detail }) => {
                IndexAnswer::Refused(status, detail)
            }
            Err(e) => IndexAnswer::Unknown(e.to_string()),
        }
    }
}
