//! Replays recorded exchanges against a testkit server and compares status and body.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ayon_testkit::{Library, TestServer, load_fixture};
use serde_json::Value;

/// One replay session: a server loaded with `demo_offline` and the placeholder bindings.
pub struct Replay {
    pub server: TestServer,
    client: reqwest::Client,
    rt: tokio::runtime::Runtime,
    bindings: HashMap<String, String>,
}

/// How to treat one fixture file.
#[derive(Default)]
pub struct Opts {
    /// Keys whose values are not compared, wherever they occur.
    pub ignore: HashSet<&'static str>,
    /// Exchanges (by index) deliberately skipped, with the reason (listed in README.md).
    pub skip: HashMap<usize, &'static str>,
    /// Request body replacements by exchange index (secrets the recording masked).
    pub body_override: HashMap<usize, Value>,
}

impl Opts {
    pub fn ignoring(keys: &[&'static str]) -> Opts {
        Opts {
            ignore: keys.iter().copied().collect(),
            ..Opts::default()
        }
    }
    pub fn skip(mut self, index: usize, reason: &'static str) -> Opts {
        self.skip.insert(index, reason);
        self
    }
    pub fn body(mut self, index: usize, body: Value) -> Opts {
        self.body_override.insert(index, body);
        self
    }
}

impl Replay {
    pub fn new() -> Replay {
        Replay::with_library(Library::demo_offline())
    }

    pub fn with_library(library: Library) -> Replay {
        let server = TestServer::start(library).expect("testkit starts");
        let mut bindings = HashMap::new();
        bindings.insert("<TOKEN>".to_owned(), server.session_token());
        bindings.insert("<SERVICE_API_KEY>".to_owned(), server.api_key());
        bindings.insert("<RESOLVER_SERVICE_API_KEY>".to_owned(), server.api_key());
        bindings.insert("<PASSWORD>".to_owned(), server.admin_credentials().1);
        Replay {
            server,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            bindings,
        }
    }

    /// Binds a placeholder to the value this replay uses for it.
    pub fn bind(&mut self, placeholder: &str, value: &str) {
        self.bindings
            .insert(placeholder.to_owned(), value.to_owned());
    }

    fn substitute(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for (k, v) in &self.bindings {
            out = out.replace(k, v);
        }
        out
    }

    fn substitute_value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.substitute(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.substitute_value(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.substitute_value(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Replays every exchange of a fixture file; returns the mismatches and the replayed count.
    pub fn replay(&mut self, fixture: &str, opts: &Opts) -> (Vec<String>, usize) {
        let data = load_fixture(fixture).unwrap_or_else(|e| {
            panic!("{e} (the recorded fixtures are required for contract tests)")
        });
        let exchanges = data["exchanges"]
            .as_array()
            .unwrap_or_else(|| panic!("{fixture}: no exchanges"))
            .clone();
        let mut failures = Vec::new();
        let mut replayed = 0;
        for (i, ex) in exchanges.iter().enumerate() {
            if opts.skip.contains_key(&i) {
                continue;
            }
            replayed += 1;
            let req = &ex["request"];
            let method = req["method"].as_str().unwrap_or("GET");
            let path = req["path"].as_str().unwrap_or("/");
            let mut url = format!("{}{}", self.server.url(), path);
            if let Some(q) = req["query"].as_object() {
                let pairs: Vec<String> = q
                    .iter()
                    .map(|(k, v)| {
                        let v = v
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string());
                        format!("{k}={}", self.substitute(&v))
                    })
                    .collect();
                url = format!("{url}?{}", pairs.join("&"));
            }
            let mut rb = self
                .client
                .request(method.parse().unwrap_or(reqwest::Method::GET), url);
            if let Some(h) = req["headers"].as_object() {
                for (k, v) in h {
                    if [
                        "content-length",
                        "host",
                        "accept-encoding",
                        "connection",
                        "user-agent",
                        "referer",
                    ]
                    .contains(&k.as_str())
                    {
                        continue;
                    }
                    if let Some(v) = v.as_str() {
                        rb = rb.header(k.as_str(), self.substitute(v));
                    }
                }
            }
            let body = opts
                .body_override
                .get(&i)
                .cloned()
                .unwrap_or_else(|| self.substitute_value(&req["body"]));
            if !body.is_null() {
                rb = rb
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            let (status, text) = self.rt.block_on(async {
                let resp = rb.send().await.expect("request sent");
                let status = resp.status().as_u16();
                (status, resp.text().await.unwrap_or_default())
            });
            let label = format!(
                "{fixture}[{i}] {method} {path} ({})",
                ex["note"].as_str().unwrap_or("")
            );
            let want_status = ex["response"]["status"].as_u64().unwrap_or(0) as u16;
            if status != want_status {
                failures.push(format!(
                    "{label}: status {status}, recorded {want_status}: {}",
                    truncate(&text)
                ));
                continue;
            }
            let want = &ex["response"]["body"];
            if want.is_string() && !text.trim_start().starts_with(['{', '[']) {
                continue; // HTML page: status is the contract.
            }
            let got: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let mut diffs = Vec::new();
            compare(
                want,
                &got,
                "$",
                &opts.ignore,
                &mut self.bindings,
                &mut diffs,
            );
            if !diffs.is_empty() {
                failures.push(format!("{label}:\n    {}", diffs.join("\n    ")));
            }
        }
        (failures, replayed)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(400).collect()
}

fn is_placeholder(s: &str) -> bool {
    s.len() > 2
        && s.starts_with('<')
        && s.ends_with('>')
        && s[1..s.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Structural comparison; placeholders in the recording match any string (and get bound).
pub fn compare(
    want: &Value,
    got: &Value,
    at: &str,
    ignore: &HashSet<&'static str>,
    bindings: &mut HashMap<String, String>,
    diffs: &mut Vec<String>,
) {
    match (want, got) {
        (Value::String(w), Value::String(g)) if is_placeholder(w) => {
            bindings.entry(w.clone()).or_insert_with(|| g.clone());
        }
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                if ignore.contains(k.as_str()) {
                    continue;
                }
                match g.get(k) {
                    Some(gv) => compare(wv, gv, &format!("{at}.{k}"), ignore, bindings, diffs),
                    None => diffs.push(format!("{at}.{k}: missing (recorded {})", short(wv))),
                }
            }
            for k in g.keys() {
                if !w.contains_key(k) && !ignore.contains(k.as_str()) {
                    diffs.push(format!("{at}.{k}: unexpected {}", short(&g[k])));
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                diffs.push(format!("{at}: {} items, recorded {}", g.len(), w.len()));
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                compare(wv, gv, &format!("{at}[{i}]"), ignore, bindings, diffs);
            }
        }
        (Value::Number(w), Value::Number(g)) => {
            if w.as_f64() != g.as_f64() {
                diffs.push(format!("{at}: {g}, recorded {w}"));
            }
        }
        (w, g) => {
            if w != g {
                diffs.push(format!("{at}: {}, recorded {}", short(g), short(w)));
            }
        }
    }
}

fn short(v: &Value) -> String {
    truncate(&v.to_string())
}

/// Fails the test with every mismatch listed.
pub fn assert_clean(fixture: &str, (failures, replayed): (Vec<String>, usize)) {
    assert!(replayed > 0, "{fixture}: nothing replayed");
    assert!(
        failures.is_empty(),
        "{} of {replayed} exchanges differ from the recording:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
