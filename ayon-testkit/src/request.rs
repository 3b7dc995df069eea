//! What a request says outside its body: query values, headers and the site it comes from.

use axum::http::HeaderMap;

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

/// The site id of a request: `x-ayon-site-id`, else `?site_id=`, else `?site=`.
pub(crate) fn site_of(headers: &HeaderMap, query: &[(String, String)]) -> Option<String> {
    header(headers, "x-ayon-site-id")
        .or_else(|| query_value(query, "site_id"))
        .or_else(|| query_value(query, "site"))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Site ids the server accepts: `^[a-z0-9-]+$`.
pub(crate) fn valid_site_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
