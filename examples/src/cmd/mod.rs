//! One module per subcommand, plus the flags every subcommand shares.

use clap::Args;

pub mod uri;

/// Flags shared by every subcommand.
#[derive(Debug, Args)]
pub struct Globals {
    /// Print one JSON object per line instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}
