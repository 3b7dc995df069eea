//! `ayon testkit serve`: the loopback AYON test server in the foreground, for manual use and scripts.

use std::path::PathBuf;
use std::process::ExitCode;

use ayon_testkit::{Library, TestServer};
use clap::{Args, Subcommand};

use super::Globals;

/// Run the AYON-compatible test server.
#[derive(Debug, Subcommand)]
pub enum TestkitCommand {
    /// Serve a project library on 127.0.0.1 until interrupted (the global `--api-key` fixes the
    /// service key; otherwise one is generated).
    Serve(ServeArgs),
}

/// Options of `ayon testkit serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Project library JSON (default: the built-in `demo_offline`).
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// Delay added before answering every HTTP request, in milliseconds (the testkit's latency
    /// fault), so scripts can measure overlap and timeouts.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Read commands from stdin, one a line, answering each with one JSON line on stdout:
    /// `counters` (requests per route the tests assert on) and `reset-counters`. For scripts
    /// that drive the server as a child process (the Python module's tests).
    #[arg(long)]
    pub stdin_commands: bool,
}

/// Runs a `testkit` subcommand.
pub fn run(globals: &Globals, cmd: TestkitCommand) -> ExitCode {
    match cmd {
        TestkitCommand::Serve(args) => serve(globals, args),
    }
}

fn serve(globals: &Globals, args: ServeArgs) -> ExitCode {
    let library = match &args.library {
        Some(path) => match Library::from_json_file(path) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("ayon testkit serve: {e}");
                return ExitCode::from(2);
            }
        },
        None => Library::demo_offline(),
    };
    let mut builder = TestServer::builder().library(library).port(args.port);
    if let Some(key) = &globals.api_key {
        builder = builder.api_key(key.clone());
    }
    let server = match builder.start() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ayon testkit serve: {e}");
            return ExitCode::from(1);
        }
    };
    server.latency(std::time::Duration::from_millis(args.latency_ms));
    let (user, password) = server.admin_credentials();
    if globals.json {
        println!(
            "{}",
            serde_json::json!({
                "url": server.url(), "wsUrl": server.ws_url(), "apiKey": server.api_key(),
                "user": user, "password": password, "token": server.session_token(),
            })
        );
    } else {
        println!("AYON test server listening on {}", server.url());
        println!("API key:       {}", server.api_key());
        println!("login:         {user} / {password}");
        println!("session token: {}", server.session_token());
        println!("Press Ctrl-C to stop.");
    }
    if args.stdin_commands {
        answer_commands(&server);
    }
    // Serve until the process is interrupted; the server runs on its own threads.
    loop {
        std::thread::park();
    }
}

/// Answers `--stdin-commands` until stdin closes (then the server keeps serving).
fn answer_commands(server: &TestServer) {
    use std::io::{BufRead, Write};
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let answer = match line.trim() {
            "counters" => serde_json::json!({
                "resolveRequests": server.request_count("POST /api/resolve"),
                "resolvedUris": server.resolved_uri_count(),
                "graphqlRequests": server.request_count("POST /graphql"),
                "wsConnections": server.ws_connection_count(),
            }),
            "reset-counters" => {
                server.reset_counters();
                serde_json::json!({"ok": true})
            }
            "" => continue,
            other => serde_json::json!({"error": format!("unknown command {other:?}")}),
        };
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .is_err()
        {
            break;
        }
    }
}
