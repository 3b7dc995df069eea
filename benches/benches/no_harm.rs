//! ayon-resolver-core, "no host harm": what a host pays when the server is not there. Building a
//! `Resolver` (no network I/O, whatever the server does), and an unknown URI once the resolver
//! knows the server is gone (nothing listening on the port, or a server that accepts and never
//! answers): targets under 1 ms each.

use std::net::TcpListener;
use std::time::Duration;

use ayon_resolver_core::Resolver;
use criterion::{Criterion, criterion_group, criterion_main};

/// Unknown URIs, a fresh one per iteration, so no cache can answer.
fn unknown(i: u64) -> String {
    format!(
        "ayon+entity://demo_offline/assets/props/prop{i}?product=usdAsset&version=v001&representation=usd"
    )
}

fn resolver(url: &str, dir: &std::path::Path) -> Resolver {
    Resolver::builder()
        .server_url(url)
        .api_key("0123456789abcdef0123456789abcdef")
        .cache_dir(dir)
        .connect_timeout(Duration::from_millis(300))
        .request_timeout(Duration::from_millis(600))
        .build()
}

/// Runs the first call (which waits one timeout) and checks the server is known to be gone.
fn first_failure(r: &Resolver) {
    let e = r
        .resolve(&unknown(0))
        .expect_err("no server answers this bench");
    assert!(
        matches!(e.kind().as_str(), "offline" | "transport" | "timeout"),
        "{e}"
    );
}

fn no_harm(c: &mut Criterion) {
    // A port nobody listens on: bind, read the port, close.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://127.0.0.1:{}", l.local_addr().expect("addr").port())
    };
    // A server that accepts connections and never answers: the listener's backlog accepts them.
    let hung_listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hung = format!(
        "http://127.0.0.1:{}",
        hung_listener.local_addr().expect("addr").port()
    );
    let dir = tempfile::tempdir().expect("tmp");

    let mut g = c.benchmark_group("no_harm");
    for (name, url) in [("nothing_listening", &dead), ("hung_server", &hung)] {
        g.bench_function(format!("construct_{name}"), |b| {
            b.iter(|| resolver(url, dir.path()))
        });
        let r = resolver(url, dir.path());
        first_failure(&r);
        let mut i = 1u64;
        g.bench_function(format!("unknown_uri_after_first_failure_{name}"), |b| {
            b.iter(|| {
                i += 1;
                r.resolve(&unknown(i)).expect_err("nothing answers")
            })
        });
    }
    g.finish();
    drop(hung_listener);
}

criterion_group!(benches, no_harm);
criterion_main!(benches);
