//! `Monitor::state()` and `is_online()`: what every resolve pays to ask "is the server up?".
//! Target (BENCHMARKS.md): state() < 100 ns, is_online() < 10 ns, no lock on the read path.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ayon_connectivity::{Monitor, MonitorConfig};
use criterion::{Criterion, criterion_group, criterion_main};

fn state(c: &mut Criterion) {
    // Nothing listens on port 9 of loopback: the monitor settles offline (refused) and stays.
    let config = MonitorConfig::builder("http://127.0.0.1:9")
        .api_key("bench")
        .backoff(Duration::from_secs(30), Duration::from_secs(30))
        .build()
        .expect("bench config is valid");
    let monitor = Monitor::start(config);
    let deadline = Instant::now() + Duration::from_secs(5);
    while monitor.state().reason().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut group = c.benchmark_group("connectivity");
    group.bench_function("state_offline", |b| b.iter(|| black_box(&monitor).state()));
    group.bench_function("is_online", |b| b.iter(|| black_box(&monitor).is_online()));
    group.finish();
}

criterion_group!(benches, state);
criterion_main!(benches);
