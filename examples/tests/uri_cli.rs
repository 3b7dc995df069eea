//! Runs the real `ayon` binary: `ayon uri parse` JSON output and exit codes.

use std::process::{Command, Output};

use serde_json::Value;

fn ayon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ayon"))
        .args(args)
        .env_remove("AYON_SERVER_URL")
        .output()
        .expect("the ayon binary runs")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect()
}

#[test]
fn json_fields_for_valid_uris_and_exit_zero() {
    let out = ayon(&[
        "--json",
        "uri",
        "parse",
        "ayon://demo//assets/hero/?product=usdMain&version=4&representation=usd:SDF_FORMAT_ARGS:a=b",
        "AYON+ENTITY://demo/shots/sq010?product=x&version=LatestDone",
        "ayon://demo",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    let first = &lines[0];
    assert_eq!(first["ok"], true);
    assert_eq!(
        first["canonical"],
        "ayon+entity://demo/assets/hero?product=usdMain&version=v004&representation=usd"
    );
    assert_eq!(first["scheme"], "ayon");
    assert_eq!(first["project"], "demo");
    assert_eq!(first["folder_path"], "assets/hero");
    assert_eq!(first["product"], "usdMain");
    assert_eq!(first["version"], 4);
    assert_eq!(first["representation"], "usd");
    assert_eq!(first["task"], Value::Null);
    assert_eq!(first["workfile"], Value::Null);
    assert_eq!(first["target"], "representation");
    assert_eq!(first["sdf_format_args"], ":SDF_FORMAT_ARGS:a=b");
    assert!(
        first["input"]
            .as_str()
            .is_some_and(|s| s.starts_with("ayon://demo//"))
    );

    assert_eq!(lines[1]["scheme"], "ayon+entity");
    assert_eq!(lines[1]["version"], "latestdone");
    assert_eq!(lines[1]["target"], "version");
    assert_eq!(lines[2]["target"], Value::Null);
    assert_eq!(lines[2]["version"], Value::Null);
}

#[test]
fn any_invalid_uri_gives_exit_one_and_the_servers_message() {
    let out = ayon(&[
        "uri",
        "parse",
        "--json",
        "ayon://demo/a?product=x&version=banana",
        "ayon://demo/a",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "valid ones are still printed");
    assert_eq!(lines[0]["ok"], false);
    assert_eq!(lines[0]["error"], "Invalid version name: banana");
    assert_eq!(lines[0]["offset"], 32);
    assert_eq!(lines[1]["ok"], true);
    assert_eq!(lines[1]["target"], "folder");
}

#[test]
fn text_output_names_the_fields() {
    let out = ayon(&["uri", "parse", "ayon://demo/a?task=modeling"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("canonical:       ayon+entity://demo/a?task=modeling"),
        "{text}"
    );
    assert!(text.contains("target:          task"), "{text}");

    let out = ayon(&["uri", "parse", "http://demo/a"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("invalid: Invalid scheme: http"));
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(
        ayon(&["uri", "parse"]).status.code(),
        Some(2),
        "no URI given"
    );
    assert_eq!(
        ayon(&["uri", "parse", "--no-such-flag", "x"]).status.code(),
        Some(2)
    );
    assert_eq!(ayon(&["uri", "frobnicate"]).status.code(), Some(2));
}
