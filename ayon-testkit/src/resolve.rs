//! `POST /api/resolve` with the real server's semantics (see real-server.md).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ayon_uri::{AyonUri, Target, UriErrorKind, VersionSelector};
use serde_json::{Map, Value, json};

use crate::entities::site_of;
use crate::library::{Library, Project, Version};
use crate::routes::{Invalid, authenticate, error, json_response, valid_site_id, validation_error};
use crate::state::Shared;

/// How paths are produced for one request.
pub(crate) struct PathStyle {
    /// Roots to substitute (`None`: leave `{root[..]}` literally).
    pub roots: Option<BTreeMap<String, String>>,
    /// A Windows site: every `/` becomes `\`.
    pub windows: bool,
}

pub(crate) async fn resolve(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match authenticate(&shared, &headers).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let _ = user;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let uris: Vec<String> = match body.get("uris") {
        None => return crate::routes::missing_body_field("POST", "/api/resolve", "uris"),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            let mut bad = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    Value::Number(n) => out.push(n.to_string()),
                    _ => bad.push(Invalid {
                        loc: vec!["body".into(), "uris".into(), i.into()],
                        msg: "str type expected".into(),
                        kind: "type_error.str".into(),
                        ctx: None,
                    }),
                }
            }
            if !bad.is_empty() {
                return validation_error("POST", "/api/resolve", bad);
            }
            out
        }
        Some(_) => {
            return validation_error(
                "POST",
                "/api/resolve",
                vec![Invalid {
                    loc: vec!["body".into(), "uris".into()],
                    msg: "value is not a valid list".into(),
                    kind: "type_error.list".into(),
                    ctx: None,
                }],
            );
        }
    };
    let resolve_roots = body
        .get("resolveRoots")
        .or_else(|| body.get("resolve_roots"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let path_only = query
        .iter()
        .any(|(k, v)| k == "pathOnly" && v.eq_ignore_ascii_case("true"));
    shared
        .resolved_uris
        .fetch_add(uris.len() as u64, Ordering::SeqCst);
    let site = site_of(&headers, &query);
    let lib = shared.library.read();
    let mut style = PathStyle {
        roots: None,
        windows: false,
    };
    let mut site_platform = None;
    if let Some(site) = &site {
        if !valid_site_id(site) {
            return error(400, format!("Invalid site id: {site}"));
        }
        match lib.site(site) {
            Some(s) => site_platform = Some(s.platform.clone()),
            None if resolve_roots => {
                return error(400, "Site not found and platform not provided");
            }
            None => {
                return json_response(
                    400,
                    json!({"code": 400, "detail": "Site not found", "status_code": 404}),
                );
            }
        }
        style.windows = site_platform.as_deref() == Some("windows");
        if resolve_roots {
            // The real server parses the whole batch first (any bad item fails it), then reads
            // the roots of every project named (an unknown project fails it too).
            // The version name is checked later, per URI: a bad one does not fail the batch
            // (recorded: "banana" before "http://" in the batch, the 500 names the scheme).
            let mut projects = Vec::with_capacity(uris.len());
            for uri in &uris {
                match AyonUri::parse(uri) {
                    Ok(u) => projects.push(u.project().to_owned()),
                    Err(e) if e.kind() == UriErrorKind::BadVersion => {
                        projects.push(raw_project(uri).to_owned());
                    }
                    Err(e) => {
                        let detail = format!("ValueError: {}", e.server_message());
                        let detail = detail.trim_end();
                        return json_response(
                            500,
                            json!({"status": 500, "detail": detail, "traceback": format!("{detail}\n\napi/resolve/__init__.py:387\nprojects = [parse_uri(uri).project_name for uri in request.uris]")}),
                        );
                    }
                }
            }
            if let Some(missing) = projects.iter().find(|p| lib.project(p).is_none()) {
                let detail = format!(
                    "asyncpg.exceptions.UndefinedTableError: relation \"project_{}.custom_roots\" does not exist",
                    missing.to_lowercase()
                );
                return json_response(
                    500,
                    json!({"status": 500, "detail": detail, "traceback": format!("{detail}\n\napi/resolve/__init__.py:388\nroots = await get_roots_for_projects(user.name, site_id, projects)")}),
                );
            }
        }
    }
    let out: Vec<Value> = uris
        .iter()
        .map(|uri| {
            resolve_one(
                &lib,
                uri,
                resolve_roots,
                site.as_deref(),
                site_platform.as_deref(),
                &mut style,
                path_only,
            )
        })
        .collect();
    json_response(200, Value::Array(out))
}

/// The authority of a URI that parsed up to its version: the project as written.
fn raw_project(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, r)| r);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    &rest[..end]
}

fn resolve_one(
    lib: &Library,
    uri: &str,
    resolve_roots: bool,
    site: Option<&str>,
    platform: Option<&str>,
    style: &mut PathStyle,
    path_only: bool,
) -> Value {
    let mut item = Map::new();
    item.insert("uri".into(), uri.into());
    let entities = match AyonUri::parse(uri) {
        Err(e) => {
            item.insert("entities".into(), json!([]));
            item.insert("error".into(), e.server_message().into());
            return item.into();
        }
        Ok(parsed) => match lib.project(parsed.project()) {
            None => {
                item.insert("entities".into(), json!([]));
                item.insert(
                    "error".into(),
                    format!("Project {} not found", parsed.project()).into(),
                );
                return item.into();
            }
            Some(project) => {
                style.roots = match (resolve_roots, platform) {
                    (true, Some(pf)) => Some(project.roots_for(pf, site)),
                    _ => None,
                };
                find(project, &parsed, style)
            }
        },
    };
    let entities: Vec<Value> = if path_only {
        entities
            .into_iter()
            .map(|e| match e.get("filePath") {
                Some(p) if e.get("target") == Some(&Value::from("representation")) => {
                    json!({"filePath": p})
                }
                _ => json!({}),
            })
            .collect()
    } else {
        entities
    };
    item.insert("entities".into(), Value::Array(entities));
    item.into()
}

/// Versions a selector picks, in the server's order (positive ascending, then hero).
fn select_versions<'a>(
    project: &Project,
    versions: &'a [Version],
    selector: Option<VersionSelector>,
) -> Vec<&'a Version> {
    let mut sorted: Vec<&Version> = versions.iter().collect();
    sorted.sort_by_key(|v| (v.version < 0, v.version.unsigned_abs()));
    match selector {
        None | Some(VersionSelector::Any) => sorted,
        Some(VersionSelector::Exact(n)) => sorted
            .into_iter()
            .filter(|v| i64::from(v.version) == i64::from(n))
            .collect(),
        Some(VersionSelector::Hero) => sorted.into_iter().filter(|v| v.version < 0).collect(),
        Some(VersionSelector::Latest) => sorted
            .into_iter()
            .filter(|v| v.version > 0 && v.active)
            .max_by_key(|v| v.version)
            .into_iter()
            .collect(),
        Some(VersionSelector::LatestDone) => sorted
            .into_iter()
            .filter(|v| v.version > 0 && v.active && project.status_is_done(&v.status))
            .max_by_key(|v| v.version)
            .into_iter()
            .collect(),
    }
}

fn name_matches(pattern: &str, name: &str) -> bool {
    pattern == "*" || pattern == name
}

fn find(project: &Project, uri: &AyonUri, style: &PathStyle) -> Vec<Value> {
    let Some(target) = uri.target() else {
        return Vec::new();
    };
    let Some(folder) = project.folder_by_path(uri.folder_path()) else {
        return Vec::new();
    };
    let pname = uri.project();
    let base = |target: &str| {
        let mut m = Map::new();
        m.insert("projectName".into(), pname.into());
        m.insert("folderId".into(), folder.id.clone().into());
        m.insert("target".into(), target.into());
        m
    };
    let finish = |mut m: Map<String, Value>| -> Value {
        // Key order as the server writes it; `target` last.
        if let Some(t) = m.remove("target") {
            m.insert("target".into(), t);
        }
        Value::Object(m)
    };
    match target {
        Target::Folder => vec![finish(base("folder"))],
        Target::Task => folder
            .tasks
            .iter()
            .filter(|t| uri.task().is_some_and(|n| name_matches(n, &t.name)))
            .map(|t| {
                let mut m = base("task");
                m.insert("taskId".into(), t.id.clone().into());
                finish(m)
            })
            .collect(),
        Target::Workfile => Vec::new(),
        Target::Product | Target::Version | Target::Representation => {
            let mut out = Vec::new();
            for product in folder
                .products
                .iter()
                .filter(|p| uri.product().is_some_and(|n| name_matches(n, &p.name)))
            {
                if target == Target::Product {
                    let mut m = base("product");
                    m.insert("productId".into(), product.id.clone().into());
                    out.push(finish(m));
                    continue;
                }
                for version in select_versions(project, &product.versions, uri.version()) {
                    if target == Target::Version {
                        let mut m = base("version");
                        m.insert("productId".into(), product.id.clone().into());
                        m.insert("versionId".into(), version.id.clone().into());
                        out.push(finish(m));
                        continue;
                    }
                    for rep in version.representations.iter().filter(|r| {
                        uri.representation()
                            .is_some_and(|n| name_matches(n, &r.name))
                    }) {
                        let mut m = base("representation");
                        m.insert("productId".into(), product.id.clone().into());
                        m.insert("versionId".into(), version.id.clone().into());
                        m.insert("representationId".into(), rep.id.clone().into());
                        if let Some(path) = file_path(rep.template(), rep.context(), style) {
                            m.insert("filePath".into(), path.into());
                        }
                        out.push(finish(m));
                    }
                }
            }
            out
        }
    }
}

/// `filePath`: the template filled with the context (and roots), normalised, `\` on Windows,
/// by `ayon-site`'s copy of the server's rule. A template the server's `str.format` would fail
/// on (a 500 there) gives no path here.
pub(crate) fn file_path(
    template: Option<&str>,
    context: Option<&Map<String, Value>>,
    style: &PathStyle,
) -> Option<String> {
    let template = ayon_site::Template::new(template?);
    let platform = if style.windows {
        ayon_site::Platform::Windows
    } else {
        ayon_site::Platform::Linux
    };
    let mut roots = ayon_site::Roots::for_platform(platform);
    for (name, path) in style.roots.iter().flatten() {
        // A name no `{root[..]}` token can spell cannot be used anyway.
        let _ = roots.insert(name.as_str(), path.as_str());
    }
    let empty = Map::new();
    ayon_site::representation_path(&template, context.unwrap_or(&empty), &roots).ok()
}
