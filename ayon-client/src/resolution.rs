//! What a resolved URI is: the matched entities with their ids, target and path, and where the
//! answer came from.

use std::sync::Arc;
use std::time::SystemTime;

use ayon_uri::Target;
use serde::{Deserialize, Serialize};

/// Where an answer came from, so hosts can tell a live answer from a remembered one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// A live answer from the server.
    Server,
    /// From the local cache; `stale` when past its TTL (or served because the server failed).
    Cache {
        /// The entry was past its freshness, or the server could not confirm it.
        stale: bool,
    },
    /// From a pinning file: a frozen snapshot, no server involved.
    Pinning,
    /// From a local index written ahead of time by prepare-for-offline.
    LocalIndex {
        /// When the index last took this project from the server: the last prepare (full or
        /// incremental) or entity-event update, as
        /// [`PrepareReport::prepared_at`](crate::PrepareReport::prepared_at) reports it.
        prepared_at: SystemTime,
    },
}

impl Source {
    /// `server`, `cache`, `pinning` or `local_index`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Server => "server",
            Source::Cache { .. } => "cache",
            Source::Pinning => "pinning",
            Source::LocalIndex { .. } => "local_index",
        }
    }

    /// True for a stale cache answer.
    pub fn is_stale(&self) -> bool {
        matches!(self, Source::Cache { stale: true })
    }
}

/// One matched entity: its target, its ids and (for representations) its path, already rooted
/// for this site when it comes out of a client. Serialises to the server's JSON shape
/// (camelCase, absent fields omitted), so an answer can be compared with a recorded one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "EntityJson", into = "EntityJson")]
pub struct ResolvedEntity {
    target: Target,
    project_name: Option<String>,
    folder_id: Option<String>,
    product_id: Option<String>,
    version_id: Option<String>,
    representation_id: Option<String>,
    task_id: Option<String>,
    workfile_id: Option<String>,
    path: Option<String>,
}

impl ResolvedEntity {
    /// An entity of `target` with no ids and no path yet (add them with the `with_*` methods).
    pub fn new(target: Target) -> ResolvedEntity {
        ResolvedEntity {
            target,
            project_name: None,
            folder_id: None,
            product_id: None,
            version_id: None,
            representation_id: None,
            task_id: None,
            workfile_id: None,
            path: None,
        }
    }

    /// Sets the project name (as written in the URI).
    pub fn with_project_name(mut self, name: impl Into<String>) -> Self {
        self.project_name = Some(name.into());
        self
    }

    /// Sets the id of the entity of kind `of` on the way to this one (its folder, product, ...).
    pub fn with_id(mut self, of: Target, id: impl Into<String>) -> Self {
        *self.id_slot(of) = Some(id.into());
        self
    }

    /// Sets the file path (representations and workfiles).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// What kind of entity this is.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The project name as written in the URI.
    pub fn project_name(&self) -> Option<&str> {
        self.project_name.as_deref()
    }

    /// The id of the entity of kind `of` on the way to this one; `id(self.target())` is this
    /// entity's own id.
    pub fn id(&self, of: Target) -> Option<&str> {
        match of {
            Target::Folder => self.folder_id.as_deref(),
            Target::Product => self.product_id.as_deref(),
            Target::Version => self.version_id.as_deref(),
            Target::Representation => self.representation_id.as_deref(),
            Target::Task => self.task_id.as_deref(),
            Target::Workfile => self.workfile_id.as_deref(),
        }
    }

    /// The file path: rooted for this site in a client's answer, rootless (`{root[work]}/...`)
    /// in what is stored.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    pub(crate) fn set_path(&mut self, path: String) {
        self.path = Some(path);
    }

    fn id_slot(&mut self, of: Target) -> &mut Option<String> {
        match of {
            Target::Folder => &mut self.folder_id,
            Target::Product => &mut self.product_id,
            Target::Version => &mut self.version_id,
            Target::Representation => &mut self.representation_id,
            Target::Task => &mut self.task_id,
            Target::Workfile => &mut self.workfile_id,
        }
    }
}

/// The server's JSON for one matched entity (`/api/resolve`), which the server may leave
/// partial: every field is optional and absent ones are omitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct EntityJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    project_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    folder_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    representation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workfile_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<String>,
}

const TARGETS: [Target; 6] = [
    Target::Folder,
    Target::Product,
    Target::Version,
    Target::Representation,
    Target::Task,
    Target::Workfile,
];

impl From<EntityJson> for ResolvedEntity {
    fn from(j: EntityJson) -> ResolvedEntity {
        // The server always names the target; should it not, the deepest id present tells it.
        let named = j
            .target
            .as_deref()
            .and_then(|t| TARGETS.into_iter().find(|k| k.as_str() == t));
        let target = named.unwrap_or(if j.workfile_id.is_some() {
            Target::Workfile
        } else if j.task_id.is_some() {
            Target::Task
        } else if j.representation_id.is_some() {
            Target::Representation
        } else if j.version_id.is_some() {
            Target::Version
        } else if j.product_id.is_some() {
            Target::Product
        } else {
            Target::Folder
        });
        ResolvedEntity {
            target,
            project_name: j.project_name,
            folder_id: j.folder_id,
            product_id: j.product_id,
            version_id: j.version_id,
            representation_id: j.representation_id,
            task_id: j.task_id,
            workfile_id: j.workfile_id,
            path: j.file_path,
        }
    }
}

impl From<ResolvedEntity> for EntityJson {
    fn from(e: ResolvedEntity) -> EntityJson {
        EntityJson {
            project_name: e.project_name,
            folder_id: e.folder_id,
            product_id: e.product_id,
            task_id: e.task_id,
            version_id: e.version_id,
            representation_id: e.representation_id,
            workfile_id: e.workfile_id,
            file_path: e.path,
            target: Some(e.target.as_str().to_owned()),
        }
    }
}

/// A resolved URI. Cheap to clone (the entities are shared).
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    uri: String,
    entities: Arc<[ResolvedEntity]>,
    source: Source,
}

impl Resolution {
    /// An answer for `uri` (as the caller gave it) from `source`; resolvers that are not a
    /// [`crate::Client`] (pinning files, local indexes) build theirs with it.
    pub fn new(
        uri: impl Into<String>,
        entities: impl Into<Arc<[ResolvedEntity]>>,
        source: Source,
    ) -> Resolution {
        Resolution {
            uri: uri.into(),
            entities: entities.into(),
            source,
        }
    }

    /// The same answer for another spelling of the URI (duplicates in a batch share one).
    pub(crate) fn renamed(self, uri: &str) -> Resolution {
        if self.uri == uri {
            self
        } else {
            Resolution {
                uri: uri.to_owned(),
                ..self
            }
        }
    }

    /// The URI as the caller gave it.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Every matched entity, in the server's order (several for `*` selectors).
    pub fn entities(&self) -> &[ResolvedEntity] {
        &self.entities
    }

    /// The path of the answer: the last entity that has one (the last wins, as in the AYON C++
    /// client; for `version=*` that is the highest version). `None` for non-representation
    /// targets.
    pub fn path(&self) -> Option<&str> {
        self.entities.iter().rev().find_map(ResolvedEntity::path)
    }

    /// Every path, in the server's order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entities.iter().filter_map(ResolvedEntity::path)
    }

    /// The target of the (first) entity.
    pub fn target(&self) -> Option<Target> {
        self.entities.first().map(ResolvedEntity::target)
    }

    /// Where the answer came from.
    pub fn source(&self) -> Source {
        self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_path_wins_and_source_is_reported() {
        let e = |p: Option<&str>| {
            let e = ResolvedEntity::new(Target::Representation);
            match p {
                Some(p) => e.with_path(p),
                None => e,
            }
        };
        let r = Resolution::new(
            "u",
            vec![e(Some("/a")), e(None), e(Some("/b"))],
            Source::Server,
        );
        assert_eq!(r.path(), Some("/b"));
        assert_eq!(r.paths().collect::<Vec<_>>(), ["/a", "/b"]);
        assert_eq!(r.target(), Some(Target::Representation));
        let c = Resolution::new("u", r.entities(), Source::Cache { stale: true });
        assert!(c.source().is_stale());
        assert_eq!(c.source().as_str(), "cache");
    }

    #[test]
    fn entities_round_trip_the_servers_json() {
        let j = r#"{"projectName":"p","folderId":"f","versionId":"v","representationId":"r","filePath":"{root[work]}/x","target":"representation"}"#;
        let e: ResolvedEntity = serde_json::from_str(j).unwrap();
        assert_eq!(e.target(), Target::Representation);
        assert_eq!(e.id(Target::Folder), Some("f"));
        assert_eq!(e.id(e.target()), Some("r"));
        assert_eq!(e.path(), Some("{root[work]}/x"));
        let back: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(j).unwrap());
        let built = ResolvedEntity::new(Target::Representation)
            .with_project_name("p")
            .with_id(Target::Folder, "f")
            .with_id(Target::Version, "v")
            .with_id(Target::Representation, "r")
            .with_path("{root[work]}/x");
        assert_eq!(built, e);
        // No target named: the deepest id decides.
        let v: ResolvedEntity =
            serde_json::from_str(r#"{"folderId":"f","versionId":"v"}"#).unwrap();
        assert_eq!(v.target(), Target::Version);
    }
}
