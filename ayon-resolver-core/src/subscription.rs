//! Background tasks a resolver owns: state-change callbacks and event invalidation. Each ends
//! when its guard is dropped.

use std::sync::Weak;

use ayon_connectivity::{ConnectionState, Monitor};
use tokio::sync::broadcast::error::RecvError;

use crate::resolver::Registry;

/// Aborts its task when dropped.
#[derive(Debug)]
pub(crate) struct TaskGuard(tokio::task::AbortHandle);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A state-change callback registration; the callback stops being called when this is
/// dropped (or [`unsubscribe`](Self::unsubscribe)d).
///
/// The rule: the callback sees every change after [`initial_state`](Self::initial_state), in
/// order, none missed and none repeated. A host shows the initial state, then applies each
/// change; a change that happens while it subscribes is in one or the other, never lost.
#[derive(Debug)]
pub struct StateSubscription {
    initial: ConnectionState,
    _task: TaskGuard,
}

impl StateSubscription {
    pub(crate) fn start<F>(monitor: &Monitor, mut callback: F) -> Result<StateSubscription, String>
    where
        F: FnMut(&ConnectionState) + Send + 'static,
    {
        let handle = ayon_runtime::handle().map_err(|e| e.to_string())?;
        let (initial, mut rx) = monitor.state_and_transitions();
        let task = handle.spawn(async move {
            loop {
                let state = match rx.recv().await {
                    Ok(s) => s,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                };
                // The callback is host code (it may take the GIL): run it off the async
                // workers, one at a time so calls stay in order.
                let (back, done) = tokio::sync::oneshot::channel();
                let mut cb = callback;
                let joined = tokio::task::spawn_blocking(move || {
                    cb(&state);
                    let _ = back.send(());
                    cb
                })
                .await;
                let _ = done.await;
                match joined {
                    Ok(cb) => callback = cb,
                    // The callback panicked: stop calling it rather than take the host down.
                    Err(_) => break,
                }
            }
        });
        Ok(StateSubscription {
            initial,
            _task: TaskGuard(task.abort_handle()),
        })
    }

    /// The connection state when the subscription was made: the callback is called with the
    /// changes after it.
    pub fn initial_state(&self) -> &ConnectionState {
        &self.initial
    }

    /// Stops the callback now.
    pub fn unsubscribe(self) {}
}

/// Drops moving answers of a project from every cache of the resolver when the server
/// announces a change to its versions, products or representations.
pub(crate) fn invalidate_on_events(
    monitor: &Monitor,
    registry: Weak<Registry>,
) -> Option<TaskGuard> {
    let handle = ayon_runtime::handle().ok()?;
    let mut rx = monitor.subscribe_events();
    let task = handle.spawn(async move {
        loop {
            let event = match rx.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            let invalidating = ayon_client::is_invalidating(&event.topic);
            let (true, Some(project)) = (invalidating, event.project.as_deref()) else {
                continue;
            };
            match registry.upgrade() {
                Some(r) => r.on_event_project(project),
                None => break,
            }
        }
    });
    Some(TaskGuard(task.abort_handle()))
}
