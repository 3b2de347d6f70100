//! `quarry query`: run one EQL query over JSON documents, as Elasticsearch's `_eql/search` would.
//!
//! Memory stays bounded by the query's state, not by the input or the number of results:
//! events stream through the engine, and `ndjson`, `table` and `count` output is written as
//! results are found (for `json`, only the `--size` results it returns are kept). Streaming
//! output must not start before the input is known to be in time order, since unsorted input is
//! sorted first and its results come out differently; so for those formats a cheap first pass
//! decodes only the timestamp (and tiebreaker) of each document to check the order. `json` and
//! `count` print nothing until the end, so they skip that pass: they run at once and start
//! again on sorted input if the order breaks. Unsorted input is sorted through temporary files
//! ([`crate::query_sort`]), never loaded whole.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use quarry_engine::query::tiebreak_order;
use quarry_engine::{CompiledQuery, Hit, Options, RunStats, Runner};
use quarry_event::{
    Document, Event, FieldCatalog, FieldId, Projection, Timestamp, Value, ValueRef,
};
use serde_json::{Value as Json, json};

use crate::query_sort::{Record, Sorter};

/// Run an EQL query over JSON documents (NDJSON, or a JSON array) and print the matches.
///
/// Events are read in order and matched as they stream; `ndjson`, `table` and `count` results
/// are written as they are found. Input that is not sorted by timestamp is detected, then sorted
/// through temporary files. Malformed lines are reported as FILE:LINE and skipped.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  quarry query 'any where event.action == \"page_viewed\"' events.ndjson
  quarry query --format table 'sequence by user.name [any where true] with runs=3' a.ndjson b.ndjson
  quarry query -f mining.eql --format ndjson a.ndjson b.ndjson
  cat export.json | quarry query --size 10 'process where process.name : \"cmd.exe\"'")]
pub struct Args {
    /// The EQL query. Absent with `--query-file`: then every positional argument is an input.
    #[arg(value_name = "EQL", required_unless_present = "query_file")]
    query: Option<String>,
    /// Input files (NDJSON or a JSON array of documents); standard input when none or `-`.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Read the EQL query from FILE (for queries too long for a command line); errors point at
    /// its lines.
    #[arg(short = 'f', long, value_name = "FILE")]
    query_file: Option<PathBuf>,
    /// The field holding each event's time (RFC 3339 / ISO 8601, or epoch milliseconds).
    #[arg(long, default_value = "@timestamp", value_name = "FIELD")]
    timestamp_field: String,
    /// A field that orders events with equal timestamps.
    #[arg(long, value_name = "FIELD")]
    tiebreaker_field: Option<String>,
    /// The field `<category> where` tests.
    #[arg(long, default_value = "event.category", value_name = "FIELD")]
    event_category_field: String,
    /// Return at most N events or sequences, after the query's pipes. Default: 10 for
    /// `--format json`, as Elasticsearch's `_eql/search` defaults `size` to 10 (its
    /// `hits.total` counts the events or sequences returned, as Elasticsearch's does); all of
    /// them for `ndjson`, `table` and `count`.
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

/// Elasticsearch's default `size` for `_eql/search`.
const JSON_DEFAULT_SIZE: usize = 10;

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

impl Decoder {
    fn new(catalog: FieldCatalog, timestamp: FieldId) -> Decoder {
        Decoder {
            projection: Projection::new(&catalog),
            catalog,
            timestamp,
        }
    }

    /// The event a sort's record holds; `None` if its text no longer decodes (it did once).
    fn decode_record(&self, record: &Record) -> Option<Located> {
        let mut doc = Document::from_text(
            &record.text,
            &self.projection,
            &self.catalog,
            self.timestamp,
            0,
        )
        .ok()?;
        doc.set_position(record.position);
        Some(Located {
            doc,
            input: record.input,
            line: record.line,
        })
    }
}

/// Called with each event and its document's JSON text; `Ok(false)` stops reading the input.
type Emit<'a> = dyn FnMut(Located, &str) -> anyhow::Result<bool> + 'a;

/// What is known of the inputs' order before the query runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Checked in order by a first pass.
    Sorted,
    /// Checked, and not in order.
    Unsorted,
    /// Not checked: the run itself notices a break and starts again, sorted.
    Unknown,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut files = args.files.clone();
    let (text, origin) = match (&args.query_file, &args.query) {
        (Some(path), first) => {
            // With a query file every positional is an input, the first one included.
            if let Some(first) = first {
                files.insert(0, PathBuf::from(first));
            }
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the query from {}", path.display()))?;
            (text, path.display().to_string())
        }
        (None, Some(query)) => (query.clone(), "query".to_string()),
        (None, None) => bail!("no query: give one as the first argument, or with --query-file"),
    };
    let ast = match quarry_eql::parse(&text) {
        Ok(q) => q,
        Err(error) => {
            eprint!("{}", error.render(&text, &origin, super::stderr_style()));
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
            eprint!("{}", error.render(&text, &origin, super::stderr_style()));
            return Ok(ExitCode::from(2));
        }
    };
    drop(ast);
    drop(text);
    let decoder = Decoder::new(catalog, timestamp);
    let inputs = Inputs::new(&files)?;
    let sequences = compiled.is_sequence();
    let size = match (args.size, args.format) {
        (Some(n), _) => Some(n),
        (None, Format::Json) => Some(JSON_DEFAULT_SIZE),
        (None, _) => None,
    };
    let stdout = std::io::stdout();
    let mut sink = Sink::new(
        args.format,
        size,
        std::io::BufWriter::with_capacity(1 << 16, stdout.lock()),
        &inputs,
        &decoder,
    );

    let order = match args.format {
        Format::Ndjson | Format::Table => {
            if in_order(
                &inputs,
                &args.timestamp_field,
                args.tiebreaker_field.as_deref(),
            )? {
                Order::Sorted
            } else {
                Order::Unsorted
            }
        }
        Format::Json | Format::Count => Order::Unknown,
    };

    let mut stats = ReadStats::default();
    let mut position = 0u64;
    // Inputs read whole by the streaming pass, whose problems were reported already.
    let mut reported = 0;
    let mut sorted = order != Order::Unsorted;
    let mut run_stats = RunStats::default();
    if sorted {
        let mut runner = Runner::new(compiled.clone());
        'inputs: for index in 0..inputs.len() {
            let mut unordered = false;
            reported = index + 1;
            inputs.read(
                index,
                &decoder,
                &mut position,
                &mut stats,
                true,
                &mut |event, _| {
                    // Every event is offered, even once a `head` is full: the runner still
                    // checks its order, so unsorted input is noticed.
                    if !unordered {
                        if runner.push(event).is_err() {
                            unordered = true;
                        } else {
                            sink.take(&mut runner)?;
                        }
                    }
                    Ok(true)
                },
            )?;
            if unordered {
                if order == Order::Sorted {
                    bail!("{} changed while it was read", inputs.names[index]);
                }
                sorted = false;
                break 'inputs;
            }
        }
        if sorted {
            let (rest, finished) = runner.finish();
            for hit in rest {
                sink.hit(hit)?;
            }
            run_stats = finished;
        }
    }
    if !sorted {
        eprintln!(
            "quarry: input is not sorted by {}; loading and sorting it",
            args.timestamp_field
        );
        if order == Order::Unknown {
            // Nothing was printed yet: the results of the broken run are forgotten.
            sink.reset();
        }
        stats = ReadStats::default();
        position = 0;
        let mut sorter = Sorter::new(compiled.tiebreaker());
        for index in 0..inputs.len() {
            let report = index >= reported;
            inputs.read(
                index,
                &decoder,
                &mut position,
                &mut stats,
                report,
                &mut |event, text| {
                    let record = Record {
                        input: event.input,
                        line: event.line,
                        position: event.position(),
                        text: text.into(),
                    };
                    sorter
                        .push(&event, record)
                        .context("writing a temporary file to sort the input")?;
                    Ok(true)
                },
            )?;
        }
        let merged = sorter
            .finish(|record: &Record| decoder.decode_record(record))
            .context("sorting the input through temporary files")?;
        let mut runner = Runner::new(compiled);
        for event in merged {
            if runner.is_done() {
                break;
            }
            let event = event.context("reading back a temporary file of sorted input")?;
            if runner.push(event).is_err() {
                bail!("internal error: the sorted input is out of order");
            }
            sink.take(&mut runner)?;
        }
        let (rest, finished) = runner.finish();
        for hit in rest {
            sink.hit(hit)?;
        }
        run_stats = finished;
    }

    let took = started.elapsed().as_millis() as u64;
    let (found, returned) = sink.finish(took, sequences)?;
    let noun = match (sequences, found) {
        (true, 1) => "sequence",
        (true, _) => "sequences",
        (false, 1) => "event",
        (false, _) => "events",
    };
    let mut summary = format!(
        "quarry: {} events read, {found} {noun} matched",
        stats.events
    );
    if returned < found {
        summary.push_str(&format!(", {returned} returned (--size)"));
    }
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

/// Whether the inputs, one after the other, are in the engine's order: the first pass of the
/// streaming formats. Only the timestamp and tiebreaker are decoded, and nothing is reported
/// (the pass that runs the query reports malformed documents); it stops at the first break.
fn in_order(
    inputs: &Inputs,
    timestamp_field: &str,
    tiebreaker_field: Option<&str>,
) -> anyhow::Result<bool> {
    let mut catalog = FieldCatalog::new();
    let timestamp = catalog.intern(timestamp_field);
    let tiebreaker = tiebreaker_field.map(|f| catalog.intern(f));
    let decoder = Decoder::new(catalog, timestamp);
    let mut last: Option<(Timestamp, Value)> = None;
    let mut sorted = true;
    let mut stats = ReadStats::default();
    let mut position = 0;
    for index in 0..inputs.len() {
        inputs.read(
            index,
            &decoder,
            &mut position,
            &mut stats,
            false,
            &mut |event, _| {
                let ts = event.timestamp();
                let tb = tiebreaker.map_or(Value::Null, |f| event.field(f).to_owned());
                if let Some((last_ts, last_tb)) = &last {
                    let order = ts
                        .cmp(last_ts)
                        .then_with(|| tiebreak_order(tb.as_ref(), last_tb.as_ref()));
                    if order == std::cmp::Ordering::Less {
                        sorted = false;
                        return Ok(false);
                    }
                }
                last = Some((ts, tb));
                Ok(true)
            },
        )?;
        if !sorted {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Where results go: written at once for the streaming formats, kept (at most `--size` of
/// them) for `json`, counted for `count`.
struct Sink<'a, W: Write> {
    format: Format,
    size: Option<usize>,
    /// Results offered, and those within `size`.
    found: usize,
    returned: usize,
    out: W,
    inputs: &'a Inputs,
    /// `json`'s results, printed in one body at the end.
    kept: Vec<Hit<Located>>,
    table: Table,
}

impl<'a, W: Write> Sink<'a, W> {
    fn new(
        format: Format,
        size: Option<usize>,
        out: W,
        inputs: &'a Inputs,
        decoder: &Decoder,
    ) -> Self {
        Sink {
            format,
            size,
            found: 0,
            returned: 0,
            out,
            inputs,
            kept: Vec::new(),
            table: Table::new(decoder),
        }
    }

    /// Takes the results the runner has final so far.
    fn take(&mut self, runner: &mut Runner<Located>) -> anyhow::Result<()> {
        for hit in runner.take_found() {
            self.hit(hit)?;
        }
        Ok(())
    }

    fn hit(&mut self, hit: Hit<Located>) -> anyhow::Result<()> {
        self.found += 1;
        if self.size.is_some_and(|n| self.returned >= n) {
            return Ok(());
        }
        self.returned += 1;
        match self.format {
            Format::Json => self.kept.push(hit),
            Format::Ndjson => {
                serde_json::to_writer(&mut self.out, &result_json(&hit, self.inputs))?;
                writeln!(self.out)?;
            }
            Format::Table => self.table.hit(&mut self.out, &hit, self.returned)?,
            Format::Count => {}
        }
        Ok(())
    }

    /// Forgets every result, before a run starts again; only for formats that print nothing
    /// before the end.
    fn reset(&mut self) {
        debug_assert!(matches!(self.format, Format::Json | Format::Count));
        self.found = 0;
        self.returned = 0;
        self.kept.clear();
    }

    /// Prints what is left to print; returns the results found and returned.
    fn finish(mut self, took: u64, sequences: bool) -> anyhow::Result<(usize, usize)> {
        match self.format {
            Format::Json => write_json(&mut self.out, &self.kept, self.inputs, took, sequences)?,
            Format::Ndjson => {}
            Format::Table => self.table.finish(&mut self.out)?,
            Format::Count => writeln!(self.out, "{}", self.returned)?,
        }
        self.out.flush()?;
        Ok((self.found, self.returned))
    }
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

    /// Reads input `index`, calling `emit` for each event in file order with the document's
    /// JSON text. Problems are counted, and printed when `report` is set.
    fn read(
        &self,
        index: usize,
        decoder: &Decoder,
        position: &mut u64,
        stats: &mut ReadStats,
        report: bool,
        emit: &mut Emit<'_>,
    ) -> anyhow::Result<()> {
        let name = &self.names[index];
        let file = File::open(&self.paths[index]).with_context(|| format!("opening {name}"))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let first = first_non_space(&mut reader)?;
        // Every decoded document (or why it could not be) goes through here, numbered in order.
        let mut accept = |decoded: Result<Document, String>,
                          text: &str,
                          line: u64,
                          stats: &mut ReadStats|
         -> anyhow::Result<bool> {
            match decoded {
                Ok(mut doc) => {
                    doc.set_position(*position);
                    *position += 1;
                    stats.events += 1;
                    let event = Located {
                        doc,
                        input: index as u32,
                        line,
                    };
                    emit(event, text)
                }
                Err(e) => {
                    stats.skipped += 1;
                    if report {
                        eprintln!("{name}:{line}: {e}");
                    }
                    Ok(true)
                }
            }
        };
        if first == Some(b'[') {
            // A JSON array of documents: its elements are decoded one at a time as the array
            // streams, so the array is never held whole.
            let mut number = 0u64;
            let mut failed = None;
            let mut stopped = false;
            let mut each = |doc: Json, stats: &mut ReadStats| -> bool {
                number += 1;
                let text = doc.to_string();
                let decoded = Document::from_text(
                    &text,
                    &decoder.projection,
                    &decoder.catalog,
                    decoder.timestamp,
                    0,
                )
                .map_err(|e| e.to_string());
                match accept(decoded, &text, number, stats) {
                    Ok(true) => true,
                    Ok(false) => {
                        stopped = true;
                        false
                    }
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                }
            };
            let mut de = serde_json::Deserializer::from_reader(reader);
            let parsed = serde::Deserializer::deserialize_seq(
                &mut de,
                EachElement {
                    each: &mut each,
                    stats,
                },
            )
            .and_then(|()| de.end());
            if let Some(e) = failed {
                return Err(e);
            }
            if let Err(e) = parsed {
                // Stopping on purpose ends the array early: not a problem of the input.
                if !stopped {
                    if e.is_io() {
                        return Err(anyhow::Error::new(e).context(format!("reading {name}")));
                    }
                    stats.skipped += 1;
                    if report {
                        eprintln!("{name}:{}: not a JSON array of documents: {e}", e.line());
                    }
                }
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
            let (decoded, text) = match std::str::from_utf8(text) {
                Ok(text) => (
                    Document::from_text(
                        text,
                        &decoder.projection,
                        &decoder.catalog,
                        decoder.timestamp,
                        0,
                    )
                    .map_err(|e| e.to_string()),
                    text,
                ),
                Err(e) => (Err(format!("not UTF-8: {e}")), ""),
            };
            if !accept(decoded, text, number, stats)? {
                break;
            }
        }
        Ok(())
    }
}

/// Hands each element of a JSON array to `each` as it is parsed; `each` returning false ends
/// the array early (reported as an error the caller ignores).
struct EachElement<'a, F> {
    each: &'a mut F,
    stats: &'a mut ReadStats,
}

impl<'de, F: FnMut(Json, &mut ReadStats) -> bool> serde::de::Visitor<'de> for EachElement<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON array of documents")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(doc) = seq.next_element::<Json>()? {
            if !(self.each)(doc, self.stats) {
                return Err(serde::de::Error::custom("stopped"));
            }
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
    let list: Vec<Json> = hits.iter().map(|h| result_json(h, inputs)).collect();
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

/// One result as `_eql/search` lists it: an event, or a sequence with its join keys.
fn result_json(hit: &Hit<Located>, inputs: &Inputs) -> Json {
    match hit {
        Hit::Event(e) => hit_json(e, inputs),
        Hit::Sequence(_) => sequence_json(hit, inputs),
    }
}

/// Rows are held back until this many are known, to size the columns from them; later rows
/// are written at once, in those widths (a wider cell then shifts the rest of its row).
const TABLE_SAMPLE_ROWS: usize = 1000;

/// No column is wider than this; longer cells are cut.
const TABLE_MAX_WIDTH: usize = 60;

/// A plain table written as results arrive: one row per event, the hit number first, then the
/// timestamp and every field the query reads.
struct Table {
    fields: Vec<FieldId>,
    /// The header and the first rows, until the widths are fixed.
    pending: Vec<Vec<String>>,
    widths: Option<Vec<usize>>,
}

impl Table {
    fn new(decoder: &Decoder) -> Table {
        let fields: Vec<(FieldId, &str)> = decoder
            .catalog
            .iter()
            .filter(|(id, _)| *id != decoder.timestamp)
            .collect();
        let mut header = vec!["#".to_string(), "@timestamp".to_string()];
        header.extend(fields.iter().map(|(_, n)| n.to_string()));
        Table {
            fields: fields.into_iter().map(|(id, _)| id).collect(),
            pending: vec![header],
            widths: None,
        }
    }

    /// Adds the rows of hit number `number` (from 1).
    fn hit(
        &mut self,
        out: &mut impl Write,
        hit: &Hit<Located>,
        number: usize,
    ) -> anyhow::Result<()> {
        for event in hit.events() {
            let event: &Arc<Located> = event;
            let mut row = vec![number.to_string(), event.timestamp().to_string()];
            row.extend(self.fields.iter().map(|id| cell(event.field(*id))));
            match &self.widths {
                Some(widths) => write_row(out, &row, widths)?,
                None => {
                    self.pending.push(row);
                    if self.pending.len() > TABLE_SAMPLE_ROWS {
                        self.flush(out)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Fixes the widths from the rows held back, and writes them.
    fn flush(&mut self, out: &mut impl Write) -> anyhow::Result<()> {
        let rows = std::mem::take(&mut self.pending);
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|c| {
                rows.iter()
                    .map(|r| r[c].chars().count())
                    .max()
                    .unwrap_or(0)
                    .min(TABLE_MAX_WIDTH)
            })
            .collect();
        for row in &rows {
            write_row(out, row, &widths)?;
        }
        self.widths = Some(widths);
        Ok(())
    }

    fn finish(&mut self, out: &mut impl Write) -> anyhow::Result<()> {
        if self.widths.is_none() {
            self.flush(out)?;
        }
        Ok(())
    }
}

fn write_row(out: &mut impl Write, row: &[String], widths: &[usize]) -> anyhow::Result<()> {
    let cells: Vec<String> = row
        .iter()
        .zip(widths)
        .map(|(cell, w)| {
            let shown: String = cell.chars().take(TABLE_MAX_WIDTH).collect();
            format!("{shown:<w$}", w = *w)
        })
        .collect();
    writeln!(out, "{}", cells.join("  ").trim_end())?;
    Ok(())
}

fn cell(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => "-".to_string(),
        other => other.to_string().replace(['\n', '\t'], " "),
    }
}
