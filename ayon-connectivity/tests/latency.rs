//! Detection latencies, measured over real sockets (run with `--ignored --nocapture`; the
//! figures go into BENCHMARKS.md). Ignored by default: it only reports, and takes ~30 s.

mod common;

use std::time::{Duration, Instant};

use common::*;

const RUNS: usize = 11;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn show(what: &str, v: Vec<Duration>) {
    let min = v.iter().min().copied().unwrap_or_default();
    let max = v.iter().max().copied().unwrap_or_default();
    println!(
        "{what}: median {:.1} ms (min {:.1}, max {:.1}, n={})",
        median(v.clone()).as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        v.len()
    );
}

#[test]
#[ignore = "measurement: run explicitly with --ignored --nocapture"]
fn detection_latencies() {
    let server = server();
    let window = Duration::from_secs(1);
    let monitor = start(with_token(&server).silence_window(window));
    online(&monitor, Duration::from_secs(5));

    let (mut restart_off, mut restart_on) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t0 = Instant::now();
        server.restart();
        let off = offline(&monitor, Duration::from_secs(2));
        restart_off.push(off - t0);
        let on = online(&monitor, Duration::from_secs(10));
        restart_on.push(on.saturating_duration_since(t0 + REFUSE + BOOT));
    }
    let (mut crash_off, mut crash_on) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t0 = Instant::now();
        server.crash();
        let returned = Instant::now();
        crash_off
            .push(offline(&monitor, Duration::from_secs(2)).saturating_duration_since(returned));
        let on = online(&monitor, Duration::from_secs(10));
        crash_on.push(on.saturating_duration_since(t0 + BOOT));
    }
    let mut silence = Vec::new();
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(250));
        let t0 = Instant::now();
        server.silence_ws(true);
        silence.push(offline(&monitor, Duration::from_secs(3)) - t0);
        server.silence_ws(false);
        online(&monitor, Duration::from_secs(5));
    }
    let mut report = Vec::new();
    for _ in 0..RUNS {
        let t0 = Instant::now();
        monitor.report_failure("measured");
        let on = online(&monitor, Duration::from_secs(2));
        report.push(on - t0);
    }
    show("graceful restart: restart() called -> offline", restart_off);
    show("graceful restart: serving again -> online", restart_on);
    show("crash: crash() returned -> offline", crash_off);
    show("crash: serving again -> online", crash_on);
    show(
        "silent drop (window 1 s, heartbeat 100 ms): silence -> offline",
        silence,
    );
    show("report_failure -> online again (healthy server)", report);
}
