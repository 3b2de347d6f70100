//! `sample` queries: distinct events sharing join keys, one per stage, in join-key order.

use quarry_engine::{CompiledQuery, Options, run_batch};
use quarry_event::{Document, Event, FieldCatalog, Projection, ValueRef};
use serde_json::json;

fn run(
    query: &str,
    docs: Vec<serde_json::Value>,
    max_samples_per_key: usize,
) -> Vec<(String, Vec<i64>)> {
    let ast = quarry_eql::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut catalog = FieldCatalog::new();
    let ts = catalog.intern("@timestamp");
    let id = catalog.intern("id");
    let options = Options {
        max_samples_per_key,
        ..Options::default()
    };
    let compiled = CompiledQuery::compile(&ast, &mut catalog, &options).unwrap();
    let projection = Projection::new(&catalog);
    let events: Vec<Document> = docs
        .into_iter()
        .enumerate()
        .map(|(i, mut d)| {
            d["@timestamp"] = json!(i as i64);
            Document::from_json(d, &projection, &catalog, ts, i as u64).unwrap()
        })
        .collect();
    let (hits, _) = run_batch(compiled, events);
    hits.iter()
        .map(|h| {
            let key = format!(
                "{:?}",
                h.join_key()
                    .unwrap()
                    .0
                    .iter()
                    .map(|k| k.to_value().to_string())
                    .collect::<Vec<_>>()
            );
            let ids = h
                .events()
                .iter()
                .map(|e| match e.field(id) {
                    ValueRef::Integer(n) => n,
                    other => panic!("{other:?}"),
                })
                .collect();
            (key, ids)
        })
        .collect()
}

fn doc(id: i64, host: &str, kind: &str) -> serde_json::Value {
    json!({"id": id, "host": host, "kind": kind})
}

#[test]
fn one_distinct_event_per_stage_for_each_key_in_key_order() {
    let docs = vec![
        doc(1, "web", "a"),
        doc(2, "db", "b"),
        doc(3, "db", "a"),
        doc(4, "web", "b"),
        doc(5, "mail", "a"), // no "b" for mail: no sample
    ];
    let q = r#"sample by host [any where kind == "a"] [any where kind == "b"]"#;
    assert_eq!(
        run(q, docs, 1),
        [
            ("[\"db\"]".to_string(), vec![3, 2]),
            ("[\"web\"]".to_string(), vec![1, 4])
        ]
    );
}

#[test]
fn an_event_never_fills_two_stages() {
    // Every event matches both stages; a sample needs two different ones.
    let q = r#"sample by host [any where true] [any where true]"#;
    assert_eq!(
        run(q, vec![doc(1, "web", "a")], 1),
        Vec::<(String, Vec<i64>)>::new()
    );
    assert_eq!(
        run(q, vec![doc(1, "web", "a"), doc(2, "web", "a")], 1),
        [("[\"web\"]".to_string(), vec![1, 2])]
    );
}

#[test]
fn backtracking_finds_a_distinct_assignment() {
    // Stage 1 can only be event 1, which stage 0 would otherwise take first.
    let docs = vec![doc(1, "h", "x"), doc(2, "h", "y")];
    let q = r#"sample by host [any where kind in ("x", "y")] [any where kind == "x"]"#;
    assert_eq!(run(q, docs, 1), [("[\"h\"]".to_string(), vec![2, 1])]);
}

#[test]
fn max_samples_per_key_allows_more_samples_of_distinct_events() {
    let docs: Vec<_> = (1..=5)
        .map(|i| doc(i, "h", if i % 2 == 1 { "a" } else { "b" }))
        .collect();
    let q = r#"sample by host [any where kind == "a"] [any where kind == "b"]"#;
    assert_eq!(run(q, docs.clone(), 1).len(), 1);
    assert_eq!(
        run(q, docs, 3),
        [
            ("[\"h\"]".to_string(), vec![1, 2]),
            ("[\"h\"]".to_string(), vec![3, 4]),
        ]
    );
}
