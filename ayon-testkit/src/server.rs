//! The handle: start, address, faults, counters. The accept loop is owned here so the listener
//! can be closed and reopened on the same port and every connection can be dropped at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::error::TestkitError;
use crate::library::Library;
use crate::state::{Config, Mode, Shared, WsOut};

/// Configures a [`TestServer`] before it starts; defaults match the real server's timings.
#[derive(Debug, Clone)]
pub struct TestServerBuilder {
    library: Option<Library>,
    port: u16,
    api_key: Option<String>,
    admin_password: String,
    heartbeat_interval: Duration,
    auth_grace: Duration,
    restart_refuse_for: Duration,
    boot_time: Duration,
}

impl Default for TestServerBuilder {
    fn default() -> Self {
        TestServerBuilder {
            library: None,
            port: 0,
            api_key: None,
            admin_password: "admin".to_owned(),
            heartbeat_interval: Duration::from_secs(5),
            auth_grace: Duration::from_secs(3),
            restart_refuse_for: Duration::from_millis(2500),
            boot_time: Duration::from_secs(12),
        }
    }
}

/// Builder setters for the timing fields, one per field of the same name.
macro_rules! durations {
    ($($(#[$doc:meta])* $field:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $field(mut self, d: Duration) -> Self {
                self.$field = d;
                self
            }
        )*
    };
}

impl TestServerBuilder {
    /// The project library to serve (default: [`Library::demo_offline`]).
    pub fn library(mut self, library: Library) -> Self {
        self.library = Some(library);
        self
    }
    /// A fixed port on 127.0.0.1 (default: 0, a free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// The service API key (default: 32 random alphanumerics).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// The password of user `admin` (default: `admin`).
    pub fn admin_password(mut self, password: impl Into<String>) -> Self {
        self.admin_password = password.into();
        self
    }
    durations! {
        /// Period of `{"topic":"heartbeat"}` (default 5 s).
        heartbeat_interval;
        /// How long a websocket may stay unauthenticated before the next tick closes it (default 3 s).
        auth_grace;
        /// How long `restart()` refuses connections (default 2.5 s).
        restart_refuse_for;
        /// How long `restart()`/`crash()` accept TCP but hang before serving (default 12 s).
        boot_time;
    }

    /// Binds 127.0.0.1 and starts serving on background threads.
    pub fn start(self) -> Result<TestServer, TestkitError> {
        let api_key = self.api_key.unwrap_or_else(random_api_key);
        let config = Config {
            api_key,
            admin_password: self.admin_password,
            heartbeat_interval: self.heartbeat_interval.max(Duration::from_millis(10)),
            auth_grace: self.auth_grace,
            restart_refuse_for: self.restart_refuse_for,
            boot_time: self.boot_time,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ayon-testkit")
            .enable_all()
            .build()
            .map_err(|e| TestkitError::Start(format!("tokio runtime: {e}")))?;
        let shared = Arc::new(Shared::new(
            config,
            self.library.unwrap_or_else(Library::demo_offline),
        ));
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", self.port))
            .map_err(|e| TestkitError::Start(format!("bind 127.0.0.1:{}: {e}", self.port)))?;
        std_listener
            .set_nonblocking(true)
            .map_err(|e| TestkitError::Start(format!("listener: {e}")))?;
        let addr = std_listener
            .local_addr()
            .map_err(|e| TestkitError::Start(format!("listener address: {e}")))?;
        let listener = {
            let _guard = runtime.enter();
            TcpListener::from_std(std_listener)
                .map_err(|e| TestkitError::Start(format!("listener: {e}")))?
        };
        let session = shared.new_session("admin");
        shared.listening.store(true, Ordering::SeqCst);
        let router = crate::routes::router(shared.clone());
        runtime.spawn(accept_loop(shared.clone(), listener, addr, router));
        runtime.spawn(crate::ws::heartbeat_loop(shared.clone()));
        Ok(TestServer {
            inner: Arc::new(Inner {
                shared,
                addr,
                session,
                runtime: Some(runtime),
            }),
        })
    }
}

/// A running AYON-compatible server on loopback. Clones share it; the last one dropped stops it.
#[derive(Clone)]
pub struct TestServer {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    session: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.set_mode(Mode::Stopped);
        self.shared.kill_connections();
        if let Some(rt) = self.runtime.take() {
            // Never blocks, so dropping the last handle inside an async test is fine.
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("url", &self.url())
            .finish()
    }
}

impl TestServer {
    /// Starts a server with default timings on a free port.
    pub fn start(library: Library) -> Result<TestServer, TestkitError> {
        TestServer::builder().library(library).start()
    }

    /// A builder for non-default ports, keys and timings.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    fn spawn<F: std::future::Future<Output = ()> + Send + 'static>(&self, fut: F) {
        if let Some(rt) = &self.inner.runtime {
            rt.spawn(fut);
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// `ws://127.0.0.1:PORT/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.inner.addr)
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.inner.addr.port()
    }

    /// The service user's API key.
    pub fn api_key(&self) -> String {
        self.shared().config.api_key.clone()
    }

    /// `("admin", password)` for `POST /api/auth/login`.
    pub fn admin_credentials(&self) -> (String, String) {
        (
            "admin".to_owned(),
            self.shared().config.admin_password.clone(),
        )
    }

    /// A valid bearer token of user `admin`, created at start.
    pub fn session_token(&self) -> String {
        self.inner.session.clone()
    }

    /// A shared handle on the served library: tests may read or change it while serving.
    pub fn library(&self) -> Arc<parking_lot::RwLock<Library>> {
        self.shared().library.clone()
    }

    /// Closes the listener (connections refused) and drops every socket; stays down.
    pub fn stop(&self) {
        let s = self.shared();
        s.next_epoch();
        s.set_mode(Mode::Stopped);
        s.kill_connections();
        wait_listener_closed(s);
    }

    /// Graceful restart as recorded: `server.restart_requested`, close 1012 to every websocket,
    /// refused connections for `restart_refuse_for`, accepted-but-hanging ones for `boot_time`,
    /// then serving again. Returns once the close frames are sent.
    pub fn restart(&self) {
        let s = self.shared().clone();
        let epoch = s.next_epoch();
        s.emit(
            "server.restart_requested",
            None,
            None,
            "Server restart requested",
            serde_json::json!({}),
        );
        let _ = s.ws_tx.send(WsOut::Close {
            code: 1012,
            reason: "",
        });
        // Wait (bounded) until every websocket task has sent its close frame.
        let deadline = Instant::now() + Duration::from_secs(2);
        while s.ws_open.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        s.set_mode(Mode::Refusing);
        s.kill_connections();
        wait_listener_closed(&s);
        let refuse = s.config.restart_refuse_for;
        let boot = s.config.boot_time;
        self.spawn(async move {
            tokio::time::sleep(refuse).await;
            if s.epoch.load(Ordering::SeqCst) != epoch {
                return;
            }
            s.set_mode(Mode::Booting);
            tokio::time::sleep(boot).await;
            if s.epoch.load(Ordering::SeqCst) != epoch {
                return;
            }
            s.set_mode(Mode::Serving);
            let s2 = s.clone();
            // The recorded "ready" log event, a moment after serving resumes.
            tokio::time::sleep(Duration::from_millis(50)).await;
            s2.emit(
                "log.info",
                None,
                None,
                "Server is now ready to connect",
                serde_json::json!({}),
            );
        });
    }

    /// Worker crash as recorded: every socket dropped with no close frame, then
    /// accepted-but-hanging connections for `boot_time`, then serving again.
    pub fn crash(&self) {
        let s = self.shared().clone();
        let epoch = s.next_epoch();
        s.set_mode(Mode::Booting);
        s.kill_connections();
        let boot = s.config.boot_time;
        self.spawn(async move {
            tokio::time::sleep(boot).await;
            if s.epoch.load(Ordering::SeqCst) == epoch {
                s.set_mode(Mode::Serving);
            }
        });
    }

    /// `true`: accept TCP and answer nothing (HTTP or websocket) until `hang(false)`.
    pub fn hang(&self, on: bool) {
        self.shared().phase.send_modify(|p| p.hang = on);
    }

    /// Delay added before answering every HTTP request.
    pub fn latency(&self, d: Duration) {
        *self.shared().latency.lock() = d;
    }

    /// The most HTTP requests handled at once since the server started or the last
    /// [`reset_max_in_flight`](Self::reset_max_in_flight): how a client's concurrency limit is
    /// checked from outside.
    pub fn max_in_flight(&self) -> u64 {
        self.shared()
            .max_in_flight
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Starts [`max_in_flight`](Self::max_in_flight) again from the requests handled now.
    pub fn reset_max_in_flight(&self) {
        let shared = self.shared();
        let now = shared.in_flight.load(std::sync::atomic::Ordering::SeqCst);
        shared
            .max_in_flight
            .store(now, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next `n` API requests answer `status` with the real server's error shape.
    pub fn fail_next(&self, n: usize, status: u16) {
        *self.shared().fail_next.lock() = (n, status, None);
    }

    /// Like [`fail_next`](Self::fail_next), but only requests to exactly `path` fail, so a
    /// client's background requests (heartbeats, identity checks) cannot take the failure meant
    /// for the request under test.
    pub fn fail_next_on(&self, path: &str, n: usize, status: u16) {
        *self.shared().fail_next.lock() = (n, status, Some(path.to_owned()));
    }

    /// `true`: stop heartbeats and events without closing sockets (a silent network drop).
    pub fn silence_ws(&self, on: bool) {
        self.shared().silence_ws.store(on, Ordering::SeqCst);
    }

    /// Waits until requests are answered normally again; `false` on timeout.
    pub fn wait_serving(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.shared();
            if s.answering() && s.listening.load(Ordering::SeqCst) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Requests received on a route, keyed `METHOD /literal/path`, e.g. `POST /api/resolve`.
    pub fn request_count(&self, route: &str) -> u64 {
        self.shared()
            .counters
            .lock()
            .get(route)
            .copied()
            .unwrap_or(0)
    }

    /// Entity rows served by `/graphql`: the nodes in every `edges` list of its answers (what a
    /// prepare cost the server, beyond the number of requests).
    pub fn graphql_edge_count(&self) -> u64 {
        self.shared().graphql_edges.load(Ordering::SeqCst)
    }

    /// Total URIs received by `/api/resolve`.
    pub fn resolved_uri_count(&self) -> u64 {
        self.shared().resolved_uris.load(Ordering::SeqCst)
    }

    /// Websocket upgrades attempted.
    pub fn ws_connection_count(&self) -> u64 {
        self.shared().ws_connections.load(Ordering::SeqCst)
    }

    /// Websockets open now whose auth message the server accepted: only these receive
    /// heartbeats and events, so a test that needs an event delivered waits for this first.
    pub fn ws_subscribed_count(&self) -> u64 {
        self.shared().ws_subscribed.load(Ordering::SeqCst)
    }

    /// Waits (bounded) until at least `n` websockets are subscribed; false on timeout.
    pub fn wait_ws_subscribed(&self, n: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.ws_subscribed_count() < n {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// Zeroes every counter.
    pub fn reset_counters(&self) {
        let s = self.shared();
        s.counters.lock().clear();
        s.resolved_uris.store(0, Ordering::SeqCst);
        s.ws_connections.store(0, Ordering::SeqCst);
        s.graphql_edges.store(0, Ordering::SeqCst);
    }

    /// Publishes the next version of a product with these representations (templates and
    /// context like the existing ones) and emits `entity.version.created` and
    /// `entity.representation.created`. Creates the product when the folder has none of that name.
    pub fn publish_version(
        &self,
        project: &str,
        folder_path: &str,
        product: &str,
        representations: &[&str],
    ) -> Result<u32, TestkitError> {
        crate::publish::publish_version(
            self.shared(),
            project,
            folder_path,
            product,
            representations,
        )
    }

    /// The publish most tests make: the next `usdAsset` version of `demo_offline`'s hero, with a
    /// `usd` representation (v004 on a fresh [`Library::demo_offline`](crate::Library::demo_offline)).
    pub fn publish_demo_hero(&self) -> Result<u32, TestkitError> {
        self.publish_version(
            "demo_offline",
            "assets/characters/hero",
            "usdAsset",
            &["usd"],
        )
    }

    /// Deletes a product with its versions and emits `entity.product.deleted`.
    pub fn delete_product(
        &self,
        project: &str,
        folder_path: &str,
        product: &str,
    ) -> Result<(), TestkitError> {
        crate::publish::delete_product(self.shared(), project, folder_path, product)
    }

    /// Adds a user who is neither admin nor manager, signing in with `api_key`: what an
    /// artist's tools use (the server then lists only the user's own events).
    pub fn add_artist(&self, name: &str, api_key: &str) {
        let mut auth = self.shared().auth.lock();
        auth.users.insert(
            name.to_owned(),
            crate::state::User::new(name, name, false, false),
        );
        auth.api_keys.insert(api_key.to_owned(), name.to_owned());
    }

    /// Sets a version's status (its `updatedAt` moves, as on the server) and emits
    /// `entity.version.status_changed`.
    pub fn set_version_status(
        &self,
        project: &str,
        folder_path: &str,
        product: &str,
        version: i32,
        status: &str,
    ) -> Result<(), TestkitError> {
        crate::publish::set_version_status(
            self.shared(),
            project,
            folder_path,
            product,
            version,
            status,
        )
    }

    /// Sends an arbitrary event to the websocket clients (recorded event shape).
    pub fn emit_event(&self, topic: &str, project: Option<&str>, summary: serde_json::Value) {
        self.shared()
            .emit(topic, project, Some("admin"), topic, summary);
    }
}

/// Returns once the accept loop has dropped the listener (bounded), so a caller that connects
/// right after `stop()`/`restart()` is refused.
fn wait_listener_closed(s: &Shared) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while s.listening.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn random_api_key() -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// Owns the listener: closes it while refusing or stopped, reopens it on the same port.
async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    addr: SocketAddr,
    router: axum::Router,
) {
    let mut listener = Some(listener);
    let mut phase_rx = shared.phase.subscribe();
    loop {
        let phase = *phase_rx.borrow_and_update();
        match phase.mode {
            Mode::Stopped | Mode::Refusing => {
                listener = None;
                shared.listening.store(false, Ordering::SeqCst);
                if phase_rx.changed().await.is_err() {
                    return;
                }
            }
            Mode::Serving | Mode::Booting => {
                if listener.is_none() {
                    match rebind(addr).await {
                        Some(l) => listener = Some(l),
                        None => {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        }
                    }
                }
                shared.listening.store(true, Ordering::SeqCst);
                let Some(l) = listener.as_ref() else { continue };
                tokio::select! {
                    accepted = l.accept() => {
                        if let Ok((stream, _)) = accepted {
                            tokio::spawn(serve_connection(shared.clone(), stream, router.clone()));
                        }
                    }
                    changed = phase_rx.changed() => {
                        if changed.is_err() { return; }
                    }
                }
            }
        }
    }
}

async fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.set_reuseaddr(true).ok()?;
    socket.bind(addr).ok()?;
    socket.listen(1024).ok()
}

/// One TCP connection: held silently while the server boots or hangs, dropped on a kill.
async fn serve_connection(shared: Arc<Shared>, stream: TcpStream, router: axum::Router) {
    let mut kill_rx = shared.kill.subscribe();
    kill_rx.borrow_and_update();
    let mut phase_rx = shared.phase.subscribe();
    // Accepted while booting or hanging: answer nothing until serving (or until killed).
    let ready = async {
        loop {
            if phase_rx.borrow_and_update().answering() {
                return true;
            }
            if phase_rx.changed().await.is_err() {
                return false;
            }
        }
    };
    tokio::select! {
        ok = ready => if !ok { return },
        _ = kill_rx.changed() => return,
    }
    let _ = stream.set_nodelay(true);
    let io = hyper_util::rt::TokioIo::new(stream);
    let service = hyper_util::service::TowerToHyperService::new(router);
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades();
    tokio::select! {
        _ = conn => {}
        _ = kill_rx.changed() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<TestServer>();
    }

    #[test]
    fn a_taken_port_is_a_start_error_naming_the_port() {
        let first = TestServer::start(Library::default()).expect("first");
        let err = TestServer::builder()
            .library(Library::default())
            .port(first.port())
            .start()
            .expect_err("port in use");
        assert!(err.to_string().contains(&first.port().to_string()), "{err}");
    }
}
