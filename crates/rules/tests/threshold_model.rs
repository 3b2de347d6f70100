//! Property: the threshold evaluator agrees with a brute-force reference model, in both modes,
//! on random short streams (random gaps, a few users, some events without the user field,
//! a random filter outcome, random window, interval and threshold value).
//!
//! The model recomputes every window from the whole stream, with no deques, no pruning, no
//! lazily scheduled executions: for sliding mode it looks back from every counted event; for
//! Kibana mode it runs every execution from the first event's schedule to the last event's,
//! whether or not anything is pending. Agreement checks the evaluator's machinery (window
//! eviction, skipped stretches, group forgetting, execution on the next later event / finish).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use quarry_eql::ast::QueryBody;
use quarry_event::{Document, Event, FieldCatalog, FieldId, Timestamp, Value};
use quarry_rules::threshold::{ThresholdEvaluator, ThresholdMatch, ThresholdMode};

const MINUTE: i64 = 60_000;
/// An hour-aligned epoch, so any whole-minute interval dividing 60 has an execution here.
const BASE: i64 = 1_700_000_000_000 / 3_600_000 * 3_600_000;

#[derive(Debug, Clone)]
struct Ev {
    ts: i64,
    user: Option<u8>,
    host: Option<u8>,
    flag: bool,
}

#[derive(Debug, Clone)]
struct Case {
    /// Group by `user.name` only, or by `user.name` and `host.name`.
    two_fields: bool,
    value: u64,
    window_ms: i64,
    interval_ms: i64,
    events: Vec<Ev>,
}

/// A gap between consecutive events: often none (equal timestamps), often whole minutes (so
/// events land exactly on executions and window edges), sometimes any millisecond count.
fn gap() -> impl Strategy<Value = i64> {
    prop_oneof![
        2 => Just(0i64),
        5 => (0i64..20).prop_map(|m| m * MINUTE),
        2 => 0i64..20 * MINUTE,
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        1u8..=3,
        any::<bool>(),
        prop_oneof![
            Just(0i64),
            0i64..MINUTE,
            (0i64..60).prop_map(|m| m * MINUTE)
        ],
    )
        .prop_flat_map(|(users, two_fields, start)| {
            let ev = (
                gap(),
                proptest::option::weighted(0.85, 0..users),
                proptest::option::weighted(0.85, 0u8..2),
                any::<bool>(),
            );
            (
                Just(two_fields),
                1u64..6,
                1i64..90,
                1i64..15,
                Just(start),
                prop::collection::vec(ev, 0..60),
            )
        })
        .prop_map(|(two_fields, value, from_min, interval_min, start, raw)| {
            // Timestamps are cumulative gaps, so the stream is non-decreasing.
            let mut t = BASE + start;
            let events = raw
                .into_iter()
                .map(|(dt, user, host, flag)| {
                    t += dt;
                    Ev {
                        ts: t,
                        user,
                        host,
                        flag,
                    }
                })
                .collect();
            Case {
                two_fields,
                value,
                window_ms: from_min * MINUTE,
                interval_ms: interval_min * MINUTE,
                events,
            }
        })
}

/// A match, as compared: key, `at` in ms, count, positions of the new events.
type Out = (Vec<String>, i64, u64, Vec<u64>);

fn flatten(matches: &[ThresholdMatch<Document>]) -> Vec<Out> {
    matches
        .iter()
        .map(|m| {
            (
                m.key.clone(),
                m.at.millis(),
                m.count,
                m.new_events.iter().map(|e| e.position()).collect(),
            )
        })
        .collect()
}

struct Fields {
    user: FieldId,
    host: FieldId,
    flag: FieldId,
}

fn evaluator(
    catalog: &mut FieldCatalog,
    two_fields: bool,
    value: u64,
    window_ms: i64,
    interval_ms: i64,
    mode: ThresholdMode,
) -> (ThresholdEvaluator<Document>, Fields) {
    let user = catalog.intern("user.name");
    let host = catalog.intern("host.name");
    let flag = catalog.intern("flag");
    let query = quarry_eql::parse("any where flag == true").expect("query parses");
    let QueryBody::Event(q) = query.body else {
        panic!("an event query")
    };
    let filter =
        quarry_engine::expr::compile_condition(&q.condition, catalog).expect("filter compiles");
    let group_fields = if two_fields {
        vec![user, host]
    } else {
        vec![user]
    };
    let ev = ThresholdEvaluator::new(
        filter,
        group_fields,
        value,
        window_ms as u64,
        interval_ms as u64,
        mode,
    );
    (ev, Fields { user, host, flag })
}

fn user_name(u: u8) -> String {
    format!("user{u}")
}

fn host_name(h: u8) -> String {
    format!("host{h}")
}

fn document(catalog: &FieldCatalog, f: &Fields, e: &Ev, position: u64) -> Arc<Document> {
    let mut values = vec![Value::Null; catalog.len()];
    if let Some(u) = e.user {
        values[f.user.index()] = Value::String(user_name(u));
    }
    if let Some(h) = e.host {
        values[f.host.index()] = Value::String(host_name(h));
    }
    values[f.flag.index()] = Value::Bool(e.flag);
    Arc::new(Document::from_values(
        values,
        Timestamp::from_millis(e.ts).expect("timestamp in range"),
        position,
    ))
}

/// Runs the evaluator over the case's events.
fn run(c: &Case, mode: ThresholdMode) -> Vec<Out> {
    let mut catalog = FieldCatalog::new();
    let (mut ev, fields) = evaluator(
        &mut catalog,
        c.two_fields,
        c.value,
        c.window_ms,
        c.interval_ms,
        mode,
    );
    let mut out = Vec::new();
    for (i, e) in c.events.iter().enumerate() {
        let doc = document(&catalog, &fields, e, i as u64);
        ev.push(&doc, &mut out);
    }
    ev.finish(&mut out);
    flatten(&out)
}

/// The model's view of a counted event.
struct Counted {
    pos: u64,
    ts: i64,
    key: Vec<String>,
}

/// Events passing the filter with every group field present, with their keys.
fn counted_events(c: &Case) -> Vec<Counted> {
    c.events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.flag)
        .filter_map(|(i, e)| {
            let mut key = vec![user_name(e.user?)];
            if c.two_fields {
                key.push(host_name(e.host?));
            }
            Some(Counted {
                pos: i as u64,
                ts: e.ts,
                key,
            })
        })
        .collect()
}

fn model_sliding(c: &Case) -> Vec<Out> {
    let counted = counted_events(c);
    let mut reported: BTreeMap<Vec<String>, BTreeSet<u64>> = BTreeMap::new();
    let mut out = Vec::new();
    for e in &counted {
        let window: Vec<&Counted> = counted
            .iter()
            .filter(|x| x.key == e.key && x.pos <= e.pos && x.ts >= e.ts - c.window_ms)
            .collect();
        if window.len() as u64 >= c.value {
            let seen = reported.entry(e.key.clone()).or_default();
            let new: Vec<u64> = window
                .iter()
                .map(|x| x.pos)
                .filter(|p| !seen.contains(p))
                .collect();
            seen.extend(window.iter().map(|x| x.pos));
            out.push((e.key.clone(), e.ts, window.len() as u64, new));
        }
    }
    out
}

/// The first multiple of `interval` at or after `ts` (timestamps here are positive).
fn ceil_multiple(ts: i64, interval: i64) -> i64 {
    (ts + interval - 1) / interval * interval
}

fn model_kibana(c: &Case) -> Vec<Out> {
    let (Some(first), Some(last)) = (c.events.first(), c.events.last()) else {
        return Vec::new();
    };
    let counted = counted_events(c);
    let keys: BTreeSet<Vec<String>> = counted.iter().map(|e| e.key.clone()).collect();
    let mut last_reported: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    let mut out = Vec::new();
    let mut t = ceil_multiple(first.ts, c.interval_ms);
    let end = ceil_multiple(last.ts, c.interval_ms);
    while t <= end {
        // BTreeSet iterates keys in sorted order.
        for key in &keys {
            let floor = last_reported.get(key).copied();
            let hits: Vec<u64> = counted
                .iter()
                .filter(|e| {
                    &e.key == key
                        && t - c.window_ms <= e.ts
                        && e.ts <= t
                        && floor.is_none_or(|p| e.pos > p)
                })
                .map(|e| e.pos)
                .collect();
            if hits.len() as u64 >= c.value {
                last_reported.insert(key.clone(), *hits.iter().max().expect("non-empty"));
                out.push((key.clone(), t, hits.len() as u64, hits));
            }
        }
        t += c.interval_ms;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn sliding_agrees_with_the_model(c in case()) {
        prop_assert_eq!(run(&c, ThresholdMode::Sliding), model_sliding(&c));
    }

    #[test]
    fn kibana_agrees_with_the_model(c in case()) {
        prop_assert_eq!(run(&c, ThresholdMode::Kibana), model_kibana(&c));
    }
}

// Hand-written examples. Timestamps are minutes after BASE (hour-aligned, so executions with a
// whole-minute interval dividing 60 fall on BASE), positions are stream indexes.

fn ev(minute: f64, user: Option<u8>, flag: bool) -> Ev {
    Ev {
        ts: BASE + (minute * MINUTE as f64) as i64,
        user,
        host: None,
        flag,
    }
}

fn example(value: u64, from_min: i64, interval_min: i64, events: Vec<Ev>) -> Case {
    Case {
        two_fields: false,
        value,
        window_ms: from_min * MINUTE,
        interval_ms: interval_min * MINUTE,
        events,
    }
}

fn key(u: u8) -> Vec<String> {
    vec![user_name(u)]
}

/// Three events within five minutes, but split by the execution at minute 5: it sees two of
/// them ([0, 5]), the execution at minute 10 sees one ([5, 10]). The exact sliding window
/// ending at minute 6 holds all three.
#[test]
fn a_burst_straddling_two_executions_alerts_only_when_sliding() {
    let c = example(
        3,
        5,
        5,
        vec![
            ev(4.0, Some(0), true),
            ev(4.5, Some(0), true),
            ev(6.0, Some(0), true),
        ],
    );
    assert_eq!(
        run(&c, ThresholdMode::Sliding),
        vec![(key(0), BASE + 6 * MINUTE, 3, vec![0, 1, 2])]
    );
    assert_eq!(run(&c, ThresholdMode::Kibana), vec![]);
    assert_eq!(model_sliding(&c), run(&c, ThresholdMode::Sliding));
    assert_eq!(model_kibana(&c), run(&c, ThresholdMode::Kibana));
}

/// In Kibana mode a group that alerted at minute 5 on events 0 and 1 does not alert again at
/// minute 10, though both are still in that execution's ten-minute lookback; two new events
/// make it alert at minute 15, reporting only those. Sliding mode alerts at every counted
/// event once the window holds two, each match reporting only what no earlier one did.
#[test]
fn kibana_does_not_realert_on_the_same_events_but_does_on_new_ones() {
    let c = example(
        2,
        10,
        5,
        vec![
            ev(1.0, Some(0), true),
            ev(2.0, Some(0), true),
            ev(11.0, Some(0), true),
            ev(12.0, Some(0), true),
        ],
    );
    assert_eq!(
        run(&c, ThresholdMode::Kibana),
        vec![
            (key(0), BASE + 5 * MINUTE, 2, vec![0, 1]),
            (key(0), BASE + 15 * MINUTE, 2, vec![2, 3]),
        ]
    );
    assert_eq!(
        run(&c, ThresholdMode::Sliding),
        vec![
            (key(0), BASE + 2 * MINUTE, 2, vec![0, 1]),
            (key(0), BASE + 11 * MINUTE, 3, vec![2]),
            (key(0), BASE + 12 * MINUTE, 3, vec![3]),
        ]
    );
    assert_eq!(model_sliding(&c), run(&c, ThresholdMode::Sliding));
    assert_eq!(model_kibana(&c), run(&c, ThresholdMode::Kibana));
}

/// Only events that pass the filter and carry the group field count: here user0 has one event
/// of each kind that does not count (no user.name; flag false) besides one that does, so it
/// never reaches two, in either mode.
#[test]
fn events_without_the_group_field_or_failing_the_filter_do_not_count() {
    let c = example(
        2,
        30,
        5,
        vec![
            ev(1.0, None, true),
            ev(2.0, Some(0), false),
            ev(3.0, Some(0), true),
            ev(3.0, None, true),
        ],
    );
    assert_eq!(run(&c, ThresholdMode::Sliding), vec![]);
    assert_eq!(run(&c, ThresholdMode::Kibana), vec![]);
    assert_eq!(model_sliding(&c), vec![]);
    assert_eq!(model_kibana(&c), vec![]);
}

/// Windows are inclusive at both ends: an event exactly `from` before another is in the
/// sliding window ending at it, and an event exactly `from` before an execution is counted by
/// that execution. One millisecond later (earlier) and it is out.
#[test]
fn an_event_exactly_from_before_is_inside_the_window() {
    // Sliding: events at minute 0 and minute 10, from = 10 minutes.
    let c = example(
        2,
        10,
        7,
        vec![ev(0.0, Some(1), true), ev(10.0, Some(1), true)],
    );
    assert_eq!(
        run(&c, ThresholdMode::Sliding),
        vec![(key(1), BASE + 10 * MINUTE, 2, vec![0, 1])]
    );
    let mut late = c.clone();
    late.events[1].ts += 1;
    assert_eq!(run(&late, ThresholdMode::Sliding), vec![]);

    // Kibana: interval = from = 10 minutes; executions at minutes 0, 10. The one at 10 counts
    // [0, 10], which holds the event at minute 0 and the one at minute 10.
    let c = example(
        2,
        10,
        10,
        vec![ev(0.0, Some(1), true), ev(10.0, Some(1), true)],
    );
    assert_eq!(
        run(&c, ThresholdMode::Kibana),
        vec![(key(1), BASE + 10 * MINUTE, 2, vec![0, 1])]
    );
    // Moving the first event one millisecond earlier puts it before BASE: the execution at
    // BASE sees it alone, the one at minute 10 no longer does.
    let mut early = c.clone();
    early.events[0].ts -= 1;
    assert_eq!(run(&early, ThresholdMode::Kibana), vec![]);
    assert_eq!(model_kibana(&early), vec![]);
}
