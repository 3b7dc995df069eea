//! `ayon pin ...`: look identifiers up in, check and write AYON pinning files.
//!
//! Each subcommand is a variant of [`PinCommand`] with its own args struct; roots come from
//! [`RootsArg`] (`--roots`, else the environment), so a later `from-uris` subcommand (resolve
//! through the client, then [`write_file`]) slots in beside `write`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ayon_pinning::{LEGACY_ROOTS_ENV, PinningError, PinningFile, ROOTS_ENV, Roots, roots_from_env};
use clap::{Args, Subcommand};
use serde_json::json;

use super::Globals;

/// Exit status when something was not found / does not exist (lookup, check).
const EXIT_MISSING: u8 = 1;
/// Exit status when the file or the arguments could not be used at all.
const EXIT_ERROR: u8 = 2;

/// `ayon pin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// Look identifiers up as a farm worker's resolver would (URIs by meaning, paths by any
    /// slash or Windows case). Exit 0 when all are pinned, 1 when some are not, 2 on errors.
    Lookup(LookupArgs),
    /// Load a file and report entries whose paths do not exist on this machine. Exit 0 when
    /// all exist, 1 when some are missing, 2 when the file cannot be loaded.
    Check(CheckArgs),
    /// Write a pinning file (rootless, atomically) that AYON's resolver loads unchanged.
    Write(WriteArgs),
    /// Resolve URIs through the server (from the cache when it is unreachable) and write a
    /// pinning file of their paths. Exit 0 when all resolved and the file was written, 1 when
    /// some did not resolve (nothing is written), 2 on errors.
    FromUris(FromUrisArgs),
}

/// Where `{root[NAME]}` values come from.
#[derive(Debug, Args)]
pub struct RootsArg {
    /// Roots as `name=value,name=value` (legacy `name:value` accepted). Default: the
    /// AYON_USD_RESOLVER_PINNING_ROOTS environment variable, then PROJECT_ROOTS.
    #[arg(long, value_name = "NAME=PATH,...")]
    pub roots: Option<String>,
}

impl RootsArg {
    /// The roots to use: the flag if given, else the environment.
    pub fn resolve(&self) -> Result<Roots, PinningError> {
        Ok(match &self.roots {
            Some(s) => Roots::parse(s)?,
            None => roots_from_env()?,
        })
    }
}

/// `ayon pin lookup`.
#[derive(Debug, Args)]
pub struct LookupArgs {
    /// The pinning file.
    pub file: PathBuf,
    /// Identifiers to look up: AYON URIs or file paths.
    #[arg(required = true)]
    pub identifiers: Vec<String>,
    #[command(flatten)]
    pub roots: RootsArg,
}

/// `ayon pin check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The pinning file.
    pub file: PathBuf,
    #[command(flatten)]
    pub roots: RootsArg,
}

/// Where a writing subcommand puts the file, and for which scene.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The file to write (replaced atomically if it exists).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The scene the file is for (stored as `ayon_pinning_data_entry_scene`).
    #[arg(long, value_name = "S")]
    pub entry_scene: Option<String>,
}

/// `ayon pin write`.
#[derive(Debug, Args)]
pub struct WriteArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub roots: RootsArg,
    /// Entries as `IDENTIFIER=PATH`, split at the LAST `=` (AYON URIs hold `=` themselves, so
    /// a path containing `=` cannot be given this way).
    #[arg(required = true, value_name = "IDENTIFIER=PATH")]
    pub entries: Vec<String>,
}

/// `ayon pin from-uris`.
#[derive(Debug, Args)]
pub struct FromUrisArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    /// Roots to make the paths rootless with. Default: the environment, else the site roots
    /// the server gives each URI's project.
    #[command(flatten)]
    pub roots: RootsArg,
    /// Answer from the cache only; never contact the server.
    #[arg(long)]
    pub offline: bool,
    /// The URIs to pin.
    #[arg(required = true)]
    pub uris: Vec<String>,
}

/// Runs an `ayon pin` subcommand.
pub fn run(globals: &Globals, command: PinCommand) -> ExitCode {
    match command {
        PinCommand::Lookup(a) => lookup(globals, a),
        PinCommand::Check(a) => check(globals, a),
        PinCommand::Write(a) => write(globals, a),
        PinCommand::FromUris(a) => from_uris(globals, a),
    }
}

fn load(file: &Path, roots: &RootsArg) -> Result<PinningFile, PinningError> {
    PinningFile::load(file, &roots.resolve()?)
}

fn fail(globals: &Globals, what: &str, error: &dyn std::fmt::Display) -> ExitCode {
    if globals.json {
        println!("{}", json!({ "ok": false, "error": error.to_string() }));
    } else {
        eprintln!("ayon pin {what}: {error}");
    }
    ExitCode::from(EXIT_ERROR)
}

fn lookup(globals: &Globals, args: LookupArgs) -> ExitCode {
    let pins = match load(&args.file, &args.roots) {
        Ok(p) => p,
        Err(e) => {
            // Same per-identifier shape as a miss, so scripts read one format.
            for id in &args.identifiers {
                print_lookup(globals, id, Err(e.to_string()));
            }
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let mut all = true;
    for id in &args.identifiers {
        let answer = match pins.lookup(id) {
            Some(path) => Ok(path),
            None => {
                all = false;
                Err(miss_reason(id, &args.file))
            }
        };
        print_lookup(globals, id, answer);
    }
    if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_MISSING)
    }
}

fn miss_reason(id: &str, file: &Path) -> String {
    if ayon_uri::is_ayon_uri(id)
        && let Err(e) = ayon_uri::AyonUri::parse(id)
    {
        return format!("not pinned: invalid AYON URI ({e})");
    }
    format!("not pinned in {}", file.display())
}

fn print_lookup(globals: &Globals, id: &str, answer: Result<&str, String>) {
    match (globals.json, answer) {
        (true, Ok(path)) => println!("{}", json!({ "identifier": id, "ok": true, "path": path })),
        (true, Err(e)) => println!("{}", json!({ "identifier": id, "ok": false, "error": e })),
        (false, Ok(path)) => println!("{id} -> {path}"),
        (false, Err(e)) => println!("{id}: {e}"),
    }
}

fn check(globals: &Globals, args: CheckArgs) -> ExitCode {
    let pins = match load(&args.file, &args.roots) {
        Ok(p) => p,
        Err(e) => return fail(globals, "check", &e),
    };
    // Many identifiers share one path (URI and path keys of one asset): stat each path once.
    let mut exists: HashMap<&str, bool> = HashMap::new();
    let mut missing = 0usize;
    for (id, path) in pins.iter() {
        let ok = *exists
            .entry(path)
            .or_insert_with(|| Path::new(path).exists());
        if !ok {
            missing += 1;
            if globals.json {
                println!(
                    "{}",
                    json!({ "identifier": id, "ok": false, "path": path, "error": "path does not exist" })
                );
            } else {
                println!("missing: {id} -> {path}");
            }
        }
    }
    let scene = pins.entry_scene();
    let scene_ok = scene.is_none_or(|s| Path::new(s).exists());
    if !scene_ok {
        missing += 1;
    }
    if globals.json {
        println!(
            "{}",
            json!({
                "ok": missing == 0, "file": args.file, "entries": pins.len(), "missing": missing,
                "entry_scene": scene, "entry_scene_exists": scene.map(|_| scene_ok),
            })
        );
    } else {
        if let (Some(s), false) = (scene, scene_ok) {
            println!("missing entry scene: {s}");
        }
        println!(
            "{}: {} entries, {} missing",
            args.file.display(),
            pins.len(),
            missing
        );
    }
    if missing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_MISSING)
    }
}

/// Splits `IDENTIFIER=PATH` at the last `=`.
fn split_entry(s: &str) -> Result<(&str, &str), String> {
    match s.rsplit_once('=') {
        Some((id, path)) if !id.is_empty() && !path.is_empty() => Ok((id, path)),
        _ => Err(format!(
            "`{s}` is not IDENTIFIER=PATH (both non-empty, split at the last `=`)"
        )),
    }
}

fn write(globals: &Globals, args: WriteArgs) -> ExitCode {
    let entries: Result<Vec<(&str, &str)>, String> =
        args.entries.iter().map(|e| split_entry(e)).collect();
    let entries = match entries {
        Ok(e) => e,
        Err(e) => return fail(globals, "write", &e),
    };
    let roots = match args.roots.resolve() {
        Ok(r) => r,
        Err(e) => return fail(globals, "write", &e),
    };
    let origin = if args.roots.roots.is_some() {
        "--roots".to_owned()
    } else {
        format!("{ROOTS_ENV}/{LEGACY_ROOTS_ENV}")
    };
    write_and_report(globals, "write", &args.output, &entries, &roots, &origin)
}

/// Writes the file and prints the one-line summary both writing subcommands share.
fn write_and_report(
    globals: &Globals,
    what: &str,
    output: &OutputArgs,
    entries: &[(&str, &str)],
    roots: &Roots,
    roots_origin: &str,
) -> ExitCode {
    let out = output.out.as_path();
    match write_file(out, entries, output.entry_scene.as_deref(), roots) {
        Ok(()) => {
            if globals.json {
                println!(
                    "{}",
                    json!({ "ok": true, "file": out, "entries": entries.len(), "roots": roots.len() })
                );
            } else {
                println!(
                    "wrote {} entries to {} ({} roots from {roots_origin})",
                    entries.len(),
                    out.display(),
                    roots.len(),
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(globals, what, &e),
    }
}

fn from_uris(globals: &Globals, args: FromUrisArgs) -> ExitCode {
    let client = match super::resolve::open_client(globals, args.offline) {
        Ok(c) => c,
        Err(e) => return fail(globals, "from-uris", &e),
    };
    let answers = client.resolve_blocking(&args.uris);
    let mut entries = Vec::with_capacity(args.uris.len());
    let mut failed = 0usize;
    for (uri, answer) in args.uris.iter().zip(&answers) {
        match answer.as_ref().map(|r| r.path()) {
            Ok(Some(path)) => entries.push((uri.as_str(), path)),
            Ok(None) => {
                failed += 1;
                report_unpinned(globals, uri, "resolved to an entity without a file path");
            }
            Err(e) => {
                failed += 1;
                report_unpinned(globals, uri, &e.to_string());
            }
        }
    }
    if failed > 0 {
        // A farm job with a partial pinning file would fail late on a worker; fail here.
        return ExitCode::from(EXIT_MISSING);
    }
    let roots = match pinning_roots(&client, &args) {
        Ok(r) => r,
        Err(e) => return fail(globals, "from-uris", &e),
    };
    let origin = if args.roots.roots.is_some() {
        "--roots"
    } else {
        "the environment or the server's site roots"
    };
    write_and_report(globals, "from-uris", &args.output, &entries, &roots, origin)
}

fn report_unpinned(globals: &Globals, uri: &str, error: &str) {
    if globals.json {
        println!("{}", json!({ "uri": uri, "ok": false, "error": error }));
    } else {
        eprintln!("ayon pin from-uris: {uri}: {error}");
    }
}

/// Roots for a resolver-written file: `--roots` or the environment when given, else the site
/// roots of every project the URIs name (asked of the server; none when it is unreachable,
/// which leaves the paths absolute).
fn pinning_roots(
    client: &ayon_client::OfflineClient,
    args: &FromUrisArgs,
) -> Result<Roots, PinningError> {
    let given = args.roots.resolve()?;
    if !given.is_empty() || args.offline {
        return Ok(given);
    }
    let mut roots = Roots::new();
    let projects: std::collections::BTreeSet<String> = args
        .uris
        .iter()
        .filter_map(|u| ayon_uri::AyonUri::parse(u).ok())
        .map(|u| u.project().to_owned())
        .collect();
    for project in projects {
        if let Ok(site) = client.client().site_roots_blocking(&project) {
            for (name, path) in site.iter() {
                roots.insert(name, path)?;
            }
        }
    }
    Ok(roots)
}

/// Writes `entries` to `out`: the one place pinning files are produced, for `write` and for
/// resolver-driven subcommands to come.
pub fn write_file(
    out: &Path,
    entries: &[(&str, &str)],
    entry_scene: Option<&str>,
    roots: &Roots,
) -> Result<(), PinningError> {
    PinningFile::write(out, entries.iter().copied(), entry_scene, roots)
}

#[cfg(test)]
mod tests {
    use super::split_entry;

    #[test]
    fn entries_split_at_the_last_equals() {
        assert_eq!(
            split_entry("ayon://p/a?product=x&version=3=/mnt/a.usd"),
            Ok(("ayon://p/a?product=x&version=3", "/mnt/a.usd"))
        );
        assert!(split_entry("no-equals").is_err());
        assert!(split_entry("=/path").is_err());
        assert!(split_entry("id=").is_err());
    }
}
