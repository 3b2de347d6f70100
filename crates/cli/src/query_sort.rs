//! Sorting `quarry query`'s input by time in bounded memory.
//!
//! The engine takes events in `(timestamp, tiebreaker, input position)` order. Input that is not
//! in that order used to be loaded whole and sorted, which needs memory several times the size of
//! the input. Here the events are cut into runs of at most a fixed amount of text; each run is
//! sorted in memory and written to an anonymous temporary file, and the runs are merged back into
//! one ordered stream. Memory is one run while reading, and one event per run while merging.
//!
//! A run file holds each event's raw JSON text and where it came from, not its projected values:
//! the merge decodes the text again with the query's projection, so this module needs no format
//! of its own for values and cannot drift from how the first read decoded them.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

use quarry_engine::query::{event_order, tiebreak_order};
use quarry_event::{Event, FieldId, Timestamp, Value};

/// How much event text one run holds before it is sorted and written out. With the per-event
/// bookkeeping this keeps the sort's memory well under 100 MiB.
const RUN_BYTES: usize = 32 << 20;

/// At most this many runs are merged at once (one open file and one decoded event each); more
/// are first merged, this many at a time, into longer runs.
const MAX_FAN_IN: usize = 64;

/// One event as a run file stores it.
pub struct Record {
    /// The index of the input it came from.
    pub input: u32,
    /// Its line (or, in a JSON array, element) number in that input.
    pub line: u64,
    /// Its position in the concatenated inputs: the last tiebreak of the order.
    pub position: u64,
    /// The document's JSON text.
    pub text: Box<str>,
}

impl Record {
    fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let len = u32::try_from(self.text.len()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "a document of 4 GiB or more cannot be sorted",
            )
        })?;
        out.write_all(&self.input.to_le_bytes())?;
        out.write_all(&self.line.to_le_bytes())?;
        out.write_all(&self.position.to_le_bytes())?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(self.text.as_bytes())
    }

    /// The next record of a run, or `None` at its end.
    fn read(input: &mut impl Read) -> io::Result<Option<Record>> {
        let mut head = [0u8; 20];
        // A clean end of file can only fall between records.
        match input.read(&mut head[..1])? {
            0 => return Ok(None),
            _ => input.read_exact(&mut head[1..])?,
        }
        let mut len = [0u8; 4];
        input.read_exact(&mut len)?;
        let mut text = vec![0u8; u32::from_le_bytes(len) as usize];
        input.read_exact(&mut text)?;
        let text = String::from_utf8(text)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            .into_boxed_str();
        let word = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().expect("8 bytes"));
        Ok(Some(Record {
            input: u32::from_le_bytes(head[..4].try_into().expect("4 bytes")),
            line: word(4),
            position: word(12),
            text,
        }))
    }
}

/// A record waiting in the current run, with the order key its event had when it was read.
struct Entry {
    timestamp: Timestamp,
    tiebreaker: Value,
    record: Record,
}

/// Gathers events into sorted runs on disk.
pub struct Sorter {
    tiebreaker: Option<FieldId>,
    run: Vec<Entry>,
    /// The text (and bookkeeping) bytes in `run`.
    run_bytes: usize,
    /// [`RUN_BYTES`] and [`MAX_FAN_IN`], smaller in tests.
    run_limit: usize,
    fan_in: usize,
    runs: Vec<File>,
}

impl Sorter {
    /// A sorter ordering events by timestamp, then by the value of `tiebreaker` (nulls last),
    /// then by position, as the engine does.
    pub fn new(tiebreaker: Option<FieldId>) -> Sorter {
        Sorter {
            tiebreaker,
            run: Vec::new(),
            run_bytes: 0,
            run_limit: RUN_BYTES,
            fan_in: MAX_FAN_IN,
            runs: Vec::new(),
        }
    }

    /// Adds `event`, whose document text and location are `record`. Only the order key is
    /// taken from the event; it can be dropped afterwards.
    pub fn push(&mut self, event: &impl Event, record: Record) -> io::Result<()> {
        let tiebreaker = self
            .tiebreaker
            .map_or(Value::Null, |f| event.field(f).to_owned());
        self.run_bytes += record.text.len() + std::mem::size_of::<Entry>();
        self.run.push(Entry {
            timestamp: event.timestamp(),
            tiebreaker,
            record,
        });
        if self.run_bytes >= self.run_limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Sorts the current run and writes it to a temporary file.
    fn spill(&mut self) -> io::Result<()> {
        if self.run.is_empty() {
            return Ok(());
        }
        self.run.sort_by(|a, b| {
            a.timestamp
                .cmp(&b.timestamp)
                .then_with(|| tiebreak_order(a.tiebreaker.as_ref(), b.tiebreaker.as_ref()))
                .then_with(|| a.record.position.cmp(&b.record.position))
        });
        let mut out = BufWriter::with_capacity(1 << 16, tempfile::tempfile()?);
        for entry in self.run.drain(..) {
            entry.record.write(&mut out)?;
        }
        self.runs.push(finish_run(out)?);
        self.run_bytes = 0;
        Ok(())
    }

    /// Every event added, in order: `decode` turns a record back into its event (`None` drops
    /// the record, which should not happen for text that decoded once already).
    pub fn finish<E, D>(mut self, mut decode: D) -> io::Result<Merge<E, D>>
    where
        E: Event,
        D: FnMut(&Record) -> Option<E>,
    {
        self.spill()?;
        let mut runs = self.runs;
        // Too many runs to merge at once: merge groups of them into longer runs first.
        let fan_in = self.fan_in.max(2);
        while runs.len() > fan_in {
            let mut longer = Vec::with_capacity(runs.len().div_ceil(fan_in));
            let mut rest = runs.into_iter();
            loop {
                let group: Vec<File> = rest.by_ref().take(fan_in).collect();
                if group.is_empty() {
                    break;
                }
                let mut merge = Merge::new(group, self.tiebreaker, &mut decode)?;
                let mut out = BufWriter::with_capacity(1 << 16, tempfile::tempfile()?);
                while let Some(next) = merge.next_record() {
                    let (_, record) = next?;
                    record.write(&mut out)?;
                }
                longer.push(finish_run(out)?);
            }
            runs = longer;
        }
        Merge::new(runs, self.tiebreaker, decode)
    }
}

/// Flushes a run and rewinds it for reading.
fn finish_run(out: BufWriter<File>) -> io::Result<File> {
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    file.rewind()?;
    Ok(file)
}

/// The smallest unread event of one run.
struct Head<E> {
    event: E,
    record: Record,
    run: usize,
    tiebreaker: Option<FieldId>,
}

impl<E: Event> Ord for Head<E> {
    /// Reversed, so that the max-heap `BinaryHeap` yields the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        event_order(&other.event, &self.event, self.tiebreaker)
    }
}

impl<E: Event> PartialOrd for Head<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E: Event> PartialEq for Head<E> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<E: Event> Eq for Head<E> {}

/// Sorted runs merged into one ordered stream of events.
pub struct Merge<E, D> {
    readers: Vec<BufReader<File>>,
    heap: BinaryHeap<Head<E>>,
    tiebreaker: Option<FieldId>,
    decode: D,
}

impl<E, D> Merge<E, D>
where
    E: Event,
    D: FnMut(&Record) -> Option<E>,
{
    fn new(runs: Vec<File>, tiebreaker: Option<FieldId>, decode: D) -> io::Result<Self> {
        let mut merge = Merge {
            readers: runs
                .into_iter()
                .map(|f| BufReader::with_capacity(1 << 16, f))
                .collect(),
            heap: BinaryHeap::new(),
            tiebreaker,
            decode,
        };
        for run in 0..merge.readers.len() {
            merge.refill(run)?;
        }
        Ok(merge)
    }

    /// Reads the next decodable record of `run` into the heap, if the run has one.
    fn refill(&mut self, run: usize) -> io::Result<()> {
        while let Some(record) = Record::read(&mut self.readers[run])? {
            if let Some(event) = (self.decode)(&record) {
                self.heap.push(Head {
                    event,
                    record,
                    run,
                    tiebreaker: self.tiebreaker,
                });
                return Ok(());
            }
        }
        Ok(())
    }

    /// The next event in order, with its record.
    fn next_record(&mut self) -> Option<io::Result<(E, Record)>> {
        let head = self.heap.pop()?;
        if let Err(e) = self.refill(head.run) {
            return Some(Err(e));
        }
        Some(Ok((head.event, head.record)))
    }
}

impl<E, D> Iterator for Merge<E, D>
where
    E: Event,
    D: FnMut(&Record) -> Option<E>,
{
    type Item = io::Result<E>;

    fn next(&mut self) -> Option<io::Result<E>> {
        self.next_record().map(|r| r.map(|(event, _)| event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quarry_event::Document;

    fn event(ts: i64, tb: Value, position: u64) -> Document {
        Document::from_values(
            vec![Value::Integer(ts), tb],
            Timestamp::from_millis(ts).unwrap(),
            position,
        )
    }

    /// Events pushed in a scrambled order come back in the engine's order, through many runs
    /// and several merge passes.
    #[test]
    fn runs_merge_into_the_engine_order() {
        let tiebreaker = Some(FieldId(1));
        let mut sorter = Sorter::new(tiebreaker);
        sorter.run_limit = 200;
        sorter.fan_in = 3;
        let mut events = Vec::new();
        for position in 0..500u64 {
            let ts = ((position * 7919) % 37) as i64;
            let tb = match position % 3 {
                0 => Value::Null,
                1 => Value::Integer((position % 5) as i64),
                _ => Value::String(format!("s{}", position % 4)),
            };
            let e = event(ts, tb, position);
            let text = format!("{{\"ts\":{ts},\"position\":{position}}}");
            sorter
                .push(
                    &e,
                    Record {
                        input: (position % 2) as u32,
                        line: position + 1,
                        position,
                        text: text.into(),
                    },
                )
                .unwrap();
            events.push(e);
        }
        assert!(sorter.runs.len() > 9, "several merge passes are needed");
        let mut expected = events.clone();
        quarry_engine::sort_events(&mut expected, tiebreaker);
        let by_position = |p: u64| events[p as usize].clone();
        let merged: Vec<Document> = sorter
            .finish(|r: &Record| {
                assert_eq!(r.line, r.position + 1);
                assert_eq!(r.input, (r.position % 2) as u32);
                assert!(r.text.contains(&format!("\"position\":{}", r.position)));
                Some(by_position(r.position))
            })
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        let positions = |v: &[Document]| v.iter().map(|e| e.position()).collect::<Vec<_>>();
        assert_eq!(positions(&merged), positions(&expected));
    }

    #[test]
    fn nothing_pushed_merges_to_nothing() {
        let sorter = Sorter::new(None);
        let merged = sorter.finish(|_: &Record| None::<Document>).unwrap();
        assert_eq!(merged.count(), 0);
    }
}
