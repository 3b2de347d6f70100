//! Threshold rules: "at least N events per group within the window".
//!
//! Kibana does not slide a window over events: it runs the rule every `interval`, and each
//! execution counts the events of the lookback (`from`) per group. A burst that straddles two
//! executions' windows can slip under the threshold in both, and a group that has alerted
//! does not alert again on the same events (Kibana keeps a threshold signal history). Quarry
//! evaluates threshold rules both ways, chosen per run:
//!
//! - [`ThresholdMode::Kibana`]: executions at every multiple of `interval` (epoch-aligned),
//!   each counting events in `[T - from, T]`; events already counted into an alert of the
//!   group are not counted again;
//! - [`ThresholdMode::Sliding`]: the exact answer: a match whenever the `from`-long window
//!   ending at an event (inclusive, as `maxspan`) holds at least N events of its group.
//!
//! Events missing a group field are not counted, as a terms aggregation leaves them out.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use quarry_engine::expr::{Cond, eval_cond};
use quarry_event::{Event, FieldId, Timestamp};

/// How threshold rules are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThresholdMode {
    /// As Kibana schedules them: executions every interval over the lookback.
    #[default]
    Kibana,
    /// Every window of the lookback's length, exactly.
    Sliding,
}

/// A group that reached the threshold.
#[derive(Debug)]
pub struct ThresholdMatch<E> {
    /// The group's values, in the order of the rule's fields.
    pub key: Vec<String>,
    /// Events the match counted that no earlier match of the group reported.
    pub new_events: Vec<Arc<E>>,
    /// How many events the window held.
    pub count: u64,
    /// When the match was decided: the execution time (Kibana) or the last event (sliding).
    pub at: Timestamp,
}

pub struct ThresholdEvaluator<E> {
    filter: Cond,
    fields: Vec<FieldId>,
    value: u64,
    window_ms: i64,
    interval_ms: i64,
    mode: ThresholdMode,
    groups: HashMap<Vec<String>, Group<E>>,
    next_execution: Option<i64>,
    /// Events pushed (sliding mode), to forget idle groups now and then.
    pushed: u64,
    /// Groups held at most: past it the least recently seen are forgotten (and counted).
    max_groups: usize,
    evicted: u64,
}

struct Group<E> {
    events: VecDeque<Arc<E>>,
    /// Events at or before this position were reported in an earlier match.
    reported_through: Option<u64>,
    /// The newest events still as they were pushed (decoded), in Kibana mode, kept so by a
    /// group that may reach the threshold: the next execution folds them into its match, if
    /// any, and then keeps their held form ([`Event::held`]) for the rest of the lookback.
    /// So a matching group's events are decoded once, and at most one interval of a group's
    /// events is held decoded.
    fresh: usize,
}

/// A group field's value as a key: strings as they are, other scalars as JSON writes them.
pub fn key_value(v: quarry_event::ValueRef<'_>) -> Option<String> {
    key_text(v).map(std::borrow::Cow::into_owned)
}

/// [`key_value`] without copying strings: for counting into maps that already hold the key.
pub fn key_text(v: quarry_event::ValueRef<'_>) -> Option<std::borrow::Cow<'_, str>> {
    v.key_text()
}

/// Adds one to `key`'s count, copying the key only the first time it is seen.
pub fn bump(counts: &mut std::collections::HashMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

/// The first multiple of `interval` at or after `ts`: the execution that first sees an event
/// at `ts`.
fn ceil_to(ts: i64, interval: i64) -> i64 {
    let floor = ts.div_euclid(interval).saturating_mul(interval);
    if floor == ts {
        ts
    } else {
        floor.saturating_add(interval)
    }
}

impl<E: Event> ThresholdEvaluator<E> {
    pub fn new(
        filter: Cond,
        fields: Vec<FieldId>,
        value: u64,
        window_ms: u64,
        interval_ms: u64,
        mode: ThresholdMode,
    ) -> Self {
        ThresholdEvaluator {
            filter,
            fields,
            value: value.max(1),
            window_ms: i64::try_from(window_ms).unwrap_or(i64::MAX),
            interval_ms: i64::try_from(interval_ms.max(1)).unwrap_or(i64::MAX),
            mode,
            groups: HashMap::new(),
            next_execution: None,
            pushed: 0,
            max_groups: usize::MAX,
            evicted: 0,
        }
    }

    /// Holds at most `max` groups: when a new one would pass it, the least recently seen
    /// tenth is forgotten, so that a spray of distinct keys (user and address pairs) costs
    /// bounded memory. Their counts are lost; [`ThresholdEvaluator::evicted`] says how many.
    pub fn with_max_groups(mut self, max: usize) -> Self {
        self.max_groups = max.max(1);
        self
    }

    /// Groups forgotten over the cap.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Makes room for one more group: forgets the least recently seen tenth (at least one),
    /// in one pass, so a stream of new keys costs amortized O(1) each.
    fn make_room(&mut self) {
        if self.groups.len() < self.max_groups {
            return;
        }
        let excess = (self.groups.len() + 1 - self.max_groups)
            .max(self.max_groups / 10)
            .max(1);
        let last = |g: &Group<E>| g.events.back().map_or(i64::MIN, |e| e.timestamp().millis());
        let mut seen: Vec<i64> = self.groups.values().map(last).collect();
        let cut_index = excess.min(seen.len()) - 1;
        let (_, cut, _) = seen.select_nth_unstable(cut_index);
        let cut = *cut;
        let mut evicted = 0u64;
        self.groups.retain(|_, g| {
            if evicted < excess as u64 && last(g) <= cut {
                evicted += 1;
                false
            } else {
                true
            }
        });
        self.evicted += evicted;
    }

    /// Runs what is due before `ts` (Kibana's executions scheduled earlier), without an event:
    /// the caller learns of matches decided before the time it is about to act on.
    pub fn advance(&mut self, ts: Timestamp, out: &mut Vec<ThresholdMatch<E>>) {
        if self.mode == ThresholdMode::Kibana {
            self.run_executions_before(ts.millis(), out);
        }
    }

    /// Feeds the next event (in time order).
    pub fn push(&mut self, event: &Arc<E>, out: &mut Vec<ThresholdMatch<E>>) {
        let ts = event.timestamp().millis();
        if self.mode == ThresholdMode::Kibana {
            self.run_executions_before(ts, out);
        } else {
            self.pushed += 1;
            if self.pushed.is_multiple_of(4096) {
                // Forget groups whose window holds nothing any more.
                let oldest = ts.saturating_sub(self.window_ms);
                self.groups.retain(|_, g| {
                    g.events
                        .back()
                        .is_some_and(|e| e.timestamp().millis() >= oldest)
                });
            }
        }
        if eval_cond(&self.filter, &**event) != Some(true) {
            return;
        }
        let Some(key) = self
            .fields
            .iter()
            .map(|f| key_value(event.field(*f)))
            .collect::<Option<Vec<String>>>()
        else {
            return;
        };
        // The key is cloned only for a new group: it is still needed for a sliding match.
        if !self.groups.contains_key(&key) {
            self.make_room();
            self.groups.insert(
                key.clone(),
                Group {
                    events: VecDeque::new(),
                    reported_through: None,
                    fresh: 0,
                },
            );
        }
        let group = self.groups.get_mut(&key).expect("inserted above");
        // A group that may match at the next execution keeps its new events decoded until
        // then (that match folds them); any other keeps their held form (their place, not
        // their values) where they have one. Once one is kept decoded, the rest until the
        // execution are too, so the decoded ones are always the newest.
        let may_match = group.fresh > 0 || group.events.len() as u64 + 1 >= self.value;
        if self.mode == ThresholdMode::Kibana && may_match {
            group.events.push_back(Arc::clone(event));
            group.fresh += 1;
        } else {
            group
                .events
                .push_back(E::held(event).map_or_else(|| Arc::clone(event), Arc::new));
        }
        let oldest = ts.saturating_sub(self.window_ms);
        while group
            .events
            .front()
            .is_some_and(|e| e.timestamp().millis() < oldest)
        {
            group.events.pop_front();
        }
        group.fresh = group.fresh.min(group.events.len());
        if self.mode == ThresholdMode::Sliding && group.events.len() as u64 >= self.value {
            // Unreported events are the newest ones: walk back to the last reported.
            let mut new_events: Vec<Arc<E>> = group
                .events
                .iter()
                .rev()
                .take_while(|e| group.reported_through.is_none_or(|p| e.position() > p))
                .cloned()
                .collect();
            new_events.reverse();
            group.reported_through = Some(event.position());
            out.push(ThresholdMatch {
                key,
                new_events,
                count: group.events.len() as u64,
                at: event.timestamp(),
            });
        }
    }

    /// Runs the executions still due after the last event.
    pub fn finish(&mut self, out: &mut Vec<ThresholdMatch<E>>) {
        if self.mode != ThresholdMode::Kibana {
            return;
        }
        let last = self
            .groups
            .values()
            .filter_map(|g| g.events.back().map(|e| e.timestamp().millis()))
            .max();
        if let Some(last) = last {
            // The first execution at or after the last event sees it.
            self.run_executions_before(last.saturating_add(self.interval_ms), out);
        }
    }

    /// Runs every execution scheduled before `ts` (events at `ts` belong to later ones).
    fn run_executions_before(&mut self, ts: i64, out: &mut Vec<ThresholdMatch<E>>) {
        let interval = self.interval_ms;
        let mut next = match self.next_execution {
            Some(n) => n,
            None => {
                self.next_execution = Some(ceil_to(ts, interval));
                return;
            }
        };
        while next < ts {
            if self.groups.is_empty() {
                // Nothing to count until this event: skip straight to its schedule.
                next = ceil_to(ts, interval);
                break;
            }
            self.execute(next, out);
            next = next.saturating_add(interval);
        }
        self.next_execution = Some(next);
    }

    /// One Kibana execution at `t`: counts `[t - window, t]` per group.
    fn execute(&mut self, t: i64, out: &mut Vec<ThresholdMatch<E>>) {
        let start = t.saturating_sub(self.window_ms);
        let next_start = t
            .saturating_add(self.interval_ms)
            .saturating_sub(self.window_ms);
        let at = Timestamp::from_millis(t).unwrap_or(Timestamp::from_nanos(i64::MAX));
        let mut found = Vec::new();
        for (key, group) in &self.groups {
            // Counted events are a subset of the group's: most groups are too small to look at.
            if (group.events.len() as u64) < self.value {
                continue;
            }
            let counted: Vec<&Arc<E>> = group
                .events
                .iter()
                .filter(|e| {
                    let ms = e.timestamp().millis();
                    ms >= start
                        && ms <= t
                        && group.reported_through.is_none_or(|p| e.position() > p)
                })
                .collect();
            if counted.len() as u64 >= self.value {
                found.push((
                    key.clone(),
                    counted.iter().map(|e| Arc::clone(e)).collect::<Vec<_>>(),
                ));
            }
        }
        // Matches of one execution in key order, whatever the map's order.
        found.sort_by(|a: &(Vec<String>, Vec<Arc<E>>), b| a.0.cmp(&b.0));
        for (key, events) in found {
            let group = self.groups.get_mut(&key).expect("key from the map");
            group.reported_through = events.last().map(|e| e.position());
            // No later execution counts a reported event again, and they are the oldest of
            // the group (events arrive in position order): let them go now, so a busy group
            // holds one interval of events instead of a whole lookback.
            while group
                .events
                .front()
                .is_some_and(|e| group.reported_through.is_some_and(|p| e.position() <= p))
            {
                group.events.pop_front();
            }
            out.push(ThresholdMatch {
                key,
                count: events.len() as u64,
                new_events: events,
                at,
            });
        }
        // Forget what no later execution can count; keep the rest held.
        self.groups.retain(|_, g| {
            while g
                .events
                .front()
                .is_some_and(|e| e.timestamp().millis() < next_start)
            {
                g.events.pop_front();
            }
            let fresh = g.fresh.min(g.events.len());
            let decoded = g.events.len() - fresh;
            for e in g.events.range_mut(decoded..) {
                if let Some(held) = E::held(e) {
                    *e = Arc::new(held);
                }
            }
            g.fresh = 0;
            !g.events.is_empty()
        });
    }
}
