//! `quarry`: run Elastic-compatible EQL detections for Confluence data mining (MITRE ATT&CK
//! T1213.001) over Confluence telemetry.
//!
//! This binary is the edge of the system: it parses arguments, reads files, prints, and turns
//! outcomes into exit codes. Each subcommand lives in its own module under `cmd/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hunts keep hours of events in rule windows and free them as windows slide: glibc's
/// malloc spent a quarter of a hunt's time consolidating and unlinking chunks; mimalloc's
/// size-class pages make both cheap (see the README's Performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cmd;
mod matrix;
mod pack;
mod query_sort;
mod rule_tests;

#[derive(Parser)]
#[command(
    name = "quarry",
    version,
    about = "Detect Confluence data mining (MITRE ATT&CK T1213.001) with Elasticsearch-compatible EQL",
    long_about = None,
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Hunt(cmd::hunt::Args),
    Rules(cmd::rules::Args),
    Simulate(cmd::simulate::Args),
    Atomic(cmd::atomic::Args),
    Check(cmd::check::Args),
    Query(cmd::query::Args),
    Normalize(cmd::normalize::Args),
    Bench(cmd::bench::Args),
    Export(cmd::export::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Hunt(args) => cmd::hunt::run(args),
        Command::Rules(args) => cmd::rules::run(args),
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Atomic(args) => cmd::atomic::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Query(args) => cmd::query::run(args),
        Command::Normalize(args) => cmd::normalize::run(args),
        Command::Bench(args) => cmd::bench::run(args),
        Command::Export(args) => cmd::export::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}
