//! Writing pinning files AYON's resolver loads unchanged: rootless, atomic.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde::ser::{Serialize, SerializeMap, Serializer};

use ayon_site::Roots;

use crate::error::PinningError;
use crate::{DATA_KEY, ENTRY_SCENE_KEY};

/// [`PinningFile::write`](crate::PinningFile::write), behind the public signature.
pub(crate) fn write(
    path: &Path,
    entries: impl IntoIterator<Item = (impl AsRef<str>, impl AsRef<str>)>,
    entry_scene: Option<&str>,
    roots: &Roots,
) -> Result<(), PinningError> {
    let rootless = roots.rootless();
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (k, v) in entries {
        let (k, v) = (k.as_ref(), v.as_ref());
        if k == ENTRY_SCENE_KEY {
            return Err(PinningError::ReservedKey {
                file: path.to_owned(),
            });
        }
        let key = rootless.make_rootless(k).into_owned();
        let value = rootless.make_rootless(v).into_owned();
        // Identical rootless keys (e.g. one path in two Windows spellings): the later value wins,
        // as it would on reading a JSON object with a repeated key.
        match seen.get(&key) {
            Some(&i) => rows[i].1 = value,
            None => {
                seen.insert(key.clone(), rows.len());
                rows.push((key, value));
            }
        }
    }
    let scene = entry_scene.map(|s| rootless.make_rootless(s).into_owned());
    let doc = Document {
        rows: &rows,
        entry_scene: scene.as_deref(),
    };
    persist_atomically(path, &doc).map_err(|source| PinningError::Write {
        file: path.to_owned(),
        source,
    })
}

fn persist_atomically(path: &Path, doc: &Document<'_>) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let mut builder = tempfile::Builder::new();
    let prefix = format!(".{}.", name.to_string_lossy());
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        // tempfile creates 0600; farm workers running as other users must read the file, so
        // keep the mode of the file we replace, or use the usual 0644.
        use std::os::unix::fs::PermissionsExt;
        let perms = fs::metadata(path)
            .map(|m| m.permissions())
            .unwrap_or_else(|_| fs::Permissions::from_mode(0o644));
        builder.permissions(perms);
    }
    let tmp = builder.tempfile_in(dir)?;
    {
        let mut w = BufWriter::with_capacity(1 << 16, tmp.as_file());
        serde_json::to_writer_pretty(&mut w, doc)?;
        w.write_all(b"\n")?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        // Best effort: make the rename itself durable.
        let _ = d.sync_all();
    }
    Ok(())
}

/// `{"ayon_resolver_pinning_data": {id: path, ..., "ayon_pinning_data_entry_scene": path}}`,
/// the shape ayon-usd writes (the entry scene last, as it adds it after the entries).
struct Document<'a> {
    rows: &'a [(String, String)],
    entry_scene: Option<&'a str>,
}

struct Data<'a>(&'a Document<'a>);

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(DATA_KEY, &Data(self))?;
        m.end()
    }
}

impl Serialize for Data<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let doc = self.0;
        let len = doc.rows.len() + usize::from(doc.entry_scene.is_some());
        let mut m = s.serialize_map(Some(len))?;
        for (k, v) in doc.rows {
            m.serialize_entry(k, v)?;
        }
        if let Some(scene) = doc.entry_scene {
            m.serialize_entry(ENTRY_SCENE_KEY, scene)?;
        }
        m.end()
    }
}
