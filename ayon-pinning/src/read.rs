//! Reader: serde_json (over a slice, or streaming over `io::Read`) drives seeds that expand
//! roots straight into the arena table; no `serde_json::Value` is ever built.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;

use ayon_site::Roots;

use crate::error::PinningError;
use crate::table::Table;
use crate::{DATA_KEY, ENTRY_SCENE_KEY};

/// What a successful load produced.
pub(crate) struct Loaded {
    pub entries: Table,
    pub entry_scene: Option<String>,
}

/// Why a visitor stopped serde_json (it only carries a message; the details wait here).
enum Failure {
    NotAnObject {
        what: &'static str,
        found: &'static str,
    },
    NotAString {
        entry: String,
        found: &'static str,
    },
    UnknownRoot {
        root: String,
        entry: String,
    },
}

struct State<'r> {
    roots: &'r Roots,
    entries: Table,
    entry_scene: Option<String>,
    found_data: bool,
    failure: Option<Failure>,
}

/// Bytes of file per entry assumed when pre-sizing the map (real entries are ~150-300 bytes).
const BYTES_PER_ENTRY_GUESS: u64 = 192;

/// Reads a pinning file from `reader` (streamed through serde_json's byte reader); `file`
/// names it in errors; `size` (if known) pre-sizes the map.
pub(crate) fn load_reader<R: Read>(
    reader: R,
    file: &Path,
    roots: &Roots,
    size: Option<u64>,
) -> Result<Loaded, PinningError> {
    run(
        serde_json::Deserializer::from_reader(reader),
        file,
        roots,
        size,
    )
}

/// Reads a pinning file held in memory (several times faster than [`load_reader`]: serde_json
/// scans slices in bulk but reads `io::Read` byte by byte).
pub(crate) fn load_slice(bytes: &[u8], file: &Path, roots: &Roots) -> Result<Loaded, PinningError> {
    run(
        serde_json::Deserializer::from_slice(bytes),
        file,
        roots,
        Some(bytes.len() as u64),
    )
}

fn run<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    file: &Path,
    roots: &Roots,
    size: Option<u64>,
) -> Result<Loaded, PinningError> {
    let size = size.unwrap_or(0).min(1 << 30);
    let capacity = (size / BYTES_PER_ENTRY_GUESS) as usize;
    let mut state = State {
        roots,
        entries: Table::with_capacity(capacity, size as usize),
        entry_scene: None,
        found_data: false,
        failure: None,
    };
    let result = ObjectSeed {
        st: &mut state,
        level: Level::Top,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match result {
        Ok(()) if state.found_data => {
            let mut entries = state.entries;
            entries.shrink();
            Ok(Loaded {
                entries,
                entry_scene: state.entry_scene,
            })
        }
        Ok(()) => Err(PinningError::MissingData {
            file: file.to_owned(),
        }),
        Err(e) => Err(classify(e, state.failure, file)),
    }
}

fn classify(e: serde_json::Error, failure: Option<Failure>, file: &Path) -> PinningError {
    let file = file.to_owned();
    let (line, column) = (e.line(), e.column());
    match failure {
        Some(Failure::NotAnObject { what, found }) => PinningError::NotAnObject {
            file,
            what,
            found,
            line,
            column,
        },
        Some(Failure::NotAString { entry, found }) => PinningError::NotAString {
            file,
            entry,
            found,
            line,
            column,
        },
        Some(Failure::UnknownRoot { root, entry }) => PinningError::UnknownRoot {
            file,
            root,
            entry,
            line,
        },
        None if e.classify() == Category::Io => PinningError::Unreadable {
            file,
            source: e.into(),
        },
        None => {
            let full = e.to_string();
            let suffix = format!(" at line {line} column {column}");
            let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
            PinningError::InvalidJson {
                file,
                line,
                column,
                message,
            }
        }
    }
}

/// Generates the `visit_*` methods for JSON types a visitor refuses: each records
/// `$fail(found)` and stops the parse.
macro_rules! refuse {
    ($fail:ident; $($method:ident($($arg:ty)?) => $found:literal),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self $(, _: $arg)?) -> Result<Self::Value, E> {
                Err(self.$fail($found))
            }
        )*
    };
}

macro_rules! refuse_containers {
    ($fail:ident) => {
        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(self.$fail("an array"))
        }
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(self.$fail("an object"))
        }
    };
}

/// The two objects a pinning file nests: the top level, and the data object in it. Anything
/// other than an object at either place is recorded as `Failure::NotAnObject` and stops the
/// parse.
#[derive(Clone, Copy)]
enum Level {
    Top,
    Data,
}

struct ObjectSeed<'s, 'r> {
    st: &'s mut State<'r>,
    level: Level,
}

impl ObjectSeed<'_, '_> {
    fn not_object<E: de::Error>(self, found: &'static str) -> E {
        let what = match self.level {
            Level::Top => "the top level",
            Level::Data => DATA_KEY,
        };
        self.st.failure = Some(Failure::NotAnObject { what, found });
        match self.level {
            Level::Top => E::custom(format_args!("the top level is {found}, not an object")),
            Level::Data => E::custom(format_args!("`{DATA_KEY}` is {found}, not an object")),
        }
    }
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.level {
            Level::Top => "a JSON object",
            Level::Data => "an object of identifier -> path",
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        match self.level {
            Level::Top => top_entries(self.st, map),
            Level::Data => data_entries(self.st, map),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.not_object("an array"))
    }

    refuse!(not_object;
        visit_bool(bool) => "a boolean",
        visit_i64(i64) => "a number",
        visit_u64(u64) => "a number",
        visit_f64(f64) => "a number",
        visit_str(&str) => "a string",
        visit_unit() => "null",
    );
}

/// The top level: only the data object is read; every other key is skipped unparsed.
fn top_entries<'de, A: MapAccess<'de>>(st: &mut State<'_>, mut map: A) -> Result<(), A::Error> {
    while let Some(key) = map.next_key::<String>()? {
        if key == DATA_KEY {
            map.next_value_seed(ObjectSeed {
                st: &mut *st,
                level: Level::Data,
            })?;
            st.found_data = true;
        } else {
            map.next_value::<IgnoredAny>()?;
        }
    }
    Ok(())
}

/// The data object: identifiers expanded into the arena as they stream past.
fn data_entries<'de, A: MapAccess<'de>>(st: &mut State<'_>, mut map: A) -> Result<(), A::Error> {
    let roots = st.roots;
    loop {
        let key_start = st.entries.mark();
        let key = map.next_key_seed(KeySeed {
            roots,
            out: st.entries.text_mut(),
            failure: &mut st.failure,
        })?;
        match key {
            None => break,
            Some(Key::EntryScene) => {
                let mut scene = String::new();
                map.next_value_seed(ValueSeed {
                    roots,
                    out: &mut scene,
                    failure: &mut st.failure,
                    entry: Name::Raw(ENTRY_SCENE_KEY),
                })?;
                st.entry_scene = Some(scene);
            }
            Some(Key::Entry { raw }) => {
                let key_end = st.entries.mark();
                let entry = match &raw {
                    Some(raw) => Name::Raw(raw),
                    None => Name::Arena(key_start, key_end),
                };
                map.next_value_seed(ValueSeed {
                    roots,
                    out: st.entries.text_mut(),
                    failure: &mut st.failure,
                    entry,
                })?;
                st.entries.commit(key_start, key_end);
            }
        }
    }
    Ok(())
}

/// A key of the data object: the entry-scene key, or an identifier whose expansion was
/// appended to the arena (`raw`, the key as written, kept only when expansion changed it).
enum Key<'de> {
    EntryScene,
    Entry { raw: Option<Cow<'de, str>> },
}

struct KeySeed<'s> {
    roots: &'s Roots,
    out: &'s mut String,
    failure: &'s mut Option<Failure>,
}

impl KeySeed<'_> {
    /// Expands `s` into the arena; `Ok(true)` when a token was replaced.
    fn expand<E: de::Error>(self, s: &str) -> Result<bool, E> {
        self.roots
            .substitute_into(s, self.out)
            .map_err(|e| unknown_root(self.failure, &e.name, s))
    }
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an identifier string")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
        if s == ENTRY_SCENE_KEY {
            return Ok(Key::EntryScene);
        }
        let changed = self.expand(s)?;
        Ok(Key::Entry {
            raw: changed.then_some(Cow::Borrowed(s)),
        })
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
        if s == ENTRY_SCENE_KEY {
            return Ok(Key::EntryScene);
        }
        let changed = self.expand(s)?;
        Ok(Key::Entry {
            raw: changed.then(|| Cow::Owned(s.to_owned())),
        })
    }
}

fn unknown_root<E: de::Error>(failure: &mut Option<Failure>, root: &str, entry: &str) -> E {
    *failure = Some(Failure::UnknownRoot {
        root: root.to_owned(),
        entry: entry.to_owned(),
    });
    E::custom(format_args!("unknown root `{root}` in `{entry}`"))
}

/// How to name the entry a value belongs to in an error: its key as written, or (when that
/// equals its expansion) the key's place in the arena.
enum Name<'a> {
    Raw(&'a str),
    Arena(usize, usize),
}

struct ValueSeed<'s> {
    roots: &'s Roots,
    out: &'s mut String,
    failure: &'s mut Option<Failure>,
    entry: Name<'s>,
}

impl ValueSeed<'_> {
    fn entry_name(&self) -> String {
        match self.entry {
            Name::Raw(s) => s.to_owned(),
            Name::Arena(a, b) => self.out.get(a..b).unwrap_or_default().to_owned(),
        }
    }

    fn not_string<E: de::Error>(self, found: &'static str) -> E {
        let entry = self.entry_name();
        let err = E::custom(format_args!("`{entry}` is {found}, not a string"));
        *self.failure = Some(Failure::NotAString { entry, found });
        err
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a path string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        match self.roots.substitute_into(s, &mut *self.out) {
            Ok(_) => Ok(()),
            Err(e) => {
                let entry = self.entry_name();
                Err(unknown_root(self.failure, &e.name, &entry))
            }
        }
    }

    refuse!(not_string;
        visit_bool(bool) => "a boolean",
        visit_i64(i64) => "a number",
        visit_u64(u64) => "a number",
        visit_f64(f64) => "a number",
        visit_unit() => "null",
    );
    refuse_containers!(not_string);
}
