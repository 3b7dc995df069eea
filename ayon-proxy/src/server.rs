//! The running proxy: its listener and runtime, and what it does with each request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ayon_cache::{Cache, CacheAdmin, SqliteCache, TieredCache};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, UPGRADE};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::answer::{Body, BoxError, OFFLINE_HEADER, error, full, json, raw_bad_request};
use crate::config::ProxyConfig;
use crate::error::ProxyError;
use crate::graphql;
use crate::health::Health;
use crate::identity::{ANONYMOUS, Identities, Presented};
use crate::record::{ReadKey, Recorder};
use crate::request::{Inspected, Route, is_download_answer, is_download_path, strip_hop_by_hop};
use crate::resolve::{IndexAnswer, OfflineResolver};
use crate::status::{Count, Counters, ProxyStatus, StoreStatus};
use crate::upstream::{Failure, Upstream};
use crate::ws;

/// File name of the proxy's store inside the cache directory (apart from the resolver's cache).
pub const STORE_FILE_NAME: &str = "proxy.sqlite";

/// How long the proxy waits for a request line before handing the connection to hyper anyway.
const REQUEST_LINE_WAIT: Duration = Duration::from_secs(5);
/// How much of a too-large inspected body is read and dropped before answering 413.
const DRAIN_LIMIT: usize = 64 << 20;
/// How long that may take.
const DRAIN_TIME: Duration = Duration::from_secs(10);
/// The longest request line the proxy checks (longer ones are hyper's to judge).
const REQUEST_LINE_PEEK: usize = 16 * 1024;

/// Everything a request handler needs; one per proxy.
pub(crate) struct Shared {
    pub(crate) config: ProxyConfig,
    pub(crate) upstream: Upstream,
    pub(crate) store: Arc<TieredCache>,
    pub(crate) recorder: Recorder,
    pub(crate) identities: Identities,
    pub(crate) health: Health,
    pub(crate) resolver: OfflineResolver,
    pub(crate) counters: Counters,
    pub(crate) url: String,
}

/// A running proxy. Clones share it; dropping the last one stops it (as does
/// [`Proxy::shutdown`]).
#[derive(Clone)]
pub struct Proxy {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.shared.health.shutdown();
        if let Some(rt) = self.runtime.take() {
            // Never blocks, so dropping the last handle inside an async context is fine.
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &self.url())
            .field("server", &self.inner.shared.config.server.as_str())
            .finish()
    }
}

impl Proxy {
    /// Binds the listen address, opens the store and serves on the proxy's own threads.
    /// Returns once the socket is bound: requests are answered from then on.
    pub fn start(config: ProxyConfig) -> Result<Proxy, ProxyError> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 4);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("ayon-proxy")
            .enable_all()
            .build()
            .map_err(|e| ProxyError::Start(format!("tokio runtime: {e}")))?;
        let listen = config.listen;
        let bind_err = |source| ProxyError::Bind {
            addr: listen,
            source,
        };
        let std_listener = std::net::TcpListener::bind(listen).map_err(bind_err)?;
        std_listener.set_nonblocking(true).map_err(bind_err)?;
        let addr = std_listener.local_addr().map_err(bind_err)?;
        let mut sqlite = SqliteCache::builder().file_name(STORE_FILE_NAME);
        if let Some(dir) = &config.cache_dir {
            sqlite = sqlite.dir(dir);
        }
        let store = Arc::new(TieredCache::builder().sqlite(sqlite).open());
        let cache: Arc<dyn Cache> = store.clone();
        let shared = Arc::new(Shared {
            upstream: Upstream::new(&config)?,
            recorder: Recorder::new(cache.clone()),
            identities: Identities::open(cache, &config.server),
            health: Health::new(config.retry_after),
            resolver: OfflineResolver::new(
                config
                    .index_dir
                    .clone()
                    .or_else(|| config.cache_dir.clone()),
            ),
            counters: Counters::default(),
            url: format!("http://{addr}"),
            store,
            config,
        });
        let (stop, stopped) = watch::channel(false);
        {
            let _guard = runtime.enter();
            if let Some(c) = &shared.config.credential {
                shared.health.watch_with(&shared.config, c);
            }
            let listener = TcpListener::from_std(std_listener).map_err(bind_err)?;
            runtime.spawn(accept_loop(shared.clone(), listener, stopped));
        }
        tracing::info!(target: "ayon_proxy", url = %shared.url, server = %shared.config.server, "proxy listening");
        Ok(Proxy {
            inner: Arc::new(Inner {
                shared,
                addr,
                stop,
                runtime: Some(runtime),
            }),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`: what clients set `AYON_SERVER_URL` to.
    pub fn url(&self) -> String {
        self.inner.shared.url.clone()
    }

    /// What `GET /_proxy/status` answers.
    pub fn status(&self) -> ProxyStatus {
        status(&self.inner.shared)
    }

    /// Stops accepting and closes every connection, for every handle.
    pub fn shutdown(&self) {
        let _ = self.inner.stop.send(true);
        self.inner.shared.health.shutdown();
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve_connection(shared.clone(), stream, stop.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(target: "ayon_proxy", error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

async fn serve_connection(
    shared: Arc<Shared>,
    mut stream: TcpStream,
    mut stop: watch::Receiver<bool>,
) {
    if let Some(why) = malformed_request_line(&stream).await {
        shared.counters.bump(Count::BadRequest);
        let _ = stream.write_all(&raw_bad_request(&why)).await;
        let _ = stream.shutdown().await;
        return;
    }
    let handler = shared.clone();
    let service = service_fn(move |req| {
        let shared = handler.clone();
        async move { Ok::<_, Infallible>(handle(shared, req).await) }
    });
    let conn = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(1), conn).await;
        }
    }
}

/// Why the first request line of a connection is not HTTP/1 (`None`: it is, or it did not
/// come in time, or it is too long to judge here; hyper judges those).
async fn malformed_request_line(stream: &TcpStream) -> Option<String> {
    let mut buf = vec![0u8; REQUEST_LINE_PEEK];
    let deadline = tokio::time::Instant::now() + REQUEST_LINE_WAIT;
    loop {
        let n = tokio::time::timeout_at(deadline, stream.peek(&mut buf))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        let seen = &buf[..n];
        let start = seen.iter().position(|b| *b != b'\r' && *b != b'\n')?;
        if let Some(end) = seen[start..].iter().position(|b| *b == b'\n') {
            let line = &seen[start..start + end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            return check_request_line(line).err();
        }
        if n == buf.len() || tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `METHOD SP TARGET SP HTTP/1.x`.
fn check_request_line(line: &[u8]) -> Result<(), String> {
    let bad = || {
        let shown: String = String::from_utf8_lossy(&line[..line.len().min(80)])
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        Err(format!("malformed HTTP request line: `{shown}`"))
    };
    let text = match std::str::from_utf8(line) {
        Ok(t) => t,
        Err(_) => return bad(),
    };
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return bad();
    };
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let method_ok = !method.is_empty() && method.chars().all(tchar);
    let target_ok = !target.is_empty() && target.chars().all(|c| c.is_ascii_graphic());
    if method_ok && target_ok && matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        Ok(())
    } else {
        bad()
    }
}

/// One request, whatever it is; never fails (a problem is an answer in AYON's error shape).
async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let upgrade = req
        .headers()
        .get(UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    match Route::of(req.method(), req.uri().path(), upgrade) {
        Route::Status => json(
            200,
            &serde_json::to_value(status(&shared)).unwrap_or_default(),
        ),
        Route::Ws => ws::upgrade(shared, req).await,
        Route::Get => {
            let (parts, body) = req.into_parts();
            exchange(&shared, parts, Payload::Streamed(body), Kind::Read).await
        }
        Route::Other => {
            let (parts, body) = req.into_parts();
            exchange(&shared, parts, Payload::Streamed(body), Kind::Write).await
        }
        Route::Inspect(what) => {
            let (mut parts, body) = req.into_parts();
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
            let (kind, key_body) = match what {
                Inspected::Resolve => {
                    let canonical = graphql::canonical_body(&bytes).map(Bytes::from);
                    (Kind::Resolve, canonical.unwrap_or_else(|| bytes.clone()))
                }
                Inspected::Graphql => match graphql::parse(&bytes) {
                    Ok(q) => {
                        if let Some(name) = q.name {
                            parts.extensions.insert(OperationName(name));
                        }
                        let kind = match q.operation {
                            graphql::Operation::Query => Kind::Read,
                            graphql::Operation::Mutation => Kind::Write,
                        };
                        (kind, Bytes::from(q.canonical))
                    }
                    Err(why) => {
                        shared.counters.bump(Count::BadRequest);
                        return error(400, why);
                    }
                },
            };
            exchange(&shared, parts, Payload::Buffered { bytes, key_body }, kind).await
        }
    }
}

/// The name of a GraphQL operation, kept with the request for messages.
#[derive(Debug, Clone)]
struct OperationName(String);

/// Why an inspected body was not taken.
enum BodyRefusal {
    TooLarge,
    Unreadable(String),
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

/// A request's body: read already (inspected POSTs) or still on the wire.
enum Payload {
    /// The body as sent, and the canonical form the answer is keyed on.
    Buffered {
        bytes: Bytes,
        key_body: Bytes,
    },
    Streamed(Incoming),
}

impl Payload {
    fn key_body(&self) -> Option<&Bytes> {
        match self {
            Payload::Buffered { key_body, .. } => Some(key_body),
            Payload::Streamed(_) => None,
        }
    }
}

/// What the proxy may do with a request's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Record it, replay it offline.
    Read,
    /// A read that the prepared index can also answer offline.
    Resolve,
    /// Never record, refuse offline.
    Write,
}

/// `METHOD /path?query` for messages.
fn described(parts: &Parts) -> String {
    format!("{} {}", parts.method, path_and_query(parts))
}

fn path_and_query(parts: &Parts) -> &str {
    parts.uri.path_and_query().map_or("/", |p| p.as_str())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The key of a read by `user`.
fn read_key(
    shared: &Shared,
    parts: &Parts,
    user: &str,
    as_user: Option<&str>,
    body: Option<&Bytes>,
) -> ReadKey {
    ReadKey::new(
        &shared.config.server,
        user,
        as_user,
        parts.method.as_str(),
        path_and_query(parts),
        header(&parts.headers, "x-ayon-site-id"),
        body.map(|b| b.as_ref()),
    )
}

/// Forwards while the server answers; answers from the store when it does not.
async fn exchange(
    shared: &Arc<Shared>,
    parts: Parts,
    payload: Payload,
    kind: Kind,
) -> Response<Body> {
    let presented = Presented::of(&parts.headers);
    let buffered = payload.key_body().cloned();
    if shared.health.is_offline() {
        return offline(
            shared,
            &parts,
            presented.as_ref(),
            buffered.as_ref(),
            kind,
            None,
        );
    }
    let mut headers = parts.headers.clone();
    strip_hop_by_hop(&mut headers);
    let body = match payload {
        Payload::Buffered { bytes, .. } => reqwest::Body::from(bytes),
        Payload::Streamed(incoming) => reqwest::Body::wrap(incoming),
    };
    shared.counters.bump(Count::Forwarded);
    let response = match shared
        .upstream
        .send(parts.method.clone(), path_and_query(&parts), headers, body)
        .await
    {
        Ok(r) => r,
        Err(failure) => {
            shared.counters.bump(Count::UpstreamFailure);
            shared.health.failed(&failure.to_string());
            return offline(
                shared,
                &parts,
                presented.as_ref(),
                buffered.as_ref(),
                kind,
                Some(&failure),
            );
        }
    };
    let status = response.status().as_u16();
    if matches!(status, 502..=504) {
        shared.counters.bump(Count::UpstreamFailure);
        shared
            .health
            .failed(&format!("{} answered {status}", described(&parts)));
    } else {
        shared.health.answered();
    }
    if status == 401
        && let Some(p) = &presented
    {
        shared.identities.forget(&p.credential);
        shared.identities.refused(&p.credential);
    }
    if kind == Kind::Write {
        return pass_on(response);
    }
    if status >= 500 {
        // The server is failing: a recorded answer is better than its error, when there is one.
        if let Lookup::Found(recorded) =
            lookup(shared, &parts, presented.as_ref(), buffered.as_ref())
        {
            shared.counters.bump(Count::ServedOffline);
            return recorded.into_response();
        }
        return pass_on(response);
    }
    let download = is_download_path(parts.uri.path()) || is_download_answer(response.headers());
    if !(200..300).contains(&status) || (download && !shared.config.store_downloads) {
        return pass_on(response);
    }
    let Some(user) = identify(shared, presented.as_ref(), &parts.headers).await else {
        return pass_on(response);
    };
    let key = read_key(
        shared,
        &parts,
        &user,
        presented.as_ref().and_then(|p| p.as_user.as_deref()),
        buffered.as_ref(),
    );
    record(
        shared,
        &parts,
        presented.as_ref(),
        buffered.as_ref(),
        kind,
        key,
        response,
    )
    .await
}

/// The user behind a request, from what the proxy already knows (no request).
fn known_user(shared: &Shared, presented: Option<&Presented>) -> Option<String> {
    match presented {
        None => Some(ANONYMOUS.to_owned()),
        Some(p) => shared.identities.user_of(&p.credential),
    }
}

/// What the store holds for a read, as this caller may see it.
enum Lookup {
    /// The caller's own answer, or a public one.
    Found(crate::record::Recorded),
    /// Nothing for this user (named) or in public.
    Missing(String),
    /// Nothing in public, and the credential was never accepted: the caller is nobody.
    Unauthorized,
}

/// The caller's recorded answer: the user's own first, then the public one (what the server
/// gives anyone, so also to a user who never asked it).
fn lookup(
    shared: &Shared,
    parts: &Parts,
    presented: Option<&Presented>,
    body: Option<&Bytes>,
) -> Lookup {
    let user = known_user(shared, presented);
    if let Some(u) = &user {
        let as_user = presented.and_then(|p| p.as_user.as_deref());
        if let Some(r) = shared
            .recorder
            .get(&read_key(shared, parts, u, as_user, body))
        {
            return Lookup::Found(r);
        }
    }
    if user.as_deref() != Some(ANONYMOUS)
        && let Some(r) = shared
            .recorder
            .get(&read_key(shared, parts, ANONYMOUS, None, body))
    {
        return Lookup::Found(r);
    }
    match user {
        Some(u) => Lookup::Missing(u),
        None => Lookup::Unauthorized,
    }
}

/// The namespace an answer is recorded under: the user the server names for the credential
/// (asked once through `GET /api/users/me`, then remembered; the first credential it accepts
/// also starts the connectivity monitor), or the public one when the server refused the
/// credential yet answered. `None`: unknown (the server did not say), not recorded.
async fn identify(
    shared: &Shared,
    presented: Option<&Presented>,
    headers: &HeaderMap,
) -> Option<String> {
    if let Some(user) = known_user(shared, presented) {
        return Some(user);
    }
    let p = presented?;
    if shared.identities.recently_refused(&p.credential) {
        return Some(ANONYMOUS.to_owned());
    }
    let mut auth = HeaderMap::new();
    for name in ["authorization", "x-api-key", "cookie"] {
        if let Some(v) = headers.get(name) {
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
    parts: &Parts,
    presented: Option<&Presented>,
    buffered: Option<&Bytes>,
    kind: Kind,
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
        match tokio::time::timeout(wait, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                size += chunk.len();
                chunks.push(chunk);
                if size > limit {
                    let prefix = futures_util::stream::iter(chunks.into_iter().map(Ok));
                    let rest = futures_util::stream::unfold(Some(response), |r| async move {
                        let mut r = r?;
                        match r.chunk().await {
                            Ok(Some(c)) => Some((Ok(c), Some(r))),
                            Ok(None) => None,
                            Err(e) => Some((Err(BoxError::from(e)), None)),
                        }
                    });
                    let stream = futures_util::StreamExt::chain(prefix, rest).map_ok_frames();
                    let mut r =
                        Response::new(BodyExt::boxed(http_body_util::StreamBody::new(stream)));
                    *r.status_mut() = status;
                    *r.headers_mut() = headers;
                    return r;
                }
            }
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                let failure = Failure::Broken(e.to_string());
                shared.health.failed(&failure.to_string());
                return offline(shared, parts, presented, buffered, kind, Some(&failure));
            }
            Err(_) => {
                let failure = Failure::Timeout(wait);
                shared.health.failed(&failure.to_string());
                return offline(shared, parts, presented, buffered, kind, Some(&failure));
            }
        }
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

/// Turns a stream of byte chunks into a stream of body frames.
trait MapOkFrames: futures_util::Stream<Item = Result<Bytes, BoxError>> + Sized {
    fn map_ok_frames(
        self,
    ) -> futures_util::stream::MapOk<Self, fn(Bytes) -> hyper::body::Frame<Bytes>> {
        futures_util::TryStreamExt::map_ok(self, hyper::body::Frame::data)
    }
}

impl<S: futures_util::Stream<Item = Result<Bytes, BoxError>>> MapOkFrames for S {}

/// The server's answer as it comes (status, headers without hop-by-hop ones, streamed body).
fn pass_on(response: reqwest::Response) -> Response<Body> {
    let response: hyper::Response<reqwest::Body> = response.into();
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, body.map_err(BoxError::from).boxed())
}

/// The answer while the server is unreachable (`failure`: the request that just found out).
fn offline(
    shared: &Shared,
    parts: &Parts,
    presented: Option<&Presented>,
    body: Option<&Bytes>,
    kind: Kind,
    failure: Option<&Failure>,
) -> Response<Body> {
    let what = described(parts);
    if kind == Kind::Write {
        shared.counters.bump(Count::WriteRefused);
        let (status, detail) = match failure {
            Some(f @ (Failure::Timeout(_) | Failure::Broken(_))) => (
                504,
                format!(
                    "The AYON server did not answer {what} ({f}); ayon-proxy cannot tell whether \
                     the change was applied: check before retrying"
                ),
            ),
            _ => (
                503,
                format!(
                    "The AYON server is unreachable, so {what} was not sent; ayon-proxy never \
                     queues changes: make it again when the server is back"
                ),
            ),
        };
        return error(status, detail);
    }
    let user = match lookup(shared, parts, presented, body) {
        Lookup::Found(recorded) => {
            shared.counters.bump(Count::ServedOffline);
            return recorded.into_response();
        }
        Lookup::Missing(user) => user,
        Lookup::Unauthorized => {
            shared.counters.bump(Count::UnauthorizedOffline);
            return error(
                401,
                "The AYON server is unreachable and this credential was never accepted by it \
                 through ayon-proxy, so it cannot be checked offline",
            );
        }
    };
    let mut index_said = String::new();
    let path_only = parts
        .uri
        .query()
        .is_some_and(|q| q.contains("pathOnly=true"));
    if kind == Kind::Resolve
        && !path_only
        && let Some(body) = body
    {
        let site = header(&parts.headers, "x-ayon-site-id");
        match shared.resolver.answer(body, site) {
            IndexAnswer::Answer(v) => {
                shared.counters.bump(Count::ResolvedFromIndex);
                let mut r = json(200, &v);
                r.headers_mut()
                    .insert(OFFLINE_HEADER, HeaderValue::from_static("1"));
                r.headers_mut().insert(
                    "x-ayon-offline-source",
                    HeaderValue::from_static("prepared-index"),
                );
                return r;
            }
            IndexAnswer::Refused(status, detail) => {
                let mut r = error(status, detail);
                r.headers_mut()
                    .insert(OFFLINE_HEADER, HeaderValue::from_static("1"));
                return r;
            }
            IndexAnswer::Unknown(why) => index_said = format!("; the prepared index: {why}"),
        }
    }
    shared.counters.bump(Count::NotCached);
    let why = failure.map(|f| format!(" ({f})")).unwrap_or_default();
    let mut r = error(
        503,
        format!(
            "The AYON server is unreachable{why} and ayon-proxy has no recorded answer to \
             {what}{} for user `{user}`: it was never asked through the proxy while the server \
             was up{index_said}",
            graphql_name(parts)
        ),
    );
    r.headers_mut()
        .insert(OFFLINE_HEADER, HeaderValue::from_static("1"));
    r
}

/// `` (query `Name`)`` for a named GraphQL operation, so a 503 says which.
fn graphql_name(parts: &Parts) -> String {
    parts
        .extensions
        .get::<OperationName>()
        .map(|n| format!(" (query `{}`)", n.0))
        .unwrap_or_default()
}

fn status(shared: &Shared) -> ProxyStatus {
    let store = &shared.store;
    let persistent = store.persistent();
    ProxyStatus {
        state: shared.health.state_str().to_owned(),
        monitor: shared.health.monitor_state(),
        server: shared.config.server.to_string(),
        url: shared.url.clone(),
        counts: shared.counters.snapshot(),
        identities: shared.identities.len(),
        store: StoreStatus {
            path: persistent.map(|s| s.path().display().to_string()),
            entries: store.len().unwrap_or(0),
            bytes: store.size_bytes().unwrap_or(0),
            file_bytes: persistent.map_or(0, SqliteCache::file_size),
            degraded: store.is_degraded(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        for ok in [
            &b"GET / HTTP/1.1"[..],
            b"POST /api/resolve?x=1 HTTP/1.0",
            b"OPTIONS * HTTP/1.1",
        ] {
            assert!(check_request_line(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            &b"GET /"[..],
            b"GET / HTTP/2.0",
            b"GET  / HTTP/1.1",
            b"\xff\xfe / HTTP/1.1",
            b"hello world",
            b"GET /a b HTTP/1.1",
        ] {
            assert!(check_request_line(bad).is_err(), "{bad:?}");
        }
    }
}
