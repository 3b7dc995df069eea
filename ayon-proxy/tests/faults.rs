//! The server restarts (close 1012), crashes and hangs while a client keeps reading through
//! the proxy: no request waits past a bound, answers switch to the store and back, and `/ws`
//! clients get a close frame instead of a hanging socket.

mod common;

use std::time::{Duration, Instant};

use common::{Cred, REQUEST_BOUND, Rig, reads, rig};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Records every read, then waits until the monitor (started by the first accepted key) is
/// online, so the outage is seen by it.
async fn record_all(rig: &Rig, key: &Cred) {
    for (m, p, b) in reads() {
        assert_eq!(rig.send(m, p, key, b).await.status, 200, "{m} {p}");
    }
    rig.wait_state("online", Duration::from_secs(5)).await;
}

/// Reads everything again: each answers 200 within the bound; returns how many were offline.
async fn read_all(rig: &Rig, key: &Cred) -> usize {
    let mut offline = 0;
    for (m, p, b) in reads() {
        let a = rig.send(m, p, key, b).await;
        assert_eq!(a.status, 200, "{m} {p}: {a:?}");
        offline += usize::from(a.offline());
    }
    offline
}

/// Reads until an answer comes from the server again (bounded); every read answers 200.
async fn until_online_answers(rig: &Rig, key: &Cred, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if read_all(rig, key).await == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "answers still offline after {within:?}: {:?}",
            rig.proxy.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_crash_and_hang_switch_to_the_store_and_back() {
    let rig = rig();
    let key = rig.key();
    record_all(&rig, &key).await;

    // Graceful restart: close 1012, refused, booting (hangs), serving.
    rig.server.restart();
    rig.wait_state("offline", Duration::from_secs(2)).await;
    assert_eq!(
        read_all(&rig, &key).await,
        reads().len(),
        "all from the store"
    );
    until_online_answers(&rig, &key, Duration::from_secs(15)).await;

    // Worker crash: sockets dropped without a close frame, then booting.
    rig.server.crash();
    rig.wait_state("offline", Duration::from_secs(3)).await;
    assert_eq!(read_all(&rig, &key).await, reads().len());
    until_online_answers(&rig, &key, Duration::from_secs(15)).await;

    // Hang: accepts, never answers. One request pays the upstream timeout, the rest answer at
    // once from the store.
    rig.server.hang(true);
    let started = Instant::now();
    let a = rig.get("/api/projects", &key).await;
    assert_eq!(a.status, 200);
    assert!(a.offline());
    assert!(started.elapsed() < REQUEST_BOUND);
    let started = Instant::now();
    assert_eq!(read_all(&rig, &key).await, reads().len());
    assert!(started.elapsed() < REQUEST_BOUND);
    rig.server.hang(false);
    until_online_answers(&rig, &key, Duration::from_secs(15)).await;
    let s = rig.proxy.status();
    assert!(s.counts.served_offline >= 3 * reads().len() as u64, "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_answer_is_replaced_by_the_recorded_one() {
    let rig = rig();
    let key = rig.key();
    let first = rig.get("/api/projects", &key).await;
    // Only this path fails: the proxy's monitor and identity checks run meanwhile.
    rig.server.fail_next_on("/api/projects", 1, 503);
    let again = rig.get("/api/projects", &key).await;
    assert_eq!(again.status, 200, "{again:?}");
    assert!(again.offline());
    assert_eq!(again.body, first.body);
    // A 500 with nothing recorded is the server's own answer, passed on (once the monitor has
    // seen that the 503 was no outage).
    rig.wait_state("online", Duration::from_secs(5)).await;
    rig.server
        .fail_next_on("/api/projects/demo_offline/anatomy", 1, 500);
    let unseen = rig.get("/api/projects/demo_offline/anatomy", &key).await;
    assert_eq!(unseen.status, 500);
    assert!(!unseen.offline());
}

async fn ws_connect(
    rig: &Rig,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("{}/ws", rig.proxy.url().replacen("http", "ws", 1));
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("x-api-key", rig.server.api_key().parse().expect("value"));
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(req),
    )
    .await
    .expect("handshake in time")
    .expect("handshake");
    ws
}

/// The next close frame's code, reading past other messages (bounded).
async fn close_code<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> u16
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(f))))) => return u16::from(f.code),
            Ok(Some(Ok(Message::Close(None)))) => return 1005,
            Ok(Some(Ok(_))) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_are_relayed_and_closed_cleanly() {
    let rig = rig();
    let key = rig.key();
    assert_eq!(rig.get("/api/users/me", &key).await.status, 200);
    let mut ws = ws_connect(&rig).await;
    let auth =
        serde_json::json!({"topic": "auth", "token": rig.server.api_key(), "subscribe": ["*"]});
    ws.send(Message::text(auth.to_string()))
        .await
        .expect("send");
    // The server's heartbeat comes through the proxy.
    let heartbeat = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Text(t) = m
                && t.contains("heartbeat")
            {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(heartbeat, Ok(true));
    assert_eq!(rig.proxy.status().counts.websockets_open, 1);

    // A restart: the server's 1012 reaches the client.
    rig.server.restart();
    assert_eq!(close_code(&mut ws).await, 1012);

    // While the server is gone, a new socket is closed at once (1012), not left hanging.
    rig.wait_state("offline", Duration::from_secs(2)).await;
    let mut ws = ws_connect(&rig).await;
    assert_eq!(close_code(&mut ws).await, 1012);
}
