//! One module per subcommand, plus the flags every subcommand shares.

use std::path::PathBuf;

use clap::Args;

pub mod cache;
pub mod pin;
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
