//! Fuzzes the pinning-file loader: no input may panic, and the streaming and in-memory
//! loaders must agree. Input: an optional first line of roots (`name=value,...`), then the file.

#![no_main]

use ayon_pinning::{PinningFile, Roots};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (roots, file) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let roots = std::str::from_utf8(roots)
        .ok()
        .and_then(|s| Roots::parse(s).ok())
        .unwrap_or_default();
    let streamed = PinningFile::from_reader(file, "fuzz.json", &roots);
    let sliced = PinningFile::from_slice(file, "fuzz.json", &roots);
    match (&streamed, &sliced) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.len(), b.len());
            assert_eq!(a.entry_scene(), b.entry_scene());
            for (k, v) in a.iter() {
                assert_eq!(b.lookup(k), Some(v));
                // Other spellings must not panic (URI parsing, path folding).
                let _ = a.lookup(&k.replace('/', "\\"));
                let _ = a.lookup(&k.to_uppercase());
            }
        }
        // Same kind of error; serde_json's column can differ by one between its reader and
        // slice parsers (the reader has already consumed a peeked byte), so not compared.
        (Err(a), Err(b)) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "{a} vs {b}"
        ),
        _ => panic!("streaming and in-memory loaders disagree: {streamed:?} vs {sliced:?}"),
    }
});
