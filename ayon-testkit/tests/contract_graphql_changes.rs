//! Contract tests over HTTP for what an incremental prepare asks the server, with the real
//! server's semantics (`ayon_server/sqlfilter.py`, `graphql/resolvers/*.py`,
//! `graphql/resolvers/events.py`): the `filter` argument of the entity connections on
//! `updatedAt`, `events` with `topics` / `projects` / `newerThan`, and `me`.

use ayon_testkit::{Library, TestServer};
use serde_json::{Value, json};

const PROJECT: &str = "demo_offline";
const HERO: &str = "assets/characters/hero";

async fn graphql(server: &TestServer, key: &str, query: &str, variables: Value) -> Value {
    let answer = reqwest::Client::new()
        .post(format!("{}/graphql", server.url()))
        .header("x-api-key", key)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status().as_u16(), 200);
    answer.json().await.expect("JSON body")
}

/// The first GraphQL error's message, empty without one.
fn error(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or("")
}

/// The ids of `connection` whose `updatedAt` passes `operator value`.
async fn changed(
    server: &TestServer,
    connection: &str,
    operator: &str,
    value: &str,
) -> Vec<String> {
    let filter =
        json!({"conditions": [{"key": "updatedAt", "operator": operator, "value": value}]})
            .to_string();
    let query = format!(
        "query Q($p: String!, $f: String) {{ project(name: $p) {{ {connection}(filter: $f, first: 1000) {{ edges {{ node {{ id updatedAt }} }} }} }} }}"
    );
    let body = graphql(
        server,
        &server.api_key(),
        &query,
        json!({"p": PROJECT, "f": filter}),
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["project"][connection]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The newest `updatedAt` of the library (all five entity kinds).
fn newest(lib: &Library) -> String {
    let p = lib.project(PROJECT).expect("project");
    let mut times: Vec<&str> = p.folders.iter().map(|f| f.updated_at.as_str()).collect();
    times.extend(p.tasks().map(|(_, t)| t.updated_at.as_str()));
    times.extend(p.products().map(|(_, x)| x.updated_at.as_str()));
    times.extend(p.versions().map(|(_, _, v)| v.updated_at.as_str()));
    times.extend(
        p.representations()
            .map(|(_, _, _, r)| r.updated_at.as_str()),
    );
    times.into_iter().max().expect("entities").to_owned()
}

const CONNECTIONS: [&str; 5] = [
    "folders",
    "tasks",
    "products",
    "versions",
    "representations",
];

#[tokio::test]
async fn updated_at_filters_keep_only_what_changed_on_every_connection() {
    let server = TestServer::start(Library::demo_offline()).expect("testkit");
    let before = newest(&server.library().read());
    for connection in CONNECTIONS {
        // Nothing is newer than the newest; `gte` keeps the entities stamped with it exactly.
        assert!(changed(&server, connection, "gt", &before).await.is_empty());
        let all = changed(&server, connection, "gte", "1970-01-01T00:00:00+00:00").await;
        assert!(!all.is_empty(), "{connection}");
        assert!(changed(&server, connection, "gte", &before).await.len() < all.len());
    }
    server
        .publish_version(PROJECT, HERO, "usdAsset", &["usd", "abc"])
        .expect("publish");
    assert!(changed(&server, "folders", "gt", &before).await.is_empty());
    assert!(changed(&server, "products", "gt", &before).await.is_empty());
    assert_eq!(changed(&server, "versions", "gt", &before).await.len(), 1);
    assert_eq!(
        changed(&server, "representations", "gt", &before)
            .await
            .len(),
        2
    );
    // Instants, not text: the same bound written an hour ahead in +01:00 keeps the same rows,
    // and one hour later in UTC keeps none of them.
    let t = ayon_site::parse_server_time(&before).expect("server time");
    let ahead = ayon_site::format_server_time(t + std::time::Duration::from_secs(3600));
    let plus_one = ahead.replace("+00:00", "+01:00");
    assert_eq!(changed(&server, "versions", "gt", &plus_one).await.len(), 1);
    let now = ayon_site::format_server_time(
        std::time::SystemTime::now() + std::time::Duration::from_secs(3600),
    );
    assert!(changed(&server, "versions", "gt", &now).await.is_empty());
}

#[tokio::test]
async fn a_filter_follows_the_servers_rules_for_keys_operators_and_groups() {
    let server = TestServer::start(Library::demo_offline()).expect("testkit");
    let ask = |filter: Value| {
        let server = &server;
        async move {
            graphql(
                server,
                &server.api_key(),
                "query Q($p: String!, $f: String) { project(name: $p) { products(filter: $f) { edges { node { name } } } } }",
                json!({"p": PROJECT, "f": filter.to_string()}),
            )
            .await
        }
    };
    // A key outside the connection's whitelist: the server's ValueError.
    let body = ask(json!({"conditions": [{"key": "path", "value": "x"}]})).await;
    assert_eq!(body["errors"][0]["message"], "Invalid key: path");
    // Operators are lower-cased without `-`/`_`; an empty `in` list matches nothing.
    let body = ask(json!({"conditions": [{"key": "name", "operator": "IN", "value": []}]})).await;
    assert_eq!(body["data"]["project"]["products"]["edges"], json!([]));
    let body =
        ask(json!({"conditions": [{"key": "name", "operator": "not_in", "value": []}]})).await;
    let all = body["data"]["project"]["products"]["edges"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(all > 2);
    // `or` groups nested in an `and`.
    let body = ask(json!({"conditions": [
        {"key": "productType", "value": "usd"},
        {"operator": "or", "conditions": [
            {"key": "name", "value": "usdAsset"}, {"key": "name", "value": "nothing"}]}]}))
    .await;
    let names: Vec<&str> = body["data"]["project"]["products"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter_map(|e| e["node"]["name"].as_str())
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|n| *n == "usdAsset"),
        "{names:?}"
    );
    // A value for every operator but isnull/notnull; a timestamp must be one.
    let body = ask(json!({"conditions": [{"key": "name", "operator": "eq"}]})).await;
    assert_eq!(body["errors"][0]["message"], "Value cannot be null");
    let body =
        ask(json!({"conditions": [{"key": "updatedAt", "operator": "gt", "value": "soon"}]})).await;
    assert!(error(&body).contains("timestamp"), "{body}");
}

const DELETED: &str = "query E($p: [String!], $t: String) { me { name isManager } events(topics: [\"entity.%.deleted\"], projects: $p, newerThan: $t, first: 100) { edges { node { topic project summary createdAt } } } }";

async fn deleted(server: &TestServer, key: &str, variables: Value) -> Value {
    graphql(server, key, DELETED, variables).await
}

#[tokio::test]
async fn events_list_deletions_since_a_time_and_only_a_managers_see_everyones() {
    let server = TestServer::start(Library::demo_offline()).expect("testkit");
    let since = ayon_site::format_server_time(
        std::time::SystemTime::now() - std::time::Duration::from_secs(1),
    );
    let product_id = server
        .library()
        .read()
        .project(PROJECT)
        .and_then(|p| p.folder_by_path(HERO))
        .and_then(|f| f.products.iter().find(|x| x.name == "modelMain"))
        .map(|x| x.id.clone())
        .expect("modelMain");
    server
        .publish_version(PROJECT, HERO, "usdAsset", &["usd"])
        .expect("publish");
    server
        .delete_product(PROJECT, HERO, "modelMain")
        .expect("delete");

    let body = deleted(
        &server,
        &server.api_key(),
        json!({"p": [PROJECT], "t": since}),
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["me"]["isManager"], true);
    let edges = body["data"]["events"]["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 1, "only the deletion, not the publish: {body}");
    let node = &edges[0]["node"];
    assert_eq!(node["topic"], "entity.product.deleted");
    assert_eq!(node["project"], PROJECT);
    let summary: Value =
        serde_json::from_str(node["summary"].as_str().expect("JSON text")).expect("summary");
    assert_eq!(summary["entityId"], product_id.as_str());

    // `newerThan` is strict and compares instants; another project's events are not listed.
    let created = node["createdAt"].as_str().expect("createdAt").to_owned();
    let body = deleted(
        &server,
        &server.api_key(),
        json!({"p": [PROJECT], "t": created}),
    )
    .await;
    assert_eq!(body["data"]["events"]["edges"], json!([]));
    let body = deleted(
        &server,
        &server.api_key(),
        json!({"p": ["other"], "t": since}),
    )
    .await;
    assert_eq!(body["data"]["events"]["edges"], json!([]));
    let body = deleted(
        &server,
        &server.api_key(),
        json!({"p": [PROJECT], "t": "last week"}),
    )
    .await;
    assert!(error(&body).contains("isoformat"), "{body}");

    // A user who is not a manager sees only their own events: none of the admin's deletion.
    let key = "Artistkey0123456789abcdefghijklm";
    let put = reqwest::Client::new()
        .put(format!("{}/api/users/artist", server.url()))
        .header("x-api-key", server.api_key())
        .json(&json!({"apiKey": key, "attrib": {"fullName": "Artist"}}))
        .send()
        .await
        .expect("create a user");
    assert!(put.status().is_success(), "{}", put.status());
    let body = deleted(&server, key, json!({"p": [PROJECT], "t": since})).await;
    assert_eq!(body["data"]["me"]["isManager"], false, "{body}");
    assert_eq!(body["data"]["events"]["edges"], json!([]));
}

#[tokio::test]
async fn the_testkit_counts_the_entity_rows_it_serves() {
    let server = TestServer::start(Library::demo_offline()).expect("testkit");
    server.reset_counters();
    let versions = changed(&server, "versions", "gte", "1970-01-01T00:00:00Z").await;
    assert_eq!(server.graphql_edge_count(), versions.len() as u64);
    let none = changed(&server, "versions", "gt", "2999-01-01T00:00:00Z").await;
    assert!(none.is_empty());
    assert_eq!(server.graphql_edge_count(), versions.len() as u64);
    server.reset_counters();
    assert_eq!(server.graphql_edge_count(), 0);
}
