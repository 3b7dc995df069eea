//! `GET /ws`: the event stream, with the real server's auth quirks and heartbeat cadence.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use crate::state::{Shared, WsOut};

/// Period of the protocol-level PING uvicorn sends.
const PING_EVERY: Duration = Duration::from_secs(20);

/// Topics delivered to every authorised client whatever it subscribed to.
const ALWAYS: [&str; 3] = ["heartbeat", "server.started", "server.restart_requested"];

/// Sends a tick to every websocket task each `heartbeat_interval`.
pub(crate) async fn heartbeat_loop(shared: Arc<Shared>) {
    let period = shared.config.heartbeat_interval;
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let _ = shared.ws_tx.send(WsOut::Tick);
    }
}

/// The upgrade handler; the handshake itself is not authenticated.
pub(crate) async fn ws_handler(
    State(shared): State<Arc<Shared>>,
    ws: WebSocketUpgrade,
) -> Response {
    shared.ws_connections.fetch_add(1, Ordering::SeqCst);
    ws.on_upgrade(move |socket| client(shared, socket))
}

struct Subscription {
    topics: Vec<String>,
    project: Option<String>,
}

impl Subscription {
    fn wants(&self, topic: &str, project: Option<&str>) -> bool {
        if ALWAYS.contains(&topic) {
            return true;
        }
        if let (Some(mine), Some(theirs)) = (&self.project, project)
            && !mine.eq_ignore_ascii_case(theirs)
        {
            return false;
        }
        self.topics
            .iter()
            .any(|t| t == "*" || topic.starts_with(t.as_str()))
    }
}

/// Keeps the open and subscribed gauges true however the socket task ends.
struct OpenGuard {
    shared: Arc<Shared>,
    subscribed: bool,
}

impl OpenGuard {
    fn subscribed(&mut self) {
        if !self.subscribed {
            self.subscribed = true;
            self.shared.ws_subscribed.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        if self.subscribed {
            self.shared.ws_subscribed.fetch_sub(1, Ordering::SeqCst);
        }
        self.shared.ws_open.fetch_sub(1, Ordering::SeqCst);
    }
}

fn check_token(shared: &Shared, token: &str) -> bool {
    let auth = shared.auth.lock();
    auth.sessions.contains_key(token) || auth.api_key_sessions.contains(token)
}

fn parse_auth(shared: &Shared, text: &str) -> Option<Subscription> {
    let msg: Value = serde_json::from_str(text).ok()?;
    if msg.get("topic").and_then(Value::as_str) != Some("auth") {
        return None;
    }
    let token = msg.get("token").and_then(Value::as_str)?;
    if !check_token(shared, token) {
        return None;
    }
    let topics = msg
        .get("subscribe")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let project = msg
        .get("project")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(Subscription { topics, project })
}

async fn client(shared: Arc<Shared>, socket: WebSocket) {
    shared.ws_open.fetch_add(1, Ordering::SeqCst);
    let mut guard = OpenGuard {
        shared: shared.clone(),
        subscribed: false,
    };
    let mut events = shared.ws_tx.subscribe();
    let mut kill = shared.kill.subscribe();
    kill.borrow_and_update();
    let connected = Instant::now();
    let mut sub: Option<Subscription> = None;
    let (mut sink, mut stream) = socket.split();
    // uvicorn's protocol-level keepalive: a 4-byte PING every 20 s.
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            _ = ping.tick() => {
                let silent = shared.silence_ws.load(Ordering::SeqCst) || !shared.answering();
                if !silent && sink.send(Message::Ping(vec![0, 0, 0, 1].into())).await.is_err() {
                    return;
                }
            }
            // A crash or stop: drop the socket with no close frame.
            _ = kill.changed() => return,
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    // Never acknowledged; a bad token leaves the client unauthenticated.
                    if let Some(s) = parse_auth(&shared, text.as_str()) {
                        sub = Some(s);
                        guard.subscribed();
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            out = events.recv() => {
                let silent = shared.silence_ws.load(Ordering::SeqCst) || !shared.answering();
                match out {
                    Ok(WsOut::Tick) => match &sub {
                        Some(_) if !silent
                            && sink
                                .send(Message::Text(r#"{"topic":"heartbeat"}"#.into()))
                                .await
                                .is_err() =>
                        {
                            return;
                        }
                        Some(_) => {}
                        None if connected.elapsed() >= shared.config.auth_grace => {
                            let _ = sink
                                .send(Message::Close(Some(CloseFrame { code: 1000, reason: "".into() })))
                                .await;
                            linger(&mut stream).await;
                            return;
                        }
                        None => {}
                    },
                    Ok(WsOut::Event { topic, project, text }) => {
                        if let Some(s) = &sub
                            && !silent
                            && s.wants(&topic, project.as_deref())
                            && sink.send(Message::Text(text.as_ref().into())).await.is_err()
                        {
                            return;
                        }
                    }
                    Ok(WsOut::Close { code, reason }) => {
                        let _ = sink
                            .send(Message::Close(Some(CloseFrame { code, reason: reason.into() })))
                            .await;
                        return;
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
            }
        }
    }
}

/// After sending a close frame, give the client a moment to answer it before dropping.
async fn linger(stream: &mut futures_util::stream::SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(Duration::from_millis(200), async {
        while let Some(Ok(msg)) = stream.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}
