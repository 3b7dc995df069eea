//! Fuzz target: any input either parses to a URI whose canonical form re-parses equal,
//! or gives an error whose offset lies inside the input. Never a panic.
#![no_main]

use ayon_uri::{AyonUri, is_ayon_uri};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = is_ayon_uri(s);
    match AyonUri::parse(s) {
        Ok(uri) => {
            let canonical = uri.canonical();
            let again = AyonUri::parse(&canonical).expect("canonical form re-parses");
            assert_eq!(again, uri, "canonical {canonical:?} of {s:?}");
            assert_eq!(again.canonical(), canonical, "canonical is a fixed point");
            let shown = AyonUri::parse(&uri.to_string()).expect("Display re-parses");
            assert_eq!(shown.sdf_format_args(), uri.sdf_format_args());
            let _ = (
                uri.target(),
                uri.is_immutable(),
                uri.folder_segments().count(),
            );
        }
        Err(e) => {
            assert!(e.offset() <= s.len());
            assert!(!e.server_message().is_empty());
        }
    }
});
