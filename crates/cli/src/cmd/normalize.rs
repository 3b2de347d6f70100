//! `quarry normalize`: Confluence telemetry in, Quarry's ECS NDJSON out.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_ingest::classify::Classifier;
use quarry_ingest::detect::Format;
use quarry_ingest::normalize::{NormalizeError, Options, normalize};
use quarry_ingest::read::expand;

/// Normalize Confluence telemetry to ECS NDJSON (`event.dataset: atlassian.confluence`).
///
/// Each input's format is detected from its first line (override with --format); gzip and zstd
/// are detected by their magic bytes. Output is time-ordered per input. A summary per input goes
/// to stderr: format, records read, events written, records skipped by reason, and the first
/// malformed records as FILE:LINE: reason. Static resources and polling are counted as `noise`
/// and not written.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  quarry normalize /opt/atlassian/confluence/logs/ -o events.ndjson
  quarry normalize 'logs/conf_access_log.2024-05-*.log.gz' > events.ndjson
  quarry normalize --format access-log --context-path /confluence access.log

Formats: ecs-ndjson, access-log, proxy-log, dc-audit, cloud-audit, org-audit,
elastic-integration, cloudapp-events (JSON or CSV).")]
pub struct Args {
    /// Files, directories (read recursively), glob patterns, or `-` for standard input.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The format of every input, instead of detecting it.
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    format: Option<Format>,
    #[command(flatten)]
    ingest: IngestArgs,
    /// Stop at the first malformed record (exit status 2).
    #[arg(long)]
    strict: bool,
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// How to read Confluence telemetry (shared by `normalize` and `hunt`).
#[derive(clap::Args)]
pub struct IngestArgs {
    /// The deployment's context path (`/confluence`), removed from URLs before classifying.
    #[arg(long, value_name = "PATH")]
    context_path: Option<String>,
    /// Lines longer than this many bytes are malformed records (never loaded whole).
    #[arg(long, default_value_t = quarry_ingest::read::DEFAULT_MAX_LINE, value_name = "BYTES")]
    max_line_bytes: usize,
    /// The Tomcat `AccessLogValve` pattern of access logs not written with Confluence's default
    /// (`%t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i`); also `common` or
    /// `combined`. Such logs are read as `access-log` (name it with --format if detection fails).
    #[arg(long, value_name = "PATTERN")]
    access_log_pattern: Option<String>,
    /// A proxy (address or CIDR block, repeatable) whose `X-Forwarded-For` names the client;
    /// from any other peer the header is recorded but not believed.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxies: Vec<String>,
}

impl IngestArgs {
    /// Normalization options for these arguments, reading every input as `format` if given.
    pub fn options(&self, format: Option<Format>, strict: bool) -> anyhow::Result<Options> {
        let mut trusted_proxies = quarry_ingest::proxies::TrustedProxies::new();
        for cidr in &self.trusted_proxies {
            trusted_proxies.add(cidr)?;
        }
        let access_pattern = match &self.access_log_pattern {
            Some(p) => Some(
                quarry_ingest::access_pattern::AccessPattern::parse(p)
                    .with_context(|| format!("--access-log-pattern `{p}`"))?,
            ),
            None => None,
        };
        Ok(Options {
            access_pattern,
            trusted_proxies,
            format,
            max_line: self.max_line_bytes,
            classifier: Classifier::new(self.context_path.as_deref()),
            strict,
            ..Options::default()
        })
    }
}

pub fn parse_format(name: &str) -> Result<Format, String> {
    Format::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!(
            "unknown format `{name}`; expected one of {}",
            names.join(", ")
        )
    })
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let inputs = expand(&args.paths)?;
    let options = args.ingest.options(args.format, args.strict)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut failed = 0;
    let mut totals = (0u64, 0u64, 0u64);
    for input in &inputs {
        match normalize(input, &options, &mut out) {
            Ok(report) => {
                if report.read_error.is_some() {
                    failed += 1;
                }
                totals.0 += report.records;
                totals.1 += report.emitted;
                totals.2 += report.malformed;
                eprintln!("{report}");
            }
            Err(NormalizeError::Malformed(quoted)) => {
                out.flush()?;
                eprintln!("error: {quoted}");
                eprintln!("quarry: stopped at the first malformed record (--strict)");
                return Ok(ExitCode::from(2));
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    out.flush()?;
    eprintln!(
        "quarry: {} inputs, {} records read, {} events written, {} malformed{}",
        inputs.len(),
        totals.0,
        totals.1,
        totals.2,
        if failed > 0 {
            format!(", {failed} inputs unreadable or cut short")
        } else {
            String::new()
        }
    );
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
