//! `ayon`: the command-line face of the AYON offline resolution crates.
//!
//! Each subcommand lives in its own module under `cmd/`; this file only wires them to clap.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Work with AYON URIs, caches, pinning files and servers, online or offline.
#[derive(Debug, Parser)]
#[command(
    name = "ayon",
    version,
    about,
    propagate_version = true,
    after_help = "Exit status: 0 success; 1 the command ran but something did not resolve, \
                  check or prepare (each failure is printed); 2 usage or configuration error \
                  (bad flags, no server, unreadable file).\n\
                  Start here: `ayon demo` runs the whole story against an embedded server."
)]
struct Cli {
    #[command(flatten)]
    globals: cmd::Globals,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse, validate and canonicalize AYON URIs.
    #[command(subcommand)]
    Uri(cmd::uri::UriCommand),
    /// Inspect and clear the persistent cache (`--cache-dir` picks which).
    #[command(subcommand)]
    Cache(cmd::cache::CacheCommand),
    /// Resolve AYON URIs to paths through the server, falling back to the cache.
    Resolve(cmd::resolve::ResolveCommand),
    /// Print the server's connection state and events as they happen, one line each.
    Watch(cmd::watch::WatchCommand),
    /// Look up, check and write pinning files (frozen identifier -> path maps for farms).
    #[command(subcommand)]
    Pin(cmd::pin::PinCommand),
    /// Run the loopback AYON-compatible test server (for demos, scripts and manual testing).
    #[command(subcommand)]
    Testkit(cmd::testkit::TestkitCommand),
    /// The whole story in 30 seconds against an embedded server: online, prepare, crash,
    /// offline, publish, farm pinning.
    Demo(cmd::demo::DemoCommand),
    /// Fetch a project (or folders, or a workfile's URIs) so it resolves offline.
    PrepareOffline(cmd::prepare::PrepareCommand),
    /// Check the setup: server, credential, site, roots, cache, index, pinning, shared tier.
    Doctor(cmd::doctor::DoctorCommand),
    /// Run a local caching proxy in front of the server (`--server`), so unchanged AYON tools
    /// pointed at it keep working offline.
    Proxy(cmd::proxy::ProxyCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cmd::init_logging(&cli.globals);
    match cli.command {
        Command::Uri(c) => cmd::uri::run(&cli.globals, c),
        Command::Cache(c) => cmd::cache::run(&cli.globals, c),
        Command::Resolve(c) => cmd::resolve::run(&cli.globals, c),
        Command::Watch(c) => cmd::watch::run(&cli.globals, c),
        Command::Pin(c) => cmd::pin::run(&cli.globals, c),
        Command::Testkit(c) => cmd::testkit::run(&cli.globals, c),
        Command::Demo(c) => cmd::demo::run(&cli.globals, c),
        Command::PrepareOffline(c) => cmd::prepare::run(&cli.globals, c),
        Command::Doctor(c) => cmd::doctor::run(&cli.globals, c),
        Command::Proxy(c) => cmd::proxy::run(&cli.globals, c),
    }
}
