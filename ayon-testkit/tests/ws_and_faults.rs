//! Websocket behaviour and every fault, over real loopback sockets with short timings.

use std::time::{Duration, Instant};

use ayon_testkit::{Library, TestServer};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn fast_server() -> TestServer {
    TestServer::builder()
        .library(Library::demo_offline())
        .heartbeat_interval(Duration::from_millis(200))
        .auth_grace(Duration::from_millis(300))
        .restart_refuse_for(Duration::from_millis(400))
        .boot_time(Duration::from_millis(600))
        .start()
        .expect("server starts")
}

async fn connect(server: &TestServer) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(server.ws_url())
        .await
        .expect("ws handshake");
    ws
}

async fn auth(ws: &mut Ws, token: &str, subscribe: Value, project: Option<&str>) {
    let mut msg = json!({"topic": "auth", "token": token, "subscribe": subscribe});
    if let Some(p) = project {
        msg["project"] = p.into();
    }
    ws.send(Message::Text(msg.to_string().into()))
        .await
        .expect("send auth");
}

/// The next text message as JSON, or the close/EOF as an error string.
async fn next_json(ws: &mut Ws, within: Duration) -> Result<Value, String> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Err("timeout".into()),
            Ok(None) => return Err("eof".into()),
            Ok(Some(Err(e))) => return Err(format!("error: {e}")),
            Ok(Some(Ok(Message::Text(t)))) => {
                return serde_json::from_str(t.as_str()).map_err(|e| e.to_string());
            }
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Err(format!(
                    "close {}",
                    frame.map(|f| u16::from(f.code)).unwrap_or(0)
                ));
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// A socket authorised with the session token, past its first heartbeat (so no event can be
/// sent before the server took the auth message).
async fn subscriber(server: &TestServer, subscribe: Value, project: Option<&str>) -> Ws {
    let mut ws = connect(server).await;
    auth(&mut ws, &server.session_token(), subscribe, project).await;
    next_topic(&mut ws, "heartbeat", Duration::from_secs(2))
        .await
        .expect("authorised");
    ws
}

async fn next_topic(ws: &mut Ws, topic: &str, within: Duration) -> Result<Value, String> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let v = next_json(ws, left).await?;
        if v["topic"] == topic {
            return Ok(v);
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_arrive_at_the_configured_cadence_and_auth_is_never_acknowledged() {
    let server = fast_server();
    let mut ws = connect(&server).await;
    auth(&mut ws, &server.session_token(), json!([]), None).await;
    let start = Instant::now();
    let mut stamps = Vec::new();
    for _ in 0..4 {
        let msg = next_json(&mut ws, Duration::from_secs(2))
            .await
            .expect("heartbeat");
        assert_eq!(
            msg,
            json!({"topic": "heartbeat"}),
            "only heartbeats, no auth ack"
        );
        stamps.push(start.elapsed());
    }
    // The cadence over three gaps, not each gap: a descheduled test thread can see two
    // heartbeats back to back, but the server's ticks still average the interval (200 ms).
    let span = stamps[3] - stamps[0];
    assert!(
        span >= Duration::from_millis(450) && span <= Duration::from_millis(900),
        "three heartbeat gaps took {span:?} (stamps {stamps:?})"
    );
    assert_eq!(server.ws_connection_count(), 1);
    assert_eq!(server.request_count("GET /ws"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_sockets_are_closed_1000_at_the_first_tick_after_the_grace() {
    let server = fast_server();
    let mut silent = connect(&server).await;
    let mut bad = connect(&server).await;
    auth(&mut bad, &"0".repeat(64), json!(["*"]), None).await;
    let start = Instant::now();
    for ws in [&mut silent, &mut bad] {
        let got = next_json(ws, Duration::from_secs(3)).await;
        assert_eq!(got, Err("close 1000".to_string()));
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250),
        "closed too early: {took:?}"
    );
    assert!(
        took <= Duration::from_millis(1200),
        "closed too late: {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_works_on_ws_only_after_one_rest_call() {
    let server = fast_server();
    let mut early = connect(&server).await;
    auth(&mut early, &server.api_key(), json!(["*"]), None).await;
    assert_eq!(
        next_json(&mut early, Duration::from_secs(3)).await,
        Err("close 1000".to_string()),
        "a key with no REST session yet is a bad token"
    );
    let r = client()
        .get(format!("{}/api/users/me", server.url()))
        .header("x-api-key", server.api_key())
        .send()
        .await
        .expect("users/me");
    assert_eq!(r.status(), 200);
    let mut late = connect(&server).await;
    auth(&mut late, &server.api_key(), json!(["*"]), None).await;
    assert_eq!(
        next_json(&mut late, Duration::from_secs(2)).await,
        Ok(json!({"topic": "heartbeat"}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_follow_prefix_subscriptions_and_the_project_filter() {
    let server = fast_server();
    let mut versions = subscriber(&server, json!(["entity.version"]), Some("demo_offline")).await;
    let mut other_project = subscriber(&server, json!(["*"]), Some("elsewhere")).await;
    let mut star = subscriber(&server, json!(["*"]), None).await;
    let n = server
        .publish_version(
            "demo_offline",
            "assets/characters/hero",
            "usdAsset",
            &["usd", "abc"],
        )
        .expect("publish");
    assert_eq!(n, 4);
    let ev = next_topic(
        &mut versions,
        "entity.version.created",
        Duration::from_secs(2),
    )
    .await
    .expect("version event");
    assert_eq!(ev["project"], "demo_offline");
    assert_eq!(ev["description"], "Version v004 created");
    assert_eq!(
        ev["summary"]["parentId"],
        "79763858e6c311f1931b02fc00000001"
    );
    for key in [
        "id",
        "createdAt",
        "updatedAt",
        "user",
        "status",
        "progress",
        "store",
        "sender",
        "senderType",
        "dependsOn",
    ] {
        assert!(ev.get(key).is_some(), "event lacks {key}: {ev}");
    }
    // The version subscriber gets no representation events; `*` gets both.
    let next = next_json(&mut versions, Duration::from_millis(150)).await;
    assert!(
        next.as_ref().map_or(true, |v| v["topic"] == "heartbeat"),
        "{next:?}"
    );
    next_topic(
        &mut star,
        "entity.representation.created",
        Duration::from_secs(2),
    )
    .await
    .expect("representation event for *");
    // The other project's client sees heartbeats only.
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        match next_json(&mut other_project, Duration::from_millis(300)).await {
            Ok(v) => assert_eq!(v["topic"], "heartbeat", "filtered by project: {v}"),
            Err(e) => assert_eq!(e, "timeout"),
        }
    }
    // The published version resolves as latest.
    let body: Value = client()
        .post(format!("{}/api/resolve", server.url()))
        .bearer_auth(server.session_token())
        .json(&json!({"uris": ["ayon://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=abc"]}))
        .send()
        .await
        .expect("resolve")
        .json()
        .await
        .expect("json");
    let path = body[0]["entities"][0]["filePath"]
        .as_str()
        .unwrap_or_default();
    assert!(
        path.ends_with("/v004/demo_hero_usdAsset_v004.abc"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_closes_1012_refuses_then_hangs_then_serves() {
    let server = fast_server();
    let mut ws = subscriber(&server, json!([]), None).await;
    let url = server.url();
    let s2 = server.clone();
    tokio::task::spawn_blocking(move || s2.restart())
        .await
        .expect("restart");
    let t0 = Instant::now();
    let restart_msg = next_json(&mut ws, Duration::from_secs(1)).await;
    assert_eq!(
        restart_msg.as_ref().map(|v| v["topic"].clone()),
        Ok(json!("server.restart_requested"))
    );
    assert_eq!(
        next_json(&mut ws, Duration::from_secs(1)).await,
        Err("close 1012".to_string())
    );
    // Refused.
    let refused = TcpStream::connect(("127.0.0.1", server.port())).await;
    assert!(
        refused.is_err(),
        "connections are refused right after restart"
    );
    // Then accepted but hanging.
    let mut hanging_seen = false;
    while t0.elapsed() < Duration::from_millis(900) {
        if TcpStream::connect(("127.0.0.1", server.port()))
            .await
            .is_ok()
        {
            let r = reqwest::Client::builder()
                .timeout(Duration::from_millis(150))
                .build()
                .expect("client")
                .get(format!("{url}/api/info"))
                .send()
                .await;
            if let Err(e) = r {
                assert!(e.is_timeout(), "hangs rather than failing: {e}");
                hanging_seen = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        hanging_seen,
        "a boot phase where TCP connects but requests hang"
    );
    let s3 = server.clone();
    let serving = tokio::task::spawn_blocking(move || s3.wait_serving(Duration::from_secs(3)))
        .await
        .expect("join");
    assert!(serving);
    let r = client()
        .get(format!("{url}/api/info"))
        .send()
        .await
        .expect("info");
    assert_eq!(r.status(), 200);
    // The same token works again on a new socket.
    // `subscriber` fails unless the socket is authorised (a first heartbeat arrives).
    subscriber(&server, json!(["*"]), None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_drops_sockets_without_close_frame_then_hangs_then_serves() {
    let server = fast_server();
    let mut ws = subscriber(&server, json!([]), None).await;
    server.crash();
    let got = next_json(&mut ws, Duration::from_secs(1)).await;
    assert!(
        got == Err("eof".to_string()) || got.as_ref().is_err_and(|e| e.starts_with("error")),
        "EOF with no close frame, got {got:?}"
    );
    // Accepted but hanging.
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(150))
        .build()
        .expect("client");
    let r = quick.get(format!("{}/api/info", server.url())).send().await;
    assert!(
        r.is_err_and(|e| e.is_timeout()),
        "requests hang while the worker boots"
    );
    assert!(server.wait_serving(Duration::from_secs(3)));
    let r = client()
        .get(format!("{}/api/info", server.url()))
        .send()
        .await
        .expect("info");
    assert_eq!(r.status(), 200);
}

#[test]
fn stop_refuses_and_hang_latency_fail_next_work_from_plain_threads() {
    let server = fast_server();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let url = server.url();
    rt.block_on(async {
        let quick = reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .expect("client");
        server.hang(true);
        let r = quick.get(format!("{url}/api/info")).send().await;
        assert!(
            r.is_err_and(|e| e.is_timeout()),
            "hang(true) answers nothing"
        );
        assert!(!server.wait_serving(Duration::from_millis(50)));
        server.hang(false);
        assert!(server.wait_serving(Duration::from_secs(1)));

        server.latency(Duration::from_millis(150));
        let t = Instant::now();
        let r = client()
            .get(format!("{url}/api/info"))
            .send()
            .await
            .expect("info");
        assert_eq!(r.status(), 200);
        assert!(t.elapsed() >= Duration::from_millis(150));
        server.latency(Duration::ZERO);

        server.fail_next(2, 503);
        let resolve = || {
            client()
                .post(format!("{url}/api/resolve"))
                .bearer_auth(server.session_token())
                .json(&json!({"uris": []}))
                .send()
        };
        for _ in 0..2 {
            let r = resolve().await.expect("resolve");
            assert_eq!(r.status(), 503);
            let body: Value = r.json().await.expect("json");
            assert_eq!(body["code"], 503);
        }
        let r = resolve().await.expect("resolve");
        assert_eq!(r.status(), 200);
        assert_eq!(server.request_count("POST /api/resolve"), 3);
        server.reset_counters();
        assert_eq!(server.request_count("POST /api/resolve"), 0);

        server.stop();
        let r = TcpStream::connect(("127.0.0.1", server.port())).await;
        assert!(r.is_err(), "stopped server refuses connections");
        assert!(!server.wait_serving(Duration::from_millis(100)));
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_ws_stops_heartbeats_without_closing() {
    let server = fast_server();
    let mut ws = subscriber(&server, json!(["*"]), None).await;
    server.silence_ws(true);
    // Drain one possibly in-flight heartbeat, then expect silence, not a close.
    let _ = next_json(&mut ws, Duration::from_millis(50)).await;
    assert_eq!(
        next_json(&mut ws, Duration::from_millis(700)).await,
        Err("timeout".to_string())
    );
    server.silence_ws(false);
    next_topic(&mut ws, "heartbeat", Duration::from_secs(2))
        .await
        .expect("heartbeats resume");
    let _ = CloseCode::Normal;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_inside_async_code_stops_the_server() {
    let server = fast_server();
    let port = server.port();
    drop(server);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribed_gauge_counts_only_authorised_open_sockets() {
    let server = fast_server();
    let mut bad = connect(&server).await;
    auth(&mut bad, "not-a-token", json!(["*"]), None).await;
    let mut good = connect(&server).await;
    assert_eq!(server.ws_subscribed_count(), 0);
    auth(&mut good, &server.session_token(), json!(["*"]), None).await;
    let s = server.clone();
    let waited =
        tokio::task::spawn_blocking(move || s.wait_ws_subscribed(1, Duration::from_secs(2)))
            .await
            .expect("join");
    assert!(waited, "the good socket never counted");
    // The bad token is never counted, however long it stays open.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.ws_subscribed_count(), 1);
    good.close(None).await.expect("close");
    drop(good);
    let deadline = Instant::now() + Duration::from_secs(2);
    while server.ws_subscribed_count() != 0 {
        assert!(Instant::now() < deadline, "a closed socket still counts");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(bad);
}
