//! Replays the recorded roots, project and entity REST exchanges against the testkit.

mod common;

use common::{Opts, Replay, assert_clean};

#[test]
fn site_roots() {
    let mut r = Replay::new();
    assert_clean(
        "site_roots.json",
        r.replay("site_roots.json", &Opts::default()),
    );
}

#[test]
fn projects() {
    let mut r = Replay::new();
    assert_clean("projects.json", r.replay("projects.json", &Opts::default()));
}

#[test]
fn entities_rest() {
    let mut r = Replay::new();
    // The hierarchy's `detail` carries the server's load time.
    let opts = Opts::ignoring(&["detail"]);
    assert_clean("entities_rest.json", r.replay("entities_rest.json", &opts));
}

/// Server-side times and the admin's account data differ from the recording's.
const VARIABLE: &[&str] = &["uptime", "createdAt", "updatedAt", "data"];

#[test]
fn ayon_api_create_entities_on_an_empty_server() {
    // Exchanges 0-8: connect, find no project, create it and its first folder.
    let mut r = Replay::with_library(ayon_testkit::Library::default());
    let mut opts = Opts::ignoring(VARIABLE).skip(
        6,
        "GET /api/anatomy/presets/__primary__: anatomy presets are not served",
    );
    for i in 9..15 {
        opts = opts.skip(
            i,
            "needs parents the recording does not create; see the next test",
        );
    }
    assert_clean(
        "ayon_api_create_entities.json",
        r.replay("ayon_api_create_entities.json", &opts),
    );
    let lib = r.server.library();
    let lib = lib.read();
    let p = lib.project("demo_offline").expect("created");
    assert_eq!(p.roots["work"].linux, "/mnt/projects");
    assert_eq!(p.folders[0].id, "790a90e4e6c311f1931b02fc00000001");
}

#[test]
fn ayon_api_create_entities_task_product_versions_representation() {
    // Exchanges 9-14 against demo_offline without the entities they create.
    let mut lib = ayon_testkit::Library::demo_offline();
    let p = lib.project_mut("demo_offline").expect("demo");
    for f in &mut p.folders {
        if f.path == "assets/characters/hero" {
            f.tasks.clear();
            f.products.retain(|pr| pr.name != "usdAsset");
        }
        for pr in &mut f.products {
            if pr.name == "usdShot" {
                pr.versions.retain(|v| v.version != -2);
            }
        }
    }
    let mut r = Replay::with_library(lib);
    let mut opts = Opts::ignoring(VARIABLE);
    for i in 0..9 {
        opts = opts.skip(i, "replayed on an empty server by the previous test");
    }
    assert_clean(
        "ayon_api_create_entities.json",
        r.replay("ayon_api_create_entities.json", &opts),
    );
    assert_eq!(
        r.server
            .request_count("POST /api/projects/demo_offline/versions"),
        3
    );
    let lib = r.server.library();
    let lib = lib.read();
    let p = lib.project("demo_offline").expect("demo");
    let (_, product, version) = p
        .version("79bf9b9ce6c311f1931b02fc00000001")
        .expect("hero version");
    assert_eq!(product.name, "usdAsset");
    assert_eq!(version.version, -3);
}
