//! `ayon watch`: print the server's connection state and events as they happen.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use ayon_connectivity::{ConnectionState, Monitor, MonitorConfig, ServerEvent};
use ayon_site::Credential;
use clap::Args;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::Globals;

/// `ayon watch` flags.
#[derive(Debug, Args)]
pub struct WatchCommand {
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long = "for", value_name = "SECONDS")]
    pub for_secs: Option<f64>,
    /// Event topic prefixes to print (repeatable; `*` for all). Server restarts always show.
    #[arg(long = "subscribe", value_name = "TOPIC", default_value = "entity.")]
    pub subscribe: Vec<String>,
}

/// Runs `ayon watch`: one line per state change and per event, each with a timestamp.
///
/// Exit status: 0 when `--for` ran out, 1 when output failed, 2 on usage errors.
pub fn run(globals: &Globals, command: WatchCommand) -> ExitCode {
    let Some(server) = globals.server.clone() else {
        eprintln!("ayon watch: --server (or AYON_SERVER_URL) is required");
        return ExitCode::from(2);
    };
    let Some(key) = globals.api_key.clone() else {
        eprintln!(
            "ayon watch: --api-key (or AYON_API_KEY) is required: /ws sends nothing to anonymous clients"
        );
        return ExitCode::from(2);
    };
    let limit = match command.for_secs {
        Some(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s)),
        Some(s) => {
            eprintln!("ayon watch: --for must be a number of seconds >= 0, not {s}");
            return ExitCode::from(2);
        }
        None => None,
    };
    let mut builder = MonitorConfig::builder(server)
        .credential(Credential::from_secret(key))
        .subscribe(command.subscribe);
    if let Some(project) = &globals.project {
        builder = builder.project(project.clone());
    }
    let config = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ayon watch: {e}");
            return ExitCode::from(2);
        }
    };
    let monitor = Monitor::start(config);
    let as_json = globals.json;
    // The watch loop runs on the library runtime; the overall limit is only a backstop.
    let backstop = limit.map_or(Duration::MAX, |l| l + Duration::from_secs(5));
    let result = ayon_runtime::block_on(watch(monitor, limit, as_json), backstop);
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("ayon watch: {e}");
            ExitCode::from(1)
        }
    }
}

/// Prints until `limit`; false when stdout closed.
async fn watch(monitor: Monitor, limit: Option<Duration>, as_json: bool) -> bool {
    let mut states = monitor.subscribe_state();
    let mut events = monitor.subscribe_events();
    let deadline = limit.map(|l| tokio::time::Instant::now() + l);
    let first = states.borrow_and_update().clone();
    if !print(&state_line(&first, as_json)) {
        return false;
    }
    loop {
        let line = tokio::select! {
            changed = states.changed() => {
                if changed.is_err() {
                    return true;
                }
                let state = states.borrow_and_update().clone();
                state_line(&state, as_json)
            }
            event = events.recv() => match event {
                Ok(e) => event_line(&e, as_json),
                Err(RecvError::Lagged(n)) => note_line(&format!("{n} events skipped (output too slow)"), as_json),
                Err(RecvError::Closed) => return true,
            },
            () = sleep_until(deadline) => {
                monitor.shutdown();
                return true;
            }
        };
        if !print(&line) {
            return false;
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn print(line: &str) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
}

fn stamp(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

fn state_line(state: &ConnectionState, as_json: bool) -> String {
    let now = stamp(SystemTime::now());
    match (state, as_json) {
        (ConnectionState::Offline { since, reason }, true) => json!({
            "time": now, "type": "state", "state": "offline",
            "reason": reason.to_string(), "since": stamp(*since),
        })
        .to_string(),
        (ConnectionState::Offline { since, reason }, false) => {
            format!("{now}  state  offline since {}: {reason}", stamp(*since))
        }
        (other, true) => {
            json!({"time": now, "type": "state", "state": other.kind_str()}).to_string()
        }
        (other, false) => format!("{now}  state  {}", other.kind_str()),
    }
}

fn event_line(event: &ServerEvent, as_json: bool) -> String {
    let time = stamp(event.received_at);
    if as_json {
        json!({
            "time": time, "type": "event", "topic": event.topic, "project": event.project,
            "summary": event.summary, "description": event.description,
        })
        .to_string()
    } else {
        let summary = match &event.summary {
            Value::Null => String::new(),
            v => v.to_string(),
        };
        format!(
            "{time}  event  {}  {}  {}",
            event.topic,
            event.project.as_deref().unwrap_or("-"),
            summary
        )
    }
}

fn note_line(note: &str, as_json: bool) -> String {
    let time = stamp(SystemTime::now());
    if as_json {
        json!({"time": time, "type": "note", "note": note}).to_string()
    } else {
        format!("{time}  note   {note}")
    }
}
