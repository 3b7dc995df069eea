//! `ayon demo`: the whole story against an embedded AYON-compatible server, narrated with
//! timings: resolve online, prepare for offline, lose the server, keep working, get it back,
//! see `latest` follow a publish, and resolve a shot on a "farm" from a pinning file alone.
//!
//! Every step checks its answer; the exit status is 0 only when all of them gave the expected
//! one, so the test suite runs it as is.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use ayon_pinning::{PinningFile, Roots};
use ayon_resolver_core::{
    CancelToken, PinningPolicy, PrepareOptions, PrepareScope, Resolved, Resolver, Source,
};
use ayon_testkit::{Library, TestServer};
use clap::Args;
use serde_json::json;

use super::Globals;

const PROJECT: &str = "demo_offline";
const SITE: &str = "offline-test-linux";
const HERO_V1: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
const HERO_LATEST: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd";
const SHOT_HERO: &str =
    "ayon+entity://demo_offline/shots/sq010/sh010?product=usdShot&version=hero&representation=abc";
const MODEL_V2: &str = "ayon+entity://demo_offline/assets/characters/hero?product=modelMain&version=v002&representation=abc";
const PROP: &str = "ayon+entity://demo_offline/assets/props/prop042?product=usdAsset&version=latest&representation=usd";

/// Run the guided demo against an embedded test server (no setup needed).
#[derive(Debug, Args)]
pub struct DemoCommand {
    /// Keep the temporary cache directory and print where it is.
    #[arg(long)]
    pub keep: bool,
}

/// The narrator: text for people, one JSON object per step for machines.
struct Story {
    json: bool,
    started: Instant,
    failures: Vec<String>,
}

impl Story {
    fn chapter(&self, title: &str) {
        if !self.json {
            println!("\n== {title}");
        }
    }

    /// Records one checked step.
    fn step(&mut self, what: &str, took: Duration, ok: bool, detail: &str) {
        if !ok {
            self.failures.push(format!("{what}: {detail}"));
        }
        if self.json {
            println!(
                "{}",
                json!({"step": what, "ok": ok, "ms": took.as_secs_f64() * 1e3, "detail": detail})
            );
        } else {
            let mark = if ok { "ok  " } else { "FAIL" };
            println!("  [{mark}] {what} ({}) {detail}", fmt_duration(took));
        }
    }

    fn note(&self, text: &str) {
        if !self.json {
            println!("         {text}");
        }
    }
}

fn fmt_duration(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    } else if d < Duration::from_secs(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn describe(r: &Result<Resolved, ayon_resolver_core::ResolveError>) -> String {
    match r {
        Ok(r) => format!("{} [{}]", r.path, r.source.as_str()),
        Err(e) => format!("error ({}): {e}", e.kind().as_str()),
    }
}

/// Waits (bounded) for `cond`, polling every millisecond; the time it took.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

/// Runs `ayon demo`.
pub fn run(globals: &Globals, cmd: DemoCommand) -> ExitCode {
    let mut story = Story {
        json: globals.json,
        started: Instant::now(),
        failures: Vec::new(),
    };
    match demo(&mut story, &cmd) {
        Ok(()) if story.failures.is_empty() => {
            if !story.json {
                println!(
                    "\nAll steps gave the expected answers in {}.",
                    fmt_duration(story.started.elapsed())
                );
            }
            ExitCode::SUCCESS
        }
        Ok(()) => {
            eprintln!("ayon demo: {} step(s) failed:", story.failures.len());
            for f in &story.failures {
                eprintln!("  {f}");
            }
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("ayon demo: {e}");
            ExitCode::from(2)
        }
    }
}

fn demo(story: &mut Story, cmd: &DemoCommand) -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("ayon-demo-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary cache directory: {e}"))?;
    let boot = Duration::from_secs(3);
    let server = TestServer::builder()
        .library(Library::demo_offline())
        .heartbeat_interval(Duration::from_millis(500))
        .boot_time(boot)
        .start()
        .map_err(|e| format!("cannot start the embedded AYON server: {e}"))?;
    story.chapter(&format!(
        "An AYON-compatible server with project `{PROJECT}` is running at {}",
        server.url()
    ));
    let resolver = Resolver::builder()
        .server_url(server.url())
        .api_key(server.session_token())
        .site_id(SITE)
        .project(PROJECT)
        .cache_dir(dir.path())
        .connect_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_secs(2))
        .reconnect_backoff(Duration::from_millis(100), Duration::from_millis(500))
        .build();
    resolver.connect()?;
    let online = wait_for(Duration::from_secs(10), || resolver.state().is_online());
    story.step(
        "connect and watch the server's /ws",
        online.unwrap_or_default(),
        online.is_some() && server.wait_ws_subscribed(1, Duration::from_secs(5)),
        "online",
    );

    story.chapter("1. Resolve online: the server once, then memory");
    let (first, took) = timed(|| resolver.resolve(HERO_V1));
    let ok = matches!(&first, Ok(r) if r.source == Source::Server && r.path.ends_with(".usd"));
    story.step("resolve hero v001", took, ok, &describe(&first));
    let (again, took) = timed(|| resolver.resolve(HERO_V1));
    let same = matches!((&first, &again), (Ok(a), Ok(b)) if a.path == b.path && b.source == Source::Cache { stale: false });
    story.step("resolve it again", took, same, &describe(&again));

    story.chapter("2. Prepare for offline what shot sh010 references (one click in a DCC)");
    let scope = PrepareScope::Uris(vec![HERO_LATEST.into(), SHOT_HERO.into()]);
    let bar = super::progress::bar(story.json);
    let cancel = CancelToken::new();
    let (report, took) = timed(|| {
        resolver.prepare_offline(PROJECT, &scope, &PrepareOptions::default(), &cancel, &|p| {
            bar.update(p)
        })
    });
    bar.finish();
    match report {
        Ok(r) => story.step(
            "prepare assets/characters/hero and shots/sq010/sh010",
            took,
            r.representations > 0,
            &format!(
                "{} folders, {} products, {} versions, {} representations; {} KiB in {} requests",
                r.folders,
                r.products,
                r.versions,
                r.representations,
                r.bytes / 1024,
                r.requests
            ),
        ),
        Err(e) => story.step("prepare", took, false, &e.to_string()),
    }

    story.chapter("3. The server crashes");
    server.crash();
    let gone = wait_for(Duration::from_secs(5), || !resolver.state().is_online());
    story.step(
        "the monitor knows it is gone",
        gone.unwrap_or_default(),
        gone.is_some(),
        &resolver.state().to_string(),
    );

    story.chapter("4. Keep working offline: no waiting, answers from cache and index");
    let (exact, took) = timed(|| resolver.resolve(HERO_V1));
    let ok = matches!((&first, &exact), (Ok(a), Ok(b)) if a.path == b.path);
    story.step(
        "exact version (resolved before)",
        took,
        ok,
        &describe(&exact),
    );
    for (what, uri) in [
        ("`latest` never resolved before", HERO_LATEST),
        ("`hero` of the shot, never resolved before", SHOT_HERO),
        ("an exact model version, never resolved before", MODEL_V2),
    ] {
        let (r, took) = timed(|| resolver.resolve(uri));
        let ok = matches!(&r, Ok(r) if matches!(r.source, Source::LocalIndex { .. }));
        story.step(what, took, ok, &describe(&r));
    }
    let (never, took) = timed(|| resolver.resolve(PROP));
    let clear = matches!(&never, Err(e) if e.kind().as_str() == "offline" && e.to_string().contains("prop042"));
    story.step(
        "a prop nobody prepared fails at once, saying why",
        took,
        clear && took < Duration::from_millis(100),
        &describe(&never),
    );

    story.chapter("5. The server comes back; an artist publishes hero v004");
    let back = wait_for(boot + Duration::from_secs(10), || {
        resolver.state().is_online()
    });
    story.step(
        "the monitor sees it back",
        back.unwrap_or_default(),
        back.is_some() && server.wait_ws_subscribed(1, Duration::from_secs(5)),
        "online",
    );
    let before = resolver.resolve(HERO_LATEST);
    story.note(&format!("latest is {}", describe(&before)));
    let published = server
        .publish_version(PROJECT, "assets/characters/hero", "usdAsset", &["usd"])
        .map_err(|e| format!("publish failed: {e}"))?;
    let follows = wait_for(
        Duration::from_secs(5),
        || matches!(resolver.resolve(HERO_LATEST), Ok(r) if r.path.contains(&format!("v{published:03}"))),
    );
    story.step(
        &format!("`latest` follows the publish of v{published:03}"),
        follows.unwrap_or_default(),
        follows.is_some(),
        &describe(&resolver.resolve(HERO_LATEST)),
    );

    story.chapter("6. A render farm job: a pinning file, no server at all");
    let pin = dir.path().join("sh010_pin.json");
    let studio_roots = Roots::parse("work=/mnt/projects").map_err(|e| e.to_string())?;
    let uris = [HERO_V1, SHOT_HERO, MODEL_V2];
    let answers = resolver.resolve_many(&uris);
    let entries: Vec<(&str, String)> = uris
        .iter()
        .zip(&answers)
        .filter_map(|(u, a)| a.as_ref().ok().map(|r| (*u, r.path.clone())))
        .collect();
    let (written, took) = timed(|| {
        PinningFile::write(
            &pin,
            entries.iter().map(|(u, p)| (*u, p.as_str())),
            None,
            &studio_roots,
        )
    });
    story.step(
        "write the shot's pinning file (rootless)",
        took,
        written.is_ok() && entries.len() == uris.len(),
        &format!("{} entries in {}", entries.len(), pin.display()),
    );
    let farm = Resolver::builder()
        .pinning_policy(PinningPolicy::PinningOnly)
        .pinning_file(&pin)
        .pinning_roots(Roots::parse("work=/farm/projects").map_err(|e| e.to_string())?)
        .build();
    let (pinned, took) = timed(|| farm.resolve(SHOT_HERO));
    let ok = matches!(&pinned, Ok(r) if r.source == Source::Pinning && r.path.starts_with("/farm/projects/"));
    story.step(
        "a farm worker resolves the shot",
        took,
        ok,
        &describe(&pinned),
    );
    let (miss, took) = timed(|| farm.resolve(PROP));
    let ok = matches!(&miss, Err(e) if e.kind().as_str() == "not_pinned");
    story.step(
        "an unpinned asset is named, not fetched",
        took,
        ok,
        &describe(&miss),
    );

    let stats = resolver.stats();
    story.note(&format!(
        "resolver stats: {} memory hits, {} server answers, {} index answers, {} offline failures",
        stats.memory_hits, stats.server_answers, stats.index_answers, stats.offline_failures
    ));
    if cmd.keep {
        let kept = dir.keep();
        story.note(&format!("cache kept in {}", kept.display()));
    }
    Ok(())
}
