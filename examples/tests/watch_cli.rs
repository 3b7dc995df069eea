//! Runs the real `ayon watch` binary against the loopback test server.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ayon_testkit::TestServer;
use serde_json::Value;

fn watch(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_ayon"))
        .args(args)
        .env_remove("AYON_SERVER_URL")
        .env_remove("AYON_API_KEY")
        .env_remove("AYON_PROJECT_NAME")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ayon binary runs")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn json_lines_for_state_changes_and_events_then_exit_after_for() {
    let server = TestServer::builder()
        .heartbeat_interval(Duration::from_millis(100))
        .start()
        .expect("server");
    let url = server.url();
    let token = server.session_token();
    let started = Instant::now();
    let child = watch(&[
        "--server",
        &url,
        "--api-key",
        &token,
        "--project",
        "demo_offline",
        "--json",
        "watch",
        "--for",
        "2",
    ]);
    // Wait until the binary's websocket is authenticated, then publish an event.
    assert!(
        server.wait_ws_subscribed(1, Duration::from_secs(5)),
        "ayon watch never subscribed"
    );
    server.emit_event(
        "entity.version.created",
        Some("demo_offline"),
        serde_json::json!({"entityId": "abc"}),
    );
    server.emit_event(
        "entity.version.created",
        Some("another_project"),
        serde_json::json!({}),
    );
    let out = child.wait_with_output().expect("exits");
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "ran {took:?}"
    );
    let lines = json_lines(&out);
    assert!(
        lines
            .iter()
            .all(|l| l["time"].as_str().is_some_and(|t| t.ends_with('Z'))),
        "{lines:?}"
    );
    let states: Vec<&str> = lines
        .iter()
        .filter(|l| l["type"] == "state")
        .filter_map(|l| l["state"].as_str())
        .collect();
    // The first line is the state at start: `unknown`, or `online` if the monitor got there
    // before the command printed it.
    assert!(
        matches!(states.first(), Some(&"unknown" | &"online")),
        "{lines:?}"
    );
    assert!(states.contains(&"online"), "{lines:?}");
    let events: Vec<&Value> = lines.iter().filter(|l| l["type"] == "event").collect();
    assert_eq!(events.len(), 1, "only the project's event: {lines:?}");
    assert_eq!(events[0]["topic"], "entity.version.created");
    assert_eq!(events[0]["summary"]["entityId"], "abc");
    // The token never reaches the output.
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&token));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&token));
}

#[test]
fn text_lines_name_why_the_server_is_offline() {
    let server = TestServer::builder().start().expect("server");
    let url = server.url();
    server.stop();
    let child = watch(&[
        "--server",
        &url,
        "--api-key",
        "abcdefghijklmnopqrstuvwxyz012345",
        "watch",
        "--for",
        "1",
    ]);
    let out = child.wait_with_output().expect("exits");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains("state  unknown") || l.contains("state  offline")),
        "{text}"
    );
    assert!(
        text.contains("state  offline since") && text.contains("connection refused"),
        "{text}"
    );
}

#[test]
fn missing_server_is_a_usage_error() {
    let out = watch(&["--api-key", "k", "watch", "--for", "1"])
        .wait_with_output()
        .expect("exits");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--server"));
}
