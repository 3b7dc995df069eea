//! Offline answers from a prepared project's local index (prepare-for-offline): the index says
//! what the server's `/api/resolve` would, this module turns that into a [`Resolution`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ayon_index::{Index, IndexError};
use ayon_uri::{AyonUri, Target};
use parking_lot::Mutex;

use crate::client::Client;
use crate::error::ResolveError;
use crate::prepare::{CancelToken, PrepareOptions, PrepareScope};
use crate::resolution::{Resolution, ResolvedEntity, Source};

/// How long a project's `prepared_at` is remembered before the index is asked again.
const PREPARED_AT_TTL: Duration = Duration::from_secs(5);

/// The index an offline client falls back on, with each project's prepare time at hand.
#[derive(Debug)]
pub(crate) struct LocalIndex {
    index: Arc<Index>,
    prepared_at: Mutex<HashMap<String, (Instant, Option<SystemTime>)>>,
    /// Projects being re-fetched after an entity event, and whether another event came since.
    refreshing: Arc<Mutex<HashMap<String, bool>>>,
}

impl LocalIndex {
    pub(crate) fn new(index: Arc<Index>) -> LocalIndex {
        LocalIndex {
            index,
            prepared_at: Mutex::new(HashMap::new()),
            refreshing: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub(crate) fn index(&self) -> &Arc<Index> {
        &self.index
    }

    /// When `project` was prepared, or `None` when it was not.
    fn prepared_at(&self, project: &str) -> Option<SystemTime> {
        let key = project.to_ascii_lowercase();
        if let Some((at, when)) = self.prepared_at.lock().get(&key)
            && at.elapsed() < PREPARED_AT_TTL
        {
            return *when;
        }
        let when = match self.index.prepared(project) {
            Ok(p) => p.map(|p| p.changed_at),
            Err(e) => {
                tracing::warn!(target: "ayon_client", project, error = %e, "local index unreadable");
                None
            }
        };
        self.prepared_at.lock().insert(key, (Instant::now(), when));
        when
    }

    /// Keeps a prepared `project` current after an entity event: prepares its scope again in
    /// the background, which fetches only what changed since the last prepare (or everything,
    /// swapped in atomically, when the server cannot tell). Events arriving during a prepare
    /// fold into one more; projects never prepared are left alone.
    pub(crate) fn follow(&self, client: &Client, project: &str) {
        let Ok(Some(prepared)) = self.index.prepared(project) else {
            return;
        };
        let key = prepared.name.to_ascii_lowercase();
        {
            let mut running = self.refreshing.lock();
            if let Some(again) = running.get_mut(&key) {
                *again = true;
                return;
            }
            running.insert(key.clone(), false);
        }
        let scope = if prepared.subtrees.is_empty() {
            PrepareScope::Project
        } else {
            PrepareScope::Folders(prepared.subtrees.clone())
        };
        let key_again = key.clone();
        let (client, index, running) =
            (client.clone(), self.index.clone(), self.refreshing.clone());
        let spawned = crate::bridge::spawn(async move {
            loop {
                let result = client
                    .prepare_offline(
                        &index,
                        &prepared.name,
                        &scope,
                        &PrepareOptions::default(),
                        &CancelToken::new(),
                        &|_| {},
                    )
                    .await;
                match result {
                    Ok(r) => {
                        tracing::debug!(target: "ayon_client", project = %r.project, representations = r.representations, "prepared project followed an entity event")
                    }
                    Err(e) => {
                        tracing::warn!(target: "ayon_client", project = %prepared.name, error = %e, "could not follow an entity event in the local index; it keeps the last prepare")
                    }
                }
                let mut running = running.lock();
                match running.get_mut(&key) {
                    Some(again) if *again => *again = false,
                    _ => {
                        running.remove(&key);
                        return;
                    }
                }
            }
        });
        if spawned.is_none() {
            self.refreshing.lock().remove(&key_again);
        }
    }

    /// The index's answer for `uri` (given as `input`), or why it has none.
    pub(crate) fn answer(&self, input: &str, uri: &AyonUri) -> Result<Resolution, ResolveError> {
        let project = uri.project();
        let not_prepared = |why: String| ResolveError::NotPrepared {
            uri: input.to_owned(),
            project: project.to_owned(),
            why,
        };
        let answer = match self.index.resolve(uri) {
            Ok(a) => a,
            Err(IndexError::NotPrepared { .. }) => {
                return Err(not_prepared(format!(
                    "project `{project}` was not prepared for offline (run `ayon prepare-offline --project {project}` while online)"
                )));
            }
            Err(e @ (IndexError::OutsidePreparedScope { .. } | IndexError::NotKept { .. })) => {
                return Err(not_prepared(e.to_string()));
            }
            Err(e) => {
                return Err(not_prepared(format!(
                    "the local index could not answer: {e}"
                )));
            }
        };
        if let Some(message) = &answer.error {
            return Err(ResolveError::ServerError {
                uri: input.to_owned(),
                message: message.clone(),
            });
        }
        if answer.entities.is_empty() {
            return Err(ResolveError::NotFound {
                uri: input.to_owned(),
            });
        }
        let entities: Vec<ResolvedEntity> = answer
            .entities
            .iter()
            .map(|e| {
                let ids = [
                    (Target::Folder, Some(&e.folder_id)),
                    (Target::Product, e.product_id.as_ref()),
                    (Target::Version, e.version_id.as_ref()),
                    (Target::Representation, e.representation_id.as_ref()),
                    (Target::Task, e.task_id.as_ref()),
                    (Target::Workfile, e.workfile_id.as_ref()),
                ];
                let mut out = ResolvedEntity::new(e.target).with_project_name(&e.project_name);
                for (of, id) in ids {
                    if let Some(id) = id {
                        out = out.with_id(of, id.clone());
                    }
                }
                if let Some(p) = &e.file_path {
                    out = out.with_path(p.clone());
                }
                out
            })
            .collect();
        let prepared_at = self.prepared_at(project).unwrap_or(SystemTime::UNIX_EPOCH);
        Ok(Resolution::new(
            input.to_owned(),
            entities,
            Source::LocalIndex { prepared_at },
        ))
    }
}
