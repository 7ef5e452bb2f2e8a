//! Face-engine benchmarks (filled in by the face engine work).
fn main() {}
