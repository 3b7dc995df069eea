//! `events` and `me`: the recorded event log as the real server lists it
//! (`ayon_server/graphql/resolvers/events.py`), and the user asking.
//!
//! Followed from the server: `topics` are `LIKE` patterns (`entity.%.deleted`); without
//! `topics`, `log.*` events are left out; an empty list argument answers an empty connection;
//! `newerThan` / `olderThan` compare `createdAt` strictly and must be ISO timestamps; a user who
//! is not a manager (admins and services are) sees only the events they caused; events come in
//! creation order.

use std::sync::Arc;

use async_graphql::SimpleObject;
use parking_lot::Mutex;
use serde_json::Value;

use super::filter::like;
use super::nodes::EventsConnection;
use super::page::PageArgs;
use super::status_error;

/// Events the testkit emitted, oldest first, as the JSON the websocket carried.
pub(crate) type EventLog = Arc<Mutex<Vec<Value>>>;

/// The caller of a GraphQL request.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "UserNode")]
pub(crate) struct Me {
    pub(crate) name: String,
    pub(crate) active: bool,
    pub(crate) is_admin: bool,
    pub(crate) is_manager: bool,
    pub(crate) is_service: bool,
    pub(crate) is_guest: bool,
}

impl Me {
    /// An administrator (what the unit tests ask as).
    #[cfg(test)]
    pub(crate) fn admin() -> Me {
        Me {
            name: "admin".to_owned(),
            active: true,
            is_admin: true,
            is_manager: true,
            is_service: false,
            is_guest: false,
        }
    }
}

/// One event; `summary`, `data` and `payload` are JSON strings as on the server.
#[derive(Debug, Clone, SimpleObject)]
pub(crate) struct EventNode {
    id: String,
    hash: String,
    topic: String,
    project: Option<String>,
    user: Option<String>,
    sender: Option<String>,
    depends_on: Option<String>,
    status: String,
    retries: i32,
    description: String,
    summary: String,
    created_at: String,
    updated_at: String,
    data: Option<String>,
    payload: Option<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl EventNode {
    fn from_json(v: &Value) -> EventNode {
        let id = text(v, "id").unwrap_or_default();
        EventNode {
            hash: id.clone(),
            id,
            topic: text(v, "topic").unwrap_or_default(),
            project: text(v, "project"),
            user: text(v, "user"),
            sender: text(v, "sender"),
            depends_on: text(v, "dependsOn"),
            status: text(v, "status").unwrap_or_else(|| "finished".to_owned()),
            retries: 0,
            description: text(v, "description").unwrap_or_default(),
            summary: v
                .get("summary")
                .map_or_else(|| "{}".to_owned(), Value::to_string),
            created_at: text(v, "createdAt").unwrap_or_default(),
            updated_at: text(v, "updatedAt").unwrap_or_default(),
            data: None,
            payload: None,
        }
    }
}

/// The arguments of `events` the testkit honours.
#[derive(Debug, Default)]
pub(crate) struct EventQuery {
    pub(crate) topics: Option<Vec<String>>,
    pub(crate) projects: Option<Vec<String>>,
    pub(crate) users: Option<Vec<String>>,
    pub(crate) newer_than: Option<String>,
    pub(crate) older_than: Option<String>,
    pub(crate) include_logs: bool,
}

fn instant(text: &str) -> async_graphql::Result<i64> {
    ayon_site::parse_server_time_micros(text)
        .ok_or_else(|| status_error(&format!("Invalid isoformat string: '{text}'"), 400))
}

/// `events(...)` over the log, for `me`.
pub(crate) fn list_events(
    log: &EventLog,
    me: &Me,
    mut q: EventQuery,
    page: &PageArgs,
) -> async_graphql::Result<EventsConnection> {
    let newer = q.newer_than.as_deref().map(instant).transpose()?;
    let older = q.older_than.as_deref().map(instant).transpose()?;
    if !me.is_manager {
        q.users = Some(vec![me.name.clone()]);
    }
    if [&q.topics, &q.projects, &q.users]
        .iter()
        .any(|l| l.as_ref().is_some_and(Vec::is_empty))
    {
        return Ok(EventsConnection::empty());
    }
    let in_list = |list: &Option<Vec<String>>, v: Option<&str>| {
        list.as_ref()
            .is_none_or(|l| v.is_some_and(|v| l.iter().any(|x| x == v)))
    };
    let log = log.lock();
    let items = log
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            let topic = e.get("topic").and_then(Value::as_str).unwrap_or_default();
            let created = e
                .get("createdAt")
                .and_then(Value::as_str)
                .and_then(ayon_site::parse_server_time_micros);
            let topic_ok = match &q.topics {
                Some(patterns) => patterns.iter().any(|p| like(topic, p)),
                None => q.include_logs || !topic.starts_with("log."),
            };
            topic_ok
                && in_list(&q.projects, e.get("project").and_then(Value::as_str))
                && in_list(&q.users, e.get("user").and_then(Value::as_str))
                && newer.is_none_or(|n| created.is_some_and(|c| c > n))
                && older.is_none_or(|o| created.is_some_and(|c| c < o))
        })
        .map(|(i, e)| (i + 1, e))
        .collect();
    Ok(EventsConnection::page(items, page, EventNode::from_json))
}
