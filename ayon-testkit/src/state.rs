//! State shared by the accept loop, the HTTP handlers, the websocket tasks and the handle.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use parking_lot::{Mutex, RwLock};
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

use crate::library::{Library, iso_now, new_id, stable_id};

/// What the listener does right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Accept and answer.
    Serving,
    /// Listener closed: connections refused.
    Refusing,
    /// Accept TCP but answer nothing until serving again.
    Booting,
    /// Listener closed for good.
    Stopped,
}

/// The listener phase plus the `hang(true)` override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Phase {
    pub mode: Mode,
    pub hang: bool,
}

impl Phase {
    /// Whether requests are answered now.
    pub fn answering(&self) -> bool {
        self.mode == Mode::Serving && !self.hang
    }
}

/// Timing and credentials fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub api_key: String,
    pub admin_password: String,
    pub heartbeat_interval: Duration,
    pub auth_grace: Duration,
    pub restart_refuse_for: Duration,
    pub boot_time: Duration,
}

/// A personal API key of a user (`POST /api/users/{name}/apikeys`).
#[derive(Debug, Clone)]
pub(crate) struct PersonalKey {
    pub id: String,
    pub label: String,
    pub preview: String,
    pub created: f64,
    pub expires: Value,
}

/// A user account.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub name: String,
    pub password: Option<String>,
    pub is_admin: bool,
    pub is_service: bool,
    pub full_name: String,
    pub created_at: String,
    /// Preview of the service key, for service users created over REST.
    pub api_key_preview: Option<String>,
    /// `data.apiKeys`; `None` reproduces the server bug (apikeys endpoints answer 500).
    pub personal_keys: Option<Vec<PersonalKey>>,
    /// Whether the user was created over REST (`createdBy` in data).
    pub created_by: Option<String>,
}

impl User {
    /// A user with defaults for everything but name and kind.
    pub fn new(name: &str, full_name: &str, is_admin: bool, is_service: bool) -> User {
        User {
            name: name.to_owned(),
            password: None,
            is_admin,
            is_service,
            full_name: full_name.to_owned(),
            created_at: iso_now(),
            api_key_preview: None,
            personal_keys: None,
            created_by: None,
        }
    }

    /// The user record as `/api/users/me` shows it.
    pub fn to_json(&self) -> Value {
        let hash = |seed: &str| format!("{}{}", stable_id(seed), stable_id(&format!("{seed}#")));
        let data = if self.is_service && self.created_by.is_some() {
            json!({"apiKey": hash(&self.name), "createdBy": self.created_by,
                   "isService": true, "apiKeyPreview": self.api_key_preview})
        } else if self.is_service {
            json!({"accessGroups": {}, "apiKey": hash(&self.name), "apiKeyPreview": "ayon***3f8f",
                   "defaultAccessGroups": [], "isService": true})
        } else {
            let mut d = json!({"isAdmin": self.is_admin, "password": hash(&self.name), "updatedBy": "admin"});
            if let Some(keys) = &self.personal_keys {
                d["apiKeys"] = keys
                    .iter()
                    .map(|k| {
                        json!({"id": k.id, "key": hash(&k.id), "label": k.label,
                                    "created": k.created, "preview": k.preview})
                    })
                    .collect();
            }
            d
        };
        json!({
            "name": self.name,
            "uiExposureLevel": 900,
            "attrib": {"fullName": self.full_name},
            "data": data,
            "active": true,
            "ownAttrib": ["fullName", "email", "avatarUrl", "developerMode"],
            "createdAt": self.created_at,
            "updatedAt": self.created_at,
        })
    }
}

/// Sessions, API keys and users.
#[derive(Debug, Default)]
pub(crate) struct AuthState {
    pub users: HashMap<String, User>,
    /// Session token -> user name.
    pub sessions: HashMap<String, String>,
    pub logged_out: HashSet<String>,
    /// API key -> user name.
    pub api_keys: HashMap<String, String>,
    /// API keys used on REST at least once: only these work as ws tokens.
    pub api_key_sessions: HashSet<String>,
    /// Unknown keys already answered "Invalid API key" once.
    pub invalid_keys: HashSet<String>,
}

/// A message for the websocket tasks.
#[derive(Debug, Clone)]
pub(crate) enum WsOut {
    /// Heartbeat tick: send a heartbeat if authorised, close if unauthenticated past the grace.
    Tick,
    /// An event, already serialised, with its topic and project for filtering.
    Event {
        topic: String,
        project: Option<String>,
        text: Arc<str>,
    },
    /// Close every socket with this code and reason (restart).
    Close { code: u16, reason: &'static str },
}

/// Everything the server shares.
pub(crate) struct Shared {
    pub config: Config,
    pub library: Arc<RwLock<Library>>,
    pub auth: Mutex<AuthState>,
    pub phase: watch::Sender<Phase>,
    /// Bumped to drop every connection at once (crash, stop, restart).
    pub kill: watch::Sender<u64>,
    /// Bumped by every fault that starts timed phases, so stale timers do nothing.
    pub epoch: AtomicU64,
    pub listening: AtomicBool,
    pub latency: Mutex<Duration>,
    /// HTTP requests being handled now, and the most at once since the last reset.
    pub in_flight: AtomicU64,
    pub max_in_flight: AtomicU64,
    /// Injected failures left, their status, and the one path they hit (`None`: any API path).
    pub fail_next: Mutex<(usize, u16, Option<String>)>,
    pub silence_ws: AtomicBool,
    pub counters: Mutex<HashMap<String, u64>>,
    pub resolved_uris: AtomicU64,
    pub ws_connections: AtomicU64,
    /// Open websocket count; `restart()` waits for it to drop to zero.
    pub ws_open: AtomicU64,
    /// Open websockets whose auth message was accepted (they receive heartbeats and events).
    pub ws_subscribed: AtomicU64,
    pub ws_tx: broadcast::Sender<WsOut>,
    pub started: Instant,
    /// Every event emitted, oldest first, for GraphQL `events` (at most [`EVENT_LOG_CAP`]).
    pub events: crate::graphql::EventLog,
    /// Nodes in the `edges` of every GraphQL answer: entity rows served.
    pub graphql_edges: AtomicU64,
}

/// Events kept for GraphQL `events`; the oldest go first.
pub(crate) const EVENT_LOG_CAP: usize = 100_000;

impl Shared {
    pub fn new(config: Config, library: Library) -> Shared {
        let mut auth = AuthState::default();
        let mut admin = User::new("admin", "Ayon admin", true, false);
        admin.password = Some(config.admin_password.clone());
        auth.users.insert("admin".into(), admin);
        auth.users.insert(
            "service".into(),
            User::new("service", "Service user", false, true),
        );
        auth.api_keys
            .insert(config.api_key.clone(), "service".to_owned());
        let (phase, _) = watch::channel(Phase {
            mode: Mode::Serving,
            hang: false,
        });
        let (kill, _) = watch::channel(0);
        let (ws_tx, _) = broadcast::channel(4096);
        Shared {
            config,
            library: Arc::new(RwLock::new(library)),
            auth: Mutex::new(auth),
            phase,
            kill,
            epoch: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            latency: Mutex::new(Duration::ZERO),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            fail_next: Mutex::new((0, 503, None)),
            silence_ws: AtomicBool::new(false),
            counters: Mutex::new(HashMap::new()),
            resolved_uris: AtomicU64::new(0),
            ws_connections: AtomicU64::new(0),
            ws_open: AtomicU64::new(0),
            ws_subscribed: AtomicU64::new(0),
            ws_tx,
            started: Instant::now(),
            events: Default::default(),
            graphql_edges: AtomicU64::new(0),
        }
    }

    /// Creates a session for a user and returns its 64-hex token.
    pub fn new_session(&self, user: &str) -> String {
        let token = format!("{}{}", new_id(), new_id());
        self.auth
            .lock()
            .sessions
            .insert(token.clone(), user.to_owned());
        token
    }

    /// Counts one request on a route key such as `GET /api/info`.
    pub fn count(&self, key: String) {
        *self.counters.lock().entry(key).or_insert(0) += 1;
    }

    /// Sends an event to the websocket clients, in the recorded shape.
    pub fn emit(
        &self,
        topic: &str,
        project: Option<&str>,
        user: Option<&str>,
        description: &str,
        summary: Value,
    ) {
        let now = iso_naive_now();
        let msg = json!({
            "id": new_id(),
            "topic": topic,
            "project": project,
            "user": user,
            "description": description,
            "summary": summary,
            "status": "finished",
            "progress": 100,
            "store": true,
            "sender": null,
            "senderType": if user.is_some() { Value::from("api") } else { Value::Null },
            "dependsOn": null,
            "createdAt": now,
            "updatedAt": now,
        });
        {
            let mut log = self.events.lock();
            if log.len() >= EVENT_LOG_CAP {
                log.remove(0);
            }
            log.push(msg.clone());
        }
        let _ = self.ws_tx.send(WsOut::Event {
            topic: topic.to_owned(),
            project: project.map(str::to_owned),
            text: Arc::from(msg.to_string()),
        });
    }

    /// Whether requests are answered right now.
    pub fn answering(&self) -> bool {
        self.phase.borrow().answering()
    }

    /// Sets the listener mode, keeping the hang override.
    pub fn set_mode(&self, mode: Mode) {
        self.phase.send_modify(|p| p.mode = mode);
    }

    /// Drops every open connection.
    pub fn kill_connections(&self) {
        self.kill.send_modify(|k| *k += 1);
    }

    /// Starts a new fault epoch; timers of older epochs stop acting.
    pub fn next_epoch(&self) -> u64 {
        self.epoch.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// Now as event messages write timestamps: naive, `2026-11-22T22:28:59.047371`.
pub(crate) fn iso_naive_now() -> String {
    humantime::format_rfc3339_micros(SystemTime::now())
        .to_string()
        .trim_end_matches('Z')
        .to_owned()
}
