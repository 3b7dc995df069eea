//! Runs the real `ayon` binary: `ayon pin write|lookup|check` on files in a temp dir.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// `ayon` with the roots variables cleared (and set from `env` when given).
fn ayon(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ayon"));
    cmd.env_remove("AYON_USD_RESOLVER_PINNING_ROOTS")
        .env_remove("PROJECT_ROOTS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("the ayon binary runs")
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const URI: &str = "ayon+entity://demo/assets/hero?product=usdMain&version=v004&representation=usd";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn write_then_lookup_with_roots_from_flag_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let pin = dir.path().join("job_pin.json");
    let root = dir.path().join("projects");
    let roots = format!("work={}", s(&root));
    let hero = format!("{}/demo/hero_v004.usd", s(&root));
    let out = ayon(
        &[],
        &[
            "pin",
            "write",
            "--json",
            "--out",
            s(&pin),
            "--roots",
            &roots,
            "--entry-scene",
            &format!("{}/demo/sh010.usd", s(&root)),
            &format!("{URI}={hero}"),
            "/elsewhere/tex.exr=/elsewhere/tex.exr",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = &lines(&out)[0];
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["entries"], 2);
    // Rootless on disk, in AYON's shape.
    let on_disk: Value = serde_json::from_str(&fs::read_to_string(&pin).unwrap()).unwrap();
    assert_eq!(
        on_disk["ayon_resolver_pinning_data"][URI],
        "{root[work]}/demo/hero_v004.usd"
    );
    assert_eq!(
        on_disk["ayon_resolver_pinning_data"]["ayon_pinning_data_entry_scene"],
        "{root[work]}/demo/sh010.usd"
    );

    // Lookup on a "farm" whose root differs, given by the environment (legacy variable).
    let out = ayon(
        &[("PROJECT_ROOTS", "work:/farm/projects")],
        &[
            "pin",
            "lookup",
            "--json",
            s(&pin),
            "ayon://demo//assets/hero?product=usdMain&version=4&representation=usd",
            "ayon://demo/assets/hero?product=usdMain&version=5&representation=usd",
            "ayon://demo/a?version=banana",
            "\\elsewhere\\tex.exr",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let l = lines(&out);
    assert_eq!(l.len(), 4);
    assert_eq!(
        l[0],
        serde_json::json!({
            "identifier": "ayon://demo//assets/hero?product=usdMain&version=4&representation=usd",
            "ok": true, "path": "/farm/projects/demo/hero_v004.usd"
        })
    );
    assert_eq!(l[1]["ok"], false);
    assert!(l[1]["error"].as_str().unwrap().contains("not pinned"));
    assert!(
        l[2]["error"].as_str().unwrap().contains("banana"),
        "{}",
        l[2]
    );
    assert_eq!(l[3]["path"], "/elsewhere/tex.exr");

    // The newer variable wins over the legacy one; text output; all found -> exit 0.
    let out = ayon(
        &[
            ("AYON_USD_RESOLVER_PINNING_ROOTS", "work=/new"),
            ("PROJECT_ROOTS", "work:/old"),
        ],
        &["pin", "lookup", s(&pin), URI],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{URI} -> /new/demo/hero_v004.usd")
    );
}

#[test]
fn lookup_reports_load_errors_per_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let pin = dir.path().join("pin.json");
    fs::write(
        &pin,
        r#"{"ayon_resolver_pinning_data": {"a": "{root[nas]}/a"}}"#,
    )
    .unwrap();
    let out = ayon(&[], &["pin", "lookup", "--json", s(&pin), "a", "b"]);
    assert_eq!(out.status.code(), Some(2));
    let l = lines(&out);
    assert_eq!(l.len(), 2);
    for (line, id) in l.iter().zip(["a", "b"]) {
        assert_eq!(line["identifier"], id);
        assert_eq!(line["ok"], false);
        let e = line["error"].as_str().unwrap();
        assert!(
            e.contains("unknown root `nas`") && e.contains("pin.json"),
            "{e}"
        );
    }
    // A bad roots string is an error too.
    let out = ayon(
        &[],
        &["pin", "lookup", s(&pin), "a", "--roots", "work=/a,b"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("`b`"));
}

#[test]
fn check_reports_paths_missing_here() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    fs::create_dir_all(root.join("demo")).unwrap();
    fs::write(root.join("demo/present.usd"), "#usda 1.0\n").unwrap();
    let pin = dir.path().join("pin.json");
    fs::write(
        &pin,
        r#"{"ayon_resolver_pinning_data": {
            "ayon://demo/present?product=p&version=1&representation=usd": "{root[work]}/demo/present.usd",
            "{root[work]}/demo/present.usd": "{root[work]}/demo/present.usd",
            "ayon://demo/gone?product=p&version=1&representation=usd": "{root[work]}/demo/gone.usd",
            "ayon_pinning_data_entry_scene": "{root[work]}/demo/present.usd"}}"#,
    )
    .unwrap();
    let roots = format!("work={}", s(&root));
    let out = ayon(&[], &["pin", "check", "--json", s(&pin), "--roots", &roots]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let l = lines(&out);
    assert_eq!(l.len(), 2, "{l:?}");
    assert_eq!(
        l[0]["identifier"],
        "ayon://demo/gone?product=p&version=1&representation=usd"
    );
    assert_eq!(l[0]["path"], format!("{}/demo/gone.usd", s(&root)));
    assert_eq!(l[1]["entries"], 3);
    assert_eq!(l[1]["missing"], 1);
    assert_eq!(l[1]["entry_scene_exists"], true);

    fs::write(root.join("demo/gone.usd"), "").unwrap();
    let out = ayon(
        &[("AYON_USD_RESOLVER_PINNING_ROOTS", &roots)],
        &["pin", "check", s(&pin)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 entries, 0 missing"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = ayon(&[], &["pin", "check", s(&dir.path().join("nope.json"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.json"), "{}", stderr(&out));
}

#[test]
fn write_refuses_malformed_entries() {
    let dir = tempfile::tempdir().unwrap();
    let pin = dir.path().join("pin.json");
    let out = ayon(&[], &["pin", "write", "--out", s(&pin), "no-equals-sign"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("IDENTIFIER=PATH"), "{}", stderr(&out));
    assert!(!pin.exists());
}
