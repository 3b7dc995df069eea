//! Pinning files: frozen `identifier -> path` maps that let render-farm workers resolve every
//! asset of a scene without asking the AYON server.
//!
//! The format is the one AYON's USD add-on writes and AYON's USD resolver reads:
//!
//! ```json
//! {"ayon_resolver_pinning_data": {
//!   "ayon+entity://demo/assets/hero?product=usdMain&version=v012&representation=usd":
//!     "{root[work]}/demo/assets/hero/publish/usdMain/v012/hero.usd",
//!   "ayon_pinning_data_entry_scene": "{root[work]}/demo/shots/sh010/__render__.usd"}}
//! ```
//!
//! Unlike AYON's resolver, this crate replaces each `{root[NAME]}` by its own root (not every
//! token by the first one) with the rule the client uses for the server's answers
//! ([`Roots::substitute`]: `\` on Windows sites, one separator where a root ending in one meets
//! the rest), refuses unknown roots with an error naming them, parses
//! `work:P:/projects` as `P:/projects`, finds entries whatever the spelling of an AYON URI, the
//! slashes of a path or the case of a Windows path, and never aborts the host.
//!
//! Decisions worth knowing:
//! - Roots strings ([`Roots::parse`]): `,` always separates roots, so a root path cannot contain
//!   `,`; the fragment such a path leaves behind is an error naming it (AYON silently truncates).
//! - Loading keeps every key and value once, in one arena string; the index for URI and path
//!   spellings other than the stored one is built on the first lookup that needs it.
//! - Writing replaces a root only as a leading path prefix that ends at a segment boundary, so
//!   roots with `-`, `.` or `\` work (AYON's generator skips them) and `/mnt/proj` never eats
//!   `/mnt/project2`.
//!
//! ```
//! use ayon_pinning::{PinningFile, Roots};
//!
//! # let dir = tempfile::tempdir()?;
//! # let file = dir.path().join("job_pin.json");
//! let roots = Roots::parse("work=/mnt/projects")?;
//! PinningFile::write(
//!     &file,
//!     [("ayon://demo/a?product=p&version=3&representation=usd", "/mnt/projects/demo/a/p_v003.usd")],
//!     Some("/mnt/projects/demo/sh010.usd"),
//!     &roots,
//! )?; // stored as "{root[work]}/demo/a/p_v003.usd"
//!
//! // On the farm, with its own root for `work`:
//! let pins = PinningFile::load(&file, &Roots::parse("work=//nas/projects")?)?;
//! assert_eq!(
//!     pins.lookup("ayon+entity://demo/a?product=p&version=v003&representation=usd"),
//!     Some("//nas/projects/demo/a/p_v003.usd")
//! );
//! assert_eq!(pins.entry_scene(), Some("//nas/projects/demo/sh010.usd"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod env;
mod error;
mod key;
mod read;
mod table;
mod write;

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The site roots `{root[NAME]}` tokens stand for: `ayon-site`'s one type and substitution
/// rule, re-exported because every loading and writing call takes them.
pub use ayon_site::{Roots, RootsError};
pub use env::{LEGACY_ROOTS_ENV, ROOTS_ENV, roots_from_env, roots_from_env_values};
pub use error::PinningError;

/// The top-level key holding the entries, as ayon-usd writes it.
pub const DATA_KEY: &str = "ayon_resolver_pinning_data";

/// The special key inside [`DATA_KEY`] naming the scene the file was made for (not an identifier).
pub const ENTRY_SCENE_KEY: &str = "ayon_pinning_data_entry_scene";

/// Files up to this size are read into one buffer and parsed from it (serde_json parses a
/// slice several times faster than a reader); larger ones are streamed so that memory stays
/// bounded by the entries themselves.
const SLURP_LIMIT: u64 = 64 << 20;

/// A loaded pinning file: immutable, `Send + Sync`, cheap to share behind an `Arc`.
pub struct PinningFile {
    source: PathBuf,
    entries: table::Table,
    entry_scene: Option<String>,
    /// Normalized form -> entry number, for keys whose normalized form differs. Built on the
    /// first lookup that misses the exact key, so loading pays only for the exact index.
    folded: OnceLock<foldhash::HashMap<Box<str>, usize>>,
}

impl PinningFile {
    /// Loads `path`, expanding `{root[NAME]}` tokens with `roots`.
    ///
    /// Each entry is stored once, already expanded. Files up to 64 MiB are read into one
    /// transient buffer and parsed from it; larger ones are streamed through a 64 KiB buffer,
    /// so a huge file never exists in memory as text next to its entries.
    pub fn load(path: impl AsRef<Path>, roots: &Roots) -> Result<PinningFile, PinningError> {
        PinningFile::load_with_limit(path.as_ref(), roots, SLURP_LIMIT)
    }

    fn load_with_limit(
        path: &Path,
        roots: &Roots,
        limit: u64,
    ) -> Result<PinningFile, PinningError> {
        let file = File::open(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => PinningError::NotFound {
                file: path.to_owned(),
            },
            _ => PinningError::Unreadable {
                file: path.to_owned(),
                source,
            },
        })?;
        let size = file.metadata().ok().map(|m| m.len());
        // Read up to the limit whatever the metadata says (files grow; /proc and FIFOs say 0).
        let mut bytes = Vec::with_capacity(size.unwrap_or(0).min(limit) as usize + 1);
        (&file)
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| PinningError::Unreadable {
                file: path.to_owned(),
                source,
            })?;
        let loaded = if bytes.len() as u64 <= limit {
            read::load_slice(&bytes, path, roots)?
        } else {
            // Too big to hold as text next to its entries: stream the rest after what was read.
            let reader = BufReader::with_capacity(1 << 16, std::io::Cursor::new(bytes).chain(file));
            read::load_reader(reader, path, roots, size)?
        };
        Ok(PinningFile::from_loaded(path.to_owned(), loaded))
    }

    /// Loads `path` with roots from the environment ([`roots_from_env`]).
    pub fn load_with_env_roots(path: impl AsRef<Path>) -> Result<PinningFile, PinningError> {
        let roots = roots_from_env()?;
        PinningFile::load(path, &roots)
    }

    /// Loads from any reader (a socket, an archive member, fuzz input); `name` stands for the
    /// file in errors.
    pub fn from_reader(
        reader: impl std::io::Read,
        name: impl Into<PathBuf>,
        roots: &Roots,
    ) -> Result<PinningFile, PinningError> {
        let name = name.into();
        let loaded = read::load_reader(reader, &name, roots, None)?;
        Ok(PinningFile::from_loaded(name, loaded))
    }

    /// Loads from bytes in memory (several times faster than [`PinningFile::from_reader`]);
    /// `name` stands for the file in errors.
    pub fn from_slice(
        bytes: &[u8],
        name: impl Into<PathBuf>,
        roots: &Roots,
    ) -> Result<PinningFile, PinningError> {
        let name = name.into();
        let loaded = read::load_slice(bytes, &name, roots)?;
        Ok(PinningFile::from_loaded(name, loaded))
    }

    fn from_loaded(source: PathBuf, loaded: read::Loaded) -> PinningFile {
        PinningFile {
            source,
            entries: loaded.entries,
            entry_scene: loaded.entry_scene,
            folded: OnceLock::new(),
        }
    }

    /// The pinned path for `identifier`, roots already expanded.
    ///
    /// Tries, in order: the identifier as given; for an AYON URI, its canonical form
    /// (`ayon://p//a?version=4` finds `ayon+entity://p/a?version=v004`; SDF format arguments
    /// are ignored); for a file path, `\` and `/` alike and, for Windows paths, any ASCII case
    /// (so `C:\Proj\a.usd` finds `c:/proj/a.usd`). When two keys of the file share a
    /// normalized form, the exact key wins, then the first in the file.
    pub fn lookup(&self, identifier: &str) -> Option<&str> {
        if let Some(v) = self.entries.get(identifier) {
            return Some(v);
        }
        self.lookup_folded(identifier)
    }

    #[cold]
    fn lookup_folded(&self, identifier: &str) -> Option<&str> {
        let norm: Cow<'_, str> = match key::uri_key(identifier) {
            Some(canonical) => canonical.into(),
            None if ayon_uri::is_ayon_uri(identifier) => return None,
            None => key::path_key(identifier),
        };
        if let Cow::Owned(n) = &norm
            && let Some(v) = self.entries.get(n)
        {
            return Some(v);
        }
        let i = *self.folded().get(norm.as_ref())?;
        Some(self.entries.value(i))
    }

    fn folded(&self) -> &foldhash::HashMap<Box<str>, usize> {
        self.folded.get_or_init(|| {
            let mut folded = foldhash::HashMap::<Box<str>, usize>::default();
            // In file order, so that the first of several keys with one normalized form wins.
            for (i, (k, _)) in self.entries.iter().enumerate() {
                let norm = match key::uri_key(k) {
                    Some(c) => c,
                    None if ayon_uri::is_ayon_uri(k) => continue,
                    None => match key::path_key(k) {
                        Cow::Owned(p) => p,
                        Cow::Borrowed(_) => continue,
                    },
                };
                if norm != k {
                    folded.entry(norm.into_boxed_str()).or_insert(i);
                }
            }
            folded
        })
    }

    /// The scene the file was generated for (`ayon_pinning_data_entry_scene`), roots expanded.
    /// Open exactly this path on the farm; it is not an identifier and never matches a lookup.
    pub fn entry_scene(&self) -> Option<&str> {
        self.entry_scene.as_deref()
    }

    /// The file this was loaded from (or the name given to [`PinningFile::from_reader`]).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Number of pinned identifiers (the entry scene not counted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is pinned.
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// `(identifier, path)` pairs (roots expanded) in file order; a repeated key appears once,
    /// at its first place, with its last value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter()
    }

    /// Writes a pinning file AYON's resolver loads unchanged, atomically (a temporary file in
    /// the same directory, then a rename), so readers see the old file or the new one.
    ///
    /// Keys, values and the entry scene are made rootless: a leading root (the longest that
    /// matches; only at a path-segment boundary; Windows roots compared ignoring ASCII case and
    /// `\` vs `/`) becomes `{root[NAME]}`. Text that already holds `{root[..]}` tokens (server
    /// templates) is kept as is. Repeated keys: the later value wins. Loading the result with
    /// the same roots gives back the same map, except that a Windows root prefix takes the
    /// root's spelling (the same file, and [`lookup`](PinningFile::lookup) still finds it by
    /// the original spelling).
    pub fn write<I, K, V>(
        path: impl AsRef<Path>,
        entries: I,
        entry_scene: Option<&str>,
        roots: &Roots,
    ) -> Result<(), PinningError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        write::write(path.as_ref(), entries, entry_scene, roots)
    }
}

/// Summary only: a farm file has 100,000 entries.
impl std::fmt::Debug for PinningFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinningFile")
            .field("source", &self.source)
            .field("entries", &self.len())
            .field("entry_scene", &self.entry_scene)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn files_over_the_limit_are_streamed_after_the_part_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pin.json");
        let text = r#"{"ayon_resolver_pinning_data": {"{root[w]}/a": "{root[w]}/b",
            "ayon_pinning_data_entry_scene": "s"}}"#;
        std::fs::write(&p, text).unwrap();
        let roots = Roots::parse("w=/mnt").unwrap();
        for limit in [
            0,
            1,
            40,
            41,
            42,
            text.len() as u64 - 1,
            text.len() as u64,
            1 << 20,
        ] {
            let pins = PinningFile::load_with_limit(&p, &roots, limit).unwrap();
            assert_eq!(pins.lookup("/mnt/a"), Some("/mnt/b"), "limit {limit}");
            assert_eq!(pins.entry_scene(), Some("s"));
            assert_eq!(pins.len(), 1);
        }
        std::fs::write(&p, &text[..50]).unwrap();
        let err = PinningFile::load_with_limit(&p, &roots, 10).unwrap_err();
        assert!(matches!(err, PinningError::InvalidJson { .. }), "{err:?}");
    }

    #[test]
    fn debug_is_a_summary() {
        let text = r#"{"ayon_resolver_pinning_data": {"a": "1", "b": "2"}}"#;
        let pins = PinningFile::from_slice(text.as_bytes(), "t.json", &Roots::new()).unwrap();
        let d = format!("{pins:?}");
        assert!(d.contains("entries: 2") && !d.contains("\"a\""), "{d}");
    }

    #[test]
    fn handle_is_send_and_sync() {
        assert_send_sync::<PinningFile>();
        assert_send_sync::<PinningError>();
        assert_send_sync::<Roots>();
    }
}
