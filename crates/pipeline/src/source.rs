//! Sources: what a run reads, each file once, large plain files cut into parts.
//!
//! A hunt named with overlapping paths (`logs/ logs/access.log`) must not count one file's
//! events twice, and one large file must not keep every core but one idle: both are decided
//! here, before any byte is normalized.

use std::fs::File;
use std::path::Path;

use quarry_ingest::detect::Format;
use quarry_ingest::read::Input;

/// `inputs` without repeats: a file named twice (by any path that resolves to it) is kept
/// the first time. Returns the inputs kept and the names of those dropped.
pub fn dedup(inputs: Vec<Input>) -> (Vec<Input>, Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    let mut repeated = Vec::new();
    let kept = inputs
        .into_iter()
        .filter(|input| match input {
            Input::File(path) => {
                let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                let first = seen.insert(key);
                if !first {
                    repeated.push(path.display().to_string());
                }
                first
            }
            Input::Stdin | Input::Part { .. } | Input::Bytes { .. } => true,
        })
        .collect();
    (kept, repeated)
}

/// The parts one thread each normalizes of `input`: a plain file of at least two parts'
/// worth in a format of one event per line (web logs, ECS NDJSON) is cut at line boundaries
/// into one part per thread; anything else is one part, itself.
pub fn parts(
    input: &Input,
    format: Option<Format>,
    threads: usize,
    min_part_bytes: u64,
) -> Vec<Input> {
    let Input::File(path) = input else {
        return vec![input.clone()];
    };
    if threads < 2 {
        return vec![input.clone()];
    }
    let format = format.or_else(|| first_line_format(path));
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
fn first_line_format(path: &Path) -> Option<Format> {
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
