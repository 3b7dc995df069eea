//! The one tokio runtime the AYON crates own (design.md, "HTTP and runtime").
//!
//! Hosts are synchronous (USD calls from TBB threads, Python add-ons), so the library brings its
//! own small multi-thread runtime instead of asking for one. Every AYON crate that does I/O
//! (the client, the connectivity monitor) runs on it, so one process holds one set of `ayon-rt`
//! threads whatever it embeds.
//!
//! # Lifecycle
//!
//! - **Built on first use.** [`handle`] and [`block_on`] build the runtime the first time they
//!   are called; nothing runs before that.
//! - **Rebuilt in a forked child.** A forked child inherits the parent's runtime object but none
//!   of its threads. The runtime records the process id it was built in; when [`handle`] sees
//!   another id it builds a fresh runtime and leaks the dead one (dropping it would wait for
//!   threads that do not exist). Hosts whose fork keeps the process id visible to us unchanged
//!   (none known) or that want to drop it eagerly call [`forget_after_fork`] in the child.
//! - **Shut down on request.** [`shutdown`] stops the runtime without waiting: its tasks (monitor
//!   loops, requests in flight) are cancelled and its threads exit in the background. Call it
//!   when a host unloads the library (a plugin unload, a Python interpreter finalising). The next
//!   use builds a new runtime, so a late call is answered rather than refused.
//! - **At process exit nothing needs to happen.** Statics are not dropped at exit; the
//!   operating system reclaims the threads, so exit never waits on the runtime.
//!
//! [`block_on`] runs a future with a timeout from any thread, including a thread that is already
//! inside somebody else's tokio runtime: the future is spawned onto our runtime and the caller
//! waits on a plain channel, so `Handle::block_on`'s "cannot start a runtime from within a
//! runtime" panic never happens.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::runtime::{Handle, Runtime, RuntimeFlavor};

/// Worker threads of the library runtime: the work is I/O-bound and the hosts own the CPU.
const WORKER_THREADS: usize = 2;
/// Name of the runtime's threads, so they are recognisable in a host's debugger or `top -H`.
const THREAD_NAME: &str = "ayon-rt";

/// Why a future could not be run on the library runtime.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The operating system refused to create the runtime's threads or its I/O driver.
    #[error("could not build the ayon tokio runtime: {0}")]
    Build(#[source] std::io::Error),
    /// The future did not finish within the caller's timeout; it has been cancelled.
    #[error("the operation did not finish within {0:?} and was cancelled")]
    Timeout(Duration),
    /// The future panicked or the runtime was shut down before it finished.
    #[error("the operation ended without a result (it panicked or the runtime stopped)")]
    Aborted,
}

/// Process id recorded by [`forget_after_fork`]: no user process has it, so the next
/// [`handle`] takes the forked-child path.
const FOREIGN_PID: u32 = 0;

struct Owned {
    pid: u32,
    runtime: Runtime,
}

/// The runtime and the process it belongs to.
static RUNTIME: Mutex<Option<Owned>> = Mutex::new(None);

fn build() -> Result<Runtime, RuntimeError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name(THREAD_NAME)
        .enable_all()
        .build()
        .map_err(RuntimeError::Build)
}

/// The library runtime's handle, building the runtime on first use and again in a forked child.
pub fn handle() -> Result<Handle, RuntimeError> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock();
    if let Some(owned) = slot.as_ref()
        && owned.pid == pid
    {
        return Ok(owned.runtime.handle().clone());
    }
    let runtime = build()?;
    let handle = runtime.handle().clone();
    if let Some(stale) = slot.replace(Owned { pid, runtime }) {
        // Built in the parent: its threads do not exist here, so dropping it could hang.
        std::mem::forget(stale);
    }
    Ok(handle)
}

/// The process id the current runtime was built in, if one is held (to check fork handling):
/// `None` before first use and after [`shutdown`].
pub fn built_in_pid() -> Option<u32> {
    RUNTIME.lock().as_ref().map(|o| o.pid)
}

/// Runs `fut` on the library runtime and waits at most `timeout` for its output.
///
/// Works from plain threads, from many threads at once, and from inside any tokio runtime
/// (a multi-thread caller's worker is handed over with `block_in_place`; a current-thread
/// caller simply waits). On timeout the future is cancelled.
pub fn block_on<F>(fut: F, timeout: Duration) -> Result<F::Output, RuntimeError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = handle()?;
    let (tx, rx) = mpsc::sync_channel(1);
    let task = handle.spawn(async move {
        let out = fut.await;
        // The receiver may have given up (timeout); nothing to do then.
        let _ = tx.send(out);
    });
    let wait = || rx.recv_timeout(timeout);
    let received = match Handle::try_current() {
        Ok(current) if current.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(wait)
        }
        _ => wait(),
    };
    match received {
        Ok(out) => Ok(out),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            task.abort();
            Err(RuntimeError::Timeout(timeout))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(RuntimeError::Aborted),
    }
}

/// Stops the runtime without waiting: its tasks are cancelled and its threads exit in the
/// background. The next [`handle`] or [`block_on`] builds a new runtime.
///
/// For hosts that unload the library; handles taken before keep working only as far as tokio
/// allows on a stopped runtime (spawned tasks are cancelled at once). Safe to call from any
/// thread, also from a task running on this runtime, and when no runtime was built.
pub fn shutdown() {
    let old = RUNTIME.lock().take();
    if let Some(owned) = old {
        if owned.pid == std::process::id() {
            owned.runtime.shutdown_background();
        } else {
            // Built in the parent of this forked child: its threads do not exist here.
            std::mem::forget(owned);
        }
    }
}

/// Treats the current runtime as another process's, as in a forked child: the next [`handle`]
/// builds a fresh runtime and leaks the old one instead of dropping it.
///
/// The process-id check does this by itself after `fork()`; call this from a fork handler to
/// make it explicit, or to exercise that path (tests). Does nothing when no runtime was built.
pub fn forget_after_fork() {
    if let Some(owned) = RUNTIME.lock().as_mut() {
        owned.pid = FOREIGN_PID;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn runs_a_future_from_a_plain_thread() {
        let v = block_on(async { 40 + 2 }, Duration::from_secs(5)).expect("ran");
        assert_eq!(v, 42);
    }

    #[test]
    fn runs_on_named_library_threads() {
        let name = block_on(
            async { std::thread::current().name().map(str::to_owned) },
            Duration::from_secs(5),
        )
        .expect("ran");
        assert_eq!(name.as_deref(), Some(THREAD_NAME));
    }

    #[test]
    fn times_out_and_cancels() {
        let start = Instant::now();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let err = block_on(
            async move {
                // Dropped (never sent) when the task is cancelled.
                let _keep = tx;
                tokio::time::sleep(Duration::from_secs(30)).await;
            },
            Duration::from_millis(100),
        )
        .expect_err("must time out");
        assert!(matches!(err, RuntimeError::Timeout(_)), "{err}");
        assert!(start.elapsed() < Duration::from_secs(5));
        // The cancelled task drops its sender, so the receiver disconnects soon.
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        );
    }

    #[test]
    fn a_panicking_future_is_an_error_not_a_panic() {
        let err = block_on(
            async {
                if std::hint::black_box(true) {
                    panic!("boom in the future");
                }
            },
            Duration::from_secs(5),
        )
        .expect_err("must fail");
        assert!(matches!(err, RuntimeError::Aborted), "{err}");
    }

    #[test]
    fn many_threads_at_once() {
        let threads: Vec<_> = (0..16)
            .map(|i| {
                std::thread::spawn(move || {
                    (0..50)
                        .map(|j| {
                            block_on(
                                async move {
                                    tokio::time::sleep(Duration::from_millis(1)).await;
                                    i * 1000 + j
                                },
                                Duration::from_secs(10),
                            )
                            .expect("ran")
                        })
                        .sum::<u64>()
                })
            })
            .collect();
        for (i, t) in threads.into_iter().enumerate() {
            let want: u64 = (0..50).map(|j| i as u64 * 1000 + j).sum();
            assert_eq!(t.join().expect("thread"), want);
        }
    }

    #[tokio::test]
    async fn works_inside_a_current_thread_runtime() {
        let v = block_on(async { "hop" }, Duration::from_secs(5)).expect("no panic");
        assert_eq!(v, "hop");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn works_inside_a_multi_thread_runtime() {
        let v = block_on(
            async {
                tokio::time::sleep(Duration::from_millis(5)).await;
                7
            },
            Duration::from_secs(5),
        )
        .expect("no panic");
        assert_eq!(v, 7);
    }

    #[test]
    fn works_from_inside_its_own_runtime() {
        // A future on the library runtime that itself calls block_on must not deadlock or panic.
        let v = block_on(
            async { block_on(async { 5 }, Duration::from_secs(5)) },
            Duration::from_secs(10),
        )
        .expect("outer ran")
        .expect("inner ran");
        assert_eq!(v, 5);
    }

    #[test]
    fn a_changed_process_id_builds_a_fresh_runtime() {
        handle().expect("runtime");
        assert_eq!(built_in_pid(), Some(std::process::id()));
        forget_after_fork();
        assert_ne!(built_in_pid(), Some(std::process::id()));
        // The next use rebuilds for this process and works.
        let v = block_on(async { 1 }, Duration::from_secs(5)).expect("rebuilt runtime runs");
        assert_eq!(v, 1);
        assert_eq!(built_in_pid(), Some(std::process::id()));
    }
}
