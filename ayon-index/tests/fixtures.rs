//! Every recorded `/api/resolve` exchange replayed against the index holding the demo library:
//! each per-URI answer must equal the real server's, and whole-batch refusals must match.

mod common;

use std::collections::HashMap;

use ayon_index::{Index, IndexError};
use ayon_testkit::{fixtures_dir, load_fixture};
use common::{SiteConfig, demo_index, platform_of};
use serde_json::{Value, json};

/// One recorded request's site configuration, or `None` when the index is not asked (an
/// unregistered or invalid site, a validation error, no credentials).
fn config_of(request: &Value, status: u64) -> Option<SiteConfig> {
    let headers = &request["headers"];
    let query = &request["query"];
    let site = headers["x-ayon-site-id"]
        .as_str()
        .or_else(|| query["site_id"].as_str())
        .or_else(|| query["site"].as_str())
        .map(str::to_owned);
    let body = &request["body"];
    if !body["uris"].is_array() || status == 400 || status == 401 {
        return None;
    }
    let platform = match &site {
        Some(s) => Some(platform_of(s)?),
        None => None,
    };
    let resolve_roots = body["resolveRoots"]
        .as_bool()
        .or_else(|| body["resolve_roots"].as_bool())
        .unwrap_or(false);
    Some(SiteConfig {
        site_id: site,
        platform,
        resolve_roots,
    })
}

fn path_only(item: &Value) -> Value {
    let entities: Vec<Value> = item["entities"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| match e.get("filePath") {
                    Some(p) => json!({ "filePath": p }),
                    None => json!({}),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = json!({ "uri": item["uri"], "entities": entities });
    if let Some(e) = item.get("error") {
        out["error"] = e.clone();
    }
    out
}

#[test]
fn every_recorded_resolve_answer_is_reproduced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut indexes: HashMap<SiteConfig, Index> = HashMap::new();
    let mut files: Vec<String> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures dir (set AYON_SHARED_DIR)")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("resolve_") && n.ends_with(".json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "resolve fixtures found: {files:?}");
    let (mut agree, mut total, mut batches) = (0usize, 0usize, 0usize);
    let mut disagreements = Vec::new();
    for file in &files {
        let fixture = load_fixture(file).expect("fixture loads");
        for (n, exchange) in fixture["exchanges"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let request = &exchange["request"];
            let response = &exchange["response"];
            let status = response["status"].as_u64().unwrap_or(0);
            let Some(config) = config_of(request, status) else {
                continue;
            };
            let index = indexes.entry(config.clone()).or_insert_with(|| {
                let sub = dir.path().join(format!("idx{}", fixture_key(&config)));
                demo_index(&sub, &config)
            });
            let uris: Vec<String> = request["body"]["uris"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|u| u.as_str().unwrap_or_default().to_owned())
                .collect();
            let pathonly = request["query"]["pathOnly"].as_str() == Some("true");
            batches += 1;
            match (status, index.resolve_batch(&uris)) {
                (500, Err(IndexError::BatchRefused { status, detail })) => {
                    total += 1;
                    if status == 500 && Some(detail.as_str()) == response["body"]["detail"].as_str()
                    {
                        agree += 1;
                    } else {
                        disagreements.push(format!(
                            "{file}#{n}: refused with {detail:?}, server {:?}",
                            response["body"]["detail"]
                        ));
                    }
                }
                (500, other) => {
                    total += 1;
                    disagreements.push(format!(
                        "{file}#{n}: server refused the batch ({:?}); index answered {other:?}",
                        response["body"]["detail"]
                    ));
                }
                (_, Err(e)) => {
                    total += uris.len();
                    disagreements.push(format!("{file}#{n}: index error {e}"));
                }
                (_, Ok(answers)) => {
                    let expected = response["body"].as_array().expect("list body");
                    assert_eq!(answers.len(), expected.len(), "{file}#{n}");
                    for (got, want) in answers.iter().zip(expected) {
                        total += 1;
                        let mut got = serde_json::to_value(got).expect("serializes");
                        if pathonly {
                            got = path_only(&got);
                        }
                        if &got == want {
                            agree += 1;
                        } else {
                            disagreements.push(format!(
                                "{file}#{n}: {}\n  index:  {got}\n  server: {want}",
                                want["uri"]
                            ));
                        }
                    }
                }
            }
        }
    }
    println!(
        "{agree} of {total} recorded answers agree ({batches} batches, {} files)",
        files.len()
    );
    for d in &disagreements {
        println!("DISAGREE {d}");
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements",
        disagreements.len()
    );
    assert!(total > 250, "only {total} answers compared");
}

fn fixture_key(c: &SiteConfig) -> String {
    format!(
        "-{}-{}-{}",
        c.site_id.as_deref().unwrap_or("nosite"),
        c.platform.map_or("none", |p| p.as_str()),
        c.resolve_roots
    )
}

/// Issue 11 class (c): the server leaves `{root[work]}` unsubstituted when the URI writes the
/// project name in another case (it keys roots by the name as written; with a root override
/// for the site it even fails the request). The index substitutes this site's roots anyway,
/// as the client does (docs/decisions.md, record 5).
#[test]
fn roots_are_substituted_whatever_the_project_name_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let uri = "ayon+entity://DEMO_OFFLINE/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
    for (site, expected) in [
        (
            "offline-test-linux",
            "/mnt/projects/demo_offline/assets/characters/hero/publish/usd/usdAsset/v001/demo_hero_usdAsset_v001.usd",
        ),
        (
            "offline-test-override",
            "/home/artist/ayon-work/demo_offline/assets/characters/hero/publish/usd/usdAsset/v001/demo_hero_usdAsset_v001.usd",
        ),
        (
            "offline-test-windows",
            "P:\\projects\\demo_offline\\assets\\characters\\hero\\publish\\usd\\usdAsset\\v001\\demo_hero_usdAsset_v001.usd",
        ),
    ] {
        let config = SiteConfig {
            site_id: Some(site.to_owned()),
            platform: platform_of(site),
            resolve_roots: true,
        };
        let index = demo_index(&dir.path().join(site), &config);
        let answers = index.resolve_batch(&[uri]).expect("answers");
        let entity = &answers[0].answer.entities[0];
        assert_eq!(entity.project_name, "DEMO_OFFLINE");
        assert_eq!(entity.file_path.as_deref(), Some(expected), "{site}");
    }
}
