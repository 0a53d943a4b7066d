//! `cargo xtask bench` (see issue: benchmark against tcpdump).
use std::path::Path;

use anyhow::{bail, Result};

#[derive(clap::Args)]
pub struct BenchArgs {}

pub fn run(_root: &Path, _args: BenchArgs) -> Result<()> {
    bail!("the benchmark is not written yet")
}
