//! Replays every recorded `/api/resolve` exchange against the testkit loaded with `demo_offline`.

mod common;

use common::{Opts, Replay, assert_clean};

fn replay(fixture: &str) {
    let mut r = Replay::new();
    // Tracebacks name the real server's source files; only status and detail are the contract.
    let opts = Opts::ignoring(&["traceback"]);
    assert_clean(fixture, r.replay(fixture, &opts));
}

#[test]
fn batch_noroots_nosite() {
    replay("resolve_batch_noroots_nosite.json");
}

#[test]
fn batch_roots_nosite() {
    replay("resolve_batch_roots_nosite.json");
}

#[test]
fn batch_noroots_site() {
    replay("resolve_batch_noroots_site.json");
}

#[test]
fn batch_roots_site_fails_whole() {
    replay("resolve_batch_roots_site.json");
}

#[test]
fn valid_roots_site_linux() {
    replay("resolve_valid_roots_site_linux.json");
}

#[test]
fn valid_roots_site_windows() {
    replay("resolve_valid_roots_site_windows.json");
}

#[test]
fn valid_roots_site_darwin() {
    replay("resolve_valid_roots_site_darwin.json");
}

#[test]
fn valid_roots_site_override() {
    replay("resolve_valid_roots_site_override.json");
}

#[test]
fn valid_pathonly_site_linux() {
    replay("resolve_valid_pathonly_site_linux.json");
}

#[test]
fn valid_roots_site_query_param() {
    replay("resolve_valid_roots_site_query_param.json");
}

#[test]
fn edge_cases() {
    replay("resolve_edge_cases.json");
}

#[test]
fn quirks() {
    replay("resolve_quirks.json");
}

#[test]
fn resolve_counters_count_uris() {
    let mut r = Replay::new();
    let opts = Opts::ignoring(&["traceback"]);
    let (_, n) = r.replay("resolve_quirks.json", &opts);
    assert_eq!(r.server.request_count("POST /api/resolve") as usize, n);
    // 1 + 3 + 2 + 2 + 3 + 3 URIs in the six recorded requests.
    assert_eq!(r.server.resolved_uri_count(), 14);
}

#[test]
fn ayon_api_resolve_and_roots() {
    let mut r = Replay::new();
    let opts = Opts::ignoring(&["traceback"]).skip(
        0,
        "RepresentationsParentsQuery is GraphQL, replayed by the GraphQL tests",
    );
    assert_clean(
        "ayon_api_resolve_and_roots.json",
        r.replay("ayon_api_resolve_and_roots.json", &opts),
    );
}

#[test]
fn the_comparison_catches_a_changed_path_and_a_missing_key() {
    use std::collections::{HashMap, HashSet};
    let want = serde_json::json!([{"uri": "u", "entities": [{"filePath": "/a/b", "target": "representation"}]}]);
    let got = serde_json::json!([{"uri": "u", "entities": [{"filePath": "/a/c"}]}]);
    let mut diffs = Vec::new();
    common::compare(
        &want,
        &got,
        "$",
        &HashSet::new(),
        &mut HashMap::new(),
        &mut diffs,
    );
    assert_eq!(diffs.len(), 2, "{diffs:?}");
}
