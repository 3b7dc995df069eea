//! Single flight: concurrent lookups of one key share one leader's answer instead of each
//! asking the server (the shape of quick_cache's placeholder guard).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::watch;

/// The lookups in flight, by key. The first caller for a key leads (and must answer or drop its
/// [`Lead`]); later callers follow and receive a clone of the leader's answer.
pub(crate) struct Flights<K, V> {
    map: Mutex<HashMap<K, Arc<watch::Sender<Option<V>>>>>,
}

/// What [`Flights::join`] made of a caller.
pub(crate) enum Joined<'a, K: Eq + Hash, V, R> {
    /// No lookup was under way: this caller leads it.
    Lead(Lead<'a, K, V>),
    /// Another caller leads: wait for its answer.
    Follow(Follow<V>),
    /// No lookup was under way and `vacant` answered without one.
    Ready(R),
}

/// The leader's obligation for one key: [`send`](Lead::send) the answer; dropping the lead
/// (answered or not, e.g. cancelled) takes the key out of flight.
pub(crate) struct Lead<'a, K: Eq + Hash, V> {
    flights: &'a Flights<K, V>,
    key: K,
    tx: Arc<watch::Sender<Option<V>>>,
}

/// A follower's ticket: the leader's answer, or `None` if the leader went away without one.
pub(crate) struct Follow<V>(watch::Receiver<Option<V>>);

impl<K: Eq + Hash + Clone, V: Clone> Flights<K, V> {
    /// No lookup in flight.
    pub(crate) fn new() -> Self {
        Flights {
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Joins the lookup of `key`. When none is under way, `vacant` runs first, under the lock:
    /// it can answer from what a leader that just finished left behind (so a key is not asked
    /// twice); when it returns `None` this caller leads.
    pub(crate) fn join<R>(
        &self,
        key: &K,
        vacant: impl FnOnce() -> Option<R>,
    ) -> Joined<'_, K, V, R> {
        let mut map = self.map.lock();
        if let Some(tx) = map.get(key) {
            return Joined::Follow(Follow(tx.subscribe()));
        }
        if let Some(r) = vacant() {
            return Joined::Ready(r);
        }
        let tx = Arc::new(watch::Sender::new(None));
        map.insert(key.clone(), tx.clone());
        Joined::Lead(Lead {
            flights: self,
            key: key.clone(),
            tx,
        })
    }

    /// Keys in flight (for tests and diagnostics).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().len()
    }
}

impl<K: Eq + Hash, V> Lead<'_, K, V> {
    /// Hands `value` to every follower, present and joining until this lead is dropped.
    pub(crate) fn send(&self, value: V) {
        self.tx.send_replace(Some(value));
    }

    /// The key this lead answers for.
    pub(crate) fn key(&self) -> &K {
        &self.key
    }
}

impl<K: Eq + Hash, V> Drop for Lead<'_, K, V> {
    fn drop(&mut self) {
        let mut map = self.flights.map.lock();
        if map
            .get(&self.key)
            .is_some_and(|tx| Arc::ptr_eq(tx, &self.tx))
        {
            map.remove(&self.key);
        }
    }
}

impl<V: Clone> Follow<V> {
    /// The leader's answer; `None` when the leader was dropped without one.
    pub(crate) async fn wait(mut self) -> Option<V> {
        match self.0.wait_for(Option::is_some).await {
            Ok(v) => v.clone(),
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn followers_share_the_leaders_answer_and_the_key_leaves_with_the_lead() {
        let f: Flights<&str, u32> = Flights::new();
        let Joined::Lead(lead) = f.join(&"k", || None::<()>) else {
            panic!("first caller leads")
        };
        let Joined::Follow(follow) = f.join(&"k", || Some(())) else {
            panic!("second caller follows, vacant not consulted")
        };
        lead.send(7);
        // A caller joining after the answer but before the lead is dropped still gets it.
        let Joined::Follow(late) = f.join(&"k", || None::<()>) else {
            panic!("still in flight")
        };
        drop(lead);
        assert_eq!(f.len(), 0);
        assert_eq!(follow.wait().await, Some(7));
        assert_eq!(late.wait().await, Some(7));
        assert!(matches!(f.join(&"k", || Some(1)), Joined::Ready(1)));
    }

    #[tokio::test]
    async fn a_dropped_lead_releases_its_followers() {
        let f: Flights<u8, u32> = Flights::new();
        let Joined::Lead(lead) = f.join(&1, || None::<()>) else {
            panic!()
        };
        let Joined::Follow(follow) = f.join(&1, || None::<()>) else {
            panic!()
        };
        drop(lead);
        assert_eq!(follow.wait().await, None);
        assert!(matches!(f.join(&1, || None::<()>), Joined::Lead(_)));
    }
}
