//! A real `redis-server` on a free loopback port for shared-tier tests, with the faults those
//! tests need (kill, hang with `SIGSTOP`, restart empty, a memory cap).
//!
//! [`RedisServer::start_tls`] adds a TLS port whose certificate is signed by a throwaway CA made
//! with the `openssl` command line for this fixture alone ([`RedisServer::tls_ca_file`]).
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
    /// TLS was asked for and cannot be had: this `redis-server` was built without TLS, or the
    /// `openssl` command that makes the throwaway certificates is missing or failed.
    #[error("no TLS redis-server here: {0}")]
    TlsUnavailable(String),
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
    tls: Option<Tls>,
}

/// The TLS side of a fixture: its port and the directory holding the CA and certificate.
#[derive(Debug)]
struct Tls {
    port: u16,
    dir: tempfile::TempDir,
}

/// A free loopback port.
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Makes `ca.crt` and `server.crt`/`server.key` for 127.0.0.1 in `dir` with `openssl`.
fn make_certificates(dir: &std::path::Path) -> Result<(), RedisServerError> {
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )?;
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-subj",
            "/CN=ayon-testkit throwaway CA",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-out",
            "server.crt",
            "-extfile",
            "server.ext",
        ],
    ];
    for args in steps {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| RedisServerError::TlsUnavailable(format!("cannot run openssl: {e}")))?;
        if !out.status.success() {
            return Err(RedisServerError::TlsUnavailable(format!(
                "openssl {} failed: {}",
                args[0],
                String::from_utf8_lossy(&out.stderr)
            )));
        }
    }
    Ok(())
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
        let mut server = RedisServer {
            port: free_port()?,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            child: None,
            tls: None,
        };
        server.spawn()?;
        Ok(server)
    }

    /// Like [`start_with`](Self::start_with), plus a TLS port (no client certificates asked)
    /// whose certificate for 127.0.0.1 is signed by a throwaway CA. The plain port stays for
    /// the fixture's own control commands.
    pub fn start_tls(extra: &[&str]) -> Result<RedisServer, RedisServerError> {
        if !RedisServer::installed() {
            return Err(RedisServerError::NotInstalled);
        }
        let dir = tempfile::tempdir()?;
        make_certificates(dir.path())?;
        let tls = Tls {
            port: free_port()?,
            dir,
        };
        let file = |name: &str| tls.dir.path().join(name).display().to_string();
        let mut args: Vec<String> = vec![
            "--tls-port".into(),
            tls.port.to_string(),
            "--tls-cert-file".into(),
            file("server.crt"),
            "--tls-key-file".into(),
            file("server.key"),
            "--tls-ca-cert-file".into(),
            file("ca.crt"),
            "--tls-auth-clients".into(),
            "no".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut server = RedisServer {
            port: free_port()?,
            extra: args,
            child: None,
            tls: Some(tls),
        };
        match server.spawn() {
            Ok(()) => Ok(server),
            Err(RedisServerError::NoAnswer { .. }) => {
                // A build without TLS refuses the `tls-*` directives and exits at once.
                let log = server
                    .child
                    .take()
                    .and_then(|c| c.wait_with_output().ok())
                    .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                    .unwrap_or_default();
                Err(RedisServerError::TlsUnavailable(format!(
                    "redis-server did not start with --tls-port (built without TLS?): {}",
                    log.trim()
                )))
            }
            Err(e) => Err(e),
        }
    }

    /// [`start_tls`](Self::start_tls), or `None` after a loud message saying why TLS cannot be
    /// tested here (no `redis-server` outside CI, no TLS in its build, no `openssl`). A missing
    /// `redis-server` under CI still panics, as in [`start_or_skip`](Self::start_or_skip).
    pub fn start_tls_or_skip(extra: &[&str]) -> Option<RedisServer> {
        match RedisServer::start_tls(extra) {
            Ok(s) => Some(s),
            Err(RedisServerError::NotInstalled) if std::env::var_os("CI").is_some() => {
                panic!("cannot start redis-server for the test: not installed")
            }
            Err(e) => {
                eprintln!("\n!!! SKIPPED (TLS shared tier not tested): {e} !!!\n");
                None
            }
        }
    }

    /// The TLS port, for a fixture started with [`start_tls`](Self::start_tls).
    pub fn tls_port(&self) -> Option<u16> {
        self.tls.as_ref().map(|t| t.port)
    }

    /// The PEM file of the throwaway CA that signed the TLS port's certificate.
    pub fn tls_ca_file(&self) -> Option<std::path::PathBuf> {
        self.tls.as_ref().map(|t| t.dir.path().join("ca.crt"))
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
            .stderr(if self.tls.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()?;
        self.child = Some(child);
        let start = Instant::now();
        while start.elapsed() < START_TIMEOUT {
            if self.ping() {
                return Ok(());
            }
            // Exited already (a directive it does not know): no point waiting.
            if let Some(c) = self.child.as_mut()
                && matches!(c.try_wait(), Ok(Some(_)))
            {
                break;
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
