//! Criterion benchmarks live in `benches/`; this library is empty and exists only so the
//! package has a target of its own. Run them with `cargo bench -p ayon-benches`.
