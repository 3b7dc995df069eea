//! The oracle: every URI the real server was sent in the recorded `resolve_*.json` fixtures
//! must get the server's verdict, its exact error message, and its target kind.

use std::path::PathBuf;

use ayon_uri::AyonUri;
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    let shared = match std::env::var_os("AYON_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    shared.join("fixtures").join("ayon-server")
}

/// (uri, server error, targets of returned entities) for every per-URI answer recorded.
fn recorded_answers() -> Vec<(String, Option<String>, Vec<String>)> {
    let dir = fixtures_dir();
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "AYON server fixtures missing at {} ({e}); set AYON_SHARED_DIR to the shared dir",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("resolve_") && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "expected the resolve_*.json fixtures in {}",
        dir.display()
    );

    let mut answers = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("fixture readable");
        let doc: Value = serde_json::from_str(&text).expect("fixture is JSON");
        for exchange in doc["exchanges"].as_array().expect("exchanges list") {
            let uris = &exchange["request"]["body"]["uris"];
            let items = &exchange["response"]["body"];
            let (Some(uris), Some(items)) = (uris.as_array(), items.as_array()) else {
                continue; // whole-request failures (4xx/5xx): no per-URI verdicts
            };
            assert_eq!(
                uris.len(),
                items.len(),
                "{}: one item per URI",
                file.display()
            );
            for (uri, item) in uris.iter().zip(items) {
                let uri = uri.as_str().expect("uri string").to_owned();
                assert_eq!(
                    item["uri"].as_str(),
                    Some(uri.as_str()),
                    "items echo the input"
                );
                let error = item.get("error").and_then(Value::as_str).map(str::to_owned);
                let targets = item["entities"]
                    .as_array()
                    .map(|es| {
                        es.iter()
                            .filter_map(|e| e.get("target").and_then(Value::as_str))
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                answers.push((uri, error, targets));
            }
        }
    }
    answers
}

#[test]
fn every_fixture_uri_gets_the_servers_verdict_message_and_target() {
    let answers = recorded_answers();
    assert!(
        answers.len() >= 40,
        "only {} recorded answers",
        answers.len()
    );
    let mut distinct = std::collections::HashSet::new();
    let (mut valid, mut invalid, mut with_target) = (0, 0, 0);
    for (uri, error, targets) in &answers {
        distinct.insert(uri.clone());
        let parsed = AyonUri::parse(uri);
        match error {
            Some(e) if !(e.starts_with("Project ") && e.ends_with(" not found")) => {
                let got = parsed.expect_err(&format!("server rejected {uri:?} with {e:?}"));
                assert_eq!(&got.server_message(), e, "message for {uri:?}");
                invalid += 1;
            }
            _ => {
                let got =
                    parsed.unwrap_or_else(|err| panic!("server accepted {uri:?}, we said {err}"));
                for target in targets {
                    with_target += 1;
                    assert_eq!(
                        got.target().map(|t| t.as_str()),
                        Some(target.as_str()),
                        "target of {uri:?}"
                    );
                }
                // A project-only URI gets `entities: []` from the server: no target.
                if got.folder_path().is_empty() && got.product().is_none() && got.task().is_none() {
                    assert_eq!(got.target(), None, "{uri:?}");
                }
                valid += 1;
            }
        }
    }
    assert!(
        distinct.len() >= 40,
        "only {} distinct URIs",
        distinct.len()
    );
    assert!(
        invalid >= 6 && valid >= 30 && with_target >= 20,
        "{invalid} {valid} {with_target}"
    );
}
