//! Settings of the shared (Redis) tier: plain data, present in every build so that hosts
//! configure the tier the same way whether or not this build can open it (feature `redis`).
//! A build without the feature reports a configured tier as left out, never fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The environment variable naming the shared tier: `redis://[user:password@]host[:port][/db]`
/// or `rediss://…` (TLS). Unset or empty: no shared tier.
pub const REDIS_URL_ENV: &str = "AYON_OFFLINE_REDIS_URL";

/// The environment variable overriding the key prefix (default `ayon-offline:`).
pub const REDIS_PREFIX_ENV: &str = "AYON_OFFLINE_REDIS_PREFIX";

/// The environment variable naming a PEM file of the CA that signed a `rediss://` server's
/// certificate (a studio's private CA); unset: the system's trust store.
pub const REDIS_CA_FILE_ENV: &str = "AYON_OFFLINE_REDIS_CA_FILE";

/// Prefix of every key and channel, so one Redis can serve other applications too.
const DEFAULT_PREFIX: &str = "ayon-offline:";

/// Settings of the shared tier; see [`RedisConfig::from_env`].
#[derive(Clone)]
pub struct RedisConfig {
    pub(crate) url: String,
    pub(crate) prefix: String,
    pub(crate) ca_file: Option<PathBuf>,
    pub(crate) timeout: Duration,
    pub(crate) breaker_failures: u32,
    pub(crate) breaker_cooldown: Duration,
    pub(crate) subscribe: bool,
    pub(crate) peer_wait: Duration,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.shown_url())
            .field("prefix", &self.prefix)
            .field("ca_file", &self.ca_file)
            .field("timeout", &self.timeout)
            .field("breaker_failures", &self.breaker_failures)
            .field("breaker_cooldown", &self.breaker_cooldown)
            .field("subscribe", &self.subscribe)
            .field("peer_wait", &self.peer_wait)
            .finish()
    }
}

impl RedisConfig {
    /// A shared tier at `url` (`redis://` or `rediss://`, optionally with `user:password@`),
    /// with the defaults: prefix `ayon-offline:`, 50 ms timeout, breaker opening after 3
    /// consecutive failures for 5 s, invalidations subscribed.
    pub fn new(url: impl Into<String>) -> RedisConfig {
        RedisConfig {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            ca_file: None,
            timeout: Duration::from_millis(50),
            breaker_failures: 3,
            breaker_cooldown: Duration::from_secs(5),
            subscribe: true,
            peer_wait: Duration::ZERO,
        }
    }

    /// From [`REDIS_URL_ENV`] (and [`REDIS_PREFIX_ENV`], [`REDIS_CA_FILE_ENV`]); `None` when
    /// the URL is unset or empty.
    pub fn from_env() -> Option<RedisConfig> {
        RedisConfig::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading the variables through `lookup` (hosts with
    /// their own environment; blank values count as unset).
    pub fn from_lookup(
        mut lookup: impl FnMut(&'static str) -> Option<String>,
    ) -> Option<RedisConfig> {
        let mut get = |name: &'static str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut config = RedisConfig::new(get(REDIS_URL_ENV)?);
        if let Some(p) = get(REDIS_PREFIX_ENV) {
            config = config.prefix(p);
        }
        if let Some(ca) = get(REDIS_CA_FILE_ENV) {
            config = config.ca_file(ca);
        }
        Some(config)
    }

    /// Prefix of every key and of the invalidation channel (default `ayon-offline:`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// For `rediss://`: trust the CA in this PEM file instead of the system's trust store.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Connect, read and write timeout of every Redis call (default 50 ms; at least 1 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Opens the breaker after `failures` consecutive failed calls, for `cooldown`
    /// (default 3 and 5 s).
    pub fn breaker(mut self, failures: u32, cooldown: Duration) -> Self {
        self.breaker_failures = failures.max(1);
        self.breaker_cooldown = cooldown;
        self
    }

    /// Whether a tiered cache listens for invalidations from other processes (default true).
    pub fn subscribe(mut self, subscribe: bool) -> Self {
        self.subscribe = subscribe;
        self
    }

    /// Cross-process single-flight (default off: zero). When a tiered cache misses everywhere,
    /// it claims the key in Redis for the caller to fetch; a process missing a key another
    /// process holds the claim of waits up to `wait` for that answer to appear in Redis instead
    /// of asking the server too. A wait that runs out turns waiting off for ten times `wait`,
    /// so a claimant that never answers costs each process at most one wait per period.
    /// Needs Redis 7 (`SET NX GET`); older servers just never wait.
    pub fn peer_wait(mut self, wait: Duration) -> Self {
        self.peer_wait = wait;
        self
    }

    /// The key prefix in force.
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    /// The CA file for `rediss://`, if one is set.
    pub fn ca_file_path(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// The URL as it may be shown (logs, `ayon doctor`): any `user:password@` replaced by
    /// `***@`, so an ACL password never leaves the process.
    pub fn shown_url(&self) -> String {
        match self.url.rsplit_once('@') {
            Some((scheme_user, host)) => {
                let scheme = scheme_user.split("://").next().unwrap_or("redis");
                format!("{scheme}://***@{host}")
            }
            None => self.url.clone(),
        }
    }

    /// Whether a tiered cache should start the invalidation subscriber.
    #[cfg(feature = "redis")]
    pub(crate) fn subscribes(&self) -> bool {
        self.subscribe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_lookup_reads_url_prefix_and_ca_and_hides_the_password() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &'static str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(RedisConfig::from_lookup(env(&[(REDIS_URL_ENV, "  ")])).is_none());
        let c = RedisConfig::from_lookup(env(&[
            (REDIS_URL_ENV, " rediss://farm:hunter2@redis.studio:6380/0 "),
            (REDIS_PREFIX_ENV, "studio-a:"),
            (REDIS_CA_FILE_ENV, "/etc/ssl/studio-ca.pem"),
        ]))
        .expect("configured");
        assert_eq!(c.key_prefix(), "studio-a:");
        assert_eq!(c.ca_file_path(), Some(Path::new("/etc/ssl/studio-ca.pem")));
        assert_eq!(c.shown_url(), "rediss://***@redis.studio:6380/0");
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(
            RedisConfig::new("redis://127.0.0.1:6379").shown_url(),
            "redis://127.0.0.1:6379"
        );
    }
}
