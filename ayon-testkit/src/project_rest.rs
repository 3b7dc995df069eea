//! The project REST handlers: projects, anatomy, roots, folders, hierarchy, and entity reads
//! and creates under `/api/projects/{project}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::auth::{Caller, authenticate};
use crate::library::{
    Folder, Library, Product, Project, Representation, Task, Version, create_in, iso_now,
};
use crate::request::{client_site_id, query_value as q};
use crate::respond::{
    Invalid, endpoint_not_found, error, json_response, missing_body_field, no_content,
    unknown_endpoint, validation_error,
};
use crate::state::Shared;

type Q = Query<Vec<(String, String)>>;

fn project_missing(name: &str) -> Response {
    error(404, format!("Project {name} not found"))
}

/// The routes under `/api/projects`.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    let project = |tail: &str| format!("/api/projects/{{project}}{tail}");
    Router::new()
        .route("/api/projects", get(list_projects).post(create_project))
        .route(&project(""), get(project_detail))
        .route(&project("/anatomy"), get(project_anatomy))
        .route(&project("/siteRoots"), get(site_roots))
        .route(&project("/roots"), get(get_roots))
        .route(
            &project("/roots/{site}"),
            get(get_site_overrides).put(put_roots),
        )
        .route(
            &project("/folders"),
            get(list_folders).post(create_entity_folders),
        )
        .route(&project("/hierarchy"), get(hierarchy))
        .route(&project("/{kind}/{id}"), get(get_entity))
        .route(
            &project("/{kind}"),
            get(unknown_endpoint).post(create_entity),
        )
}

/// Answers from the named project under the library's read lock, or the server's 404.
fn with_project(
    shared: &Shared,
    project: &str,
    answer: impl FnOnce(&Library, &Project) -> Response,
) -> Response {
    let lib = shared.library.read();
    match lib.project(project) {
        Some(p) => answer(&lib, p),
        None => project_missing(project),
    }
}

impl Caller {
    /// Answers from the named project under the library's read lock, or the server's 404.
    fn project(&self, name: &str, answer: impl FnOnce(&Library, &Project) -> Response) -> Response {
        with_project(&self.shared, name, answer)
    }
}

/// `GET /api/projects`.
pub(crate) async fn list_projects(caller: Caller) -> Response {
    let lib = caller.shared.library.read();
    let projects: Vec<Value> = lib
        .projects
        .iter()
        .map(|p| {
            json!({"name": p.name, "code": p.code, "label": null, "color": null, "active": p.active,
                   "library": false, "skeleton": false, "pinned": false, "projectFolder": null,
                   "createdAt": p.created_at, "updatedAt": p.updated_at})
        })
        .collect();
    let n = projects.len();
    json_response(
        200,
        json!({"detail": format!("Showing {n} of {n} projects"), "count": n, "projects": projects}),
    )
}

/// `POST /api/projects`: a new empty project with the body's code and anatomy roots.
pub(crate) async fn create_project(caller: Caller, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(name) = v.get("name").and_then(Value::as_str) else {
        return missing_body_field("POST", "/api/projects", "name");
    };
    let code = v.get("code").and_then(Value::as_str).unwrap_or(name);
    let mut roots = BTreeMap::new();
    if let Some(list) = v.pointer("/anatomy/roots").and_then(Value::as_array) {
        for r in list {
            if let Ok(paths) = serde_json::from_value(r.clone())
                && let Some(n) = r.get("name").and_then(Value::as_str)
            {
                roots.insert(n.to_owned(), paths);
            }
        }
    }
    let mut lib = caller.shared.library.write();
    if lib.project(name).is_some() {
        return error(409, format!("Project {name} already exists"));
    }
    let now = iso_now();
    let statuses = lib
        .projects
        .first()
        .map(|p| p.statuses.clone())
        .unwrap_or_default();
    lib.projects.push(Project {
        name: name.to_owned(),
        code: code.to_owned(),
        active: true,
        roots,
        statuses,
        anatomy: v.get("anatomy").cloned(),
        created_at: now.clone(),
        updated_at: now,
        ..Project::default()
    });
    json_response(201, Value::Null)
}

/// `GET /api/projects/{p}`.
pub(crate) async fn project_detail(caller: Caller, Path(project): Path<String>) -> Response {
    caller.project(&project, |_, p| {
        let mut body = Map::new();
        for (k, v) in &p.extra {
            body.insert(k.clone(), v.clone());
        }
        body.insert("name".into(), p.name.clone().into());
        body.insert("code".into(), p.code.clone().into());
        body.entry("library").or_insert(false.into());
        body.insert("statuses".into(), json!(p.statuses));
        let mut config = body
            .remove("config")
            .and_then(|c| c.as_object().cloned())
            .unwrap_or_default();
        config.insert("roots".into(), json!(p.roots));
        body.insert("config".into(), config.into());
        body.entry("attrib").or_insert(json!({}));
        body.entry("data").or_insert(json!({}));
        body.insert("active".into(), p.active.into());
        body.entry("ownAttrib").or_insert(json!([]));
        body.insert("createdAt".into(), p.created_at.clone().into());
        body.insert("updatedAt".into(), p.updated_at.clone().into());
        json_response(200, body.into())
    })
}

/// `GET /api/projects/{p}/anatomy`.
pub(crate) async fn project_anatomy(caller: Caller, Path(project): Path<String>) -> Response {
    caller.project(&project, |_, p| {
        let roots: Vec<Value> = p
        .roots
        .iter()
        .map(
            |(n, r)| json!({"name": n, "windows": r.windows, "linux": r.linux, "darwin": r.darwin}),
        )
        .collect();
        let mut anatomy = p.anatomy.clone().unwrap_or_else(|| json!({}));
        if let Some(o) = anatomy.as_object_mut() {
            o.insert("roots".into(), roots.into());
        }
        json_response(200, anatomy)
    })
}

/// `GET /api/projects/{p}/siteRoots`.
pub(crate) async fn site_roots(
    caller: Caller,
    Path(project): Path<String>,
    Query(query): Q,
    headers: HeaderMap,
) -> Response {
    // The site id dependency answers before the query is validated.
    let site = match client_site_id(&headers, &query) {
        Ok(site) => site,
        Err(resp) => return *resp,
    };
    let platform = q(&query, "platform");
    if let Some(pf) = platform
        && !matches!(pf, "windows" | "linux" | "darwin")
    {
        return validation_error(
            "GET",
            &format!("/api/projects/{}/siteRoots", project),
            vec![Invalid {
                loc: vec!["query".into(), "platform".into()],
                msg: "unexpected value; permitted: 'windows', 'linux', 'darwin'".into(),
                kind: "value_error.const".into(),
                ctx: Some(json!({"given": pf, "permitted": ["windows", "linux", "darwin"]})),
            }],
        );
    }
    caller.project(&project, |lib, p| {
        let (platform, site) = match (site, platform) {
            (None, None) => return error(400, "Either site_id or platform must be provided"),
            (None, Some(pf)) => (pf.to_owned(), None),
            (Some(s), pf) => match (lib.site(&s), pf) {
                (Some(reg), _) => (reg.platform.clone(), Some(s)),
                (None, Some(pf)) => (pf.to_owned(), None),
                (None, None) => return error(400, "Site not found and platform not provided"),
            },
        };
        json_response(200, json!(p.roots_for(&platform, site.as_deref())))
    })
}

/// `GET /api/projects/{p}/roots`: the per-site overrides.
pub(crate) async fn get_roots(caller: Caller, Path(project): Path<String>) -> Response {
    caller.project(&project, |_, p| json_response(200, json!(p.site_roots)))
}

/// `GET /api/projects/{p}/roots/{site}`: one site's overrides.
pub(crate) async fn get_site_overrides(
    caller: Caller,
    Path((project, site)): Path<(String, String)>,
) -> Response {
    caller.project(&project, |_, p| {
        json_response(
            200,
            json!(p.site_roots.get(&site).cloned().unwrap_or_default()),
        )
    })
}

/// `PUT /api/projects/{p}/roots/{site}`: sets one site's overrides, 204.
pub(crate) async fn put_roots(
    caller: Caller,
    Path((project, site)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Ok(map) = serde_json::from_slice::<BTreeMap<String, String>>(&body) else {
        return error(400, "Roots must be an object of strings");
    };
    let mut lib = caller.shared.library.write();
    match lib.project_mut(&project) {
        Some(p) => {
            p.site_roots.insert(site, map);
            no_content()
        }
        None => project_missing(&project),
    }
}

fn folder_parents(f: &Folder) -> Vec<String> {
    let mut parts: Vec<String> = f.path.split('/').map(str::to_owned).collect();
    parts.pop();
    parts
}

fn folder_has_versions(f: &Folder, p: &Project) -> bool {
    let prefix = format!("{}/", f.path);
    p.folders
        .iter()
        .filter(|o| o.path == f.path || o.path.starts_with(&prefix))
        .any(|o| o.products.iter().any(|pr| !pr.versions.is_empty()))
}

/// `GET /api/projects/{p}/folders` (`?attrib=true` adds attributes).
pub(crate) async fn list_folders(
    caller: Caller,
    Path(project): Path<String>,
    Query(query): Q,
) -> Response {
    let with_attrib = q(&query, "attrib") == Some("true");
    caller.project(&project, |_, p| {
        let folders: Vec<Value> = p
        .folders
        .iter()
        .map(|f| {
            let mut v = json!({
                "id": f.id, "name": f.name, "label": f.label, "folderType": f.folder_type,
                "parentId": f.parent_id, "parents": folder_parents(f), "path": f.path,
                "status": f.status, "tags": f.tags,
                "hasChildren": p.folders.iter().any(|o| o.parent_id.as_deref() == Some(f.id.as_str())),
                "hasReviewables": false, "hasTasks": !f.tasks.is_empty(),
                "hasVersions": folder_has_versions(f, p),
                "taskNames": f.tasks.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
                "thumbnailHash": f.thumbnail_hash, "createdAt": f.created_at, "updatedAt": f.updated_at,
            });
            if with_attrib {
                v["attrib"] = f.attrib.clone().into();
                v["ownAttrib"] = json!([]);
            }
            v
        })
        .collect();
        json_response(200, json!({"folders": folders}))
    })
}

/// `GET /api/projects/{p}/hierarchy`.
pub(crate) async fn hierarchy(caller: Caller, Path(project): Path<String>) -> Response {
    caller.project(&project, |_, p| {
        fn node(p: &Project, f: &Folder) -> Value {
            let children: Vec<Value> = p
                .folders
                .iter()
                .filter(|c| c.parent_id.as_deref() == Some(f.id.as_str()))
                .map(|c| node(p, c))
                .collect();
            json!({
                "id": f.id, "name": f.name, "label": f.label.clone().unwrap_or_else(|| f.name.clone()),
                "status": f.status, "folderType": f.folder_type, "hasTasks": !f.tasks.is_empty(),
                "taskNames": f.tasks.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
                "parents": folder_parents(f), "parentId": f.parent_id, "children": children,
            })
        }
        let roots: Vec<Value> = p
            .folders
            .iter()
            .filter(|f| f.parent_id.is_none())
            .map(|f| node(p, f))
            .collect();
        json_response(
            200,
            json!({"detail": "Hierarchy loaded in 0.0010s", "projectName": p.name, "hierarchy": roots}),
        )
    })
}

fn folder_json(f: &Folder) -> Value {
    json!({
        "id": f.id, "name": f.name, "folderType": f.folder_type, "parentId": f.parent_id,
        "path": format!("/{}", f.path), "hasVersions": !f.products.is_empty(), "attrib": f.attrib,
        "data": f.data, "active": f.active, "ownAttrib": [], "status": f.status, "tags": f.tags,
        "createdBy": "admin", "updatedBy": "admin", "createdAt": f.created_at, "updatedAt": f.updated_at,
    })
}

fn task_json(f: &Folder, t: &Task) -> Value {
    json!({
        "id": t.id, "name": t.name, "taskType": t.task_type, "assignees": t.assignees,
        "folderId": f.id, "path": format!("/{}/{}", f.path, t.name), "attrib": t.attrib,
        "data": t.data, "active": t.active, "ownAttrib": [], "status": t.status, "tags": t.tags,
        "createdAt": t.created_at, "updatedAt": t.updated_at,
    })
}

fn product_json(f: &Folder, p: &Product) -> Value {
    json!({
        "id": p.id, "name": p.name, "folderId": f.id, "productType": p.product_type,
        "productBaseType": p.product_base_type.clone().unwrap_or_else(|| p.product_type.clone()),
        "path": format!("/{}/{}", f.path, p.name), "attrib": p.attrib, "data": p.data,
        "active": p.active, "ownAttrib": [], "status": p.status, "tags": p.tags,
        "createdBy": "admin", "updatedBy": "admin", "createdAt": p.created_at, "updatedAt": p.updated_at,
    })
}

fn version_json(f: &Folder, p: &Product, v: &Version) -> Value {
    let own: Vec<&String> = v.attrib.keys().collect();
    json!({
        "id": v.id, "version": v.version, "productId": p.id, "author": v.author,
        "path": format!("/{}/{}/{}", f.path, p.name, v.name()), "attrib": v.attrib, "data": v.data,
        "active": v.active, "ownAttrib": own, "status": v.status, "tags": v.tags,
        "createdBy": "admin", "updatedBy": "admin", "createdAt": v.created_at, "updatedAt": v.updated_at,
    })
}

fn representation_json(f: &Folder, p: &Product, v: &Version, r: &Representation) -> Value {
    let own: Vec<&String> = r.attrib.keys().collect();
    json!({
        "id": r.id, "name": r.name, "versionId": v.id, "files": r.files,
        "path": format!("/{}/{}/{}/{}", f.path, p.name, v.name(), r.name), "attrib": r.attrib,
        "data": r.data, "active": r.active, "ownAttrib": own, "status": r.status, "tags": r.tags,
        "createdBy": "admin", "updatedBy": "admin", "createdAt": r.created_at, "updatedAt": r.updated_at,
    })
}

fn kind_singular(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "folders" => "folder",
        "tasks" => "task",
        "products" => "product",
        "versions" => "version",
        "representations" => "representation",
        _ => return None,
    })
}

/// `GET /api/projects/{p}/{folders|tasks|products|versions|representations}/{id}`.
pub(crate) async fn get_entity(
    State(shared): State<Arc<Shared>>,
    Path((project, kind, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/api/projects/{project}/{kind}/{id}");
    let Some(single) = kind_singular(&kind) else {
        return endpoint_not_found(&path);
    };
    if let Err(resp) = authenticate(&shared, &headers).await {
        return resp;
    }
    if id.len() != 32 {
        let (msg, kind_, limit) = if id.len() < 32 {
            (
                "ensure this value has at least 32 characters",
                "value_error.any_str.min_length",
                32,
            )
        } else {
            (
                "ensure this value has at most 32 characters",
                "value_error.any_str.max_length",
                32,
            )
        };
        return validation_error(
            "GET",
            &path,
            vec![Invalid {
                loc: vec!["path".into(), format!("{single}_id").into()],
                msg: msg.into(),
                kind: kind_.into(),
                ctx: Some(json!({"limit_value": limit})),
            }],
        );
    }
    with_project(&shared, &project, |_, p| {
        let found = match single {
            "folder" => p.folder(&id).map(folder_json),
            "task" => p.task(&id).map(|(f, t)| task_json(f, t)),
            "product" => p.product(&id).map(|(f, pr)| product_json(f, pr)),
            "version" => p.version(&id).map(|(f, pr, v)| version_json(f, pr, v)),
            _ => p
                .representation(&id)
                .map(|(f, pr, v, r)| representation_json(f, pr, v, r)),
        };
        match found {
            Some(v) => json_response(200, v),
            None => error(404, format!("Entity {id} not found")),
        }
    })
}

/// `POST /api/projects/{p}/folders`.
pub(crate) async fn create_entity_folders(
    state: State<Arc<Shared>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create_entity(state, Path((project, "folders".to_owned())), headers, body).await
}

/// `POST /api/projects/{p}/{folders|tasks|products|versions|representations}`: 201 `{"id"}`
/// and the matching `entity.*.created` event.
pub(crate) async fn create_entity(
    State(shared): State<Arc<Shared>>,
    Path((project, kind)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/api/projects/{project}/{kind}");
    if kind_singular(&kind).is_none() {
        return endpoint_not_found(&path);
    }
    let user = match authenticate(&shared, &headers).await {
        Ok(user) => user,
        Err(resp) => return resp,
    };
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "Invalid JSON body");
    };
    let (created, project_name) = {
        let mut lib = shared.library.write();
        let res = create_in(&mut lib, &project, &kind, &v);
        let name = lib
            .project(&project)
            .map(|p| p.name.clone())
            .unwrap_or(project.clone());
        (res, name)
    };
    match created {
        Ok(c) => {
            shared.emit(
                c.topic,
                Some(&project_name),
                Some(&user.name),
                &c.description,
                json!({"entityId": c.id, "parentId": c.parent_id}),
            );
            json_response(201, json!({"id": c.id}))
        }
        Err((404, msg)) if msg.is_empty() => error(404, "Not found"),
        Err((status, msg)) => error(status, msg),
    }
}
