//! Contract test: every GraphQL exchange ayon-python-api 1.2.25 had with the real server
//! replays over HTTP against the testkit loaded with `demo_offline`, with the same status and
//! the same body.
//!
//! Nothing in these bodies is treated as variable: `demo_offline` carries the recorded entity
//! ids, file ids, hashes and createdAt/updatedAt values, so the bodies compare exactly. The only
//! recorded value replaced is the `<TOKEN>` placeholder of the `authorization` header (a secret
//! that was scrubbed from the recording), which becomes the testkit's own session token.

use ayon_testkit::{Library, TestServer, load_fixture};
use serde_json::Value;

/// The recordings holding `POST /graphql` exchanges, and how many each holds.
const RECORDINGS: [(&str, usize); 2] = [
    ("ayon_api_graphql.json", 8),
    ("ayon_api_resolve_and_roots.json", 1),
];

/// The first difference between two JSON values, as `path: expected != actual`.
fn first_difference(path: &str, expected: &Value, actual: &Value) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let Some(av) = a.get(key) else {
                    return Some(format!("{path}.{key}: missing in the testkit's answer"));
                };
                if let Some(d) = first_difference(&format!("{path}.{key}"), ev, av) {
                    return Some(d);
                }
            }
            a.keys()
                .find(|k| !e.contains_key(*k))
                .map(|k| format!("{path}.{k}: not in the recording"))
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Some(format!(
                    "{path}: {} items recorded, {} served",
                    e.len(),
                    a.len()
                ));
            }
            e.iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (ev, av))| first_difference(&format!("{path}[{i}]"), ev, av))
        }
        _ if expected == actual => None,
        _ => Some(format!("{path}: recorded {expected}, served {actual}")),
    }
}

#[tokio::test]
async fn recorded_ayon_api_graphql_exchanges_replay_over_http() {
    let server = TestServer::start(Library::demo_offline()).expect("testkit starts");
    let token = server.session_token();
    let client = reqwest::Client::new();
    let mut replayed = 0;
    for (file, expected_count) in RECORDINGS {
        let fixture = load_fixture(file).unwrap_or_else(|e| panic!("recorded fixture: {e}"));
        let exchanges = fixture["exchanges"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: no exchanges"));
        let mut in_file = 0;
        for exchange in exchanges {
            let request = &exchange["request"];
            if request["method"] != "POST" || request["path"] != "/graphql" {
                continue;
            }
            let what = format!("{file}: {}", exchange["note"]);
            let mut http = client.post(format!("{}/graphql", server.url()));
            for (name, value) in request["headers"].as_object().into_iter().flatten() {
                let value = value
                    .as_str()
                    .unwrap_or_default()
                    .replace("<TOKEN>", &token);
                if name != "referer" {
                    http = http.header(name.as_str(), value);
                }
            }
            let response = http
                .body(request["body"].to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{what}: request failed: {e}"));
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body: Value = response
                .json()
                .await
                .unwrap_or_else(|e| panic!("{what}: body is not JSON: {e}"));
            assert_eq!(
                status, exchange["response"]["status"],
                "{what}: status; body {body}"
            );
            assert!(
                content_type.starts_with("application/json"),
                "{what}: {content_type}"
            );
            if let Some(diff) = first_difference("body", &exchange["response"]["body"], &body) {
                panic!("{what}: {diff}");
            }
            in_file += 1;
        }
        assert_eq!(
            in_file, expected_count,
            "{file}: GraphQL exchanges replayed"
        );
        replayed += in_file;
    }
    assert_eq!(replayed, 9);
    assert_eq!(server.request_count("POST /graphql"), 9);
}

#[tokio::test]
async fn graphql_needs_credentials_and_reports_errors_in_graphql_shape() {
    let server = TestServer::start(Library::demo_offline()).expect("testkit starts");
    let client = reqwest::Client::new();
    let url = format!("{}/graphql", server.url());
    let query = serde_json::json!({"query": "{ project(name: \"missing\") { name } }"});

    let anonymous = client
        .post(&url)
        .json(&query)
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status().as_u16(), 401);

    let answer = client
        .post(&url)
        .header("x-api-key", server.api_key())
        .json(&query)
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.expect("JSON body");
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["message"], "Project not found");
    assert_eq!(body["errors"][0]["extensions"]["status"], 404);
}
