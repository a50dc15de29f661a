//! The `onsager` command line.
fn main() {}
