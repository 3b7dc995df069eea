//! `ayon doctor`: what a pipeline TD checks first when resolving misbehaves, one line per check,
//! each saying what is wrong in words and what to do about it.

use std::process::ExitCode;
use std::time::Duration;

use ayon_cache::{
    BreakerState, Cache, CacheAdmin, Key, Namespace, SqliteCache, TieredCache, resolve_cache_dir,
};
use ayon_client::Client;
use ayon_index::Index;
use ayon_resolver_core::{EnvConfig, PinningSwitch};
use clap::Args;
use serde_json::json;

use super::Globals;

/// Check the setup (no changes are made).
#[derive(Debug, Args)]
pub struct DoctorCommand {
    /// How long to wait for the server.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Warn,
    Fail,
}

struct Report {
    json: bool,
    failed: bool,
}

impl Report {
    fn line(&mut self, check: &str, status: Status, message: impl AsRef<str>) {
        let message = message.as_ref();
        self.failed |= status == Status::Fail;
        let word = match status {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        };
        if self.json {
            println!(
                "{}",
                json!({"check": check, "status": word.to_lowercase(), "message": message})
            );
        } else {
            println!("{word:>4}  {check:<12} {message}");
        }
    }
}

/// Runs `ayon doctor`. Exit status: 0 nothing failed (warnings allowed), 1 something failed.
pub fn run(globals: &Globals, cmd: DoctorCommand) -> ExitCode {
    let mut r = Report {
        json: globals.json,
        failed: false,
    };
    let key = match globals.api_key() {
        Ok(k) => k,
        Err(e) => {
            r.line(
                "credential",
                Status::Fail,
                format!("{e} — fix the path given to --api-key-file"),
            );
            None
        }
    };
    server_checks(&mut r, globals, key, cmd.timeout);
    local_checks(&mut r, globals);
    if r.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn server_checks(r: &mut Report, globals: &Globals, key: Option<String>, timeout: Duration) {
    let Some(url) = globals.server.as_deref() else {
        r.line(
            "server",
            Status::Fail,
            "no server URL — set AYON_SERVER_URL or pass --server https://ayon.example.com",
        );
        return;
    };
    match ayon_connectivity::probe_blocking(url, timeout) {
        Ok(info) => r.line(
            "server",
            Status::Ok,
            format!("{url} answers (AYON {})", info.version),
        ),
        Err(e) => {
            r.line(
                "server",
                Status::Fail,
                format!("{url} does not answer: {e} — is the server up and the URL right? Offline work still uses the cache and prepared projects"),
            );
            return;
        }
    }
    let Some(key) = key else {
        r.line(
            "credential",
            Status::Fail,
            "no API key — set AYON_API_KEY, or pass --api-key-file FILE",
        );
        return;
    };
    let mut b = Client::builder(url)
        .credentials(ayon_client::Credentials::from_secret(&key))
        .request_timeout(timeout)
        .connect_timeout(timeout);
    if let Some(site) = &globals.site_id {
        b = b.site_id(site);
    }
    let client = match b.build() {
        Ok(c) => c,
        Err(e) => {
            r.line("credential", Status::Fail, format!("{e}"));
            return;
        }
    };
    let info = match client.info_blocking() {
        Ok(info) => info,
        Err(e) if e.kind().as_str() == "auth" => {
            r.line(
                "credential",
                Status::Fail,
                format!("the server refused the key: {e} — ask an AYON admin for a valid API key"),
            );
            return;
        }
        Err(e) => {
            r.line("credential", Status::Fail, e.to_string());
            return;
        }
    };
    match &info.user {
        Some(user) => r.line("credential", Status::Ok, format!("accepted (user {user})")),
        None => {
            // `/api/info` answers anyone; only an accepted credential gets a user back.
            r.line(
                "credential",
                Status::Fail,
                "the server did not accept the key (no user for it) — ask an AYON admin for a valid API key",
            );
            return;
        }
    }
    match (&globals.site_id, info.site_platform) {
        (None, _) => r.line(
            "site",
            Status::Warn,
            "no site id — set AYON_SITE_ID (the AYON launcher's site) so paths use this machine's roots",
        ),
        (Some(site), Some(p)) => r.line("site", Status::Ok, format!("{site} is registered ({p})")),
        (Some(site), None) => r.line(
            "site",
            Status::Warn,
            format!("{site} is not registered on the server — log in once with the AYON launcher on this machine"),
        ),
    }
    if let Some(project) = &globals.project {
        match client.site_roots_blocking(project) {
            Ok(roots) if roots.is_empty() => r.line(
                "roots",
                Status::Fail,
                format!("project {project} has no roots for this site's platform — set them in the project's anatomy or your site settings"),
            ),
            Ok(roots) => r.line("roots", Status::Ok, format!("{project}: {roots}")),
            Err(e) => r.line("roots", Status::Fail, format!("{project}: {e}")),
        }
    }
}

fn local_checks(r: &mut Report, globals: &Globals) {
    match resolve_cache_dir(globals.cache_dir.as_deref()) {
        Err(e) => r.line(
            "cache",
            Status::Fail,
            format!("{e} — pass --cache-dir or set AYON_OFFLINE_CACHE_DIR to a writable directory"),
        ),
        Ok(dir) => {
            match SqliteCache::builder().dir(&dir).open() {
                Ok(cache) => {
                    let n = cache.len().unwrap_or(0);
                    let problems: Vec<String> =
                        cache.diagnostics().into_iter().map(|d| d.message).collect();
                    if problems.is_empty() {
                        r.line(
                            "cache",
                            Status::Ok,
                            format!("{} ({n} answers)", dir.display()),
                        );
                    } else {
                        r.line("cache", Status::Warn, problems.join("; "));
                    }
                }
                Err(e) => r.line(
                    "cache",
                    Status::Fail,
                    format!(
                        "{e} — the cache works in memory only; make {} writable",
                        dir.display()
                    ),
                ),
            }
            match Index::open_in(&dir).and_then(|i| i.projects()) {
                Ok(p) if p.is_empty() => r.line(
                    "index",
                    Status::Warn,
                    "nothing prepared for offline — run `ayon prepare-offline --project P` while online",
                ),
                Ok(p) => {
                    let names: Vec<String> = p
                        .iter()
                        .map(|p| format!("{} ({})", p.name, humantime::format_rfc3339_seconds(p.prepared_at)))
                        .collect();
                    r.line("index", Status::Ok, format!("prepared: {}", names.join(", ")));
                }
                Err(e) => r.line("index", Status::Fail, e.to_string()),
            }
        }
    }
    let env = EnvConfig::from_process_env();
    for name in &env.unreadable {
        r.line(
            "environment",
            Status::Warn,
            format!("{name} is not valid Unicode and is ignored"),
        );
    }
    match (&env.pinning, &env.pinning_file) {
        (PinningSwitch::Off, _) => r.line("pinning", Status::Ok, "off (live resolution)"),
        (switch, None) => r.line(
            "pinning",
            Status::Fail,
            format!(
                "pinning is on ({switch:?}) but no file is set — set AYON_USD_RESOLVER_PINNING_FILE"
            ),
        ),
        (switch, Some(file)) => {
            let roots = ayon_pinning::roots_from_env();
            match roots.map_err(|e| e.to_string()).and_then(|roots| {
                ayon_pinning::PinningFile::load(file, &roots).map_err(|e| e.to_string())
            }) {
                Ok(p) => {
                    let status = if matches!(switch, PinningSwitch::Unrecognised(_)) {
                        Status::Warn
                    } else {
                        Status::Ok
                    };
                    r.line(
                        "pinning",
                        status,
                        format!("on: {} ({} entries)", file.display(), p.len()),
                    );
                }
                Err(e) => r.line("pinning", Status::Fail, e),
            }
        }
    }
    shared_tier_check(r, &env);
}

/// The shared cache tier (`AYON_OFFLINE_REDIS_URL`): its URL without the password, whether it
/// answers within the resolvers' own timeout, and this probe's hits, misses and breaker.
fn shared_tier_check(r: &mut Report, env: &EnvConfig) {
    const CHECK: &str = "shared tier";
    let Some(config) = env.redis_config() else {
        r.line(
            CHECK,
            Status::Ok,
            "not configured (set AYON_OFFLINE_REDIS_URL=redis://host:6379 so a farm resolves each answer from the server once)",
        );
        return;
    };
    let url = config.shown_url();
    let prefix = config.key_prefix().to_owned();
    let cache = TieredCache::builder()
        .memory_only()
        .redis(Some(config.subscribe(false)))
        .open();
    let Some(_) = cache.stats().shared else {
        let why: Vec<String> = cache.diagnostics().into_iter().map(|d| d.message).collect();
        r.line(
            CHECK,
            Status::Fail,
            format!("{url}: {} — resolvers run without it", why.join("; ")),
        );
        return;
    };
    // A key nobody writes: one real read through the tier, as a resolver's miss would do it.
    let probe = Key::new(&Namespace::custom("ayon-doctor"), "probe");
    let _ = cache.get(&probe);
    let Some(s) = cache.stats().shared else {
        return;
    };
    let breaker = match s.breaker {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half-open",
    };
    let counts = format!(
        "hits {}, misses {}, errors {}, breaker {breaker}",
        s.hits, s.misses, s.errors
    );
    if s.errors > 0 {
        let last = s.last_error.unwrap_or_default();
        r.line(
            CHECK,
            Status::Fail,
            format!(
                "{url} did not answer ({counts}): {last} — resolvers fall back to their local cache and the server; check the URL, user, password and firewall"
            ),
        );
    } else {
        r.line(
            CHECK,
            Status::Ok,
            format!("{url} answers (prefix {prefix}; {counts})"),
        );
    }
}
