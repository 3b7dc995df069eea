//! The checked-in `include/ayon_resolver.h` is what cbindgen generates from the sources now;
//! CI fails on drift. `AYON_BLESS=1 cargo test -p ayon-capi --test header` rewrites it.

use std::path::Path;

#[test]
fn the_checked_in_header_is_fresh() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let fresh = String::from_utf8(fresh).expect("UTF-8 header");
    let path = dir.join("include/ayon_resolver.h");
    if std::env::var_os("AYON_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write header");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "{} is stale: run `AYON_BLESS=1 cargo test -p ayon-capi --test header` and commit it",
        path.display()
    );
    for needle in [
        "ayon_resolve(",
        "AYON_ERROR_OFFLINE",
        "ayon_state_callback",
        "AYON_RESOLVER_VERSION_MAJOR",
    ] {
        assert!(fresh.contains(needle), "the header lacks {needle}");
    }
}
