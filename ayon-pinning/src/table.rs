//! The entries of a loaded file: every key and value in one arena string, indexed by a hash
//! table of entry numbers. Loading 100,000 entries makes a handful of allocations instead of
//! 200,000, and dropping the file is instant.

use std::hash::BuildHasher;

use hashbrown::HashTable;

#[derive(Debug, Clone, Copy)]
struct Entry {
    key_start: usize,
    key_end: usize,
    value_end: usize,
}

/// Identifier -> path, in file order, duplicates resolved (the later value wins).
#[derive(Debug)]
pub(crate) struct Table {
    text: String,
    entries: Vec<Entry>,
    index: HashTable<usize>,
    /// foldhash, seeded per process: a 100-byte key hashes in a few nanoseconds.
    state: foldhash::fast::RandomState,
}

impl Table {
    /// A table expecting about `entries` entries holding about `text` bytes.
    pub(crate) fn with_capacity(entries: usize, text: usize) -> Table {
        Table {
            text: String::with_capacity(text),
            entries: Vec::with_capacity(entries),
            index: HashTable::with_capacity(entries),
            state: foldhash::fast::RandomState::default(),
        }
    }

    /// The arena. Writers append a key, then its value, then call [`Table::commit`].
    pub(crate) fn text_mut(&mut self) -> &mut String {
        &mut self.text
    }

    /// Current end of the arena (where the next key starts).
    pub(crate) fn mark(&self) -> usize {
        self.text.len()
    }

    /// Records the key at `key_start..key_end` and the value from `key_end` to the arena's end.
    /// A repeated key keeps its first position and takes the new value.
    pub(crate) fn commit(&mut self, key_start: usize, key_end: usize) {
        let entry = Entry {
            key_start,
            key_end,
            value_end: self.text.len(),
        };
        let Table {
            text,
            entries,
            index,
            state,
        } = self;
        let key = &text[key_start..key_end];
        let hash = state.hash_one(key);
        let existing = index
            .find(hash, |&i| key_of(text, &entries[i]) == key)
            .copied();
        match existing {
            Some(i) => entries[i] = entry,
            None => {
                entries.push(entry);
                index.insert_unique(hash, entries.len() - 1, |&i| {
                    state.hash_one(key_of(text, &entries[i]))
                });
            }
        }
    }

    /// The entry number of `key`, if present.
    pub(crate) fn position(&self, key: &str) -> Option<usize> {
        let hash = self.state.hash_one(key);
        self.index
            .find(hash, |&i| key_of(&self.text, &self.entries[i]) == key)
            .copied()
    }

    /// The value of `key`, if present.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.position(key).map(|i| self.value(i))
    }

    /// Key of entry `i`.
    pub(crate) fn key(&self, i: usize) -> &str {
        self.entries.get(i).map_or("", |e| key_of(&self.text, e))
    }

    /// Value of entry `i`.
    pub(crate) fn value(&self, i: usize) -> &str {
        self.entries
            .get(i)
            .and_then(|e| self.text.get(e.key_end..e.value_end))
            .unwrap_or_default()
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// `(key, value)` in file order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        (0..self.entries.len()).map(|i| (self.key(i), self.value(i)))
    }

    /// Gives back spare capacity once loading is done.
    pub(crate) fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.entries.shrink_to_fit();
    }
}

fn key_of<'t>(text: &'t str, e: &Entry) -> &'t str {
    text.get(e.key_start..e.key_end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(t: &mut Table, k: &str, v: &str) {
        let start = t.mark();
        t.text_mut().push_str(k);
        let end = t.mark();
        t.text_mut().push_str(v);
        t.commit(start, end);
    }

    #[test]
    fn stores_in_order_and_later_value_wins() {
        let mut t = Table::with_capacity(0, 0);
        put(&mut t, "a", "1");
        put(&mut t, "b", "2");
        put(&mut t, "a", "3");
        put(&mut t, "", "empty key");
        assert_eq!(t.len(), 3);
        assert_eq!(t.get("a"), Some("3"));
        assert_eq!(t.get(""), Some("empty key"));
        assert_eq!(t.get("c"), None);
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            [("a", "3"), ("b", "2"), ("", "empty key")]
        );
        for i in 0..1000 {
            put(&mut t, &format!("k{i}"), &format!("v{i}"));
        }
        t.shrink();
        assert_eq!(t.get("k999"), Some("v999"));
        assert_eq!(t.get("a"), Some("3"));
    }
}
