//! A rule set at work: every rule compiled against one field catalog, fed one time-ordered
//! stream of events, turning matches into alerts.
//!
//! For each event, in order: the `--from`/`--to` window, then exceptions (the tuning file's
//! for every rule, then each rule's own) drop what they describe and count it by name; then
//! every rule sees the event; matches fold into open alerts per rule and group key, and an
//! alert closes when its suppression window has passed. Tuning lowers a closing alert's
//! severity with a stated reason. Nothing is dropped without a counter saying so.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;

use quarry_engine::expr::{Cond, compile_condition, eval_cond};
use quarry_engine::{CompiledQuery, Hit, OrderError, Runner};
use quarry_eql::ast::QueryBody;
use quarry_event::{Document, Event, FieldCatalog, FieldId, Timestamp};

use crate::alert::{Alert, AlertFields};
use crate::exception::ExceptionItem;
use crate::rule::{Rule, RuleKind};
pub use crate::threshold::ThresholdMode;
use crate::threshold::{ThresholdEvaluator, ThresholdMatch, key_value};
use crate::tuning::Tuning;

/// How to hunt.
#[derive(Debug, Clone)]
pub struct HuntOptions {
    pub threshold_mode: ThresholdMode,
    /// Fold overlapping matches into alerts (the default); off, every match is an alert.
    pub suppress: bool,
    /// Evidence events kept per alert.
    pub max_evidence: usize,
    /// Join keys with pending sequences (and threshold groups), per rule, before the least
    /// recently seen are evicted and counted.
    pub max_join_keys: usize,
    /// Only events at or after this time.
    pub from: Option<Timestamp>,
    /// Only events before this time.
    pub to: Option<Timestamp>,
}

impl Default for HuntOptions {
    fn default() -> Self {
        HuntOptions {
            threshold_mode: ThresholdMode::Kibana,
            suppress: true,
            max_evidence: 10,
            max_join_keys: 1_000_000,
            from: None,
            to: None,
        }
    }
}

/// What a hunt counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HuntStats {
    /// Events the rules saw.
    pub events: u64,
    /// Events outside `--from`/`--to`.
    pub out_of_range: u64,
    /// Events dropped by exceptions, by exception name (`rule: item` for a rule's own).
    pub dropped: BTreeMap<String, u64>,
    /// Raw matches per rule (index into the rule list).
    pub matches: Vec<u64>,
    /// Alerts per rule.
    pub alerts: Vec<u64>,
    /// Join keys evicted from sequence state and threshold groups (over `max_join_keys`).
    pub evicted_keys: u64,
}

impl HuntStats {
    /// Adds the counts of a hunt over other events (another worker's share).
    pub fn absorb(&mut self, other: HuntStats) {
        self.events += other.events;
        self.out_of_range += other.out_of_range;
        for (name, n) in other.dropped {
            *self.dropped.entry(name).or_default() += n;
        }
        for (mine, theirs) in [
            (&mut self.matches, other.matches),
            (&mut self.alerts, other.alerts),
        ] {
            mine.resize(mine.len().max(theirs.len()), 0);
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
        self.evicted_keys += other.evicted_keys;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HuntError {
    #[error("{rule}: {message}")]
    Compile { rule: String, message: String },
}

struct Exception {
    name: String,
    cond: Cond,
}

enum Evaluator {
    Eql(Box<Runner<Document>>),
    Threshold(ThresholdEvaluator<Document>),
    /// After [`Hunt::finish`] took the evaluator's last matches.
    Spent,
}

struct Compiled {
    exceptions: Vec<Exception>,
    evaluator: Evaluator,
    /// Suppression group fields; empty with `fold` false means one alert per match.
    group_by: Vec<(String, FieldId)>,
    fold: bool,
    window_ms: u64,
    suppress_missing: bool,
    /// Matches of several join keys fold into one alert (see [`Alert::open`]).
    interleaved: bool,
    /// For a sequence joined on every group field (`sequence by` shared by all stages):
    /// where each group field is in a match's join key. Group values are then read from the
    /// key, not from the events, which windows hold undecoded.
    group_in_join_key: Option<Vec<usize>>,
}

type GroupKey = (usize, Vec<Option<String>>);

pub struct Hunt {
    catalog: FieldCatalog,
    timestamp: FieldId,
    fields: AlertFields,
    rules: Vec<Rule>,
    compiled: Vec<Compiled>,
    exceptions: Vec<Exception>,
    tuning: Tuning,
    options: HuntOptions,
    open: HashMap<GroupKey, Alert>,
    expiry: BinaryHeap<Reverse<(Timestamp, GroupKey)>>,
    ready: Vec<Alert>,
    first_seen: HashMap<String, Timestamp>,
    /// Tuning lowers alerts of users first seen recently (`[onboarding] first_seen_days`).
    track_first_seen: bool,
    input_start: Option<Timestamp>,
    last: Option<Timestamp>,
    stats: HuntStats,
}

/// Where each of `group` is in the join keys of `rule`'s matches: for a sequence whose
/// stages share their join keys (`sequence by ...`, no stage-level `by`) and whose group
/// fields are all among them; `None` otherwise.
fn join_key_positions(rule: &Rule, group: &[String]) -> Option<Vec<usize>> {
    let RuleKind::Eql(q) = &rule.kind else {
        return None;
    };
    let QueryBody::Sequence(s) = &q.body else {
        return None;
    };
    let staged = s.stages.iter().chain(&s.until).any(|st| !st.by.is_empty());
    let by: Vec<String> =
        s.by.iter()
            .map(|e| e.as_field().map(|f| f.dotted()))
            .collect::<Option<_>>()?;
    if staged || group.is_empty() {
        return None;
    }
    group
        .iter()
        .map(|g| by.iter().position(|b| b == g))
        .collect()
}

fn compile_exception(
    item: &ExceptionItem,
    name: String,
    catalog: &mut FieldCatalog,
) -> Result<Exception, String> {
    let text = format!("any where {}", item.to_eql());
    let query = quarry_eql::parse(&text)
        .map_err(|e| format!("exception `{}`: {}", item.name, e.first().message))?;
    let QueryBody::Event(q) = &query.body else {
        unreachable!("`any where` is an event query")
    };
    let cond = compile_condition(&q.condition, catalog)
        .map_err(|e| format!("exception `{}`: {}", item.name, e.message))?;
    Ok(Exception { name, cond })
}

impl Hunt {
    /// Compiles `rules` (already tuned with [`Tuning::apply_to_rules`]) and the tuning's
    /// exceptions.
    pub fn new(rules: Vec<Rule>, tuning: Tuning, options: HuntOptions) -> Result<Hunt, HuntError> {
        let mut catalog = FieldCatalog::new();
        let timestamp = catalog.intern("@timestamp");
        let fields = AlertFields {
            action: catalog.intern("event.action"),
            message: catalog.intern("message"),
            user: catalog.intern("user.name"),
            source_ip: catalog.intern("source.ip"),
        };
        let mut exceptions = Vec::new();
        for item in &tuning.exceptions {
            let e =
                compile_exception(item, item.name.clone(), &mut catalog).map_err(|message| {
                    HuntError::Compile {
                        rule: tuning.origin.clone(),
                        message,
                    }
                })?;
            exceptions.push(e);
        }
        let engine_options = quarry_engine::Options {
            max_join_keys: options.max_join_keys,
            ..quarry_engine::Options::default()
        };
        let mut compiled = Vec::new();
        for rule in &rules {
            let err = |message: String| HuntError::Compile {
                rule: rule.path.display().to_string(),
                message,
            };
            let mut rule_exceptions = Vec::new();
            for item in &rule.exceptions {
                rule_exceptions.push(
                    compile_exception(item, format!("{}: {}", rule.name, item.name), &mut catalog)
                        .map_err(err)?,
                );
            }
            let evaluator = match &rule.kind {
                RuleKind::Eql(q) => {
                    let c = CompiledQuery::compile(q, &mut catalog, &engine_options)
                        .map_err(|e| err(e.message))?;
                    Evaluator::Eql(Box::new(Runner::new(c)))
                }
                RuleKind::Threshold {
                    filter,
                    fields,
                    value,
                } => {
                    let QueryBody::Event(q) = &filter.body else {
                        return Err(err("a threshold filter is an event query".into()));
                    };
                    let cond = compile_condition(&q.condition, &mut catalog)
                        .map_err(|e| err(e.message))?;
                    let ids = fields.iter().map(|f| catalog.intern(f)).collect();
                    Evaluator::Threshold(
                        ThresholdEvaluator::new(
                            cond,
                            ids,
                            *value,
                            rule.from_ms,
                            rule.interval_ms,
                            options.threshold_mode,
                        )
                        .with_max_groups(options.max_join_keys),
                    )
                }
            };
            let (group, fold) = match &rule.suppression {
                Some(s) => (s.group_by.clone(), true),
                None => {
                    let g = rule.group_fields();
                    let fold = !g.is_empty();
                    (g, fold)
                }
            };
            let window_ms = rule
                .suppression
                .as_ref()
                .and_then(|s| s.duration_ms)
                .or_else(|| rule.maxspan_ms())
                .unwrap_or(match rule.kind {
                    RuleKind::Threshold { .. } => rule.from_ms,
                    RuleKind::Eql(_) => rule.interval_ms,
                });
            let joins = rule.group_fields();
            let interleaved = matches!(rule.kind, RuleKind::Eql(_))
                && !joins.is_empty()
                && !joins.iter().all(|j| group.contains(j));
            let group_in_join_key = join_key_positions(rule, &group);
            compiled.push(Compiled {
                interleaved,
                group_in_join_key,
                exceptions: rule_exceptions,
                evaluator,
                group_by: group
                    .into_iter()
                    .map(|f| {
                        let id = catalog.intern(&f);
                        (f, id)
                    })
                    .collect(),
                fold,
                window_ms,
                suppress_missing: rule.suppression.as_ref().is_none_or(|s| s.suppress_missing),
            });
        }
        let n = rules.len();
        let track_first_seen = tuning
            .onboarding
            .as_ref()
            .is_some_and(|o| o.first_seen_days.is_some());
        Ok(Hunt {
            catalog,
            timestamp,
            fields,
            rules,
            compiled,
            exceptions,
            tuning,
            options,
            open: HashMap::new(),
            expiry: BinaryHeap::new(),
            ready: Vec::new(),
            track_first_seen,
            first_seen: HashMap::new(),
            input_start: None,
            last: None,
            stats: HuntStats {
                matches: vec![0; n],
                alerts: vec![0; n],
                ..HuntStats::default()
            },
        })
    }

    /// Every field the rules, exceptions and alerts read: project events with it.
    pub fn catalog(&self) -> &FieldCatalog {
        &self.catalog
    }

    /// The `@timestamp` field's id in [`Hunt::catalog`].
    pub fn timestamp_field(&self) -> FieldId {
        self.timestamp
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The `--from`/`--to` window events must fall in.
    pub fn range(&self) -> (Option<Timestamp>, Option<Timestamp>) {
        (self.options.from, self.options.to)
    }

    /// Why this hunt cannot be split across workers by `user.name` (each worker hunting the
    /// events of its share of users) with the same alerts as one hunt of every event, or
    /// `None` when it can: every rule keeps state and folds alerts only within one user.
    pub fn user_split_blocker(&self) -> Option<String> {
        let by_user = |fields: &[String]| fields.iter().any(|f| f == "user.name");
        for (rule, c) in self.rules.iter().zip(&self.compiled) {
            let state_by_user = match &rule.kind {
                RuleKind::Eql(q) if !q.pipes.is_empty() => false,
                RuleKind::Eql(q) => match &q.body {
                    QueryBody::Event(_) => true,
                    QueryBody::Sequence(_) => by_user(&rule.group_fields()),
                    QueryBody::Sample(_) => false,
                },
                RuleKind::Threshold { fields, .. } => by_user(fields),
            };
            let folds_by_user = !self.options.suppress
                || !c.fold
                || c.group_by.iter().any(|(f, _)| f == "user.name");
            if !state_by_user || !folds_by_user {
                return Some(format!(
                    "rule `{}` matches or folds events of several users together",
                    rule.name
                ));
            }
        }
        None
    }

    /// Checks the order of the next event's time, and says whether it is in range.
    fn arrive(&mut self, ts: Timestamp, position: u64) -> Result<bool, OrderError> {
        if let Some(last) = self.last
            && ts < last
        {
            return Err(OrderError {
                position,
                timestamp: ts.to_string(),
                previous: last.to_string(),
            });
        }
        self.last = Some(ts);
        if self.options.from.is_some_and(|f| ts < f) || self.options.to.is_some_and(|t| ts >= t) {
            return Ok(false);
        }
        // Threshold executions due before this event decide matches that may fold into alerts
        // about to close: run them first.
        self.advance_thresholds(ts);
        self.expire(ts);
        self.input_start.get_or_insert(ts);
        Ok(true)
    }

    /// An event of the stream that another worker hunts (see [`Hunt::user_split_blocker`]):
    /// only its time counts here, so that threshold executions, closing alerts and the
    /// input's start (which onboarding tuning reads) happen as in one hunt of every event.
    pub fn pass(&mut self, ts: Timestamp, position: u64) -> Result<(), OrderError> {
        self.arrive(ts, position).map(|_| ())
    }

    /// Feeds the next event. Events must come in time order; their positions must increase.
    pub fn push(&mut self, event: Document) -> Result<(), OrderError> {
        let ts = event.timestamp();
        if !self.arrive(ts, event.position())? {
            self.stats.out_of_range += 1;
            return Ok(());
        }
        self.stats.events += 1;
        // Only onboarding by first appearance reads when a user was first seen: without it,
        // a map of every user ever seen would be memory spent for nothing.
        if self.track_first_seen
            && let Some(user) = crate::threshold::key_text(event.field(self.fields.user))
            && !self.first_seen.contains_key(&*user)
        {
            self.first_seen.insert(user.into_owned(), ts);
        }
        if let Some(e) = self
            .exceptions
            .iter()
            .find(|e| eval_cond(&e.cond, &event) == Some(true))
        {
            *self.stats.dropped.entry(e.name.clone()).or_default() += 1;
            return Ok(());
        }
        let event = Arc::new(event);
        let mut threshold_out = Vec::new();
        for index in 0..self.compiled.len() {
            let c = &mut self.compiled[index];
            if let Some(e) = c
                .exceptions
                .iter()
                .find(|e| eval_cond(&e.cond, &*event) == Some(true))
            {
                *self.stats.dropped.entry(e.name.clone()).or_default() += 1;
                continue;
            }
            match &mut c.evaluator {
                Evaluator::Eql(runner) => {
                    runner.push_shared(Arc::clone(&event))?;
                    let hits = runner.take_found();
                    for hit in hits {
                        self.on_hit(index, hit);
                    }
                }
                Evaluator::Threshold(t) => {
                    t.push(&event, &mut threshold_out);
                    for m in threshold_out.drain(..) {
                        self.on_threshold(index, m);
                    }
                }
                Evaluator::Spent => {}
            }
        }
        Ok(())
    }

    fn advance_thresholds(&mut self, ts: Timestamp) {
        let mut out = Vec::new();
        for index in 0..self.compiled.len() {
            if let Evaluator::Threshold(t) = &mut self.compiled[index].evaluator {
                t.advance(ts, &mut out);
                for m in out.drain(..) {
                    self.on_threshold(index, m);
                }
            }
        }
    }

    /// Alerts closed so far (their suppression window has passed).
    pub fn take_alerts(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.ready)
    }

    /// Ends the input: the last matches, then every alert still open.
    pub fn finish(mut self) -> (Vec<Alert>, HuntStats, Vec<Rule>) {
        for index in 0..self.compiled.len() {
            match std::mem::replace(&mut self.compiled[index].evaluator, Evaluator::Spent) {
                Evaluator::Eql(runner) => {
                    let (hits, stats) = runner.finish();
                    self.stats.evicted_keys += stats.sequence.evicted_keys;
                    for hit in hits {
                        self.on_hit(index, hit);
                    }
                }
                Evaluator::Threshold(mut t) => {
                    let mut out = Vec::new();
                    t.finish(&mut out);
                    self.stats.evicted_keys += t.evicted();
                    for m in out {
                        self.on_threshold(index, m);
                    }
                }
                Evaluator::Spent => {}
            }
        }
        let open: Vec<Alert> = self.open.drain().map(|(_, a)| a).collect();
        for alert in open {
            self.close(alert);
        }
        let mut alerts = std::mem::take(&mut self.ready);
        alerts.sort_by(|a, b| {
            a.timestamp
                .cmp(&b.timestamp)
                .then(a.rule.cmp(&b.rule))
                .then(a.group.cmp(&b.group))
        });
        (alerts, self.stats, self.rules)
    }

    fn on_hit(&mut self, rule: usize, hit: Hit<Document>) {
        let events: Vec<Arc<Document>> = hit.events().to_vec();
        let Some(at) = events.last().map(|e| e.timestamp()) else {
            return;
        };
        let values = match (&self.compiled[rule].group_in_join_key, hit.join_key()) {
            (Some(positions), Some(key)) => Some(
                positions
                    .iter()
                    .map(|&i| key.0.get(i).and_then(|v| key_value(v.to_value().as_ref())))
                    .collect(),
            ),
            _ => None,
        };
        self.on_match(rule, events, at, None, values);
    }

    fn on_threshold(&mut self, rule: usize, m: ThresholdMatch<Document>) {
        self.on_match(rule, m.new_events, m.at, Some(m.count), None);
    }

    /// `values`: the group's values when the match already says them (its join key);
    /// otherwise each is the first value an event of the match has.
    fn on_match(
        &mut self,
        rule: usize,
        events: Vec<Arc<Document>>,
        at: Timestamp,
        threshold_count: Option<u64>,
        values: Option<Vec<Option<String>>>,
    ) {
        self.stats.matches[rule] += 1;
        let c = &self.compiled[rule];
        let values: Vec<Option<String>> = values.unwrap_or_else(|| {
            c.group_by
                .iter()
                .map(|(_, id)| events.iter().find_map(|e| key_value(e.field(*id))))
                .collect()
        });
        let group: Vec<(String, Option<String>)> = c
            .group_by
            .iter()
            .map(|(f, _)| f.clone())
            .zip(values.iter().cloned())
            .collect();
        let window_ms = c.window_ms;
        let interleaved = c.interleaved;
        let standalone = !self.options.suppress
            || !c.fold
            || (!c.suppress_missing && values.iter().any(Option::is_none));
        let max_evidence = self.options.max_evidence;
        let fields = self.fields;
        if standalone {
            let alert = Alert::open(
                rule,
                &self.rules[rule],
                group,
                at,
                window_ms,
                &events,
                threshold_count,
                fields,
                max_evidence,
                interleaved,
            );
            self.close(alert);
            return;
        }
        let key = (rule, values);
        if let Some(open) = self.open.get_mut(&key) {
            if at <= open.window_end {
                open.fold(&events, at, threshold_count, fields, max_evidence);
                return;
            }
            let done = self.open.remove(&key).expect("present");
            self.close(done);
        }
        let mut alert = Alert::open(
            rule,
            &self.rules[rule],
            group,
            at,
            window_ms,
            &events,
            threshold_count,
            fields,
            max_evidence,
            interleaved,
        );
        alert.folding = true;
        self.expiry.push(Reverse((alert.window_end, key.clone())));
        self.open.insert(key, alert);
    }

    /// Closes alerts whose window ended before `now`.
    fn expire(&mut self, now: Timestamp) {
        while let Some(Reverse((end, _))) = self.expiry.peek() {
            if *end >= now {
                break;
            }
            let Reverse((end, key)) = self.expiry.pop().expect("peeked");
            if self.open.get(&key).is_some_and(|a| a.window_end == end) {
                let alert = self.open.remove(&key).expect("present");
                self.close(alert);
            }
        }
    }

    fn close(&mut self, mut alert: Alert) {
        let rule = &self.rules[alert.rule];
        let first_seen = alert
            .user
            .as_ref()
            .and_then(|u| self.first_seen.get(u))
            .copied();
        if let Some((severity, reason)) = self.tuning.lowering(
            rule,
            alert.user.as_deref(),
            if alert.address_count as usize == alert.addresses.len() {
                &alert.addresses
            } else {
                &[]
            },
            alert.timestamp,
            first_seen,
            self.input_start,
        ) {
            alert.lower(severity, reason);
        }
        self.stats.alerts[alert.rule] += 1;
        alert.closed();
        self.ready.push(alert);
    }
}
