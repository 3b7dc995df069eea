//! `ayon proxy`: the local caching proxy in the foreground, so unchanged AYON tools keep working
//! offline by pointing `AYON_SERVER_URL` at it.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use ayon_proxy::{Proxy, ProxyConfig};
use ayon_site::Credential;
use clap::Args;

use super::Globals;

/// Options of `ayon proxy`.
#[derive(Debug, Args)]
pub struct ProxyCommand {
    /// Address to listen on. Anything but loopback needs --allow-remote: the proxy serves what
    /// it recorded for every user who went through it.
    #[arg(long, default_value_t = SocketAddr::from(([127, 0, 0, 1], ayon_proxy::DEFAULT_PORT)))]
    pub listen: SocketAddr,
    /// Allow a non-loopback --listen address (prints a warning).
    #[arg(long)]
    pub allow_remote: bool,
    /// Print the environment to export for AYON tools (for this --listen) and exit.
    #[arg(long)]
    pub print_env: bool,
    /// Largest answer recorded for offline use, in bytes (larger ones pass unrecorded).
    #[arg(long, default_value_t = ayon_proxy::DEFAULT_MAX_ANSWER_BYTES)]
    pub max_answer_bytes: usize,
    /// Also record file downloads (off by default: large and rarely needed offline).
    #[arg(long)]
    pub store_downloads: bool,
    /// How long to wait for the server's answer before answering from the store, in ms.
    #[arg(long, default_value_t = ayon_proxy::DEFAULT_UPSTREAM_TIMEOUT.as_millis() as u64)]
    pub upstream_timeout_ms: u64,
}

/// The lines that point AYON tools at the proxy, in this platform's shell.
fn env_lines(url: &str) -> String {
    if cfg!(windows) {
        format!("$env:AYON_SERVER_URL = \"{url}\"")
    } else {
        format!("export AYON_SERVER_URL={url}")
    }
}

/// Runs `ayon proxy`.
pub fn run(globals: &Globals, cmd: ProxyCommand) -> ExitCode {
    let url = format!("http://{}", cmd.listen);
    if cmd.print_env {
        if globals.json {
            println!("{}", serde_json::json!({"AYON_SERVER_URL": url}));
        } else {
            println!("{}", env_lines(&url));
        }
        return ExitCode::SUCCESS;
    }
    let Some(server) = globals.server.as_deref() else {
        eprintln!("ayon proxy: no server: pass --server or set AYON_SERVER_URL (the real server)");
        return ExitCode::from(2);
    };
    if !cmd.listen.ip().is_loopback() && cmd.allow_remote {
        eprintln!(
            "ayon proxy: WARNING: listening on {}, reachable from other machines; anyone who can \
             connect gets the answers recorded for the credentials they present",
            cmd.listen
        );
    }
    let mut b = ProxyConfig::builder(server)
        .listen(cmd.listen)
        .allow_remote(cmd.allow_remote)
        .max_answer_bytes(cmd.max_answer_bytes)
        .store_downloads(cmd.store_downloads)
        .upstream_timeout(Duration::from_millis(cmd.upstream_timeout_ms.max(1)));
    if let Some(dir) = &globals.cache_dir {
        b = b.cache_dir(dir);
    }
    match globals.api_key() {
        Ok(Some(key)) => b = b.credential(Credential::from_secret(key)),
        Ok(None) => {}
        Err(e) => {
            eprintln!("ayon proxy: {e}");
            return ExitCode::from(2);
        }
    }
    let proxy = match b.build().and_then(Proxy::start) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("ayon proxy: {e}");
            return ExitCode::from(2);
        }
    };
    let status = proxy.status();
    if globals.json {
        println!(
            "{}",
            serde_json::json!({
                "url": proxy.url(), "server": status.server, "store": status.store.path,
                "env": {"AYON_SERVER_URL": proxy.url()},
            })
        );
    } else {
        println!(
            "AYON caching proxy on {} for {}",
            proxy.url(),
            status.server
        );
        if let Some(path) = &status.store.path {
            println!("store:  {path}");
        }
        println!("status: {}/_proxy/status", proxy.url());
        println!("Point AYON tools at it:\n  {}", env_lines(&proxy.url()));
        println!("Press Ctrl-C to stop.");
    }
    // Serve until the process is interrupted; the proxy runs on its own threads.
    loop {
        std::thread::park();
    }
}
