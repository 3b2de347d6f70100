//! Deterministic Confluence telemetry, in each source's own format.
//!
//! Rules are only as good as the telemetry they are tested on. This crate reproduces what the
//! four Atomic-style T1213.001 tests, the seed's four false-positive situations and an ordinary
//! working organization leave behind, request by request, and writes it the way each Confluence
//! source really records it (and only what it records: a Data Center audit log never sees a REST
//! read, a Cloud audit log sees only the export). The same seed always gives the same bytes.
//!
//! - [`rng`]: the seeded generator;
//! - [`model`]: actors, requests and audit records, format-free;
//! - [`scenario`]: the named scenarios that produce them;
//! - [`render`]: access log, proxy log, DC audit, Cloud audit, organization audit and
//!   CloudAppEvents lines, with what each format can and cannot see.

pub mod model;
pub mod render;
pub mod rng;
pub mod scenario;

pub use model::Telemetry;
pub use render::Format;
pub use scenario::{Params, Scenario};
