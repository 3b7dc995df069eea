//! Criterion benchmarks live in `benches/` (run them with `cargo bench -p ayon-benches`); the
//! farm simulation in `examples/`. This library holds what several benches share, so they
//! measure the same data the same way.

pub mod cache_data;
