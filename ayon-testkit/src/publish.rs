//! `TestServer::publish_version`: a publish as ayon-core makes it, with its websocket events.

use serde_json::{Value, json};

use crate::error::TestkitError;
use crate::library::{Folder, Library, create_in};
use crate::state::Shared;

/// The template ayon-core's default publish anatomy produces, as stored on representations.
pub const PUBLISH_TEMPLATE: &str = "{root[work]}/{project[name]}/{hierarchy}/{folder[name]}/publish/{product[type]}/{product[name]}/v{version:0>3}/{project[code]}_{folder[name]}_{product[name]}_v{version:0>3}<_{output}><.{frame:0>4}><_{udim}>.{ext}";

pub(crate) fn publish_version(
    shared: &Shared,
    project: &str,
    folder_path: &str,
    product: &str,
    representations: &[&str],
) -> Result<u32, TestkitError> {
    let mut events: Vec<(&'static str, String, Option<String>, String)> = Vec::new();
    let (project_name, number) = {
        let mut lib = shared.library.write();
        let p = lib
            .project(project)
            .ok_or_else(|| TestkitError::NotFound(format!("project {project}")))?;
        let project_name = p.name.clone();
        let code = p.code.clone();
        let folder = p
            .folder_by_path(folder_path)
            .ok_or_else(|| TestkitError::NotFound(format!("folder {folder_path} in {project}")))?;
        let folder_id = folder.id.clone();
        let folder_name = folder.name.clone();
        let folder_type = folder.folder_type.clone();
        let hierarchy = folder
            .path
            .rsplit_once('/')
            .map(|(h, _)| h.to_owned())
            .unwrap_or_default();
        let existing = folder.products.iter().find(|x| x.name == product).map(|x| {
            (
                x.id.clone(),
                x.product_type.clone(),
                x.versions
                    .iter()
                    .map(|v| v.version)
                    .max()
                    .unwrap_or(0)
                    .max(0),
            )
        });
        let (product_id, product_type, last) = match existing {
            Some(e) => e,
            None => {
                let c = create_in(
                    &mut lib,
                    project,
                    "products",
                    &json!({"name": product, "productType": "usd", "folderId": folder_id}),
                )
                .map_err(|(_, m)| TestkitError::NotFound(m))?;
                events.push((c.topic, c.id.clone(), c.parent_id, c.description));
                (c.id, "usd".to_owned(), 0)
            }
        };
        let number = last + 1;
        let v = create_in(&mut lib, project, "versions",
            &json!({"version": number, "productId": product_id, "attrib": {"comment": format!("v{number:03}")}}))
            .map_err(|(_, m)| TestkitError::NotFound(m))?;
        let version_id = v.id.clone();
        events.push((v.topic, v.id, v.parent_id, v.description));
        for rep in representations {
            let context = json!({
                "ext": rep, "folder": {"name": folder_name, "type": folder_type},
                "product": {"name": product, "type": product_type},
                "project": {"code": code, "name": project_name}, "version": number,
                "username": "admin", "hierarchy": hierarchy, "representation": rep,
            });
            let path = ayon_site::Template::new(PUBLISH_TEMPLATE)
                .format(context.as_object().unwrap_or(&serde_json::Map::new()))
                .map_err(|e| TestkitError::Library(e.to_string()))?
                .into_text();
            let file_name = path.rsplit('/').next().unwrap_or_default().to_owned();
            let r = create_in(&mut lib, project, "representations", &json!({
                "name": rep, "versionId": version_id,
                "attrib": {"path": path, "template": PUBLISH_TEMPLATE},
                "data": {"context": context},
                "files": [{"name": file_name, "path": path, "size": 1024, "hash": format!("{product}_{number}_{rep}")}],
            }))
            .map_err(|(_, m)| TestkitError::NotFound(m))?;
            events.push((r.topic, r.id, r.parent_id, r.description));
        }
        lib.normalize()?;
        (project_name, u32::try_from(number).unwrap_or(0))
    };
    for (topic, id, parent, description) in events {
        shared.emit(
            topic,
            Some(&project_name),
            Some("admin"),
            &description,
            json!({"entityId": id, "parentId": parent.map(Value::from).unwrap_or(Value::Null)}),
        );
    }
    Ok(number)
}

/// The project's name as created and the folder at `folder_path` in it, or what is missing.
fn folder_mut<'a>(
    lib: &'a mut Library,
    project: &str,
    folder_path: &str,
) -> Result<(String, &'a mut Folder), TestkitError> {
    let p = lib
        .project_mut(project)
        .ok_or_else(|| TestkitError::NotFound(format!("project {project}")))?;
    let project_name = p.name.clone();
    let folder = p
        .folder_by_path_mut(folder_path)
        .ok_or_else(|| TestkitError::NotFound(format!("folder {folder_path} in {project}")))?;
    Ok((project_name, folder))
}

/// The position of the product named `product` in `folder`, or what is missing.
fn product_at(folder: &Folder, product: &str) -> Result<usize, TestkitError> {
    folder
        .products
        .iter()
        .position(|x| x.name == product)
        .ok_or_else(|| TestkitError::NotFound(format!("product {product} in {}", folder.path)))
}

/// `TestServer::delete_product`: removes a product (with its versions) as the server's
/// DELETE does, and emits `entity.product.deleted`.
pub(crate) fn delete_product(
    shared: &Shared,
    project: &str,
    folder_path: &str,
    product: &str,
) -> Result<(), TestkitError> {
    let (project_name, id, folder_id) = {
        let mut lib = shared.library.write();
        let (project_name, folder) = folder_mut(&mut lib, project, folder_path)?;
        let removed = folder.products.remove(product_at(folder, product)?);
        (project_name, removed.id, folder.id.clone())
    };
    shared.emit(
        "entity.product.deleted",
        Some(&project_name),
        Some("admin"),
        &format!("Product {product} deleted"),
        json!({"entityId": id, "parentId": folder_id}),
    );
    Ok(())
}

/// `TestServer::set_version_status`: a status change as the server's PATCH makes it (the
/// version's `updatedAt` moves), with `entity.version.status_changed`.
pub(crate) fn set_version_status(
    shared: &Shared,
    project: &str,
    folder_path: &str,
    product: &str,
    version: i32,
    status: &str,
) -> Result<(), TestkitError> {
    let (project_name, id, product_id) = {
        let mut lib = shared.library.write();
        let (project_name, folder) = folder_mut(&mut lib, project, folder_path)?;
        let at = product_at(folder, product)?;
        let prod = &mut folder.products[at];
        let v = prod
            .versions
            .iter_mut()
            .find(|v| v.version == version)
            .ok_or_else(|| TestkitError::NotFound(format!("version {version} of {product}")))?;
        v.status = status.to_owned();
        v.updated_at = crate::library::iso_now();
        (project_name, v.id.clone(), prod.id.clone())
    };
    shared.emit(
        "entity.version.status_changed",
        Some(&project_name),
        Some("admin"),
        &format!("Changed version status to {status}"),
        json!({"entityId": id, "parentId": product_id}),
    );
    Ok(())
}
