//! The rig every proxy test uses: a testkit server with short fault timings, a proxy in front
//! of it with short timeouts and its own store directory, and a plain HTTP client.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use ayon_proxy::{Proxy, ProxyConfig, ProxyConfigBuilder};
use ayon_testkit::TestServer;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// The proxy's wait for a response head: what a hung server costs one request, at most.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_millis(1500);
/// A bound no proxied request may pass, even on a loaded machine.
pub const REQUEST_BOUND: Duration = Duration::from_secs(6);

/// A credential as a client sends it.
#[derive(Debug, Clone)]
pub enum Cred {
    None,
    Key(String),
    Token(String),
}

/// One answer: status, headers and the body as JSON (`Value::String` when it is not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn offline(&self) -> bool {
        self.headers
            .get(ayon_proxy::OFFLINE_HEADER)
            .is_some_and(|v| v == "1")
    }

    pub fn detail(&self) -> &str {
        self.body["detail"].as_str().unwrap_or("")
    }

    /// The answer is in AYON's error shape with this status.
    pub fn assert_ayon_error(&self, status: u16) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.body["code"], status, "AYON's error shape: {self:?}");
        assert!(!self.detail().is_empty(), "{self:?}");
    }
}

pub struct Rig {
    pub server: TestServer,
    pub proxy: Proxy,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

/// A testkit server with short restart timings (heartbeats every 100 ms, refusing for 300 ms,
/// booting for 800 ms).
pub fn server() -> TestServer {
    TestServer::builder()
        .heartbeat_interval(Duration::from_millis(100))
        .auth_grace(Duration::from_millis(300))
        .restart_refuse_for(Duration::from_millis(300))
        .boot_time(Duration::from_millis(800))
        .start()
        .expect("testkit starts")
}

/// The proxy settings of the tests: short timeouts, a fast monitor.
pub fn config(server: &TestServer, dir: &std::path::Path) -> ProxyConfigBuilder {
    ProxyConfig::builder(server.url())
        .listen("127.0.0.1:0".parse().expect("addr"))
        .cache_dir(dir)
        .upstream_timeout(UPSTREAM_TIMEOUT)
        .connect_timeout(Duration::from_millis(300))
        .retry_after(Duration::from_millis(300))
        .monitor_silence_window(Duration::from_secs(1))
        .monitor_backoff(Duration::from_millis(50), Duration::from_millis(400))
        .monitor_connect_timeout(Duration::from_millis(300))
}

pub fn rig() -> Rig {
    rig_with(server(), |b| b)
}

pub fn rig_with(
    server: TestServer,
    tune: impl FnOnce(ProxyConfigBuilder) -> ProxyConfigBuilder,
) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = tune(config(&server, dir.path())).build().expect("config");
    let proxy = Proxy::start(config).expect("proxy starts");
    Rig {
        server,
        proxy,
        dir,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client"),
    }
}

impl Rig {
    pub fn key(&self) -> Cred {
        Cred::Key(self.server.api_key())
    }

    pub fn token(&self) -> Cred {
        Cred::Token(self.server.session_token())
    }

    /// Sends a request through the proxy (or to `base` when given); checks it took less than
    /// [`REQUEST_BOUND`].
    pub async fn send_to(
        &self,
        base: &str,
        method: &str,
        path: &str,
        cred: &Cred,
        body: Option<Value>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(method, format!("{base}{path}"));
        req = match cred {
            Cred::None => req,
            Cred::Key(k) => req.header("x-api-key", k),
            Cred::Token(t) => req.header("authorization", format!("Bearer {t}")),
        };
        if let Some(b) = body {
            req = req.json(&b);
        }
        let started = Instant::now();
        let r = req.send().await.expect("the proxy answers");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.expect("body");
        assert!(
            started.elapsed() < REQUEST_BOUND,
            "{path} took {:?}",
            started.elapsed()
        );
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn send(&self, method: &str, path: &str, cred: &Cred, body: Option<Value>) -> Answer {
        self.send_to(&self.proxy.url(), method, path, cred, body)
            .await
    }

    pub async fn get(&self, path: &str, cred: &Cred) -> Answer {
        self.send("GET", path, cred, None).await
    }

    pub async fn direct(
        &self,
        method: &str,
        path: &str,
        cred: &Cred,
        body: Option<Value>,
    ) -> Answer {
        self.send_to(&self.server.url(), method, path, cred, body)
            .await
    }

    /// Waits (bounded) until the proxy reports `state`.
    pub async fn wait_state(&self, state: &str, timeout: Duration) {
        let ok = wait_until(timeout, || self.proxy.status().state == state).await;
        assert!(
            ok,
            "proxy not {state} within {timeout:?}: {:?}",
            self.proxy.status()
        );
    }
}

/// Polls `pred` every 10 ms until it holds or `timeout` passes.
pub async fn wait_until(timeout: Duration, mut pred: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if pred() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A GraphQL query body.
pub fn graphql(query: &str) -> Value {
    serde_json::json!({"query": query, "variables": {}})
}

/// The reads the tests record and replay: (method, path, body).
pub fn reads() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("GET", "/api/info", None),
        ("GET", "/api/users/me", None),
        ("GET", "/api/projects", None),
        ("GET", "/api/projects/demo_offline", None),
        (
            "POST",
            "/graphql",
            Some(graphql(
                "query Folders { project(name: \"demo_offline\") { folders { edges { node { name path } } } } }",
            )),
        ),
        (
            "POST",
            "/api/resolve",
            Some(serde_json::json!({"resolveRoots": false, "uris": [
                "ayon://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd"
            ]})),
        ),
    ]
}
