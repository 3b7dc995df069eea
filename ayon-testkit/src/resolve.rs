//! `POST /api/resolve` as the server's `resolve_uris` (`api/resolve/__init__.py`) runs it:
//! request checks in FastAPI's order, the batch roots, then one answer per URI, where only a
//! `ValueError` stays inside its URI and anything else fails the whole request.

mod roots;
mod rows;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use ayon_uri::{AyonUri, Target, UriErrorKind};
use serde_json::{Map, Value, json};

use crate::auth::authenticate;
use crate::library::{Library, Project, Representation};
use crate::request::client_site_id;
use crate::respond::{exception, json_response, python_exception, validation_error};
use crate::state::Shared;
use crate::validate::{bool_text, bool_value, invalid, missing, not_bool, not_none, str_value};
use roots::{BatchRoots, batch_roots};
use rows::{Row, select};

/// How paths are produced for one request.
pub(crate) struct PathStyle {
    /// Roots to substitute (`None`: leave `{root[..]}` literally).
    pub roots: Option<BTreeMap<String, String>>,
    /// A Windows site: every `/` becomes `\`.
    pub windows: bool,
}

/// The validated request: `ResolveRequestModel` plus the `pathOnly` query flag.
struct ResolveRequest {
    resolve_roots: bool,
    uris: Vec<String>,
    path_only: bool,
}

/// The handler. Errors come in the server's order: the site id dependency (400), the current
/// user (401), request validation (400, query before body), the batch roots (500/400), then
/// per URI.
pub(crate) async fn resolve(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let site_id = match client_site_id(&headers, &query) {
        Ok(site) => site,
        Err(resp) => return *resp,
    };
    if let Err(resp) = authenticate(&shared, &headers).await {
        return resp;
    }
    let request = match validate(&query, &body) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    shared
        .resolved_uris
        .fetch_add(request.uris.len() as u64, Ordering::SeqCst);
    let lib = shared.library.read();
    let roots = match (request.resolve_roots, &site_id) {
        (true, Some(site)) => match batch_projects(&request.uris)
            .and_then(|projects| batch_roots(&lib, site, &projects))
        {
            Ok(roots) => roots,
            Err(resp) => return *resp,
        },
        _ => BatchRoots::new(),
    };
    let mut answers = Vec::with_capacity(request.uris.len());
    let mut current: Option<(String, &Project)> = None;
    for uri in &request.uris {
        let parsed = parse(uri);
        let answer = match &parsed {
            Parsed::Invalid(message) => failed(uri, message),
            Parsed::Valid(u) | Parsed::BadVersion(u, _) => {
                // `normalize_project_name` runs only when the name differs from the previous
                // URI's as written; an unknown project leaves the previous one current.
                let project = match &current {
                    Some((written, project)) if written == u.project() => *project,
                    _ => match canonical_project(&lib, u.project()) {
                        Some(project) => {
                            current = Some((u.project().to_owned(), project));
                            project
                        }
                        None => {
                            answers
                                .push(failed(uri, &format!("Project {} not found", u.project())));
                            continue;
                        }
                    },
                };
                let bad_version = match &parsed {
                    Parsed::BadVersion(_, message) => Some(message.as_str()),
                    _ => None,
                };
                let ctx = UriContext {
                    lib: &lib,
                    project,
                    roots: roots.get(&project.name),
                    site_id: site_id.as_deref(),
                    path_only: request.path_only,
                };
                match resolve_entities(&ctx, u, bad_version) {
                    Ok(Ok(entities)) => json!({"uri": uri, "entities": entities}),
                    Ok(Err(message)) => failed(uri, &message),
                    Err(resp) => return *resp,
                }
            }
        };
        answers.push(answer);
    }
    json_response(200, Value::Array(answers))
}

/// A URI's answer with an error (`entities: []`).
fn failed(uri: &str, message: &str) -> Value {
    json!({"uri": uri, "entities": [], "error": message})
}

/// `ResolveRequestModel` and `pathOnly` checked as FastAPI and pydantic v1 check them.
fn validate(query: &[(String, String)], body: &[u8]) -> Result<ResolveRequest, Box<Response>> {
    let mut errors = Vec::new();
    let mut path_only = false;
    if let Some((_, v)) = query.iter().rev().find(|(k, _)| k == "pathOnly") {
        match bool_text(v) {
            Some(b) => path_only = b,
            None => errors.push(not_bool(vec!["query".into(), "pathOnly".into()])),
        }
    }
    // An empty body or `null` is a missing body. (A body that is not JSON at all gets the
    // same answer here; the server answers `json_invalid` with Python's decoder message.)
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut resolve_roots = false;
    let mut uris = Vec::new();
    // Pydantic reads a body that is not an object through `from_orm` (the model has
    // `orm_mode`), as attributes: a list or a string has none, so every field is absent.
    let no_fields = Map::new();
    let fields = match &body {
        Value::Null => None,
        Value::Object(o) => Some(o),
        _ => Some(&no_fields),
    };
    match fields {
        None => errors.push(missing(vec!["body".into()])),
        Some(o) => {
            // The alias first, the field name only when the alias is absent.
            let roots_loc = || vec!["body".into(), "resolveRoots".into()];
            match o.get("resolveRoots").or_else(|| o.get("resolve_roots")) {
                None => {}
                Some(Value::Null) => errors.push(not_none(roots_loc())),
                Some(v) => match bool_value(v) {
                    Some(b) => resolve_roots = b,
                    None => errors.push(not_bool(roots_loc())),
                },
            }
            let uris_loc = || vec![Value::from("body"), Value::from("uris")];
            match o.get("uris") {
                None => errors.push(missing(uris_loc())),
                Some(Value::Null) => errors.push(not_none(uris_loc())),
                Some(Value::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        let mut loc = uris_loc();
                        loc.push(i.into());
                        match (item, str_value(item)) {
                            (_, Some(s)) => uris.push(s),
                            (Value::Null, None) => errors.push(not_none(loc)),
                            (_, None) => {
                                errors.push(invalid(loc, "str type expected", "type_error.str"))
                            }
                        }
                    }
                }
                Some(_) => errors.push(invalid(
                    uris_loc(),
                    "value is not a valid list",
                    "type_error.list",
                )),
            }
        }
    }
    if !errors.is_empty() {
        return Err(Box::new(validation_error("POST", "/api/resolve", errors)));
    }
    Ok(ResolveRequest {
        resolve_roots,
        uris,
        path_only,
    })
}

/// What `parse_uri` makes of a URI.
enum Parsed {
    /// It parses.
    Valid(AyonUri),
    /// It parses, but its version is neither a keyword nor a number: `parse_uri` accepts it
    /// and `get_version_conditions` raises later, per URI, after the project lookup. The URI
    /// is held with `version=*` in its place.
    BadVersion(AyonUri, String),
    /// `parse_uri` raises this message.
    Invalid(String),
}

fn parse(uri: &str) -> Parsed {
    match AyonUri::parse(uri) {
        Ok(u) => Parsed::Valid(u),
        // "Invalid name: ..." for a version is `parse_uri`'s own check; only "Invalid version
        // name" comes from `get_version_conditions`.
        Err(e)
            if e.kind() == UriErrorKind::BadVersion
                && e.server_message().starts_with("Invalid version name: ") =>
        {
            let start = e.offset();
            let end = start + e.text().len();
            let wildcard = match uri.get(start..end) {
                Some(text) if text == e.text() => {
                    AyonUri::parse(&format!("{}*{}", &uri[..start], &uri[end..])).ok()
                }
                _ => None,
            };
            match wildcard {
                Some(u) => Parsed::BadVersion(u, e.server_message()),
                None => Parsed::Invalid(e.server_message()),
            }
        }
        Err(e) => Parsed::Invalid(e.server_message()),
    }
}

/// `[parse_uri(uri).project_name for uri in request.uris]`: the first URI `parse_uri` refuses
/// fails the whole request with its `ValueError` (500).
fn batch_projects(uris: &[String]) -> Result<Vec<String>, Box<Response>> {
    uris.iter()
        .map(|uri| match parse(uri) {
            Parsed::Valid(u) | Parsed::BadVersion(u, _) => Ok(u.project().to_owned()),
            Parsed::Invalid(message) => Err(Box::new(exception(
                &python_exception("ValueError", &message),
                "api/resolve/__init__.py:387\nprojects = [parse_uri(uri).project_name for uri in request.uris]",
            ))),
        })
        .collect()
}

/// `normalize_project_name`: the project whose name equals this one case-insensitively, the
/// first in name order (the server's project list is sorted by name), skeleton projects
/// (`data.isSkeleton`) left out.
fn canonical_project<'a>(lib: &'a Library, name: &str) -> Option<&'a Project> {
    lib.projects
        .iter()
        .filter(|p| p.name.to_lowercase() == name.to_lowercase() && !is_skeleton(p))
        .min_by(|a, b| a.name.cmp(&b.name))
}

/// `data->>'isSkeleton' == 'true'`.
fn is_skeleton(project: &Project) -> bool {
    match project.extra.get("data").and_then(|d| d.get("isSkeleton")) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

/// What one URI is resolved against.
struct UriContext<'a> {
    lib: &'a Library,
    project: &'a Project,
    /// This project's entry of the batch roots (`roots.get(project_name, {})`).
    roots: Option<&'a BTreeMap<String, String>>,
    site_id: Option<&'a str>,
    path_only: bool,
}

/// `resolve_entities`: `Ok(Ok(entities))`, `Ok(Err(message))` for the `ValueError` that stays
/// inside this URI, `Err(response)` for what fails the whole request.
fn resolve_entities(
    ctx: &UriContext<'_>,
    uri: &AyonUri,
    bad_version: Option<&str>,
) -> Result<Result<Vec<Value>, String>, Box<Response>> {
    // Neither a path nor a known key: nothing, before anything is looked up.
    let Some(target) = uri.target() else {
        return Ok(Ok(Vec::new()));
    };
    let platform = match ctx.site_id {
        None => None,
        Some(site) => match ctx.lib.site(site) {
            Some(s) => Some(s.platform.as_str()),
            None => {
                return Err(Box::new(json_response(
                    400,
                    json!({"code": 400, "detail": "Site not found", "status_code": 404}),
                )));
            }
        },
    };
    if let Some(message) = bad_version {
        return Ok(Err(message.to_owned()));
    }
    let style = PathStyle {
        // `context["root"] = roots or {}`: always a mapping, empty without roots.
        roots: Some(ctx.roots.cloned().unwrap_or_default()),
        windows: platform == Some("windows"),
    };
    let mut entities = Vec::new();
    for row in select(ctx.project, uri, target) {
        let path = match row.representation {
            Some(rep) => representation_path(rep, &style)?,
            None => None,
        };
        entities.push(if ctx.path_only {
            match path {
                Some(p) => json!({"filePath": p}),
                None => json!({}),
            }
        } else {
            entity(uri.project(), &row, path, target)
        });
    }
    Ok(Ok(entities))
}

/// `ResolvedEntityModel` without its `None` fields, in its field order.
fn entity(project_name: &str, row: &Row<'_>, path: Option<String>, target: Target) -> Value {
    let mut m = Map::new();
    m.insert("projectName".into(), project_name.into());
    let ids = [
        ("folderId", row.folder.map(|f| &f.id)),
        ("productId", row.product.map(|p| &p.id)),
        ("taskId", row.task.map(|t| &t.id)),
        ("versionId", row.version.map(|v| &v.id)),
        ("representationId", row.representation.map(|r| &r.id)),
    ];
    for (key, id) in ids {
        if let Some(id) = id {
            m.insert(key.into(), id.clone().into());
        }
    }
    if let Some(p) = path {
        m.insert("filePath".into(), p.into());
    }
    m.insert("target".into(), target.as_str().into());
    Value::Object(m)
}

/// The path of a representation row: none without a (truthy) `attrib.template`; a context
/// that is not a mapping fails the whole request (`context["root"] = ...` raises TypeError).
fn representation_path(
    rep: &Representation,
    style: &PathStyle,
) -> Result<Option<String>, Box<Response>> {
    let Some(template) = template_text(rep.attrib.get("template")) else {
        return Ok(None);
    };
    let context = rep.data.get("context");
    let refusal = match context {
        Some(Value::Object(_)) => None,
        None | Some(Value::Null) => Some("'NoneType' object does not support item assignment"),
        Some(Value::String(_)) => Some("'str' object does not support item assignment"),
        Some(Value::Array(_)) => Some("list indices must be integers or slices, not str"),
        Some(Value::Bool(_)) => Some("'bool' object does not support item assignment"),
        Some(Value::Number(n)) if n.is_f64() => {
            Some("'float' object does not support item assignment")
        }
        Some(Value::Number(_)) => Some("'int' object does not support item assignment"),
    };
    if let Some(message) = refusal {
        return Err(Box::new(exception(
            &python_exception("TypeError", message),
            "api/resolve/__init__.py:416\nentities = await resolve_entities(\n\napi/resolve/__init__.py:298\nfile_path = get_representation_path(\n\napi/resolve/__init__.py:125\ncontext[\"root\"] = roots or {}",
        )));
    }
    Ok(file_path(
        Some(&template),
        context.and_then(Value::as_object),
        style,
    ))
}

/// `r.attrib->>'template'` when it is truthy: the string, or the JSON text of another value
/// as Postgres writes it; `None` for a missing, null or empty template.
fn template_text(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        other => jsonb_text(other),
    };
    (!text.is_empty()).then_some(text)
}

/// How Postgres prints a `jsonb` value: `", "` and `": "` separators, object keys shortest
/// first then bytewise.
fn jsonb_text(v: &Value) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(jsonb_text).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            let entries: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}: {}", Value::from(k.as_str()), jsonb_text(&o[k])))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        other => other.to_string(),
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
