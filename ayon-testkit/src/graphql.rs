//! `POST /graphql`: the GraphQL subset ayon-python-api 1.2.25 sends, on async-graphql.
//!
//! Covered: `project(name:)` with `folders`, `products`, `versions` (`latestOnly`, `heroOnly`,
//! `heroOrLatestOnly`) and `representations` connections, the nested `version.product.folder`
//! chain of `RepresentationsParentsQuery`, Relay pagination (`first`/`after`/`last`/`before`)
//! and the real server's value quirks: `allAttrib`, `data`, `context` and `traits` are JSON
//! strings (sorted keys, `data` null when empty), a file `size` is a string, a folder `path`
//! starts with `/`, version names are `v001` / `HERO`.
//!
//! Also `tasks`, the `filter` argument (QueryFilter JSON: the scalar columns, `updatedAt` and
//! `createdAt` as instants), `events` (the log of what the testkit emitted) and `me`.
//!
//! Not covered (a validation error naming the field or argument): regex filters (`pathEx`,
//! `nameEx`), links, workfiles, users, activities.

mod events;
mod filter;
mod json;
mod nodes;
mod page;

use std::sync::{Arc, LazyLock};

use async_graphql::{
    EmptyMutation, EmptySubscription, ErrorExtensions, Object, Request, Schema, Variables,
};
use parking_lot::RwLock;
use serde_json::{Value, json};

use crate::library::Library;
pub(crate) use events::{EventLog, Me};
use events::{EventQuery, list_events};
use nodes::{EventsConnection, ProjectNode};
use page::PageArgs;

/// The schema type served at `/graphql`.
type AyonSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Built once: the schema is immutable, every request brings its own library handle.
static SCHEMA: LazyLock<AyonSchema> =
    LazyLock::new(|| Schema::build(Query, EmptyMutation, EmptySubscription).finish());

/// The root `Query` type.
pub(crate) struct Query;

/// A GraphQL error carrying the HTTP-ish status the server puts in `extensions.status`.
pub(crate) fn status_error(message: &str, status: u16) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("status", status))
}

#[Object]
impl Query {
    /// A project by name (case-insensitive) or code, as `ayon_server` resolves it.
    async fn project(
        &self,
        ctx: &async_graphql::Context<'_>,
        name: Option<String>,
        code: Option<String>,
    ) -> async_graphql::Result<ProjectNode> {
        if name.as_deref().unwrap_or("").is_empty() && code.as_deref().unwrap_or("").is_empty() {
            return Err(status_error("Either name or code must be provided.", 400));
        }
        let library = ctx.data::<Arc<RwLock<Library>>>()?;
        let lib = library.read();
        lib.projects
            .iter()
            .find(|p| {
                name.as_deref()
                    .is_none_or(|n| p.name.eq_ignore_ascii_case(n))
                    && code
                        .as_deref()
                        .is_none_or(|c| p.code.eq_ignore_ascii_case(c))
            })
            .map(|p| ProjectNode::new(Arc::clone(library), p))
            .ok_or_else(|| status_error("Project not found", 404))
    }

    /// The user asking.
    async fn me(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<Me> {
        Ok(ctx.data::<Me>()?.clone())
    }

    /// Recorded events, oldest first (see `events.rs` for the server's rules).
    #[allow(clippy::too_many_arguments)]
    async fn events(
        &self,
        ctx: &async_graphql::Context<'_>,
        topics: Option<Vec<String>>,
        projects: Option<Vec<String>>,
        users: Option<Vec<String>>,
        newer_than: Option<String>,
        older_than: Option<String>,
        #[graphql(name = "includeLogs")] include_logs: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<EventsConnection> {
        let query = EventQuery {
            topics,
            projects,
            users,
            newer_than,
            older_than,
            include_logs: include_logs.unwrap_or(false),
        };
        list_events(
            ctx.data::<EventLog>()?,
            ctx.data::<Me>()?,
            query,
            &PageArgs::new(first, after, last, before),
        )
    }
}

/// A request the server refuses before GraphQL sees it, in AYON's handled-error shape.
fn bad_request(detail: &str) -> (u16, Value) {
    (400, json!({"code": 400, "detail": detail}))
}

/// [`execute_as`] for an administrator with an empty event log.
#[cfg(test)]
pub(crate) async fn execute(library: Arc<RwLock<Library>>, body: Value) -> (u16, Value) {
    execute_as(library, EventLog::default(), Me::admin(), body).await
}

/// Nodes in every `edges` list of an answer: the entity rows a request cost the server.
pub(crate) fn edge_count(body: &Value) -> u64 {
    match body {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match (k.as_str(), v) {
                ("edges", Value::Array(list)) => list.len() as u64,
                _ => edge_count(v),
            })
            .sum(),
        Value::Array(list) => list.iter().map(edge_count).sum(),
        _ => 0,
    }
}

/// Executes one GraphQL request body against the library, the event log, for `me`; returns
/// the HTTP status and body.
///
/// GraphQL-level failures (syntax, unknown fields, `Project not found`) answer 200 with an
/// `errors` list, as strawberry does; a body without a `query` string answers 400.
pub(crate) async fn execute_as(
    library: Arc<RwLock<Library>>,
    events: EventLog,
    me: Me,
    body: Value,
) -> (u16, Value) {
    let Some(object) = body.as_object() else {
        return bad_request("GraphQL request body must be a JSON object");
    };
    let Some(query) = object.get("query").and_then(Value::as_str) else {
        return bad_request("No GraphQL query found in the request");
    };
    let mut request = Request::new(query).data(library).data(events).data(me);
    match object.get("variables") {
        None | Some(Value::Null) => {}
        Some(vars @ Value::Object(_)) => {
            request = request.variables(Variables::from_json(vars.clone()))
        }
        Some(_) => return bad_request("GraphQL variables must be a JSON object"),
    }
    if let Some(name) = object.get("operationName").and_then(Value::as_str) {
        request = request.operation_name(name);
    }
    let response = SCHEMA.execute(request).await;
    match serde_json::to_value(&response) {
        Ok(body) => (200, body),
        Err(e) => (
            500,
            json!({"status": 500, "detail": format!("GraphQL response not serializable: {e}")}),
        ),
    }
}

#[cfg(test)]
mod tests;
