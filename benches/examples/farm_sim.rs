//! The farm scale simulation of issue 16: N worker processes, each a farm job with an empty
//! local cache, resolve their shot's layers through the resolver core (configured from the
//! environment, as a job is) against the testkit server, without and with the shared Redis
//! tier. Prints requests and URIs reaching the server and the wall time per run as a Markdown
//! table, and writes them as CSV for `docs/plots/farm_sim.py` (the PNG in `docs/`).
//!
//! The library: 300 distinct URIs (100 props × 3 versions) in 10 layer sets; set `k` is a
//! shared scene layer (every 10th URI: 30 URIs) plus the shot's own 30 URIs; worker `w`
//! renders set `w % 10`. All workers of a run start together (the worst case: they miss at
//! the same moment).
//!
//! ```text
//! cargo run -p ayon-benches --example farm_sim -- [--workers 1,2,4,8,16,32]
//!     [--latency-ms 20] [--modes local,shared,peer] [--csv docs/farm-sim.csv]
//! ```
//! Modes: `local` (no shared tier), `shared` (Redis tier), `peer` (Redis tier with
//! `RedisConfig::peer_wait`, cross-process single flight). Needs `redis-server`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ayon_cache::RedisConfig;
use ayon_resolver_core::ResolverBuilder;
use ayon_testkit::redis::RedisServer;
use ayon_testkit::{Library, TestServer};

/// Set in a worker: the layer set it renders.
const WORKER_ENV: &str = "AYON_FARM_SIM_LAYER_SET";
/// Set in a worker of the `peer` mode: how long to wait for a peer's answer.
const PEER_WAIT_ENV: &str = "AYON_FARM_SIM_PEER_WAIT_MS";
const LAYER_SETS: usize = 10;
const URIS: usize = 300;

/// URI `i` of the 300: prop `i / 3 + 1`, version `i % 3 + 1`.
fn uri(i: usize) -> String {
    Library::demo_prop_uri(i / 3 + 1, &format!("v{:03}", i % 3 + 1))
}

/// The layers of set `k`, in load order: the scene layer, then the shot's own.
fn layers(k: usize) -> [Vec<String>; 2] {
    let per_set = URIS / LAYER_SETS;
    [
        (0..URIS).step_by(LAYER_SETS).map(uri).collect(),
        (k * per_set..(k + 1) * per_set).map(uri).collect(),
    ]
}

/// Distinct URIs the first `workers` workers ask for.
fn distinct(workers: usize) -> usize {
    let mut all: Vec<String> = (0..workers.min(LAYER_SETS))
        .flat_map(|k| layers(k).into_iter().flatten())
        .collect();
    all.sort();
    all.dedup();
    all.len()
}

fn worker(set: usize) -> i32 {
    let mut builder = ResolverBuilder::from_env()
        .monitor(false)
        .request_timeout(Duration::from_secs(60));
    if let (Some(config), Some(ms)) = (
        RedisConfig::from_env(),
        std::env::var(PEER_WAIT_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok()),
    ) {
        builder = builder.shared_tier(config.peer_wait(Duration::from_millis(ms)));
    }
    let r = builder.build();
    let mut failed = 0;
    for layer in layers(set) {
        let refs: Vec<&str> = layer.iter().map(String::as_str).collect();
        for (u, got) in layer.iter().zip(r.resolve_many(&refs)) {
            if let Err(e) = got {
                eprintln!("worker {set}: {u}: {e}");
                failed += 1;
            }
        }
    }
    i32::from(failed > 0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Local,
    Shared,
    Peer,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Local => "local",
            Mode::Shared => "shared",
            Mode::Peer => "peer",
        }
    }

    fn parse(s: &str) -> Option<Mode> {
        [Mode::Local, Mode::Shared, Mode::Peer]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

struct Run {
    mode: Mode,
    workers: usize,
    requests: u64,
    uris: u64,
    wall: Duration,
}

fn run(
    server: &TestServer,
    redis: &RedisServer,
    mode: Mode,
    workers: usize,
) -> Result<Run, String> {
    server.reset_counters();
    redis.command("FLUSHALL");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let dirs: Vec<tempfile::TempDir> = (0..workers)
        .map(|_| tempfile::tempdir())
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let children: Vec<Child> = dirs
        .iter()
        .enumerate()
        .map(|(w, dir)| {
            let mut c = Command::new(&exe);
            c.env(WORKER_ENV, (w % LAYER_SETS).to_string())
                .env("AYON_SERVER_URL", server.url())
                .env("AYON_API_KEY", server.session_token())
                .env("AYON_SITE_ID", "offline-test-linux")
                .env(ayon_cache::CACHE_DIR_ENV, dir.path())
                .env_remove(ayon_cache::REDIS_URL_ENV)
                .env_remove(PEER_WAIT_ENV)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            if mode != Mode::Local {
                c.env(ayon_cache::REDIS_URL_ENV, redis.url())
                    .env(ayon_cache::REDIS_PREFIX_ENV, "farm-sim:");
            }
            if mode == Mode::Peer {
                c.env(PEER_WAIT_ENV, "10000");
            }
            c.spawn().map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let mut failed = 0;
    for mut c in children {
        if !c.wait().map_err(|e| e.to_string())?.success() {
            failed += 1;
        }
    }
    let wall = start.elapsed();
    if failed > 0 {
        return Err(format!(
            "{failed} of {workers} workers failed ({})",
            mode.name()
        ));
    }
    Ok(Run {
        mode,
        workers,
        requests: server.request_count("POST /api/resolve"),
        uris: server.resolved_uri_count(),
        wall,
    })
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    if let Some(set) = std::env::var(WORKER_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        std::process::exit(worker(set));
    }
    let args: Vec<String> = std::env::args().collect();
    let counts: Vec<usize> = arg(&args, "--workers")
        .unwrap_or_else(|| "1,2,4,8,16,32".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let modes: Vec<Mode> = arg(&args, "--modes")
        .unwrap_or_else(|| "local,shared,peer".into())
        .split(',')
        .filter_map(|m| Mode::parse(m.trim()))
        .collect();
    let latency = Duration::from_millis(
        arg(&args, "--latency-ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(20),
    );
    let csv = arg(&args, "--csv").map(PathBuf::from);

    let redis = match RedisServer::start_with(&[]) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("farm_sim needs redis-server: {e}");
            std::process::exit(2);
        }
    };
    let server = match TestServer::start(Library::demo_offline()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("testkit server: {e}");
            std::process::exit(2);
        }
    };
    server.latency(latency);
    println!(
        "farm simulation: {URIS} URIs in {LAYER_SETS} layer sets, server latency {latency:?}\n"
    );
    println!(
        "| workers | distinct URIs | mode | resolve requests | URIs resolved by the server | wall time |"
    );
    println!("|---|---|---|---|---|---|");
    let mut rows = vec!["mode,workers,distinct_uris,requests,uris,wall_ms".to_owned()];
    for &n in &counts {
        for &mode in &modes {
            match run(&server, &redis, mode, n) {
                Ok(r) => {
                    println!(
                        "| {} | {} | {} | {} | {} | {:.2} s |",
                        r.workers,
                        distinct(r.workers),
                        r.mode.name(),
                        r.requests,
                        r.uris,
                        r.wall.as_secs_f64()
                    );
                    rows.push(format!(
                        "{},{},{},{},{},{}",
                        r.mode.name(),
                        r.workers,
                        distinct(r.workers),
                        r.requests,
                        r.uris,
                        r.wall.as_millis()
                    ));
                }
                Err(e) => {
                    eprintln!("run failed: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    if let Some(path) = csv {
        if let Err(e) = std::fs::write(&path, rows.join("\n") + "\n") {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
        println!("\nwrote {}", path.display());
    }
}
