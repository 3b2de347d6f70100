//! Runs Elasticsearch EQL over ordered event streams, with Elasticsearch's results.
//!
//! - [`expr`]: conditions and values compiled against a field catalog, evaluated with
//!   Elasticsearch's null, array and case semantics;
//! - [`functions`]: the EQL functions, value by value;
//! - [`pattern`]: wildcard, Lucene regex and case-folding matchers;
//! - [`missing`]: missing-event stages `![...]`, judged as Elasticsearch judges them;
//! - [`sequence`]: the pending-sequence matcher (`by`, `maxspan`, `until`, `runs`), with bounded
//!   state;
//! - [`sample`]: `sample` queries, answered at the end of the input;
//! - [`query`]: whole statements, pipes, result collection and event ordering.

pub mod expr;
pub mod functions;
pub mod missing;
pub mod pattern;
pub mod query;
pub mod sample;
pub mod sequence;

pub use expr::CompileError;
pub use query::{
    CompiledQuery, Hit, Options, OrderError, RunStats, Runner, run_batch, sort_events,
};
pub use sequence::{JoinKey, KeyValue, SequenceStats};
