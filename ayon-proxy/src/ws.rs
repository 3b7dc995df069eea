//! `/ws` through the proxy: text and binary messages both ways, the server's close frame passed
//! on (1012 on a restart). When the server is gone the client gets a clean close (1012,
//! "service restart") instead of a socket that hangs, so it reconnects with its own backoff.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, HeaderValue, UPGRADE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::answer::{Body, error, full};
use crate::server::Shared;

type Upstream = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Request headers passed on to the server's `/ws` (credentials and AYON's own).
fn forwarded(name: &str) -> bool {
    matches!(
        name,
        "authorization" | "x-api-key" | "cookie" | "user-agent"
    ) || name.starts_with("x-ayon-")
}

/// Answers a websocket upgrade: connects to the server's `/ws` first (unless it is known gone),
/// then switches protocols and relays, or closes cleanly when there is no server.
pub(crate) async fn upgrade(shared: Arc<Shared>, mut req: Request<Incoming>) -> Response<Body> {
    let Some(accept) = req
        .headers()
        .get("sec-websocket-key")
        .map(|k| derive_accept_key(k.as_bytes()))
    else {
        return error(400, "websocket upgrade without Sec-WebSocket-Key");
    };
    let upstream = if shared.health.is_offline() {
        None
    } else {
        connect(&shared, &req).await
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let gone = shared.health.subscribe_gone();
    let counters = shared.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let client =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        match upstream {
            None => close(client, "AYON server websocket unavailable (ayon-proxy)").await,
            Some(up) => {
                counters.counters.ws_open(1);
                relay(client, up, gone).await;
                counters.counters.ws_open(-1);
            }
        }
    });
    let mut r = Response::new(full(Vec::new()));
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert("sec-websocket-accept", v);
    }
    r
}

/// The server's `/ws` with the client's credentials, or `None` (and the server marked gone).
async fn connect(shared: &Shared, req: &Request<Incoming>) -> Option<Upstream> {
    let mut url = shared.config.server.ws_url();
    if let Some(q) = req.uri().query() {
        url.push('?');
        url.push_str(q);
    }
    let mut request = url.into_client_request().ok()?;
    for (k, v) in req.headers() {
        if forwarded(k.as_str()) {
            request.headers_mut().append(k.clone(), v.clone());
        }
    }
    let limit = shared.config.connect_timeout + shared.config.upstream_timeout;
    match tokio::time::timeout(limit, tokio_tungstenite::connect_async(request)).await {
        Ok(Ok((ws, _))) => Some(ws),
        Ok(Err(e)) => {
            tracing::info!(target: "ayon_proxy", error = %e, "server websocket refused");
            if matches!(e, tungstenite::Error::Io(_)) {
                shared.health.failed("websocket connect");
            }
            None
        }
        Err(_) => {
            shared.health.failed("websocket connect timed out");
            None
        }
    }
}

/// A clean close, so the client reconnects instead of waiting.
async fn close<S>(mut client: WebSocketStream<S>, reason: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code: CloseCode::Restart,
        reason: reason.into(),
    };
    let _ = client.close(Some(frame)).await;
    // Read until the client's close answer (bounded), so the close handshake completes.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        while let Some(Ok(_)) = client.next().await {}
    })
    .await;
}

/// Relays until either side closes or the server is found gone.
async fn relay<S>(
    client: WebSocketStream<S>,
    upstream: Upstream,
    mut gone: tokio::sync::broadcast::Receiver<()>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut client_tx, mut client_rx) = client.split();
    let (mut up_tx, mut up_rx) = upstream.split();
    let ending: Option<CloseFrame> = loop {
        tokio::select! {
            m = client_rx.next() => match m {
                Some(Ok(Message::Close(frame))) => {
                    let _ = up_tx.send(Message::Close(frame)).await;
                    let _ = client_tx.close().await;
                    return;
                }
                Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => {
                    if up_tx.send(m).await.is_err() {
                        break None;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    let _ = up_tx.close().await;
                    return;
                }
            },
            m = up_rx.next() => match m {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => {
                    if client_tx.send(m).await.is_err() {
                        let _ = up_tx.close().await;
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break None,
            },
            _ = gone.recv() => break None,
        }
    };
    let frame = ending.unwrap_or(CloseFrame {
        code: CloseCode::Restart,
        reason: "AYON server connection lost (ayon-proxy)".into(),
    });
    let _ = client_tx.send(Message::Close(Some(frame))).await;
    let _ = client_tx.close().await;
    let _ = up_tx.close().await;
}
