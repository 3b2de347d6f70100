//! `quarry hunt`: raw Confluence logs in, alerts a person can read out.
//!
//! Each input is detected and normalized into a spool file of ECS NDJSON (time-ordered per
//! input), the spools are merged by time into one stream, and the stream runs through the
//! detection pack. An input that cannot be read or detected is reported and skipped; the rest
//! is still hunted.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Seek, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use quarry_event::{Document, Event, FieldId, Projection, Timestamp};
use quarry_ingest::normalize::{Report, normalize};
use quarry_ingest::read::expand;
use quarry_rules::alert::printable;
use quarry_rules::tuning::Tuning;
use quarry_rules::{Alert, Hunt, HuntOptions, Rule, Severity, ThresholdMode};
use serde_json::Value as Json;

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

/// One input's normalized events, spooled to disk.
struct Spool {
    report: Report,
    file: File,
}

/// What the summary reports about the events.
#[derive(Default)]
struct EventCounts {
    by_action: HashMap<String, u64>,
    by_user: HashMap<String, u64>,
    unreadable: u64,
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
    let mut hunt = Hunt::new(rules, tuning, options)?;

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
        quarry_ingest::read::Input::Stdin => true,
    });
    let ingest = args.ingest.options(args.input_format, false)?;
    let progress = progress_bar(inputs.len() as u64, "normalizing");
    let mut spools = Vec::new();
    let mut failed = Vec::new();
    for input in &inputs {
        progress.set_message(input.name());
        let mut file = tempfile::tempfile().context("creating a spool file")?;
        let mut writer = BufWriter::new(&mut file);
        let result = normalize(input, &ingest, &mut writer);
        let flushed = writer.flush();
        drop(writer);
        progress.inc(1);
        match result {
            Ok(report) => {
                flushed.context("writing a spool file")?;
                if report.out_of_order > 0 {
                    sort_spool(&mut file, SORT_RUN_LINES)?;
                }
                file.rewind()?;
                spools.push(Spool { report, file });
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    progress.finish_and_clear();
    if spools.is_empty() {
        for f in &failed {
            eprintln!("error: {f}");
        }
        bail!("no input could be read");
    }

    // Merge the spools by time and hunt.
    let total: u64 = spools.iter().map(|s| s.report.emitted).sum();
    let progress = progress_bar(total, "hunting");
    let catalog = hunt.catalog().clone();
    let projection = Projection::new(&catalog);
    let timestamp = hunt.timestamp_field();
    let action = catalog
        .get("event.action")
        .expect("alerts read event.action");
    let user = catalog.get("user.name").expect("alerts read user.name");
    let mut counts = EventCounts::default();
    let mut readers: Vec<SpoolReader> = spools
        .iter()
        .map(SpoolReader::new)
        .collect::<anyhow::Result<_>>()?;
    let decoder = Decoder {
        projection: &projection,
        catalog: &catalog,
        timestamp,
    };
    // The next event of each input, in a heap by (time, input): ties go to the input listed
    // first, and each input's own order is kept.
    let mut heads: Vec<Option<Document>> = Vec::with_capacity(readers.len());
    let mut heap = BinaryHeap::new();
    for (i, r) in readers.iter_mut().enumerate() {
        let head = decoder.next(r, &mut counts)?;
        if let Some(d) = &head {
            heap.push(Reverse((d.timestamp(), i)));
        }
        heads.push(head);
    }
    let mut position = 0u64;
    let mut alerts: Vec<Alert> = Vec::new();
    while let Some(Reverse((_, i))) = heap.pop() {
        let mut doc = heads[i].take().expect("a queued input has a head");
        heads[i] = decoder.next(&mut readers[i], &mut counts)?;
        if let Some(d) = &heads[i] {
            heap.push(Reverse((d.timestamp(), i)));
        }
        doc.set_position(position);
        position += 1;
        let ts = doc.timestamp();
        if args.from.is_none_or(|f| ts >= f) && args.to.is_none_or(|t| ts < t) {
            count_event(&doc, action, user, &mut counts);
        }
        hunt.push(doc)?;
        alerts.append(&mut hunt.take_alerts());
        if position.is_multiple_of(4096) {
            progress.set_position(position);
        }
    }
    progress.finish_and_clear();
    let (mut rest, stats, rules) = hunt.finish();
    alerts.append(&mut rest);

    let min = match args.min_severity {
        MinSeverity::Low => Severity::Low,
        MinSeverity::Medium => Severity::Medium,
        MinSeverity::High => Severity::High,
        MinSeverity::Critical => Severity::Critical,
    };
    let shown_before = alerts.len();
    alerts.retain(|a| a.severity >= min);
    let hidden = shown_before - alerts.len();
    alerts.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.timestamp.cmp(&b.timestamp))
            .then(a.rule_name.cmp(&b.rule_name))
    });

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
        &spools,
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

/// Lines of a spool sorted in memory at a time; beyond this they are sorted in runs on disk and
/// merged, so memory stays bounded whatever the input's size.
const SORT_RUN_LINES: usize = 200_000;

/// The `@timestamp` of a spooled line (unreadable ones sort first, as before any event).
fn spool_time(line: &str) -> Option<Timestamp> {
    serde_json::from_str::<Json>(line).ok().and_then(|j| {
        j.get("@timestamp")
            .and_then(|t| Timestamp::from_json(t).ok())
    })
}

/// Sorts a spool whose input was further out of order than the reorder window allows: sorted
/// runs of [`SORT_RUN_LINES`] lines go to temporary files, then merge back into the spool
/// (stable: equal times keep their input order).
fn sort_spool(file: &mut File, run_lines: usize) -> anyhow::Result<()> {
    file.rewind()?;
    let mut runs: Vec<File> = Vec::new();
    let mut run: Vec<(Option<Timestamp>, String)> = Vec::new();
    let flush =
        |run: &mut Vec<(Option<Timestamp>, String)>, runs: &mut Vec<File>| -> anyhow::Result<()> {
            run.sort_by_key(|(ts, _)| *ts);
            let mut f = tempfile::tempfile().context("creating a sort run")?;
            {
                let mut w = BufWriter::new(&mut f);
                for (_, line) in run.drain(..) {
                    w.write_all(line.as_bytes())?;
                    w.write_all(b"\n")?;
                }
                w.flush()?;
            }
            f.rewind()?;
            runs.push(f);
            Ok(())
        };
    for line in BufReader::new(&*file).lines() {
        let line = line?;
        run.push((spool_time(&line), line));
        if run.len() >= run_lines {
            flush(&mut run, &mut runs)?;
        }
    }
    if !run.is_empty() {
        flush(&mut run, &mut runs)?;
    }
    file.set_len(0)?;
    file.rewind()?;
    let mut w = BufWriter::new(&*file);
    let mut readers: Vec<_> = runs.iter().map(|f| BufReader::new(f).lines()).collect();
    let mut heap = BinaryHeap::new();
    let mut heads: Vec<Option<String>> = Vec::with_capacity(readers.len());
    for (i, r) in readers.iter_mut().enumerate() {
        let head = r.next().transpose()?;
        if let Some(l) = &head {
            heap.push(Reverse((spool_time(l), i)));
        }
        heads.push(head);
    }
    while let Some(Reverse((_, i))) = heap.pop() {
        let line = heads[i].take().expect("a queued run has a head");
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
        heads[i] = readers[i].next().transpose()?;
        if let Some(l) = &heads[i] {
            heap.push(Reverse((spool_time(l), i)));
        }
    }
    w.flush()?;
    Ok(())
}

/// A spool read back line by line; events keep only their line's byte range, read again
/// (with `pread`) when an alert shows them.
#[derive(Debug)]
struct SpoolStore(File);

impl quarry_event::SourceStore for SpoolStore {
    fn read(&self, offset: u64, len: u32) -> Option<String> {
        let mut buf = vec![0; len as usize];
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            self.0.read_exact_at(&mut buf, offset).ok()?;
        }
        #[cfg(not(unix))]
        {
            let _ = offset;
            return None;
        }
        String::from_utf8(buf).ok()
    }
}

struct SpoolReader {
    lines: BufReader<File>,
    /// Where the next line starts.
    offset: u64,
    store: std::sync::Arc<dyn quarry_event::SourceStore>,
    buf: Vec<u8>,
}

impl SpoolReader {
    fn new(spool: &Spool) -> anyhow::Result<SpoolReader> {
        let mut reading = spool.file.try_clone().context("reopening a spool file")?;
        reading.rewind()?;
        let store: std::sync::Arc<dyn quarry_event::SourceStore> = std::sync::Arc::new(SpoolStore(
            spool.file.try_clone().context("reopening a spool file")?,
        ));
        Ok(SpoolReader {
            lines: BufReader::with_capacity(1 << 20, reading),
            offset: 0,
            store,
            buf: Vec::new(),
        })
    }
}

/// Turns spooled ECS lines back into events with the hunt's projection.
struct Decoder<'a> {
    projection: &'a Projection,
    catalog: &'a quarry_event::FieldCatalog,
    timestamp: FieldId,
}

impl Decoder<'_> {
    /// The next event of a spool; lines without a usable `@timestamp` are counted and skipped.
    fn next(
        &self,
        spool: &mut SpoolReader,
        counts: &mut EventCounts,
    ) -> anyhow::Result<Option<Document>> {
        loop {
            spool.buf.clear();
            let n = spool
                .lines
                .read_until(b'\n', &mut spool.buf)
                .context("reading a spool file")?;
            if n == 0 {
                return Ok(None);
            }
            let start = spool.offset;
            spool.offset += n as u64;
            let line = spool.buf.strip_suffix(b"\n").unwrap_or(&spool.buf);
            let text = std::str::from_utf8(line).context("a spool line is not UTF-8")?;
            match Document::from_stored_text(
                text,
                &spool.store,
                start,
                self.projection,
                self.catalog,
                self.timestamp,
                0,
            ) {
                Ok(d) => return Ok(Some(d)),
                Err(quarry_event::DocumentError::NotJson(e)) => {
                    anyhow::bail!("a spool line is not JSON: {e}")
                }
                Err(_) => counts.unreadable += 1,
            }
        }
    }
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
    spools: &[Spool],
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
    let inputs = spools.len() + failed.len();
    s.push_str(&format!(
        "Inputs ({inputs}{}):\n",
        if failed.is_empty() {
            String::new()
        } else {
            format!(", {} unreadable", failed.len())
        }
    ));
    for spool in spools {
        for line in summary(&spool.report).lines() {
            s.push_str(&format!("  {line}\n"));
        }
    }
    for f in failed {
        s.push_str(&format!("  error: {f}\n"));
    }
    let malformed: u64 = spools.iter().map(|x| x.report.malformed).sum();
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn spools_sort_in_runs_and_merge_stably() {
        let mut file = tempfile::tempfile().unwrap();
        // Minutes out of order, two lines at 03 (kept in input order), one without a time.
        let minutes = ["05", "01", "03", "04", "03", "02", "00"];
        for (i, m) in minutes.iter().enumerate() {
            writeln!(file, r#"{{"@timestamp":"2026-11-23T10:{m}:00Z","n":{i}}}"#).unwrap();
        }
        writeln!(file, r#"{{"n":"no time"}}"#).unwrap();
        sort_spool(&mut file, 3).unwrap();
        file.rewind().unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        let order: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<Json>(l).unwrap()["n"].to_string())
            .collect();
        assert_eq!(order, [r#""no time""#, "6", "1", "5", "2", "4", "3", "0"]);
    }
}
