//! A whole EQL statement, compiled and run over an ordered event stream.
//!
//! [`CompiledQuery::compile`] turns a verified AST into filters and, for sequences, a
//! [`SequenceSpec`]. A [`Runner`] takes events one at a time in `(timestamp, tiebreaker,
//! position)` order, emits matches as they complete, applies the `head`/`tail` pipes and the
//! result size, and counts what it had to drop. [`sort_events`] orders a batch first.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::sync::Arc;

use quarry_eql::ast::{self, Category, PipeKind, QueryBody};
use quarry_event::{Event, FieldCatalog, FieldId, Value, ValueRef};

use crate::expr::{self, CompileError, Cond, FieldTest, compile_condition};
use crate::missing::{MissingSpec, MissingStage, Placement};
use crate::sample::{SampleCollector, SampleSpec};
use crate::sequence::{
    JoinKey, KeyField, SequenceMatch, SequenceMatcher, SequenceSpec, SequenceStats, StageSpec,
};

/// How events map onto EQL's notions: where the category and tiebreaker live, and limits.
#[derive(Debug, Clone)]
pub struct Options {
    /// The field `process where ...` tests (ECS: `event.category`).
    pub category_field: String,
    /// A field that orders events with equal timestamps (nulls last); input position breaks
    /// remaining ties.
    pub tiebreaker_field: Option<String>,
    /// At most this many join keys hold pending sequences at once; beyond it the least
    /// recently used are evicted, and counted.
    pub max_join_keys: usize,
    /// At most this many samples per join key for `sample` queries (Elasticsearch's
    /// `max_samples_per_key`, default 1).
    pub max_samples_per_key: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            category_field: "event.category".to_string(),
            tiebreaker_field: None,
            max_join_keys: 1_000_000,
            max_samples_per_key: 1,
        }
    }
}

#[derive(Debug, Clone)]
enum Body {
    Events(Cond),
    Sequence(SequenceSpec),
    Sample(SampleSpec),
}

/// A statement ready to run.
#[derive(Debug, Clone)]
pub struct CompiledQuery {
    body: Body,
    pipes: Vec<ast::Pipe>,
    tiebreaker: Option<FieldId>,
    max_join_keys: usize,
}

impl CompiledQuery {
    /// Compiles `query` (which must have passed [`quarry_eql::verify`]), interning every field
    /// it reads into `catalog`.
    pub fn compile(
        query: &ast::Query,
        catalog: &mut FieldCatalog,
        options: &Options,
    ) -> Result<CompiledQuery, CompileError> {
        let category = catalog.intern(&options.category_field);
        let tiebreaker = options
            .tiebreaker_field
            .as_deref()
            .map(|f| catalog.intern(f));
        let body = match &query.body {
            QueryBody::Event(q) => Body::Events(event_filter(q, category, catalog)?),
            QueryBody::Sequence(s) => Body::Sequence(sequence_spec(s, category, catalog)?),
            QueryBody::Sample(s) => Body::Sample(sample_spec(s, category, catalog, options)?),
        };
        Ok(CompiledQuery {
            body,
            pipes: query.pipes.clone(),
            tiebreaker,
            max_join_keys: options.max_join_keys,
        })
    }

    /// Whether results are sequences (for `sequence` and `sample` queries) rather than events.
    pub fn is_sequence(&self) -> bool {
        matches!(self.body, Body::Sequence(_) | Body::Sample(_))
    }

    pub fn tiebreaker(&self) -> Option<FieldId> {
        self.tiebreaker
    }
}

/// `<category> where <condition>` as one condition.
fn event_filter(
    q: &ast::EventQuery,
    category: FieldId,
    catalog: &mut FieldCatalog,
) -> Result<Cond, CompileError> {
    let condition = compile_condition(&q.condition, catalog)?;
    Ok(match &q.category {
        Category::Any { .. } => condition,
        Category::Named { name, .. } => Cond::And(vec![
            Cond::FieldTest {
                field: category,
                test: Box::new(FieldTest::Compare {
                    op: ast::CompareOp::Eq,
                    value: Value::String(name.clone()),
                }),
            },
            condition,
        ]),
    })
}

fn key_fields(
    keys: &[ast::Expr],
    catalog: &mut FieldCatalog,
) -> Result<Vec<KeyField>, CompileError> {
    keys.iter()
        .map(|k| match k.as_field() {
            Some(f) => Ok(KeyField {
                field: catalog.intern(&expr::field_name(f)),
                optional: f.optional,
            }),
            None => Err(CompileError {
                message: "join keys must be fields".to_string(),
                span: k.span,
            }),
        })
        .collect()
}

fn sequence_spec(
    s: &ast::Sequence,
    category: FieldId,
    catalog: &mut FieldCatalog,
) -> Result<SequenceSpec, CompileError> {
    let shared = key_fields(&s.by, catalog)?;
    let mut filters = Vec::new();
    let mut keys: Vec<Vec<KeyField>> = Vec::new();
    let mut stages = Vec::new();
    let stage_keys =
        |stage: &ast::Stage, catalog: &mut FieldCatalog| -> Result<Vec<KeyField>, CompileError> {
            let mut k = shared.clone();
            k.extend(key_fields(&stage.by, catalog)?);
            Ok(k)
        };
    // Missing stages, each with its place among the positive ones, and the layout of the
    // full sequence for placeholders.
    let mut missing_stages: Vec<(StageSpec, usize)> = Vec::new();
    let mut layout: Vec<Option<usize>> = Vec::new();
    for stage in &s.stages {
        let filter = filters.len();
        filters.push(event_filter(&stage.query, category, catalog)?);
        let stage_keys = stage_keys(stage, catalog)?;
        let keyset = match keys.iter().position(|k| *k == stage_keys) {
            Some(i) => i,
            None => {
                keys.push(stage_keys);
                keys.len() - 1
            }
        };
        let runs = stage.runs.map_or(1, |r| r.count.max(1));
        for _ in 0..runs {
            let spec = StageSpec {
                filter,
                keys: keyset,
            };
            if stage.missing {
                // Placed after this many positive stages.
                missing_stages.push((spec, stages.len()));
                layout.push(None);
            } else {
                layout.push(Some(stages.len()));
                stages.push(spec);
            }
        }
    }
    let until = match &s.until {
        Some(u) => Some((
            event_filter(&u.query, category, catalog)?,
            stage_keys(u, catalog)?,
        )),
        None => None,
    };
    let maxspan = s.maxspan.map(|m| {
        i64::try_from(m.millis())
            .ok()
            .and_then(|ms| ms.checked_mul(1_000_000))
            .unwrap_or(i64::MAX)
    });
    if stages.is_empty() {
        return Err(CompileError {
            message: "a sequence needs at least one stage that is not a missing event".to_string(),
            span: s.span,
        });
    }
    let missing = if missing_stages.is_empty() {
        None
    } else {
        let Some(maxspan) = maxspan else {
            return Err(CompileError {
                message: "a sequence with missing-event stages needs `with maxspan=...`"
                    .to_string(),
                span: s.span,
            });
        };
        let positives = stages.len();
        Some(MissingSpec {
            stages: missing_stages
                .into_iter()
                .map(|(spec, before)| MissingStage {
                    filter: spec.filter,
                    keys: spec.keys,
                    placement: if before == 0 {
                        Placement::Leading
                    } else if before == positives {
                        Placement::Trailing
                    } else {
                        Placement::Middle { after: before - 1 }
                    },
                })
                .collect(),
            maxspan,
            layout,
        })
    };
    Ok(SequenceSpec {
        filters,
        keys,
        stages,
        until,
        maxspan,
        missing,
    })
}

fn sample_spec(
    s: &ast::Sample,
    category: FieldId,
    catalog: &mut FieldCatalog,
    options: &Options,
) -> Result<SampleSpec, CompileError> {
    let shared = key_fields(&s.by, catalog)?;
    let mut filters = Vec::new();
    let mut keys = Vec::new();
    for stage in &s.stages {
        filters.push(event_filter(&stage.query, category, catalog)?);
        let mut k = shared.clone();
        k.extend(key_fields(&stage.by, catalog)?);
        keys.push(k);
    }
    Ok(SampleSpec {
        filters,
        keys,
        max_samples_per_key: options.max_samples_per_key,
    })
}

/// One result: an event, or a sequence of events with its join key.
#[derive(Debug)]
pub enum Hit<E> {
    Event(Arc<E>),
    Sequence(SequenceMatch<E>),
}

impl<E> Hit<E> {
    /// The events of the hit, in order.
    pub fn events(&self) -> &[Arc<E>] {
        match self {
            Hit::Event(e) => std::slice::from_ref(e),
            Hit::Sequence(s) => &s.events,
        }
    }

    /// Every stage of the hit in order: `None` where a missing-event stage leaves a placeholder.
    pub fn stages(&self) -> Vec<Option<&Arc<E>>> {
        match self {
            Hit::Event(e) => vec![Some(e)],
            Hit::Sequence(s) if s.layout.is_empty() => s.events.iter().map(Some).collect(),
            Hit::Sequence(s) => s
                .layout
                .iter()
                .map(|slot| slot.map(|i| &s.events[i]))
                .collect(),
        }
    }

    pub fn join_key(&self) -> Option<&JoinKey> {
        match self {
            Hit::Event(_) => None,
            Hit::Sequence(s) => Some(&s.join_key),
        }
    }
}

/// Input that breaks the ordering contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "event at position {position} is earlier than the one before it ({timestamp} < {previous}); sort the input first"
)]
pub struct OrderError {
    pub position: u64,
    pub timestamp: String,
    pub previous: String,
}

/// What a run counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    pub events: u64,
    pub sequence: SequenceStats,
}

/// Runs one compiled query over an ordered stream.
pub struct Runner<E> {
    query: CompiledQuery,
    matcher: Option<SequenceMatcher<E>>,
    sampler: Option<SampleCollector<E>>,
    collected: Collected<E>,
    /// The order key of the previous event: its timestamp and tiebreaker value.
    last: Option<(quarry_event::Timestamp, Value)>,
    events: u64,
    scratch: Vec<SequenceMatch<E>>,
    sample_dropped_keys: u64,
}

/// Results kept while running: everything, the first N (`head` first), or the last N (`tail`
/// first), so that memory stays bounded by the pipes.
enum Collected<E> {
    All(Vec<Hit<E>>),
    Head(Vec<Hit<E>>, usize),
    Tail(VecDeque<Hit<E>>, usize),
}

impl<E: Event> Runner<E> {
    pub fn new(query: CompiledQuery) -> Self {
        let matcher = match &query.body {
            Body::Sequence(spec) => Some(SequenceMatcher::new(spec.clone(), query.max_join_keys)),
            _ => None,
        };
        let sampler = match &query.body {
            Body::Sample(spec) => Some(SampleCollector::new(spec.clone(), query.max_join_keys)),
            _ => None,
        };
        // Candidates of a sequence with missing stages may be decided after later ones
        // (trailing stages wait), so such results are collected whole and ordered at the end.
        let deferred = matches!(&query.body, Body::Sequence(spec) if spec.missing.is_some());
        let collected = match query.pipes.first() {
            _ if deferred => Collected::All(Vec::new()),
            Some(p) if p.kind == PipeKind::Head => Collected::Head(Vec::new(), clamp(p.count)),
            Some(p) => Collected::Tail(VecDeque::new(), clamp(p.count)),
            None => Collected::All(Vec::new()),
        };
        Runner {
            query,
            matcher,
            sampler,
            collected,
            last: None,
            events: 0,
            scratch: Vec::new(),
            sample_dropped_keys: 0,
        }
    }

    /// True once no further event can change the results (a `head` is full).
    pub fn is_done(&self) -> bool {
        matches!(&self.collected, Collected::Head(v, n) if v.len() >= *n)
    }

    /// Feeds the next event. Events must come in timestamp order.
    pub fn push(&mut self, event: E) -> Result<(), OrderError> {
        self.push_shared(Arc::new(event))
    }

    /// [`Runner::push`] for an event shared with other consumers (the other rules of a set).
    pub fn push_shared(&mut self, event: Arc<E>) -> Result<(), OrderError> {
        let ts = event.timestamp();
        let tiebreaker = self
            .query
            .tiebreaker
            .map_or(Value::Null, |f| event.field(f).to_owned());
        if let Some((last_ts, last_tb)) = &self.last {
            let order = ts
                .cmp(last_ts)
                .then_with(|| tiebreak_order(tiebreaker.as_ref(), last_tb.as_ref()));
            if order == Ordering::Less {
                return Err(OrderError {
                    position: event.position(),
                    timestamp: ts.to_string(),
                    previous: last_ts.to_string(),
                });
            }
        }
        self.last = Some((ts, tiebreaker));
        self.events += 1;
        if self.is_done() {
            return Ok(());
        }
        match &self.query.body {
            Body::Events(cond) => {
                if expr::eval_cond(cond, &*event) == Some(true) {
                    self.collect(Hit::Event(event));
                }
            }
            Body::Sample(_) => {
                let sampler = self
                    .sampler
                    .as_mut()
                    .expect("sample queries have a collector");
                sampler.push(event);
            }
            Body::Sequence(_) => {
                let matcher = self
                    .matcher
                    .as_mut()
                    .expect("sequence queries have a matcher");
                let mut out = std::mem::take(&mut self.scratch);
                matcher.push(event, &mut out);
                for m in out.drain(..) {
                    self.collect(Hit::Sequence(m));
                }
                self.scratch = out;
            }
        }
        Ok(())
    }

    fn collect(&mut self, hit: Hit<E>) {
        match &mut self.collected {
            Collected::All(v) => v.push(hit),
            Collected::Head(v, n) => {
                if v.len() < *n {
                    v.push(hit);
                }
            }
            Collected::Tail(q, n) => {
                if *n == 0 {
                    return;
                }
                if q.len() == *n {
                    q.pop_front();
                }
                q.push_back(hit);
            }
        }
    }

    /// Takes the results found so far: for consumers that act on results while the input
    /// streams (alerting). Results are final when found only for queries without pipes and
    /// without missing-event stages; for others this takes nothing and [`Runner::finish`]
    /// returns everything.
    pub fn take_found(&mut self) -> Vec<Hit<E>> {
        let deferred = matches!(&self.query.body, Body::Sequence(spec) if spec.missing.is_some());
        if deferred || !self.query.pipes.is_empty() {
            return Vec::new();
        }
        match &mut self.collected {
            Collected::All(v) => std::mem::take(v),
            _ => Vec::new(),
        }
    }

    pub fn stats(&self) -> RunStats {
        let mut sequence = self.matcher.as_ref().map(|m| m.stats()).unwrap_or_default();
        let sample_dropped = self
            .sampler
            .as_ref()
            .map_or(self.sample_dropped_keys, |s| s.stats().dropped_keys);
        sequence.evicted_keys += sample_dropped;
        RunStats {
            events: self.events,
            sequence,
        }
    }

    /// The results, after every pipe.
    pub fn finish(mut self) -> (Vec<Hit<E>>, RunStats) {
        if let Some(sampler) = self.sampler.take() {
            self.sample_dropped_keys = sampler.stats().dropped_keys;
            for m in sampler.finish() {
                self.collect(Hit::Sequence(m));
            }
        }
        if let Some(matcher) = self.matcher.as_mut() {
            let mut out = Vec::new();
            matcher.finish(&mut out);
            for m in out {
                self.collect(Hit::Sequence(m));
            }
        }
        let stats = self.stats();
        let deferred = matches!(&self.query.body, Body::Sequence(spec) if spec.missing.is_some());
        let mut hits: Vec<Hit<E>> = match self.collected {
            Collected::All(v) | Collected::Head(v, _) => v,
            Collected::Tail(q, _) => q.into(),
        };
        // Elasticsearch orders sequences by their last event.
        if deferred {
            let tiebreaker = self.query.tiebreaker;
            hits.sort_by(|a, b| {
                let (x, y) = (a.events().last(), b.events().last());
                match (x, y) {
                    (Some(x), Some(y)) => event_order(&**x, &**y, tiebreaker),
                    _ => Ordering::Equal,
                }
            });
        }
        let pipes = if deferred {
            &self.query.pipes[..]
        } else {
            self.query.pipes.get(1..).unwrap_or(&[])
        };
        for pipe in pipes {
            let n = clamp(pipe.count);
            match pipe.kind {
                PipeKind::Head => hits.truncate(n),
                PipeKind::Tail => {
                    let drop = hits.len().saturating_sub(n);
                    hits.drain(..drop);
                }
            }
        }
        (hits, stats)
    }
}

fn clamp(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Sorts events into the order the engine requires: timestamp, then the tiebreaker (nulls
/// last), then input position.
pub fn sort_events<E: Event>(events: &mut [E], tiebreaker: Option<FieldId>) {
    events.sort_by(|a, b| event_order(a, b, tiebreaker));
}

/// The engine's event order: timestamp, then tiebreaker, then input position.
pub fn event_order<E: Event>(a: &E, b: &E, tiebreaker: Option<FieldId>) -> Ordering {
    a.timestamp()
        .cmp(&b.timestamp())
        .then_with(|| match tiebreaker {
            None => Ordering::Equal,
            Some(field) => tiebreak_order(a.field(field), b.field(field)),
        })
        .then_with(|| a.position().cmp(&b.position()))
}

/// A total order on tiebreaker values (a sort needs one, whatever the data holds): booleans,
/// then numbers (integers and floats together, NaN last), then strings by code point, then
/// nulls. Arrays order by their first doc value.
pub fn tiebreak_order(a: ValueRef<'_>, b: ValueRef<'_>) -> Ordering {
    fn rank(v: &expr::Val<'_>) -> u8 {
        match v {
            expr::Val::Bool(_) => 0,
            expr::Val::Integer(_) | expr::Val::Float(_) => 1,
            expr::Val::String(_) => 2,
            expr::Val::Null => 3,
        }
    }
    let is_nan = |v: &expr::Val<'_>| matches!(v, expr::Val::Float(f) if f.is_nan());
    let (x, y) = (expr::Val::from_field(a), expr::Val::from_field(b));
    rank(&x).cmp(&rank(&y)).then_with(|| match (&x, &y) {
        (expr::Val::Float(p), expr::Val::Float(q)) => p.total_cmp(q),
        _ => expr::compare(&x, &y).unwrap_or_else(|| is_nan(&x).cmp(&is_nan(&y))),
    })
}

/// Compiles and runs `query` over `events`, which are sorted first.
pub fn run_batch<E: Event>(query: CompiledQuery, mut events: Vec<E>) -> (Vec<Hit<E>>, RunStats) {
    sort_events(&mut events, query.tiebreaker());
    let mut runner = Runner::new(query);
    for event in events {
        if runner.is_done() {
            break;
        }
        runner.push(event).expect("sorted input is in order");
    }
    runner.finish()
}
