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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use hashbrown::{Equivalent, HashMap};

use quarry_event::{Event, FieldId, Value, ValueRef};

use crate::expr::{Cond, eval_cond};
use crate::missing::{MissingSpec, Placement, Verdict};

/// A join key: one value per key field (null only for `?field` keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinKey(pub Vec<KeyValue>);

/// A join key borrowed from an event, to look up state without allocating.
/// It hashes exactly as the [`JoinKey`] it equals.
struct KeyView<'a, 'v>(&'a [ValueRef<'v>]);

impl Hash for JoinKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.len());
        for v in &self.0 {
            match v {
                KeyValue::Null => hash_value(state, ValueRef::Null),
                KeyValue::Bool(b) => hash_value(state, ValueRef::Bool(*b)),
                KeyValue::Integer(i) => hash_value(state, ValueRef::Integer(*i)),
                KeyValue::Float(bits) => hash_value(state, ValueRef::Float(f64::from_bits(*bits))),
                KeyValue::String(s) => hash_value(state, ValueRef::String(s)),
            }
        }
    }
}

impl Hash for KeyView<'_, '_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.len());
        for v in self.0 {
            hash_value(state, *v);
        }
    }
}

fn hash_value<H: Hasher>(state: &mut H, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => state.write_u8(0),
        ValueRef::Bool(b) => {
            state.write_u8(1);
            state.write_u8(u8::from(b));
        }
        ValueRef::Integer(i) => {
            state.write_u8(2);
            state.write_i64(i);
        }
        ValueRef::Float(f) => {
            state.write_u8(3);
            state.write_u64(f.to_bits());
        }
        ValueRef::String(s) => {
            state.write_u8(4);
            s.hash(state);
        }
        // Key views never hold arrays: they are fanned out first.
        ValueRef::Array(_) => state.write_u8(5),
    }
}

impl Equivalent<JoinKey> for KeyView<'_, '_> {
    fn equivalent(&self, key: &JoinKey) -> bool {
        self.0.len() == key.0.len()
            && self.0.iter().zip(&key.0).all(|(v, k)| match (v, k) {
                (ValueRef::Null, KeyValue::Null) => true,
                (ValueRef::Bool(a), KeyValue::Bool(b)) => a == b,
                (ValueRef::Integer(a), KeyValue::Integer(b)) => a == b,
                (ValueRef::Float(a), KeyValue::Float(b)) => a.to_bits() == *b,
                (ValueRef::String(a), KeyValue::String(b)) => **a == **b,
                _ => false,
            })
    }
}

impl KeyView<'_, '_> {
    fn to_owned(&self) -> JoinKey {
        JoinKey(
            self.0
                .iter()
                .filter_map(|v| KeyValue::from_ref(*v))
                .collect(),
        )
    }
}

impl Ord for KeyValue {
    /// Null first, then booleans, numbers (integers and floats together) and strings (by code
    /// point), as keys sort in Elasticsearch's composite buckets.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        fn rank(k: &KeyValue) -> u8 {
            match k {
                KeyValue::Null => 0,
                KeyValue::Bool(_) => 1,
                KeyValue::Integer(_) | KeyValue::Float(_) => 2,
                KeyValue::String(_) => 3,
            }
        }
        let as_f64 = |k: &KeyValue| match k {
            KeyValue::Integer(i) => *i as f64,
            KeyValue::Float(bits) => f64::from_bits(*bits),
            _ => 0.0,
        };
        match (self, other) {
            (KeyValue::Bool(a), KeyValue::Bool(b)) => a.cmp(b),
            (KeyValue::Integer(a), KeyValue::Integer(b)) => a.cmp(b),
            (KeyValue::String(a), KeyValue::String(b)) => a.as_bytes().cmp(b.as_bytes()),
            (a, b) if rank(a) == 2 && rank(b) == 2 => as_f64(a).total_cmp(&as_f64(b)),
            (a, b) => rank(a).cmp(&rank(b)).then(Ordering::Equal),
        }
    }
}

impl PartialOrd for KeyValue {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for JoinKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl PartialOrd for JoinKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A hashable join key value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    Null,
    Bool(bool),
    Integer(i64),
    /// The bits of a float, so that keys hash and compare exactly.
    Float(u64),
    String(Box<str>),
}

impl KeyValue {
    /// The key value of a scalar (`None` for an array, which keys fan out first).
    pub fn from_value_ref(v: ValueRef<'_>) -> Option<KeyValue> {
        KeyValue::from_ref(v)
    }

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyField {
    pub field: FieldId,
    /// Written `?field`: a missing value joins as null instead of excluding the event.
    pub optional: bool,
}

/// A stage after `runs` expansion. Stages repeated by `runs` share their filter and keys, so
/// each distinct filter is evaluated, and each distinct key computed, once per event.
#[derive(Debug, Clone, Copy)]
pub struct StageSpec {
    /// Index into [`SequenceSpec::filters`].
    pub filter: usize,
    /// Index into [`SequenceSpec::keys`].
    pub keys: usize,
}

#[derive(Debug, Clone)]
pub struct SequenceSpec {
    /// The distinct stage filters (category test and condition together).
    pub filters: Vec<Cond>,
    /// The distinct key lists: the sequence's `by` keys followed by a stage's own.
    pub keys: Vec<Vec<KeyField>>,
    /// The positive stages, in order (missing stages are in [`SequenceSpec::missing`]).
    pub stages: Vec<StageSpec>,
    /// The `until` stage's filter and keys.
    pub until: Option<(Cond, Vec<KeyField>)>,
    /// In nanoseconds.
    pub maxspan: Option<i64>,
    /// The missing-event stages `![...]`, if any.
    pub missing: Option<MissingSpec>,
}

/// A completed sequence.
#[derive(Debug)]
pub struct SequenceMatch<E> {
    pub join_key: JoinKey,
    /// The events of the positive stages, in order.
    pub events: Vec<Arc<E>>,
    /// Where each stage of the full sequence is: `None` for a missing stage (Elasticsearch
    /// returns a placeholder there), `Some(i)` for `events[i]`. Empty when the sequence has
    /// no missing stages.
    pub layout: Arc<[Option<usize>]>,
}

/// A candidate whose positive stages are complete, waiting for a trailing forbidding event.
struct Awaiting<E> {
    id: u64,
    events: Vec<Arc<E>>,
    leading: Option<i64>,
    first: i64,
    last: i64,
}

struct Pending<E> {
    events: Vec<Arc<E>>,
    first_ts: i64,
}

struct KeyState<E> {
    /// `groups[s]`: pending sequences whose last matched stage is `s` (for `s < n - 1`).
    groups: Box<[VecDeque<Pending<E>>]>,
    /// For a repeated single stage (see [`SequenceMatcher::repeated`]): the key's latest
    /// matching events, oldest first; each starts one pending sequence.
    recent: VecDeque<Arc<E>>,
    /// Forbidding events seen for this key, per missing stage (nanoseconds, oldest first).
    missing_hits: Box<[VecDeque<i64>]>,
    /// Candidates waiting for a trailing forbidding event.
    awaiting: Vec<Awaiting<E>>,
    /// Timestamp of the latest event that touched this key.
    last_seen: i64,
}

impl<E> KeyState<E> {
    fn new(stages: usize, missing_stages: usize) -> Self {
        KeyState {
            groups: (0..stages.saturating_sub(1))
                .map(|_| VecDeque::new())
                .collect(),
            recent: VecDeque::new(),
            missing_hits: (0..missing_stages).map(|_| VecDeque::new()).collect(),
            awaiting: Vec::new(),
            last_seen: i64::MIN,
        }
    }

    fn is_empty(&self) -> bool {
        self.recent.is_empty()
            && self.groups.iter().all(VecDeque::is_empty)
            && self.missing_hits.iter().all(VecDeque::is_empty)
            && self.awaiting.is_empty()
    }

    fn pending(&self) -> usize {
        self.recent.len() + self.groups.iter().map(VecDeque::len).sum::<usize>()
    }

    fn clear(&mut self) {
        self.recent.clear();
        self.groups.iter_mut().for_each(VecDeque::clear);
    }
}

impl<E: Event> KeyState<E> {
    /// Drops pending sequences that can no longer complete within maxspan at time `now`.
    fn expire(&mut self, now: i64, maxspan: i64) {
        for group in &mut self.groups {
            group.retain(|p| now.saturating_sub(p.first_ts) <= maxspan);
        }
        while self
            .recent
            .front()
            .is_some_and(|e| now.saturating_sub(e.timestamp().nanos()) > maxspan)
        {
            self.recent.pop_front();
        }
        // A forbidding event older than maxspan can no longer affect a candidate.
        for hits in &mut self.missing_hits {
            while hits
                .front()
                .is_some_and(|&t| now.saturating_sub(t) > maxspan)
            {
                hits.pop_front();
            }
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
    /// Candidates rejected because a missing-event stage's event occurred.
    pub missing_rejections: u64,
}

/// The streaming sequence matcher.
pub struct SequenceMatcher<E> {
    spec: Arc<SequenceSpec>,
    /// Every stage is the same filter with the same keys (`[...] with runs=N`, the seed's
    /// shape): the pending sequences of a key are then exactly its last N - 1 matching events,
    /// and the matcher keeps those in a ring instead of moving N - 1 sequences per event. The
    /// results are identical (a sequence rejected by maxspan at one stage would be rejected at
    /// the last, as timestamps only grow).
    repeated: bool,
    keys: HashMap<JoinKey, KeyState<E>>,
    max_keys: usize,
    stats: SequenceStats,
    /// Events since the last sweep of expired state, and the time of that sweep.
    since_sweep: usize,
    last_sweep: i64,
    /// Placeholder layout shared by every match.
    layout: Arc<[Option<usize>]>,
    /// Deadlines of candidates waiting for a trailing forbidding event, with their keys.
    deadlines: BinaryHeap<Reverse<(i64, u64)>>,
    waiting_keys: HashMap<u64, JoinKey>,
    next_id: u64,
}

impl<E: Event> SequenceMatcher<E> {
    pub fn new(spec: SequenceSpec, max_keys: usize) -> Self {
        let repeated = spec.stages.len() >= 2
            && spec
                .stages
                .iter()
                .all(|st| st.filter == spec.stages[0].filter && st.keys == spec.stages[0].keys);
        let layout: Arc<[Option<usize>]> = match &spec.missing {
            Some(m) => Arc::from(m.layout.clone()),
            None => Arc::from(Vec::new()),
        };
        let mut matcher = SequenceMatcher {
            spec: Arc::new(spec),
            repeated,
            keys: HashMap::new(),
            max_keys: max_keys.max(1),
            stats: SequenceStats::default(),
            since_sweep: 0,
            last_sweep: i64::MIN,
            layout: Arc::from(Vec::new()),
            deadlines: BinaryHeap::new(),
            waiting_keys: HashMap::new(),
            next_id: 0,
        };
        matcher.layout = layout;
        matcher
    }

    fn missing_count(&self) -> usize {
        self.spec.missing.as_ref().map_or(0, |m| m.stages.len())
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
        // Sweep expired state now and then: after enough events, and once a quarter of maxspan
        // has passed, so state older than maxspan lingers at most a quarter of it.
        if let Some(maxspan) = self.spec.maxspan
            && self.since_sweep >= 4096
            && now.saturating_sub(self.last_sweep) >= maxspan / 4
        {
            self.sweep(now, maxspan);
        }
        let spec = Arc::clone(&self.spec);
        if let Some((filter, keys)) = &spec.until
            && eval_cond(filter, &*event) == Some(true)
        {
            for_each_key(keys, &*event, |view| {
                if let Some(state) = self.keys.get_mut(&KeyView(view)) {
                    self.stats.until_drops += state.pending() as u64;
                    state.clear();
                }
            });
        }
        // Candidates whose trailing window closed before this event are accepted.
        self.accept_due(now, out);
        let mut matched = [false; 16];
        let mut matched_vec = Vec::new();
        let matched: &mut [bool] = if spec.filters.len() <= matched.len() {
            &mut matched[..spec.filters.len()]
        } else {
            matched_vec.resize(spec.filters.len(), false);
            &mut matched_vec
        };
        let mut any = false;
        for (m, f) in matched.iter_mut().zip(&spec.filters) {
            *m = eval_cond(f, &*event) == Some(true);
            any |= *m;
        }
        if !any {
            return;
        }
        // Windows keep the event's held form (its place, not its values) where it has one;
        // a sequence it completes gets the event itself, whose fields the match reads next.
        let kept = E::held(&event).map_or_else(|| Arc::clone(&event), Arc::new);
        if let Some(missing) = &spec.missing {
            for (m, stage) in missing.stages.iter().enumerate() {
                if matched[stage.filter] {
                    for_each_key(&spec.keys[stage.keys], &*event, |view| {
                        self.record_missing(m, stage.placement, view, now, out);
                    });
                }
            }
        }
        if spec.keys.len() == 1 {
            for_each_key(&spec.keys[0], &*event, |view| {
                self.advance_key(0, matched, view, (&event, &kept), now, out);
            });
        } else {
            self.advance_across_keysets(&spec, matched, &event, &kept, now, out);
        }
    }

    /// Stages with different key fields: still last stage first, across every key set, so that
    /// an event never extends a sequence it has just extended (whose key it may share).
    fn advance_across_keysets(
        &mut self,
        spec: &SequenceSpec,
        matched: &[bool],
        event: &Arc<E>,
        kept: &Arc<E>,
        now: i64,
        out: &mut Vec<SequenceMatch<E>>,
    ) {
        let mut keys_of: Vec<Option<Vec<JoinKey>>> = vec![None; spec.keys.len()];
        for s in (0..spec.stages.len()).rev() {
            let stage = spec.stages[s];
            if !matched[stage.filter] {
                continue;
            }
            let keys = keys_of[stage.keys]
                .get_or_insert_with(|| {
                    let mut keys = Vec::new();
                    for_each_key(&spec.keys[stage.keys], &**event, |view| {
                        keys.push(KeyView(view).to_owned())
                    });
                    keys
                })
                .clone();
            for key in keys {
                self.advance_stage(s, &key, (event, kept), now, out);
            }
        }
    }

    /// Advances one stage for one key (the general path, one stage at a time). `(event,
    /// kept)`: the event, and the form of it that pending sequences keep.
    fn advance_stage(
        &mut self,
        s: usize,
        key: &JoinKey,
        (event, kept): (&Arc<E>, &Arc<E>),
        now: i64,
        out: &mut Vec<SequenceMatch<E>>,
    ) {
        let n = self.spec.stages.len();
        if s == 0 {
            if !self.keys.contains_key(key) {
                self.make_room(now);
                let missing = self.missing_count();
                self.keys.insert(key.clone(), KeyState::new(n, missing));
            }
            let state = self.keys.get_mut(key).expect("inserted above");
            state.last_seen = now;
            state.groups[0].clear();
            state.groups[0].push_back(Pending {
                events: vec![Arc::clone(kept)],
                first_ts: now,
            });
            self.stats.peak_keys = self.stats.peak_keys.max(self.keys.len() as u64);
            return;
        }
        let maxspan = self.spec.maxspan;
        let Some(state) = self.keys.get_mut(key) else {
            return;
        };
        state.last_seen = now;
        let Some(mut pending) = state.groups[s - 1].pop_back() else {
            return;
        };
        state.groups[s - 1].clear();
        if maxspan.is_some_and(|m| now.saturating_sub(pending.first_ts) > m) {
            self.stats.maxspan_rejections += 1;
        } else {
            if s == n - 1 {
                pending.events.push(Arc::clone(event));
                self.complete(key, pending.events, out);
            } else {
                pending.events.push(Arc::clone(kept));
                state.groups[s].clear();
                state.groups[s].push_back(pending);
            }
        }
        if self.keys.get(key).is_some_and(KeyState::is_empty) {
            self.keys.remove(key);
        }
    }

    /// Advances every matching stage that uses `keyset` for one join key, last stage first.
    /// `(event, kept)`: the event, and the form of it that pending sequences keep.
    fn advance_key(
        &mut self,
        keyset: usize,
        matched: &[bool],
        view: &[ValueRef<'_>],
        (event, kept): (&Arc<E>, &Arc<E>),
        now: i64,
        out: &mut Vec<SequenceMatch<E>>,
    ) {
        let key = KeyView(view);
        let n = self.spec.stages.len();
        let last = n - 1;
        let starts = {
            let first = self.spec.stages[0];
            first.keys == keyset && matched[first.filter]
        };
        if n == 1 {
            if starts {
                self.complete(&key.to_owned(), vec![Arc::clone(event)], out);
            }
            return;
        }
        if starts && !self.keys.contains_key(&key) {
            self.make_room(now);
            let groups = if self.repeated { 1 } else { n };
            let missing = self.missing_count();
            self.keys
                .insert(key.to_owned(), KeyState::new(groups, missing));
        }
        let maxspan = self.spec.maxspan;
        let mut completed: Vec<Vec<Arc<E>>> = Vec::new();
        let Some(state) = self.keys.get_mut(&key) else {
            return;
        };
        state.last_seen = now;
        if self.repeated {
            // `starts` is true here: every stage matched, or none did and we were not called.
            if state.recent.len() == n - 1 {
                let oldest = state.recent.pop_front().expect("n - 1 >= 1 events");
                if maxspan.is_none_or(|m| now.saturating_sub(oldest.timestamp().nanos()) <= m) {
                    let mut events = Vec::with_capacity(n);
                    events.push(oldest);
                    events.extend(state.recent.iter().cloned());
                    events.push(Arc::clone(event));
                    completed.push(events);
                } else {
                    self.stats.maxspan_rejections += 1;
                }
            }
            state.recent.push_back(Arc::clone(kept));
        } else {
            for s in (1..n).rev() {
                let stage = self.spec.stages[s];
                if stage.keys != keyset || !matched[stage.filter] {
                    continue;
                }
                // The latest pending sequence of the previous stage; older ones go with it.
                let Some(mut pending) = state.groups[s - 1].pop_back() else {
                    continue;
                };
                state.groups[s - 1].clear();
                if maxspan.is_some_and(|m| now.saturating_sub(pending.first_ts) > m) {
                    self.stats.maxspan_rejections += 1;
                    continue;
                }
                if s == last {
                    pending.events.push(Arc::clone(event));
                    completed.push(pending.events);
                } else {
                    pending.events.push(Arc::clone(kept));
                    // Only the newest pending sequence of a stage is ever extended (older ones
                    // are dropped when it is): keep just that one, so state stays bounded.
                    state.groups[s].clear();
                    state.groups[s].push_back(pending);
                }
            }
            if starts {
                state.groups[0].clear();
                state.groups[0].push_back(Pending {
                    events: vec![Arc::clone(kept)],
                    first_ts: now,
                });
            }
        }
        if !completed.is_empty() {
            let owned = key.to_owned();
            for events in completed {
                self.complete(&owned, events, out);
            }
        }
        if self.keys.get(&key).is_some_and(KeyState::is_empty) {
            self.keys.remove(&key);
        }
        self.stats.peak_keys = self.stats.peak_keys.max(self.keys.len() as u64);
    }

    /// A candidate whose positive stages are complete: emitted, rejected, or set waiting,
    /// as its missing-event stages decide.
    fn complete(&mut self, key: &JoinKey, events: Vec<Arc<E>>, out: &mut Vec<SequenceMatch<E>>) {
        let Some(missing) = self.spec.missing.clone() else {
            self.emit(key.clone(), events, out);
            return;
        };
        let positive: Vec<i64> = events.iter().map(|e| e.timestamp().nanos()).collect();
        let empty: Vec<VecDeque<i64>> = Vec::new();
        let hits = self
            .keys
            .get(key)
            .map_or(&empty[..], |s| &s.missing_hits[..]);
        let verdict = if hits.is_empty() {
            let none: Vec<VecDeque<i64>> = vec![VecDeque::new(); missing.stages.len()];
            missing.judge(&none, &positive)
        } else {
            missing.judge(hits, &positive)
        };
        match verdict {
            Verdict::Accept => self.emit(key.clone(), events, out),
            Verdict::Reject => self.stats.missing_rejections += 1,
            Verdict::Await { deadline } => {
                let first = positive[0];
                let leading = missing.latest_leading(hits, first);
                let id = self.next_id;
                self.next_id += 1;
                let groups = if self.repeated {
                    1
                } else {
                    self.spec.stages.len()
                };
                let missing_count = missing.stages.len();
                let owned = key.clone();
                let state = self
                    .keys
                    .entry(owned.clone())
                    .or_insert_with(|| KeyState::new(groups, missing_count));
                state.awaiting.push(Awaiting {
                    id,
                    events,
                    leading,
                    first,
                    last: positive[positive.len() - 1],
                });
                self.deadlines.push(Reverse((deadline, id)));
                self.waiting_keys.insert(id, owned);
            }
        }
    }

    fn emit(&self, join_key: JoinKey, events: Vec<Arc<E>>, out: &mut Vec<SequenceMatch<E>>) {
        out.push(SequenceMatch {
            join_key,
            events,
            layout: Arc::clone(&self.layout),
        });
    }

    /// Records an event of missing stage `m` for one key; a trailing one decides the key's
    /// waiting candidates whose last positive event came before it.
    fn record_missing(
        &mut self,
        m: usize,
        placement: Placement,
        view: &[ValueRef<'_>],
        now: i64,
        out: &mut Vec<SequenceMatch<E>>,
    ) {
        let key = KeyView(view);
        if !self.keys.contains_key(&key) {
            self.make_room(now);
            let groups = if self.repeated {
                1
            } else {
                self.spec.stages.len()
            };
            let missing = self.missing_count();
            self.keys
                .insert(key.to_owned(), KeyState::new(groups, missing));
        }
        let state = self.keys.get_mut(&key).expect("inserted above");
        state.last_seen = now;
        state.missing_hits[m].push_back(now);
        if placement != Placement::Trailing || state.awaiting.is_empty() {
            return;
        }
        let now_ms = now.div_euclid(1_000_000);
        let (decided, waiting): (Vec<Awaiting<E>>, Vec<Awaiting<E>>) =
            std::mem::take(&mut state.awaiting)
                .into_iter()
                .partition(|a| now_ms > a.last.div_euclid(1_000_000));
        state.awaiting = waiting;
        let missing = self.spec.missing.clone().expect("trailing stages exist");
        let owned = key.to_owned();
        for candidate in decided {
            self.waiting_keys.remove(&candidate.id);
            if missing.trailing_rejects(candidate.leading, candidate.first, now) {
                self.stats.missing_rejections += 1;
            } else {
                self.emit(owned.clone(), candidate.events, out);
            }
        }
    }

    /// Accepts waiting candidates whose deadline is before `now`: no later event can reject them.
    fn accept_due(&mut self, now: i64, out: &mut Vec<SequenceMatch<E>>) {
        while let Some(&Reverse((deadline, id))) = self.deadlines.peek() {
            if deadline >= now {
                break;
            }
            self.deadlines.pop();
            self.release(id, out);
        }
    }

    fn release(&mut self, id: u64, out: &mut Vec<SequenceMatch<E>>) {
        let Some(key) = self.waiting_keys.remove(&id) else {
            return; // decided already, or its key was evicted
        };
        let Some(state) = self.keys.get_mut(&key) else {
            return;
        };
        if let Some(i) = state.awaiting.iter().position(|a| a.id == id) {
            let candidate = state.awaiting.swap_remove(i);
            self.emit(key, candidate.events, out);
        }
    }

    /// The end of the input: candidates still waiting are accepted (no forbidding event came).
    pub fn finish(&mut self, out: &mut Vec<SequenceMatch<E>>) {
        let mut ids: Vec<u64> = self.waiting_keys.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.release(id, out);
        }
        self.deadlines.clear();
    }

    /// Drops expired pending sequences and keys left with none.
    fn sweep(&mut self, now: i64, maxspan: i64) {
        self.since_sweep = 0;
        self.last_sweep = now;
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

/// Calls `f` with every join key `event` has for `keys`: array values fan out (one key per
/// distinct element, the cartesian product over several fields); a null value excludes the
/// event unless the key is optional, when it joins as null. The common case (scalar values,
/// few keys) builds the key on the stack.
pub fn for_each_key<E: Event>(keys: &[KeyField], event: &E, mut f: impl FnMut(&[ValueRef<'_>])) {
    const INLINE: usize = 8;
    let mut inline = [ValueRef::Null; INLINE];
    let mut spill = Vec::new();
    let buf: &mut [ValueRef<'_>] = if keys.len() <= INLINE {
        &mut inline[..keys.len()]
    } else {
        spill.resize(keys.len(), ValueRef::Null);
        &mut spill
    };
    let mut fan_out = false;
    for (slot, key) in buf.iter_mut().zip(keys) {
        let value = event.field(key.field);
        match value {
            ValueRef::Null if !key.optional => return,
            ValueRef::Array(_) => fan_out = true,
            v => *slot = v,
        }
    }
    if !fan_out {
        f(buf);
        return;
    }
    // Fan out: the distinct non-null elements of each field, then every combination.
    let mut choices: Vec<Vec<ValueRef<'_>>> = Vec::with_capacity(keys.len());
    for key in keys {
        let mut c: Vec<ValueRef<'_>> = Vec::new();
        for element in event.field(key.field).elements() {
            if !element.is_null() && !c.contains(&element) {
                c.push(element);
            }
        }
        if c.is_empty() {
            if !key.optional {
                return;
            }
            c.push(ValueRef::Null);
        }
        choices.push(c);
    }
    let mut index = vec![0usize; keys.len()];
    loop {
        for (slot, (c, i)) in buf.iter_mut().zip(choices.iter().zip(&index)) {
            *slot = c[*i];
        }
        f(buf);
        // Odometer increment over the choices.
        let mut k = keys.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            index[k] += 1;
            if index[k] < choices[k].len() {
                break;
            }
            index[k] = 0;
        }
    }
}
