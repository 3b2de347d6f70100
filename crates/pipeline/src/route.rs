//! The route stage: the hunt split by user across workers, each running the rule set over
//! its share of the merged stream.
//!
//! Every worker merges every spool the same way, so each event has the same position
//! whatever the number of workers. A worker decodes and hunts only its users' events; for
//! the others it takes only the time ([`Hunt::pass`]), so threshold executions, alerts
//! closing and the onboarding input start happen as in one hunt of every event. The result
//! is the alerts and counts of one thread, byte for byte.

use std::sync::Arc;

use quarry_event::{
    Document, DocumentError, Event, FieldCatalog, FieldId, Projection, ReadBack, Timestamp,
};
use quarry_rules::{Alert, Hunt, HuntStats, Rule};

use crate::order::{DocumentReadError, Merge};
use crate::spool::{Spool, SpoolStore};
use crate::summary::EventCounts;
use crate::{PipelineError, Progress};

/// How many workers a hunt can use: one when a rule mixes users, or when events name
/// several users (a sequence joins those under each name). Returns the number and, when it
/// is one for either reason, why.
pub fn shares(hunt: &Hunt, spools: &[Spool], threads: usize) -> (usize, Option<String>) {
    let multi_valued: u64 = spools.iter().map(|s| s.report.multi_valued_users).sum();
    let blocker = hunt.user_split_blocker().or_else(|| {
        (multi_valued > 0).then(|| {
            format!(
                "{multi_valued} event{} name{} several users",
                if multi_valued == 1 { "" } else { "s" },
                if multi_valued == 1 { "s" } else { "" },
            )
        })
    });
    match blocker {
        Some(reason) => (1, Some(reason)),
        None => (threads.max(1), None),
    }
}

/// A record the rules could not decode: its spool, its input line, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Undecodable {
    pub spool: usize,
    pub line: u64,
    pub reason: String,
}

/// What one worker's share of the hunt found.
pub struct Share {
    pub alerts: Vec<Alert>,
    pub stats: HuntStats,
    pub rules: Vec<Rule>,
    pub counts: EventCounts,
    /// Records of this share's users the rules could not decode: per spool, those of the
    /// lowest lines, up to the number of errors quoted (so that the union over workers holds
    /// exactly the ones one worker would have kept).
    pub undecodable: Vec<Vec<Undecodable>>,
    /// How many of them, by spool (all of them, while `undecodable` keeps fewer).
    pub undecodable_by_spool: Vec<u64>,
}

/// Hunts share `index` of `shares` of the merged stream of `spools`.
pub fn hunt_share(
    mut hunt: Hunt,
    index: usize,
    shares: usize,
    spools: &[Spool],
    quoted_errors: usize,
    max_users: usize,
    progress: &dyn Progress,
) -> Result<Share, PipelineError> {
    let spool_error = |source| PipelineError::SpoolRead { source };
    let decoder = Decoder::new(&hunt, max_users);
    let mut counts = EventCounts::default();
    // Where evidence is read back from: each spool, and each input file records point into.
    let read_back = |file: &std::fs::File| -> Result<Arc<ReadBack>, PipelineError> {
        Ok(Arc::new(ReadBack {
            store: Arc::new(SpoolStore(file.try_clone().map_err(spool_error)?)),
            projection: Arc::clone(&decoder.projection),
        }))
    };
    let mut stores: Vec<Arc<ReadBack>> = Vec::with_capacity(spools.len());
    let mut input_stores: Vec<Option<Arc<ReadBack>>> = Vec::with_capacity(spools.len());
    for spool in spools {
        stores.push(read_back(&spool.file)?);
        input_stores.push(spool.input_file.as_ref().map(read_back).transpose()?);
    }
    let mut merge = Merge::new(spools).map_err(spool_error)?;
    let mut undecodable: Vec<Vec<Undecodable>> = vec![Vec::new(); spools.len()];
    let mut undecodable_by_spool = vec![0u64; spools.len()];
    let mut position = 0u64;
    let mut alerts: Vec<Alert> = Vec::new();
    let mut buf = Vec::new();
    while let Some((i, head)) = merge.next_record().map_err(spool_error)? {
        // Events without a time (i64::MIN) are unreadable to every rule: never timed.
        let time = (head.timestamp != i64::MIN).then(|| Timestamp::from_nanos(head.timestamp));
        if head.user_hash % shares as u64 == index as u64 {
            let bytes = merge.document(&mut buf).map_err(|e| match e {
                DocumentReadError::Spool(source) => PipelineError::SpoolRead { source },
                DocumentReadError::Input(source) => PipelineError::InputRead {
                    input: spools[i].report.input.clone(),
                    source,
                },
            })?;
            let store = match (head.in_input, &input_stores[i]) {
                (true, Some(store)) => store,
                _ => &stores[i],
            };
            let decoded = match std::str::from_utf8(bytes) {
                Ok(text) => Document::from_stored_text(
                    text,
                    store,
                    head.offset,
                    &decoder.catalog,
                    decoder.timestamp,
                    position,
                ),
                Err(e) => Err(DocumentError::NotJson(e.to_string())),
            };
            match decoded {
                Ok(doc) => {
                    decoder.count(&doc, &mut counts);
                    hunt.push(doc)?;
                    alerts.append(&mut hunt.take_alerts());
                }
                Err(e @ (DocumentError::NotJson(_) | DocumentError::NotAnObject(_))) => {
                    // One bad record, never a lost hunt: counted, quoted, passed over.
                    undecodable_by_spool[i] += 1;
                    let kept = &mut undecodable[i];
                    kept.push(Undecodable {
                        spool: i,
                        line: head.line,
                        reason: e.to_string(),
                    });
                    if kept.len() > 2 * quoted_errors.max(1) {
                        lowest_lines(kept, quoted_errors);
                    }
                    if let Some(ts) = time {
                        hunt.pass(ts, position)?;
                    }
                }
                Err(_) => {
                    counts.unreadable += 1;
                    if let Some(ts) = time {
                        hunt.pass(ts, position)?;
                    }
                }
            }
        } else if let Some(ts) = time {
            hunt.pass(ts, position)?;
        }
        position += 1;
        if index == 0 && position.is_multiple_of(4096) {
            progress.position(position);
        }
    }
    for kept in &mut undecodable {
        lowest_lines(kept, quoted_errors);
    }
    let (rest, stats, rules) = hunt.finish();
    alerts.extend(rest);
    Ok(Share {
        alerts,
        stats,
        rules,
        counts,
        undecodable,
        undecodable_by_spool,
    })
}

/// Keeps the `n` records of the lowest lines, in line order.
pub(crate) fn lowest_lines(records: &mut Vec<Undecodable>, n: usize) {
    records.sort();
    records.truncate(n);
}

/// What turning spooled text into the rules' events needs, and counting them for the
/// summary: shared by the batch workers and the incremental form.
pub(crate) struct Decoder {
    pub catalog: FieldCatalog,
    pub projection: Arc<Projection>,
    pub timestamp: FieldId,
    action: FieldId,
    user: FieldId,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    max_users: usize,
}

impl Decoder {
    pub fn new(hunt: &Hunt, max_users: usize) -> Decoder {
        let catalog = hunt.catalog().clone();
        let (from, to) = hunt.range();
        Decoder {
            projection: Arc::new(Projection::new(&catalog)),
            timestamp: hunt.timestamp_field(),
            action: catalog
                .get("event.action")
                .expect("alerts read event.action"),
            user: catalog.get("user.name").expect("alerts read user.name"),
            catalog,
            from,
            to,
            max_users,
        }
    }

    /// Counts `doc` by action and user when it is within `--from`/`--to`.
    pub fn count(&self, doc: &Document, counts: &mut EventCounts) {
        use quarry_rules::threshold::key_text;
        let ts = doc.timestamp();
        if self.from.is_some_and(|f| ts < f) || self.to.is_some_and(|t| ts >= t) {
            return;
        }
        counts.count(
            key_text(doc.field(self.action)).as_deref().unwrap_or("-"),
            key_text(doc.field(self.user)).as_deref(),
            self.max_users,
        );
    }
}
