//! Runs the real `ayon proxy` binary: `--print-env`, the loopback rule, and a proxy in front of
//! the loopback test server answering its status page.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use ayon_testkit::TestServer;
use serde_json::Value;

fn ayon() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ayon"));
    c.env_remove("AYON_SERVER_URL")
        .env_remove("AYON_API_KEY")
        .env_remove("AYON_OFFLINE_CACHE_DIR");
    c
}

#[test]
fn print_env_says_what_to_export() {
    let out = ayon()
        .args(["proxy", "--print-env", "--listen", "127.0.0.1:5999"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let expected = if cfg!(windows) {
        "$env:AYON_SERVER_URL = \"http://127.0.0.1:5999\""
    } else {
        "export AYON_SERVER_URL=http://127.0.0.1:5999"
    };
    assert_eq!(text.trim(), expected);
}

#[test]
fn a_remote_listen_address_needs_the_flag() {
    let out = ayon()
        .args([
            "--server",
            "http://127.0.0.1:1",
            "proxy",
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-remote"), "{err}");
}

/// `GET path` over a plain socket; the body.
fn http_get(url: &str, path: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}

#[test]
fn serves_in_front_of_a_server_and_reports_its_status() {
    let server = TestServer::builder().start().expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = ayon()
        .args(["--server", &server.url(), "--json", "--cache-dir"])
        .arg(dir.path())
        .args(["proxy", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let started: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let url = started["url"].as_str().expect("url").to_owned();
    assert_eq!(started["env"]["AYON_SERVER_URL"], url.as_str());
    let info: Value = serde_json::from_str(&http_get(&url, "/api/info")).expect("JSON");
    assert!(info["version"].is_string(), "{info}");
    let status: Value = serde_json::from_str(&http_get(&url, "/_proxy/status")).expect("JSON");
    assert_eq!(status["server"], server.url().as_str());
    assert_eq!(status["state"], "online");
    assert_eq!(status["counts"]["forwarded"], 1);
    assert!(
        status["store"]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with(ayon_proxy::STORE_FILE_NAME)),
        "{status}"
    );
    let _ = child.kill();
    let _ = child.wait();
}
