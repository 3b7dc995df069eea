//! Helpers shared by the integration tests: short server timings and state polling.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use ayon_connectivity::{ConnectionState, Monitor, MonitorConfig, MonitorConfigBuilder};
use ayon_testkit::TestServer;

/// Test timings: heartbeats every 100 ms, unauthenticated sockets closed after 300 ms.
pub const HEARTBEAT: Duration = Duration::from_millis(100);
pub const GRACE: Duration = Duration::from_millis(300);
pub const REFUSE: Duration = Duration::from_millis(300);
pub const BOOT: Duration = Duration::from_millis(800);

pub fn server() -> TestServer {
    TestServer::builder()
        .heartbeat_interval(HEARTBEAT)
        .auth_grace(GRACE)
        .restart_refuse_for(REFUSE)
        .boot_time(BOOT)
        .start()
        .expect("test server starts")
}

/// A monitor config with short timings; the connect timeout (300 ms) is shorter than the boot
/// time so a hanging server is seen as down.
pub fn config(url: &str) -> MonitorConfigBuilder {
    MonitorConfig::builder(url)
        .silence_window(Duration::from_secs(1))
        .backoff(Duration::from_millis(50), Duration::from_millis(400))
        .auth_rejected_backoff(Duration::from_secs(30))
        .connect_timeout(Duration::from_millis(300))
        .probe_timeout(Duration::from_millis(500))
}

/// Starts a monitor from a test config builder.
pub fn start(builder: MonitorConfigBuilder) -> Monitor {
    Monitor::start(builder.build().expect("config"))
}

/// The test config for `server` with a valid session token.
pub fn with_token(server: &TestServer) -> MonitorConfigBuilder {
    config(&server.url()).token(server.session_token())
}

/// Polls `state()` every 200 µs until `pred` holds; the moment it first held.
pub fn wait_for(
    monitor: &Monitor,
    timeout: Duration,
    pred: impl Fn(&ConnectionState) -> bool,
) -> Option<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        if pred(&monitor.state()) {
            return Some(Instant::now());
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

pub fn online(monitor: &Monitor, timeout: Duration) -> Instant {
    wait_for(monitor, timeout, ConnectionState::is_online)
        .unwrap_or_else(|| panic!("not online within {timeout:?}: {}", monitor.state()))
}

pub fn offline(monitor: &Monitor, timeout: Duration) -> Instant {
    wait_for(monitor, timeout, |s| {
        matches!(s, ConnectionState::Offline { .. })
    })
    .unwrap_or_else(|| panic!("not offline within {timeout:?}: {}", monitor.state()))
}

/// Waits until the server has taken the monitor's ws auth message. Online is proven over REST
/// first, so without this an event emitted right after `online()` can reach no subscriber.
pub fn subscribed(server: &TestServer) {
    assert!(
        server.wait_ws_subscribed(1, Duration::from_secs(5)),
        "the monitor's websocket never subscribed"
    );
}

/// Every transition received until one satisfies `until` (included), waiting at most 5 s.
/// Reading `state()` instead races the reconnect attempts, which move an outage's reason on.
pub fn transitions_until(
    mut rx: tokio::sync::broadcast::Receiver<ConnectionState>,
    until: fn(&ConnectionState) -> bool,
) -> Vec<ConnectionState> {
    let collect = async move {
        let mut seen = Vec::new();
        loop {
            match rx.recv().await {
                Ok(s) => {
                    let done = until(&s);
                    seen.push(s);
                    if done {
                        return seen;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    panic!("transitions lagged by {n} after {seen:?}")
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return seen,
            }
        }
    };
    ayon_runtime::block_on(collect, Duration::from_secs(5)).expect("transitions within 5 s")
}

/// The reason of the first offline transition.
pub fn first_offline_reason(
    rx: tokio::sync::broadcast::Receiver<ConnectionState>,
) -> Option<ayon_connectivity::OfflineReason> {
    let seen = transitions_until(rx, |s| matches!(s, ConnectionState::Offline { .. }));
    seen.iter().find_map(|s| s.reason().cloned())
}

/// A port nothing listens on (bound then released).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}
