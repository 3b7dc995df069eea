//! The running proxy: its listener and runtime, and what it does with each request.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ayon_cache::{Cache, CacheAdmin, SqliteCache, TieredCache};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::answer::raw_bad_request;
use crate::config::ProxyConfig;
use crate::error::ProxyError;
use crate::health::Health;
use crate::identity::Identities;
use crate::record::Recorder;
use crate::resolve::OfflineResolver;
use crate::status::{Count, Counters, ProxyStatus, StoreStatus};
use crate::upstream::Upstream;

/// File name of the proxy's store inside the cache directory (apart from the resolver's cache).
pub const STORE_FILE_NAME: &str = "proxy.sqlite";

/// How long the proxy waits for a request line before handing the connection to hyper anyway.
const REQUEST_LINE_WAIT: Duration = Duration::from_secs(5);
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
        async move { Ok::<_, Infallible>(crate::exchange::handle(shared, req).await) }
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

/// What `GET /_proxy/status` answers.
pub(crate) fn status(shared: &Shared) -> ProxyStatus {
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

    proptest::proptest! {
        #[test]
        fn any_request_line_is_judged_without_panic(line in proptest::collection::vec(proptest::num::u8::ANY, 0..120)) {
            let _ = check_request_line(&line);
        }
    }
}
