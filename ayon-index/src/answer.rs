//! What the index answers: the shape of one item of `POST /api/resolve`'s response.

use serde::Serialize;

pub use ayon_uri::Target;

/// One entity of an answer, with the ids the server returns for its target and the path of a
/// representation. Serializes exactly like the server's entity (camelCase, nulls omitted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerEntity {
    /// The project name as the URI wrote it (the server echoes the URI's casing).
    pub project_name: String,
    /// The folder's id (every target has one).
    pub folder_id: String,
    /// The product's id, for product, version and representation targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// The task's id, for task and workfile targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The version's id, for version and representation targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// The representation's id, for representation targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub representation_id: Option<String>,
    /// The workfile's id, for workfile targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workfile_id: Option<String>,
    /// The representation's file path (template + context + roots), when it has a template.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
    /// The deepest entity type the URI asked for.
    #[serde(serialize_with = "target_str")]
    pub target: Target,
}

fn target_str<S: serde::Serializer>(t: &Target, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.as_str())
}

/// The answer for one URI: the entities the server would return, in its order, or the
/// server's per-URI error (with `entities: []`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// Matching entities; empty where the server finds nothing.
    pub entities: Vec<AnswerEntity>,
    /// The server's per-URI error string (`Project x not found`, `Invalid version name: x`),
    /// or the index's own when a stored representation cannot give a trustworthy path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Answer {
    /// An answer with no entities and this error.
    pub fn error(message: impl Into<String>) -> Answer {
        Answer {
            entities: Vec::new(),
            error: Some(message.into()),
        }
    }

    /// Approximate heap size, for weighing answers in the memory layer.
    pub(crate) fn weight(&self) -> u64 {
        let entities: usize = self
            .entities
            .iter()
            .map(|e| {
                std::mem::size_of::<AnswerEntity>()
                    + e.project_name.len()
                    + e.folder_id.len()
                    + [
                        &e.product_id,
                        &e.task_id,
                        &e.version_id,
                        &e.representation_id,
                        &e.workfile_id,
                        &e.file_path,
                    ]
                    .iter()
                    .map(|o| o.as_ref().map_or(0, String::len))
                    .sum::<usize>()
            })
            .sum();
        (64 + entities + self.error.as_ref().map_or(0, String::len)) as u64
    }
}

/// One item of a batch answer: the input string verbatim with its answer, serialized as the
/// server's `{"uri", "entities", "error"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriAnswer {
    /// The URI exactly as given.
    pub uri: String,
    /// Its answer (shared with the memory layer).
    pub answer: std::sync::Arc<Answer>,
}

impl Serialize for UriAnswer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let fields = if self.answer.error.is_some() { 3 } else { 2 };
        let mut st = s.serialize_struct("UriAnswer", fields)?;
        st.serialize_field("uri", &self.uri)?;
        st.serialize_field("entities", &self.answer.entities)?;
        if let Some(e) = &self.answer.error {
            st.serialize_field("error", e)?;
        }
        st.end()
    }
}
