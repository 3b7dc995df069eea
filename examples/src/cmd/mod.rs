//! One module per subcommand, plus the flags every subcommand shares.

use std::path::PathBuf;

use clap::Args;

pub mod cache;
pub mod demo;
pub mod doctor;
pub mod pin;
pub mod prepare;
pub mod progress;
pub mod proxy;
pub mod resolve;
pub mod testkit;
pub mod uri;
pub mod watch;

/// Flags shared by every subcommand, each with the environment variable AYON tools already use.
#[derive(Debug, Args)]
pub struct Globals {
    /// Print one JSON object per line instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// AYON server URL, e.g. `https://ayon.studio.local`.
    #[arg(long, global = true, env = "AYON_SERVER_URL")]
    pub server: Option<String>,
    /// API key (sent as `x-api-key`) or a 64-hex session token.
    #[arg(long, global = true, env = "AYON_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Read the API key from this file (first line), so it stays out of shell history and
    /// process listings; wins over `--api-key`.
    #[arg(long, global = true, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// More log output on stderr (`-v` info, `-vv` debug); `AYON_LOG` (as `RUST_LOG`) wins.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Site id of this machine, as the AYON launcher registers it.
    #[arg(long, global = true, env = "AYON_SITE_ID")]
    pub site_id: Option<String>,
    /// Project to work in, where a subcommand needs one.
    #[arg(long, global = true, env = "AYON_PROJECT_NAME")]
    pub project: Option<String>,
    /// Directory of the persistent cache (default: the platform's per-user cache directory).
    #[arg(long, global = true, env = "AYON_OFFLINE_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
}

impl Globals {
    /// The API key: from `--api-key-file` when given, else `--api-key` / `AYON_API_KEY`.
    pub fn api_key(&self) -> Result<Option<String>, String> {
        match &self.api_key_file {
            Some(file) => {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| format!("cannot read the API key file {}: {e}", file.display()))?;
                let key = text.lines().next().unwrap_or("").trim().to_owned();
                if key.is_empty() {
                    return Err(format!("the API key file {} is empty", file.display()));
                }
                Ok(Some(key))
            }
            None => Ok(self.api_key.clone()),
        }
    }
}

/// Installs the log subscriber: `AYON_LOG` when set (same syntax as `RUST_LOG`), else by
/// `-v`/`-q` (warnings by default). Logs go to stderr; secrets are never logged.
pub fn init_logging(globals: &Globals) {
    use tracing_subscriber::EnvFilter;
    let level = match (globals.quiet, globals.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    let filter = std::env::var(ayon_resolver_core::LOG_ENV)
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The resolver the subcommands share, configured from the global flags (their environment
/// fallbacks included): one place for the wiring. `offline`: never contact the server.
pub fn resolver(globals: &Globals, offline: bool) -> Result<ayon_resolver_core::Resolver, String> {
    let server = globals
        .server
        .as_deref()
        .ok_or("no server: pass --server or set AYON_SERVER_URL (the cache is kept per server)")?;
    let mut b = ayon_resolver_core::Resolver::builder()
        .server_url(server)
        .monitor(false)
        .force_offline(offline);
    if let Some(key) = globals.api_key()? {
        b = b.api_key(key);
    }
    if let Some(site) = &globals.site_id {
        b = b.site_id(site);
    }
    if let Some(project) = &globals.project {
        b = b.project(project);
    }
    if let Some(dir) = &globals.cache_dir {
        b = b.cache_dir(dir);
    }
    let resolver = b.build();
    resolver.connect()?;
    Ok(resolver)
}
