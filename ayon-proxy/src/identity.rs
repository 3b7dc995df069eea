//! Who a request is from: the credential it carries, its salted hash, and the user the server
//! said it belongs to. Answers are stored per user, and offline only a credential the server
//! accepted before is honoured. Secrets live only in the request being served; what is kept is
//! an HMAC-SHA-256 of the secret under a random per-store salt.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ayon_cache::{Cache, Entry, Freshness, Key, Namespace, Source, Value};
use ayon_site::{Credential, Secret, ServerUrl};
use hyper::header::HeaderMap;
use parking_lot::{Mutex, RwLock};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// How long a refusal is remembered before the server is asked about the credential again.
const REFUSAL_MEMORY: Duration = Duration::from_secs(60);

/// The namespace of public answers: to requests with no credential, or with one the server
/// refused while answering anyway (`GET /`, `/api/info`). Offline they are served to anyone.
pub(crate) const ANONYMOUS: &str = "-";

/// The credential a request carries, in the order the server looks (`Authorization: Bearer`,
/// `Authorization: ApiKey`, `x-api-key`, the `accessToken` cookie), and who it acts as
/// (`x-as-user`, which a service key may send).
#[derive(Debug, Clone)]
pub(crate) struct Presented {
    pub(crate) credential: Credential,
    pub(crate) as_user: Option<String>,
}

impl Presented {
    /// The credential of `headers`, if any.
    pub(crate) fn of(headers: &HeaderMap) -> Option<Presented> {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let credential = if let Some((scheme, rest)) =
            header("authorization").and_then(|v| v.split_once(' '))
            && (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("apikey"))
        {
            let secret = Secret::new(rest.trim());
            if scheme.eq_ignore_ascii_case("bearer") {
                Credential::Token(secret)
            } else {
                Credential::ApiKey(secret)
            }
        } else if let Some(key) = header("x-api-key") {
            Credential::api_key(key)
        } else {
            let token = header("cookie")?
                .split(';')
                .find_map(|c| c.trim().strip_prefix("accessToken=").map(str::to_owned))?;
            Credential::token(token)
        };
        Some(Presented {
            credential,
            as_user: header("x-as-user").map(str::to_owned),
        })
    }
}

/// The users the server named for credentials, by salted hash, in memory and in the store.
pub(crate) struct Identities {
    key: hmac::Key,
    namespace: Namespace,
    store: Arc<dyn Cache>,
    known: RwLock<HashMap<String, String>>,
    /// Credentials the server just refused (in memory only), so public reads sent with them
    /// (ayon_api sends an API key as `Bearer` first) do not ask `/api/users/me` each time.
    refused: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities")
            .field("namespace", &self.namespace)
            .field("known", &self.known.read().len())
            .finish_non_exhaustive()
    }
}

impl Identities {
    /// The identities of `server` kept in `store`, under the store's salt (made on first use).
    pub(crate) fn open(store: Arc<dyn Cache>, server: &ServerUrl) -> Identities {
        let salt = salt(store.as_ref());
        Identities {
            key: hmac::Key::new(hmac::HMAC_SHA256, &salt),
            namespace: Namespace::custom(format!("ayon-proxy-auth|{server}")),
            store,
            known: RwLock::new(HashMap::new()),
            refused: Mutex::new(HashMap::new()),
        }
    }

    /// The salted hash of a credential; the kind is part of it (a key sent as a token differs).
    fn hash(&self, c: &Credential) -> String {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(if c.is_token() { b"T" } else { b"K" });
        ctx.update(c.secret().expose().as_bytes());
        hex(ctx.sign().as_ref())
    }

    /// The user the server said `c` belongs to, if it ever accepted it.
    pub(crate) fn user_of(&self, c: &Credential) -> Option<String> {
        let hash = self.hash(c);
        if let Some(u) = self.known.read().get(&hash) {
            return Some(u.clone());
        }
        let entry = self.store.get(&Key::new(&self.namespace, &hash)).ok()??;
        let Value::Bytes(b) = entry.value() else {
            return None;
        };
        let user = String::from_utf8(b.to_vec()).ok()?;
        self.known.write().insert(hash, user.clone());
        Some(user)
    }

    /// Remembers that the server accepted `c` as `user` (only the hash is written).
    pub(crate) fn remember(&self, c: &Credential, user: &str) {
        let hash = self.hash(c);
        let entry = Entry::bytes(user.as_bytes(), Freshness::Immutable, Source::Server);
        if let Err(e) = self.store.put(Key::new(&self.namespace, &hash), entry) {
            tracing::warn!(target: "ayon_proxy", error = %e, "could not store an identity; it is known until the proxy stops");
        }
        self.known.write().insert(hash, user.to_owned());
    }

    /// Forgets `c` (the server refused it): offline it gets 401 from now on.
    pub(crate) fn forget(&self, c: &Credential) {
        let hash = self.hash(c);
        if self.known.write().remove(&hash).is_some() || self.user_of(c).is_some() {
            self.known.write().remove(&hash);
            let _ = self.store.remove(&Key::new(&self.namespace, &hash));
        }
    }

    /// Notes that the server refused `c` just now.
    pub(crate) fn refused(&self, c: &Credential) {
        let mut refused = self.refused.lock();
        refused.retain(|_, at| at.elapsed() < REFUSAL_MEMORY);
        refused.insert(self.hash(c), Instant::now());
    }

    /// True when the server refused `c` less than [`REFUSAL_MEMORY`] ago.
    pub(crate) fn recently_refused(&self, c: &Credential) -> bool {
        self.refused
            .lock()
            .get(&self.hash(c))
            .is_some_and(|at| at.elapsed() < REFUSAL_MEMORY)
    }

    /// How many credentials are known in this process.
    pub(crate) fn len(&self) -> usize {
        self.known.read().len()
    }
}

/// The store's salt: read, or made from the OS's random source and written on first use.
fn salt(store: &dyn Cache) -> Vec<u8> {
    let key = Key::new(&Namespace::custom("ayon-proxy-meta"), "salt");
    let read = |store: &dyn Cache| match store.get(&key) {
        Ok(Some(e)) => match e.value() {
            Value::Bytes(b) if b.len() >= 16 => Some(b.to_vec()),
            _ => None,
        },
        _ => None,
    };
    if let Some(s) = read(store) {
        return s;
    }
    let mut fresh = vec![0u8; 32];
    if SystemRandom::new().fill(&mut fresh).is_err() {
        // No OS randomness: a process-local salt still keeps secrets out of the file.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        fresh = ring::digest::digest(
            &ring::digest::SHA256,
            format!("{now}:{}", std::process::id()).as_bytes(),
        )
        .as_ref()
        .to_vec();
    }
    let entry = Entry::bytes(fresh.clone(), Freshness::Immutable, Source::Server);
    let _ = store.put(key.clone(), entry);
    // Another process may have written its salt at the same moment: use whichever is stored.
    read(store).unwrap_or(fresh)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ayon_cache::MemoryCache;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    #[test]
    fn reads_every_place_a_credential_can_be() {
        let p = Presented::of(&headers(&[("authorization", "Bearer abc")])).expect("some");
        assert!(p.credential.is_token());
        let p =
            Presented::of(&headers(&[("x-api-key", "k1"), ("x-as-user", "bob")])).expect("some");
        assert!(!p.credential.is_token());
        assert_eq!(p.as_user.as_deref(), Some("bob"));
        let p = Presented::of(&headers(&[("cookie", "a=1; accessToken=tt")])).expect("some");
        assert_eq!(p.credential.secret().expose(), "tt");
        assert!(Presented::of(&headers(&[])).is_none());
    }

    #[test]
    fn stores_only_a_salted_hash() {
        let store: Arc<dyn Cache> = Arc::new(MemoryCache::new(1 << 20));
        let server = ServerUrl::parse("http://127.0.0.1:5000").expect("url");
        let ids = Identities::open(store.clone(), &server);
        let secret = "abcdefghijabcdefghijabcdefghij12";
        ids.remember(&Credential::api_key(secret), "alice");
        assert_eq!(
            ids.user_of(&Credential::api_key(secret)).as_deref(),
            Some("alice")
        );
        assert_eq!(ids.user_of(&Credential::token(secret)), None);
        assert_eq!(ids.user_of(&Credential::api_key("other")), None);
        // A second handle on the same store (a restarted proxy) knows it too.
        let again = Identities::open(store.clone(), &server);
        assert_eq!(
            again.user_of(&Credential::api_key(secret)).as_deref(),
            Some("alice")
        );
        let hash = ids.hash(&Credential::api_key(secret));
        assert!(!hash.contains(secret) && hash.len() == 64);
        ids.forget(&Credential::api_key(secret));
        assert_eq!(ids.user_of(&Credential::api_key(secret)), None);
        let third = Identities::open(store, &server);
        assert_eq!(third.user_of(&Credential::api_key(secret)), None);
    }
}
