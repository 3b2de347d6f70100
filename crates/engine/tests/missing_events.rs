//! Missing-event stages `![...]`, with expectations worked out by hand from Elasticsearch's
//! rules (see `quarry_engine::missing`). Each result lists the stages in order, `-` for a
//! missing stage's placeholder and otherwise the event's `id`.

use quarry_engine::{CompiledQuery, Options, run_batch};
use quarry_event::{Document, Event, FieldCatalog, Projection, ValueRef};
use serde_json::json;

/// Runs `query` over `(timestamp ms, tag, key, id)` events.
fn run(query: &str, events: &[(i64, &str, &str, i64)]) -> Vec<String> {
    let ast = quarry_eql::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut catalog = FieldCatalog::new();
    let ts = catalog.intern("@timestamp");
    let id = catalog.intern("id");
    let compiled = CompiledQuery::compile(&ast, &mut catalog, &Options::default()).unwrap();
    let projection = Projection::new(&catalog);
    let docs: Vec<Document> = events
        .iter()
        .enumerate()
        .map(|(i, (t, tag, key, n))| {
            let d =
                json!({"@timestamp": t, "event": {"category": "x"}, "tag": tag, "k": key, "id": n});
            Document::from_json(d, &projection, &catalog, ts, i as u64).unwrap()
        })
        .collect();
    let (hits, _) = run_batch(compiled, docs);
    hits.iter()
        .map(|h| {
            h.stages()
                .iter()
                .map(|slot| match slot {
                    None => "-".to_string(),
                    Some(e) => match e.field(id) {
                        ValueRef::Integer(n) => n.to_string(),
                        other => panic!("{other:?}"),
                    },
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

/// Normal events at 1, 2 and 4 ms, a "missing" one at 3 ms.
const SIMPLE: &[(i64, &str, &str, i64)] = &[
    (1, "normal", "a", 1),
    (2, "normal", "a", 2),
    (3, "missing", "a", 3),
    (4, "normal", "a", 4),
];

#[test]
fn a_middle_stage_forbids_events_strictly_between_its_neighbours() {
    let q = r#"sequence with maxspan=1s [x where tag == "normal"] ![x where tag == "missing"] [x where tag == "normal"]"#;
    // (1,2) has nothing between; (2,4) has the missing event at 3.
    assert_eq!(run(q, SIMPLE), ["1,-,2"]);
    let q = r#"sequence with maxspan=1s [x where tag == "normal"] ![x where tag == "nothing"] [x where tag == "normal"]"#;
    assert_eq!(run(q, SIMPLE), ["1,-,2", "2,-,4"]);
}

#[test]
fn head_and_tail_apply_after_the_missing_check() {
    let q = r#"sequence with maxspan=1s [x where tag == "normal"] ![x where tag == "nothing"] [x where tag == "normal"] | tail 1"#;
    assert_eq!(run(q, SIMPLE), ["2,-,4"]);
    let q = r#"sequence with maxspan=1s [x where tag == "normal"] ![x where tag == "nothing"] [x where tag == "normal"] | head 1"#;
    assert_eq!(run(q, SIMPLE), ["1,-,2"]);
}

#[test]
fn a_trailing_stage_forbids_events_within_maxspan_of_the_first_positive_event() {
    let q = r#"sequence with maxspan=1s [x where tag == "normal"] ![x where tag == "missing"]"#;
    // 1 and 2 are followed by the missing event within a second; 4 is not followed at all.
    assert_eq!(run(q, SIMPLE), ["4,-"]);
    // With a 1 ms window, only 2 is forbidden (3 - 1 = 2 ms > 1 ms).
    let q = r#"sequence with maxspan=1ms [x where tag == "normal"] ![x where tag == "missing"]"#;
    assert_eq!(run(q, SIMPLE), ["1,-", "4,-"]);
}

#[test]
fn a_leading_stage_forbids_events_within_maxspan_before_the_last_positive_event() {
    let q = r#"sequence with maxspan=1s ![x where tag == "missing"] [x where tag == "normal"]"#;
    assert_eq!(run(q, SIMPLE), ["-,1", "-,2"]);
}

#[test]
fn leading_and_trailing_forbid_only_together_within_maxspan() {
    // Missing at 0 and 900 ms around a normal event at 500 ms.
    let events = &[
        (0, "missing", "a", 1),
        (500, "normal", "a", 2),
        (900, "missing", "a", 3),
    ];
    let q = |maxspan: &str| {
        format!(
            r#"sequence with maxspan={maxspan} ![x where tag == "missing"] [x where tag == "normal"] ![x where tag == "missing"]"#
        )
    };
    // 900 - 0 = 900 ms: within 1 s, so the pair forbids; beyond 800 ms, it does not.
    assert_eq!(run(&q("1s"), events), Vec::<String>::new());
    assert_eq!(run(&q("800ms"), events), ["-,2,-"]);
    // One side alone never forbids.
    let only_leading = &[(0, "missing", "a", 1), (500, "normal", "a", 2)];
    assert_eq!(run(&q("1s"), only_leading), ["-,2,-"]);
}

#[test]
fn forbidding_events_must_share_the_join_key() {
    let events = &[
        (1, "normal", "a", 1),
        (2, "missing", "b", 2),
        (3, "normal", "a", 3),
        (4, "normal", "b", 4),
        (5, "missing", "b", 5),
        (6, "normal", "b", 6),
    ];
    let q = r#"sequence by k with maxspan=1s [x where tag == "normal"] ![x where tag == "missing"] [x where tag == "normal"]"#;
    assert_eq!(run(q, events), ["1,-,3"]);
}

#[test]
fn a_rejected_candidate_is_not_replaced_by_another_combination() {
    // A1 B2 M3 B4 C5: the positive machine pairs (A1, B2) then takes C5; the missing M3 lies
    // between B2 and C5, so the candidate goes. (A1, B4, C5) would pass, but Elasticsearch
    // never builds it: B4 found no pending A (A1 had moved on).
    let events = &[
        (1, "A", "a", 1),
        (2, "B", "a", 2),
        (3, "M", "a", 3),
        (4, "B", "a", 4),
        (5, "C", "a", 5),
    ];
    let q = r#"sequence with maxspan=1s [x where tag == "A"] [x where tag == "B"] ![x where tag == "M"] [x where tag == "C"]"#;
    assert_eq!(run(q, events), Vec::<String>::new());
}

#[test]
fn runs_on_a_missing_stage_give_one_placeholder_each() {
    let q = r#"sequence with maxspan=1s [x where tag == "normal"] ![x where tag == "nothing"] with runs=2 [x where tag == "normal"]"#;
    assert_eq!(run(q, SIMPLE), ["1,-,-,2", "2,-,-,4"]);
}
