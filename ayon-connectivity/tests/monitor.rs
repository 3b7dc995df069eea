//! The monitor against the loopback AYON test server, over real sockets.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ayon_connectivity::{ConnectionState, OfflineReason};
use ayon_testkit::TestServer;
use common::*;

#[test]
fn graceful_restart_is_offline_at_once_and_online_only_after_the_hang() {
    let server = server();
    let monitor = start(with_token(&server));
    let mut events = monitor.subscribe_events();
    online(&monitor, Duration::from_secs(5));
    subscribed(&server);
    let transitions = monitor.subscribe_transitions();

    let t0 = Instant::now();
    server.restart();
    let closed = Instant::now();
    let off = offline(&monitor, Duration::from_secs(2));
    assert!(
        off <= closed + Duration::from_millis(100),
        "offline {:?} after the close",
        off.saturating_duration_since(closed)
    );
    // Refused, then accepted-but-hanging: never online before the server serves again.
    let on = online(&monitor, Duration::from_secs(10));
    // The outage's first cause is the restart (announced, or the 1012 close), whatever the
    // reconnect attempts reported after it; every change is seen, in order.
    let seen = transitions_until(transitions, ConnectionState::is_online);
    let first_reason = seen.iter().find_map(|s| s.reason().cloned());
    assert!(
        matches!(
            first_reason,
            Some(
                OfflineReason::RestartAnnounced | OfflineReason::ClosedByServer { code: 1012, .. }
            )
        ),
        "{seen:?}"
    );
    // Between the close and online again, reconnects really failed (refused, then hanging).
    assert!(
        seen.iter().any(|s| matches!(
            s.reason(),
            Some(OfflineReason::Refused | OfflineReason::Timeout)
        )),
        "{seen:?}"
    );
    let down_for = on - t0;
    assert!(
        down_for >= REFUSE + BOOT - Duration::from_millis(20),
        "online again after only {down_for:?} (refuse {REFUSE:?} + boot {BOOT:?})"
    );
    assert!(
        down_for < REFUSE + BOOT + Duration::from_secs(2),
        "{down_for:?}"
    );
    // The announcement reached event subscribers.
    let mut topics = Vec::new();
    while let Ok(e) = events.try_recv() {
        topics.push(e.topic);
    }
    assert!(
        topics.iter().any(|t| t == "server.restart_requested"),
        "{topics:?}"
    );
}

#[test]
fn crash_is_offline_within_100ms() {
    let server = server();
    let monitor = start(with_token(&server));
    online(&monitor, Duration::from_secs(5));
    let transitions = monitor.subscribe_transitions();
    let t0 = Instant::now();
    server.crash();
    let crashed = Instant::now();
    let off = offline(&monitor, Duration::from_secs(2));
    assert!(
        off <= crashed + Duration::from_millis(100),
        "offline {:?} after the crash",
        off.saturating_duration_since(crashed)
    );
    let reason = first_offline_reason(transitions);
    assert!(
        matches!(reason, Some(OfflineReason::ConnectionLost(_))),
        "{reason:?}"
    );
    let on = online(&monitor, Duration::from_secs(10));
    assert!(
        on - t0 >= BOOT - Duration::from_millis(20),
        "online during the hang: {:?}",
        on - t0
    );
}

#[test]
fn silent_drop_is_offline_within_the_window_never_earlier() {
    let server = server();
    let window = Duration::from_secs(1);
    let monitor = start(with_token(&server).silence_window(window));
    online(&monitor, Duration::from_secs(5));
    // Let a few heartbeats arrive so the last one is at most one period old.
    std::thread::sleep(Duration::from_millis(300));
    let transitions = monitor.subscribe_transitions();
    let t0 = Instant::now();
    server.silence_ws(true);
    let off = offline(&monitor, window + Duration::from_secs(2));
    let after = off - t0;
    // The last message came about one heartbeat before the silence began; three allow for a
    // server tick delayed by a busy machine, and still fail a monitor that gives up at the
    // first missed heartbeat.
    assert!(
        after >= window - 3 * HEARTBEAT,
        "offline too early: {after:?}"
    );
    assert!(
        after <= window + Duration::from_secs(1),
        "offline too late: {after:?}"
    );
    assert_eq!(
        first_offline_reason(transitions),
        Some(OfflineReason::Silence { window })
    );
    server.silence_ws(false);
    online(&monitor, Duration::from_secs(5));
}

#[test]
fn bad_token_is_auth_rejected_at_once_over_rest() {
    let server = server();
    server.reset_counters();
    let monitor = start(config(&server.url()).token("0".repeat(64)));
    let t = wait_for(&monitor, Duration::from_secs(3), |s| {
        s.reason() == Some(&OfflineReason::AuthRejected)
    });
    assert!(t.is_some(), "{}", monitor.state());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(monitor.state().reason(), Some(&OfflineReason::AuthRejected));
    assert!(
        server.request_count("GET /api/users/me") <= 1,
        "retried while backing off"
    );
    assert!(
        server.ws_connection_count() <= 1,
        "{}",
        server.ws_connection_count()
    );
}

#[test]
fn bad_token_on_ws_alone_is_auth_rejected_without_a_tight_loop() {
    // Without the REST check, the only sign is the server's silent close 1000 after the grace.
    let server = server();
    server.reset_counters();
    let monitor = start(
        config(&server.url())
            .token("0".repeat(64))
            .confirm_auth_over_rest(false)
            .auth_rejected_backoff(Duration::from_secs(10)),
    );
    let t = wait_for(&monitor, Duration::from_secs(3), |s| {
        s.reason() == Some(&OfflineReason::AuthRejected)
    });
    assert!(t.is_some(), "{}", monitor.state());
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(monitor.state().reason(), Some(&OfflineReason::AuthRejected));
    assert_eq!(
        server.ws_connection_count(),
        1,
        "reconnected while backing off after auth failure"
    );
}

#[test]
fn good_token_on_ws_alone_turns_online_on_the_first_message() {
    let server = server();
    let monitor = start(with_token(&server).confirm_auth_over_rest(false));
    online(&monitor, Duration::from_secs(3));
    assert_eq!(server.request_count("GET /api/users/me"), 0);
    std::thread::sleep(GRACE * 3);
    assert!(monitor.is_online(), "{}", monitor.state());
}

#[test]
fn api_key_works_after_the_rest_call_and_events_arrive() {
    let server = server();
    let monitor = start(
        config(&server.url())
            .api_key(server.api_key())
            .subscribe(["entity.version"])
            .project("demo_offline"),
    );
    let mut events = monitor.subscribe_events();
    online(&monitor, Duration::from_secs(5));
    assert!(server.request_count("GET /api/users/me") >= 1);
    subscribed(&server);
    server.emit_event(
        "entity.folder.created",
        Some("demo_offline"),
        serde_json::json!({}),
    );
    server.emit_event(
        "entity.version.created",
        Some("other_project"),
        serde_json::json!({}),
    );
    server.emit_event(
        "entity.version.created",
        Some("demo_offline"),
        serde_json::json!({"entityId": "v1", "parentId": "p1"}),
    );
    let got = ayon_runtime::block_on(async move { events.recv().await }, Duration::from_secs(3))
        .expect("an event within 3 s")
        .expect("channel open");
    assert_eq!(got.topic, "entity.version.created");
    assert_eq!(got.project.as_deref(), Some("demo_offline"));
    assert_eq!(got.summary["entityId"], "v1");
    // Still online: the key was accepted on /ws (the server would have closed it otherwise).
    std::thread::sleep(GRACE * 2);
    assert!(monitor.is_online(), "{}", monitor.state());
}

#[test]
fn absent_server_is_refused_then_online_within_the_backoff_cap_once_started() {
    let port = free_port();
    let key = "abcdefghijklmnopqrstuvwxyz012345";
    let cap = Duration::from_millis(400);
    let monitor = start(
        config(&format!("http://127.0.0.1:{port}"))
            .api_key(key)
            .backoff(Duration::from_millis(50), cap),
    );
    let t = wait_for(&monitor, Duration::from_secs(3), |s| {
        s.reason() == Some(&OfflineReason::Refused)
    });
    assert!(t.is_some(), "{}", monitor.state());
    // Let the backoff reach its cap.
    std::thread::sleep(Duration::from_secs(2));
    let server = TestServer::builder()
        .port(port)
        .api_key(key)
        .heartbeat_interval(HEARTBEAT)
        .start()
        .expect("server on the same port");
    let started = Instant::now();
    let on = online(&monitor, Duration::from_secs(5));
    assert!(
        on - started <= cap + Duration::from_millis(300),
        "online after {:?}",
        on - started
    );
    drop(server);
}

#[test]
fn state_never_blocks_while_the_server_flaps() {
    let server = server();
    let monitor = start(with_token(&server));
    online(&monitor, Duration::from_secs(5));
    let flapping = Arc::new(AtomicBool::new(true));
    let flapper = {
        let server = server.clone();
        let flapping = Arc::clone(&flapping);
        std::thread::spawn(move || {
            let mut n = 0;
            while flapping.load(Ordering::SeqCst) {
                if n % 2 == 0 {
                    server.crash()
                } else {
                    server.restart()
                }
                n += 1;
                std::thread::sleep(Duration::from_millis(150));
            }
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let monitor = monitor.clone();
            std::thread::spawn(move || {
                let mut worst = Duration::ZERO;
                let mut kinds = std::collections::HashSet::new();
                for _ in 0..1000 {
                    let t = Instant::now();
                    let s = monitor.state();
                    worst = worst.max(t.elapsed());
                    kinds.insert(s.kind_str());
                    std::thread::sleep(Duration::from_micros(500));
                }
                (worst, kinds)
            })
        })
        .collect();
    let results: Vec<_> = readers
        .into_iter()
        .map(|r| r.join().expect("reader"))
        .collect();
    flapping.store(false, Ordering::SeqCst);
    flapper.join().expect("flapper");
    for (worst, kinds) in &results {
        // A blocking call would wait for a connect timeout (300 ms); scheduling noise is < 50 ms.
        assert!(
            *worst < Duration::from_millis(50),
            "a state() call took {worst:?}"
        );
        assert!(
            kinds.contains("offline"),
            "the server never looked down: {kinds:?}"
        );
    }
}

#[test]
fn report_failure_is_offline_at_once_then_rechecked() {
    let server = server();
    let monitor = start(with_token(&server));
    online(&monitor, Duration::from_secs(5));
    let mut rx = monitor.subscribe_state();
    rx.mark_unchanged();
    monitor.report_failure("GET /api/resolve timed out");
    // Synchronous: the very next read sees it.
    assert!(matches!(
        monitor.state().reason(),
        Some(OfflineReason::ReportedFailure(m)) if m.contains("timed out")
    ));
    assert!(rx.has_changed().expect("open"));
    // The server is fine, so the re-check brings it back quickly.
    online(&monitor, Duration::from_secs(2));
}

#[test]
fn probe_now_retries_at_once_during_a_long_backoff() {
    let port = free_port();
    let key = "abcdefghijklmnopqrstuvwxyz012345";
    let monitor = start(
        config(&format!("http://127.0.0.1:{port}"))
            .api_key(key)
            .backoff(Duration::from_secs(20), Duration::from_secs(30)),
    );
    wait_for(&monitor, Duration::from_secs(3), |s| {
        s.reason() == Some(&OfflineReason::Refused)
    })
    .expect("refused");
    let _server = TestServer::builder()
        .port(port)
        .api_key(key)
        .heartbeat_interval(HEARTBEAT)
        .start()
        .expect("server");
    // The first backoff delay may be anything up to 20 s; probe_now cuts it short.
    std::thread::sleep(Duration::from_millis(100));
    if !monitor.is_online() {
        monitor.probe_now();
    }
    online(&monitor, Duration::from_secs(2));
}

#[test]
fn dropping_the_last_handle_stops_reconnecting() {
    let port = free_port();
    let key = "abcdefghijklmnopqrstuvwxyz012345";
    let monitor = start(
        config(&format!("http://127.0.0.1:{port}"))
            .api_key(key)
            .backoff(Duration::from_millis(20), Duration::from_millis(50)),
    );
    let clone = monitor.clone();
    wait_for(&monitor, Duration::from_secs(3), |s| {
        s.reason() == Some(&OfflineReason::Refused)
    })
    .expect("refused");
    drop(monitor);
    drop(clone);
    std::thread::sleep(Duration::from_millis(100));
    let server = TestServer::builder()
        .port(port)
        .api_key(key)
        .start()
        .expect("server");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        server.ws_connection_count(),
        0,
        "a dropped monitor kept connecting"
    );
}

#[test]
fn shutdown_closes_and_reports_stopped() {
    let server = server();
    let monitor = start(with_token(&server));
    online(&monitor, Duration::from_secs(5));
    let other = monitor.clone();
    monitor.shutdown();
    assert_eq!(other.state().reason(), Some(&OfflineReason::Stopped));
    server.reset_counters();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.ws_connection_count(), 0);
    assert_eq!(other.state().reason(), Some(&OfflineReason::Stopped));
}

#[test]
fn callback_sees_changes_and_slow_subscribers_do_not_stall() {
    let server = server();
    let monitor = start(with_token(&server));
    let (tx, rx) = std::sync::mpsc::channel();
    monitor
        .on_state_change(move |s: &ConnectionState| {
            // A slow callback: must not delay the monitor.
            std::thread::sleep(Duration::from_millis(300));
            let _ = tx.send(s.kind_str());
        })
        .expect("callback thread");
    // An event subscriber that never reads.
    let _idle = monitor.subscribe_events();
    online(&monitor, Duration::from_secs(5));
    for _ in 0..50 {
        server.emit_event("entity.version.created", None, serde_json::json!({}));
    }
    let crashed = Instant::now();
    server.crash();
    let off = offline(&monitor, Duration::from_secs(2));
    assert!(
        off - crashed < Duration::from_millis(100),
        "{:?}",
        off - crashed
    );
    let mut seen = Vec::new();
    while let Ok(k) = rx.recv_timeout(Duration::from_secs(2)) {
        seen.push(k);
        if k == "offline" {
            break;
        }
    }
    assert!(seen.contains(&"offline"), "{seen:?}");
}

#[test]
fn plain_probe_answers_and_names_why_not() {
    let server = server();
    let info =
        ayon_connectivity::probe_blocking(&server.url(), Duration::from_secs(2)).expect("up");
    assert!(!info.version.is_empty());
    assert!(server.request_count("GET /api/info") >= 1);
    server.hang(true);
    let err = ayon_connectivity::probe_blocking(&server.url(), Duration::from_millis(300))
        .expect_err("hangs");
    assert_eq!(err.reason(), OfflineReason::Timeout, "{err}");
    server.hang(false);
    server.stop();
    let err = ayon_connectivity::probe_blocking(&server.url(), Duration::from_secs(2))
        .expect_err("stopped");
    assert_eq!(err.reason(), OfflineReason::Refused, "{err}");
    let err =
        ayon_connectivity::probe_blocking("http://does-not-exist.invalid", Duration::from_secs(2))
            .expect_err("no such host");
    assert!(matches!(err.reason(), OfflineReason::Dns(_)), "{err}");
}

#[test]
fn restart_announcement_is_offline_early_and_undone_if_the_server_stays() {
    let server = server();
    let window = Duration::from_secs(1);
    let monitor = start(with_token(&server).silence_window(window));
    online(&monitor, Duration::from_secs(5));
    subscribed(&server);
    let t0 = Instant::now();
    server.emit_event("server.restart_requested", None, serde_json::json!({}));
    offline(&monitor, Duration::from_secs(1));
    assert_eq!(
        monitor.state().reason(),
        Some(&OfflineReason::RestartAnnounced)
    );
    // No close follows and heartbeats continue: online again after one silence window.
    let on = online(&monitor, Duration::from_secs(3));
    assert!(on - t0 >= window, "online again after only {:?}", on - t0);
}
