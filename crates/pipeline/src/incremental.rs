//! The incremental form of the pipeline: normalized events pushed as they come, alerts out
//! as they close.
//!
//! [`crate::run`] reads finished inputs whole; a follower of growing logs (or of an audit
//! API) has no end to wait for. [`Incremental`] is the rule set and its alerting fed one
//! normalized event at a time, in time order, through the same [`Hunt`] the batch run uses,
//! so both raise the same alerts from the same events. It is an [`EventSink`], so
//! [`quarry_ingest::normalize::normalize_to`] can feed it directly.
//!
//! An event older than one already hunted cannot be hunted any more (rule state has moved
//! on): it is counted as late, never silently dropped.

use std::io;

use quarry_event::{Document, DocumentError, Event, Timestamp};
use quarry_ingest::normalize::EventSink;
use quarry_rules::tuning::Tuning;
use quarry_rules::{Alert, Hunt, HuntOptions, HuntStats, Rule};

use crate::PipelineError;
use crate::route::Decoder;
use crate::summary::EventCounts;

/// A hunt fed one event at a time.
pub struct Incremental {
    hunt: Hunt,
    decoder: Decoder,
    position: u64,
    last: Option<Timestamp>,
    counts: EventCounts,
    late: u64,
    /// Documents that could not be decoded: `(line, reason)`, the first few.
    undecodable: Vec<(u64, String)>,
    undecodable_count: u64,
}

/// What an incremental hunt counted when it ended.
#[derive(Debug, Clone)]
pub struct IncrementalSummary {
    pub stats: HuntStats,
    pub counts: EventCounts,
    pub rules: Vec<Rule>,
    /// Events older than one already hunted: counted, not hunted.
    pub late: u64,
    /// Documents the rules could not decode, and the first of them as `(line, reason)`.
    pub undecodable: u64,
    pub first_undecodable: Vec<(u64, String)>,
}

/// How many undecodable documents are quoted.
const QUOTED: usize = 5;

impl Incremental {
    /// `rules` with `tuning`'s per-rule settings applied (the changes are returned, one
    /// sentence each, as [`crate::Summary::rule_changes`]).
    pub fn new(
        mut rules: Vec<Rule>,
        tuning: Tuning,
        options: HuntOptions,
    ) -> Result<(Incremental, Vec<String>), PipelineError> {
        let changes = tuning.apply_to_rules(&mut rules)?;
        let max_users = options.max_join_keys;
        let hunt = Hunt::new(rules, tuning, options)?;
        Ok((
            Incremental {
                decoder: Decoder::new(&hunt, max_users),
                hunt,
                position: 0,
                last: None,
                counts: EventCounts::default(),
                late: 0,
                undecodable: Vec::new(),
                undecodable_count: 0,
            },
            changes,
        ))
    }

    /// Hunts one normalized event (ECS JSON text) from input line `line`.
    pub fn push(&mut self, line: u64, document: &str) -> Result<(), PipelineError> {
        let doc = match Document::from_text(
            document,
            &self.decoder.projection,
            &self.decoder.catalog,
            self.decoder.timestamp,
            self.position,
        ) {
            Ok(doc) => doc,
            Err(DocumentError::MissingTimestamp(_) | DocumentError::BadTimestamp { .. }) => {
                self.counts.unreadable += 1;
                return Ok(());
            }
            Err(e) => {
                self.undecodable_count += 1;
                if self.undecodable.len() < QUOTED {
                    self.undecodable.push((line, e.to_string()));
                }
                return Ok(());
            }
        };
        let ts = doc.timestamp();
        if self.last.is_some_and(|last| ts < last) {
            self.late += 1;
            return Ok(());
        }
        self.last = Some(ts);
        self.decoder.count(&doc, &mut self.counts);
        self.position += 1;
        self.hunt.push(doc)?;
        Ok(())
    }

    /// Alerts closed so far (their suppression window has passed), in the order they closed.
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        self.hunt.take_alerts()
    }

    /// The rules as they run.
    pub fn rules(&self) -> &[Rule] {
        self.hunt.rules()
    }

    /// Ends the stream: the last matches, then every alert still open.
    pub fn finish(self) -> (Vec<Alert>, IncrementalSummary) {
        let (alerts, stats, rules) = self.hunt.finish();
        (
            alerts,
            IncrementalSummary {
                stats,
                counts: self.counts,
                rules,
                late: self.late,
                undecodable: self.undecodable_count,
                first_undecodable: self.undecodable,
            },
        )
    }
}

/// Normalizers hand their events straight to the hunt. An error of the hunt (which only a
/// bug can cause: late events are counted) surfaces as an I/O error of the sink.
impl EventSink for Incremental {
    fn event(&mut self, _: i64, _: u64, line: u64, document: &str) -> io::Result<()> {
        self.push(line, document).map_err(io::Error::other)
    }
}
