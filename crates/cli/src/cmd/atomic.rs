//! `quarry atomic`: the Atomic-style tests for T1213.001 (being written).

use std::process::ExitCode;

/// Atomic-style tests for T1213.001: list, show the exact requests, run against your instance.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("quarry atomic is not built yet")
}
