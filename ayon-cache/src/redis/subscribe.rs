//! The invalidation subscriber: one dedicated thread per tiered cache listening on the Redis
//! channel, dropping local entries when another process publishes an invalidation.
//!
//! A plain thread with a blocking connection rather than a task on the library's tokio runtime:
//! the runtime lives above this crate (ayon-connectivity today, maybe `ayon-runtime` later), and
//! depending on it would point an arrow up. One idle thread per cache is cheap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::Namespace;
use crate::redis::RedisCache;

/// How often the listening thread wakes to check whether it should stop.
const POLL: Duration = Duration::from_millis(100);

/// What the subscriber does with the local tiers: drop entries of one namespace, or (after a
/// reconnect, when invalidations may have been missed) of every namespace.
pub(crate) type OnInvalidate = Box<dyn Fn(Option<&Namespace>) + Send>;

/// The running subscriber; stops and joins its thread on drop (within about 100 ms).
#[derive(Debug)]
pub(crate) struct Subscription {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Starts listening. `ready` is set once the first subscription is confirmed (tests wait on it).
pub(crate) fn start(
    redis: Arc<RedisCache>,
    on_invalidate: OnInvalidate,
    ready: Arc<AtomicBool>,
) -> Option<Subscription> {
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = stop.clone();
    let handle = std::thread::Builder::new()
        .name("ayon-cache-invalidations".into())
        .spawn(move || listen(&redis, &*on_invalidate, &thread_stop, &ready))
        .inspect_err(|e| {
            tracing::warn!(target: "ayon_cache", "no invalidation subscriber (thread: {e}); moving entries expire by TTL only")
        })
        .ok()?;
    Some(Subscription {
        stop,
        handle: Some(handle),
    })
}

fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) {
    let mut left = total;
    while !stop.load(Ordering::Acquire) && !left.is_zero() {
        let step = left.min(POLL);
        std::thread::sleep(step);
        left -= step;
    }
}

fn listen(
    redis: &RedisCache,
    on_invalidate: &dyn Fn(Option<&Namespace>),
    stop: &AtomicBool,
    ready: &AtomicBool,
) {
    let channel = redis.channel();
    let timeout = redis.config().timeout.max(POLL);
    let mut backoff = Duration::from_millis(50);
    let mut connected_before = false;
    while !stop.load(Ordering::Acquire) {
        let mut conn = match RedisCache::connect(redis.client(), timeout) {
            Ok(c) => c,
            Err(_) => {
                sleep_unless_stopped(stop, backoff);
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        let mut pubsub = conn.as_pubsub();
        if pubsub.subscribe(&channel).is_err() || pubsub.set_read_timeout(Some(POLL)).is_err() {
            sleep_unless_stopped(stop, backoff);
            backoff = (backoff * 2).min(Duration::from_secs(2));
            continue;
        }
        backoff = Duration::from_millis(50);
        if connected_before {
            // Invalidations published while we were away are lost: drop every moving entry.
            on_invalidate(None);
        }
        connected_before = true;
        ready.store(true, Ordering::Release);
        while !stop.load(Ordering::Acquire) {
            match pubsub.get_message() {
                Ok(msg) => {
                    let payload = msg.get_payload_bytes();
                    let Ok(text) = std::str::from_utf8(payload) else {
                        continue;
                    };
                    let Some((origin, namespace)) = text.split_once('\n') else {
                        continue;
                    };
                    if origin != redis.origin() {
                        redis.count_invalidation();
                        on_invalidate(Some(&Namespace::custom(namespace)));
                    }
                }
                Err(e) if e.is_timeout() => continue,
                Err(_) => break,
            }
        }
    }
}
