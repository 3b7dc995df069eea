//! `RedisCache`: the shared tier a farm or a studio puts between the local tiers and the server,
//! so each answer is resolved from the server once for everyone.
//!
//! Fail open: every call has a short socket timeout (default 50 ms) and a circuit breaker skips
//! Redis for a while after repeated failures; Redis down, slow or full is a miss or a skipped
//! write, never an error to the caller. Blocking connections from a small pool (no async
//! runtime); invalidations arrive on one dedicated thread ([`subscribe`]).

mod breaker;
mod codec;
pub(crate) mod subscribe;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;
use redis::{Client, Connection, RedisError, RedisResult};

use crate::stats::{Counter, DiagnosticKind, DiagnosticsLog};
use crate::{
    BreakerState, Cache, CacheError, Diagnostic, Entry, EntryMeta, Freshness, Key, Namespace,
    RedisConfig, SharedTierStats,
};
use breaker::{Breaker, Transition};

/// How long the moving-entry index of a namespace lives after its last write.
const INDEX_TTL_SECS: u64 = 86_400;

/// Idle connections kept for reuse.
const MAX_IDLE: usize = 16;

/// Deletes every key listed in a namespace's moving-entry index, then the index (atomic, so a
/// moving write racing the invalidation is either deleted or indexed for the next one).
const INVALIDATE_SCRIPT: &str = r"
local ks = redis.call('SMEMBERS', KEYS[1])
for i = 1, #ks, 500 do
  redis.call('DEL', unpack(ks, i, math.min(i + 499, #ks)))
end
redis.call('DEL', KEYS[1])
return #ks
";

impl RedisConfig {
    /// Opens the shared tier: checks the URL, connects lazily (Redis down at start is fine).
    pub fn open(self) -> Result<RedisCache, CacheError> {
        RedisCache::open(self)
    }
}

/// Counters of the shared tier.
#[derive(Debug, Default)]
struct Counters {
    hits: Counter,
    misses: Counter,
    errors: Counter,
    skipped: Counter,
    invalidations: Counter,
}

/// The shared tier: entries in Redis under `prefix + namespace + name`, in a versioned record
/// (another record version or a corrupt value reads as a miss).
///
/// What it stores: immutable entries without expiry; moving entries with their remaining TTL as
/// the Redis expiry; never negative ones (they are per-process guesses). Keys name the server,
/// project and canonical URI; values carry what the caller put (rootless answers); nothing
/// secret. Every call is fail-open (see the module docs).
pub struct RedisCache {
    client: Client,
    config: RedisConfig,
    pool: Mutex<Vec<Connection>>,
    breaker: Breaker,
    counters: Counters,
    log: Arc<DiagnosticsLog>,
    /// Tells this cache's own invalidation messages from other processes'.
    origin: String,
    /// Until when waiting for peers is off after a wait ran out.
    peer_wait_off_until: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("config", &self.config)
            .field("breaker", &self.breaker.state())
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Opens the shared tier described by `config`. Fails only on a malformed URL (or a TLS URL
    /// this build cannot serve); never connects here.
    pub fn open(config: RedisConfig) -> Result<RedisCache, CacheError> {
        if config.url.starts_with("rediss://") {
            // redis-rs builds its TLS config from rustls' process-wide provider; install ours
            // if nobody has (an `Err` means one is installed already, which is as good).
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let bad_url = |e: RedisError| CacheError::BadRedisUrl {
            reason: e.to_string(),
        };
        let client = match &config.ca_file {
            Some(path) if config.url.starts_with("rediss://") => {
                let pem = std::fs::read(path).map_err(|e| CacheError::RedisCaFile {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
                let certs = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                };
                Client::build_with_tls(config.url.as_str(), certs).map_err(bad_url)?
            }
            _ => Client::open(config.url.as_str()).map_err(bad_url)?,
        };
        let origin = format!(
            "{}-{:x}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        Ok(RedisCache {
            client,
            breaker: Breaker::new(config.breaker_failures, config.breaker_cooldown),
            config,
            pool: Mutex::new(Vec::new()),
            counters: Counters::default(),
            log: Arc::new(DiagnosticsLog::default()),
            origin,
            peer_wait_off_until: Mutex::new(None),
        })
    }

    /// The shared tier's counters and breaker state.
    pub fn shared_stats(&self) -> SharedTierStats {
        SharedTierStats {
            url: self.config.shown_url(),
            subscribed: false,
            hits: self.counters.hits.get(),
            misses: self.counters.misses.get(),
            errors: self.counters.errors.get(),
            skipped: self.counters.skipped.get(),
            breaker: self.breaker.state(),
            invalidations_received: self.counters.invalidations.get(),
            last_error: self.log.last_error(),
        }
    }

    /// Recent breaker transitions and failures, oldest first.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.log.snapshot()
    }

    /// The most recent Redis failure, as text.
    pub fn last_error(&self) -> Option<String> {
        self.log.last_error()
    }

    /// The breaker now.
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// Whether an entry belongs in the shared tier: not negative, and a moving entry only while
    /// it still has time to live. Returns the Redis expiry (`None`: no expiry).
    fn shared_ttl(entry: &Entry) -> Option<Option<Duration>> {
        match entry.freshness() {
            Freshness::Immutable => Some(None),
            Freshness::Negative { .. } => None,
            Freshness::Moving { ttl } => {
                let age = SystemTime::now()
                    .duration_since(entry.stored_at())
                    .unwrap_or_default();
                let left = ttl.checked_sub(age)?;
                (left >= Duration::from_millis(1)).then_some(Some(left))
            }
        }
    }

    /// True when [`put`](Cache::put) would store `entry` in Redis.
    pub fn is_shareable(entry: &Entry) -> bool {
        RedisCache::shared_ttl(entry).is_some()
    }

    /// The namespace as it appears in keys: any `user:password@` of a server URL dropped, so no
    /// credential reaches Redis.
    fn namespace_part(namespace: &str) -> std::borrow::Cow<'_, str> {
        if let Some(i) = namespace.find("://") {
            let rest = &namespace[i + 3..];
            let host_end = rest.find(['/', '|']).unwrap_or(rest.len());
            if let Some(at) = rest[..host_end].rfind('@') {
                return format!("{}{}", &namespace[..i + 3], &rest[at + 1..]).into();
            }
        }
        namespace.into()
    }

    fn data_key(&self, key: &Key) -> String {
        format!(
            "{}e:{}\n{}",
            self.config.prefix,
            RedisCache::namespace_part(key.namespace()),
            key.name()
        )
    }

    fn claim_key(&self, key: &Key) -> String {
        format!(
            "{}c:{}\n{}",
            self.config.prefix,
            RedisCache::namespace_part(key.namespace()),
            key.name()
        )
    }

    /// With [`RedisConfig::peer_wait`] on: drops this process's claims on `keys` once it has
    /// stored their answers, shareable or not, so peers waiting for an answer that will not
    /// come (a negative one) stop waiting at once.
    pub(crate) fn release_claims<'a>(&self, keys: impl Iterator<Item = &'a Key>) {
        if self.config.peer_wait.is_zero() {
            return;
        }
        let claims: Vec<String> = keys.map(|k| self.claim_key(k)).collect();
        if !claims.is_empty() {
            self.call("release", |c| {
                redis::cmd("DEL").arg(&claims).query::<u64>(c)
            });
        }
    }

    fn index_key(&self, namespace: &str) -> String {
        format!(
            "{}m:{}",
            self.config.prefix,
            RedisCache::namespace_part(namespace)
        )
    }

    pub(crate) fn channel(&self) -> String {
        format!("{}invalidate", self.config.prefix)
    }

    pub(crate) fn origin(&self) -> &str {
        &self.origin
    }

    pub(crate) fn config(&self) -> &RedisConfig {
        &self.config
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn count_invalidation(&self) {
        self.counters.invalidations.incr();
    }

    /// A connection with the call timeouts set, from the pool or new.
    pub(crate) fn connect(client: &Client, timeout: Duration) -> RedisResult<Connection> {
        let conn = client.get_connection_with_timeout(timeout)?;
        conn.set_read_timeout(Some(timeout))?;
        conn.set_write_timeout(Some(timeout))?;
        Ok(conn)
    }

    /// Runs one Redis call, fail-open: `None` when the breaker is open or the call failed (the
    /// failure is counted, logged and fed to the breaker).
    fn call<T>(&self, what: &str, op: impl FnOnce(&mut Connection) -> RedisResult<T>) -> Option<T> {
        if !self.breaker.allow() {
            self.counters.skipped.incr();
            return None;
        }
        let pooled = self.pool.lock().pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => match RedisCache::connect(&self.client, self.config.timeout) {
                Ok(c) => c,
                Err(e) => {
                    self.failed(what, &e, true);
                    return None;
                }
            },
        };
        match op(&mut conn) {
            Ok(out) => {
                self.report(self.breaker.success());
                let mut pool = self.pool.lock();
                if pool.len() < MAX_IDLE {
                    pool.push(conn);
                }
                Some(out)
            }
            Err(e) => {
                // A reply the server refused (e.g. OOM at maxmemory with noeviction) leaves the
                // connection usable and says nothing about Redis being reachable.
                let transport = e.is_io_error()
                    || e.is_timeout()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.is_unrecoverable_error();
                if !transport {
                    self.report(self.breaker.success());
                    let mut pool = self.pool.lock();
                    if pool.len() < MAX_IDLE {
                        pool.push(conn);
                    }
                }
                // After a timeout a late reply may still arrive: the connection is dropped. A
                // transport failure usually means Redis went away (or restarted): the idle
                // connections are as dead, so they go too rather than each failing in turn.
                if transport {
                    self.pool.lock().clear();
                }
                self.failed(what, &e, transport);
                None
            }
        }
    }

    fn failed(&self, what: &str, e: &RedisError, transport: bool) {
        self.counters.errors.incr();
        let message = format!("shared tier (Redis) {what} failed: {e}");
        tracing::debug!(target: "ayon_cache", "{message}");
        self.log.set_last_error(message);
        if transport {
            self.report(self.breaker.failure());
        }
    }

    fn report(&self, t: Transition) {
        match t {
            Transition::None => {}
            Transition::Opened => {
                let message = format!(
                    "shared tier (Redis) skipped for {:?} after {} consecutive failures: {}",
                    self.config.breaker_cooldown,
                    self.config.breaker_failures,
                    self.log.last_error().unwrap_or_default()
                );
                tracing::warn!(target: "ayon_cache", "{message}");
                self.log.push(DiagnosticKind::SharedTierOff, message);
            }
            Transition::Closed => {
                let message = "shared tier (Redis) answers again".to_owned();
                tracing::info!(target: "ayon_cache", "{message}");
                self.log.push(DiagnosticKind::SharedTierOn, message);
            }
        }
    }

    /// Adds the commands storing `entry` (if shareable) to `pipe`.
    fn queue_put(&self, pipe: &mut redis::Pipeline, key: &Key, entry: &Entry) -> bool {
        let Some(ttl) = RedisCache::shared_ttl(entry) else {
            return false;
        };
        let Some(bytes) = codec::encode(entry) else {
            return false;
        };
        let data_key = self.data_key(key);
        match ttl {
            None => {
                pipe.cmd("SET").arg(&data_key).arg(bytes).ignore();
            }
            Some(ttl) => {
                let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                pipe.cmd("SET")
                    .arg(&data_key)
                    .arg(bytes)
                    .arg("PX")
                    .arg(ms)
                    .ignore();
                let index = self.index_key(key.namespace());
                pipe.cmd("SADD").arg(&index).arg(&data_key).ignore();
                pipe.cmd("EXPIRE").arg(&index).arg(INDEX_TTL_SECS).ignore();
            }
        }
        true
    }

    /// After a miss everywhere, with [`RedisConfig::peer_wait`] on: claims `key` for this
    /// process (then `None`: the caller fetches it; also when the claim is already ours) or,
    /// when another process holds the claim, waits for its answer to appear, up to the wait.
    pub(crate) fn await_peer(&self, key: &Key) -> Option<Entry> {
        let wait = self.config.peer_wait;
        if wait.is_zero()
            || self
                .peer_wait_off_until
                .lock()
                .is_some_and(|t| Instant::now() < t)
        {
            return None;
        }
        let data_key = self.data_key(key);
        let claim_key = self.claim_key(key);
        let claim_ms = u64::try_from(wait.as_millis().saturating_mul(2))
            .unwrap_or(u64::MAX)
            .max(1);
        // The previous holder: none (the claim is ours now), us, or another process.
        let holder = self.call("claim", |c| {
            redis::cmd("SET")
                .arg(&claim_key)
                .arg(&self.origin)
                .arg("NX")
                .arg("GET")
                .arg("PX")
                .arg(claim_ms)
                .query::<Option<String>>(c)
        })??;
        if holder == self.origin {
            return None;
        }
        let start = Instant::now();
        while start.elapsed() < wait {
            std::thread::sleep(Duration::from_millis(5));
            let (found, claimed) = self.call("read", |c| {
                redis::pipe()
                    .cmd("GET")
                    .arg(&data_key)
                    .cmd("EXISTS")
                    .arg(&claim_key)
                    .query::<(Option<Vec<u8>>, bool)>(c)
            })?;
            if let Some(e) = found
                .and_then(|b| codec::decode(&b))
                .filter(RedisCache::is_shareable)
            {
                self.counters.hits.incr();
                return Some(e);
            }
            if !claimed {
                // The claimant stored something not shared (a negative answer) or gave up.
                return None;
            }
        }
        *self.peer_wait_off_until.lock() = Some(Instant::now() + wait * 10);
        None
    }

    /// Drops the shared moving entries of `namespace` and tells every subscribed process to drop
    /// its local moving (and negative) entries of it. Call it when this process sees an entity
    /// event for that project. Returns how many shared entries were dropped (`None` when Redis
    /// could not be reached: the other processes then keep their entries until their TTL).
    pub fn publish_invalidation(&self, namespace: &Namespace) -> Option<u64> {
        let index = self.index_key(namespace.as_str());
        let message = format!("{}\n{}", self.origin, namespace.as_str());
        let channel = self.channel();
        self.call("invalidation", |c| {
            let (dropped, _receivers): (u64, u64) = redis::pipe()
                .cmd("EVAL")
                .arg(INVALIDATE_SCRIPT)
                .arg(1)
                .arg(&index)
                .cmd("PUBLISH")
                .arg(&channel)
                .arg(&message)
                .query(c)?;
            Ok(dropped)
        })
    }
}

impl Cache for RedisCache {
    /// Never an error: a failure or an open breaker is a miss.
    fn get(&self, key: &Key) -> Result<Option<Entry>, CacheError> {
        let data_key = self.data_key(key);
        let found = self
            .call("read", |c| {
                redis::cmd("GET").arg(&data_key).query::<Option<Vec<u8>>>(c)
            })
            .flatten()
            .and_then(|b| codec::decode(&b))
            .filter(RedisCache::is_shareable);
        if found.is_some() {
            self.counters.hits.incr();
        } else {
            self.counters.misses.incr();
        }
        Ok(found)
    }

    /// Never an error: a failure (Redis down, slow, full) is a skipped write.
    fn put(&self, key: Key, entry: Entry) -> Result<(), CacheError> {
        self.put_many(vec![(key, entry)])
    }

    /// One round trip for the whole batch. Never an error.
    fn put_many(&self, entries: Vec<(Key, Entry)>) -> Result<(), CacheError> {
        let mut pipe = redis::pipe();
        let mut any = false;
        for (k, e) in &entries {
            any |= self.queue_put(&mut pipe, k, e);
        }
        if any {
            self.call("write", |c| pipe.query::<()>(c));
        }
        Ok(())
    }

    /// Never an error; `false` also when Redis could not be asked.
    fn remove(&self, key: &Key) -> Result<bool, CacheError> {
        let data_key = self.data_key(key);
        Ok(self
            .call("remove", |c| {
                redis::cmd("DEL").arg(&data_key).query::<u64>(c)
            })
            .is_some_and(|n| n > 0))
    }

    /// Walks the keys of `namespace` (or of the whole prefix) with `SCAN`, judges each by its
    /// decoded metadata and deletes the matches. An admin path: it reads every value. Never an
    /// error: stops at the first failed call and returns what was removed so far.
    fn remove_where(
        &self,
        namespace: Option<&Namespace>,
        predicate: &dyn Fn(&Key, &EntryMeta) -> bool,
    ) -> Result<u64, CacheError> {
        let key_prefix = match namespace {
            Some(ns) => format!(
                "{}e:{}\n",
                self.config.prefix,
                RedisCache::namespace_part(ns.as_str())
            ),
            None => format!("{}e:", self.config.prefix),
        };
        let pattern = format!("{}*", glob_escape(&key_prefix));
        let strip = format!("{}e:", self.config.prefix);
        let mut cursor = 0u64;
        let mut removed = 0u64;
        while let Some((next, keys)) = self.call("scan", |c| {
            redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query::<(u64, Vec<String>)>(c)
        }) {
            if !keys.is_empty() {
                let Some(values) = self.call("scan read", |c| {
                    redis::cmd("MGET")
                        .arg(&keys)
                        .query::<Vec<Option<Vec<u8>>>>(c)
                }) else {
                    break;
                };
                let doomed: Vec<&String> = keys
                    .iter()
                    .zip(values)
                    .filter_map(|(k, v)| {
                        let (ns, name) = k.strip_prefix(&strip)?.split_once('\n')?;
                        let entry = codec::decode(&v?)?;
                        predicate(&Key::from_parts(ns, name), entry.meta()).then_some(k)
                    })
                    .collect();
                if !doomed.is_empty() {
                    let Some(n) =
                        self.call("remove", |c| redis::cmd("DEL").arg(&doomed).query::<u64>(c))
                    else {
                        break;
                    };
                    removed += n;
                }
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        Ok(removed)
    }
}

/// Escapes Redis glob characters so a prefix matches literally in `SCAN MATCH`.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_no_credentials_and_config_hides_the_password() {
        assert_eq!(
            RedisCache::namespace_part("https://bob:secret@ayon.local|demo"),
            "https://ayon.local|demo"
        );
        assert_eq!(
            RedisCache::namespace_part("https://ayon.local|demo"),
            "https://ayon.local|demo"
        );
        assert_eq!(RedisCache::namespace_part("tool"), "tool");
        let shown = format!(
            "{:?}",
            RedisConfig::new("rediss://farm:hunter2@redis.studio:6380/0")
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redis.studio:6380"), "{shown}");
    }

    #[test]
    fn only_live_non_negative_entries_are_shared() {
        use crate::Source;
        let moving = |age: u64| {
            Entry::bytes(
                &b"x"[..],
                Freshness::Moving {
                    ttl: Duration::from_secs(60),
                },
                Source::Server,
            )
            .with_stored_at(SystemTime::now() - Duration::from_secs(age))
        };
        assert_eq!(
            RedisCache::shared_ttl(&Entry::bytes(
                &b"x"[..],
                Freshness::Immutable,
                Source::Server
            )),
            Some(None)
        );
        assert!(RedisCache::is_shareable(&moving(10)));
        assert!(!RedisCache::is_shareable(&moving(61)));
        let negative = Entry::bytes(
            &b""[..],
            Freshness::Negative {
                ttl: Duration::from_secs(60),
            },
            Source::Server,
        );
        assert!(!RedisCache::is_shareable(&negative));
        assert!(RedisConfig::new("not a url").open().is_err());
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }
}
