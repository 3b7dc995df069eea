//! Server events forwarded from `/ws` to subscribers.

use std::time::SystemTime;

/// One message the server pushed (heartbeats excluded), as needed to invalidate caches.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    /// e.g. `entity.version.created`, `server.restart_requested`.
    pub topic: String,
    /// The project the event belongs to, when it is project-scoped.
    pub project: Option<String>,
    /// The server's `summary` object (`entityId`, `parentId`, ...), `Null` when absent.
    pub summary: serde_json::Value,
    /// The server's human-readable `description`, when present.
    pub description: Option<String>,
    /// The event id, when the server stored the event.
    pub id: Option<String>,
    /// When this process received it.
    pub received_at: SystemTime,
}

impl ServerEvent {
    /// Reads a `/ws` text message; `None` for heartbeats and for text that is not an event.
    pub(crate) fn from_ws_text(text: &str) -> Option<ServerEvent> {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let topic = value.get("topic")?.as_str()?;
        if topic == "heartbeat" {
            return None;
        }
        let string = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        Some(ServerEvent {
            topic: topic.to_owned(),
            project: string("project"),
            summary: value
                .get("summary")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            description: string("description"),
            id: string("id"),
            received_at: SystemTime::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_event_and_skips_heartbeats() {
        assert!(ServerEvent::from_ws_text(r#"{"topic":"heartbeat"}"#).is_none());
        assert!(ServerEvent::from_ws_text("not json").is_none());
        let e = ServerEvent::from_ws_text(
            r#"{"id":"abc","topic":"entity.version.created","project":"demo_offline",
               "description":"Version v001 created","summary":{"entityId":"e1","parentId":"p1"}}"#,
        )
        .expect("event");
        assert_eq!(e.topic, "entity.version.created");
        assert_eq!(e.project.as_deref(), Some("demo_offline"));
        assert_eq!(e.summary["entityId"], "e1");
        assert_eq!(e.id.as_deref(), Some("abc"));
    }
}
