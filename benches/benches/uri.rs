//! URI parsing benchmarks (being written).
fn main() {}
