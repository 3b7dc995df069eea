//! `ayon resolve`: resolve AYON URIs through the server, falling back to the local cache.

use ayon_client::{OfflineClient, Resolution, ResolveError, Source};
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::process::ExitCode;

use super::Globals;

/// Resolve AYON URIs to paths: one line per URI; exit 0 when all resolved, 1 otherwise.
#[derive(Debug, Args)]
pub struct ResolveCommand {
    /// Answer from the cache only; never contact the server.
    #[arg(long)]
    pub offline: bool,
    /// The URIs to resolve (`ayon://` or `ayon+entity://`).
    #[arg(required = true)]
    pub uris: Vec<String>,
}

/// The offline-capable client the CLI uses (server, persistent cache, prepared index), built
/// by the resolver core from the global flags.
pub fn open_client(globals: &Globals, offline: bool) -> Result<OfflineClient, String> {
    super::resolver(globals, offline)?.offline_client()
}

/// One output line for an answer.
fn line(json_out: bool, uri: &str, answer: &Result<Resolution, ResolveError>) -> String {
    match (answer, json_out) {
        (Ok(r), true) => {
            let stale = matches!(r.source(), Source::Cache { stale: true });
            json!({"uri": uri, "ok": true, "path": r.path(), "source": r.source().as_str(), "stale": stale}).to_string()
        }
        (Err(e), true) => {
            json!({"uri": uri, "ok": false, "error": e.to_string(), "kind": e.kind().as_str()})
                .to_string()
        }
        (Ok(r), false) => {
            let stale = if r.source().is_stale() { ", stale" } else { "" };
            let what = r
                .path()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("<{}>", r.target().map_or("entity", |t| t.as_str())));
            format!("{uri} -> {what} ({}{stale})", r.source().as_str())
        }
        (Err(e), false) => format!("{uri}: error ({}): {e}", e.kind()),
    }
}

/// Runs `ayon resolve`.
pub fn run(globals: &Globals, cmd: ResolveCommand) -> ExitCode {
    let client = match open_client(globals, cmd.offline) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ayon resolve: {e}");
            return ExitCode::from(2);
        }
    };
    let answers = client.resolve_blocking(&cmd.uris);
    let mut out = std::io::stdout().lock();
    let mut all_ok = true;
    for (uri, answer) in cmd.uris.iter().zip(&answers) {
        all_ok &= answer.is_ok();
        if writeln!(out, "{}", line(globals.json, uri, answer)).is_err() {
            return ExitCode::from(2);
        }
    }
    if let Err(e) = client.cache().flush() {
        eprintln!("ayon resolve: could not flush the cache: {e}");
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
