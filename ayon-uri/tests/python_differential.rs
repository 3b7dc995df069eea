//! Differential test against the real thing: `python_reference.py` runs the server's parsing
//! code on CPython's own `urllib.parse` for 40,000 generated inputs (valid, near-valid and
//! junk), and every verdict, message and field must match ours.
//!
//! Needs `python3` (3.11+, the server runs 3.13), so it is `#[ignore]`d in the default run:
//! `cargo test -p ayon-uri --test python_differential -- --ignored`.

use std::process::Command;

use ayon_uri::AyonUri;
use serde_json::{Value, json};

fn ours(input: &str) -> Value {
    match AyonUri::parse(input) {
        Ok(u) => json!({
            "ok": true,
            "project": u.project(),
            "path": u.folder_path(),
            "product": u.product(),
            "task": u.task(),
            "version": u.version().map(|v| v.to_string()),
            "representation": u.representation(),
            "workfile": u.workfile(),
            "target": u.target().map(|t| t.as_str()),
        }),
        Err(e) => json!({"ok": false, "msg": e.server_message()}),
    }
}

#[test]
#[ignore = "needs python3; run with --ignored"]
fn same_verdicts_as_cpython_running_the_server_code() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python_reference.py");
    let mut checked = 0;
    let mut valid = 0;
    let mut mismatches = Vec::new();
    for seed in ["1", "2"] {
        let out = Command::new("python3")
            .args([script, "20000", seed])
            .output()
            .expect("python3 runs (this test needs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8(out.stdout).expect("utf-8").lines() {
            let case: Value = serde_json::from_str(line).expect("json line");
            let input = case["input"].as_str().expect("input");
            let got = ours(input);
            checked += 1;
            valid += usize::from(case["expected"]["ok"] == true);
            if got != case["expected"] {
                mismatches.push(format!(
                    "{input:?}\n  python: {}\n  ours:   {got}",
                    case["expected"]
                ));
            }
        }
    }
    assert_eq!(checked, 40_000);
    assert!(
        valid > 4_000,
        "the generator should produce valid URIs too ({valid})"
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(10)].join("\n")
    );
}
