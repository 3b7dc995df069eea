//! The websocket monitor: one background task per [`Monitor`], on the library runtime.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::config::MonitorConfig;
use crate::event::ServerEvent;
use crate::probe::{http_client, reason_from_reqwest};
use crate::state::{ConnectionState, OfflineReason, StateCell};
use ayon_runtime as runtime;
use ayon_site::Credential;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What a handle asks the background task to do.
enum Command {
    ProbeNow,
    ReportFailure(String),
    Shutdown,
}

/// State shared by the handles and the task.
struct Shared {
    config: MonitorConfig,
    state: StateCell,
    events: broadcast::Sender<ServerEvent>,
    http: reqwest::Client,
}

/// Dropping the last handle drops the command sender, which ends the task.
struct Inner {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedSender<Command>,
}

/// Watches one AYON server; cheap to clone, `Send + Sync`, stops when the last clone drops or
/// on [`Monitor::shutdown`].
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("server", &self.inner.shared.config.server_url())
            .field("state", &self.state())
            .finish()
    }
}

impl Monitor {
    /// Starts watching on the library runtime. Never blocks; the state is `Unknown` until the
    /// first attempt ends. If the runtime cannot be built the monitor stays offline with that
    /// reason (no panic).
    pub fn start(config: MonitorConfig) -> Monitor {
        let (events, _) = broadcast::channel(config.event_capacity);
        let http = http_client(config.probe_timeout);
        let shared = Arc::new(Shared {
            config,
            state: StateCell::new(),
            events,
            http,
        });
        let (commands, rx) = mpsc::unbounded_channel();
        match runtime::handle() {
            Ok(handle) => {
                handle.spawn(run(Arc::clone(&shared), rx));
            }
            Err(e) => shared
                .state
                .set_offline(OfflineReason::Other(e.to_string())),
        }
        Monitor {
            inner: Arc::new(Inner { shared, commands }),
        }
    }

    /// The current state, from an atomic cell: never blocks, never does I/O.
    pub fn state(&self) -> ConnectionState {
        self.inner.shared.state.get()
    }

    /// `state().is_online()` without cloning the state (one atomic load).
    pub fn is_online(&self) -> bool {
        self.inner.shared.state.is_online()
    }

    /// A receiver that sees every state change (only the latest if it falls behind).
    pub fn subscribe_state(&self) -> watch::Receiver<ConnectionState> {
        self.inner.shared.state.subscribe()
    }

    /// Every state change in order, for hosts that log each outage cause (an outage's reason
    /// moves on, e.g. closed 1012, then refused while the server restarts). A receiver more
    /// than 256 changes behind gets `Lagged` and skips ahead; it never slows the monitor. A
    /// change is in this stream before `state()` returns it.
    pub fn subscribe_transitions(&self) -> broadcast::Receiver<ConnectionState> {
        self.inner.shared.state.subscribe_transitions()
    }

    /// The current state and every change after it, taken together: unlike
    /// [`subscribe_transitions`](Self::subscribe_transitions) then [`state`](Self::state), no
    /// change that happens meanwhile is missed or seen twice. A host shows the state, then
    /// applies each change as it comes.
    pub fn state_and_transitions(&self) -> (ConnectionState, broadcast::Receiver<ConnectionState>) {
        self.inner.shared.state.state_and_transitions()
    }

    /// Server events for the configured topics. A receiver that falls more than the configured
    /// capacity behind gets `Lagged` and skips ahead; it never slows the monitor.
    pub fn subscribe_events(&self) -> broadcast::Receiver<ServerEvent> {
        self.inner.shared.events.subscribe()
    }

    /// Calls `callback` with each new state on a dedicated thread (for hosts without async
    /// code). A slow callback only delays its own thread; it sees the latest state when it
    /// catches up. The thread ends when the monitor stops.
    pub fn on_state_change<F>(&self, mut callback: F) -> std::io::Result<()>
    where
        F: FnMut(&ConnectionState) + Send + 'static,
    {
        let mut rx = self.subscribe_state();
        let handle = runtime::handle().map_err(std::io::Error::other)?;
        std::thread::Builder::new()
            .name("ayon-state-callback".to_owned())
            .spawn(move || {
                // A plain thread, so `Handle::block_on` is allowed; ends when the monitor stops.
                while handle.block_on(rx.changed()).is_ok() {
                    let state = rx.borrow_and_update().clone();
                    callback(&state);
                }
            })
            .map(|_| ())
    }

    /// Asks for an immediate check: a reconnect attempt now if offline, a ping answered within
    /// the probe timeout if online. Returns at once; watch the state for the outcome.
    pub fn probe_now(&self) {
        let _ = self.inner.commands.send(Command::ProbeNow);
    }

    /// Tells the monitor a request to the server failed for a transport reason (timeout,
    /// refused). The state turns offline at once, so later calls do not wait, and the monitor
    /// re-checks the connection right away.
    pub fn report_failure(&self, what: impl Into<String>) {
        let what = what.into();
        self.inner
            .shared
            .state
            .set_offline(OfflineReason::ReportedFailure(what.clone()));
        let _ = self.inner.commands.send(Command::ReportFailure(what));
    }

    /// Stops the monitor for every handle: closes the websocket and sets `Offline(Stopped)`.
    pub fn shutdown(&self) {
        let _ = self.inner.commands.send(Command::Shutdown);
        self.inner.shared.state.set_offline(OfflineReason::Stopped);
    }

    /// The configuration the monitor runs with.
    pub fn config(&self) -> &MonitorConfig {
        &self.inner.shared.config
    }
}

/// Why a session or attempt ended, and whether the task must stop.
enum Ended {
    Offline(OfflineReason),
    Stop,
}

/// The reconnect schedule: capped exponential (backon) with full jitter on top.
struct Backoff {
    config: (Duration, Duration),
    schedule: backon::ExponentialBackoff,
}

impl Backoff {
    fn new(initial: Duration, cap: Duration) -> Backoff {
        Backoff {
            config: (initial, cap),
            schedule: Self::schedule(initial, cap),
        }
    }

    fn schedule(initial: Duration, cap: Duration) -> backon::ExponentialBackoff {
        backon::ExponentialBuilder::default()
            .with_min_delay(initial)
            .with_max_delay(cap)
            .with_factor(2.0)
            .without_max_times()
            .build()
    }

    fn reset(&mut self) {
        self.schedule = Self::schedule(self.config.0, self.config.1);
    }

    /// Next delay: uniform in `[0, min(cap, initial * 2^n)]` ("full jitter").
    fn next(&mut self) -> Duration {
        let ceiling = self.schedule.next().unwrap_or(self.config.1);
        ceiling.mul_f64(fastrand::f64())
    }
}

async fn run(shared: Arc<Shared>, mut commands: mpsc::UnboundedReceiver<Command>) {
    let config = &shared.config;
    let mut backoff = Backoff::new(config.backoff_initial, config.backoff_cap);
    loop {
        let attempt = attempt(&shared);
        tokio::pin!(attempt);
        let connected = loop {
            tokio::select! {
                result = &mut attempt => break result,
                command = commands.recv() => match command {
                    None | Some(Command::Shutdown) => return stop(&shared),
                    // An attempt is already running: that is the check asked for.
                    Some(Command::ProbeNow | Command::ReportFailure(_)) => {}
                },
            }
        };
        let reason = match connected {
            Ok(connection) => {
                match session(&shared, connection, &mut commands, &mut backoff).await {
                    Ended::Stop => return stop(&shared),
                    Ended::Offline(reason) => reason,
                }
            }
            Err(reason) => reason,
        };
        tracing::info!(server = %config.server_url(), %reason, "ayon server offline");
        shared.state.set_offline(reason.clone());
        let delay = match reason {
            OfflineReason::AuthRejected => config.auth_rejected_backoff,
            OfflineReason::ReportedFailure(_) => Duration::ZERO,
            _ => backoff.next(),
        };
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                command = commands.recv() => match command {
                    None | Some(Command::Shutdown) => return stop(&shared),
                    Some(Command::ProbeNow) => break,
                    Some(Command::ReportFailure(_)) => {}
                },
            }
        }
    }
}

fn stop(shared: &Shared) {
    shared.state.set_offline(OfflineReason::Stopped);
}

/// A websocket that completed its handshake and got the auth message.
struct Connection {
    ws: Ws,
    /// An authenticated REST call succeeded, so the credential is known to be good.
    auth_confirmed: bool,
}

/// DNS, TCP, TLS and the websocket handshake within the connect timeout, then the REST auth
/// call where needed, then the auth message.
async fn attempt(shared: &Shared) -> Result<Connection, OfflineReason> {
    let config = &shared.config;
    let mut ws = tokio::time::timeout(config.connect_timeout, open_ws(config))
        .await
        .map_err(|_| OfflineReason::Timeout)??;
    let needs_rest =
        matches!(config.credential, Credential::ApiKey(_)) || config.confirm_auth_over_rest;
    let auth_confirmed = if needs_rest {
        rest_auth(shared).await?
    } else {
        false
    };
    let auth = serde_json::json!({
        "topic": "auth",
        "token": config.credential.secret().expose(),
        "subscribe": config.subscribe,
        "project": config.project,
    });
    tokio::time::timeout(
        config.probe_timeout,
        ws.send(Message::Text(auth.to_string().into())),
    )
    .await
    .map_err(|_| OfflineReason::Timeout)?
    .map_err(reason_from_ws)?;
    Ok(Connection { ws, auth_confirmed })
}

async fn open_ws(config: &MonitorConfig) -> Result<Ws, OfflineReason> {
    let url = &config.ws_url;
    let host = url
        .host_str()
        .ok_or_else(|| OfflineReason::Other(format!("no host in {url}")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<_> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| OfflineReason::Dns(format!("{host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(OfflineReason::Dns(format!("{host}: no addresses")));
    }
    let mut last = OfflineReason::Refused;
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = OfflineReason::Refused;
            }
            Err(e) => last = OfflineReason::ConnectionLost(format!("connect to {addr}: {e}")),
        }
    }
    let stream = stream.ok_or(last)?;
    let _ = stream.set_nodelay(true);
    let request = url
        .as_str()
        .into_client_request()
        .map_err(|e| OfflineReason::Other(format!("websocket request for {url}: {e}")))?;
    let (ws, _response) =
        tokio_tungstenite::client_async_tls_with_config(request, stream, None, None)
            .await
            .map_err(reason_from_ws)?;
    Ok(ws)
}

/// One authenticated REST call: proves the credential and, for an API key, creates the session
/// `/ws` checks. `Ok(false)` when the server has no such route (cannot confirm).
async fn rest_auth(shared: &Shared) -> Result<bool, OfflineReason> {
    let config = &shared.config;
    let url = config
        .api_url("api/users/me")
        .map_err(OfflineReason::Other)?;
    let request = shared.http.get(url);
    let request = match &config.credential {
        Credential::Token(t) => request.bearer_auth(t.expose()),
        Credential::ApiKey(k) => request.header("x-api-key", k.expose()),
    };
    let response = request.send().await.map_err(|e| reason_from_reqwest(&e))?;
    match response.status().as_u16() {
        200..=299 => Ok(true),
        401 | 403 => Err(OfflineReason::AuthRejected),
        404 => Ok(false),
        other => Err(OfflineReason::HttpStatus(other)),
    }
}

fn reason_from_ws(e: tungstenite::Error) -> OfflineReason {
    match e {
        tungstenite::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            OfflineReason::Refused
        }
        tungstenite::Error::Io(io) => OfflineReason::ConnectionLost(io.to_string()),
        tungstenite::Error::Tls(t) => OfflineReason::Tls(t.to_string()),
        tungstenite::Error::Http(response) => OfflineReason::HttpStatus(response.status().as_u16()),
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            OfflineReason::ConnectionLost("connection closed".to_owned())
        }
        tungstenite::Error::Protocol(p) => OfflineReason::ConnectionLost(p.to_string()),
        other => OfflineReason::Other(other.to_string()),
    }
}

/// Reads the connection until it ends; returns why.
async fn session(
    shared: &Shared,
    connection: Connection,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    backoff: &mut Backoff,
) -> Ended {
    let config = &shared.config;
    let Connection { ws, auth_confirmed } = connection;
    let (mut sink, mut stream) = ws.split();
    let mut online = false;
    let mut got_text = false;
    // A restart announcement makes us offline early; if the server keeps talking for a whole
    // silence window afterwards (restart called off), it is online again.
    let mut restart_announced: Option<Instant> = None;
    let mut go_online = |online: &mut bool| {
        if !*online {
            *online = true;
            backoff.reset();
            shared.state.set_online();
            tracing::info!(server = %config.server_url(), "ayon server online");
        }
    };
    if auth_confirmed {
        go_online(&mut online);
    }
    let mut last_rx = Instant::now();
    let mut ping_deadline: Option<tokio::time::Instant> = None;
    loop {
        let silence_at = tokio::time::Instant::from_std(last_rx + config.silence_window);
        let (deadline, is_ping) = match ping_deadline {
            Some(p) if p < silence_at => (p, true),
            _ => (silence_at, false),
        };
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                None | Some(Command::Shutdown) => {
                    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
                    return Ended::Stop;
                }
                Some(Command::ProbeNow) => {
                    if ping_deadline.is_none() {
                        if let Err(e) = sink.send(Message::Ping(Vec::new().into())).await {
                            return Ended::Offline(reason_from_ws(e));
                        }
                        ping_deadline = Some(tokio::time::Instant::now() + config.probe_timeout);
                    }
                }
                Some(Command::ReportFailure(what)) => {
                    let _ = tokio::time::timeout(Duration::from_millis(200), sink.close()).await;
                    return Ended::Offline(OfflineReason::ReportedFailure(what));
                }
            },
            message = stream.next() => {
                let message = match message {
                    None => return Ended::Offline(OfflineReason::ConnectionLost("end of stream".to_owned())),
                    Some(Err(e)) => return Ended::Offline(reason_from_ws(e)),
                    Some(Ok(m)) => m,
                };
                last_rx = Instant::now();
                ping_deadline = None;
                match message {
                    Message::Text(text) => {
                        got_text = true;
                        if let Some(event) = ServerEvent::from_ws_text(text.as_str()) {
                            if event.topic == "server.restart_requested" {
                                restart_announced = Some(Instant::now());
                                shared.state.set_offline(OfflineReason::RestartAnnounced);
                            }
                            // No subscriber is fine; a lagging one skips, never blocks us.
                            let _ = shared.events.send(event);
                        }
                        if restart_announced.is_none_or(|t| t.elapsed() >= config.silence_window) {
                            if restart_announced.take().is_some() {
                                online = false;
                            }
                            go_online(&mut online);
                        }
                    }
                    Message::Close(frame) => {
                        let (code, reason) = frame
                            .map(|f| (u16::from(f.code), f.reason.as_str().to_owned()))
                            .unwrap_or((1005, String::new()));
                        // /ws never says no: it closes with 1000 without a word.
                        let reason = if code == 1000 && !got_text && !auth_confirmed {
                            OfflineReason::AuthRejected
                        } else {
                            OfflineReason::ClosedByServer { code, reason }
                        };
                        return Ended::Offline(reason);
                    }
                    Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_) => {}
                }
            },
            () = tokio::time::sleep_until(deadline) => {
                return Ended::Offline(if is_ping {
                    OfflineReason::Timeout
                } else {
                    OfflineReason::Silence { window: config.silence_window }
                });
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_full_jitter() {
        let initial = Duration::from_millis(250);
        let cap = Duration::from_secs(30);
        let mut b = Backoff::new(initial, cap);
        let delays: Vec<_> = (0..40).map(|_| b.next()).collect();
        for (n, d) in delays.iter().enumerate() {
            let ceiling = initial.saturating_mul(1u32 << n.min(20)).min(cap);
            assert!(*d <= ceiling, "attempt {n}: {d:?} > {ceiling:?}");
        }
        // Full jitter: late delays spread over [0, cap], not bunched at the cap.
        let late = &delays[20..];
        assert!(late.iter().any(|d| *d < cap / 2), "{late:?}");
        assert!(late.iter().any(|d| *d > cap / 2), "{late:?}");
        b.reset();
        assert!(b.next() <= initial);
    }
}
