//! The one bridge to the library-owned tokio runtime: every future the clients run goes through
//! here, and runtime failures become [`ClientError`]s here.

use std::future::Future;
use std::time::Duration;

use crate::error::ClientError;

/// Runs `fut` on the library runtime from async code (the caller's runtime, any flavour), so
/// connections live there even when the caller's runtime goes away.
pub(crate) async fn on_runtime<F, T>(fut: F) -> Result<T, ClientError>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handle = ayon_runtime::handle().map_err(|e| ClientError::Runtime(e.to_string()))?;
    handle
        .spawn(fut)
        .await
        .map_err(|e| ClientError::Runtime(format!("request task ended: {e}")))
}

/// Runs `fut` on the library runtime from synchronous code (any thread, also one inside a
/// tokio runtime), waiting at most `deadline`; on expiry the future is cancelled and the error
/// names `server`.
pub(crate) fn block_on<F, T>(fut: F, deadline: Duration, server: &str) -> Result<T, ClientError>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    ayon_runtime::block_on(fut, deadline).map_err(|e| match e {
        ayon_runtime::RuntimeError::Timeout(after) => ClientError::Timeout {
            server: server.to_owned(),
            after,
        },
        other => ClientError::Runtime(other.to_string()),
    })
}

/// Spawns a background task on the library runtime; `None` when the runtime is unavailable.
pub(crate) fn spawn<F>(fut: F) -> Option<tokio::task::AbortHandle>
where
    F: Future<Output = ()> + Send + 'static,
{
    let handle = ayon_runtime::handle().ok()?;
    Some(handle.spawn(fut).abort_handle())
}

/// Drives a borrowed future to completion from synchronous code, with the library runtime's
/// I/O and timers. Refused (not a panic) on a thread that already runs a tokio runtime.
pub(crate) fn block_on_local<F: Future>(fut: F) -> Result<F::Output, ClientError> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(ClientError::Runtime(
            "a blocking call was made from inside a tokio runtime; use the async call".to_owned(),
        ));
    }
    let handle = ayon_runtime::handle().map_err(|e| ClientError::Runtime(e.to_string()))?;
    Ok(handle.block_on(fut))
}
