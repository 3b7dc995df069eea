//! `ayon testkit serve --stdin-commands`: the counters a script reads from the served child
//! process, checked against real `ayon resolve` runs.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

const V1: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
const V2: &str = "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v002&representation=usd";

struct Served {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    url: String,
    key: String,
}

impl Served {
    fn start() -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ayon"))
            .args(["--json", "testkit", "serve", "--stdin-commands"])
            .env_remove("AYON_API_KEY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the ayon binary runs");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let info = read_json(&mut stdout);
        Served {
            url: info["url"].as_str().expect("url").to_owned(),
            key: info["apiKey"].as_str().expect("apiKey").to_owned(),
            child,
            stdin,
            stdout,
        }
    }

    fn command(&mut self, line: &str) -> Value {
        writeln!(self.stdin, "{line}").expect("write a command");
        self.stdin.flush().expect("flush");
        read_json(&mut self.stdout)
    }

    fn resolve(&self, cache: &std::path::Path, uris: &[&str]) {
        let out = Command::new(env!("CARGO_BIN_EXE_ayon"))
            .args(["--json", "--server", &self.url, "--api-key", &self.key])
            .args(["--site-id", "offline-test-linux", "--cache-dir"])
            .arg(cache)
            .arg("resolve")
            .args(uris)
            .env_remove("AYON_PROJECT_NAME")
            .output()
            .expect("ayon resolve runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_json(r: &mut impl BufRead) -> Value {
    let mut line = String::new();
    r.read_line(&mut line).expect("read a line");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"))
}

#[test]
fn counters_count_resolve_requests_and_reset() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = Served::start();
    assert_eq!(served.command("counters")["resolveRequests"], 0);
    // Two URIs on one command line: one batched request.
    served.resolve(&dir.path().join("a"), &[V1, V2]);
    let counters = served.command("counters");
    assert_eq!(counters["resolveRequests"], 1, "{counters}");
    assert_eq!(counters["resolvedUris"], 2, "{counters}");
    assert_eq!(served.command("reset-counters")["ok"], true);
    assert_eq!(served.command("counters")["resolveRequests"], 0);
    served.resolve(&dir.path().join("b"), &[V1]);
    assert_eq!(served.command("counters")["resolveRequests"], 1);
    let unknown = served.command("restart please");
    assert!(
        unknown["error"]
            .as_str()
            .is_some_and(|e| e.contains("restart please")),
        "{unknown}"
    );
}
