//! `POST /api/resolve` paths the recordings do not cover, over real HTTP, each compared with the
//! exact status and body the server's code produces (`api/resolve/__init__.py`,
//! `ayon_server/helpers/roots.py`, `project_list.py`, `dependencies.py`). Where a recorded
//! fixture holds the same entity, the expected entity is taken from the fixture.
//!
//! The three classes where the testkit used to differ from the server:
//! (a) a URI that leaves out a level above the one it asks for searches every folder / product;
//! (b) with `resolveRoots=true` and a site, a URI `parse_uri` refuses fails the whole request;
//! (c) anatomy roots are read by the project name exactly as written in the request.

use std::time::Duration;

use ayon_testkit::{Library, TestServer, load_fixture};
use serde_json::{Value, json};

const LINUX: &str = "offline-test-linux";
const OVERRIDE: &str = "offline-test-override";
const HERO_V1_USD: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd";

/// One request: optional site header, query pairs, bearer token or none.
struct Ask<'a> {
    site: Option<&'a str>,
    query: &'a [(&'a str, &'a str)],
    authorised: bool,
}

const PLAIN: Ask<'static> = Ask {
    site: None,
    query: &[],
    authorised: true,
};

fn with_site(site: &str) -> Ask<'_> {
    Ask {
        site: Some(site),
        ..PLAIN
    }
}

/// Posts `body` to `/api/resolve` and returns the status and the JSON body.
fn post(server: &TestServer, ask: &Ask<'_>, body: &str) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let mut rb = client
            .post(format!("{}/api/resolve", server.url()))
            .query(ask.query)
            .header("content-type", "application/json")
            .body(body.to_owned());
        if ask.authorised {
            rb = rb.bearer_auth(server.session_token());
        }
        if let Some(site) = ask.site {
            rb = rb.header("x-ayon-site-id", site);
        }
        let resp = rb.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    })
}

fn resolve(server: &TestServer, ask: &Ask<'_>, roots: bool, uris: &[&str]) -> (u16, Value) {
    post(
        server,
        ask,
        &json!({"resolveRoots": roots, "uris": uris}).to_string(),
    )
}

/// The body of a request that must succeed (200).
fn answers(server: &TestServer, ask: &Ask<'_>, roots: bool, uris: &[&str]) -> Value {
    let (status, body) = resolve(server, ask, roots, uris);
    assert_eq!(status, 200, "{body}");
    body
}

/// The recorded entities of `uri` in a fixture's first exchange.
fn recorded(fixture: &str, uri: &str) -> Vec<Value> {
    let data = load_fixture(fixture).expect("the recorded fixtures are required");
    data["exchanges"][0]["response"]["body"]
        .as_array()
        .and_then(|items| items.iter().find(|item| item["uri"] == uri))
        .and_then(|item| item["entities"].as_array())
        .cloned()
        .unwrap_or_else(|| panic!("{fixture} records no answer for {uri}"))
}

/// The one recorded entity of `uri` (no site, no roots).
fn recorded_one(uri: &str) -> Value {
    let entities = recorded("resolve_batch_noroots_nosite.json", uri);
    assert_eq!(entities.len(), 1, "{uri}");
    entities[0].clone()
}

/// The unhandled-exception body: `detail` exactly, a traceback that starts with it.
fn assert_exception(got: &(u16, Value), detail: &str) {
    assert_eq!(got.0, 500, "{}", got.1);
    assert_eq!(got.1["status"], 500);
    assert_eq!(got.1["detail"], detail);
    let traceback = got.1["traceback"].as_str().unwrap_or_default();
    assert!(
        traceback.starts_with(&format!("{detail}\n\n")),
        "{traceback}"
    );
    assert_eq!(got.1.as_object().map(|o| o.len()), Some(3), "{}", got.1);
}

fn demo() -> TestServer {
    TestServer::start(Library::demo_offline()).expect("testkit starts")
}

// ---- (a) implicit wildcards: a level left out is searched everywhere ----

#[test]
fn no_folder_path_searches_every_folder() {
    let server = demo();
    let uri = "ayon+entity://demo_offline?product=usdAsset&version=v001&representation=usd";
    let body = answers(&server, &PLAIN, false, &[uri]);
    let entities = body[0]["entities"].as_array().expect("entities");
    // `get_path_conditions(None)` is `[]`: the hero's usdAsset and the 100 props' usdAsset.
    assert_eq!(entities.len(), 101);
    assert_eq!(entities[0], recorded_one(HERO_V1_USD));
    let lib = server.library();
    let lib = lib.read();
    let project = lib.project("demo_offline").expect("demo");
    for (i, e) in entities.iter().enumerate().skip(1) {
        let folder = project
            .folder(e["folderId"].as_str().unwrap_or_default())
            .expect("a folder of the project");
        assert_eq!(folder.path, format!("assets/props/prop{i:03}"));
        assert_eq!(e["target"], "representation");
        let path = e["filePath"].as_str().unwrap_or_default();
        assert!(
            path.starts_with(&format!(
                "{{root[work]}}/demo_offline/assets/props/prop{i:03}/publish/"
            )) && path.ends_with("_usdAsset_v001.usd"),
            "{path}"
        );
    }
    assert_eq!(
        body[0].as_object().map(|o| o.len()),
        Some(2),
        "no error key"
    );
}

/// usdAsset v002 usd and modelMain v002 usd of the hero folder, as recorded.
fn hero_v002_usd_of_every_product() -> Vec<Value> {
    let all_usd = recorded(
        "resolve_batch_noroots_nosite.json",
        "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=*&representation=usd",
    );
    vec![
        all_usd[1].clone(),
        recorded_one(
            "ayon+entity://demo_offline/assets/characters/hero?product=modelMain&version=latest&representation=usd",
        ),
    ]
}

#[test]
fn blank_or_misspelled_product_key_searches_every_product() {
    let server = demo();
    let uris = [
        "ayon+entity://demo_offline/assets/characters/hero?product=&version=v002&representation=usd",
        "ayon+entity://demo_offline/assets/characters/hero?prodcut=usdAsset&version=v002&representation=usd",
        "ayon+entity://demo_offline/assets/characters/hero?version=v002&representation=usd",
    ];
    let body = answers(&server, &PLAIN, false, &uris);
    let want: Vec<Value> = uris
        .iter()
        .map(|uri| json!({"uri": uri, "entities": hero_v002_usd_of_every_product()}))
        .collect();
    assert_eq!(body, Value::Array(want));
}

#[test]
fn neither_path_nor_product_searches_the_whole_project() {
    let server = demo();
    let hero_abc = "ayon+entity://demo_offline?version=hero&representation=abc";
    let task = "ayon+entity://demo_offline?task=modeling";
    let body = answers(&server, &PLAIN, false, &[hero_abc, task]);
    let shot = recorded_one(
        "ayon+entity://demo_offline/shots/sq010/sh010?product=usdShot&version=hero&representation=abc",
    );
    let modeling = recorded_one("ayon+entity://demo_offline/assets/characters/hero?task=modeling");
    assert_eq!(
        body,
        json!([
            {"uri": hero_abc, "entities": [shot]},
            {"uri": task, "entities": [modeling]},
        ])
    );
}

#[test]
fn task_names_and_workfile_tasks_are_literal() {
    let server = demo();
    let uris = [
        // `t.name = '*'`: no wildcard for tasks.
        "ayon://demo_offline/assets/characters/hero?task=*",
        // No task with a workfile: `t.name = 'None'`.
        "ayon://demo_offline/assets/characters/hero?workfile=x.ma",
    ];
    let body = answers(&server, &PLAIN, false, &uris);
    assert_eq!(
        body,
        json!([{"uri": uris[0], "entities": []}, {"uri": uris[1], "entities": []}])
    );
}

// ---- (b) resolveRoots=true with a site: `parse_uri` runs over the whole batch first ----

#[test]
fn an_unparsable_uri_fails_the_whole_request_with_roots_and_a_site() {
    let server = demo();
    // Recorded: resolve_batch_roots_site.json (the first refused URI is the http one).
    let data = load_fixture("resolve_batch_roots_site.json").expect("fixture");
    let exchange = &data["exchanges"][0];
    let uris: Vec<&str> = exchange["request"]["body"]["uris"]
        .as_array()
        .expect("uris")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let got = resolve(&server, &with_site(LINUX), true, &uris);
    assert_eq!(got.0, 500);
    assert_eq!(got.1["detail"], exchange["response"]["body"]["detail"]);
    assert_exception(&got, "ValueError: Invalid scheme: http");

    // The same batch without roots, or without a site, answers per URI.
    for (ask, roots) in [(with_site(LINUX), false), (PLAIN, true)] {
        let body = answers(&server, &ask, roots, &uris);
        assert_eq!(body[11]["error"], "Invalid scheme: http");
    }
}

#[test]
fn what_parse_uri_refuses_decides_the_batch_not_the_version_keyword() {
    let server = demo();
    // "banana" is a name, so `parse_uri` accepts it; `get_version_conditions` refuses it
    // later, inside its URI.
    let banana = "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=banana&representation=usd";
    let body = answers(&server, &with_site(LINUX), true, &[banana]);
    assert_eq!(
        body,
        json!([{"uri": banana, "entities": [], "error": "Invalid version name: banana"}])
    );
    // A version that is not even a name fails `validate_name` inside `parse_uri`.
    let not_a_name = "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=b@d";
    let got = resolve(&server, &with_site(LINUX), true, &[HERO_V1_USD, not_a_name]);
    assert_exception(&got, "ValueError: Invalid name: b@d");
    // The exception text escapes braces for the server's logger.
    let braces = "ayon://{demo}/assets";
    let got = resolve(&server, &with_site(LINUX), true, &[braces]);
    assert_exception(&got, "ValueError: Invalid project name: {{demo}}");
    // Parsing comes before the site lookup: an unknown site still gets the ValueError.
    let got = resolve(
        &server,
        &with_site("never-registered"),
        true,
        &["not a uri"],
    );
    assert_exception(&got, "ValueError: Invalid scheme:");
}

/// A one-URI request whose only answer is `error`.
fn assert_uri_error(server: &TestServer, uri: &str, error: &str) {
    let got = resolve(server, &PLAIN, false, &[uri]);
    assert_eq!(
        got,
        (200, json!([{"uri": uri, "entities": [], "error": error}]))
    );
}

#[test]
fn a_bad_version_of_an_unknown_project_is_a_missing_project() {
    // The project lookup comes before `get_version_conditions`.
    assert_uri_error(
        &demo(),
        "ayon://nowhere/a?product=p&version=banana&representation=usd",
        "Project nowhere not found",
    );
}

#[test]
fn a_skeleton_project_is_not_found() {
    let server = demo_with(|project| {
        project
            .extra
            .insert("data".into(), json!({"isSkeleton": true}));
    });
    // `get_project_list(with_skeleton=False)`: the URI's name, as written, in the error.
    assert_uri_error(
        &server,
        "ayon://Demo_Offline/assets/characters/hero?product=usdAsset",
        "Project Demo_Offline not found",
    );
}

#[test]
fn an_unknown_site_fails_only_when_a_uri_needs_its_platform() {
    let server = demo();
    let ask = with_site("never-registered");
    // Refused URIs, unknown projects and bare project URIs never look the site up.
    let quiet = [
        "not a uri",
        "ayon://nowhere/a?product=x",
        "ayon://demo_offline",
    ];
    let body = answers(&server, &ask, false, &quiet);
    assert_eq!(
        body,
        json!([
            {"uri": quiet[0], "entities": [], "error": "Invalid scheme: "},
            {"uri": quiet[1], "entities": [], "error": "Project nowhere not found"},
            {"uri": quiet[2], "entities": []},
        ])
    );
    // The first URI with a target does (recorded: resolve_edge_cases.json[0]), even one whose
    // version is refused afterwards.
    let banana = "ayon://demo_offline/a?version=banana";
    for uris in [vec![quiet[0], HERO_V1_USD], vec![banana]] {
        let (status, body) = resolve(&server, &ask, false, &uris);
        assert_eq!(status, 400);
        assert_eq!(
            body,
            json!({"code": 400, "detail": "Site not found", "status_code": 404})
        );
    }
}

// ---- (c) roots by the project name as written ----

#[test]
fn a_project_written_in_another_case_gets_no_roots() {
    let server = demo();
    let upper = "ayon+entity://DEMO_OFFLINE/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
    // Alone in its request: `WHERE name = ANY(['DEMO_OFFLINE'])` finds no anatomy roots.
    let body = answers(&server, &with_site(LINUX), true, &[upper]);
    let rootless = recorded("resolve_batch_noroots_site.json", upper);
    assert_eq!(body, json!([{"uri": upper, "entities": rootless}]));
    assert!(
        body[0]["entities"][0]["filePath"]
            .as_str()
            .is_some_and(|p| p.starts_with("{root[work]}/"))
    );

    // With the exact spelling in the same request the roots are keyed by the real name, and
    // the URI written in another case finds them under it.
    let body = answers(&server, &with_site(LINUX), true, &[HERO_V1_USD, upper]);
    let rooted = recorded("resolve_valid_roots_site_linux.json", HERO_V1_USD);
    let mut upper_rooted = rooted.clone();
    upper_rooted[0]["projectName"] = "DEMO_OFFLINE".into();
    assert_eq!(
        body,
        json!([
            {"uri": HERO_V1_USD, "entities": rooted},
            {"uri": upper, "entities": upper_rooted},
        ])
    );
}

#[test]
fn another_case_with_site_overrides_fails_the_request() {
    let server = demo();
    let upper = "ayon://DEMO_OFFLINE/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
    // `roots[project_name].update(...)` with the name as written: KeyError.
    let got = resolve(&server, &with_site(OVERRIDE), true, &[upper]);
    assert_exception(&got, "KeyError: 'DEMO_OFFLINE'");
    // An unknown project: `project_{name}.custom_roots` does not exist (recorded:
    // resolve_edge_cases.json[3]); Postgres folds the identifier to lower case.
    let got = resolve(
        &server,
        &with_site(LINUX),
        true,
        &["ayon://No_Such/a?product=b"],
    );
    assert_exception(
        &got,
        "asyncpg.exceptions.UndefinedTableError: relation \"project_no_such.custom_roots\" does not exist",
    );
}

// ---- the rest of the request's path ----

#[test]
fn the_site_id_comes_from_the_query_first_and_is_checked_before_credentials() {
    let server = demo();
    // `site_id` or `site` in the query win over the header.
    let ask = Ask {
        site: Some(LINUX),
        query: &[("site", "offline-test-windows")],
        authorised: true,
    };
    let body = answers(&server, &ask, false, &[HERO_V1_USD]);
    let windows = recorded("resolve_valid_roots_site_windows.json", HERO_V1_USD);
    let path = body[0]["entities"][0]["filePath"]
        .as_str()
        .unwrap_or_default();
    assert!(path.starts_with("{root[work]}\\demo_offline\\"), "{path}");
    assert_eq!(body[0]["entities"][0]["versionId"], windows[0]["versionId"]);

    let anonymous = |site| Ask {
        site: Some(site),
        query: &[],
        authorised: false,
    };
    let (status, body) = resolve(&server, &anonymous("Bad_Site!"), false, &[HERO_V1_USD]);
    assert_eq!(
        (status, body),
        (
            400,
            json!({"code": 400, "detail": "Invalid site id: Bad_Site!"})
        )
    );
    let (status, body) = resolve(&server, &anonymous(""), false, &[HERO_V1_USD]);
    assert_eq!(
        (status, body),
        (
            400,
            json!({"code": 400, "detail": "Site id cannot be empty"})
        )
    );
    let (status, body) = resolve(&server, &anonymous(LINUX), false, &[HERO_V1_USD]);
    assert_eq!(
        (status, body),
        (
            401,
            json!({"code": 401, "detail": "Access token is missing"})
        )
    );
}

fn validation(traceback: &str, errors: Value) -> Value {
    json!({
        "code": 400,
        "detail": "Request validation error in [POST] /api/resolve",
        "path": "/api/resolve",
        "traceback": traceback,
        "errors": errors,
    })
}

#[test]
fn the_request_is_validated_as_pydantic_v1_does() {
    let server = demo();
    let cases = [
        (
            // Not an object: read through `from_orm`, so `uris` is absent.
            r#"["ayon://demo_offline/assets"]"#,
            validation(
                "uris: field required",
                json!([{"loc": ["body", "uris"], "msg": "field required", "type": "value_error.missing"}]),
            ),
        ),
        (
            "null",
            validation(
                "body: field required",
                json!([{"loc": ["body"], "msg": "field required", "type": "value_error.missing"}]),
            ),
        ),
        (
            r#"{"resolveRoots": "perhaps", "uris": [null, {}]}"#,
            validation(
                "resolveRoots: value could not be parsed to a boolean\nuris.0: none is not an allowed value\nuris.1: str type expected",
                json!([
                    {"loc": ["body", "resolveRoots"], "msg": "value could not be parsed to a boolean", "type": "type_error.bool"},
                    {"loc": ["body", "uris", 0], "msg": "none is not an allowed value", "type": "type_error.none.not_allowed"},
                    {"loc": ["body", "uris", 1], "msg": "str type expected", "type": "type_error.str"},
                ]),
            ),
        ),
    ];
    for (body, want) in cases {
        let got = post(&server, &PLAIN, body);
        assert_eq!(got, (400, want), "{body}");
    }
    let ask = Ask {
        query: &[("pathOnly", "maybe")],
        ..PLAIN
    };
    let got = post(&server, &ask, r#"{"uris": null}"#);
    let want = validation(
        "pathOnly: value could not be parsed to a boolean\nuris: none is not an allowed value",
        json!([
            {"loc": ["query", "pathOnly"], "msg": "value could not be parsed to a boolean", "type": "type_error.bool"},
            {"loc": ["body", "uris"], "msg": "none is not an allowed value", "type": "type_error.none.not_allowed"},
        ]),
    );
    assert_eq!(got, (400, want));
    // Coerced, not refused: a number or a boolean is its Python `str()`, "no" is false...
    let ask = Ask {
        site: Some(LINUX),
        query: &[("pathOnly", "YES")],
        authorised: true,
    };
    let (status, body) = post(
        &server,
        &ask,
        r#"{"resolveRoots": "no", "uris": [5, true]}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!([
            {"uri": "5", "entities": [], "error": "Invalid scheme: "},
            {"uri": "True", "entities": [], "error": "Invalid scheme: "},
        ])
    );
    // ...and "YES" is true: with a site, the batch is parsed first and fails.
    let got = post(&server, &ask, r#"{"resolveRoots": "YES", "uris": [5]}"#);
    assert_exception(&got, "ValueError: Invalid scheme:");
}

/// A server for demo_offline with one change applied to the project.
fn demo_with(change: impl FnOnce(&mut ayon_testkit::library::Project)) -> TestServer {
    let mut lib = Library::demo_offline();
    change(lib.project_mut("demo_offline").expect("demo"));
    TestServer::start(lib).expect("testkit starts")
}

/// demo_offline with one change applied to the hero's usdAsset versions.
fn hero_usd_asset(change: impl FnOnce(&mut Vec<ayon_testkit::library::Version>)) -> TestServer {
    demo_with(|project| {
        let folder = project
            .folders
            .iter_mut()
            .find(|f| f.path == "assets/characters/hero")
            .expect("hero");
        let product = folder
            .products
            .iter_mut()
            .find(|p| p.name == "usdAsset")
            .expect("usdAsset");
        change(&mut product.versions);
    })
}

fn version_of(server: &TestServer, version: &str) -> Vec<Value> {
    let uri =
        format!("ayon://demo_offline/assets/characters/hero?product=usdAsset&version={version}");
    let body = answers(server, &PLAIN, false, &[&uri]);
    body[0]["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| e["versionId"].clone())
        .collect()
}

#[test]
fn selectors_ignore_active_and_latestdone_takes_any_done_version() {
    let ids = |versions: &[ayon_testkit::library::Version], n: i32| {
        versions
            .iter()
            .find(|v| v.version == n)
            .map(|v| Value::from(v.id.clone()))
            .expect("version")
    };
    let lib = Library::demo_offline();
    let hero = lib.project("demo_offline").expect("demo").folders[2].products[0]
        .versions
        .clone();
    // `version_list` and the hero condition do not look at `active`.
    let server = hero_usd_asset(|versions| versions.iter_mut().for_each(|v| v.active = false));
    assert_eq!(version_of(&server, "latest"), [ids(&hero, 3)]);
    assert_eq!(version_of(&server, "hero"), [ids(&hero, -3)]);
    assert_eq!(version_of(&server, "*").len(), 4);
    // `latestdone`: the highest number among versions whose status is in a done state,
    // hero versions included; nothing when none is done (recorded: `[]`).
    let server = hero_usd_asset(|versions| {
        for v in versions.iter_mut().filter(|v| [2, -3].contains(&v.version)) {
            v.status = "Approved".into();
        }
    });
    assert_eq!(version_of(&server, "latestdone"), [ids(&hero, 2)]);
    let server = hero_usd_asset(|versions| {
        for v in versions.iter_mut().filter(|v| v.version == -3) {
            v.status = "Approved".into();
        }
    });
    assert_eq!(version_of(&server, "latestdone"), [ids(&hero, -3)]);
    // Only hero versions: `latest` is the highest number there is, a hero one.
    let server = hero_usd_asset(|versions| versions.retain(|v| v.version < 0));
    assert_eq!(version_of(&server, "latest"), [ids(&hero, -3)]);
}

#[test]
fn one_uri_answers_at_most_a_thousand_rows() {
    let reps: Vec<Value> = (0..1005)
        .map(|i| json!({"name": format!("r{i}"), "attrib": {"template": "{root[work]}/x"}, "data": {"context": {}}}))
        .collect();
    let lib: Library = serde_json::from_value(json!({
        "projects": [{"name": "big", "code": "big", "folders": [{
            "name": "f", "path": "f", "folderType": "Folder",
            "products": [{"name": "p", "productType": "usd", "versions": [
                {"version": 1, "representations": reps}
            ]}]
        }]}]
    }))
    .expect("library");
    let server = TestServer::start(lib).expect("testkit starts");
    let ask = Ask {
        query: &[("pathOnly", "true")],
        ..PLAIN
    };
    let body = answers(&server, &ask, false, &["ayon://big/f?representation=*"]);
    let entities = body[0]["entities"].as_array().expect("entities");
    assert_eq!(entities.len(), 1000);
    assert_eq!(entities[0], json!({"filePath": "{root[work]}/x"}));
}

#[test]
fn a_representation_context_that_is_not_a_mapping_fails_the_request() {
    let server = hero_usd_asset(|versions| {
        versions[0].representations[0]
            .data
            .insert("context".into(), Value::Null);
    });
    // Before the context is touched, other URIs are fine; the row fails the whole request.
    let got = resolve(
        &server,
        &PLAIN,
        false,
        &[
            "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=v002&representation=usd",
            HERO_V1_USD,
        ],
    );
    assert_exception(
        &got,
        "TypeError: 'NoneType' object does not support item assignment",
    );
    // Without a template there is no path to make, so no failure.
    let server = hero_usd_asset(|versions| {
        let rep = &mut versions[0].representations[0];
        rep.data.insert("context".into(), Value::Null);
        rep.attrib.insert("template".into(), "".into());
    });
    let body = answers(&server, &PLAIN, false, &[HERO_V1_USD]);
    assert!(body[0]["entities"][0].get("filePath").is_none(), "{body}");
}
