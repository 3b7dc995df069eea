//! `ayon uri ...`: parse, validate and canonicalize AYON URIs with the server's rules.

use std::io::Write;
use std::process::ExitCode;

use ayon_uri::{AyonUri, UriError, VersionSelector};
use clap::Subcommand;
use serde_json::{Value, json};

use super::Globals;

/// `ayon uri` subcommands.
#[derive(Debug, Subcommand)]
pub enum UriCommand {
    /// Parse URIs and print their fields (or why the server would reject them).
    ///
    /// Exit status: 0 when every URI parsed, 1 when any did not, 2 on usage errors.
    Parse {
        /// The URIs to parse, e.g. `ayon://demo/assets/hero?product=usdMain&version=latest`.
        #[arg(required = true, value_name = "URI")]
        uris: Vec<String>,
    },
}

/// Runs an `ayon uri` subcommand.
pub fn run(globals: &Globals, command: UriCommand) -> ExitCode {
    match command {
        UriCommand::Parse { uris } => parse(globals.json, &uris),
    }
}

fn parse(as_json: bool, uris: &[String]) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut all_ok = true;
    for input in uris {
        let result = AyonUri::parse(input);
        all_ok &= result.is_ok();
        let written = if as_json {
            writeln!(out, "{}", to_json(input, &result))
        } else {
            write_text(&mut out, input, &result)
        };
        if written.is_err() {
            // stdout closed (e.g. piped into `head`): nothing more to say.
            return ExitCode::from(1);
        }
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The JSON shape documented in the README: one object per input line.
fn to_json(input: &str, result: &Result<AyonUri, UriError>) -> Value {
    match result {
        Ok(uri) => json!({
            "input": input,
            "ok": true,
            "canonical": uri.canonical(),
            "scheme": uri.scheme().as_str(),
            "project": uri.project(),
            "folder_path": uri.folder_path(),
            "product": uri.product(),
            "version": uri.version().map(version_json),
            "representation": uri.representation(),
            "task": uri.task(),
            "workfile": uri.workfile(),
            "target": uri.target().map(|t| t.as_str()),
            "sdf_format_args": uri.sdf_format_args(),
        }),
        Err(e) => json!({
            "input": input,
            "ok": false,
            "error": e.server_message(),
            "offset": e.offset(),
            "text": e.text(),
        }),
    }
}

/// Exact versions as JSON numbers, selectors as their keyword.
fn version_json(v: VersionSelector) -> Value {
    match v {
        VersionSelector::Exact(n) => json!(n),
        other => json!(other.to_string()),
    }
}

fn write_text(
    out: &mut impl Write,
    input: &str,
    result: &Result<AyonUri, UriError>,
) -> std::io::Result<()> {
    match result {
        Ok(uri) => {
            writeln!(out, "{input}")?;
            writeln!(out, "  canonical:       {}", uri.canonical())?;
            writeln!(out, "  scheme:          {}", uri.scheme())?;
            writeln!(out, "  project:         {}", uri.project())?;
            writeln!(out, "  folder path:     {}", uri.folder_path())?;
            let field = |v: Option<&str>| v.unwrap_or("-").to_owned();
            writeln!(out, "  product:         {}", field(uri.product()))?;
            let version = uri.version().map(|v| v.to_string());
            writeln!(out, "  version:         {}", field(version.as_deref()))?;
            writeln!(out, "  representation:  {}", field(uri.representation()))?;
            writeln!(out, "  task:            {}", field(uri.task()))?;
            writeln!(out, "  workfile:        {}", field(uri.workfile()))?;
            let target = uri.target().map(|t| t.as_str());
            writeln!(
                out,
                "  target:          {}",
                target.unwrap_or("none (project only)")
            )?;
            writeln!(out, "  immutable:       {}", uri.is_immutable())?;
            if let Some(sdf) = uri.sdf_format_args() {
                writeln!(out, "  sdf format args: {sdf}")?;
            }
            Ok(())
        }
        Err(e) => {
            writeln!(out, "{input}")?;
            writeln!(out, "  invalid: {}", e.server_message())?;
            writeln!(out, "  at byte {}: `{}`", e.offset(), e.text())
        }
    }
}
