//! Shutdown and rebuild, in a process of their own: a shutdown cancels every task on the
//! runtime, so it must not race the other tests' work.

use std::time::Duration;

use ayon_runtime::{RuntimeError, block_on, built_in_pid, shutdown};

#[test]
fn shutdown_cancels_and_the_next_use_builds_a_new_runtime() {
    // Before first use nothing is held; shutdown then is a no-op.
    assert_eq!(built_in_pid(), None);
    shutdown();
    assert_eq!(built_in_pid(), None);

    let handle = ayon_runtime::handle().expect("runtime");
    assert_eq!(built_in_pid(), Some(std::process::id()));
    // A task parked on the runtime is cancelled by the shutdown: its sender is dropped.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    handle.spawn(async move {
        let _keep = tx;
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    shutdown();
    assert_eq!(built_in_pid(), None);
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(10)),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
    );

    // The next use builds a new runtime.
    assert_eq!(
        block_on(async { 3 }, Duration::from_secs(5)).expect("rebuilt"),
        3
    );
    assert_eq!(built_in_pid(), Some(std::process::id()));

    // Shutting down from a task on the runtime itself does not panic; the task may be cancelled
    // by its own shutdown before it answers.
    let done = block_on(
        async {
            shutdown();
            true
        },
        Duration::from_secs(5),
    );
    assert!(
        matches!(done, Ok(true) | Err(RuntimeError::Aborted)),
        "{done:?}"
    );
    assert_eq!(
        block_on(async { 4 }, Duration::from_secs(5)).expect("rebuilt"),
        4
    );
}
