//! Direct tests of [`execute`] against the demo library, for the semantics the recording does
//! not show (`tests/contract_graphql.rs` replays the recording itself over a real socket).

use std::sync::Arc;

use parking_lot::RwLock;
use serde_json::{Value, json};

use super::execute;
use crate::library::Library;

fn demo() -> Arc<RwLock<Library>> {
    Arc::new(RwLock::new(Library::demo_offline()))
}

async fn run(query: &str, variables: Value) -> Value {
    let (status, body) = execute(demo(), json!({"query": query, "variables": variables})).await;
    assert_eq!(status, 200, "{body}");
    body
}

const VERSIONS: &str = "query V($projectName: String!, $productIds: [String!], $latestOnly: Boolean, $heroOnly: Boolean, $heroOrLatestOnly: Boolean) {
  project(name: $projectName) { versions(productIds: $productIds, latestOnly: $latestOnly, heroOnly: $heroOnly, heroOrLatestOnly: $heroOrLatestOnly, first: 300) {
    edges { node { name version active } } pageInfo { endCursor hasNextPage } } } }";

/// The `name` of each node of the project's `connection` (`versions`, `folders`, ...).
fn node_names(body: &Value, connection: &str) -> Vec<String> {
    body["data"]["project"][connection]["edges"]
        .as_array()
        .map(|edges| {
            edges
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn latest_only_ignores_active_and_hero_only_keeps_negative_versions() {
    let lib = demo();
    let product_id = {
        let mut guard = lib.write();
        let project = guard.project_mut("demo_offline").expect("demo project");
        let folder = project
            .folders
            .iter_mut()
            .find(|f| f.path == "assets/characters/hero")
            .expect("hero folder");
        let product = &mut folder.products[0];
        // Deactivate v003: the server's latestOnly still returns it (ayon_api filters later).
        product.versions[2].active = false;
        product.id.clone()
    };
    let vars = |extra: Value| {
        let mut v = json!({"projectName": "DEMO_OFFLINE", "productIds": [product_id]});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        json!({"query": VERSIONS, "variables": v})
    };
    let (_, latest) = execute(Arc::clone(&lib), vars(json!({"latestOnly": true}))).await;
    assert_eq!(node_names(&latest, "versions"), ["v003"]);
    assert_eq!(
        latest["data"]["project"]["versions"]["edges"][0]["node"]["active"],
        false
    );
    let (_, hero) = execute(Arc::clone(&lib), vars(json!({"heroOnly": true}))).await;
    assert_eq!(node_names(&hero, "versions"), ["HERO"]);
    let (_, both) = execute(Arc::clone(&lib), vars(json!({"heroOrLatestOnly": true}))).await;
    assert_eq!(node_names(&both, "versions"), ["v003", "HERO"]);
    let (_, all) = execute(lib, vars(json!({}))).await;
    assert_eq!(
        node_names(&all, "versions"),
        ["v001", "v002", "v003", "HERO"]
    );
}

#[tokio::test]
async fn pagination_walks_all_props_in_pages_of_seven() {
    let query = "query F($after: String) { project(name: \"demo_offline\") {
        folders(parentIds: [\"85aaa370e6c311f1a91e02fc00000001\"], first: 7, after: $after) {
          edges { cursor node { name path } } pageInfo { endCursor hasNextPage } } } }";
    let mut names = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let body = run(query, json!({"after": after})).await;
        let conn = &body["data"]["project"]["folders"];
        for edge in conn["edges"].as_array().expect("edges") {
            let name = edge["node"]["name"].as_str().expect("name").to_owned();
            assert_eq!(edge["node"]["path"], format!("/assets/props/{name}"));
            names.push(name);
        }
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
        assert!(pages < 50, "pagination does not end");
    }
    let expected: Vec<String> = (1..=100).map(|i| format!("prop{i:03}")).collect();
    assert_eq!(names, expected);
    assert_eq!(pages, 15);
}

#[tokio::test]
async fn folder_paths_match_with_or_without_slashes_and_case_sensitively() {
    let query = "query F($paths: [String!]) { project(name: \"demo_offline\") {
        folders(paths: $paths) { edges { node { id path parentId parents } } } } }";
    let body = run(
        query,
        json!({"paths": ["shots/sq010/sh010/", "/assets", "ASSETS/characters"]}),
    )
    .await;
    let edges = body["data"]["project"]["folders"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    let paths: Vec<&Value> = edges.iter().map(|e| &e["node"]["path"]).collect();
    assert_eq!(paths, [&json!("/assets"), &json!("/shots/sq010/sh010")]);
    assert_eq!(edges[0]["node"]["parentId"], Value::Null);
    assert_eq!(edges[1]["node"]["parents"], json!(["shots", "sq010"]));
    let empty = run(query, json!({"paths": []})).await;
    assert_eq!(empty["data"]["project"]["folders"]["edges"], json!([]));
    assert_eq!(
        empty["data"]["project"]["folders"]["pageInfo"]["endCursor"],
        Value::Null
    );
}

#[tokio::test]
async fn errors_have_the_graphql_shape() {
    let body = run("{ project(name: \"nope\") { name } }", Value::Null).await;
    assert_eq!(body["data"], Value::Null);
    assert_eq!(body["errors"][0]["message"], "Project not found");
    assert_eq!(body["errors"][0]["extensions"]["status"], 404);
    assert_eq!(body["errors"][0]["path"], json!(["project"]));

    let body = run(
        "{ project(name: \"demo_offline\") { folders { edges { node { bogus } } } } }",
        Value::Null,
    )
    .await;
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains("bogus"), "{message}");

    let body = run("{ project(name: ", Value::Null).await;
    assert!(body["errors"][0]["message"].is_string(), "{body}");

    let (status, body) = execute(demo(), json!({"variables": {}})).await;
    assert_eq!(status, 400);
    assert_eq!(body["detail"], "No GraphQL query found in the request");
}

#[tokio::test]
async fn representation_parents_chain_and_file_sizes() {
    let query = "{ project(name: \"demo_offline\") { representations(names: [\"abc\"], first: 1) {
        edges { node { name context files { size hashType } version { name product { name folder { path } } } } } } } }";
    let body = run(query, Value::Null).await;
    let node = &body["data"]["project"]["representations"]["edges"][0]["node"];
    assert_eq!(node["files"][0]["size"], "1024");
    assert_eq!(node["files"][0]["hashType"], "op3");
    assert_eq!(node["version"]["name"], "v001");
    assert_eq!(node["version"]["product"]["name"], "usdAsset");
    assert_eq!(
        node["version"]["product"]["folder"]["path"],
        "/assets/characters/hero"
    );
    let context: Value = serde_json::from_str(node["context"].as_str().expect("context string"))
        .expect("context is JSON");
    assert_eq!(context["representation"], "abc");
}

#[tokio::test]
async fn folder_flag_filters_and_root_parent() {
    let query =
        "query F($parents: [String!], $p: Boolean, $c: Boolean) { project(name: \"demo_offline\") {
        folders(parentIds: $parents, hasProducts: $p, hasChildren: $c, first: 300) {
          edges { node { name hasChildren hasProducts hasTasks } } } } }";
    let names = |body: &Value| node_names(body, "folders");
    let top = run(query, json!({"parents": ["root"]})).await;
    assert_eq!(names(&top), ["assets", "shots"]);
    assert_eq!(
        top["data"]["project"]["folders"]["edges"][0]["node"]["hasChildren"],
        true
    );
    let with_products = run(query, json!({"p": true})).await;
    let found = names(&with_products);
    assert_eq!(found.len(), 102, "hero, sh010 and 100 props");
    assert_eq!(found[..2], ["hero".to_owned(), "sh010".to_owned()]);
    let leaves_without_products = run(query, json!({"p": false, "c": false})).await;
    assert!(names(&leaves_without_products).is_empty());
}
