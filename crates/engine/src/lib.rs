//! Runs Elasticsearch EQL over ordered event streams, with Elasticsearch's results.
pub mod functions;
pub mod pattern;
