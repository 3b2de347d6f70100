//! Sequence matching with Elasticsearch's pending-sequence algorithm.
//!
//! Stages are expanded by `with runs=N`. For each join key and stage there is a group of pending
//! sequences whose last matched stage is that stage. An event matching stage `s` takes the
//! latest pending sequence of stage `s - 1` for its key and drops the older ones (Elasticsearch
//! keeps one pending sequence per stage and key; a newer one replaces older ones). maxspan is
//! inclusive: a sequence is rejected only when `last - first > maxspan`. An `until` event drops
//! every pending sequence of its key. Matches overlap: a burst of M events for one key under
//! `with runs=40` gives M - 39 matches, as in Elasticsearch.
//!
//! Events are fed in order; stages are tried from the last to the first so that one event never
//! advances the same sequence twice. State is bounded: pending sequences expire once maxspan has
//! passed, and the number of live join keys is capped, the least recently used key being evicted
//! (and counted) when the cap is reached.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use quarry_event::{Event, FieldId, Value, ValueRef};

use crate::expr::{Cond, eval_cond};

/// A join key: one value per key field (null only for `?field` keys).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JoinKey(pub Vec<KeyValue>);

/// A hashable join key value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyValue {
    Null,
    Bool(bool),
    Integer(i64),
    /// The bits of a float, so that keys hash and compare exactly.
    Float(u64),
    String(Box<str>),
}

impl KeyValue {
    fn from_ref(v: ValueRef<'_>) -> Option<KeyValue> {
        Some(match v {
            ValueRef::Null => KeyValue::Null,
            ValueRef::Bool(b) => KeyValue::Bool(b),
            ValueRef::Integer(i) => KeyValue::Integer(i),
            ValueRef::Float(f) => KeyValue::Float(f.to_bits()),
            ValueRef::String(s) => KeyValue::String(s.into()),
            ValueRef::Array(_) => return None,
        })
    }

    pub fn to_value(&self) -> Value {
        match self {
            KeyValue::Null => Value::Null,
            KeyValue::Bool(b) => Value::Bool(*b),
            KeyValue::Integer(i) => Value::Integer(*i),
            KeyValue::Float(bits) => Value::Float(f64::from_bits(*bits)),
            KeyValue::String(s) => Value::String(s.to_string()),
        }
    }
}

/// One join key field of a stage.
#[derive(Debug, Clone, Copy)]
pub struct KeyField {
    pub field: FieldId,
    /// Written `?field`: a missing value joins as null instead of excluding the event.
    pub optional: bool,
}

/// A stage after `runs` expansion.
#[derive(Debug, Clone)]
pub struct StageSpec {
    /// The category test and the condition, together.
    pub filter: Cond,
    /// The sequence's `by` keys followed by the stage's own.
    pub keys: Vec<KeyField>,
}

#[derive(Debug, Clone)]
pub struct SequenceSpec {
    pub stages: Vec<StageSpec>,
    pub until: Option<StageSpec>,
    /// In nanoseconds.
    pub maxspan: Option<i64>,
}

/// A completed sequence.
#[derive(Debug)]
pub struct SequenceMatch<E> {
    pub join_key: JoinKey,
    pub events: Vec<Arc<E>>,
}

struct Pending<E> {
    events: Vec<Arc<E>>,
    first_ts: i64,
}

struct KeyState<E> {
    /// `groups[s]`: pending sequences whose last matched stage is `s` (for `s < n - 1`).
    groups: Vec<VecDeque<Pending<E>>>,
    /// Timestamp of the latest event that touched this key.
    last_seen: i64,
}

impl<E> KeyState<E> {
    fn new(stages: usize) -> Self {
        KeyState {
            groups: (0..stages.saturating_sub(1))
                .map(|_| VecDeque::new())
                .collect(),
            last_seen: i64::MIN,
        }
    }

    fn is_empty(&self) -> bool {
        self.groups.iter().all(VecDeque::is_empty)
    }

    /// Drops pending sequences that can no longer complete within maxspan at time `now`.
    fn expire(&mut self, now: i64, maxspan: i64) {
        for group in &mut self.groups {
            group.retain(|p| now - p.first_ts <= maxspan);
        }
    }
}

/// Counters a run reports: nothing is dropped silently.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceStats {
    /// Join keys evicted because the live-key cap was reached (their pending sequences lost).
    pub evicted_keys: u64,
    /// Candidate extensions rejected because they exceeded maxspan.
    pub maxspan_rejections: u64,
    /// Pending sequences dropped by an `until` event.
    pub until_drops: u64,
    /// The most join keys live at once.
    pub peak_keys: u64,
}

/// The streaming sequence matcher.
pub struct SequenceMatcher<E> {
    spec: SequenceSpec,
    keys: HashMap<JoinKey, KeyState<E>>,
    max_keys: usize,
    stats: SequenceStats,
    /// Events since the last sweep of expired state.
    since_sweep: usize,
}

impl<E: Event> SequenceMatcher<E> {
    pub fn new(spec: SequenceSpec, max_keys: usize) -> Self {
        SequenceMatcher {
            spec,
            keys: HashMap::new(),
            max_keys: max_keys.max(1),
            stats: SequenceStats::default(),
            since_sweep: 0,
        }
    }

    pub fn stats(&self) -> SequenceStats {
        self.stats
    }

    /// The number of join keys with pending sequences.
    pub fn live_keys(&self) -> usize {
        self.keys.len()
    }

    /// Feeds the next event (in `(timestamp, tiebreaker, position)` order); completed sequences
    /// are appended to `out`.
    pub fn push(&mut self, event: Arc<E>, out: &mut Vec<SequenceMatch<E>>) {
        let now = event.timestamp().nanos();
        self.since_sweep += 1;
        if let Some(maxspan) = self.spec.maxspan
            && self.since_sweep >= 4096
        {
            self.sweep(now, maxspan);
        }
        if let Some(until) = &self.spec.until
            && eval_cond(&until.filter, &*event) == Some(true)
        {
            for key in join_keys(&until.keys, &*event) {
                if let Some(state) = self.keys.get_mut(&key) {
                    let dropped: usize = state.groups.iter().map(VecDeque::len).sum();
                    self.stats.until_drops += dropped as u64;
                    state.groups.iter_mut().for_each(VecDeque::clear);
                }
            }
        }
        let last = self.spec.stages.len() - 1;
        for s in (0..=last).rev() {
            let stage = &self.spec.stages[s];
            if eval_cond(&stage.filter, &*event) != Some(true) {
                continue;
            }
            for key in join_keys(&stage.keys, &*event) {
                self.advance(s, key, &event, now, out);
            }
        }
    }

    fn advance(
        &mut self,
        s: usize,
        key: JoinKey,
        event: &Arc<E>,
        now: i64,
        out: &mut Vec<SequenceMatch<E>>,
    ) {
        let last = self.spec.stages.len() - 1;
        if s == 0 {
            let pending = Pending {
                events: vec![Arc::clone(event)],
                first_ts: now,
            };
            if last == 0 {
                out.push(SequenceMatch {
                    join_key: key,
                    events: pending.events,
                });
                return;
            }
            let stages = self.spec.stages.len();
            if !self.keys.contains_key(&key) {
                self.make_room(now);
            }
            let state = self
                .keys
                .entry(key)
                .or_insert_with(|| KeyState::new(stages));
            state.last_seen = now;
            state.groups[0].push_back(pending);
            self.stats.peak_keys = self.stats.peak_keys.max(self.keys.len() as u64);
            return;
        }
        let Some(state) = self.keys.get_mut(&key) else {
            return;
        };
        state.last_seen = now;
        // The latest pending sequence of the previous stage; older ones are dropped with it.
        let Some(mut pending) = state.groups[s - 1].pop_back() else {
            return;
        };
        state.groups[s - 1].clear();
        if let Some(maxspan) = self.spec.maxspan
            && now - pending.first_ts > maxspan
        {
            self.stats.maxspan_rejections += 1;
            if state.is_empty() {
                self.keys.remove(&key);
            }
            return;
        }
        pending.events.push(Arc::clone(event));
        if s == last {
            let empty = state.is_empty();
            if empty {
                self.keys.remove(&key);
            }
            out.push(SequenceMatch {
                join_key: key,
                events: pending.events,
            });
        } else {
            state.groups[s].push_back(pending);
        }
    }

    /// Drops expired pending sequences and keys left with none.
    fn sweep(&mut self, now: i64, maxspan: i64) {
        self.since_sweep = 0;
        self.keys.retain(|_, state| {
            state.expire(now, maxspan);
            !state.is_empty()
        });
    }

    /// Makes room for one more key: expired state first, then the least recently used keys.
    fn make_room(&mut self, now: i64) {
        if self.keys.len() < self.max_keys {
            return;
        }
        if let Some(maxspan) = self.spec.maxspan {
            self.sweep(now, maxspan);
        }
        if self.keys.len() < self.max_keys {
            return;
        }
        // Evict the least recently seen tenth (at least one) in one pass, so that a stream of
        // new keys costs amortized O(1) per key rather than a scan per key.
        let excess = (self.keys.len() + 1 - self.max_keys)
            .max(self.max_keys / 10)
            .max(1);
        let mut seen: Vec<i64> = self.keys.values().map(|s| s.last_seen).collect();
        let cut_index = excess.min(seen.len()) - 1;
        let (_, cut, _) = seen.select_nth_unstable(cut_index);
        let cut = *cut;
        let mut evicted = 0u64;
        self.keys.retain(|_, state| {
            if evicted < excess as u64 && state.last_seen <= cut {
                evicted += 1;
                false
            } else {
                true
            }
        });
        self.stats.evicted_keys += evicted;
    }
}

/// Every join key `event` has for `keys`: array values fan out (one key per distinct element,
/// the cartesian product over several fields); a null value excludes the event unless the key
/// is optional.
pub fn join_keys(keys: &[KeyField], event: &impl Event) -> Vec<JoinKey> {
    let mut combos: Vec<Vec<KeyValue>> = vec![Vec::with_capacity(keys.len())];
    for key in keys {
        let value = event.field(key.field);
        let mut choices: Vec<KeyValue> = Vec::new();
        for element in value.elements() {
            if let Some(k) = KeyValue::from_ref(element)
                && k != KeyValue::Null
                && !choices.contains(&k)
            {
                choices.push(k);
            }
        }
        if choices.is_empty() {
            if !key.optional {
                return Vec::new();
            }
            choices.push(KeyValue::Null);
        }
        if choices.len() == 1 {
            let only = choices.pop().expect("one");
            combos.iter_mut().for_each(|c| c.push(only.clone()));
        } else {
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    choices.iter().map(move |k| {
                        let mut c = c.clone();
                        c.push(k.clone());
                        c
                    })
                })
                .collect();
        }
    }
    combos.into_iter().map(JoinKey).collect()
}
