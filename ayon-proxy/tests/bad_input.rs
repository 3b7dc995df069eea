//! Bad input gets a 4xx in AYON's error shape and the proxy keeps serving: a request line
//! that is not HTTP, a 10 MB GraphQL body, a GraphQL body that is not JSON.

mod common;

use std::time::Duration;

use common::{Cred, rig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Writes `bytes` on a fresh connection and reads the whole answer (the proxy closes it).
async fn raw(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(bytes).await.expect("write");
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("the proxy answers and closes")
        .expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_in_ayon_shape_and_the_proxy_keeps_serving() {
    let rig = rig();
    let key = rig.key();

    for garbage in [
        &b"HELLO THERE\r\n\r\n"[..],
        b"GET /api/info HTTP/9.9\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n",
    ] {
        let answer = raw(rig.proxy.addr(), garbage).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        assert_eq!(v["code"], 400, "{answer}");
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("malformed"))
        );
    }

    // 10 MB of GraphQL: 413 before anything reaches the server.
    let big = serde_json::json!({"query": format!("query {{ {} }}", "x".repeat(10 << 20))});
    let before = rig.server.request_count("POST /graphql");
    let r = rig.send("POST", "/graphql", &key, Some(big)).await;
    r.assert_ayon_error(413);
    assert_eq!(rig.server.request_count("POST /graphql"), before);

    // GraphQL that is not JSON.
    let r = rig
        .http
        .post(format!("{}/graphql", rig.proxy.url()))
        .header("x-api-key", rig.server.api_key())
        .header("content-type", "application/json")
        .body("query { project { name } }")
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(v["code"], 400);
    assert!(
        v["detail"].as_str().is_some_and(|d| d.contains("not JSON")),
        "{v}"
    );

    // A 10 MB write body streams through to the server (the proxy does not buffer writes). The
    // server refuses it, or closes while it is still being sent: then the proxy's own 504.
    let r = rig
        .http
        .post(format!(
            "{}/api/projects/demo_offline/folders",
            rig.proxy.url()
        ))
        .header("x-api-key", rig.server.api_key())
        .body(vec![b'x'; 10 << 20])
        .send()
        .await
        .expect("answer");
    let status = r.status();
    if !status.is_client_error() {
        assert_eq!(status, 504);
        let v: serde_json::Value = r.json().await.expect("JSON");
        assert_eq!(v["code"], 504, "{v}");
    }

    // Still serving (once the broken upload no longer counts as the server being gone).
    assert!(
        common::wait_until(Duration::from_secs(5), || rig.proxy.status().state
            != "offline")
        .await,
        "{:?}",
        rig.proxy.status()
    );
    assert_eq!(rig.get("/api/info", &Cred::None).await.status, 200);
    assert_eq!(rig.get("/api/projects", &key).await.status, 200);
    assert!(rig.proxy.status().counts.bad_requests >= 5);
}
