//! `quarry simulate`: deterministic raw Confluence telemetry for a named scenario.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_ingest::normalize::{Options, normalize};
use quarry_ingest::read::Input;
use quarry_simulate::{Format, Params, Scenario};

/// Generate the telemetry a scenario leaves, in a source's own format (deterministic per seed).
///
/// Scenarios: the four Atomic-style tests (atomic-space-enum, atomic-cql-hunt,
/// atomic-body-storage, atomic-space-export), the seed's false positives (fp-doc-sprint,
/// fp-ci-bot, fp-onboarding, fp-cloud-search) and `baseline`, a benign organization. Each format
/// holds only what that source really records; stderr says what it cannot see.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  quarry simulate atomic-cql-hunt
  quarry simulate atomic-space-export --format dc-audit
  quarry simulate baseline --users 1000 --hours 10 -o day.log && quarry hunt day.log
  quarry simulate --list")]
pub struct Args {
    /// The scenario (see --list).
    #[arg(value_name = "SCENARIO", required_unless_present = "list")]
    scenario: Option<String>,
    /// List the scenarios and formats.
    #[arg(long)]
    list: bool,
    /// access-log, proxy-log, dc-audit, cloud-audit, org-audit, cloudapp-events, or ecs (the
    /// access log normalized).
    #[arg(long, default_value = "access-log", value_name = "FORMAT")]
    format: String,
    /// Seed of the random choices: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// When the scenario starts (RFC 3339; default Monday 2026-11-23 08:00 UTC).
    #[arg(long, value_name = "TIME")]
    start: Option<String>,
    /// How many people (baseline: the organization; default per scenario).
    #[arg(long, value_name = "N")]
    users: Option<usize>,
    /// How many hours (default per scenario).
    #[arg(long, value_name = "N")]
    hours: Option<u32>,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.list {
        println!("Scenarios:");
        for s in Scenario::ALL {
            let (users, hours) = s.defaults();
            println!(
                "  {:<20} {} (default {users} users, {hours} h)",
                s.name(),
                s.description()
            );
        }
        println!("\nFormats:");
        for f in Format::ALL {
            println!("  {:<16} {}", f.name(), f.coverage());
        }
        println!(
            "  {:<16} the access log, normalized to Quarry's ECS events",
            "ecs"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let name = args.scenario.as_deref().expect("clap requires it");
    let scenario = Scenario::from_name(name).with_context(|| {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        format!(
            "unknown scenario `{name}`; expected one of {}",
            names.join(", ")
        )
    })?;
    let mut params = Params {
        seed: args.seed,
        users: args.users.unwrap_or(0),
        hours: args.hours.unwrap_or(0),
        ..Params::default()
    };
    if let Some(start) = &args.start {
        params.start_ms = quarry_event::Timestamp::parse(start)
            .with_context(|| format!("--start `{start}`"))?
            .millis();
    }
    let telemetry = scenario.generate(&params);
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    if args.format == "ecs" {
        let lines = quarry_simulate::render::render(&telemetry, Format::AccessLog);
        let mut spool = tempfile::NamedTempFile::new()?;
        for l in &lines {
            writeln!(spool, "{l}")?;
        }
        spool.flush()?;
        let options = Options {
            format: Some(quarry_ingest::detect::Format::AccessLog),
            ..Options::default()
        };
        normalize(&Input::File(spool.path().to_path_buf()), &options, &mut out)?;
    } else {
        let format = Format::from_name(&args.format).with_context(|| {
            format!(
                "unknown format `{}`; expected access-log, proxy-log, dc-audit, cloud-audit, org-audit, cloudapp-events or ecs",
                args.format
            )
        })?;
        let lines = quarry_simulate::render::render(&telemetry, format);
        for l in &lines {
            writeln!(out, "{l}")?;
        }
        if lines.is_empty() {
            eprintln!(
                "quarry: {} records nothing of `{}`: {}",
                format.name(),
                scenario.name(),
                format.coverage()
            );
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
