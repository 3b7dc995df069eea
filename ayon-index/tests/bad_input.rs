//! Representations the server would answer with a wrong path, or fail the whole request for:
//! the index answers a per-URI error naming the problem instead — never a panic, never a
//! wrong path.

use ayon_index::{
    AnatomyRoot, FolderRecord, Index, ProductRecord, ProjectRecord, ProjectSnapshot,
    RepresentationRecord, SiteRootsRecord, VersionRecord,
};
use ayon_site::Platform;
use serde_json::{Value, json};

const TEMPLATE: &str =
    "{root[work]}/{project[name]}/{folder[name]}/v{version:0>3}/{folder[name]}.{ext}";

fn context() -> Value {
    json!({"project": {"name": "p", "code": "p"}, "folder": {"name": "f"}, "version": 1, "ext": "usd"})
}

/// A project `p` with one folder `f`, product `x`, version 1 and representation `usd`.
fn project(
    template: Option<&str>,
    context: Value,
    roots: &[(&str, &str, &str)],
) -> ProjectSnapshot {
    let updated_at = "2026-12-01T00:00:00+00:00".to_owned();
    ProjectSnapshot {
        project: ProjectRecord {
            name: "p".to_owned(),
            code: "p".to_owned(),
            roots: roots
                .iter()
                .map(|(name, windows, linux)| {
                    (
                        (*name).to_owned(),
                        AnatomyRoot {
                            windows: (*windows).to_owned(),
                            linux: (*linux).to_owned(),
                            darwin: String::new(),
                        },
                    )
                })
                .collect(),
            statuses: Vec::new(),
        },
        site_roots: None,
        folders: vec![FolderRecord {
            id: "f1".to_owned(),
            path: "f".to_owned(),
            folder_type: "Asset".to_owned(),
            active: true,
            updated_at: updated_at.clone(),
        }],
        tasks: Vec::new(),
        products: vec![ProductRecord {
            id: "p1".to_owned(),
            folder_id: "f1".to_owned(),
            name: "x".to_owned(),
            product_type: "usd".to_owned(),
            active: true,
            updated_at: updated_at.clone(),
        }],
        versions: vec![VersionRecord {
            id: "v1".to_owned(),
            product_id: "p1".to_owned(),
            version: 1,
            status: String::new(),
            active: true,
            updated_at: updated_at.clone(),
        }],
        representations: vec![RepresentationRecord {
            id: "r1".to_owned(),
            version_id: "v1".to_owned(),
            name: "usd".to_owned(),
            template: template.map(str::to_owned),
            context,
            active: true,
            updated_at,
        }],
        workfiles: Vec::new(),
        subtrees: Vec::new(),
        newest_versions: None,
    }
}

const URI: &str = "ayon://p/f?product=x&version=1&representation=usd";

/// The answer for [`URI`] on a linux site after writing `snapshot`.
fn answer(snapshot: &ProjectSnapshot, platform: Option<Platform>) -> ayon_index::Answer {
    let dir = tempfile::tempdir().expect("tempdir");
    let index = Index::builder()
        .cache_dir(dir.path())
        .platform(platform)
        .open()
        .expect("opens");
    index.replace_project(snapshot).expect("written");
    (*index.resolve_str(URI).expect("answers")).clone()
}

fn error_of(snapshot: &ProjectSnapshot) -> String {
    let a = answer(snapshot, Some(Platform::Linux));
    assert!(a.entities.is_empty(), "no entities with an error: {a:?}");
    a.error.expect("a per-URI error")
}

#[test]
fn a_good_representation_gets_its_path() {
    let ok = project(Some(TEMPLATE), context(), &[("work", "P:/w", "/mnt/w")]);
    let a = answer(&ok, Some(Platform::Linux));
    assert_eq!(
        a.entities[0].file_path.as_deref(),
        Some("/mnt/w/p/f/v001/f.usd")
    );
    let a = answer(&ok, Some(Platform::Windows));
    assert_eq!(
        a.entities[0].file_path.as_deref(),
        Some("P:\\w\\p\\f\\v001\\f.usd")
    );
    let a = answer(&ok, None);
    assert_eq!(
        a.entities[0].file_path.as_deref(),
        Some("{root[work]}/p/f/v001/f.usd"),
        "no site: rootless, as the server without resolveRoots"
    );
    // No template: the entity, without a path (as the server).
    let a = answer(&project(None, context(), &[]), Some(Platform::Linux));
    assert_eq!(a.entities.len(), 1);
    assert_eq!(a.entities[0].file_path, None);
    assert_eq!(a.error, None);
}

#[test]
fn a_context_missing_keys_is_an_error_naming_them() {
    let mut ctx = context();
    ctx.as_object_mut().expect("object").remove("folder");
    let e = error_of(&project(Some(TEMPLATE), ctx, &[("work", "P:/w", "/mnt/w")]));
    assert!(e.contains("folder[name]") && e.contains("r1"), "{e}");
}

#[test]
fn a_context_that_is_not_an_object_is_an_error() {
    let e = error_of(&project(
        Some(TEMPLATE),
        Value::Null,
        &[("work", "P:/w", "/mnt/w")],
    ));
    assert!(e.contains("r1") && e.contains("context"), "{e}");
}

#[test]
fn a_template_that_does_not_format_is_an_error_naming_the_field() {
    let bad = "{root[work]}/{version:>>>x}/{folder[name]}.{ext}";
    let e = error_of(&project(
        Some(bad),
        context(),
        &[("work", "P:/w", "/mnt/w")],
    ));
    assert!(e.contains("version") && e.contains("r1"), "{e}");
}

#[test]
fn no_roots_for_this_platform_is_an_error_naming_it() {
    let e = error_of(&project(Some(TEMPLATE), context(), &[("work", "P:/w", "")]));
    assert!(e.contains("linux") && e.contains("project p"), "{e}");
}

#[test]
fn a_root_this_site_does_not_define_is_an_error_naming_it() {
    let other = "{root[cache]}/{folder[name]}.{ext}";
    let e = error_of(&project(
        Some(other),
        context(),
        &[("work", "P:/w", "/mnt/w")],
    ));
    assert!(e.contains("cache"), "{e}");
    // A site's own roots win over the anatomy's for its platform.
    let mut with_site = project(Some(TEMPLATE), context(), &[("work", "P:/w", "/mnt/w")]);
    with_site.site_roots = Some(SiteRootsRecord {
        site_id: "s".to_owned(),
        platform: Platform::Linux,
        roots: [("work".to_owned(), "/home/me/w".to_owned())].into(),
    });
    let a = answer(&with_site, Some(Platform::Linux));
    assert_eq!(
        a.entities[0].file_path.as_deref(),
        Some("/home/me/w/p/f/v001/f.usd")
    );
}
