//! The real, unchanged ayon-python-api in a virtualenv, and a way to run a script with it: for
//! the tests that prove AYON's own Python client works against the testkit and through
//! `ayon-proxy`.
//!
//! The package comes from PyPI into a venv made once and reused while it still imports the
//! pinned version. No Python or no PyPI is an error for the caller to fail on, never a skip.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The ayon-python-api release the tests pin.
pub const AYON_API_VERSION: &str = "1.2.25";

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Runs a command to completion; `Err` carries its command line, status and output.
fn run(cmd: &mut Command) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("could not run {shown}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{shown} failed ({}):\n{text}", out.status))
    }
}

/// Whether the venv's Python imports the pinned ayon_api.
fn venv_is_ready(python: &Path) -> bool {
    let check = format!("import ayon_api; assert ayon_api.__version__ == '{AYON_API_VERSION}'");
    python.exists() && run(Command::new(python).args(["-c", &check])).is_ok()
}

/// The Python of a venv under `parent` (a test's `CARGO_TARGET_TMPDIR`) with
/// ayon-python-api installed: reused when it still works, made afresh otherwise (`PYTHON`
/// picks the interpreter that makes it).
pub fn ayon_api_venv(parent: &Path) -> Result<PathBuf, String> {
    let venv = parent.join(format!("python-venv-ayon-api-{AYON_API_VERSION}"));
    let python = venv_python(&venv);
    if venv_is_ready(&python) {
        return Ok(python);
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv)
            .map_err(|e| format!("cannot remove the broken venv {}: {e}", venv.display()))?;
    }
    let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(Command::new(&system_python).args(["-m", "venv"]).arg(&venv)).map_err(|e| {
        format!("ayon-python-api tests need Python 3 with venv (set PYTHON to choose one): {e}")
    })?;
    let package = format!("ayon-python-api=={AYON_API_VERSION}");
    let install = run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--no-input",
            "--disable-pip-version-check",
            "-q",
        ])
        .arg(&package));
    if let Err(e) = install {
        let _ = std::fs::remove_dir_all(&venv);
        return Err(format!(
            "pip could not install {package} from PyPI (network needed): {e}"
        ));
    }
    if venv_is_ready(&python) {
        Ok(python)
    } else {
        Err(format!(
            "{package} installed into {} but does not import",
            venv.display()
        ))
    }
}

/// How a script run ended.
#[derive(Debug, Clone)]
pub struct ScriptRun {
    /// Exit status 0.
    pub success: bool,
    /// What it printed.
    pub stdout: String,
    /// Its errors and tracebacks.
    pub stderr: String,
}

/// Runs `python script args...` with `env` set and every other `AYON_*` variable removed
/// (ayon_api reads its settings from the environment; only the caller's may reach it). `Err`
/// when it did not finish within `limit` (it is killed) or could not start.
pub fn run_script(
    python: &Path,
    script: &Path,
    args: &[&str],
    env: &[(&str, String)],
    limit: Duration,
) -> Result<ScriptRun, String> {
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AYON_") {
            cmd.env_remove(key);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", script.display()))?;
    let mut stdout_pipe = child.stdout.take().ok_or("no stdout pipe")?;
    let mut stderr_pipe = child.stderr.take().ok_or("no stderr pipe")?;
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout_pipe.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("cannot wait for {}: {e}", script.display())),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    match status {
        Some(s) => Ok(ScriptRun {
            success: s.success(),
            stdout,
            stderr,
        }),
        None => Err(format!(
            "{} hung for {limit:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
            script.display()
        )),
    }
}
