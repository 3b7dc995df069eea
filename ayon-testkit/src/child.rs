//! Multi-process tests whose other processes are the test binary itself, re-executed for one
//! test with a role in its environment: spawn them, wait on facts, collect their verdicts.
//!
//! A child runs the same `#[test]` function, sees [`ROLE_ENV`] set and plays its role instead
//! of the parent's; it prints [`CHILD_OK`] when every check of its own passed.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable carrying a child's role.
pub const ROLE_ENV: &str = "AYON_TESTKIT_CHILD_ROLE";

/// What a child prints last when all its checks passed.
pub const CHILD_OK: &str = "CHILD-OK";

/// This process's role when it is a child, `None` in the parent.
pub fn role() -> Option<String> {
    std::env::var(ROLE_ENV).ok().filter(|r| !r.is_empty())
}

/// Re-executes this test binary for the one test `test` (its full name, `--exact`) as `role`,
/// with `envs` added to the environment and stdout/stderr captured.
pub fn spawn_self(test: &str, role: &str, envs: &[(&str, String)]) -> std::io::Result<Child> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ROLE_ENV, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        command.env(k, v);
    }
    command.spawn()
}

/// Waits for a child and returns its stdout when it exited successfully and printed
/// [`CHILD_OK`]; otherwise an error with its status, stdout and stderr for the test to show.
pub fn finish(role: &str, child: Child) -> Result<String, String> {
    let out = child
        .wait_with_output()
        .map_err(|e| format!("process {role}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() && stdout.contains(CHILD_OK) {
        Ok(stdout)
    } else {
        Err(format!(
            "process {role} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Polls `fact` every 10 ms until it holds (`true`) or `limit` passes (`false`, after a last
/// look): a bounded wait on a fact instead of a sleep.
pub fn wait_for(limit: Duration, mut fact: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if fact() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    fact()
}

/// Children of one test started together, roles `p0`, `p1`, …, each with its own empty
/// temporary directory (removed on drop).
#[derive(Debug)]
pub struct Group {
    /// Each child's directory, in role order.
    pub dirs: Vec<tempfile::TempDir>,
    /// Each child with its role.
    pub children: Vec<(String, Child)>,
}

impl Group {
    /// Starts `n` children of `test`; `env` gives each its environment from its directory.
    pub fn spawn(
        test: &str,
        n: usize,
        env: impl Fn(&Path) -> Vec<(&'static str, String)>,
    ) -> std::io::Result<Group> {
        let dirs = (0..n)
            .map(|_| tempfile::tempdir())
            .collect::<std::io::Result<Vec<_>>>()?;
        let mut children = Vec::with_capacity(n);
        for (i, dir) in dirs.iter().enumerate() {
            let role = format!("p{i}");
            let c = spawn_self(test, &role, &env(dir.path()))?;
            children.push((role, c));
        }
        Ok(Group { dirs, children })
    }

    /// Waits up to `limit` until every child has written the file `marker` in its directory
    /// and `also` holds; if not, kills every child and returns their exit statuses as the
    /// error, so no child outlives a failed test.
    pub fn wait_ready(
        &mut self,
        limit: Duration,
        marker: &str,
        mut also: impl FnMut() -> bool,
    ) -> Result<(), String> {
        let dirs = &self.dirs;
        if wait_for(limit, || {
            dirs.iter().all(|d| d.path().join(marker).exists()) && also()
        }) {
            return Ok(());
        }
        let statuses: Vec<String> = self
            .children
            .iter_mut()
            .map(|(role, c)| {
                let _ = c.kill();
                format!("{role}: {:?}", c.wait())
            })
            .collect();
        Err(format!(
            "not every process got ready within {limit:?}: {}",
            statuses.join(", ")
        ))
    }

    /// Waits for every child ([`finish`]); their stdout by role, or the first failure.
    pub fn finish(self) -> Result<Vec<(String, String)>, String> {
        self.children
            .into_iter()
            .map(|(role, c)| finish(&role, c).map(|out| (role, out)))
            .collect()
    }
}
