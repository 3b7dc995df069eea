//! A representation's `filePath`: the server's `get_representation_path` (template filled with
//! the context, `context["root"]` set to the site's roots or to `{}`), then `os.path.normpath`,
//! `//` → `/`, and `/` → `\` for a Windows site.
//!
//! Where the server would hand out a wrong path (a required key missing from the context, a
//! root this site does not define) or fail the whole request (a context that is not an
//! object), the index answers a per-URI error naming the problem instead.

use std::collections::BTreeMap;

use serde_json::Value;

/// How paths are finished for this index: whose roots, which separators.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathRules {
    /// The roots to substitute; `None` leaves `{root[...]}` in place, as `resolveRoots=false`.
    pub(crate) roots: Option<BTreeMap<String, String>>,
    /// A Windows site: every `/` becomes `\`.
    pub(crate) windows: bool,
    /// Where the roots came from, for error messages (`site offline-test-linux (linux)`).
    pub(crate) roots_origin: String,
}

/// Fills `template` for one representation; `Err` is the per-URI error text.
pub(crate) fn render(
    template: &str,
    context: &str,
    rules: &PathRules,
    representation_id: &str,
) -> Result<String, String> {
    let context: Value = serde_json::from_str(context).map_err(|e| {
        format!("representation {representation_id} has an unreadable context in the index: {e}")
    })?;
    let Value::Object(_context) = context else {
        return Err(format!(
            "representation {representation_id} has no context object to fill its template \
             `{template}`"
        ));
    };
    Err(format!(
        "representation {representation_id}: path rendering is not available in this build \
         (roots from {}: {:?}, windows: {})",
        rules.roots_origin, rules.roots, rules.windows
    ))
}
