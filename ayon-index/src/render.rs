//! A representation's `filePath`, built by `ayon-site`'s formatter exactly as the server's
//! `get_representation_path` does (template filled with the context, `context["root"]` set to
//! the site's roots or to `{}`, `normpath`, `//` → `/`, `\` for a Windows site).
//!
//! Where the server would hand out a wrong path (a required key missing from the context, a
//! root this site does not define) or fail the whole request (a context that is not an
//! object, a field Python cannot format), the index answers a per-URI error naming the
//! representation and the problem instead.

use std::collections::HashMap;
use std::sync::Arc;

use ayon_site::{Roots, Template, representation_path};
use parking_lot::Mutex;
use serde_json::{Map, Value};

/// Parsed templates by text: a project has a handful of templates shared by thousands of
/// representations, so each is parsed once.
#[derive(Default)]
pub(crate) struct Templates(Mutex<HashMap<String, Arc<Template>>>);

impl Templates {
    /// More distinct templates than this and the cache starts over (bounded memory).
    const MAX: usize = 256;

    fn get(&self, text: &str) -> Arc<Template> {
        let mut map = self.0.lock();
        if let Some(t) = map.get(text) {
            return t.clone();
        }
        if map.len() >= Self::MAX {
            map.clear();
        }
        let parsed = Arc::new(Template::new(text));
        map.insert(text.to_owned(), parsed.clone());
        parsed
    }
}

/// How paths are finished for one project on this index's site.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathRules {
    /// The roots put into the context (empty: `{root[...]}` stays, as `resolveRoots=false`);
    /// their platform decides the separators.
    pub(crate) roots: Roots,
    /// Whether roots are substituted (then a root the site lacks is an error).
    pub(crate) substitute: bool,
    /// Where the roots came from, for error messages.
    pub(crate) origin: String,
}

/// Fills `template` for one representation; `Err` is the per-URI error text.
pub(crate) fn render(
    templates: &Templates,
    template: &str,
    context: &str,
    rules: &PathRules,
    representation_id: &str,
) -> Result<String, String> {
    let context: Value = serde_json::from_str(context).map_err(|e| {
        format!("representation {representation_id} has an unreadable context in the index: {e}")
    })?;
    let Value::Object(context) = context else {
        return Err(format!(
            "representation {representation_id} has no context object to fill its template `{template}`"
        ));
    };
    let parsed = templates.get(template);
    let path = representation_path(&parsed, &context, &rules.roots)
        .map_err(|e| format!("representation {representation_id}: {e}"))?;
    // An unfilled field is left as written, braces included: only then is it worth asking
    // which keys were missing (a `{` from a context value passes the check).
    if path.contains('{') {
        check_solved(&parsed, &context, rules, representation_id)?;
    }
    Ok(path)
}

/// Refuses a template whose required fields the context (with the roots) does not fill: the
/// server would answer a path with `{key}` left in it.
fn check_solved(
    template: &Template,
    context: &Map<String, Value>,
    rules: &PathRules,
    representation_id: &str,
) -> Result<(), String> {
    let mut ctx = context.clone();
    let root: Map<String, Value> = rules
        .roots
        .iter()
        .map(|(n, v)| (n.to_owned(), Value::String(v.to_owned())))
        .collect();
    ctx.insert("root".to_owned(), Value::Object(root));
    let formatted = template
        .format(&ctx)
        .map_err(|e| format!("representation {representation_id}: {e}"))?;
    let is_root = |k: &&String| k.starts_with("root[");
    let missing_roots: Vec<&String> = formatted.missing_keys().iter().filter(is_root).collect();
    if rules.substitute && !missing_roots.is_empty() {
        let names: Vec<&str> = missing_roots
            .iter()
            .map(|k| k.trim_start_matches("root[").trim_end_matches(']'))
            .collect();
        return Err(format!(
            "representation {representation_id}: root `{}` is not defined by {} (template `{}`)",
            names.join("`, `"),
            rules.origin,
            template.as_str()
        ));
    }
    let missing: Vec<&str> = formatted
        .missing_keys()
        .iter()
        .filter(|k| !is_root(k))
        .map(String::as_str)
        .collect();
    let invalid = formatted.invalid_keys();
    if !missing.is_empty() || !invalid.is_empty() {
        let mut what = Vec::new();
        if !missing.is_empty() {
            what.push(format!("its context lacks {}", missing.join(", ")));
        }
        if !invalid.is_empty() {
            what.push(format!("cannot format {}", invalid.join(", ")));
        }
        return Err(format!(
            "representation {representation_id}: template `{}` cannot be filled: {}",
            template.as_str(),
            what.join("; ")
        ));
    }
    Ok(())
}
