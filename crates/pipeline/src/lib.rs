//! The hunt as a library: Confluence telemetry in, alerts out, in one direction.
//!
//! ```text
//! sources -> normalize -> order -> route -> rules -> alerts -> sinks
//! ```
//!
//! - [`source`]: what a run reads: each file once, large plain files cut into parts;
//! - [`normalize`]: every input (or part) normalized to ECS, in parallel, into a time-ordered
//!   [`spool`] (sorted on disk when the input was out of order); a line of a plain ECS file
//!   is recorded by its place in the file, not copied, and read back from there;
//! - [`order`]: the spools merged by time into one stream, each event with one position;
//! - [`route`]: the stream split by user across workers, each running the rule set
//!   ([`quarry_rules::Hunt`]) over its share;
//! - [`sink`]: where alerts go ([`AlertSink`]: a table, CSV, NDJSON, memory);
//! - [`summary`]: what the run read, hunted, dropped and raised;
//! - [`incremental`]: the same rule set fed one event at a time, for inputs that never end.
//!
//! [`run`] is the one entry point that commands, tests and benchmarks all drive over
//! finished inputs; [`Incremental`] is its form for followers of growing logs. Like every
//! library crate of Quarry it never prints, exits or reads the environment: progress is
//! reported through [`Progress`], alerts through the sink, the rest in the [`Summary`].

mod batch;
pub mod incremental;
pub mod normalize;
pub mod order;
pub mod route;
pub mod sink;
pub mod source;
pub mod spool;
pub mod summary;

use quarry_ingest::read::Input;
use quarry_rules::tuning::{Tuning, TuningError};
use quarry_rules::{HuntOptions, Rule, Severity};

pub use batch::run;
pub use incremental::{Incremental, IncrementalSummary};
pub use normalize::Unreadable;
pub use sink::{AlertSink, CsvSink, NdjsonSink, TableSink};
pub use summary::{AlertTally, EventCounts, Summary};

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The rule set (tuning's per-rule settings are applied by the run).
    pub rules: Vec<Rule>,
    pub tuning: Tuning,
    pub hunt: HuntOptions,
    /// How inputs are read and normalized.
    pub ingest: quarry_ingest::normalize::Options,
    pub inputs: Vec<Input>,
    /// Worker threads, for normalizing and for hunting (at least one).
    pub threads: usize,
    /// The smallest part a large plain file is cut into for normalizing on several threads.
    pub min_part_bytes: u64,
    /// Alerts below this severity are counted, not handed to the sink.
    pub min_severity: Severity,
}

impl Config {
    /// A run of `rules` over `inputs` with the defaults: no tuning, one thread.
    pub fn new(rules: Vec<Rule>, inputs: Vec<Input>) -> Config {
        Config {
            rules,
            tuning: Tuning::default(),
            hunt: HuntOptions::default(),
            ingest: quarry_ingest::normalize::Options::default(),
            inputs,
            threads: 1,
            min_part_bytes: 32 << 20,
            min_severity: Severity::Low,
        }
    }
}

/// Why a run could not finish.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Tuning(#[from] TuningError),
    #[error(transparent)]
    Compile(#[from] quarry_rules::hunt::HuntError),
    #[error("no input could be read")]
    NoInput(Vec<Unreadable>),
    /// A spool (the normalized copy of an input, in the temporary directory) could not be
    /// written: the input's events would be lost.
    #[error("{input}: cannot write its normalized events to the temporary directory: {source}")]
    Spool {
        input: String,
        #[source]
        source: std::io::Error,
    },
    #[error("reading back a spool file from the temporary directory: {source}")]
    SpoolRead {
        #[source]
        source: std::io::Error,
    },
    /// An input whose events are hunted where they lie (a plain file) could not be read
    /// again: it was cut short or changed while the hunt ran.
    #[error("{input}: reading an event back from the input: {source}")]
    InputRead {
        input: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Order(#[from] quarry_engine::OrderError),
    #[error("writing alerts: {0}")]
    Sink(#[source] std::io::Error),
}

/// The stages progress is reported for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Counted in inputs (and parts of inputs).
    Normalize,
    /// Counted in events.
    Hunt,
}

/// Where a run reports how far it is (a progress bar). Every method has a default that does
/// nothing; calls may come from several threads.
pub trait Progress: Sync {
    /// A stage starts, with this much work.
    fn begin(&self, _stage: Stage, _total: u64) {}
    /// What is being worked on (an input's name).
    fn note(&self, _what: &str) {}
    /// This much more work is done.
    fn advance(&self, _done: u64) {}
    /// This much work is done in all.
    fn position(&self, _done: u64) {}
    /// The stage is over.
    fn end(&self, _stage: Stage) {}
}

/// No progress reporting.
pub struct Quiet;

impl Progress for Quiet {}
