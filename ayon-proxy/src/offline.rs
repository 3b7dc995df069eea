//! Answers without the server: recorded reads (the caller's own, or public ones), resolves
//! from the prepared index, and clear refusals in AYON's error shape for the rest.

use hyper::Response;
use hyper::header::HeaderValue;

use crate::answer::{Body, OFFLINE_HEADER, error, json};
use crate::exchange::{Call, Kind};
use crate::identity::ANONYMOUS;
use crate::record::Recorded;
use crate::resolve::IndexAnswer;
use crate::server::Shared;
use crate::status::Count;
use crate::upstream::Failure;

/// What the store holds for a read, as this caller may see it.
pub(crate) enum Lookup {
    /// The caller's own answer, or a public one.
    Found(Recorded),
    /// Nothing for this user (named) or in public.
    Missing(String),
    /// Nothing in public, and the credential was never accepted: the caller is nobody.
    Unauthorized,
}

/// The caller's recorded answer: the user's own first, then the public one (what the server
/// gives anyone, so also to a user who never asked it).
pub(crate) fn lookup(shared: &Shared, call: &Call) -> Lookup {
    let user = match &call.presented {
        None => Some(ANONYMOUS.to_owned()),
        Some(p) => shared.identities.user_of(&p.credential),
    };
    if let Some(u) = &user
        && let Some(r) = shared.recorder.get(&call.key(shared, u, call.as_user()))
    {
        return Lookup::Found(r);
    }
    if user.as_deref() != Some(ANONYMOUS)
        && let Some(r) = shared.recorder.get(&call.key(shared, ANONYMOUS, None))
    {
        return Lookup::Found(r);
    }
    match user {
        Some(u) => Lookup::Missing(u),
        None => Lookup::Unauthorized,
    }
}

/// Marks a response the proxy gave without the server (every answer of this module).
fn marked(mut r: Response<Body>) -> Response<Body> {
    r.headers_mut()
        .insert(OFFLINE_HEADER, HeaderValue::from_static("1"));
    r
}

/// The answer while the server is unreachable (`failure`: the request that just found out).
pub(crate) fn offline(shared: &Shared, call: &Call, failure: Option<&Failure>) -> Response<Body> {
    let what = call.described();
    if call.kind == Kind::Write {
        shared.counters.bump(Count::WriteRefused);
        return marked(match failure {
            Some(f @ (Failure::Timeout(_) | Failure::Broken(_))) => error(
                504,
                format!(
                    "The AYON server did not answer {what} ({f}); ayon-proxy cannot tell whether \
                     the change was applied: check before retrying"
                ),
            ),
            _ => error(
                503,
                format!(
                    "The AYON server is unreachable, so {what} was not sent; ayon-proxy never \
                     queues changes: make it again when the server is back"
                ),
            ),
        });
    }
    if call.kind == Kind::Unrecorded {
        shared.counters.bump(Count::NotCached);
        return marked(error(
            503,
            format!(
                "The AYON server is unreachable and ayon-proxy does not record {what} (it \
                 records GET / and /api/..., GraphQL queries and resolves)"
            ),
        ));
    }
    let user = match lookup(shared, call) {
        Lookup::Found(recorded) => {
            shared.counters.bump(Count::ServedOffline);
            return recorded.into_response();
        }
        Lookup::Missing(user) => user,
        Lookup::Unauthorized => {
            shared.counters.bump(Count::UnauthorizedOffline);
            return marked(error(
                401,
                "The AYON server is unreachable and this credential was never accepted by it \
                 through ayon-proxy, so it cannot be checked offline",
            ));
        }
    };
    let mut index_said = String::new();
    let path_only = call
        .parts
        .uri
        .query()
        .is_some_and(|q| q.contains("pathOnly=true"));
    if call.kind == Kind::Resolve
        && !path_only
        && let Some(body) = &call.key_body
    {
        match shared.resolver.answer(body, call.header("x-ayon-site-id")) {
            IndexAnswer::Answer(v) => {
                shared.counters.bump(Count::ResolvedFromIndex);
                let mut r = marked(json(200, &v));
                r.headers_mut().insert(
                    "x-ayon-offline-source",
                    HeaderValue::from_static("prepared-index"),
                );
                return r;
            }
            IndexAnswer::Refused(status, detail) => return marked(error(status, detail)),
            IndexAnswer::Unknown(why) => index_said = format!("; the prepared index: {why}"),
        }
    }
    shared.counters.bump(Count::NotCached);
    let why = failure.map(|f| format!(" ({f})")).unwrap_or_default();
    marked(error(
        503,
        format!(
            "The AYON server is unreachable{why} and ayon-proxy has no recorded answer to \
             {what}{} for user `{user}`: it was never asked through the proxy while the server \
             was up{index_said}",
            call.label
        ),
    ))
}
