//! The real ayon-python-api 1.2.25, unchanged, against the testkit: login, API-key connection,
//! `get_project`, `get_folder_by_path`, `get_last_version_by_product_name`,
//! `get_hero_version_by_product_id`, `get_representation_by_name`,
//! `get_project_roots_by_site_id` and more, each checked against the demo data by
//! `tests/python/ayon_api_demo.py`.
//!
//! The package comes from PyPI into a venv under the cargo target dir, made once and reused
//! while it still imports the pinned version. No Python or no PyPI is a FAILURE, never a skip:
//! CI has both.

use std::path::Path;
use std::time::Duration;

use ayon_testkit::python::{ScriptRun, ayon_api_venv, run_script};
use ayon_testkit::{Library, TestServer};

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

#[test]
fn ayon_python_api_works_unchanged_against_the_testkit() {
    let python =
        ayon_api_venv(Path::new(env!("CARGO_TARGET_TMPDIR"))).unwrap_or_else(|e| panic!("{e}"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/ayon_api_demo.py");
    let server = TestServer::start(Library::demo_offline()).expect("testkit starts");

    let (user, password) = server.admin_credentials();
    let env = [
        ("AYON_TESTKIT_URL", server.url()),
        ("AYON_TESTKIT_USER", user),
        ("AYON_TESTKIT_PASSWORD", password),
        ("AYON_TESTKIT_API_KEY", server.api_key()),
    ];
    let ScriptRun {
        success: ok,
        stdout,
        stderr,
    } = run_script(&python, &script, &[], &env, SCRIPT_TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
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
