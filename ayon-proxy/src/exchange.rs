//! What the proxy does with one request: classify it, forward it while the server answers,
//! record the answers to reads, and hand over to [`offline`](crate::offline) when the server
//! does not answer.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, UPGRADE};
use hyper::http::request::Parts;
use hyper::{Request, Response};

use crate::answer::{Body, BoxError, error, full, json};
use crate::graphql;
use crate::identity::{ANONYMOUS, Presented};
use crate::offline::{Lookup, lookup, offline};
use crate::record::ReadKey;
use crate::request::{Inspected, Route, is_download_answer, is_download_path, strip_hop_by_hop};
use crate::server::{Shared, status};
use crate::status::Count;
use crate::upstream::Failure;
use crate::ws;

/// How much of a too-large inspected body is read and dropped before answering 413.
const DRAIN_LIMIT: usize = 64 << 20;
/// How long that may take.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// What the proxy may do with a request's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Record it, replay it offline.
    Read,
    /// A read that the prepared index can also answer offline.
    Resolve,
    /// Never record, refuse offline.
    Write,
    /// A read the proxy does not record (outside `/api`, `HEAD`, `OPTIONS`): never replayed.
    Unrecorded,
}

/// One request as the proxy judges it: its head, who sent it, what its answer is keyed on.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) parts: Parts,
    pub(crate) presented: Option<Presented>,
    /// The canonical body a read is keyed on (inspected POSTs only).
    pub(crate) key_body: Option<Bytes>,
    pub(crate) kind: Kind,
    /// `` (query `Name`)`` for a named GraphQL operation, for messages.
    pub(crate) label: String,
}

impl Call {
    /// `METHOD /path?query` for messages.
    pub(crate) fn described(&self) -> String {
        format!("{} {}", self.parts.method, self.path_and_query())
    }

    pub(crate) fn path_and_query(&self) -> &str {
        self.parts.uri.path_and_query().map_or("/", |p| p.as_str())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The key of this read by `user` (acting as `as_user`).
    pub(crate) fn key(&self, shared: &Shared, user: &str, as_user: Option<&str>) -> ReadKey {
        ReadKey::new(
            &shared.config.server,
            user,
            as_user,
            self.parts.method.as_str(),
            self.path_and_query(),
            self.header("x-ayon-site-id"),
            self.key_body.as_deref(),
        )
    }

    /// `x-as-user`, when a service key acts for a user.
    pub(crate) fn as_user(&self) -> Option<&str> {
        self.presented.as_ref().and_then(|p| p.as_user.as_deref())
    }
}

/// One request, whatever it is; never fails (a problem is an answer in AYON's error shape).
pub(crate) async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let upgrade = req
        .headers()
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let route = Route::of(req.method(), req.uri().path(), upgrade);
    match route {
        Route::Status => json(
            200,
            &serde_json::to_value(status(&shared)).unwrap_or_default(),
        ),
        Route::Ws => ws::upgrade(shared, req).await,
        Route::Get | Route::Unrecorded | Route::Other => {
            let (parts, body) = req.into_parts();
            let kind = match route {
                Route::Get => Kind::Read,
                Route::Unrecorded => Kind::Unrecorded,
                _ => Kind::Write,
            };
            let call = Call {
                presented: Presented::of(&parts.headers),
                parts,
                key_body: None,
                kind,
                label: String::new(),
            };
            exchange(&shared, call, relayed(body)).await
        }
        Route::Inspect(what) => {
            let (parts, body) = req.into_parts();
            let limit = shared.config.max_inspected_body;
            let bytes = match read_body(body, limit).await {
                Ok(b) => b,
                Err(why) => {
                    shared.counters.bump(Count::BadRequest);
                    return match why {
                        BodyRefusal::TooLarge => error(
                            413,
                            format!(
                                "{} {}: the request body is larger than the {limit} bytes ayon-proxy reads",
                                parts.method,
                                parts.uri.path()
                            ),
                        ),
                        BodyRefusal::Unreadable(e) => {
                            error(400, format!("the request body could not be read: {e}"))
                        }
                    };
                }
            };
            // The answer is keyed on the body's meaning, not its spelling (see `graphql`).
            let (kind, key_body, label) = match what {
                Inspected::Resolve => {
                    let canonical = graphql::canonical_body(&bytes).map(Bytes::from);
                    let key = canonical.unwrap_or_else(|| bytes.clone());
                    (Kind::Resolve, key, String::new())
                }
                Inspected::Graphql => match graphql::parse(&bytes) {
                    Ok(q) => {
                        let kind = match q.operation {
                            graphql::Operation::Query => Kind::Read,
                            graphql::Operation::Mutation => Kind::Write,
                        };
                        let label = q
                            .name
                            .map(|n| format!(" (query `{n}`)"))
                            .unwrap_or_default();
                        (kind, Bytes::from(q.canonical), label)
                    }
                    Err(why) => {
                        shared.counters.bump(Count::BadRequest);
                        return error(400, why);
                    }
                },
            };
            let call = Call {
                presented: Presented::of(&parts.headers),
                parts,
                key_body: Some(key_body),
                kind,
                label,
            };
            exchange(&shared, call, reqwest::Body::from(bytes)).await
        }
    }
}

/// Why an inspected body was not taken.
enum BodyRefusal {
    TooLarge,
    Unreadable(String),
}

/// A client's body streamed to the server through a small channel. When the server answers
/// before taking all of it (a refusal of a large upload), the rest is read on and dropped (up to
/// [`DRAIN_LIMIT`], within [`DRAIN_TIME`]), so the client, still sending, reads the answer
/// instead of a broken pipe.
fn relayed(mut body: Incoming) -> reqwest::Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, BoxError>>(4);
    tokio::spawn(async move {
        // Relay while the upstream request takes the body, however long an upload takes.
        loop {
            let Some(frame) = body.frame().await else {
                return;
            };
            let data = match frame {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue, // trailers: not forwarded
                },
                Err(e) => {
                    let _ = tx.send(Err(Box::new(e))).await;
                    return;
                }
            };
            if tx.send(Ok(data)).await.is_err() {
                break;
            }
        }
        // The upstream request ended before the body did: read the rest and drop it.
        let drain = async {
            let mut drained = 0usize;
            while let Some(Ok(frame)) = body.frame().await {
                if let Ok(data) = frame.into_data() {
                    drained += data.len();
                    if drained > DRAIN_LIMIT {
                        break;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    });
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        let item = rx.recv().await?;
        Some((item.map(hyper::body::Frame::data), rx))
    });
    reqwest::Body::wrap(http_body_util::StreamBody::new(frames))
}

/// Reads a body of at most `limit` bytes. A larger one is read on and dropped (up to
/// [`DRAIN_LIMIT`], within [`DRAIN_TIME`]) before the 413, so the client, still sending,
/// reads the answer instead of a broken pipe.
async fn read_body(mut body: Incoming, limit: usize) -> Result<Bytes, BodyRefusal> {
    let mut out = Vec::new();
    let mut seen = 0usize;
    let drain = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BodyRefusal::Unreadable(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen <= limit {
                    out.extend_from_slice(&data);
                } else if seen > DRAIN_LIMIT {
                    break;
                }
            }
        }
        Ok::<(), BodyRefusal>(())
    };
    match tokio::time::timeout(DRAIN_TIME, drain).await {
        Ok(Ok(())) if seen <= limit => Ok(Bytes::from(out)),
        Ok(Ok(())) | Err(_) if seen > limit => Err(BodyRefusal::TooLarge),
        Ok(Err(e)) => Err(e),
        _ => Err(BodyRefusal::Unreadable(
            "the body did not arrive in time".to_owned(),
        )),
    }
}

/// Forwards while the server answers; answers from the store when it does not.
async fn exchange(shared: &Arc<Shared>, call: Call, body: reqwest::Body) -> Response<Body> {
    if shared.health.is_offline() {
        return offline(shared, &call, None);
    }
    let mut headers = call.parts.headers.clone();
    strip_hop_by_hop(&mut headers);
    shared.counters.bump(Count::Forwarded);
    let sent = shared
        .upstream
        .send(
            call.parts.method.clone(),
            call.path_and_query(),
            headers,
            body,
            call.kind != Kind::Write,
        )
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(failure) => {
            shared.counters.bump(Count::UpstreamFailure);
            shared.health.failed(&failure.to_string());
            return offline(shared, &call, Some(&failure));
        }
    };
    let status = response.status().as_u16();
    if matches!(status, 502..=504) {
        shared.counters.bump(Count::UpstreamFailure);
        shared
            .health
            .failed(&format!("{} answered {status}", call.described()));
    } else {
        shared.health.answered();
    }
    if status == 401
        && let Some(p) = &call.presented
    {
        shared.identities.forget(&p.credential);
        shared.identities.refused(&p.credential);
    }
    if matches!(call.kind, Kind::Write | Kind::Unrecorded) {
        return pass_on(response);
    }
    if status >= 500 {
        // The server is failing: a recorded answer is better than its error, when there is one.
        if let Lookup::Found(recorded) = lookup(shared, &call) {
            shared.counters.bump(Count::ServedOffline);
            return recorded.into_response();
        }
        return pass_on(response);
    }
    let download =
        is_download_path(call.parts.uri.path()) || is_download_answer(response.headers());
    if !(200..300).contains(&status) || (download && !shared.config.store_downloads) {
        return pass_on(response);
    }
    let Some(user) = identify(shared, &call).await else {
        return pass_on(response);
    };
    let key = call.key(shared, &user, call.as_user());
    record(shared, &call, key, response).await
}

/// The namespace an answer is recorded under: the user the server names for the credential
/// (asked once through `GET /api/users/me`, then remembered; the first credential it accepts
/// also starts the connectivity monitor), or the public one when the server refused the
/// credential yet answered. `None`: unknown (the server did not say), not recorded.
async fn identify(shared: &Shared, call: &Call) -> Option<String> {
    let Some(p) = &call.presented else {
        return Some(ANONYMOUS.to_owned());
    };
    if let Some(user) = shared.identities.user_of(&p.credential) {
        return Some(user);
    }
    if shared.identities.recently_refused(&p.credential) {
        return Some(ANONYMOUS.to_owned());
    }
    let mut auth = HeaderMap::new();
    for name in ["authorization", "x-api-key", "cookie"] {
        if let Some(v) = call.parts.headers.get(name) {
            auth.insert(name, v.clone());
        }
    }
    match shared.upstream.user_of(auth).await {
        Ok(Some(user)) => {
            tokio::task::block_in_place(|| shared.identities.remember(&p.credential, &user));
            shared.health.watch_with(&shared.config, &p.credential);
            Some(user)
        }
        Ok(None) => {
            shared.identities.refused(&p.credential);
            Some(ANONYMOUS.to_owned())
        }
        Err(e) => {
            tracing::info!(target: "ayon_proxy", error = %e, "could not learn who a credential belongs to; the answer is not recorded");
            None
        }
    }
}

/// Reads the answer (up to the size limit) and records it; a larger answer streams on as it
/// comes, unrecorded.
async fn record(
    shared: &Arc<Shared>,
    call: &Call,
    key: ReadKey,
    mut response: reqwest::Response,
) -> Response<Body> {
    let status = response.status();
    let mut headers = response.headers().clone();
    strip_hop_by_hop(&mut headers);
    let limit = shared.config.max_answer_bytes;
    let wait = shared.upstream.timeout();
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut size = 0usize;
    loop {
        let failure = match tokio::time::timeout(wait, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                size += chunk.len();
                chunks.push(chunk);
                if size > limit {
                    return streamed_on(status, headers, chunks, response);
                }
                continue;
            }
            Ok(Ok(None)) => break,
            Ok(Err(e)) => Failure::Broken(e.to_string()),
            Err(_) => Failure::Timeout(wait),
        };
        shared.health.failed(&failure.to_string());
        return offline(shared, call, Some(&failure));
    }
    let body: Bytes = if chunks.len() == 1 {
        chunks.pop().unwrap_or_default()
    } else {
        chunks.concat().into()
    };
    let recorder = shared.recorder.clone();
    let stored =
        tokio::task::block_in_place(|| recorder.put(&key, status.as_u16(), &headers, &body));
    if stored {
        shared.counters.bump(Count::Recorded);
    }
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}

/// An answer too large to record: what was read so far, then the rest as it comes.
fn streamed_on(
    status: hyper::StatusCode,
    headers: HeaderMap,
    read: Vec<Bytes>,
    response: reqwest::Response,
) -> Response<Body> {
    use futures_util::{StreamExt, TryStreamExt};
    let prefix = futures_util::stream::iter(read.into_iter().map(Ok));
    let rest = futures_util::stream::unfold(Some(response), |r| async move {
        let mut r = r?;
        match r.chunk().await {
            Ok(Some(c)) => Some((Ok(c), Some(r))),
            Ok(None) => None,
            Err(e) => Some((Err(BoxError::from(e)), None)),
        }
    });
    let frames = prefix.chain(rest).map_ok(hyper::body::Frame::data);
    let mut r = Response::new(BodyExt::boxed(http_body_util::StreamBody::new(frames)));
    *r.status_mut() = status;
    *r.headers_mut() = headers;
    r
}

/// The server's answer as it comes (status, headers without hop-by-hop ones, streamed body).
fn pass_on(response: reqwest::Response) -> Response<Body> {
    let response: hyper::Response<reqwest::Body> = response.into();
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, body.map_err(BoxError::from).boxed())
}
