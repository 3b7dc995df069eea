//! `ayon cache ...`: where the persistent cache is, what it holds, and clearing it.

use std::path::PathBuf;
use std::process::ExitCode;

use ayon_cache::{
    Cache, CacheAdmin, CacheError, Namespace, STORE_FORMAT_VERSION, SqliteCache, resolve_cache_dir,
};
use clap::Subcommand;
use serde_json::json;

use super::Globals;

/// `ayon cache` subcommands. The directory comes from `--cache-dir`, else
/// `AYON_OFFLINE_CACHE_DIR`, else the platform's per-user cache directory.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print where the store file is (whether or not it exists yet).
    Path,
    /// Entries and bytes per namespace, file size and format version.
    Stats,
    /// Remove every entry, or only those of one namespace.
    Clear {
        /// The namespace to clear, as `ayon cache stats` lists it (e.g. `https://ayon.local|demo`).
        #[arg(long, value_name = "N")]
        namespace: Option<String>,
    },
}

/// Runs an `ayon cache` subcommand. Exit status: 0 on success, 1 when the cache cannot be used.
pub fn run(globals: &Globals, command: CacheCommand) -> ExitCode {
    let result = match command {
        CacheCommand::Path => path(globals),
        CacheCommand::Stats => stats(globals),
        CacheCommand::Clear { namespace } => clear(globals, namespace.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if globals.json {
                println!("{}", json!({ "ok": false, "error": e.to_string() }));
            } else {
                eprintln!("ayon cache: {e}");
            }
            ExitCode::from(1)
        }
    }
}

fn store_path(globals: &Globals) -> Result<PathBuf, CacheError> {
    SqliteCache::builder()
        .dir(resolve_cache_dir(globals.cache_dir.as_deref())?)
        .path()
}

fn open(globals: &Globals) -> Result<SqliteCache, CacheError> {
    let cache = SqliteCache::builder()
        .dir(resolve_cache_dir(globals.cache_dir.as_deref())?)
        .open()?;
    for d in cache.diagnostics() {
        eprintln!("ayon cache: {}", d.message);
    }
    Ok(cache)
}

fn path(globals: &Globals) -> Result<(), CacheError> {
    let path = store_path(globals)?;
    if globals.json {
        println!(
            "{}",
            json!({ "ok": true, "path": path, "exists": path.exists() })
        );
    } else {
        println!("{}", path.display());
    }
    Ok(())
}

fn stats(globals: &Globals) -> Result<(), CacheError> {
    let path = store_path(globals)?;
    if !path.exists() {
        // Do not create a store just to say it is empty.
        if globals.json {
            println!(
                "{}",
                json!({
                    "ok": true, "path": path, "exists": false, "file_size": 0,
                    "format_version": null, "supported_format_version": STORE_FORMAT_VERSION,
                    "entries": 0, "bytes": 0, "namespaces": [],
                })
            );
        } else {
            println!("no cache at {} yet", path.display());
        }
        return Ok(());
    }
    let cache = open(globals)?;
    let namespaces = cache.namespaces()?;
    let format_version = cache.format_version()?;
    let prepared = prepared(globals);
    let (entries, bytes) = namespaces
        .iter()
        .fold((0, 0), |(e, b), n| (e + n.entries, b + n.bytes));
    if globals.json {
        let list: Vec<_> = namespaces
            .iter()
            .map(|n| json!({ "namespace": n.namespace, "entries": n.entries, "bytes": n.bytes }))
            .collect();
        println!(
            "{}",
            json!({
                "ok": true, "path": cache.path(), "exists": true, "file_size": cache.file_size(),
                "format_version": format_version, "supported_format_version": STORE_FORMAT_VERSION,
                "entries": entries, "bytes": bytes, "namespaces": list, "prepared": prepared,
            })
        );
    } else {
        println!("path:            {}", cache.path().display());
        println!("file size:       {} bytes", cache.file_size());
        println!("format version:  {format_version}");
        println!("entries:         {entries}");
        println!("payload bytes:   {bytes}");
        for n in &namespaces {
            println!(
                "  {:<50} {:>8} entries {:>12} bytes",
                n.namespace, n.entries, n.bytes
            );
        }
        println!("prepared for offline:");
        if prepared.is_empty() {
            println!("  nothing (run `ayon prepare-offline --project P` while online)");
        }
        for p in &prepared {
            println!(
                "  {:<30} prepared {}  {} entities  index {} bytes",
                p["project"].as_str().unwrap_or(""),
                p["preparedAt"].as_str().unwrap_or(""),
                p["entities"],
                p["indexBytes"]
            );
        }
    }
    Ok(())
}

/// The prepared projects of the local index beside the cache (none when there is no index).
fn prepared(globals: &Globals) -> Vec<serde_json::Value> {
    let Ok(dir) = resolve_cache_dir(globals.cache_dir.as_deref()) else {
        return Vec::new();
    };
    let file = dir.join(ayon_index::INDEX_FILE_NAME);
    if !file.exists() {
        return Vec::new();
    }
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    match ayon_index::Index::open_in(&dir).and_then(|i| i.projects()) {
        Ok(projects) => projects
            .iter()
            .map(|p| {
                json!({
                    "project": p.name,
                    "preparedAt": humantime::format_rfc3339_seconds(p.prepared_at).to_string(),
                    "entities": p.counts.iter().sum::<u64>(),
                    "indexBytes": size,
                })
            })
            .collect(),
        Err(e) => {
            eprintln!("ayon cache: the local index is unreadable: {e}");
            Vec::new()
        }
    }
}

fn clear(globals: &Globals, namespace: Option<&str>) -> Result<(), CacheError> {
    let cache = open(globals)?;
    let removed = match namespace {
        Some(ns) => cache.remove_where(Some(&Namespace::custom(ns)), &|_, _| true)?,
        None => {
            let before = cache.len()?;
            cache.clear()?;
            before
        }
    };
    if globals.json {
        println!(
            "{}",
            json!({ "ok": true, "path": cache.path(), "namespace": namespace, "removed": removed })
        );
    } else {
        match namespace {
            Some(ns) => println!(
                "removed {removed} entries of `{ns}` from {}",
                cache.path().display()
            ),
            None => println!(
                "removed all {removed} entries from {}",
                cache.path().display()
            ),
        }
    }
    Ok(())
}
