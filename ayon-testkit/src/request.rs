//! What a request says outside its body: query values, headers and the site it comes from.

use axum::http::HeaderMap;
use axum::response::Response;

use crate::respond::error;

/// The first value of a query key.
pub(crate) fn query_value<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A header's value, when it is text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The site id of a request as the server's `ClientSiteID` dependency reads it
/// (`dep_client_site_id`): `?site_id=`, else `?site=`, else the `x-ayon-site-id` header, each
/// taken only when not blank, except that a blank header is the answer when nothing else is
/// given; then `validate_site_id`: blank is "Site id cannot be empty", anything not matching
/// `^[a-z0-9-]+$` is "Invalid site id: ..." (both 400).
pub(crate) fn client_site_id(
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<Option<String>, Box<Response>> {
    // FastAPI reads a repeated query key's last value, a repeated header's first.
    let last = |key: &str| {
        query
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let site = [last("site_id"), last("site")]
        .into_iter()
        .flatten()
        .find(|s| !s.is_empty())
        .or_else(|| header(headers, "x-ayon-site-id"));
    match site {
        None => Ok(None),
        Some("") => Err(Box::new(error(400, "Site id cannot be empty"))),
        Some(s) if !valid_site_id(s) => Err(Box::new(error(400, format!("Invalid site id: {s}")))),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// Site ids the server accepts: Python's `re.match(r"^[a-z0-9-]+$", id)`, whose `$` also
/// matches before one final newline.
pub(crate) fn valid_site_id(id: &str) -> bool {
    let id = id.strip_suffix('\n').unwrap_or(id);
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
