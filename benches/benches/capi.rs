//! ayon-capi: a cached resolve through the C ABI (NUL-terminated argument, boundary checks,
//! panic guard, copy into a caller buffer) against the same Rust call, on one resolver.

use std::ffi::{CString, c_char};

use ayon_capi::{
    ayon_resolve, ayon_resolve_owned, ayon_resolver, ayon_resolver_config_default,
    ayon_resolver_free, ayon_resolver_new, ayon_result, ayon_string_free,
};
use ayon_testkit::{Library, TestServer};
use criterion::{Criterion, criterion_group, criterion_main};

fn uris() -> Vec<String> {
    (1..=100)
        .map(|i| format!("ayon+entity://demo_offline/assets/props/prop{i:03}?product=usdAsset&version=v001&representation=usd"))
        .collect()
}

fn cached(c: &mut Criterion) {
    let server = TestServer::start(Library::demo_offline()).expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let url = CString::new(server.url()).expect("url");
    let token = CString::new(server.session_token()).expect("token");
    let cache = CString::new(dir.path().display().to_string()).expect("dir");
    let mut config = ayon_resolver_config_default();
    config.server_url = url.as_ptr();
    config.api_key = token.as_ptr();
    config.cache_dir = cache.as_ptr();
    config.monitor = false;
    let mut handle: *mut ayon_resolver = std::ptr::null_mut();
    let rc = ayon_resolver_new(&config, &mut handle, std::ptr::null_mut());
    assert_eq!(rc, ayon_result::AYON_OK);

    // The same resolver from Rust: a second one would have its own caches.
    let rust = ayon_resolver_core::Resolver::builder()
        .server_url(server.url())
        .api_key(server.session_token())
        .cache_dir(dir.path())
        .monitor(false)
        .build();
    let uris = uris();
    let refs: Vec<&str> = uris.iter().map(String::as_str).collect();
    let c_uris: Vec<CString> = uris
        .iter()
        .map(|u| CString::new(u.as_str()).expect("uri"))
        .collect();
    assert_eq!(rust.prewarm(&refs), refs.len());
    let mut buf = vec![0 as c_char; 1024];
    let mut len = 0usize;
    for u in &c_uris {
        let rc = ayon_resolve(
            handle,
            std::ptr::null(),
            u.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        assert_eq!(rc, ayon_result::AYON_OK, "warm-up through the C ABI");
    }

    let mut g = c.benchmark_group("capi");
    let mut i = 0usize;
    g.bench_function("rust_resolve_cached", |b| {
        b.iter(|| {
            i = (i + 1) % refs.len();
            rust.resolve(std::hint::black_box(refs[i])).expect("hit")
        })
    });
    g.bench_function("c_resolve_into_buffer_cached", |b| {
        b.iter(|| {
            i = (i + 1) % c_uris.len();
            ayon_resolve(
                handle,
                std::ptr::null(),
                std::hint::black_box(c_uris[i].as_ptr()),
                buf.as_mut_ptr(),
                buf.len(),
                &mut len,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        })
    });
    g.bench_function("c_resolve_owned_cached", |b| {
        b.iter(|| {
            i = (i + 1) % c_uris.len();
            let mut out: *mut c_char = std::ptr::null_mut();
            let rc = ayon_resolve_owned(
                handle,
                std::ptr::null(),
                std::hint::black_box(c_uris[i].as_ptr()),
                &mut out,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            ayon_string_free(out);
            rc
        })
    });
    g.finish();
    ayon_resolver_free(handle);
}

criterion_group!(benches, cached);
criterion_main!(benches);
