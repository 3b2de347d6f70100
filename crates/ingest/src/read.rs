//! Reading inputs: files, directories (recursive), glob patterns and standard input, gzip and
//! zstd detected by their magic bytes, split into lines with a length limit.
//!
//! Memory stays flat however large the input: data is read in buffered chunks, and a line
//! longer than the limit is reported as an error for that line and skipped without ever being
//! held whole.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The default longest line, in bytes.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Stdin,
    /// Bytes `start..end` of an uncompressed file, cut at line boundaries, whose first line is
    /// line `first_line` of the file (so that several threads can normalize one large file).
    Part {
        path: PathBuf,
        start: u64,
        end: u64,
        first_line: u64,
    },
    /// Bytes held in memory under a name (rule tests, simulated telemetry, embedders).
    Bytes {
        name: String,
        data: std::sync::Arc<[u8]>,
    },
}

impl Input {
    /// How messages name this input.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) | Input::Part { path: p, .. } => p.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
            Input::Bytes { name, .. } => name.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{0}: no such file or directory, and no file matches it as a pattern")]
    NotFound(String),
    #[error("invalid pattern `{pattern}`: {message}")]
    BadPattern { pattern: String, message: String },
}

/// Expands command-line paths into inputs: `-` is standard input, a directory contributes
/// every file below it (sorted; hidden files and documentation beside the logs, `*.md`,
/// `README*` and `LICENSE*`, skipped), and a path that does not exist is tried as a glob
/// pattern. No path at all means standard input. A file named explicitly is always an input.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Input>, ReadError> {
    if paths.is_empty() {
        return Ok(vec![Input::Stdin]);
    }
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(Input::Stdin);
        } else if path.is_dir() {
            walk(path, &mut out)?;
        } else if path.exists() {
            out.push(Input::File(path.clone()));
        } else {
            let pattern = path.to_string_lossy();
            let matches = glob::glob(&pattern).map_err(|e| ReadError::BadPattern {
                pattern: pattern.to_string(),
                message: e.msg.to_string(),
            })?;
            let mut found: Vec<PathBuf> = matches
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect();
            if found.is_empty() {
                return Err(ReadError::NotFound(pattern.to_string()));
            }
            found.sort();
            out.extend(found.into_iter().map(Input::File));
        }
    }
    Ok(out)
}

/// Names a directory walk passes over: hidden files and the documentation kept beside logs.
fn is_hidden_or_doc(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    name.starts_with('.')
        || upper.ends_with(".MD")
        || upper.starts_with("README")
        || upper.starts_with("LICENSE")
}

fn walk(dir: &Path, out: &mut Vec<Input>) -> Result<(), ReadError> {
    let io_err = |source| ReadError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| is_hidden_or_doc(&n.to_string_lossy()))
        })
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            walk(&entry, out)?;
        } else if entry.is_file() {
            out.push(Input::File(entry));
        }
    }
    Ok(())
}

/// How an input was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Opens `input`, decompressing gzip or zstd by their magic bytes (never by file name).
pub fn open(input: &Input) -> Result<(Box<dyn BufRead>, Compression), ReadError> {
    let name = input.name();
    let raw: Box<dyn Read> = match input {
        Input::File(p) => Box::new(File::open(p).map_err(|source| ReadError::Io {
            path: name.clone(),
            source,
        })?),
        Input::Stdin => Box::new(io::stdin()),
        Input::Bytes { data, .. } => Box::new(io::Cursor::new(std::sync::Arc::clone(data))),
        Input::Part {
            path, start, end, ..
        } => {
            let mut file = File::open(path).map_err(|source| ReadError::Io {
                path: name.clone(),
                source,
            })?;
            io::Seek::seek(&mut file, io::SeekFrom::Start(*start)).map_err(|source| {
                ReadError::Io {
                    path: name.clone(),
                    source,
                }
            })?;
            // A part of a plain file is plain, whatever its first bytes look like.
            let part = BufReader::with_capacity(1 << 16, file.take(end.saturating_sub(*start)));
            return Ok((Box::new(part), Compression::None));
        }
    };
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    let head = buffered.fill_buf().map_err(|source| ReadError::Io {
        path: name.clone(),
        source,
    })?;
    let compression = if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    };
    let reader: Box<dyn BufRead> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(buffered),
        )),
        Compression::Zstd => {
            let decoder =
                ruzstd::decoding::StreamingDecoder::new(buffered).map_err(|e| ReadError::Io {
                    path: name,
                    source: io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
                })?;
            Box::new(BufReader::with_capacity(1 << 16, decoder))
        }
    };
    Ok((reader, compression))
}

/// Cuts an uncompressed file into up to `parts` parts of at least `min_part` bytes, at line
/// boundaries, each knowing the number of its first line; a compressed or small file comes
/// back whole. Reads the file once, to count lines.
pub fn split_file(path: &Path, parts: usize, min_part: u64) -> io::Result<Vec<Input>> {
    let whole = || vec![Input::File(path.to_path_buf())];
    let size = std::fs::metadata(path)?.len();
    let parts = (parts as u64).min(size / min_part.max(1));
    if parts < 2 {
        return Ok(whole());
    }
    let mut file = File::open(path)?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic)?;
    if magic[..n].starts_with(&[0x1f, 0x8b]) || magic[..n].starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Ok(whole());
    }
    io::Seek::rewind(&mut file)?;
    let targets: Vec<u64> = (1..parts).map(|i| size * i / parts).collect();
    let mut cuts = Vec::new(); // (offset after a newline, lines before it)
    let mut buf = vec![0u8; 1 << 20];
    let (mut offset, mut lines) = (0u64, 0u64);
    let mut next = targets.iter().copied().peekable();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for (i, _) in buf[..n].iter().enumerate().filter(|(_, b)| **b == b'\n') {
            lines += 1;
            let after = offset + i as u64 + 1;
            if next.peek().is_some_and(|t| after >= *t) {
                cuts.push((after, lines));
                while next.peek().is_some_and(|t| after >= *t) {
                    next.next();
                }
            }
        }
        offset += n as u64;
    }
    let mut out = Vec::new();
    let (mut start, mut first_line) = (0u64, 1u64);
    for (cut, lines_before) in cuts.into_iter().chain([(size, 0)]) {
        if cut > start {
            out.push(Input::Part {
                path: path.to_path_buf(),
                start,
                end: cut,
                first_line,
            });
        }
        start = cut;
        first_line = lines_before + 1;
    }
    Ok(out)
}

/// One line, or why it could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line's bytes, without the line ending.
    Text(&'a [u8]),
    /// The line exceeded the limit; it was skipped. Carries its length as far as read.
    TooLong(usize),
}

/// Splits a reader into lines of at most `max` bytes, reusing one buffer.
pub struct Lines<R> {
    reader: R,
    max: usize,
    buf: Vec<u8>,
    number: u64,
    /// The byte offset in the file of the next line.
    consumed: u64,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, max: usize) -> Self {
        Lines {
            reader,
            max: max.max(1),
            buf: Vec::new(),
            number: 0,
            consumed: 0,
        }
    }

    /// Counts byte offsets from `offset` (0 by default): where the reader starts in its file.
    pub fn first_offset(mut self, offset: u64) -> Self {
        self.consumed = offset;
        self
    }

    /// The byte offset at which the line [`Lines::next_line`] returns next starts.
    pub fn next_offset(&self) -> u64 {
        self.consumed
    }

    /// Numbers lines from `first` (1 by default).
    pub fn first_number(mut self, first: u64) -> Self {
        self.number = first.saturating_sub(1);
        self
    }

    /// The reader, positioned after the last line returned.
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// The next line with its number (1-based), `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut too_long: Option<usize> = None;
        loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                if self.buf.is_empty() && too_long.is_none() {
                    return Ok(None);
                }
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            match too_long.as_mut() {
                Some(n) => *n += take,
                None if self.buf.len() + take > self.max + 1 => {
                    too_long = Some(self.buf.len() + take);
                    self.buf.clear();
                }
                None => self.buf.extend_from_slice(&chunk[..take]),
            }
            self.reader.consume(take);
            self.consumed += take as u64;
            if done {
                break;
            }
        }
        self.number += 1;
        let number = self.number;
        if let Some(n) = too_long {
            return Ok(Some((number, Line::TooLong(n))));
        }
        let mut end = self.buf.len();
        if end > 0 && self.buf[end - 1] == b'\n' {
            end -= 1;
        }
        if end > 0 && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        if end > self.max {
            return Ok(Some((number, Line::TooLong(end))));
        }
        Ok(Some((number, Line::Text(&self.buf[..end]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(data: &[u8], max: usize) -> Vec<String> {
        let mut l = Lines::new(BufReader::with_capacity(4, data), max);
        let mut out = Vec::new();
        while let Some((_, line)) = l.next_line().unwrap() {
            out.push(match line {
                Line::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Line::TooLong(n) => format!("<too long: {n}>"),
            });
        }
        out
    }

    #[test]
    fn lines_split_on_newlines_and_drop_crlf() {
        assert_eq!(lines(b"a\nbb\r\n\nccc", 10), ["a", "bb", "", "ccc"]);
        assert_eq!(lines(b"", 10), Vec::<String>::new());
    }

    #[test]
    fn each_line_knows_where_it_starts_in_the_file() {
        let data = b"a\nbb\r\n\n0123456789xx\nccc";
        let mut l = Lines::new(BufReader::with_capacity(3, &data[..]), 10).first_offset(100);
        let mut starts = Vec::new();
        loop {
            let start = l.next_offset();
            let Some((_, line)) = l.next_line().unwrap() else {
                break;
            };
            let text = match line {
                Line::Text(t) => t.to_vec(),
                Line::TooLong(_) => b"-".to_vec(),
            };
            starts.push((start, text));
        }
        let expect: Vec<(u64, Vec<u8>)> = vec![
            (100, b"a".to_vec()),
            (102, b"bb".to_vec()),
            (106, b"".to_vec()),
            (107, b"-".to_vec()),
            (120, b"ccc".to_vec()),
        ];
        assert_eq!(starts, expect);
        // Each text is found at its offset.
        for (start, text) in starts.iter().filter(|(_, t)| t != b"-") {
            let at = (*start - 100) as usize;
            assert_eq!(&data[at..at + text.len()], &text[..]);
        }
    }

    #[test]
    fn an_overlong_line_is_reported_and_skipped_without_buffering_it() {
        let mut data = b"short\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 100));
        data.extend(b"\nnext\n");
        assert_eq!(lines(&data, 10), ["short", "<too long: 101>", "next"]);
        // Exactly at the limit is fine.
        assert_eq!(lines(b"0123456789\n", 10), ["0123456789"]);
    }

    #[test]
    fn gzip_and_zstd_are_detected_by_magic_bytes() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("quarry-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A gzip file without a .gz name.
        let gz = dir.join("plain-name.log");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"one\ntwo\n").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let (reader, c) = open(&Input::File(gz)).unwrap();
        assert_eq!(c, Compression::Gzip);
        assert_eq!(
            reader.lines().map(Result::unwrap).collect::<Vec<_>>(),
            ["one", "two"]
        );
        // A zstd frame (a single raw block holding "hi\n"), named .gz to prove the name is ignored.
        let zst = dir.join("misleading.gz");
        let frame: &[u8] = &[
            0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x48, 0x19, 0x00, 0x00, b'h', b'i', b'\n',
        ];
        std::fs::write(&zst, frame).unwrap();
        let (reader, c) = open(&Input::File(zst)).unwrap();
        assert_eq!(c, Compression::Zstd);
        assert_eq!(
            reader.lines().map(Result::unwrap).collect::<Vec<_>>(),
            ["hi"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directories_expand_recursively_and_sorted_and_globs_match() {
        let dir = std::env::temp_dir().join(format!("quarry-expand-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for f in [
            "b.log",
            "a.log",
            "sub/c.log",
            ".hidden",
            "README.md",
            "sub/LICENSE",
            "notes.MD",
        ] {
            std::fs::write(dir.join(f), "x").unwrap();
        }
        let names = |inputs: Vec<Input>| -> Vec<String> {
            inputs
                .into_iter()
                .map(|i| match i {
                    Input::File(p) => p.strip_prefix(&dir).unwrap().display().to_string(),
                    Input::Stdin => "-".into(),
                    Input::Part { .. } | Input::Bytes { .. } => {
                        unreachable!("expand names whole files")
                    }
                })
                .collect()
        };
        assert_eq!(
            names(expand(std::slice::from_ref(&dir)).unwrap()),
            ["a.log", "b.log", "sub/c.log"]
        );
        assert_eq!(
            names(expand(&[dir.join("*.log")]).unwrap()),
            ["a.log", "b.log"]
        );
        assert!(matches!(
            expand(&[dir.join("nope*.txt")]),
            Err(ReadError::NotFound(_))
        ));
        // Documentation named explicitly is an input all the same.
        assert_eq!(
            names(expand(&[dir.join("README.md")]).unwrap()),
            ["README.md"]
        );
        assert_eq!(expand(&[]).unwrap(), [Input::Stdin]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_split_at_line_boundaries_and_number_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.log");
        let text: String = (1..=500)
            .map(|i| format!("line {i} {}\n", "x".repeat(i % 37)))
            .collect();
        std::fs::write(&path, &text).unwrap();
        for parts in [1, 2, 3, 7] {
            let inputs = split_file(&path, parts, 64).unwrap();
            if parts == 1 {
                assert_eq!(inputs, [Input::File(path.clone())]);
                continue;
            }
            assert_eq!(inputs.len(), parts);
            let mut joined = String::new();
            for input in &inputs {
                let Input::Part {
                    start,
                    end,
                    first_line,
                    ..
                } = input
                else {
                    panic!("{input:?}")
                };
                let piece = &text[*start as usize..*end as usize];
                assert!(piece.ends_with('\n'), "{piece:?}");
                assert_eq!(
                    *first_line,
                    text[..*start as usize].matches('\n').count() as u64 + 1
                );
                // The part's first line is that line of the file.
                let first = piece.lines().next().unwrap();
                assert!(first.starts_with(&format!("line {first_line} ")), "{first}");
                joined.push_str(piece);
            }
            assert_eq!(joined, text);
        }
        // Too small for parts of the minimum size, or compressed: whole.
        assert_eq!(
            split_file(&path, 4, 1 << 30).unwrap(),
            [Input::File(path.clone())]
        );
        let gz = dir.path().join("big.log.gz");
        let mut data = vec![0x1f, 0x8b];
        data.extend_from_slice(text.as_bytes());
        std::fs::write(&gz, data).unwrap();
        assert_eq!(split_file(&gz, 4, 64).unwrap(), [Input::File(gz.clone())]);
    }
}
