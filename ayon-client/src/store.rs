//! Server answers as they are kept in an `ayon-cache` [`Cache`]: the key scheme, the stored
//! encoding and its format version, each project's site roots, and invalidation by entity
//! events. The offline client reads and writes through it; so can anything else that fills the
//! cache for later offline use, so every writer agrees on one format.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use ayon_cache::{
    Cache, CacheError, Entry, EntryMeta, Freshness, Key, Namespace, TieredCache, TieredCacheBuilder,
};
use ayon_site::{Platform, Roots, ServerUrl};
use ayon_uri::AyonUri;
use serde::Deserialize;

use crate::config::ClientConfig;
use crate::finish::Rootless;
use crate::resolution::ResolvedEntity;

/// Default freshness of `latest` / `hero` / `latestdone` / `*` answers.
pub const DEFAULT_MOVING_TTL: Duration = Duration::from_secs(60);
/// Default freshness of "no such entity" answers.
pub const DEFAULT_NEGATIVE_TTL: Duration = Duration::from_secs(30);
/// Format version of the JSON stored here (bumped when its shape changes; other versions read
/// as misses).
const VALUE_FORMAT: u32 = 1;
/// Name of the per-project entry holding a site's roots (not a URI, so never a URI's key).
const ROOTS_NAME_PREFIX: &str = "@site-roots:";
/// Event topics (and their sub-topics, `entity.version.created`, ...) that can change moving
/// answers: the monitor subscribes to these and invalidation reacts to these.
pub(crate) const INVALIDATING_TOPICS: [&str; 3] =
    ["entity.version", "entity.representation", "entity.product"];

/// True when an event of `topic` makes moving answers of its project old (hosts that keep
/// answers of their own, like the resolver core, drop them on the same events).
pub fn is_invalidating(topic: &str) -> bool {
    INVALIDATING_TOPICS.iter().any(|t| {
        topic
            .strip_prefix(t)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    })
}

/// A stored answer, as [`AnswerStore::get`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnswer {
    entities: Arc<[ResolvedEntity]>,
    fresh: bool,
}

impl StoredAnswer {
    /// The entities as the server sent them: paths still rootless (`{root[work]}/...`); empty
    /// for a remembered "not found".
    pub fn entities(&self) -> &[ResolvedEntity] {
        &self.entities
    }

    /// True while within its freshness (immutable answers always are).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }
}

/// The answers of one server, for one site, kept in a cache. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct AnswerStore {
    cache: Arc<dyn Cache>,
    server: ServerUrl,
    /// Whose roots: the site id, else `platform-<name>`.
    site: String,
    /// Platform assumed for stored roots that do not name one.
    platform: Platform,
    moving_ttl: Duration,
    negative_ttl: Duration,
    /// Bumped by every invalidation: an answer fetched across one is not stored as fresh.
    epoch: AtomicU64,
}

impl AnswerStore {
    /// The answers of `config`'s server and site in `cache`, with the default freshness.
    pub fn new(cache: Arc<dyn Cache>, config: &ClientConfig) -> AnswerStore {
        AnswerStore {
            cache,
            server: config.server_url().clone(),
            site: match config.site_id() {
                Some(s) => s.to_owned(),
                None => format!("platform-{}", config.platform()),
            },
            platform: config.platform(),
            moving_ttl: DEFAULT_MOVING_TTL,
            negative_ttl: DEFAULT_NEGATIVE_TTL,
            epoch: AtomicU64::new(0),
        }
    }

    /// Freshness of moving answers (`latest`, `hero`, `latestdone`, `*`) and of "not found".
    pub fn with_ttls(mut self, moving: Duration, negative: Duration) -> AnswerStore {
        self.moving_ttl = moving;
        self.negative_ttl = negative;
        self
    }

    /// Whether an entry of this store may go to a shared tier that other sites read: answers
    /// yes (rootless, nothing secret), a site's roots no (they belong to one site).
    pub fn is_shareable(key: &Key, _meta: &EntryMeta) -> bool {
        !key.name().starts_with(ROOTS_NAME_PREFIX)
    }

    /// A tiered cache builder with the sharing rule of this store
    /// ([`is_shareable`](Self::is_shareable)); add the directory and the shared tier
    /// (`.redis(...)` / `.redis_from_env()`).
    pub fn cache_builder() -> TieredCacheBuilder {
        TieredCache::builder().share_filter(Arc::new(AnswerStore::is_shareable))
    }

    /// The cache underneath.
    pub fn cache(&self) -> &Arc<dyn Cache> {
        &self.cache
    }

    /// The namespace of `project` on this server.
    pub fn namespace(&self, project: &str) -> Namespace {
        Namespace::for_server(&self.server, project)
    }

    /// The key of `uri`'s answer: its project's namespace and its canonical form, so every
    /// spelling of one meaning shares an entry.
    pub fn key(&self, uri: &AyonUri) -> Key {
        self.key_of(uri.project(), uri.canonical())
    }

    pub(crate) fn key_of(&self, project: &str, canonical: String) -> Key {
        Key::new(&self.namespace(project), canonical)
    }

    fn roots_key(&self, project: &str) -> Key {
        Key::new(
            &self.namespace(project),
            format!("{ROOTS_NAME_PREFIX}{}", self.site),
        )
    }

    /// How long the answer for `uri` stays fresh: "not found" briefly, one exact version of a
    /// named representation forever, anything that can move for the moving TTL.
    pub fn freshness(&self, uri: &AyonUri, entities: &[ResolvedEntity]) -> Freshness {
        if entities.is_empty() {
            Freshness::Negative {
                ttl: self.negative_ttl,
            }
        } else if uri.is_immutable() {
            Freshness::Immutable
        } else {
            Freshness::Moving {
                ttl: self.moving_ttl,
            }
        }
    }

    /// The stored form of a rootless answer for `uri`.
    pub fn entry(&self, uri: &AyonUri, entities: &[ResolvedEntity]) -> Entry {
        let value = serde_json::json!({ "entities": entities });
        Entry::json(
            value,
            self.freshness(uri, entities),
            ayon_cache::Source::Server,
        )
        .with_format_version(VALUE_FORMAT)
    }

    /// Stores the rootless answer for `uri` (durable on `Ok` with a durable cache).
    pub fn put(&self, uri: &AyonUri, entities: &[ResolvedEntity]) -> Result<(), CacheError> {
        self.cache.put(self.key(uri), self.entry(uri, entities))
    }

    /// The stored answer for `uri`, if any readable one (a read failure counts as a miss).
    pub fn get(&self, uri: &AyonUri) -> Option<StoredAnswer> {
        let entry = self.get_entry(&self.key(uri))?;
        match Self::decode(&entry)? {
            Rootless::Entities(entities) => Some(StoredAnswer {
                entities,
                fresh: entry.is_fresh_at(SystemTime::now()),
            }),
            Rootless::Error(_) => None,
        }
    }

    /// The entry under `key`; a failing cache is logged and counts as a miss.
    pub(crate) fn get_entry(&self, key: &Key) -> Option<Entry> {
        match self.cache.get(key) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(target: "ayon_client", key = %key, error = %e, "cache read failed; treating as a miss");
                None
            }
        }
    }

    /// The answer in a stored entry; `None` for another format version or shape.
    pub(crate) fn decode(entry: &Entry) -> Option<Rootless> {
        if entry.format_version() != VALUE_FORMAT {
            return None;
        }
        match entry.value() {
            ayon_cache::Value::Json(j) => {
                let v: Vec<ResolvedEntity> =
                    serde_json::from_value(j.get("entities")?.clone()).ok()?;
                Some(Rootless::Entities(v.into()))
            }
            ayon_cache::Value::Bytes(_) => None,
        }
    }

    /// The invalidation count, to pass to [`put_fetched`](Self::put_fetched) after a request:
    /// this store's own invalidations plus those other processes sent through the cache's
    /// shared tier.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
            .load(Ordering::Acquire)
            .wrapping_add(self.cache.invalidations())
    }

    /// Stores answers fetched since `epoch` in one transaction; if an invalidation happened
    /// meanwhile, only the immutable ones (the others may already be old).
    pub(crate) fn put_fetched(&self, writes: Vec<(Key, Entry)>, epoch: u64) {
        let unchanged = self.epoch() == epoch;
        let writes: Vec<_> = writes
            .into_iter()
            .filter(|(_, e)| unchanged || e.freshness() == Freshness::Immutable)
            .collect();
        if !writes.is_empty()
            && let Err(e) = self.cache.put_many(writes)
        {
            tracing::warn!(target: "ayon_client", error = %e, "could not store resolve answers");
        }
    }

    /// The stored roots of `project` for this site, with the platform they were given for.
    pub fn roots(&self, project: &str) -> Option<Roots> {
        let entry = self.get_entry(&self.roots_key(project))?;
        let ayon_cache::Value::Json(j) = entry.value() else {
            return None;
        };
        let roots: Roots = serde_json::from_value(j.get("roots")?.clone()).ok()?;
        let platform = j
            .get("platform")
            .and_then(|p| Platform::deserialize(p).ok())
            .unwrap_or(self.platform);
        Some(roots.with_platform(platform))
    }

    /// Stores the roots of `project` for this site (never invalidated by entity events).
    pub fn put_roots(&self, project: &str, roots: &Roots) -> Result<(), CacheError> {
        let value = serde_json::json!({ "roots": roots, "platform": roots.platform() });
        let entry = Entry::json(value, Freshness::Immutable, ayon_cache::Source::Server)
            .with_format_version(VALUE_FORMAT);
        self.cache.put(self.roots_key(project), entry)
    }

    /// Drops moving and "not found" answers of `project`, or of every project of this server
    /// for `None` (what an entity event, or a missed one, means); roots and immutable answers
    /// stay. For one project this is [`Cache::invalidate`]: a cache with a shared tier also
    /// drops the shared moving answers and tells the other processes to drop theirs. Returns
    /// how many local entries went.
    pub fn invalidate(&self, project: Option<&str>) -> Result<u64, CacheError> {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let movable = |k: &Key, meta: &ayon_cache::EntryMeta| {
            meta.freshness != Freshness::Immutable && !k.name().starts_with(ROOTS_NAME_PREFIX)
        };
        match project {
            Some(p) => self.cache.invalidate(&self.namespace(p), &movable),
            None => {
                let prefix = Namespace::server_prefix(&self.server);
                self.cache.remove_where(None, &move |k, m| {
                    k.namespace().starts_with(&prefix) && movable(k, m)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ayon_cache::MemoryCache;
    use ayon_uri::Target;

    use super::*;
    use crate::config::ClientBuilder;

    fn store() -> AnswerStore {
        let config = ClientBuilder::new("https://AYON.example/")
            .site_id("farm-1")
            .build_config()
            .unwrap();
        AnswerStore::new(Arc::new(MemoryCache::default()), &config)
    }

    fn rep(path: &str) -> Vec<ResolvedEntity> {
        vec![ResolvedEntity::new(Target::Representation).with_path(path)]
    }

    #[test]
    fn answers_and_roots_round_trip_and_invalidation_keeps_what_cannot_move() {
        let s = store();
        let exact =
            AyonUri::parse("ayon://demo//a?product=p&version=4&representation=usd").unwrap();
        let latest =
            AyonUri::parse("ayon://demo/a?product=p&version=latest&representation=usd").unwrap();
        s.put(&exact, &rep("{root[work]}/a_v004.usd")).unwrap();
        s.put(&latest, &rep("{root[work]}/a_v009.usd")).unwrap();
        let roots = Roots::from_pairs([("work", "/mnt/w")])
            .unwrap()
            .with_platform(Platform::Darwin);
        s.put_roots("DEMO", &roots).unwrap();
        // Another spelling of the same meaning: one key.
        let again =
            AyonUri::parse("ayon+entity://demo/a?product=p&version=v004&representation=usd")
                .unwrap();
        let got = s.get(&again).expect("stored");
        assert!(got.is_fresh());
        assert_eq!(got.entities(), rep("{root[work]}/a_v004.usd").as_slice());
        assert_eq!(s.roots("demo"), Some(roots.clone()));
        assert_eq!(
            s.invalidate(Some("demo")).unwrap(),
            1,
            "only the moving answer"
        );
        assert!(s.get(&latest).is_none());
        assert!(s.get(&exact).is_some());
        assert_eq!(s.roots("demo"), Some(roots));
    }

    #[test]
    fn site_roots_are_never_shareable_and_answers_are() {
        let s = store();
        let meta =
            *Entry::bytes(&b"x"[..], Freshness::Immutable, ayon_cache::Source::Server).meta();
        assert!(!AnswerStore::is_shareable(&s.roots_key("demo"), &meta));
        let exact =
            AyonUri::parse("ayon://demo//a?product=p&version=4&representation=usd").unwrap();
        assert!(AnswerStore::is_shareable(&s.key(&exact), &meta));
    }

    #[test]
    fn a_moving_answer_fetched_across_another_process_invalidation_is_not_stored() {
        let Some(redis) = ayon_testkit::redis::RedisServer::start_or_skip(&[]) else {
            return;
        };
        let shared = || {
            AnswerStore::cache_builder()
                .memory_only()
                .redis(Some(
                    ayon_cache::RedisConfig::new(redis.url()).prefix("epoch:"),
                ))
                .open()
        };
        let (here, elsewhere) = (Arc::new(shared()), shared());
        let config = ClientBuilder::new("https://AYON.example/")
            .build_config()
            .unwrap();
        let s = AnswerStore::new(here.clone(), &config);
        let wait = std::time::Duration::from_secs(10);
        assert!(ayon_testkit::child::wait_for(wait, || here.is_subscribed()));
        let latest =
            AyonUri::parse("ayon://demo/a?product=p&version=latest&representation=usd").unwrap();
        let exact = AyonUri::parse("ayon://demo/a?product=p&version=4&representation=usd").unwrap();
        // A request starts; meanwhile another process sees an event for the project.
        let epoch = s.epoch();
        elsewhere
            .invalidate(&s.namespace("demo"), &|_, m| m.freshness.is_moving())
            .unwrap();
        assert!(
            ayon_testkit::child::wait_for(wait, || here.invalidations() > 0),
            "the invalidation never arrived: {:?}",
            ayon_cache::CacheAdmin::stats(&*here)
        );
        let writes = vec![
            (
                s.key(&latest),
                s.entry(&latest, &rep("{root[work]}/a_v003.usd")),
            ),
            (
                s.key(&exact),
                s.entry(&exact, &rep("{root[work]}/a_v004.usd")),
            ),
        ];
        s.put_fetched(writes, epoch);
        assert!(s.get(&latest).is_none(), "the moving answer may be old");
        assert!(s.get(&exact).is_some(), "an exact version cannot be");
    }

    #[test]
    fn topics_match_themselves_and_their_sub_topics_only() {
        assert!(is_invalidating("entity.version.created"));
        assert!(is_invalidating("entity.product.status_changed"));
        assert!(is_invalidating("entity.representation"));
        assert!(!is_invalidating("entity.versions"));
        assert!(!is_invalidating("entity.folder.created"));
        assert!(!is_invalidating("server.restart_requested"));
    }
}
