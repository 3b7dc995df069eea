//! What a resolved URI is: the matched entities with their ids, target and path, and where the
//! answer came from.

use std::sync::Arc;

use serde::Serialize;

use crate::wire::WireEntity;

/// Where an answer came from, so hosts can tell a live answer from a remembered one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Source {
    /// A live answer from the server.
    Server,
    /// From the local cache; `stale` when past its TTL (or served because the server failed).
    Cache {
        /// The entry was past its freshness, or the server could not confirm it.
        stale: bool,
    },
}

impl Source {
    /// `server` or `cache`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Server => "server",
            Source::Cache { .. } => "cache",
        }
    }

    /// True for a stale cache answer.
    pub fn is_stale(&self) -> bool {
        matches!(self, Source::Cache { stale: true })
    }
}

/// One matched entity, with the path already rooted for this site. Field names follow the
/// server's answer (camelCase in JSON), so an answer can be compared with a recorded one.
pub type ResolvedEntity = WireEntity;

/// A resolved URI. Cheap to clone (the entities are shared).
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    uri: String,
    entities: Arc<[ResolvedEntity]>,
    source: Source,
}

impl Resolution {
    pub(crate) fn new(uri: String, entities: Arc<[ResolvedEntity]>, source: Source) -> Resolution {
        Resolution {
            uri,
            entities,
            source,
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
        self.entities
            .iter()
            .rev()
            .find_map(|e| e.file_path.as_deref())
    }

    /// Every path, in the server's order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entities.iter().filter_map(|e| e.file_path.as_deref())
    }

    /// The target of the (first) entity: `folder`, `product`, `version`, `representation`,
    /// `task` or `workfile`.
    pub fn target(&self) -> Option<&str> {
        self.entities.first().and_then(|e| e.target.as_deref())
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
        let e = |p: Option<&str>| WireEntity {
            file_path: p.map(str::to_owned),
            target: Some("representation".into()),
            ..Default::default()
        };
        let r = Resolution::new(
            "u".into(),
            vec![e(Some("/a")), e(None), e(Some("/b"))].into(),
            Source::Server,
        );
        assert_eq!(r.path(), Some("/b"));
        assert_eq!(r.paths().collect::<Vec<_>>(), ["/a", "/b"]);
        assert_eq!(r.target(), Some("representation"));
        let c = Resolution::new(
            "u".into(),
            r.entities().into(),
            Source::Cache { stale: true },
        );
        assert!(c.source().is_stale());
        assert_eq!(c.source().as_str(), "cache");
    }
}
