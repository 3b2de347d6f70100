//! `quarry hunt`: raw Confluence logs in, alerts a person can read out.
//!
//! Each input is detected and normalized into a spool file of ECS NDJSON (time-ordered per
//! input), the spools are merged by time into one stream, and the stream runs through the
//! detection pack. An input that cannot be read or detected is reported and skipped; the rest
//! is still hunted.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use quarry_event::{Document, Event, FieldId, Projection, SourceStore, Timestamp};
use quarry_ingest::normalize::{Report, normalize_to};
use quarry_ingest::read::{Input, expand};
use quarry_rules::alert::printable;
use quarry_rules::tuning::Tuning;
use quarry_rules::{Alert, Hunt, HuntOptions, HuntStats, Rule, Severity, ThresholdMode};

use crate::spool::{SORT_RUN_RECORDS, Spool, SpoolReader, SpoolStore, SpoolWriter, sort_spool};

use super::normalize::{IngestArgs, parse_format, summary};

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

Exit status: 0 when the hunt ran (with or without alerts), 1 when it could not run
(no readable input, a bad tuning file), 2 when a rule file is invalid.")]
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

/// Events the last hunt of this process saw (for `quarry bench hunt`).
pub static LAST_EVENTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// What the summary reports about the events.
#[derive(Default)]
struct EventCounts {
    by_action: HashMap<String, u64>,
    by_user: HashMap<String, u64>,
    unreadable: u64,
}

impl EventCounts {
    /// Adds another worker's counts.
    fn absorb(&mut self, other: EventCounts) {
        for (mine, theirs) in [
            (&mut self.by_action, other.by_action),
            (&mut self.by_user, other.by_user),
        ] {
            for (k, n) in theirs {
                *mine.entry(k).or_default() += n;
            }
        }
        self.unreadable += other.unreadable;
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let style = super::stderr_style();
    let mut rules = match crate::pack::load(args.rules.as_deref(), style) {
        Ok(r) => r,
        Err(rendered) => {
            eprint!("{rendered}");
            return Ok(ExitCode::from(2));
        }
    };
    let tuning = load_tuning(&args)?;
    let rule_changes = tuning.apply_to_rules(&mut rules)?;
    let options = HuntOptions {
        threshold_mode: match args.threshold_mode {
            Mode::Kibana => ThresholdMode::Kibana,
            Mode::Sliding => ThresholdMode::Sliding,
        },
        suppress: !args.no_suppress,
        max_evidence: args.max_evidence,
        from: args.from,
        to: args.to,
        ..HuntOptions::default()
    };
    let tuning_origin = (!tuning.origin.is_empty()).then(|| tuning.origin.clone());
    let (hunt_tuning, hunt_options) = (tuning.clone(), options.clone());
    let hunt = Hunt::new(rules, tuning, options)?;

    // Normalize every input to its own spool, each file once.
    let mut inputs = expand(&args.paths)?;
    let mut seen = std::collections::HashSet::new();
    inputs.retain(|input| match input {
        quarry_ingest::read::Input::File(path) => {
            let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            let first = seen.insert(key);
            if !first {
                eprintln!(
                    "quarry: {} is named more than once; hunting it once",
                    path.display()
                );
            }
            first
        }
        quarry_ingest::read::Input::Stdin | quarry_ingest::read::Input::Part { .. } => true,
    });
    let ingest = args.ingest.options(args.input_format, false)?;
    let threads = args.threads.unwrap_or_else(default_threads).max(1);
    let (spools, reports, failed) =
        normalize_inputs(&inputs, &ingest, threads, args.min_part_bytes)?;
    if spools.is_empty() {
        for f in &failed {
            eprintln!("error: {f}");
        }
        bail!("no input could be read");
    }

    // Split the hunt by user across workers when every rule keeps to one user's events.
    let multi_valued: u64 = spools.iter().map(|s| s.report.multi_valued_users).sum();
    let blocker = hunt.user_split_blocker().or_else(|| {
        (multi_valued > 0).then(|| format!("{multi_valued} events name several users"))
    });
    let shares = match &blocker {
        Some(reason) if threads > 1 => {
            if args.threads.is_some() {
                eprintln!("quarry: hunting on one thread: {reason}");
            }
            1
        }
        _ => threads,
    };
    let mut hunts = vec![hunt];
    for _ in 1..shares {
        hunts.push(Hunt::new(
            hunts[0].rules().to_vec(),
            hunt_tuning.clone(),
            hunt_options.clone(),
        )?);
    }
    let total: u64 = spools.iter().map(|s| s.report.emitted).sum();
    let progress = progress_bar(total, "hunting");
    let outcomes: Vec<anyhow::Result<Share>> = std::thread::scope(|scope| {
        let workers: Vec<_> = hunts
            .into_iter()
            .enumerate()
            .map(|(index, hunt)| {
                let (spools, progress) = (&spools, &progress);
                scope.spawn(move || hunt_share(hunt, index, shares, spools, progress))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a hunting thread panicked"))
            .collect()
    });
    progress.finish_and_clear();
    let mut alerts: Vec<Alert> = Vec::new();
    let mut counts = EventCounts::default();
    let mut stats = HuntStats::default();
    let mut rules = Vec::new();
    for outcome in outcomes {
        let share = outcome?;
        alerts.extend(share.alerts);
        stats.absorb(share.stats);
        counts.absorb(share.counts);
        if rules.is_empty() {
            rules = share.rules;
        }
    }

    let min = match args.min_severity {
        MinSeverity::Low => Severity::Low,
        MinSeverity::Medium => Severity::Medium,
        MinSeverity::High => Severity::High,
        MinSeverity::Critical => Severity::Critical,
    };
    let shown_before = alerts.len();
    alerts.retain(|a| a.severity >= min);
    let hidden = shown_before - alerts.len();
    alerts.sort_by(quarry_rules::alert::report_order);

    // Alerts, then the summary.
    let to_stdout = args.output.as_ref().is_none_or(|p| p.as_os_str() == "-");
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        let path = args.output.as_ref().expect("not stdout");
        Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ))
    };
    let color =
        to_stdout && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    match args.format {
        OutputFormat::Table => write_table(&mut out, &alerts, color)?,
        OutputFormat::Ndjson => {
            for a in &alerts {
                serde_json::to_writer(&mut out, &a.to_json(&rules[a.rule]))?;
                out.write_all(b"\n")?;
            }
        }
        OutputFormat::Csv => write_csv(&mut out, &alerts)?,
    }
    out.flush()?;
    drop(out);
    let summary_text = summary_text(
        &reports,
        &failed,
        &counts,
        &stats,
        &rules,
        &alerts,
        hidden,
        tuning_origin.as_deref(),
        &rule_changes,
    );
    LAST_EVENTS.store(stats.events, std::sync::atomic::Ordering::Relaxed);
    if args.quiet {
    } else if args.format == OutputFormat::Table && to_stdout {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout)?;
        stdout.write_all(summary_text.as_bytes())?;
    } else {
        eprint!("{summary_text}");
    }
    Ok(ExitCode::SUCCESS)
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

/// One worker thread per core.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Normalizes every input into spools, on up to `threads` threads: a large plain file in a
/// line-per-event format is cut into parts, one spool each. Returns the spools in input
/// order (a file's parts in file order), one report per readable input, and the inputs that
/// could not be read.
fn normalize_inputs(
    inputs: &[Input],
    ingest: &quarry_ingest::normalize::Options,
    threads: usize,
    min_part_bytes: u64,
) -> anyhow::Result<(Vec<Spool>, Vec<Report>, Vec<String>)> {
    let mut jobs: Vec<(usize, Input)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for part in parts(input, ingest, threads, min_part_bytes) {
            jobs.push((i, part));
        }
    }
    let progress = progress_bar(jobs.len() as u64, "normalizing");
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut outcomes: Vec<(usize, anyhow::Result<Result<Spool, String>>)> =
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads.min(jobs.len()))
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some((_, input)) = jobs.get(j) else {
                                break done;
                            };
                            progress.set_message(input.name());
                            done.push((j, spool_input(input, ingest)));
                            progress.inc(1);
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("a normalizing thread panicked"))
                .collect()
        });
    progress.finish_and_clear();
    outcomes.sort_by_key(|(j, _)| *j);
    let mut spools: Vec<(usize, Spool)> = Vec::new();
    let mut reports: Vec<(usize, Report)> = Vec::new();
    let mut failed: Vec<(usize, String)> = Vec::new();
    for (j, outcome) in outcomes {
        let input = jobs[j].0;
        match outcome? {
            Ok(spool) => {
                match reports.last_mut() {
                    Some((i, report)) if *i == input => {
                        report.absorb(spool.report.clone(), ingest.quoted_errors);
                    }
                    _ => reports.push((input, spool.report.clone())),
                }
                spools.push((input, spool));
            }
            Err(e) => {
                if failed.last().is_none_or(|(i, _)| *i != input) {
                    failed.push((input, e));
                }
            }
        }
    }
    // An input any part of which failed is reported as failed, not also as read.
    reports.retain(|(i, _)| failed.iter().all(|(f, _)| f != i));
    spools.retain(|(i, _)| failed.iter().all(|(f, _)| f != i));
    Ok((
        spools.into_iter().map(|(_, s)| s).collect(),
        reports.into_iter().map(|(_, r)| r).collect(),
        failed.into_iter().map(|(_, e)| e).collect(),
    ))
}

/// The parts one thread each normalizes of `input`: a plain file of at least two parts'
/// worth in a format of one event per line (web logs, ECS NDJSON) is cut at line boundaries
/// into one part per thread; anything else is one part, itself.
fn parts(
    input: &Input,
    ingest: &quarry_ingest::normalize::Options,
    threads: usize,
    min_part_bytes: u64,
) -> Vec<Input> {
    use quarry_ingest::detect::Format;
    let Input::File(path) = input else {
        return vec![input.clone()];
    };
    if threads < 2 {
        return vec![input.clone()];
    }
    let format = ingest.format.or_else(|| first_line_format(path));
    if !matches!(
        format,
        Some(Format::AccessLog | Format::ProxyLog | Format::EcsNdjson)
    ) {
        return vec![input.clone()];
    }
    quarry_ingest::read::split_file(path, threads, min_part_bytes)
        .unwrap_or_else(|_| vec![input.clone()])
}

/// The format of a plain file's first non-blank line, if it tells.
fn first_line_format(path: &std::path::Path) -> Option<quarry_ingest::detect::Format> {
    use std::io::{BufRead, Read};
    let file = File::open(path).ok()?;
    let mut reader = std::io::BufReader::new(file).take(1 << 20);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        if !line.iter().all(u8::is_ascii_whitespace) {
            return quarry_ingest::detect::detect(&line);
        }
    }
}

/// Normalizes one input into a time-ordered spool; `Ok(Err(_))` when the input cannot be
/// read (the hunt goes on without it), `Err` when the spool cannot be written.
fn spool_input(
    input: &Input,
    ingest: &quarry_ingest::normalize::Options,
) -> anyhow::Result<Result<Spool, String>> {
    let mut file = tempfile::tempfile().context("creating a spool file")?;
    let mut writer = SpoolWriter(BufWriter::new(&mut file));
    let result = normalize_to(input, ingest, &mut writer);
    let flushed = writer.0.flush();
    drop(writer);
    match result {
        Ok(report) => {
            flushed.context("writing a spool file")?;
            if report.out_of_order > 0 {
                sort_spool(&mut file, SORT_RUN_RECORDS)?;
            }
            Ok(Ok(Spool { report, file }))
        }
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// What one worker's share of the hunt found.
struct Share {
    alerts: Vec<Alert>,
    stats: HuntStats,
    rules: Vec<Rule>,
    counts: EventCounts,
}

/// Hunts share `index` of `shares`: every spool merged by time (ties to the input listed
/// first, each input's own order kept), the events of this share's users decoded and hunted,
/// the others' only timed (see [`Hunt::pass`]). Every worker merges the same way, so each
/// event has the same position whatever the number of workers.
fn hunt_share(
    mut hunt: Hunt,
    index: usize,
    shares: usize,
    spools: &[Spool],
    progress: &ProgressBar,
) -> anyhow::Result<Share> {
    let catalog = hunt.catalog().clone();
    let projection = Projection::new(&catalog);
    let timestamp = hunt.timestamp_field();
    let action = catalog
        .get("event.action")
        .expect("alerts read event.action");
    let user = catalog.get("user.name").expect("alerts read user.name");
    let (from, to) = hunt.range();
    let mut counts = EventCounts::default();
    let mut readers = Vec::with_capacity(spools.len());
    let mut stores: Vec<Arc<dyn SourceStore>> = Vec::with_capacity(spools.len());
    for spool in spools {
        readers.push(SpoolReader::new(&spool.file)?);
        let file = spool.file.try_clone().context("reopening a spool file")?;
        stores.push(Arc::new(SpoolStore(file)));
    }
    let mut heap = BinaryHeap::new();
    let mut heads = Vec::with_capacity(readers.len());
    for (i, r) in readers.iter_mut().enumerate() {
        let head = r.next_head().context("reading a spool file")?;
        if let Some(h) = &head {
            heap.push(Reverse((h.timestamp, i)));
        }
        heads.push(head);
    }
    let mut position = 0u64;
    let mut alerts: Vec<Alert> = Vec::new();
    let mut buf = Vec::new();
    while let Some(Reverse((_, i))) = heap.pop() {
        let head = heads[i].take().expect("a queued spool has a head");
        // Events without a time (i64::MIN) are unreadable to every rule: never timed.
        let time = (head.timestamp != i64::MIN).then(|| Timestamp::from_nanos(head.timestamp));
        if head.user_hash % shares as u64 == index as u64 {
            let bytes = readers[i]
                .document(&mut buf)
                .context("reading a spool file")?;
            let text = std::str::from_utf8(bytes).context("a spool document is not UTF-8")?;
            match Document::from_stored_text(
                text,
                &stores[i],
                head.offset,
                &projection,
                &catalog,
                timestamp,
                position,
            ) {
                Ok(doc) => {
                    let ts = doc.timestamp();
                    if from.is_none_or(|f| ts >= f) && to.is_none_or(|t| ts < t) {
                        count_event(&doc, action, user, &mut counts);
                    }
                    hunt.push(doc)?;
                    alerts.append(&mut hunt.take_alerts());
                }
                Err(quarry_event::DocumentError::NotJson(e)) => {
                    bail!("a spool document is not JSON: {e}")
                }
                Err(_) => {
                    counts.unreadable += 1;
                    if let Some(ts) = time {
                        hunt.pass(ts, position)?;
                    }
                }
            }
        } else if let Some(ts) = time {
            hunt.pass(ts, position)?;
        }
        heads[i] = readers[i].next_head().context("reading a spool file")?;
        if let Some(h) = &heads[i] {
            heap.push(Reverse((h.timestamp, i)));
        }
        position += 1;
        if index == 0 && position.is_multiple_of(4096) {
            progress.set_position(position);
        }
    }
    let (rest, stats, rules) = hunt.finish();
    alerts.extend(rest);
    Ok(Share {
        alerts,
        stats,
        rules,
        counts,
    })
}

fn count_event(doc: &Document, action: FieldId, user: FieldId, counts: &mut EventCounts) {
    use quarry_rules::threshold::{bump, key_text};
    bump(
        &mut counts.by_action,
        key_text(doc.field(action)).as_deref().unwrap_or("-"),
    );
    if let Some(u) = key_text(doc.field(user)) {
        bump(&mut counts.by_user, &u);
    }
}

const RESET: &str = "\x1b[0m";

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "\x1b[1;37;41m",
        Severity::High => "\x1b[1;31m",
        Severity::Medium => "\x1b[33m",
        Severity::Low => "\x1b[36m",
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn write_table(out: &mut dyn Write, alerts: &[Alert], color: bool) -> anyhow::Result<()> {
    if alerts.is_empty() {
        writeln!(out, "No alerts.")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<9} {:<21} {:<44} {:<16} {:<15} {:>6} {:>7}",
        "SEVERITY", "TIME", "RULE", "USER", "SOURCE.IP", "EVENTS", "MATCHES"
    )?;
    for a in alerts {
        let sev = format!("{:<9}", a.severity.name());
        let sev = if color {
            format!("{}{sev}{RESET}", severity_color(a.severity))
        } else {
            sev
        };
        writeln!(
            out,
            "{sev} {:<21} {:<44} {:<16} {:<15} {:>6} {:>7}",
            quarry_rules::alert::short_time(a.timestamp),
            truncate(&a.rule_name, 44),
            truncate(&printable(a.user.as_deref().unwrap_or("-")), 16),
            truncate(&printable(a.shown_address().unwrap_or("-")), 15),
            a.event_count,
            a.match_count,
        )?;
        writeln!(out, "          {}", a.reason())?;
    }
    Ok(())
}

fn write_csv(out: &mut dyn Write, alerts: &[Alert]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "severity",
        "timestamp",
        "rule_id",
        "rule_name",
        "user_name",
        "source_ip",
        "event_count",
        "match_count",
        "first_seen",
        "last_seen",
        "risk_score",
        "reason",
    ])?;
    for a in alerts {
        w.write_record([
            a.severity.name().to_string(),
            a.timestamp.to_string(),
            a.rule_id.clone(),
            a.rule_name.clone(),
            a.user.clone().unwrap_or_default(),
            a.shown_address().unwrap_or_default().to_string(),
            a.event_count.to_string(),
            a.match_count.to_string(),
            a.first_seen.to_string(),
            a.last_seen.to_string(),
            a.risk_score.to_string(),
            a.reason(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn summary_text(
    reports: &[Report],
    failed: &[String],
    counts: &EventCounts,
    stats: &quarry_rules::HuntStats,
    rules: &[Rule],
    alerts: &[Alert],
    hidden: usize,
    tuning: Option<&str>,
    rule_changes: &[String],
) -> String {
    let mut s = String::new();
    let inputs = reports.len() + failed.len();
    s.push_str(&format!(
        "Inputs ({inputs}{}):\n",
        if failed.is_empty() {
            String::new()
        } else {
            format!(", {} unreadable", failed.len())
        }
    ));
    for report in reports {
        for line in summary(report).lines() {
            s.push_str(&format!("  {line}\n"));
        }
    }
    for f in failed {
        s.push_str(&format!("  error: {f}\n"));
    }
    let malformed: u64 = reports.iter().map(|r| r.malformed).sum();
    s.push_str(&format!(
        "Events: {} hunted{}{}{}\n",
        stats.events,
        if stats.out_of_range > 0 {
            format!(", {} outside --from/--to", stats.out_of_range)
        } else {
            String::new()
        },
        if malformed > 0 {
            format!(", {malformed} malformed records skipped (see above)")
        } else {
            String::new()
        },
        if counts.unreadable > 0 {
            format!(", {} without a usable @timestamp", counts.unreadable)
        } else {
            String::new()
        },
    ));
    let mut by_action: Vec<(&String, &u64)> = counts.by_action.iter().collect();
    by_action.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    s.push_str(&format!(
        "  by action: {}\n",
        by_action
            .iter()
            .map(|(a, n)| format!("{a} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut users: Vec<(&String, &u64)> = counts.by_user.iter().collect();
    users.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    s.push_str(&format!(
        "  top users: {}\n",
        users
            .iter()
            .take(5)
            .map(|(u, n)| format!("{u} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    match tuning {
        Some(origin) => {
            let dropped: u64 = stats.dropped.values().sum();
            s.push_str(&format!(
                "Tuning ({origin}): {dropped} events dropped before matching{}\n",
                if dropped > 0 { ":" } else { "" }
            ));
            for (name, n) in &stats.dropped {
                s.push_str(&format!("  {name}: {n}\n"));
            }
            for change in rule_changes {
                s.push_str(&format!("  {change}\n"));
            }
            let lowered = alerts
                .iter()
                .filter(|a| a.original_severity.is_some())
                .count();
            if lowered > 0 {
                s.push_str(&format!(
                    "  {lowered} alert{} lowered in severity (the reason says why)\n",
                    if lowered == 1 { "" } else { "s" }
                ));
            }
        }
        None if !stats.dropped.is_empty() => {
            s.push_str("Exceptions:\n");
            for (name, n) in &stats.dropped {
                s.push_str(&format!("  {name}: {n} events dropped\n"));
            }
        }
        None => {}
    }
    s.push_str(&format!(
        "Alerts: {}{}\n",
        alerts.len(),
        if hidden > 0 {
            format!(" ({hidden} below --min-severity not shown)")
        } else {
            String::new()
        }
    ));
    for (i, rule) in rules.iter().enumerate() {
        let shown = alerts.iter().filter(|a| a.rule == i).count();
        s.push_str(&format!(
            "  {:<8} {:<52} {} alert{}, {} match{}\n",
            rule.severity.name(),
            rule.name,
            shown,
            if shown == 1 { "" } else { "s" },
            stats.matches[i],
            if stats.matches[i] == 1 { "" } else { "es" },
        ));
    }
    if stats.evicted_keys > 0 {
        s.push_str(&format!(
            "Warning: {} join keys were evicted from sequence state (over the key cap); sequences for them may be missed\n",
            stats.evicted_keys
        ));
    }
    s
}
