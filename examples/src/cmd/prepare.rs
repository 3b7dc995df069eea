//! `ayon prepare-offline`: fetch a project (or part of it) into the local index so that every
//! URI in scope resolves offline exactly as the server would.

use std::path::PathBuf;
use std::process::ExitCode;

use ayon_resolver_core::{CancelToken, PrepareMode, PrepareOptions, PrepareScope};
use clap::Args;
use serde_json::json;

use super::Globals;

/// Prepare a project for offline work: `latest`, `hero` and every other URI in scope then
/// resolve offline with the server's answer.
#[derive(Debug, Args)]
pub struct PrepareCommand {
    /// Only these folder subtrees (e.g. `assets/characters`); repeatable. Default: the whole
    /// project.
    #[arg(long = "folder", value_name = "PATH")]
    pub folders: Vec<String>,
    /// Only the folders named by the AYON URIs in this file, one per line (a workfile's
    /// references).
    #[arg(long, value_name = "FILE", conflicts_with = "folders")]
    pub uris_from: Option<PathBuf>,
    /// Every version of every product (the default, and the only mode whose offline answers
    /// for old exact versions are complete).
    #[arg(long)]
    pub all_versions: bool,
    /// Only what `latest`, `latestdone` and `hero` need plus the newest N exact versions of
    /// each product; an older exact version then answers offline "not prepared (only the
    /// newest N versions kept)", never "not found".
    #[arg(long, value_name = "N", conflicts_with = "all_versions", value_parser = clap::value_parser!(u32).range(1..))]
    pub newest: Option<u32>,
    /// Count what would be fetched, fetch nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `ayon prepare-offline`. Exit status: 0 prepared, 1 the prepare failed, 2 usage.
pub fn run(globals: &Globals, cmd: PrepareCommand) -> ExitCode {
    let Some(project) = globals.project.clone() else {
        eprintln!("ayon prepare-offline: no project: pass --project or set AYON_PROJECT_NAME");
        return ExitCode::from(2);
    };
    let scope = match (&cmd.uris_from, cmd.folders.is_empty()) {
        (Some(file), _) => match std::fs::read_to_string(file) {
            Ok(text) => PrepareScope::Uris(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned)
                    .collect(),
            ),
            Err(e) => {
                eprintln!("ayon prepare-offline: cannot read {}: {e}", file.display());
                return ExitCode::from(2);
            }
        },
        (None, false) => PrepareScope::Folders(cmd.folders.clone()),
        (None, true) => PrepareScope::Project,
    };
    let resolver = match super::resolver(globals, false) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ayon prepare-offline: {e}");
            return ExitCode::from(2);
        }
    };
    let options = PrepareOptions {
        all_versions: cmd.newest.is_none(),
        newest_exact: cmd
            .newest
            .map_or(ayon_client::DEFAULT_NEWEST_EXACT, |n| n as usize),
        ..PrepareOptions::default()
    };
    if cmd.dry_run {
        return match resolver.estimate_prepare(&project, &scope, &options) {
            Ok(e) => {
                if globals.json {
                    println!(
                        "{}",
                        json!({"project": project, "dryRun": true, "folders": e.folders, "products": e.products,
                               "versions": e.versions, "representations": e.representations, "bytes": e.bytes,
                               "requests": e.requests})
                    );
                } else {
                    println!(
                        "would prepare {project}: {} folders, {} products, {} versions, {} representations (about {} KiB)",
                        e.folders,
                        e.products,
                        e.versions,
                        e.representations,
                        e.bytes / 1024
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ayon prepare-offline: {e}");
                ExitCode::from(1)
            }
        };
    }
    let cancel = CancelToken::new();
    let bar = super::progress::bar(globals.json);
    let result = resolver.prepare_offline(&project, &scope, &options, &cancel, &|p| bar.update(p));
    bar.finish();
    match result {
        Ok(r) => {
            let (mode, why) = match &r.mode {
                PrepareMode::Incremental { since } => {
                    ("incremental", format!("changes since {since}"))
                }
                PrepareMode::Full { reason } => ("full", reason.clone()),
                _ => ("other", String::new()),
            };
            if globals.json {
                println!(
                    "{}",
                    json!({"project": r.project, "mode": mode, "why": why, "fetched": r.fetched,
                           "deleted": r.deleted, "folders": r.folders, "products": r.products,
                           "versions": r.versions, "representations": r.representations,
                           "newest": cmd.newest, "bytes": r.bytes, "requests": r.requests,
                           "seconds": r.elapsed.as_secs_f64()})
                );
            } else {
                println!(
                    "prepared {} ({mode}: {why}): {} rows fetched, {} deleted; {} folders, {} products, {} versions, {} representations; {} KiB in {} requests, {:.2} s",
                    r.project,
                    r.fetched,
                    r.deleted,
                    r.folders,
                    r.products,
                    r.versions,
                    r.representations,
                    r.bytes / 1024,
                    r.requests,
                    r.elapsed.as_secs_f64()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ayon prepare-offline: {e}");
            ExitCode::from(1)
        }
    }
}
