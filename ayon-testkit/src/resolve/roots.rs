//! The roots of a `resolveRoots=true` request with a site: `get_roots_for_projects`
//! (`ayon_server/helpers/roots.py`) over the projects the URIs name, as written.
//!
//! Its SQL decides three behaviours the testkit keeps:
//! - anatomy roots are read `WHERE name = ANY(projects)`: exact case, so a project written in
//!   another case than it was created with gets no roots (its paths keep `{root[work]}`)
//!   unless another URI of the same request spells it exactly;
//! - site overrides are read from `project_{name}.custom_roots`, an unquoted identifier that
//!   Postgres folds to lower case: an unknown project fails the whole request (500
//!   `UndefinedTableError`), and a differently-cased one that has overrides for the site
//!   fails it too (500 `KeyError`, the dict was keyed by the exact name);
//! - override values that are empty are skipped.

use std::collections::{BTreeMap, HashMap};

use axum::response::Response;

use crate::library::Library;
use crate::respond::{error, exception, python_exception};

/// Root name → path, per project name as the server keys them (its canonical name).
pub(crate) type BatchRoots = HashMap<String, BTreeMap<String, String>>;

const AT_GET_ROOTS: &str = "api/resolve/__init__.py:388\nroots = await get_roots_for_projects(user.name, site_id, projects)";

/// `get_roots_for_projects(user, site_id, projects)`; `Err` is the whole request's answer.
pub(crate) fn batch_roots(
    lib: &Library,
    site_id: &str,
    projects: &[String],
) -> Result<BatchRoots, Box<Response>> {
    let Some(site) = lib.site(site_id) else {
        return Err(Box::new(error(
            400,
            "Site not found and platform not provided",
        )));
    };
    let platform = site.platform.as_str();
    let mut roots = BatchRoots::new();
    for project in lib.projects.iter().filter(|p| projects.contains(&p.name)) {
        let mut paths = BTreeMap::new();
        for (name, per_platform) in &project.roots {
            // `_root_paths[platform]`
            let Some(path) = per_platform.for_platform(platform) else {
                return Err(fail(
                    &python_exception("KeyError", &format!("'{platform}'")),
                    "ayon_server/helpers/roots.py:42\nroots[_project_name][_root_name] = _root_paths[platform]",
                ));
            };
            paths.insert(name.clone(), path.to_owned());
        }
        roots.insert(project.name.clone(), paths);
    }
    for name in projects {
        let relation = format!("project_{}.custom_roots", name.to_ascii_lowercase());
        let at = "ayon_server/helpers/roots.py:52\nresult = await Postgres.fetch(query, user_name, site_id, timeout=5)";
        if name.contains('-') {
            return Err(fail(
                "asyncpg.exceptions.PostgresSyntaxError: syntax error at or near \"-\"",
                at,
            ));
        }
        // A dotted name makes `project_a.b.custom_roots` a three-part (or longer) name.
        match name.matches('.').count() {
            0 => {}
            1 => {
                return Err(fail(
                    &format!(
                        "asyncpg.exceptions.FeatureNotSupportedError: cross-database references are not implemented: {relation}"
                    ),
                    at,
                ));
            }
            _ => {
                return Err(fail(
                    &format!(
                        "asyncpg.exceptions.PostgresSyntaxError: improper qualified name (too many dotted names): {relation}"
                    ),
                    at,
                ));
            }
        }
        let schema = lib
            .projects
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name));
        let Some(project) = schema else {
            return Err(fail(
                &format!(
                    "asyncpg.exceptions.UndefinedTableError: relation \"{relation}\" does not exist"
                ),
                at,
            ));
        };
        let Some(overrides) = project.site_roots.get(site_id) else {
            continue;
        };
        let Some(paths) = roots.get_mut(name) else {
            return Err(fail(
                &python_exception("KeyError", &format!("'{name}'")),
                "ayon_server/helpers/roots.py:54\nroots[project_name].update({k: v for k, v in row[\"data\"].items() if v})",
            ));
        };
        for (root, path) in overrides.iter().filter(|(_, path)| !path.is_empty()) {
            paths.insert(root.clone(), path.clone());
        }
    }
    Ok(roots)
}

fn fail(detail: &str, at: &str) -> Box<Response> {
    Box::new(exception(detail, &format!("{AT_GET_ROOTS}\n\n{at}")))
}
