//! Adding one entity to the library the way the server's REST and operations endpoints do:
//! the server's defaults for fields left out, the parent checks and their errors.

use serde_json::{Map, Value};

use super::{
    Folder, Library, Product, Project, Representation, RepresentationFile, Task, Version, iso_now,
    new_id,
};

fn obj(v: &Value, key: &str) -> Map<String, Value> {
    v.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn string(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// An entity of type `$ty` with the fields given, plus the ones every create fills alike from
/// the body `$v`: `status` (with this kind's default), `attrib`, `data`, both times now.
macro_rules! entity {
    ($ty:ident, $v:expr, $now:expr, $status:expr, { $($field:ident $(: $value:expr)?),* $(,)? }) => {
        $ty {
            $($field $(: $value)?,)*
            status: string_or($v, "status", $status),
            attrib: obj($v, "attrib"),
            data: obj($v, "data"),
            created_at: $now.to_owned(),
            updated_at: $now.to_owned(),
            ..$ty::default()
        }
    };
}

/// What a create produced: ids for the event and its description.
pub(crate) struct Created {
    pub topic: &'static str,
    pub id: String,
    pub parent_id: Option<String>,
    pub description: String,
}

/// The 404 the server answers for an unknown parent id.
fn missing(id: &str) -> (u16, String) {
    (404, format!("Entity {id} not found"))
}

/// A string field, or the server's default for it.
fn string_or(v: &Value, key: &str, default: &str) -> String {
    string(v, key).unwrap_or_else(|| default.to_owned())
}

fn folder_mut<'p>(p: &'p mut Project, id: &str) -> Result<&'p mut Folder, (u16, String)> {
    p.folders
        .iter_mut()
        .find(|f| f.id == id)
        .ok_or_else(|| missing(id))
}

impl Created {
    fn new(
        topic: &'static str,
        id: String,
        parent_id: Option<String>,
        description: String,
    ) -> Self {
        Created {
            topic,
            id,
            parent_id,
            description,
        }
    }
}

/// Adds one entity described by an AYON REST/operations body to a project.
pub(crate) fn create_in(
    lib: &mut Library,
    project: &str,
    kind: &str,
    v: &Value,
) -> Result<Created, (u16, String)> {
    let p = lib
        .project_mut(project)
        .ok_or_else(|| (404, format!("Project {project} not found")))?;
    let now = iso_now();
    let id = string(v, "id").unwrap_or_else(new_id);
    let need = |key: &str| string(v, key).ok_or_else(|| (400, format!("Field {key} is required")));
    match kind {
        "folders" => {
            let name = need("name")?;
            let parent_id = string(v, "parentId");
            let path = match &parent_id {
                Some(pid) => {
                    let parent = p.folder(pid).ok_or_else(|| missing(pid))?;
                    format!("{}/{name}", parent.path)
                }
                None => name.clone(),
            };
            p.folders.push(entity!(Folder, v, &now, "Not ready", {
                id: id.clone(),
                name: name.clone(),
                path,
                folder_type: string_or(v, "folderType", "Folder"),
                parent_id: parent_id.clone(),
                label: string(v, "label"),
                active: true,
                thumbnail_hash: None,
            }));
            Ok(Created::new(
                "entity.folder.created",
                id,
                parent_id,
                format!("Folder {name} created"),
            ))
        }
        "tasks" => {
            let name = need("name")?;
            let folder_id = need("folderId")?;
            let f = folder_mut(p, &folder_id)?;
            f.tasks.push(entity!(Task, v, &now, "Not ready", {
                id: id.clone(),
                name: name.clone(),
                task_type: string_or(v, "taskType", "Generic"),
                active: true,
            }));
            Ok(Created::new(
                "entity.task.created",
                id,
                Some(folder_id),
                format!("Task {name} created"),
            ))
        }
        "products" => {
            let name = need("name")?;
            let folder_id = need("folderId")?;
            let f = folder_mut(p, &folder_id)?;
            let ptype = string_or(v, "productType", "usd");
            f.products.push(entity!(Product, v, &now, "Not ready", {
                id: id.clone(),
                name: name.clone(),
                product_base_type: Some(
                    string(v, "productBaseType").unwrap_or_else(|| ptype.clone()),
                ),
                product_type: ptype,
                active: true,
            }));
            Ok(Created::new(
                "entity.product.created",
                id,
                Some(folder_id),
                format!("Product {name} created"),
            ))
        }
        "versions" => {
            let number = v
                .get("version")
                .and_then(Value::as_i64)
                .ok_or_else(|| (400, "Field version is required".to_owned()))?;
            let product_id = need("productId")?;
            let pr = p
                .folders
                .iter_mut()
                .flat_map(|f| f.products.iter_mut())
                .find(|pr| pr.id == product_id)
                .ok_or_else(|| missing(&product_id))?;
            let number =
                i32::try_from(number).map_err(|_| (400, "version out of range".to_owned()))?;
            if pr.versions.iter().any(|x| x.version == number) {
                return Err((409, format!("Version {number} already exists")));
            }
            let version = entity!(Version, v, &now, "Pending review", {
                id: id.clone(),
                version: number,
                author: string_or(v, "author", "admin"),
                active: v.get("active").and_then(Value::as_bool).unwrap_or(true),
                task_id: string(v, "taskId"),
            });
            let description = format!("Version {} created", version.name());
            pr.versions.push(version);
            Ok(Created::new(
                "entity.version.created",
                id,
                Some(product_id),
                description,
            ))
        }
        "representations" => {
            let name = need("name")?;
            let version_id = need("versionId")?;
            let ver = p
                .folders
                .iter_mut()
                .flat_map(|f| f.products.iter_mut())
                .flat_map(|pr| pr.versions.iter_mut())
                .find(|x| x.id == version_id)
                .ok_or_else(|| missing(&version_id))?;
            let files: Vec<RepresentationFile> = v
                .get("files")
                .cloned()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| (400, format!("Invalid files: {e}")))?
                .unwrap_or_default();
            ver.representations
                .push(entity!(Representation, v, &now, "Omitted", {
                    id: id.clone(),
                    name: name.clone(),
                    files,
                    active: true,
                }));
            Ok(Created::new(
                "entity.representation.created",
                id,
                Some(version_id),
                format!("Representation {name} created"),
            ))
        }
        _ => Err((404, String::new())),
    }
}
