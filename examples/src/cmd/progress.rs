//! The prepare-for-offline progress display: an `indicatif` spinner on a terminal, nothing when
//! stderr is piped or the output is JSON (the summary line says it all).

use std::io::IsTerminal;
use std::time::Duration;

use ayon_resolver_core::PrepareProgress;
use indicatif::{ProgressBar, ProgressStyle};

/// A progress display that may be hidden.
pub struct Progress {
    bar: ProgressBar,
}

/// A spinner on stderr when it is a terminal and `json` is off; hidden otherwise.
pub fn bar(json: bool) -> Progress {
    let bar = if json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    };
    Progress { bar }
}

impl Progress {
    /// Shows the latest counts.
    pub fn update(&self, p: &PrepareProgress) {
        self.bar.set_message(format!(
            "{}: {} entities, {} KiB, {} requests",
            p.phase,
            p.entities,
            p.bytes / 1024,
            p.requests
        ));
    }

    /// Removes the display.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
