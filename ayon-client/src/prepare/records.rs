//! The index's records from the server's GraphQL nodes and REST answers: one place that knows
//! which JSON field becomes which column.

use ayon_index::{
    FolderRecord, ProductRecord, RepresentationRecord, ServerProject, TaskRecord, VersionRecord,
};
use serde_json::Value;

/// A string field, empty when absent.
pub(super) fn str_of(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_owned()
}

/// The fields every entity node has: id, its parent's id (under `parent`), name, active and
/// updatedAt (absent `active` is true, as the server's default).
struct Common {
    id: String,
    parent: String,
    name: String,
    active: bool,
    updated_at: String,
}

fn common(v: &Value, parent: &str) -> Common {
    Common {
        id: str_of(v, "id"),
        parent: str_of(v, parent),
        name: str_of(v, "name"),
        active: v["active"].as_bool().unwrap_or(true),
        updated_at: str_of(v, "updatedAt"),
    }
}

pub(super) fn folder_record(f: &Value) -> FolderRecord {
    let c = common(f, "parentId");
    FolderRecord {
        id: c.id,
        path: str_of(f, "path").trim_matches('/').to_owned(),
        folder_type: str_of(f, "folderType"),
        active: c.active,
        updated_at: c.updated_at,
    }
}

/// A record of a folder's child with a type (tasks, products): the common fields, the parent
/// from `folderId`, and the type from `type_key`.
macro_rules! folder_child {
    ($record:ident, $node:expr, $type_field:ident, $type_key:literal) => {{
        let c = common($node, "folderId");
        $record {
            $type_field: str_of($node, $type_key),
            id: c.id,
            folder_id: c.parent,
            name: c.name,
            active: c.active,
            updated_at: c.updated_at,
        }
    }};
}

pub(super) fn task_record(t: &Value) -> TaskRecord {
    folder_child!(TaskRecord, t, task_type, "taskType")
}

pub(super) fn product_record(p: &Value) -> ProductRecord {
    folder_child!(ProductRecord, p, product_type, "productType")
}

pub(super) fn version_record(v: &Value) -> VersionRecord {
    let c = common(v, "productId");
    VersionRecord {
        version: v["version"].as_i64().unwrap_or(0) as i32,
        status: str_of(v, "status"),
        id: c.id,
        product_id: c.parent,
        active: c.active,
        updated_at: c.updated_at,
    }
}

/// `allAttrib` and `context` come as JSON text.
pub(super) fn representation_record(r: &Value) -> RepresentationRecord {
    let json_field = |key: &str| -> Value {
        match &r[key] {
            Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
            other => other.clone(),
        }
    };
    let template = json_field("allAttrib")["template"]
        .as_str()
        .map(str::to_owned);
    let c = common(r, "versionId");
    RepresentationRecord {
        id: c.id,
        version_id: c.parent,
        name: c.name,
        template,
        context: json_field("context"),
        active: c.active,
        updated_at: c.updated_at,
    }
}

/// `GET /api/projects`: the projects the server has.
pub(super) fn server_projects(projects: &Value) -> Vec<ServerProject> {
    projects["projects"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|p| ServerProject {
                    name: str_of(p, "name"),
                    code: str_of(p, "code"),
                })
                .collect()
        })
        .unwrap_or_default()
}
