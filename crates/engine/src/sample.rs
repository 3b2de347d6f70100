//! `sample` queries: events that share join keys, one per stage, in no particular time order.
//!
//! Elasticsearch finds the join-key values present in every stage, then for each key picks
//! distinct documents, one per stage, by backtracking through the stages in order (a document
//! never fills two stages), up to `max_samples_per_key` samples per key. Samples come out in
//! join-key order. There is no maxspan and no ordering, so a sample can only be decided once the
//! whole input is seen: this collector keeps, per key and stage, the first few matching events
//! (enough to find the samples asked for) and answers at the end.

use std::sync::Arc;

use hashbrown::HashMap;
use quarry_event::{Event, ValueRef};

use crate::expr::{Cond, eval_cond};
use crate::sequence::{JoinKey, KeyField, KeyValue, SequenceMatch, for_each_key};

#[derive(Debug, Clone)]
pub struct SampleSpec {
    /// One filter per stage.
    pub filters: Vec<Cond>,
    /// Per stage: the sample's `by` keys followed by the stage's own.
    pub keys: Vec<Vec<KeyField>>,
    pub max_samples_per_key: usize,
}

/// Counters of a sample run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleStats {
    /// Keys not tracked because the key cap was reached.
    pub dropped_keys: u64,
}

pub struct SampleCollector<E> {
    spec: SampleSpec,
    /// Per key, per stage: the first matching events, in input order.
    keys: HashMap<JoinKey, Vec<Vec<Arc<E>>>>,
    max_keys: usize,
    stats: SampleStats,
}

impl<E: Event> SampleCollector<E> {
    pub fn new(spec: SampleSpec, max_keys: usize) -> Self {
        SampleCollector {
            spec,
            keys: HashMap::new(),
            max_keys: max_keys.max(1),
            stats: SampleStats::default(),
        }
    }

    pub fn stats(&self) -> SampleStats {
        self.stats
    }

    /// The events a stage keeps per key: with `n` stages, `n * m` candidates always suffice to
    /// find `m` samples of distinct documents when they exist.
    fn per_stage_cap(&self) -> usize {
        self.spec.filters.len() * self.spec.max_samples_per_key.max(1)
    }

    pub fn push(&mut self, event: Arc<E>) {
        let stages = self.spec.filters.len();
        let cap = self.per_stage_cap();
        for stage in 0..stages {
            if eval_cond(&self.spec.filters[stage], &*event) != Some(true) {
                continue;
            }
            let keys = self.spec.keys[stage].clone();
            for_each_key(&keys, &*event, |view: &[ValueRef<'_>]| {
                let key = JoinKey(
                    view.iter()
                        .filter_map(|v| KeyValue::from_value_ref(*v))
                        .collect(),
                );
                if !self.keys.contains_key(&key) && self.keys.len() >= self.max_keys {
                    self.stats.dropped_keys += 1;
                    return;
                }
                let slots = self
                    .keys
                    .entry(key)
                    .or_insert_with(|| vec![Vec::new(); stages]);
                if slots[stage].len() < cap {
                    slots[stage].push(Arc::clone(&event));
                }
            });
        }
    }

    /// Every sample, in join-key order.
    pub fn finish(self) -> Vec<SequenceMatch<E>> {
        let mut keyed: Vec<(JoinKey, Vec<Vec<Arc<E>>>)> = self.keys.into_iter().collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::new();
        for (key, slots) in keyed {
            if slots.iter().any(Vec::is_empty) {
                continue;
            }
            let mut used: Vec<u64> = Vec::new();
            for _ in 0..self.spec.max_samples_per_key.max(1) {
                let mut chosen: Vec<usize> = Vec::with_capacity(slots.len());
                if !pick(&slots, 0, &mut chosen, &mut used) {
                    break;
                }
                let events: Vec<Arc<E>> = chosen
                    .iter()
                    .enumerate()
                    .map(|(stage, &i)| Arc::clone(&slots[stage][i]))
                    .collect();
                out.push(SequenceMatch {
                    join_key: key.clone(),
                    events,
                    layout: Arc::from(Vec::new()),
                });
            }
        }
        out
    }
}

/// Backtracking in stage order: one event per stage, none used twice (within this sample or by
/// an earlier sample of the same key). On success `chosen` holds the index picked per stage and
/// `used` gains their positions.
fn pick<E: Event>(
    slots: &[Vec<Arc<E>>],
    stage: usize,
    chosen: &mut Vec<usize>,
    used: &mut Vec<u64>,
) -> bool {
    if stage == slots.len() {
        return true;
    }
    for (i, event) in slots[stage].iter().enumerate() {
        let position = event.position();
        if used.contains(&position) {
            continue;
        }
        used.push(position);
        chosen.push(i);
        if pick(slots, stage + 1, chosen, used) {
            return true;
        }
        chosen.pop();
        used.pop();
    }
    false
}
