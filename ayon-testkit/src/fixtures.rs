//! Locating the recorded real-server fixtures that contract tests replay.

use std::path::PathBuf;

use crate::error::TestkitError;

/// `shared/fixtures/ayon-server`: `$AYON_SHARED_DIR/fixtures/ayon-server` when that variable is
/// set, else `../shared` beside the workspace (where CI clones it).
pub fn fixtures_dir() -> PathBuf {
    let shared = match std::env::var_os("AYON_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    shared.join("fixtures").join("ayon-server")
}

/// Loads one fixture by file name (`"resolve_quirks.json"` or `"resolve_quirks"`).
pub fn load_fixture(name: &str) -> Result<serde_json::Value, TestkitError> {
    let file = if name.ends_with(".json") {
        name.to_owned()
    } else {
        format!("{name}.json")
    };
    let path = fixtures_dir().join(&file);
    let text = std::fs::read_to_string(&path).map_err(|e| TestkitError::Fixture {
        name: file.clone(),
        reason: format!(
            "cannot read {} ({e}); set AYON_SHARED_DIR to the shared/ directory",
            path.display()
        ),
    })?;
    serde_json::from_str(&text).map_err(|e| TestkitError::Fixture {
        name: file,
        reason: format!("invalid JSON: {e}"),
    })
}
