//! `quarry query`: run one EQL query over JSON documents, as Elasticsearch's `_eql/search` would.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use quarry_engine::{CompiledQuery, Hit, Options, Runner, sort_events};
use quarry_event::{Document, Event, FieldCatalog, FieldId, Projection, Timestamp, ValueRef};
use serde_json::{Value as Json, json};

/// Run an EQL query over JSON documents (NDJSON, or a JSON array) and print the matches.
///
/// Events are read in order and matched as they stream; input that is not sorted by timestamp
/// is detected, then loaded and sorted. Malformed lines are reported as FILE:LINE and skipped.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  quarry query 'any where event.action == \"page_viewed\"' events.ndjson
  quarry query --format table 'sequence by user.name [any where true] with runs=3' a.ndjson b.ndjson
  cat export.json | quarry query --size 10 'process where process.name : \"cmd.exe\"'")]
pub struct Args {
    /// The EQL query.
    #[arg(value_name = "EQL")]
    query: String,
    /// Input files (NDJSON or a JSON array of documents); standard input when none or `-`.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The field holding each event's time (RFC 3339 / ISO 8601, or epoch milliseconds).
    #[arg(long, default_value = "@timestamp", value_name = "FIELD")]
    timestamp_field: String,
    /// A field that orders events with equal timestamps.
    #[arg(long, value_name = "FIELD")]
    tiebreaker_field: Option<String>,
    /// The field `<category> where` tests.
    #[arg(long, default_value = "event.category", value_name = "FIELD")]
    event_category_field: String,
    /// Return at most N events or sequences (default: all).
    #[arg(long, value_name = "N")]
    size: Option<usize>,
    /// Output: `json` is the body of Elasticsearch's _eql/search response.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// At most this many join keys hold pending sequences at once (least recently used are
    /// evicted, and counted).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    max_join_keys: usize,
    /// For `sample` queries: at most N samples per join key (Elasticsearch's default is 1).
    #[arg(long, default_value_t = 1, value_name = "N")]
    max_samples_per_key: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Json,
    Ndjson,
    Table,
    /// Only the number of events or sequences found.
    Count,
}

/// An event with where it came from, for `_index`/`_id` and error messages.
struct Located {
    doc: Document,
    input: u32,
    line: u64,
}

impl Event for Located {
    fn field(&self, id: FieldId) -> ValueRef<'_> {
        self.doc.field(id)
    }
    fn timestamp(&self) -> Timestamp {
        self.doc.timestamp()
    }
    fn position(&self) -> u64 {
        self.doc.position()
    }
}

/// What reading the inputs counted.
#[derive(Default)]
struct ReadStats {
    events: u64,
    skipped: u64,
}

/// Everything needed to turn a JSON document into an event.
struct Decoder {
    catalog: FieldCatalog,
    projection: Projection,
    timestamp: FieldId,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let ast = match quarry_eql::parse(&args.query) {
        Ok(q) => q,
        Err(error) => {
            eprint!(
                "{}",
                error.render(&args.query, "query", super::stderr_style())
            );
            return Ok(ExitCode::from(2));
        }
    };
    let mut catalog = FieldCatalog::new();
    let timestamp = catalog.intern(&args.timestamp_field);
    let options = Options {
        category_field: args.event_category_field.clone(),
        tiebreaker_field: args.tiebreaker_field.clone(),
        max_join_keys: args.max_join_keys,
        max_samples_per_key: args.max_samples_per_key,
    };
    let compiled = match CompiledQuery::compile(&ast, &mut catalog, &options) {
        Ok(c) => c,
        Err(e) => {
            let error = quarry_eql::Error::from(quarry_eql::Diagnostic::new(e.span, e.message));
            eprint!(
                "{}",
                error.render(&args.query, "query", super::stderr_style())
            );
            return Ok(ExitCode::from(2));
        }
    };
    let decoder = Decoder {
        projection: Projection::new(&catalog),
        catalog,
        timestamp,
    };

    let inputs = Inputs::new(&args.files)?;
    // First try: stream, assuming sorted input.
    let mut stats = ReadStats::default();
    let mut runner = Runner::new(compiled.clone());
    let mut sorted = true;
    let mut position = 0u64;
    // Inputs read whole by the first pass, whose problems were reported already.
    let mut reported = 0;
    'inputs: for index in 0..inputs.len() {
        let mut unordered = false;
        reported = index + 1;
        inputs.read(
            index,
            &decoder,
            &mut position,
            &mut stats,
            true,
            &mut |event| {
                // Every event is offered, even once a `head` is full: the runner still checks
                // its order, so unsorted input is noticed.
                if !unordered && runner.push(event).is_err() {
                    unordered = true;
                }
            },
        )?;
        if unordered {
            sorted = false;
            break 'inputs;
        }
    }
    let sequences = compiled.is_sequence();
    let (hits, run_stats) = if sorted {
        runner.finish()
    } else {
        // Unsorted input: load everything, sort, run again.
        eprintln!(
            "quarry: input is not sorted by {}; loading and sorting it",
            args.timestamp_field
        );
        let mut events = Vec::new();
        stats = ReadStats::default();
        position = 0;
        for index in 0..inputs.len() {
            let report = index >= reported;
            inputs.read(
                index,
                &decoder,
                &mut position,
                &mut stats,
                report,
                &mut |event| events.push(event),
            )?;
        }
        sort_events(&mut events, compiled.tiebreaker());
        let mut runner = Runner::new(compiled);
        for event in events {
            if runner.is_done() {
                break;
            }
            runner.push(event).expect("sorted events are in order");
        }
        runner.finish()
    };
    let mut hits = hits;
    if let Some(size) = args.size {
        hits.truncate(size);
    }
    let took = started.elapsed().as_millis() as u64;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => write_json(&mut out, &hits, &inputs, took, sequences)?,
        Format::Ndjson => write_ndjson(&mut out, &hits, &inputs)?,
        Format::Table => write_table(&mut out, &hits, &decoder)?,
        Format::Count => writeln!(out, "{}", hits.len())?,
    }
    out.flush()?;
    let noun = match (sequences, hits.len()) {
        (true, 1) => "sequence",
        (true, _) => "sequences",
        (false, 1) => "event",
        (false, _) => "events",
    };
    let mut summary = format!(
        "quarry: {} events read, {} {noun} matched",
        stats.events,
        hits.len(),
    );
    if stats.skipped > 0 {
        summary.push_str(&format!(", {} malformed documents skipped", stats.skipped));
    }
    if run_stats.sequence.evicted_keys > 0 {
        summary.push_str(&format!(
            ", {} join keys evicted at the --max-join-keys cap (their pending sequences were lost)",
            run_stats.sequence.evicted_keys
        ));
    }
    eprintln!("{summary}");
    Ok(ExitCode::SUCCESS)
}

/// The inputs, with standard input spooled to a temporary file so it can be read twice.
struct Inputs {
    names: Vec<String>,
    paths: Vec<PathBuf>,
    _spool: Option<tempfile::NamedTempFile>,
}

impl Inputs {
    fn new(files: &[PathBuf]) -> anyhow::Result<Inputs> {
        let mut names = Vec::new();
        let mut paths = Vec::new();
        let mut spool = None;
        let stdin_requested = files.is_empty() || files.iter().any(|f| f.as_os_str() == "-");
        for file in files {
            if file.as_os_str() == "-" {
                continue;
            }
            if !file.is_file() {
                bail!("{}: no such file", file.display());
            }
            names.push(file.display().to_string());
            paths.push(file.clone());
        }
        if stdin_requested {
            let mut temp = tempfile::NamedTempFile::new()
                .context("creating a spool file for standard input")?;
            std::io::copy(&mut std::io::stdin().lock(), temp.as_file_mut())
                .context("reading standard input")?;
            temp.as_file_mut().rewind()?;
            names.push("stdin".to_string());
            paths.push(temp.path().to_path_buf());
            spool = Some(temp);
        }
        Ok(Inputs {
            names,
            paths,
            _spool: spool,
        })
    }

    fn len(&self) -> usize {
        self.paths.len()
    }

    fn name(&self, index: u32) -> &str {
        &self.names[index as usize]
    }

    /// Reads input `index`, calling `emit` for each event in file order.
    fn read(
        &self,
        index: usize,
        decoder: &Decoder,
        position: &mut u64,
        stats: &mut ReadStats,
        report: bool,
        emit: &mut dyn FnMut(Located),
    ) -> anyhow::Result<()> {
        let name = &self.names[index];
        let file = File::open(&self.paths[index]).with_context(|| format!("opening {name}"))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let first = first_non_space(&mut reader)?;
        // Every decoded document (or why it could not be) goes through here, numbered in order.
        let mut accept =
            |decoded: Result<Document, String>, line: u64, stats: &mut ReadStats| match decoded {
                Ok(mut doc) => {
                    doc.set_position(*position);
                    *position += 1;
                    stats.events += 1;
                    emit(Located {
                        doc,
                        input: index as u32,
                        line,
                    });
                }
                Err(e) => {
                    stats.skipped += 1;
                    if report {
                        eprintln!("{name}:{line}: {e}");
                    }
                }
            };
        if first == Some(b'[') {
            // A JSON array of documents: one JSON value, read whole.
            let mut text = String::new();
            reader
                .read_to_string(&mut text)
                .with_context(|| format!("reading {name}"))?;
            let docs: Vec<Json> = match serde_json::from_str(&text) {
                Ok(d) => d,
                Err(e) => {
                    stats.skipped += 1;
                    if report {
                        eprintln!("{name}:{}: not a JSON array of documents: {e}", e.line());
                    }
                    return Ok(());
                }
            };
            for (i, doc) in docs.into_iter().enumerate() {
                let decoded = Document::from_json(
                    doc,
                    &decoder.projection,
                    &decoder.catalog,
                    decoder.timestamp,
                    0,
                )
                .map_err(|e| e.to_string());
                accept(decoded, i as u64 + 1, stats);
            }
            return Ok(());
        }
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .with_context(|| format!("reading {name}"))?;
            if n == 0 {
                break;
            }
            number += 1;
            let text = line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            // Only the fields the query reads are decoded; the line is kept for output.
            let decoded = std::str::from_utf8(text)
                .map_err(|e| format!("not UTF-8: {e}"))
                .and_then(|text| {
                    Document::from_text(
                        text,
                        &decoder.projection,
                        &decoder.catalog,
                        decoder.timestamp,
                        0,
                    )
                    .map_err(|e| e.to_string())
                });
            accept(decoded, number, stats);
        }
        Ok(())
    }
}

fn first_non_space(reader: &mut BufReader<File>) -> anyhow::Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(i) = buf.iter().position(|b| !b.is_ascii_whitespace()) {
            let b = buf[i];
            reader.consume(i);
            return Ok(Some(b));
        }
        let len = buf.len();
        reader.consume(len);
    }
}

fn hit_json(event: &Located, inputs: &Inputs) -> Json {
    json!({
        "_index": inputs.name(event.input),
        "_id": format!("{}", event.line),
        "_source": event.doc.source().into_owned(),
    })
}

/// A sequence as Elasticsearch returns it; a missing-event stage is a placeholder
/// `{"_index":"","_id":"","_source":{},"missing":true}`.
fn sequence_json(hit: &Hit<Located>, inputs: &Inputs) -> Json {
    let events: Vec<Json> = hit
        .stages()
        .into_iter()
        .map(|slot| match slot {
            Some(e) => hit_json(e, inputs),
            None => json!({"_index": "", "_id": "", "_source": {}, "missing": true}),
        })
        .collect();
    json!({"join_keys": join_keys_json(hit), "events": events})
}

fn join_keys_json(hit: &Hit<Located>) -> Json {
    match hit.join_key() {
        Some(key) => Json::Array(key.0.iter().map(|k| value_json(&k.to_value())).collect()),
        None => Json::Null,
    }
}

fn value_json(v: &quarry_event::Value) -> Json {
    use quarry_event::Value;
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Integer(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::String(s) => json!(s),
        Value::Array(items) => Json::Array(items.iter().map(value_json).collect()),
    }
}

/// The body of an Elasticsearch `_eql/search` response.
fn write_json(
    out: &mut impl Write,
    hits: &[Hit<Located>],
    inputs: &Inputs,
    took: u64,
    sequences: bool,
) -> anyhow::Result<()> {
    let list: Vec<Json> = hits
        .iter()
        .map(|h| match h {
            Hit::Event(e) => hit_json(e, inputs),
            Hit::Sequence(_) => sequence_json(h, inputs),
        })
        .collect();
    let mut hits_obj = serde_json::Map::new();
    hits_obj.insert(
        "total".into(),
        json!({"value": hits.len(), "relation": "eq"}),
    );
    hits_obj.insert(
        if sequences { "sequences" } else { "events" }.into(),
        Json::Array(list),
    );
    let body = json!({
        "is_partial": false,
        "is_running": false,
        "took": took,
        "timed_out": false,
        "hits": hits_obj,
    });
    serde_json::to_writer_pretty(&mut *out, &body)?;
    writeln!(out)?;
    Ok(())
}

fn write_ndjson(
    out: &mut impl Write,
    hits: &[Hit<Located>],
    inputs: &Inputs,
) -> anyhow::Result<()> {
    for h in hits {
        let line = match h {
            Hit::Event(e) => hit_json(e, inputs),
            Hit::Sequence(_) => sequence_json(h, inputs),
        };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    Ok(())
}

/// A plain table: one row per event, the hit number first, then the timestamp and every field
/// the query reads.
fn write_table(
    out: &mut impl Write,
    hits: &[Hit<Located>],
    decoder: &Decoder,
) -> anyhow::Result<()> {
    let fields: Vec<(FieldId, &str)> = decoder
        .catalog
        .iter()
        .filter(|(id, _)| *id != decoder.timestamp)
        .collect();
    let mut header = vec!["#".to_string(), "@timestamp".to_string()];
    header.extend(fields.iter().map(|(_, n)| n.to_string()));
    let mut rows = vec![header];
    for (i, hit) in hits.iter().enumerate() {
        for event in hit.events() {
            let event: &Arc<Located> = event;
            let mut row = vec![(i + 1).to_string(), event.timestamp().to_string()];
            row.extend(fields.iter().map(|(id, _)| cell(event.field(*id))));
            rows.push(row);
        }
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
                .min(60)
        })
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| {
                let shown: String = cell.chars().take(*w).collect();
                format!("{shown:<w$}", w = *w)
            })
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

fn cell(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "-".to_string(),
        other => other.to_string().replace(['\n', '\t'], " "),
    }
}
