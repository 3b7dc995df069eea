//! A real `redis-server` on a free loopback port for shared-tier tests, with the faults those
//! tests need (kill, hang with `SIGSTOP`, restart empty, a memory cap).
//!
//! The server keeps nothing on disk (`--save ""`, no AOF) and dies with the fixture. When
//! `redis-server` is not installed, [`RedisServer::start_or_skip`] skips loudly outside CI and
//! fails under CI (`CI` set), so a CI run can never pass by skipping.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a start waits for the server to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What went wrong starting or signalling the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisServerError {
    /// `redis-server` is not on `PATH`.
    #[error("redis-server is not installed (apt-get install -y redis-server)")]
    NotInstalled,
    /// The process could not be spawned or signalled.
    #[error("redis-server: {0}")]
    Io(#[from] std::io::Error),
    /// It did not answer `PING` in time.
    #[error("redis-server on port {port} did not answer PING within {waited:?}")]
    NoAnswer {
        /// The port it was started on.
        port: u16,
        /// How long we waited.
        waited: Duration,
    },
}

/// A running `redis-server` child; killed (after a `SIGCONT`) on drop.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    extra: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// True when a `redis-server` binary can be run.
    pub fn installed() -> bool {
        Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Starts a server with extra config arguments (e.g. `["--maxmemory", "1mb"]`).
    pub fn start_with(extra: &[&str]) -> Result<RedisServer, RedisServerError> {
        if !RedisServer::installed() {
            return Err(RedisServerError::NotInstalled);
        }
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let mut server = RedisServer {
            port,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            child: None,
        };
        server.spawn()?;
        Ok(server)
    }

    /// Starts a server with the defaults, or returns `None` after a loud message when
    /// `redis-server` is missing and `CI` is unset. Under CI a missing server panics: the tests
    /// that need it must not pass by skipping there.
    pub fn start_or_skip(extra: &[&str]) -> Option<RedisServer> {
        match RedisServer::start_with(extra) {
            Ok(s) => Some(s),
            Err(RedisServerError::NotInstalled) if std::env::var_os("CI").is_none() => {
                eprintln!(
                    "\n!!! SKIPPED: redis-server is not installed; install it with \
                     `apt-get install -y redis-server` to run the shared-tier tests !!!\n"
                );
                None
            }
            Err(e) => panic!("cannot start redis-server for the test: {e}"),
        }
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) -> Result<(), RedisServerError> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--loglevel", "warning"])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let start = Instant::now();
        while start.elapsed() < START_TIMEOUT {
            if self.ping() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(RedisServerError::NoAnswer {
            port: self.port,
            waited: START_TIMEOUT,
        })
    }

    /// Whether the server answers `PING` within 200 ms (`+PONG`, or `-NOAUTH` when the
    /// default user is disabled: it answers either way).
    pub fn ping(&self) -> bool {
        self.command("PING")
            .is_some_and(|r| r.starts_with("+PONG") || r.starts_with("-NOAUTH"))
    }

    /// Sends one inline command (e.g. `"DBSIZE"`, `"FLUSHALL"`) and returns the raw reply line,
    /// `None` when the server does not answer within 200 ms.
    pub fn command(&self, inline: &str) -> Option<String> {
        let timeout = Duration::from_millis(200);
        let addr = (Ipv4Addr::LOCALHOST, self.port).into();
        let mut stream = TcpStream::connect_timeout(&addr, timeout).ok()?;
        stream.set_read_timeout(Some(timeout)).ok()?;
        stream.set_write_timeout(Some(timeout)).ok()?;
        stream.write_all(format!("{inline}\r\n").as_bytes()).ok()?;
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    fn signal(&self, signal: &str) -> Result<(), RedisServerError> {
        if let Some(child) = &self.child {
            Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()?;
        }
        Ok(())
    }

    /// Freezes the server (`SIGSTOP`): connections stay open but nothing answers.
    pub fn pause(&self) -> Result<(), RedisServerError> {
        self.signal("-STOP")
    }

    /// Thaws a paused server (`SIGCONT`).
    pub fn resume(&self) -> Result<(), RedisServerError> {
        self.signal("-CONT")
    }

    /// Kills the server (`SIGKILL`) and reaps it; the port is then refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = self.signal_child(&child, "-CONT");
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn signal_child(&self, child: &Child, signal: &str) -> std::io::Result<()> {
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .map(|_| ())
    }

    /// Kills the server if running and starts an empty one on the same port.
    pub fn restart(&mut self) -> Result<(), RedisServerError> {
        self.stop();
        self.spawn()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
