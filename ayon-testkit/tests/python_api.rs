//! The real ayon-python-api 1.2.25, unchanged, against the testkit: login, API-key connection,
//! `get_project`, `get_folder_by_path`, `get_last_version_by_product_name`,
//! `get_hero_version_by_product_id`, `get_representation_by_name`,
//! `get_project_roots_by_site_id` and more, each checked against the demo data by
//! `tests/python/ayon_api_demo.py`.
//!
//! The package comes from PyPI into a venv under the cargo target dir, made once and reused
//! while it still imports the pinned version. No Python or no PyPI is a FAILURE, never a skip:
//! CI has both.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ayon_testkit::{Library, TestServer};

const AYON_API_VERSION: &str = "1.2.25";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

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

/// The venv with ayon-python-api installed: reused when it still works, made afresh otherwise.
fn ayon_api_venv() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("python-venv-ayon-api-{AYON_API_VERSION}"));
    let python = venv_python(&venv);
    if venv_is_ready(&python) {
        return python;
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv)
            .unwrap_or_else(|e| panic!("cannot remove the broken venv {}: {e}", venv.display()));
    }
    let system_python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    if let Err(e) = run(Command::new(&system_python).args(["-m", "venv"]).arg(&venv)) {
        panic!("ayon-python-api test needs Python 3 with venv (set PYTHON to choose one): {e}");
    }
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
        panic!("pip could not install {package} from PyPI (network needed): {e}");
    }
    assert!(
        venv_is_ready(&python),
        "{package} installed into {} but does not import",
        venv.display()
    );
    python
}

/// Runs the script with a time limit; returns (success, stdout, stderr).
fn run_script(python: &Path, script: &Path, server: &TestServer) -> (bool, String, String) {
    let (user, password) = server.admin_credentials();
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("AYON_TESTKIT_URL", server.url())
        .env("AYON_TESTKIT_USER", user)
        .env("AYON_TESTKIT_PASSWORD", password)
        .env("AYON_TESTKIT_API_KEY", server.api_key());
    // ayon_api reads AYON_* settings from the environment; only ours may reach it.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AYON_") {
            cmd.env_remove(key);
        }
    }
    let mut child = cmd.spawn().expect("start the ayon_api script");
    let mut stdout_pipe = child.stdout.take().expect("stdout pipe");
    let mut stderr_pipe = child.stderr.take().expect("stderr pipe");
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
        if let Some(status) = child.try_wait().expect("poll the script") {
            break Some(status);
        }
        if started.elapsed() > SCRIPT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    assert!(
        status.is_some(),
        "the ayon_api script hung for {SCRIPT_TIMEOUT:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (status.is_some_and(|s| s.success()), stdout, stderr)
}

#[test]
fn ayon_python_api_works_unchanged_against_the_testkit() {
    let python = ayon_api_venv();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/ayon_api_demo.py");
    let server = TestServer::start(Library::demo_offline()).expect("testkit starts");

    let (ok, stdout, stderr) = run_script(&python, &script, &server);
    println!("{stdout}");
    assert!(
        ok,
        "ayon_api script failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );

    let checks = stdout.lines().filter(|l| l.starts_with("ok ")).count();
    let last = stdout.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!("ALL CHECKS PASSED {checks}"),
        "stdout:\n{stdout}"
    );
    assert!(checks >= 80, "only {checks} checks ran:\n{stdout}");
    for expected in [
        "ok ayon_api version = '1.2.25'",
        "ok admin: latest usdAsset name = 'v003'",
        "ok admin: hero version name = 'HERO'",
        "ok admin: folder path = '/assets/characters/hero'",
        "ok service: roots by site id = {'work': 'P:/projects'}",
        "ok override site roots = {'work': '/home/artist/ayon-work'}",
    ] {
        assert!(
            stdout.lines().any(|l| l == expected),
            "missing `{expected}` in:\n{stdout}"
        );
    }

    // ayon_api really went through the probe, the login and GraphQL on this server.
    assert!(server.request_count("GET /") >= 3, "availability probes");
    assert_eq!(server.request_count("POST /api/auth/login"), 2);
    assert!(server.request_count("POST /graphql") >= 30);
}
