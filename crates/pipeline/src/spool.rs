//! Spools: one input's normalized events on disk, between normalizing and hunting.
//!
//! A hunt reads its inputs twice over: once to normalize them (and sort the few that are out
//! of order), once merged by time into the rules. Between the two the events wait here, in
//! records that carry what the merge and the routing of events to workers need without
//! parsing the document again:
//!
//! ```text
//! [document length: u32 LE] [@timestamp, ns: i64 LE] [user hash: u64 LE] [input line: u64 LE]
//! [document]                            -- or, when the length's top bit is set:
//! [offset of the document in the input file: u64 LE]
//! ```
//!
//! The user hash is [`quarry_event::key_hash`] of `user.name`; the line is where the event
//! came from in its input, so a document the rules cannot decode is quoted as `input:line`.
//! Documents are ECS JSON, read back by byte range (`pread`) when an alert shows one, so
//! events held in rule windows need not carry their text.
//!
//! A document that is a line of a plain input file, unchanged (ECS NDJSON, the common case),
//! is not copied at all: its record says where it is in the input, and the hunt reads it
//! there ([`InputReader`]). The spool of a time-ordered ECS file is then 36 bytes an event,
//! not a second copy of the file.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Seek, Write};

use quarry_ingest::normalize::{EventSink, Report};

/// Bytes before each document.
const HEADER: usize = 28;

/// The length's top bit: the document is in the input file, at the offset that follows.
const IN_INPUT: u32 = 1 << 31;

/// Records of a spool sorted in memory at a time; beyond this they are sorted in runs on disk
/// and merged, so memory stays bounded whatever the input's size.
pub const SORT_RUN_RECORDS: usize = 200_000;

/// One input's (or one part of an input's) normalized events.
pub struct Spool {
    /// The index of the input in the run's list.
    pub input: usize,
    pub report: Report,
    pub file: File,
    /// The input file, open, when records point into it.
    pub input_file: Option<File>,
}

/// Writes records (an [`EventSink`] for the normalizer).
pub struct SpoolWriter<W: Write> {
    pub out: W,
    /// Documents that are lines of the input file are recorded by their place in it.
    pub in_place: bool,
}

impl<W: Write> EventSink for SpoolWriter<W> {
    fn event(
        &mut self,
        timestamp: i64,
        user_hash: u64,
        line: u64,
        document: &str,
    ) -> io::Result<()> {
        write_record(
            &mut self.out,
            timestamp,
            user_hash,
            line,
            Body::Text(document.as_bytes()),
        )
    }

    fn reads_input_in_place(&self) -> bool {
        self.in_place
    }

    fn event_in_input(
        &mut self,
        timestamp: i64,
        user_hash: u64,
        line: u64,
        offset: u64,
        len: u32,
    ) -> io::Result<()> {
        write_record(
            &mut self.out,
            timestamp,
            user_hash,
            line,
            Body::InInput { offset, len },
        )
    }
}

/// A record's document: its text, or where it is in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body<'a> {
    Text(&'a [u8]),
    InInput { offset: u64, len: u32 },
}

fn write_record(
    out: &mut impl Write,
    ts: i64,
    user: u64,
    line: u64,
    body: Body<'_>,
) -> io::Result<()> {
    let too_long = || io::Error::other("a document over 2 GiB cannot be spooled");
    let len = match body {
        Body::Text(document) => u32::try_from(document.len())
            .ok()
            .filter(|n| n & IN_INPUT == 0)
            .ok_or_else(too_long)?,
        Body::InInput { len, .. } if len & IN_INPUT == 0 => len | IN_INPUT,
        Body::InInput { .. } => return Err(too_long()),
    };
    let mut header = [0u8; HEADER];
    header[..4].copy_from_slice(&len.to_le_bytes());
    header[4..12].copy_from_slice(&ts.to_le_bytes());
    header[12..20].copy_from_slice(&user.to_le_bytes());
    header[20..].copy_from_slice(&line.to_le_bytes());
    out.write_all(&header)?;
    match body {
        Body::Text(document) => out.write_all(document),
        Body::InInput { offset, .. } => out.write_all(&offset.to_le_bytes()),
    }
}

/// A record's header, with where its document starts in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub timestamp: i64,
    pub user_hash: u64,
    /// The event's line in its input.
    pub line: u64,
    /// Where the document is: in the spool file, or in the input file when `in_input`.
    pub offset: u64,
    pub len: u32,
    pub in_input: bool,
}

/// Reads a spool's records in order; each document is then read or skipped.
///
/// Reads are positional (`pread`), so several readers (one per worker) can walk one spool
/// file at once without sharing a file offset.
pub struct SpoolReader {
    file: File,
    buf: Vec<u8>,
    /// `buf[start..end]` is unread; it came from the file at `end_offset - (end - start)`.
    start: usize,
    end: usize,
    /// The file offset just after `buf[..end]`.
    end_offset: u64,
    /// The current record's document is still unread.
    pending: Option<u32>,
}

const READ_BUFFER: usize = 1 << 20;

impl SpoolReader {
    pub fn new(file: &File) -> io::Result<SpoolReader> {
        Ok(SpoolReader {
            file: file.try_clone()?,
            buf: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
            end_offset: 0,
            pending: None,
        })
    }

    /// The file offset of the next unread byte.
    fn offset(&self) -> u64 {
        self.end_offset - (self.end - self.start) as u64
    }

    /// Fills `out` from the file; false at the end of the file before any byte.
    fn read_exact(&mut self, out: &mut [u8]) -> io::Result<bool> {
        let mut done = 0;
        while done < out.len() {
            if self.start == self.end {
                self.start = 0;
                self.end = read_at(&self.file, &mut self.buf, self.end_offset)?;
                self.end_offset += self.end as u64;
                if self.end == 0 {
                    if done == 0 {
                        return Ok(false);
                    }
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "a spool record is cut short",
                    ));
                }
            }
            let n = (self.end - self.start).min(out.len() - done);
            out[done..done + n].copy_from_slice(&self.buf[self.start..self.start + n]);
            self.start += n;
            done += n;
        }
        Ok(true)
    }

    /// The next record's header (the previous record's document skipped if unread).
    pub fn next_head(&mut self) -> io::Result<Option<Head>> {
        self.skip();
        let mut header = [0u8; HEADER];
        if !self.read_exact(&mut header)? {
            return Ok(None);
        }
        let word = |range: std::ops::Range<usize>| -> [u8; 8] {
            header[range].try_into().expect("eight bytes")
        };
        let len = u32::from_le_bytes(header[..4].try_into().expect("four bytes"));
        let in_input = len & IN_INPUT != 0;
        let offset = if in_input {
            let mut offset = [0u8; 8];
            if !self.read_exact(&mut offset)? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "a spool record is cut short",
                ));
            }
            u64::from_le_bytes(offset)
        } else {
            self.offset()
        };
        let head = Head {
            len: len & !IN_INPUT,
            timestamp: i64::from_le_bytes(word(4..12)),
            user_hash: u64::from_le_bytes(word(12..20)),
            line: u64::from_le_bytes(word(20..28)),
            offset,
            in_input,
        };
        self.pending = (!in_input).then_some(len);
        Ok(Some(head))
    }

    /// The current record's document (empty for a record whose document is in the input:
    /// read it there with an [`InputReader`]).
    pub fn document<'b>(&mut self, buf: &'b mut Vec<u8>) -> io::Result<&'b [u8]> {
        let len = self.pending.take().unwrap_or(0) as usize;
        buf.resize(len, 0);
        self.read_exact(buf)?;
        Ok(buf)
    }

    /// Skips the current record's document: within the buffer, or by moving the offset.
    fn skip(&mut self) {
        if let Some(len) = self.pending.take() {
            let len = len as usize;
            if len <= self.end - self.start {
                self.start += len;
            } else {
                self.end_offset = self.offset() + len as u64;
                self.start = 0;
                self.end = 0;
            }
        }
    }
}

/// Reads at `offset` without moving the file's own offset.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    loop {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_at(file, buf, offset);
        #[cfg(windows)]
        let read = std::os::windows::fs::FileExt::seek_read(file, buf, offset);
        match read {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Reads documents out of an input file, in nearly increasing offsets (as a time-ordered
/// input's records come), through a window of the file read ahead; a document far from the
/// window (a sorted spool of an input out of order) is read alone.
pub struct InputReader {
    file: File,
    window: Vec<u8>,
    /// The file offset of `window[0]`.
    start: u64,
}

/// How much of the input is read at once, and how far before a missed document the window
/// starts (records in a reorder window step back a little).
const INPUT_WINDOW: usize = 1 << 20;
const INPUT_BACKSTEP: u64 = 1 << 16;

impl InputReader {
    pub fn new(file: &File) -> io::Result<InputReader> {
        Ok(InputReader {
            file: file.try_clone()?,
            window: Vec::new(),
            start: 0,
        })
    }

    /// The `len` bytes at `offset`, in `buf`.
    pub fn read<'b>(
        &mut self,
        offset: u64,
        len: u32,
        buf: &'b mut Vec<u8>,
    ) -> io::Result<&'b [u8]> {
        let len = len as usize;
        let changed = || {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the input file is shorter than when it was read (it changed during the hunt)",
            )
        };
        let end = self.start + self.window.len() as u64;
        let inside = offset >= self.start && offset + len as u64 <= end;
        if !inside {
            let near =
                offset + (INPUT_WINDOW as u64) >= self.start && offset < end + INPUT_WINDOW as u64;
            if len > INPUT_WINDOW / 2 || (!near && !self.window.is_empty()) {
                buf.resize(len, 0);
                if read_full(&self.file, buf, offset)? < len {
                    return Err(changed());
                }
                return Ok(buf);
            }
            self.start = offset.saturating_sub(INPUT_BACKSTEP);
            self.window.resize(INPUT_WINDOW, 0);
            let n = read_full(&self.file, &mut self.window, self.start)?;
            self.window.truncate(n);
            if offset + len as u64 > self.start + n as u64 {
                return Err(changed());
            }
        }
        let at = (offset - self.start) as usize;
        buf.clear();
        buf.extend_from_slice(&self.window[at..at + len]);
        Ok(buf)
    }
}

/// Fills `buf` from `offset` as far as the file goes; the number of bytes read.
fn read_full(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let n = read_at(file, &mut buf[done..], offset + done as u64)?;
        if n == 0 {
            break;
        }
        done += n;
    }
    Ok(done)
}

/// Documents read back by byte range (with `pread`) when an alert shows one: a spool's, or
/// an input file's.
#[derive(Debug)]
pub struct SpoolStore(pub File);

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

/// Sorts a spool whose input was further out of order than the reorder window allows: runs
/// of `run_records` records are sorted by time into temporary files, then merged back into
/// the spool. Stable: records of equal time keep their input order.
pub fn sort_spool(file: &mut File, run_records: usize) -> io::Result<()> {
    // A record's document, or its place in the input (`len`, `offset`).
    type Run = Vec<(i64, u64, u64, Result<Vec<u8>, (u32, u64)>)>;
    fn body(document: &Result<Vec<u8>, (u32, u64)>) -> Body<'_> {
        match document {
            Ok(text) => Body::Text(text),
            Err((len, offset)) => Body::InInput {
                offset: *offset,
                len: *len,
            },
        }
    }
    let mut runs: Vec<File> = Vec::new();
    let mut run: Run = Vec::new();
    let flush = |run: &mut Run, runs: &mut Vec<File>| -> io::Result<()> {
        run.sort_by_key(|(ts, _, _, _)| *ts);
        let mut f = tempfile::tempfile()?;
        {
            let mut w = BufWriter::new(&mut f);
            for (ts, user, line, document) in run.drain(..) {
                write_record(&mut w, ts, user, line, body(&document))?;
            }
            w.flush()?;
        }
        runs.push(f);
        Ok(())
    };
    let mut reader = SpoolReader::new(file)?;
    while let Some(head) = reader.next_head()? {
        let document = if head.in_input {
            Err((head.len, head.offset))
        } else {
            let mut document = Vec::new();
            reader.document(&mut document)?;
            Ok(document)
        };
        run.push((head.timestamp, head.user_hash, head.line, document));
        if run.len() >= run_records {
            flush(&mut run, &mut runs)?;
        }
    }
    if !run.is_empty() {
        flush(&mut run, &mut runs)?;
    }
    file.set_len(0)?;
    file.rewind()?;
    let mut w = BufWriter::new(&*file);
    let mut readers: Vec<SpoolReader> = runs
        .iter()
        .map(SpoolReader::new)
        .collect::<io::Result<_>>()?;
    // (time, run): equal times go to the earlier run, which holds the earlier records.
    let mut heap = BinaryHeap::new();
    let mut heads = Vec::with_capacity(readers.len());
    for (i, r) in readers.iter_mut().enumerate() {
        let head = r.next_head()?;
        if let Some(h) = head {
            heap.push(Reverse((h.timestamp, i)));
        }
        heads.push(head);
    }
    let mut document = Vec::new();
    while let Some(Reverse((_, i))) = heap.pop() {
        let head = heads[i].take().expect("a queued run has a head");
        let record = if head.in_input {
            Body::InInput {
                offset: head.offset,
                len: head.len,
            }
        } else {
            Body::Text(readers[i].document(&mut document)?)
        };
        write_record(&mut w, head.timestamp, head.user_hash, head.line, record)?;
        heads[i] = readers[i].next_head()?;
        if let Some(h) = heads[i] {
            heap.push(Reverse((h.timestamp, i)));
        }
    }
    w.flush()?;
    drop(w);
    file.rewind()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(file: &File) -> Vec<(i64, u64, u64, String)> {
        let mut reader = SpoolReader::new(file).unwrap();
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Some(head) = reader.next_head().unwrap() {
            let doc = reader.document(&mut buf).unwrap();
            out.push((
                head.timestamp,
                head.user_hash,
                head.line,
                String::from_utf8(doc.to_vec()).unwrap(),
            ));
        }
        out
    }

    #[test]
    fn records_round_trip_and_documents_can_be_skipped() {
        let mut file = tempfile::tempfile().unwrap();
        let mut w = SpoolWriter {
            out: BufWriter::new(&mut file),
            in_place: true,
        };
        w.event(3, 30, 1, "{\"a\":1}").unwrap();
        w.event(-1, 0, 2, "").unwrap();
        w.event(i64::MIN, u64::MAX, u64::MAX, "{\"b\":\"é\"}")
            .unwrap();
        w.out.flush().unwrap();
        drop(w);
        assert_eq!(
            records(&file),
            vec![
                (3, 30, 1, "{\"a\":1}".to_string()),
                (-1, 0, 2, String::new()),
                (i64::MIN, u64::MAX, u64::MAX, "{\"b\":\"é\"}".to_string()),
            ]
        );
        // Skipping documents, the heads still line up, and each offset finds its document.
        let mut reader = SpoolReader::new(&file).unwrap();
        let mut heads = Vec::new();
        while let Some(h) = reader.next_head().unwrap() {
            heads.push(h);
        }
        let store = SpoolStore(file.try_clone().unwrap());
        use quarry_event::SourceStore;
        let texts: Vec<String> = heads
            .iter()
            .map(|h| store.read(h.offset, h.len).unwrap())
            .collect();
        assert_eq!(texts, ["{\"a\":1}", "", "{\"b\":\"é\"}"]);
    }

    #[test]
    fn spools_sort_in_runs_and_merge_stably() {
        let mut file = tempfile::tempfile().unwrap();
        // Times out of order, two records at 3 (kept in input order), the lowest time last.
        let times = [5, 1, 3, 4, 3, 2, 0, i64::MIN];
        {
            let mut w = SpoolWriter {
                out: BufWriter::new(&mut file),
                in_place: true,
            };
            for (i, ts) in times.iter().enumerate() {
                w.event(*ts, i as u64, 100 + i as u64, &format!("{{\"n\":{i}}}"))
                    .unwrap();
            }
            w.out.flush().unwrap();
        }
        sort_spool(&mut file, 3).unwrap();
        let order: Vec<(i64, u64)> = records(&file).iter().map(|(t, u, _, _)| (*t, *u)).collect();
        assert_eq!(
            order,
            [
                (i64::MIN, 7),
                (0, 6),
                (1, 1),
                (2, 5),
                (3, 2),
                (3, 4),
                (4, 3),
                (5, 0)
            ]
        );
        assert!(
            records(&file)
                .iter()
                .all(|(_, u, l, d)| *d == format!("{{\"n\":{u}}}") && *l == 100 + u)
        );
    }

    #[test]
    fn records_in_the_input_sort_and_read_back_from_it() {
        use std::io::Write as _;
        // An input of lines; records point at them, out of order, mixed with copied text.
        let mut input = tempfile::tempfile().unwrap();
        let lines: Vec<String> = (0..2000).map(|i| format!("{{\"n\":{i}}}")).collect();
        let mut offsets = Vec::new();
        let mut at = 0u64;
        for line in &lines {
            offsets.push(at);
            writeln!(input, "{line}").unwrap();
            at += line.len() as u64 + 1;
        }
        let mut file = tempfile::tempfile().unwrap();
        {
            let mut w = SpoolWriter {
                out: BufWriter::new(&mut file),
                in_place: true,
            };
            for i in (0..lines.len()).rev() {
                if i % 7 == 0 {
                    w.event(i as i64, 0, i as u64, &lines[i]).unwrap();
                } else {
                    w.event_in_input(i as i64, 0, i as u64, offsets[i], lines[i].len() as u32)
                        .unwrap();
                }
            }
            w.out.flush().unwrap();
        }
        sort_spool(&mut file, 300).unwrap();
        let mut reader = SpoolReader::new(&file).unwrap();
        let mut from_input = InputReader::new(&input).unwrap();
        let mut buf = Vec::new();
        let mut seen = Vec::new();
        while let Some(head) = reader.next_head().unwrap() {
            assert_eq!(head.in_input, head.line % 7 != 0);
            let text = if head.in_input {
                from_input
                    .read(head.offset, head.len, &mut buf)
                    .unwrap()
                    .to_vec()
            } else {
                reader.document(&mut buf).unwrap().to_vec()
            };
            seen.push((head.timestamp, String::from_utf8(text).unwrap()));
        }
        let expected: Vec<(i64, String)> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (i as i64, l.clone()))
            .collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn an_input_read_backwards_and_far_apart_reads_each_document() {
        use std::io::Write as _;
        let mut input = tempfile::tempfile().unwrap();
        let big = INPUT_WINDOW * 3;
        let data: Vec<u8> = (0..big).map(|i| b'a' + (i % 26) as u8).collect();
        input.write_all(&data).unwrap();
        let mut reader = InputReader::new(&input).unwrap();
        let mut buf = Vec::new();
        // Forward, backwards within the back-step, far ahead, far back, and across the end
        // of the window: each read is the file's bytes.
        for (offset, len) in [
            (10u64, 100u32),
            (5, 20),
            (INPUT_WINDOW as u64 * 2 + 7, 900),
            (3, 1000),
            (INPUT_WINDOW as u64 - 10, 50),
            (big as u64 - 5, 5),
        ] {
            let got = reader.read(offset, len, &mut buf).unwrap();
            let at = offset as usize;
            assert_eq!(got, &data[at..at + len as usize], "at {offset}");
        }
        // A file cut short since its records were written is an error, never other bytes.
        let err = reader.read(big as u64 - 5, 50, &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
