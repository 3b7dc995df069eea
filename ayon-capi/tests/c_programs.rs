//! The C ABI end to end: the C programs of `tests/c/` (and the C++17 sketch of
//! docs/embedding-c.md) are compiled against `include/ayon_resolver.h` and the built cdylib,
//! and run against an ayon-testkit server, under valgrind when it is installed.
//!
//! A program asks the harness to act on the server by printing `@@ crash` / `@@ restart`;
//! the harness does it and answers `ok` on the program's stdin.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use ayon_testkit::{Library, TestServer};

fn server() -> TestServer {
    TestServer::builder()
        .library(Library::demo_offline())
        .heartbeat_interval(Duration::from_millis(200))
        .boot_time(Duration::from_millis(500))
        .restart_refuse_for(Duration::from_millis(300))
        .start()
        .expect("testkit server starts")
}

/// Where the freshly built cdylib is: `target/debug/deps` (this test's own directory, where
/// `cargo test` writes it), else `target/debug` (where `cargo build` copies it).
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let deps = exe.parent().expect("target/debug/deps");
    let has_lib =
        |d: &Path| d.join("libayon_capi.so").exists() || d.join("libayon_capi.dylib").exists();
    let dir = [Some(deps), deps.parent()]
        .into_iter()
        .flatten()
        .find(|d| has_lib(d))
        .unwrap_or_else(|| panic!("no libayon_capi in {} or its parent", deps.display()));
    dir.to_owned()
}

/// Compiles `tests/c/<source>` into `out_dir`, linked against the cdylib with an rpath.
fn compile(source: &str, out_dir: &Path) -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = lib_dir();
    let cpp = source.ends_with(".cpp");
    let compiler = if cpp {
        std::env::var("CXX").unwrap_or_else(|_| "c++".into())
    } else {
        std::env::var("CC").unwrap_or_else(|_| "cc".into())
    };
    let exe = out_dir.join(source.replace('.', "_"));
    let mut cmd = Command::new(&compiler);
    if cpp {
        cmd.args(["-std=c++17", "-Wall", "-Wextra", "-Werror"]);
    } else {
        cmd.args([
            "-std=c99",
            "-D_POSIX_C_SOURCE=200809L",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pthread",
        ]);
    }
    cmd.arg("-g")
        .arg("-I")
        .arg(here.join("include"))
        .arg(here.join("tests/c").join(source))
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(&lib)
        // DT_RPATH, not RUNPATH: it wins over the LD_LIBRARY_PATH cargo sets for tests, which
        // may name an older copy of the library in target/debug.
        .arg("-Wl,--disable-new-dtags")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-layon_capi");
    if !cpp {
        cmd.arg("-pthread");
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {compiler}: {e}"));
    assert!(
        out.status.success(),
        "compiling {source} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

fn valgrind() -> Option<PathBuf> {
    let ok = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("valgrind"))
}

/// Runs a compiled program against `server`; returns its stdout lines (minus `@@` steps).
fn run(exe: &Path, server: &TestServer, dir: &Path, under_valgrind: bool) -> Vec<String> {
    let mut cmd = match (under_valgrind, valgrind()) {
        (true, Some(v)) => {
            let mut c = Command::new(v);
            c.args([
                "--quiet",
                "--error-exitcode=1",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,possible",
                "--show-leak-kinds=definite,possible",
            ])
            .arg(format!(
                "--suppressions={}",
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/valgrind.supp")
                    .display()
            ))
            .arg(exe);
            c
        }
        _ => Command::new(exe),
    };
    let mut child = cmd
        .env("AYON_TEST_URL", server.url())
        .env("AYON_TEST_TOKEN", server.session_token())
        .env("AYON_TEST_DIR", dir)
        .env_remove("AYON_SERVER_URL")
        .env_remove("AYON_API_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the C program");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("a line of output");
        match line.strip_prefix("@@ ") {
            Some("crash") => server.crash(),
            Some("restart") => server.restart(),
            Some(other) => panic!("unknown harness step {other}"),
            None => {
                lines.push(line);
                continue;
            }
        }
        writeln!(stdin, "ok").expect("answer the program");
        stdin.flush().expect("flush");
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}\n{stderr}",
        exe.display(),
        out.status,
        lines.join("\n")
    );
    lines
}

fn program(source: &str, under_valgrind: bool) -> Vec<String> {
    let server = server();
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = compile(source, dir.path());
    let lines = run(&exe, &server, dir.path(), under_valgrind);
    let name = source.split('.').next().unwrap_or(source);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(name) && (l.contains("checks passed") || l.contains("ok"))),
        "{source} did not finish: {lines:?}"
    );
    eprintln!(
        "{source} (valgrind: {}): {}",
        under_valgrind && valgrind().is_some(),
        lines.join(" | ")
    );
    lines
}

#[test]
fn online_then_offline_in_c_under_valgrind() {
    program("online.c", true);
}

#[test]
fn contexts_and_pinning_in_c_under_valgrind() {
    program("contexts.c", true);
}

#[test]
fn a_state_callback_fires_on_restart_under_valgrind() {
    program("callback.c", true);
}

/// Without valgrind: 8 threads x 200 resolves under valgrind's serialised threads would take
/// most of the test time and prove less about races than a native run.
#[test]
fn eight_threads_resolve_while_another_drops_the_cache() {
    program("threads.c", false);
}

#[test]
fn the_ar_sketch_compiles_as_cpp17_and_resolves() {
    program("ar_sketch.cpp", true);
}

#[test]
fn prepare_offline_with_progress_and_cancel_under_valgrind() {
    program("prepare.c", true);
}
