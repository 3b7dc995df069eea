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
    // Serve until the process is interrupted; the server runs on its own threads.
    loop {
        std::thread::park();
    }
}
