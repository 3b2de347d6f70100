//! One input in, normalized ECS NDJSON out, with a report of everything read, emitted,
//! skipped and malformed: nothing is dropped silently.
//!
//! Output is time-ordered per input through a bounded reorder buffer: sources log requests
//! when they finish, so lines are slightly out of order; events are held until they are older
//! than the newest seen by the reorder window, then written in order. An event later than the
//! window allows is still written (never dropped) and counted as out of order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{self, Write};

use quarry_event::Timestamp;

use crate::access_log;
use crate::classify::{Action, Classifier};
use crate::detect::{Format, detect};
use crate::read::{Compression, Input, Line, Lines, ReadError, open};
use crate::{cloud_audit, cloudapp_events, dc_audit, elastic_integration, org_audit, proxy_log};

/// How to normalize.
#[derive(Debug, Clone)]
pub struct Options {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// The longest line accepted, in bytes.
    pub max_line: usize,
    pub classifier: Classifier,
    /// The valve pattern of access logs written with a non-default pattern.
    pub access_pattern: Option<crate::access_pattern::AccessPattern>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// Stop at the first malformed record.
    pub strict: bool,
    /// How far out of order events may arrive and still be written in order (nanoseconds).
    pub reorder_window: i64,
    /// How many malformed records to quote in the report, per input.
    pub quoted_errors: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: None,
            max_line: crate::read::DEFAULT_MAX_LINE,
            classifier: Classifier::default(),
            access_pattern: None,
            trusted_proxies: crate::proxies::TrustedProxies::default(),
            strict: false,
            reorder_window: 5 * 60 * 1_000_000_000,
            quoted_errors: 5,
        }
    }
}

/// What happened to one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub input: String,
    pub format: Option<Format>,
    pub compression: Compression,
    /// Non-empty lines read.
    pub records: u64,
    pub emitted: u64,
    /// Records deliberately not emitted, by reason (`noise`: static resources and polling;
    /// `other application`: CloudAppEvents rows that are not Confluence activity).
    pub skipped: BTreeMap<&'static str, u64>,
    pub malformed: u64,
    /// The first malformed records, as `input:line: reason`.
    pub first_errors: Vec<String>,
    /// Events written after a later one (beyond the reorder window).
    pub out_of_order: u64,
    /// Why reading stopped before the end of the input, if it did.
    pub read_error: Option<String>,
    /// Events whose `user.name` holds several values (ECS input only): a sequence joins them
    /// under each, so they cannot be routed to one worker by user.
    pub multi_valued_users: u64,
}

impl Report {
    /// Adds the report of the next part of the same input (see [`crate::read::Input::Part`]):
    /// counts add up, quoted errors follow in order up to `quoted_errors`. Events out of order
    /// are counted within each part; disorder across a cut is put right by the merge.
    pub fn absorb(&mut self, part: Report, quoted_errors: usize) {
        self.format = self.format.or(part.format);
        self.records += part.records;
        self.emitted += part.emitted;
        for (reason, n) in part.skipped {
            *self.skipped.entry(reason).or_default() += n;
        }
        self.malformed += part.malformed;
        let room = quoted_errors.saturating_sub(self.first_errors.len());
        self.first_errors
            .extend(part.first_errors.into_iter().take(room));
        self.out_of_order += part.out_of_order;
        self.read_error = self.read_error.take().or(part.read_error);
        self.multi_valued_users += part.multi_valued_users;
    }
}

/// One paragraph per input, as summaries print it: format, records, events, skipped by
/// reason, malformed, then the read error and the first malformed records quoted.
impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self;
        let format = r
            .format
            .map_or("empty".to_string(), |f| f.name().to_string());
        let compression = match r.compression.name() {
            "plain" => String::new(),
            c => format!(" ({c})"),
        };
        let skipped: u64 = r.skipped.values().sum();
        let reasons: Vec<String> = r.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let mut line = format!(
            "{}: {format}{compression}, {} records, {} events, {} skipped{}, {} malformed",
            r.input,
            r.records,
            r.emitted,
            skipped,
            if reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", reasons.join(", "))
            },
            r.malformed
        );
        if r.out_of_order > 0 {
            line.push_str(&format!(", {} written out of time order", r.out_of_order));
        }
        if let Some(e) = &r.read_error {
            line.push_str(&format!("\n  error: {e}"));
        }
        for e in &r.first_errors {
            line.push_str(&format!("\n  {e}"));
        }
        if r.malformed > r.first_errors.len() as u64 {
            line.push_str(&format!(
                "\n  ... and {} more",
                r.malformed - r.first_errors.len() as u64
            ));
        }
        f.write_str(&line)
    }
}

/// Where [`normalize_to`] delivers events, in time order (within the reorder window).
pub trait EventSink {
    /// One event: its `@timestamp` in nanoseconds, [`quarry_event::key_hash`] of its
    /// `user.name` (0 without one; the first value of several), the number of the input line
    /// it came from (so that a later stage can quote `input:line`), and its ECS JSON document.
    fn event(
        &mut self,
        timestamp: i64,
        user_hash: u64,
        line: u64,
        document: &str,
    ) -> io::Result<()>;

    /// Whether this sink takes a document that is, unchanged, a line of a plain input file
    /// as its place in the file ([`EventSink::event_in_input`]) instead of as text: a sink
    /// that can read it back from there later need not copy it. No, by default.
    fn reads_input_in_place(&self) -> bool {
        false
    }

    /// One event whose ECS JSON document is bytes `offset..offset + len` of the input file,
    /// as valid UTF-8 (called instead of [`EventSink::event`] only when
    /// [`EventSink::reads_input_in_place`] says yes).
    fn event_in_input(
        &mut self,
        timestamp: i64,
        user_hash: u64,
        line: u64,
        offset: u64,
        len: u32,
    ) -> io::Result<()> {
        let _ = (timestamp, user_hash, line, offset, len);
        Err(io::Error::other(
            "this sink takes documents as text, not by their place in the input",
        ))
    }
}

/// ECS NDJSON: one document per line.
struct Ndjson<'a>(&'a mut dyn Write);

impl EventSink for Ndjson<'_> {
    fn event(&mut self, _: i64, _: u64, _: u64, document: &str) -> io::Result<()> {
        self.0.write_all(document.as_bytes())?;
        self.0.write_all(b"\n")
    }
}

fn user_hash(user: Option<&str>) -> u64 {
    user.map_or(0, quarry_event::key_hash)
}

#[derive(Debug, thiserror::Error)]
pub enum NormalizeError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{input}: {source}")]
    Io {
        input: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}: cannot tell the format from the first line; name it with --format")]
    UnknownFormat(String),
    /// `--strict`: the first malformed record.
    #[error("{0}")]
    Malformed(String),
}

/// Normalizes `input` to `out` (one ECS JSON document per line).
pub fn normalize(
    input: &Input,
    options: &Options,
    out: &mut dyn Write,
) -> Result<Report, NormalizeError> {
    normalize_to(input, options, &mut Ndjson(out))
}

/// Normalizes `input` into `out`, event by event, with what a consumer that routes or sorts
/// events needs besides the document.
pub fn normalize_to(
    input: &Input,
    options: &Options,
    out: &mut dyn EventSink,
) -> Result<Report, NormalizeError> {
    let name = input.name();
    let io_err = |source| NormalizeError::Io {
        input: name.clone(),
        source,
    };
    let (reader, compression) = open(input)?;
    let mut lines = Lines::new(reader, options.max_line);
    if let Input::Part {
        first_line, start, ..
    } = input
    {
        lines = lines.first_number(*first_line).first_offset(*start);
    }
    // The lines of a plain file can be read again where they are: a sink that wants them so
    // gets their place instead of a copy.
    let in_place = out.reads_input_in_place()
        && compression == Compression::None
        && matches!(input, Input::File(_) | Input::Part { .. });
    let mut report = Report {
        input: name.clone(),
        format: options.format,
        compression,
        records: 0,
        emitted: 0,
        skipped: BTreeMap::new(),
        malformed: 0,
        first_errors: Vec::new(),
        out_of_order: 0,
        read_error: None,
        multi_valued_users: 0,
    };
    let mut buffer = Reorder::new(options.reorder_window);
    let mut window_set = false;
    let malformed =
        |report: &mut Report, line: u64, reason: String| -> Result<(), NormalizeError> {
            report.malformed += 1;
            let quoted = format!("{name}:{line}: {reason}");
            if options.strict {
                return Err(NormalizeError::Malformed(quoted));
            }
            if report.first_errors.len() < options.quoted_errors {
                report.first_errors.push(quoted);
            }
            Ok(())
        };
    // A CSV export (CloudAppEvents) is handed to a CSV reader whole: quoted fields span lines.
    let mut csv_header: Option<Vec<u8>> = None;
    loop {
        // A read error (a truncated gzip file, a vanished disk) ends the input, not the work
        // done on it: what was read is still written, and the report says where it stopped.
        let line_start = lines.next_offset();
        let (number, line) = match lines.next_line() {
            Ok(Some(next)) => next,
            Ok(None) => break,
            Err(e) => {
                report.read_error = Some(format!(
                    "stopped reading after {} records: {e}",
                    report.records
                ));
                break;
            }
        };
        let text = match line {
            Line::TooLong(n) => {
                report.records += 1;
                malformed(
                    &mut report,
                    number,
                    format!(
                        "line of {n} bytes exceeds the limit of {} bytes",
                        options.max_line
                    ),
                )?;
                continue;
            }
            Line::Text(t) => t,
        };
        // A byte order mark opens many files written on Windows: it marks the encoding, it
        // is not part of the first record.
        const BOM: &[u8] = b"\xef\xbb\xbf";
        let (text, line_start) = match text.strip_prefix(BOM) {
            Some(rest) if line_start == 0 => (rest, BOM.len() as u64),
            _ => (text, line_start),
        };
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        report.records += 1;
        let format = match report.format {
            Some(f) => f,
            None => {
                let f = detect(text).ok_or_else(|| NormalizeError::UnknownFormat(name.clone()))?;
                report.format = Some(f);
                f
            }
        };
        if !window_set {
            // Audit APIs page newest-first and audit files are small: order them whole. Web
            // logs are nearly ordered and large: a bounded window suffices.
            if !matches!(
                format,
                Format::AccessLog | Format::ProxyLog | Format::EcsNdjson
            ) {
                buffer.window = i64::MAX;
            }
            window_set = true;
        }
        if format == Format::CloudAppEvents
            && !text.trim_ascii_start().starts_with(b"{")
            && !text.trim_ascii_start().starts_with(b"[")
        {
            report.records -= 1; // the header is not a record
            csv_header = Some(text.to_vec());
            break;
        }
        let Ok(text) = std::str::from_utf8(text) else {
            malformed(&mut report, number, "not UTF-8 text".to_string())?;
            continue;
        };
        match format {
            Format::AccessLog | Format::ProxyLog => match web_line(format, text, options) {
                Ok(event) if event.action == Action::Noise.as_str() => {
                    *report.skipped.entry("noise").or_default() += 1;
                }
                Ok(event) => buffer
                    .push_event(&event, number, out, &mut report)
                    .map_err(io_err)?,
                Err(e) => malformed(&mut report, number, e.to_string())?,
            },
            Format::CloudAppEvents => match cloudapp_events::parse_line_counted(text) {
                Ok((events, skipped)) => {
                    if skipped > 0 {
                        *report.skipped.entry("other application").or_default() += skipped;
                    }
                    for event in events {
                        buffer
                            .push_event(&event, number, out, &mut report)
                            .map_err(io_err)?;
                    }
                }
                Err(e) => malformed(&mut report, number, e.to_string())?,
            },
            Format::DcAudit
            | Format::CloudAudit
            | Format::ElasticIntegration
            | Format::OrgAudit => match parse_audit(format, text) {
                Ok(events) => {
                    for event in events {
                        buffer
                            .push_event(&event, number, out, &mut report)
                            .map_err(io_err)?;
                    }
                }
                Err(e) => malformed(&mut report, number, e.to_string())?,
            },
            Format::EcsNdjson => match ecs_documents(text) {
                Ok(documents) => {
                    // A place is a u32 length (below 2 GiB): a longer line is copied.
                    let place = u32::try_from(text.len())
                        .ok()
                        .filter(|len| *len < 1 << 31)
                        .map(|len| (line_start, len));
                    for (ts, user, document) in documents {
                        let hash = match user {
                            User::None => 0,
                            User::One(h) => h,
                            User::Many(h) => {
                                report.multi_valued_users += 1;
                                h
                            }
                        };
                        let body = match document {
                            Some(text) => Body::Text(text),
                            None => match place {
                                Some((offset, len)) if in_place => Body::InInput(offset, len),
                                _ => Body::Text(text.to_string()),
                            },
                        };
                        buffer
                            .push(ts, hash, number, body, out, &mut report)
                            .map_err(io_err)?;
                    }
                }
                Err(reason) => malformed(&mut report, number, reason)?,
            },
        }
    }
    if let Some(header) = csv_header {
        normalize_csv(
            header,
            lines.into_inner(),
            &mut buffer,
            out,
            &mut report,
            &malformed,
        )?;
    }
    buffer.flush(out, &mut report).map_err(io_err)?;
    Ok(report)
}

/// CloudAppEvents rows from a CSV export, the header line already read.
fn normalize_csv(
    header: Vec<u8>,
    rest: impl io::BufRead,
    buffer: &mut Reorder,
    out: &mut dyn EventSink,
    report: &mut Report,
    malformed: &dyn Fn(&mut Report, u64, String) -> Result<(), NormalizeError>,
) -> Result<(), NormalizeError> {
    let mut head = header;
    head.push(b'\n');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(io::Read::chain(io::Cursor::new(head), rest));
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return malformed(report, 1, format!("CSV header: {e}")),
    };
    for record in reader.records() {
        report.records += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                malformed(report, line, format!("CSV: {e}"))?;
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let row: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect();
        match cloudapp_events::parse_row(&serde_json::Value::Object(row)) {
            Ok(Some(event)) => buffer
                .push_event(&event, line, out, report)
                .map_err(|source| NormalizeError::Io {
                    input: report.input.clone(),
                    source,
                })?,
            Ok(None) => *report.skipped.entry("other application").or_default() += 1,
            Err(e) => malformed(report, line, e.to_string())?,
        }
    }
    Ok(())
}

/// The event of one web log line, Confluence's or a proxy's.
fn web_line(format: Format, text: &str, options: &Options) -> Result<crate::ecs::EcsEvent, String> {
    match format {
        Format::AccessLog => match &options.access_pattern {
            Some(pattern) => pattern
                .parse_line(text, &options.classifier, &options.trusted_proxies)
                .map_err(|e| e.to_string()),
            None => {
                access_log::parse_line_with(text, &options.classifier, &options.trusted_proxies)
                    .map_err(|e| e.to_string())
            }
        },
        _ => proxy_log::parse_line(text, &options.classifier).map_err(|e| e.to_string()),
    }
}

/// The events of one audit line, DC or Cloud.
fn parse_audit(format: Format, text: &str) -> Result<Vec<crate::ecs::EcsEvent>, String> {
    match format {
        Format::DcAudit => dc_audit::parse_line(text).map_err(|e| e.to_string()),
        Format::ElasticIntegration => {
            elastic_integration::parse_line(text).map_err(|e| e.to_string())
        }
        Format::OrgAudit => org_audit::parse_line(text).map_err(|e| e.to_string()),
        _ => cloud_audit::parse_line(text).map_err(|e| e.to_string()),
    }
}

/// Whose an ECS document is, as a [`quarry_event::key_hash`] of its `user.name`.
enum User {
    None,
    One(u64),
    /// Several values: the hash of the first.
    Many(u64),
}

impl User {
    fn of(value: quarry_event::ValueRef<'_>) -> User {
        let hash = value.key_text().map_or(0, |k| quarry_event::key_hash(&k));
        match value {
            quarry_event::ValueRef::Null => User::None,
            quarry_event::ValueRef::Array(_) => User::Many(hash),
            _ => User::One(hash),
        }
    }
}

/// The ECS documents of one line with their timestamps: the line itself, or the `_source` of
/// every hit of an Elasticsearch response body (`_search` hits, `_eql/search` events and
/// sequences), or of a JSON array of hits or documents (Kibana and Discover exports). A
/// document that is the line itself comes without its text (`None`): the caller has it.
fn ecs_documents(text: &str) -> Result<Vec<(i64, User, Option<String>)>, String> {
    use serde_json::Value;
    // The common case, one plain document per line, needs only its @timestamp: read that
    // without building the document (an Elasticsearch response, with `hits`, takes the long
    // way below).
    thread_local! {
        static PLAIN: (quarry_event::FieldCatalog, quarry_event::Projection) = {
            let mut catalog = quarry_event::FieldCatalog::new();
            catalog.intern("@timestamp");
            catalog.intern("user.name");
            let projection = quarry_event::Projection::new(&catalog);
            (catalog, projection)
        };
    }
    // A response body names `hits`: only such lines need the whole tree.
    let plain = !text.contains("\"hits\"");
    let fast = PLAIN.with(|(_, projection)| match projection.project_text(text) {
        Ok(values) if plain => Some(match values[0].as_ref() {
            quarry_event::ValueRef::Null => Err("no @timestamp field".to_string()),
            ts => Timestamp::from_value(ts)
                .map(|t| vec![(t.nanos(), User::of(values[1].as_ref()), None)])
                .map_err(|e| format!("@timestamp: {e}")),
        }),
        _ => None,
    });
    if let Some(result) = fast {
        return result;
    }
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let hits = doc.get("hits");
    let mut sources: Vec<&Value> = Vec::new();
    let mut whole_line = false;
    if let Some(list) = hits
        .and_then(|h| h.get("hits").or_else(|| h.get("events")))
        .and_then(Value::as_array)
    {
        sources.extend(list.iter().map(|h| h.get("_source").unwrap_or(h)));
    } else if let Some(sequences) = hits
        .and_then(|h| h.get("sequences"))
        .and_then(Value::as_array)
    {
        for sequence in sequences {
            let events = sequence.get("events").and_then(Value::as_array);
            sources.extend(
                events
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.get("_source")),
            );
        }
    } else if let Some(items) = doc.as_array() {
        sources.extend(items.iter().map(|h| h.get("_source").unwrap_or(h)));
    } else {
        whole_line = true;
        sources.push(&doc);
    }
    sources
        .into_iter()
        .map(|source| {
            let object = source
                .as_object()
                .ok_or_else(|| "not a JSON object".to_string())?;
            let ts = object
                .get("@timestamp")
                .ok_or_else(|| "no @timestamp field".to_string())?;
            let ts = Timestamp::from_json(ts)
                .map(Timestamp::nanos)
                .map_err(|e| format!("@timestamp: {e}"))?;
            // A plain document is written as it came; a hit's source is re-serialized.
            let text = (!whole_line).then(|| source.to_string());
            let user =
                PLAIN.with(|(_, projection)| User::of(projection.project(object)[1].as_ref()));
            Ok((ts, user, text))
        })
        .collect()
}

/// An event's document as the reorder buffer holds it.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Body {
    Text(String),
    /// The document is bytes `offset..offset + len` of the input file.
    InInput(u64, u32),
}

/// An event waiting in the reorder buffer: (time, arrival, user hash, line, document).
type Held = (i64, u64, u64, u64, Body);

/// Holds events until they are older than the newest by the window, then writes them in order.
struct Reorder {
    window: i64,
    heap: BinaryHeap<Reverse<Held>>,
    newest: i64,
    written: i64,
    seq: u64,
}

impl Reorder {
    fn new(window: i64) -> Self {
        Reorder {
            window,
            heap: BinaryHeap::new(),
            newest: i64::MIN,
            written: i64::MIN,
            seq: 0,
        }
    }

    fn push(
        &mut self,
        ts: i64,
        user_hash: u64,
        number: u64,
        body: Body,
        out: &mut dyn EventSink,
        report: &mut Report,
    ) -> io::Result<()> {
        self.newest = self.newest.max(ts);
        self.heap
            .push(Reverse((ts, self.seq, user_hash, number, body)));
        self.seq += 1;
        while let Some(Reverse((oldest, _, _, _, _))) = self.heap.peek() {
            if self.newest.saturating_sub(*oldest) <= self.window {
                break;
            }
            self.write_one(out, report)?;
        }
        Ok(())
    }

    /// Buffers a normalized event as its JSON line.
    fn push_event(
        &mut self,
        event: &crate::ecs::EcsEvent,
        number: u64,
        out: &mut dyn EventSink,
        report: &mut Report,
    ) -> io::Result<()> {
        let ts = event.timestamp.map_or(i64::MIN, Timestamp::nanos);
        let mut json = Vec::with_capacity(512);
        event.write_json(&mut json);
        let json = String::from_utf8(json).expect("JSON is UTF-8");
        self.push(
            ts,
            user_hash(event.user_name.as_deref()),
            number,
            Body::Text(json),
            out,
            report,
        )
    }

    fn write_one(&mut self, out: &mut dyn EventSink, report: &mut Report) -> io::Result<()> {
        if let Some(Reverse((ts, _, user, number, body))) = self.heap.pop() {
            if ts < self.written {
                report.out_of_order += 1;
            }
            self.written = self.written.max(ts);
            match body {
                Body::Text(text) => out.event(ts, user, number, &text)?,
                Body::InInput(offset, len) => out.event_in_input(ts, user, number, offset, len)?,
            }
            report.emitted += 1;
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut dyn EventSink, report: &mut Report) -> io::Result<()> {
        while !self.heap.is_empty() {
            self.write_one(out, report)?;
        }
        Ok(())
    }
}
