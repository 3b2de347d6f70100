//! The normalize stage: every input (or part of one) into its own time-ordered spool, on
//! several threads at once.
//!
//! Failures are of two kinds and are kept apart. An input that cannot be read or recognized
//! is reported and the others are still hunted (a log directory holds other files too). A
//! spool that cannot be written (a full temporary directory) loses events the user asked
//! for: that ends the run with an error naming the input and the cause, never a quieter
//! hunt that looks complete.

use std::io::{BufWriter, Write};

use quarry_ingest::normalize::{NormalizeError, Options, Report, normalize_to};
use quarry_ingest::read::Input;

use crate::spool::{SORT_RUN_RECORDS, Spool, SpoolWriter, sort_spool};
use crate::{PipelineError, Progress, Stage};

/// An input the run could not hunt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub input: String,
    /// Why, as a sentence naming the input.
    pub message: String,
    /// It could not be read (an I/O error), as opposed to not recognized.
    pub io: bool,
}

/// What the normalize stage produced.
pub struct Normalized {
    /// Spools in input order (a file's parts in file order).
    pub spools: Vec<Spool>,
    /// One report per readable input, with its index in the input list.
    pub reports: Vec<(usize, Report)>,
    pub unreadable: Vec<Unreadable>,
}

/// Normalizes every input into spools on up to `threads` threads, each large plain file in
/// a line-per-event format cut into parts of at least `min_part_bytes`.
pub fn normalize_inputs(
    inputs: &[Input],
    options: &Options,
    threads: usize,
    min_part_bytes: u64,
    progress: &dyn Progress,
) -> Result<Normalized, PipelineError> {
    let mut jobs: Vec<(usize, Input)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        for part in crate::source::parts(input, options.format, threads, min_part_bytes) {
            jobs.push((i, part));
        }
    }
    progress.begin(Stage::Normalize, jobs.len() as u64);
    let next = std::sync::atomic::AtomicUsize::new(0);
    type Outcome = Result<Result<Spool, Unreadable>, PipelineError>;
    let mut outcomes: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(jobs.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let j = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((input, part)) = jobs.get(j) else {
                            break done;
                        };
                        progress.note(&part.name());
                        done.push((j, spool_input(*input, part, options)));
                        progress.advance(1);
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a normalizing thread panicked"))
            .collect()
    });
    progress.end(Stage::Normalize);
    outcomes.sort_by_key(|(j, _)| *j);
    let mut spools: Vec<Spool> = Vec::new();
    let mut reports: Vec<(usize, Report)> = Vec::new();
    let mut unreadable: Vec<(usize, Unreadable)> = Vec::new();
    for (j, outcome) in outcomes {
        let input = jobs[j].0;
        match outcome? {
            Ok(spool) => {
                match reports.last_mut() {
                    Some((i, report)) if *i == input => {
                        report.absorb(spool.report.clone(), options.quoted_errors);
                    }
                    _ => reports.push((input, spool.report.clone())),
                }
                spools.push(spool);
            }
            Err(e) => {
                if unreadable.last().is_none_or(|(i, _)| *i != input) {
                    unreadable.push((input, e));
                }
            }
        }
    }
    // An input any part of which failed is reported as failed, not also as read.
    reports.retain(|(i, _)| unreadable.iter().all(|(f, _)| f != i));
    spools.retain(|s| unreadable.iter().all(|(f, _)| *f != s.input));
    Ok(Normalized {
        spools,
        reports,
        unreadable: unreadable.into_iter().map(|(_, u)| u).collect(),
    })
}

/// Normalizes one input (or part) into a time-ordered spool; `Ok(Err(_))` when the input
/// cannot be read or recognized, `Err` when the spool cannot be written.
fn spool_input(
    index: usize,
    input: &Input,
    options: &Options,
) -> Result<Result<Spool, Unreadable>, PipelineError> {
    let spool_error = |source| PipelineError::Spool {
        input: input.name(),
        source,
    };
    let mut file = tempfile::tempfile().map_err(spool_error)?;
    // Records may point into a plain input file rather than copy its lines: the hunt reads
    // them through this handle. It is opened just before the normalizer opens the same name,
    // so a rotation that moves the name later (during the hunt) does not change what is read;
    // a file cut short in place is an error when a record is read, never other bytes.
    let input_file = match input {
        Input::File(path) | Input::Part { path, .. } => std::fs::File::open(path).ok(),
        Input::Stdin | Input::Bytes { .. } => None,
    };
    let mut writer = SpoolWriter {
        out: BufWriter::new(&mut file),
        in_place: input_file.is_some(),
    };
    let result = normalize_to(input, options, &mut writer);
    let flushed = writer.out.flush();
    drop(writer);
    match result {
        Ok(report) => {
            flushed.map_err(spool_error)?;
            if report.out_of_order > 0 {
                sort_spool(&mut file, SORT_RUN_RECORDS).map_err(spool_error)?;
            }
            Ok(Ok(Spool {
                input: index,
                report,
                file,
                input_file,
            }))
        }
        // Writing the spool failed, not reading the input.
        Err(NormalizeError::Io { source, .. }) => Err(spool_error(source)),
        Err(e) => Ok(Err(Unreadable {
            input: input.name(),
            io: matches!(e, NormalizeError::Read(_)),
            message: e.to_string(),
        })),
    }
}
