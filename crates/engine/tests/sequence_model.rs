//! Property: the sequence matcher agrees with a small reference model of the same algorithm on
//! random short streams (random keys, timestamps, stage filters, runs, until, maxspan).
//!
//! The model is the algorithm stated as plainly as possible: per key, at most one pending
//! sequence per stage (the newest; Elasticsearch replaces older ones), stages tried from last to
//! first, maxspan checked when extending, an `until` event clearing its key. It has none of the
//! engine's machinery (deques, sweeps, key eviction, fan-out), so agreement checks that
//! machinery.

use std::collections::HashMap;

use proptest::prelude::*;
use quarry_engine::{CompiledQuery, Options, run_batch};
use quarry_event::{Document, Event, FieldCatalog, Projection};
use serde_json::json;

#[derive(Debug, Clone)]
struct Ev {
    ts: i64,
    key: Option<u8>,
    /// Which stage filters the event passes.
    stages: [bool; 3],
    until: bool,
}

#[derive(Debug, Clone)]
struct Case {
    runs: Vec<u32>,
    until: bool,
    maxspan_ms: Option<i64>,
    events: Vec<Ev>,
}

fn case() -> impl Strategy<Value = Case> {
    let ev = (
        0i64..4,
        proptest::option::weighted(0.9, 0u8..3),
        any::<[bool; 3]>(),
        proptest::bool::weighted(0.15),
    )
        .prop_map(|(dt, key, stages, until)| Ev {
            ts: dt,
            key,
            stages,
            until,
        });
    (
        prop::collection::vec(1u32..4, 1..4),
        any::<bool>(),
        proptest::option::of(1i64..8),
        prop::collection::vec(ev, 0..40),
    )
        .prop_map(|(runs, until, maxspan_ms, mut events)| {
            // Timestamps are cumulative gaps, so the stream is ordered.
            let mut t = 0;
            for e in &mut events {
                t += e.ts;
                e.ts = t;
            }
            Case {
                runs,
                until,
                maxspan_ms,
                events,
            }
        })
}

fn query_text(c: &Case) -> String {
    let mut q = String::from("sequence by k");
    if let Some(m) = c.maxspan_ms {
        q.push_str(&format!(" with maxspan={m}ms"));
    }
    for (i, runs) in c.runs.iter().enumerate() {
        q.push_str(&format!(" [any where s{i} == true]"));
        if *runs > 1 {
            q.push_str(&format!(" with runs={runs}"));
        }
    }
    if c.runs.iter().sum::<u32>() < 2 {
        // A sequence needs two stages (`until` does not count); add a second one.
        q.push_str(" [any where s0 == true]");
    }
    if c.until {
        q.push_str(" until [any where u == true]");
    }
    q
}

/// The stage filters after `runs` expansion, as indexes into `Ev::stages`.
fn expanded(c: &Case) -> Vec<usize> {
    let mut out: Vec<usize> = c
        .runs
        .iter()
        .enumerate()
        .flat_map(|(i, r)| std::iter::repeat_n(i, *r as usize))
        .collect();
    if c.runs.iter().sum::<u32>() < 2 {
        out.push(0);
    }
    out
}

fn engine(c: &Case) -> Vec<Vec<u64>> {
    let ast = quarry_eql::parse(&query_text(c)).unwrap();
    let mut catalog = FieldCatalog::new();
    let ts = catalog.intern("@timestamp");
    let compiled = CompiledQuery::compile(&ast, &mut catalog, &Options::default()).unwrap();
    let projection = Projection::new(&catalog);
    let docs: Vec<Document> = c
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut d = json!({
                "@timestamp": e.ts,
                "s0": e.stages[0], "s1": e.stages[1], "s2": e.stages[2], "u": e.until,
            });
            if let Some(k) = e.key {
                d["k"] = json!(format!("k{k}"));
            }
            Document::from_json(d, &projection, &catalog, ts, i as u64).unwrap()
        })
        .collect();
    let (hits, _) = run_batch(compiled, docs);
    hits.iter()
        .map(|h| h.events().iter().map(|e| e.position()).collect())
        .collect()
}

/// A pending sequence in the model: its first timestamp and its events' positions.
type ModelPending = Option<(i64, Vec<u64>)>;

/// The reference model.
fn model(c: &Case) -> Vec<Vec<u64>> {
    let stages = expanded(c);
    let n = stages.len();
    let maxspan = c.maxspan_ms;
    // key -> stage -> the newest pending sequence of that stage
    let mut pending: HashMap<u8, Vec<ModelPending>> = HashMap::new();
    let mut out = Vec::new();
    for (pos, e) in c.events.iter().enumerate() {
        let Some(key) = e.key else { continue };
        let slots = pending.entry(key).or_insert_with(|| vec![None; n]);
        if c.until && e.until {
            slots.iter_mut().for_each(|s| *s = None);
        }
        for s in (0..n).rev() {
            if !e.stages[stages[s]] {
                continue;
            }
            if s == 0 {
                let seq = (e.ts, vec![pos as u64]);
                if n == 1 {
                    out.push(seq.1);
                } else {
                    slots[0] = Some(seq);
                }
                continue;
            }
            let Some((first, mut events)) = slots[s - 1].take() else {
                continue;
            };
            if maxspan.is_some_and(|m| e.ts - first > m) {
                continue;
            }
            events.push(pos as u64);
            if s == n - 1 {
                out.push(events);
            } else {
                slots[s] = Some((first, events));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn the_matcher_agrees_with_the_reference_model(c in case()) {
        prop_assert_eq!(engine(&c), model(&c), "query: {}", query_text(&c));
    }
}
