//! `quarry hunt`: raw Confluence logs in, alerts a person can read out.
//!
//! The arguments become a [`quarry_pipeline::Config`]; the pipeline does the work; this
//! module picks the sink for `--format`, draws progress bars and prints the summary.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use quarry_event::Timestamp;
use quarry_ingest::read::expand;
use quarry_pipeline::{
    AlertSink, Config, CsvSink, NdjsonSink, PipelineError, Progress, Stage, Summary, TableSink,
};
use quarry_rules::tuning::Tuning;
use quarry_rules::{HuntOptions, Severity, ThresholdMode};

use super::normalize::{IngestArgs, parse_format};

/// Hunt Confluence logs for data mining (T1213.001) with the built-in detection pack.
///
/// Inputs in any supported format (access logs, audit logs, ECS NDJSON, ...; detected per file,
/// gzip and zstd included) are normalized, merged by time and run through every rule.
/// Overlapping matches of one rule and one user fold into one alert (--no-suppress shows each
/// raw match). Tuning is read from ./quarry.toml when present, or from --config.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  quarry hunt examples/
  quarry hunt /var/atlassian/application-data/confluence/logs/ --from 2026-11-01
  quarry hunt --format ndjson -o alerts.ndjson 'logs/*.gz'
  quarry hunt --rules my-rules/ --config tuning.toml --min-severity medium access.log

Exit status: 0 when the hunt ran (with or without alerts); 1 when it could not run (no
readable input, a bad tuning file, no room for the normalized copy in TMPDIR) or when an
input could not be read in full (the rest is still hunted and reported); 2 when a rule file
is invalid or the arguments are wrong.")]
pub struct Args {
    /// Files, directories (read recursively), glob patterns, or `-` for standard input.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// A directory of rule files instead of the built-in Confluence pack.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// The tuning file (default: ./quarry.toml when it exists).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Ignore ./quarry.toml.
    #[arg(long)]
    no_config: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    format: OutputFormat,
    /// Write alerts to FILE (`-`: standard output).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Show only alerts of this severity or higher.
    #[arg(long, value_enum, default_value_t = MinSeverity::Low)]
    min_severity: MinSeverity,
    /// Only events at or after this time (RFC 3339, or a date: 2026-11-01).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    from: Option<Timestamp>,
    /// Only events before this time (RFC 3339, or a date).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    to: Option<Timestamp>,
    /// Print every raw EQL match as its own alert instead of folding overlapping matches.
    #[arg(long)]
    no_suppress: bool,
    /// How threshold rules count: `kibana` (executions every interval over the lookback, as
    /// Elastic Security runs them) or `sliding` (every window of the lookback's length).
    #[arg(long, value_enum, default_value_t = Mode::Kibana)]
    threshold_mode: Mode,
    /// At most N join keys (user and address pairs, say) hold state per rule: pending
    /// sequences and threshold counts. Past it the least recently seen are evicted, and the
    /// summary says how many; memory stays bounded when a flood of distinct keys arrives.
    #[arg(long, default_value_t = HuntOptions::default().max_join_keys, value_name = "N")]
    max_join_keys: usize,
    /// Evidence events kept per alert (the rest are counted).
    #[arg(long, default_value_t = 10, value_name = "N")]
    max_evidence: usize,
    /// No summary (alerts only).
    #[arg(short, long)]
    quiet: bool,
    /// Worker threads (default: one per core). Inputs are normalized in parallel, and the
    /// hunt is split by user.name when every rule keeps to one user's events (the built-in
    /// pack does); the alerts are the same whatever the number.
    #[arg(short = 'j', long, value_name = "N")]
    threads: Option<usize>,
    /// Smallest part a large plain file is cut into for normalizing on several threads.
    #[arg(long, value_name = "BYTES", default_value_t = 32 << 20, hide = true)]
    min_part_bytes: u64,
    /// Read every input as this format instead of detecting it.
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    input_format: Option<quarry_ingest::detect::Format>,
    #[command(flatten)]
    ingest: IngestArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Table,
    Ndjson,
    Csv,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MinSeverity {
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    Kibana,
    Sliding,
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    Timestamp::parse(&full).map_err(|e| e.to_string())
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    hunt(args).map(|(code, _)| code)
}

/// Runs the hunt `args` describe; the summary comes back too (for `quarry bench`).
pub fn hunt(args: Args) -> anyhow::Result<(ExitCode, Option<Summary>)> {
    let style = super::stderr_style();
    let rules = match crate::pack::load(args.rules.as_deref(), style) {
        Ok(r) => r,
        Err(rendered) => {
            eprint!("{rendered}");
            return Ok((ExitCode::from(2), None));
        }
    };
    let tuning = load_tuning(&args)?;
    let inputs = expand(&args.paths)?;
    if inputs.is_empty() {
        let names: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "no files to hunt in {} (hidden files and documentation, *.md, README* and LICENSE*, are passed over)",
            names.join(", ")
        );
    }
    let mut config = Config::new(rules, inputs);
    config.tuning = tuning;
    config.hunt = HuntOptions {
        threshold_mode: match args.threshold_mode {
            Mode::Kibana => ThresholdMode::Kibana,
            Mode::Sliding => ThresholdMode::Sliding,
        },
        suppress: !args.no_suppress,
        max_evidence: args.max_evidence,
        max_join_keys: args.max_join_keys.max(1),
        from: args.from,
        to: args.to,
    };
    config.ingest = args.ingest.options(args.input_format, false)?;
    config.threads = args.threads.unwrap_or_else(default_threads).max(1);
    config.min_part_bytes = args.min_part_bytes;
    config.min_severity = match args.min_severity {
        MinSeverity::Low => Severity::Low,
        MinSeverity::Medium => Severity::Medium,
        MinSeverity::High => Severity::High,
        MinSeverity::Critical => Severity::Critical,
    };

    let to_stdout = args.output.as_ref().is_none_or(|p| p.as_os_str() == "-");
    let out: Box<dyn Write> = if to_stdout {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        let path = args.output.as_ref().expect("not stdout");
        Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ))
    };
    let color =
        to_stdout && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut sink: Box<dyn AlertSink> = match args.format {
        OutputFormat::Table => Box::new(TableSink::new(out, color)),
        OutputFormat::Ndjson => Box::new(NdjsonSink(out)),
        OutputFormat::Csv => Box::new(CsvSink::new(out)),
    };
    let progress = Bars::default();
    let summary = match quarry_pipeline::run(config, &mut *sink, &progress) {
        Ok(summary) => summary,
        Err(PipelineError::NoInput(unreadable)) => {
            for u in &unreadable {
                eprintln!("error: {}", u.message);
            }
            bail!("no input could be read");
        }
        Err(e @ PipelineError::Spool { .. }) => {
            let dir = std::env::temp_dir();
            bail!(
                "{e}\n(the temporary directory is {}; set TMPDIR to a directory with room for a normalized copy of the inputs)",
                dir.display()
            );
        }
        // Their message names the cause already (the chain would say it twice).
        Err(e @ (PipelineError::SpoolRead { .. } | PipelineError::InputRead { .. })) => {
            bail!("{e}")
        }
        Err(e) => return Err(e.into()),
    };
    drop(sink);
    for name in &summary.repeated {
        eprintln!("quarry: {name} is named more than once; hunting it once");
    }
    if let Some(reason) = &summary.one_worker_because
        && args.threads.is_some()
    {
        eprintln!("quarry: hunting on one thread: {reason}");
    }
    let text = summary.render();
    if args.quiet {
    } else if args.format == OutputFormat::Table && to_stdout {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout)?;
        stdout.write_all(text.as_bytes())?;
    } else {
        eprint!("{text}");
    }
    let lost = summary.lost_inputs();
    if !lost.is_empty() {
        for l in &lost {
            eprintln!("error: {l}");
        }
        eprintln!(
            "error: the hunt is incomplete: {} input{} could not be read in full",
            lost.len(),
            if lost.len() == 1 { "" } else { "s" }
        );
        return Ok((ExitCode::from(1), Some(summary)));
    }
    Ok((ExitCode::SUCCESS, Some(summary)))
}

fn load_tuning(args: &Args) -> anyhow::Result<Tuning> {
    let path = match (&args.config, args.no_config) {
        (Some(p), _) => p.clone(),
        (None, true) => return Ok(Tuning::default()),
        (None, false) => {
            let p = PathBuf::from("quarry.toml");
            if !p.is_file() {
                return Ok(Tuning::default());
            }
            p
        }
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Tuning::parse(&path.display().to_string(), &text)?)
}

fn progress_bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let template = format!("{what} {{bar:30}} {{pos}}/{{len}} {{msg}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

/// Progress bars on stderr when it is a terminal: inputs normalized, then events hunted.
#[derive(Default)]
struct Bars(std::sync::Mutex<Option<ProgressBar>>);

impl Bars {
    fn with(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(bar) = self.0.lock().ok().as_deref().and_then(Option::as_ref) {
            f(bar);
        }
    }
}

impl Progress for Bars {
    fn begin(&self, stage: Stage, total: u64) {
        let what = match stage {
            Stage::Normalize => "normalizing",
            Stage::Hunt => "hunting",
        };
        if let Ok(mut bar) = self.0.lock() {
            *bar = Some(progress_bar(total, what));
        }
    }
    fn note(&self, what: &str) {
        self.with(|b| b.set_message(what.to_string()));
    }
    fn advance(&self, done: u64) {
        self.with(|b| b.inc(done));
    }
    fn position(&self, done: u64) {
        self.with(|b| b.set_position(done));
    }
    fn end(&self, _: Stage) {
        if let Ok(mut bar) = self.0.lock()
            && let Some(b) = bar.take()
        {
            b.finish_and_clear();
        }
    }
}

/// One worker thread per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}
