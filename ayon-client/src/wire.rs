//! The JSON shapes of the AYON endpoints we call, exactly as the real server sends them.

use serde::{Deserialize, Serialize};

use crate::resolution::ResolvedEntity;

/// Body of `POST /api/resolve`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveRequest<'a> {
    /// Always false: we substitute roots ourselves (a bad URI with roots on fails the whole batch).
    pub resolve_roots: bool,
    /// The URIs, at most 200.
    pub uris: &'a [String],
}

/// One element of the `/api/resolve` answer (one per input URI, same order).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ResolveItem {
    /// The input string verbatim.
    pub uri: String,
    /// The matches; empty for "not found" and for per-URI errors.
    #[serde(default)]
    pub entities: Vec<ResolvedEntity>,
    /// A per-URI error ("Project X not found", "Invalid version name: banana").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The error body of a whole-request failure; the server has several shapes
/// (`{code, detail}`, `{status, detail, traceback}`, validation errors with `errors`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorBody {
    /// The human-readable reason.
    #[serde(default)]
    pub detail: Option<String>,
    /// For validation errors: what was wrong.
    #[serde(default)]
    pub traceback: Option<String>,
}

impl ErrorBody {
    /// Best human-readable detail from any of the shapes (falls back to the raw body text).
    pub fn detail_from(body: &str) -> String {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(b) => match (b.detail.filter(|d| !d.is_empty()), b.traceback) {
                (Some(d), Some(t)) if d.starts_with("Request validation error") => {
                    format!("{d}: {t}")
                }
                (Some(d), _) => d,
                (None, _) => body.chars().take(200).collect(),
            },
            Err(_) => body.chars().take(200).collect(),
        }
    }
}

/// Body of `POST /api/auth/login`.
#[derive(Debug, Serialize)]
pub struct LoginRequest<'a> {
    /// User name.
    pub name: &'a str,
    /// Password.
    pub password: &'a str,
}

/// The part of the login answer we use.
#[derive(Debug, Deserialize)]
pub struct LoginResponse {
    /// The 64-hex session token.
    #[serde(default)]
    pub token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_parse_in_every_recorded_shape() {
        let body = r#"[
          {"uri":"a","entities":[{"projectName":"p","folderId":"f","filePath":"{root[work]}/x","target":"representation"}]},
          {"uri":"b","entities":[]},
          {"uri":"c","entities":[],"error":"Invalid version name: banana"},
          {"uri":"d","error":"Invalid scheme: "},
          {"uri":"e","entities":[{}]}
        ]"#;
        let items: Vec<ResolveItem> = serde_json::from_str(body).unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(items[0].entities[0].path(), Some("{root[work]}/x"));
        assert!(items[1].entities.is_empty() && items[1].error.is_none());
        assert_eq!(
            items[2].error.as_deref(),
            Some("Invalid version name: banana")
        );
        assert!(items[3].entities.is_empty());
        // An entity the server left empty still parses (its target from the deepest id: none).
        assert_eq!(
            items[4].entities[0],
            ResolvedEntity::new(ayon_uri::Target::Folder)
        );
    }

    #[test]
    fn request_is_camel_case() {
        let uris = vec!["ayon://p/a".to_owned()];
        let s = serde_json::to_string(&ResolveRequest {
            resolve_roots: false,
            uris: &uris,
        })
        .unwrap();
        assert_eq!(s, r#"{"resolveRoots":false,"uris":["ayon://p/a"]}"#);
    }

    #[test]
    fn error_details_from_every_shape() {
        assert_eq!(
            ErrorBody::detail_from(r#"{"code":400,"detail":"Site not found","status_code":404}"#),
            "Site not found"
        );
        assert_eq!(
            ErrorBody::detail_from(r#"{"status":500,"detail":"ValueError: x","traceback":"..."}"#),
            "ValueError: x"
        );
        assert_eq!(
            ErrorBody::detail_from(
                r#"{"code":400,"detail":"Request validation error in [POST] /api/resolve","traceback":"uris: field required"}"#
            ),
            "Request validation error in [POST] /api/resolve: uris: field required"
        );
        assert_eq!(
            ErrorBody::detail_from("<html>bad gateway</html>"),
            "<html>bad gateway</html>"
        );
    }
}
