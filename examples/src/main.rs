//! `ayon`: the command-line face of the AYON offline resolution crates.
//!
//! Each subcommand lives in its own module under `cmd/`; this file only wires them to clap.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Work with AYON URIs, caches, pinning files and servers, online or offline.
#[derive(Debug, Parser)]
#[command(name = "ayon", version, about, propagate_version = true)]
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Uri(c) => cmd::uri::run(&cli.globals, c),
    }
}
