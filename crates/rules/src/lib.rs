//! Detection rules: the files a detection engineer writes, and the alerts a person reads.
//!
//! An EQL match is the raw truth; an alert is what someone triages. Between the two sit the
//! rule file (what to look for, how bad it is, which ATT&CK technique it is), tuning (who is
//! expected to look like an attacker, and why), and suppression (one alert for one burst, not
//! one per overlapping match). This crate holds all of that, and no I/O beyond reading rule
//! and tuning files.
//!
//! - [`rule`]: rule files in elastic/detection-rules TOML, loaded with validation that points
//!   at the file, line and column of every problem;
//! - [`kql`]: the KQL subset threshold rules filter with, translated to EQL conditions;
//! - [`native`]: rules rewritten for the fields Elastic's own Confluence integration indexes;
//! - [`exception`]: Kibana-style exception items, which drop events before matching;
//! - [`tuning`]: `quarry.toml`: allowlists, documentation team and onboarding lists, per-rule
//!   thresholds;
//! - [`threshold`]: threshold rules, evaluated as Kibana schedules them or over an exact
//!   sliding window;
//! - [`alert`]: alerts, their reason sentence, and their ECS / Kibana-alert JSON;
//! - [`hunt`]: a rule set compiled against one field catalog, fed events in time order, with
//!   suppression folding matches into alerts;
//! - [`export`]: the pack for Elastic Security: Kibana rule-import NDJSON and detection-rules TOML.

pub mod alert;
pub mod exception;
pub mod export;
pub mod hunt;
pub mod kql;
pub mod native;
pub mod rule;
pub mod threshold;
pub mod tuning;

pub use alert::Alert;
pub use hunt::{Hunt, HuntOptions, HuntStats, ThresholdMode};
pub use rule::{
    LoadError, LoadOptions, Rule, RuleKind, Severity, load_dir, load_file, load_sources,
};
pub use tuning::Tuning;
