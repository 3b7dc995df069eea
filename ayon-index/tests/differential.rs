//! The index and the testkit server are independent implementations of the server's resolve;
//! random URIs over the demo library go to both (`resolveRoots=false`, no site, so every URI is
//! answered on its own) and their answers are compared.
//!
//! Two kinds of difference are known testkit gaps (the index follows the server's code there;
//! see the report of issue 11); they are counted and printed, every other one fails the test:
//! - class (a): a level left out above the one asked for (no folder path, a blank or
//!   misspelled `product` while naming a version or representation): the server searches
//!   more widely than the testkit;
//! - version-name order: `version=banana` in a project the server does not have; the server
//!   looks the project up first (`Project x not found`), the testkit reports the version.

mod common;

use ayon_testkit::{Library, TestServer};
use ayon_uri::{AyonUri, Target};
use common::{SiteConfig, demo_index, uri};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

const URIS: usize = 600;

/// Class (a) of issue 11: the URI leaves out the folder path above the level it asks for, or
/// leaves out (or misspells) the product while naming a version or representation.
fn widens(input: &str) -> bool {
    let Ok(uri) = AyonUri::parse(input) else {
        return false;
    };
    let no_folder = uri.folder_path().is_empty() && uri.target() != Some(Target::Folder);
    let no_product = matches!(uri.target(), Some(Target::Version | Target::Representation))
        && uri
            .product()
            .is_none_or(|p| p == "*" || !["usdAsset", "modelMain", "usdShot"].contains(&p));
    no_folder || no_product
}

/// A version name the server refuses, in a project it does not have: it says the project.
fn version_error_order(index_answer: &Value, testkit_answer: &Value) -> bool {
    index_answer["error"]
        .as_str()
        .is_some_and(|e| e.starts_with("Project ") && e.ends_with(" not found"))
        && testkit_answer["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("Invalid version name: "))
}

fn testkit_answers(server: &TestServer, uris: &[String]) -> Vec<Value> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut out = Vec::new();
        for chunk in uris.chunks(100) {
            let response = client
                .post(format!("{}/api/resolve", server.url()))
                .header("x-api-key", server.api_key())
                .json(&json!({ "resolveRoots": false, "uris": chunk }))
                .send()
                .await
                .expect("testkit answers");
            assert_eq!(response.status(), 200);
            let body: Vec<Value> = response.json().await.expect("JSON list");
            out.extend(body);
        }
        out
    })
}

#[test]
fn index_and_testkit_agree_on_random_uris() {
    let mut runner = TestRunner::deterministic();
    let strategy = uri();
    let uris: Vec<String> = (0..URIS)
        .map(|_| strategy.new_tree(&mut runner).expect("value").current())
        .collect();
    let server = TestServer::start(Library::demo_offline()).expect("testkit starts");
    let expected = testkit_answers(&server, &uris);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = SiteConfig {
        site_id: None,
        platform: None,
        resolve_roots: false,
    };
    let index = demo_index(dir.path(), &config);
    let answers = index.resolve_batch(&uris).expect("index answers");
    let (mut agree, mut widened, mut ordered, mut other) = (0, Vec::new(), Vec::new(), Vec::new());
    for (got, want) in answers.iter().zip(&expected) {
        let got = serde_json::to_value(got).expect("serializes");
        if &got == want {
            agree += 1;
        } else if widens(got["uri"].as_str().unwrap_or_default()) {
            widened.push(format!(
                "{}\n  index:   {got}\n  testkit: {want}",
                want["uri"]
            ));
        } else if version_error_order(&got, want) {
            ordered.push(format!(
                "{}\n  index:   {got}\n  testkit: {want}",
                want["uri"]
            ));
        } else {
            other.push(format!(
                "{}\n  index:   {got}\n  testkit: {want}",
                want["uri"]
            ));
        }
    }
    println!(
        "{agree} of {} random URIs agree; {} class-(a) differences; {} version-name-order \
         differences; {} others",
        uris.len(),
        widened.len(),
        ordered.len(),
        other.len()
    );
    for d in widened.iter().chain(&ordered).chain(&other) {
        let short: String = d.chars().take(600).collect();
        println!("DIFF {short}");
    }
    assert!(
        other.is_empty(),
        "{} differences outside class (a)",
        other.len()
    );
    assert!(agree > URIS / 2, "only {agree} agree");
}
