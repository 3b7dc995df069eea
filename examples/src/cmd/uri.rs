//! `ayon uri ...` (being written).

use std::process::ExitCode;

use clap::Subcommand;

use super::Globals;

/// `ayon uri` subcommands.
#[derive(Debug, Subcommand)]
pub enum UriCommand {}

/// Runs an `ayon uri` subcommand.
pub fn run(_globals: &Globals, command: UriCommand) -> ExitCode {
    match command {}
}
