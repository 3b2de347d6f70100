//! Sequence semantics that Elasticsearch defines and the detection pack relies on.

use quarry_engine::{CompiledQuery, Hit, Options, RunStats, run_batch};
use quarry_event::{Document, Event, FieldCatalog, Projection};
use serde_json::json;

/// The seed's bulk-mining detection.
const BULK_MINING: &str = r#"sequence by user.name, source.ip with maxspan=1h
  [any where event.dataset == "atlassian.confluence" and
   event.action in ("page_viewed", "content_viewed", "space_viewed", "attachment_downloaded",
                    "content_exported", "space_exported", "search_performed", "page_printed")]
  with runs=40"#;

const START_MS: i64 = 1_714_564_800_000; // 2024-05-01T12:00:00Z

/// Runs `query` over `docs` (JSON objects with `@timestamp` in epoch ms).
fn run_with(
    query: &str,
    docs: Vec<serde_json::Value>,
    options: &Options,
) -> (Vec<Hit<Document>>, RunStats) {
    let ast = quarry_eql::parse(query).unwrap();
    let mut catalog = FieldCatalog::new();
    let ts = catalog.intern("@timestamp");
    let compiled = CompiledQuery::compile(&ast, &mut catalog, options).unwrap();
    let projection = Projection::new(&catalog);
    let events: Vec<Document> = docs
        .into_iter()
        .enumerate()
        .map(|(i, d)| Document::from_json(d, &projection, &catalog, ts, i as u64).unwrap())
        .collect();
    run_batch(compiled, events)
}

/// The hits of `query` over `docs`, each as the positions of its events in `docs`.
fn run(query: &str, docs: Vec<serde_json::Value>) -> Vec<Vec<u64>> {
    let (hits, _) = run_with(query, docs, &Options::default());
    hits.iter()
        .map(|h| h.events().iter().map(|e| e.position()).collect())
        .collect()
}

/// `count` page views by one user and IP, `gap_s` seconds apart.
fn views(count: usize, gap_s: i64) -> Vec<serde_json::Value> {
    (0..count)
        .map(|i| {
            json!({
                "@timestamp": START_MS + i as i64 * gap_s * 1000,
                "event": {"dataset": "atlassian.confluence", "action": "page_viewed"},
                "user": {"name": "mallory"},
                "source": {"ip": "203.0.113.7"},
            })
        })
        .collect()
}

#[test]
fn runs_40_needs_40_events() {
    assert_eq!(run(BULK_MINING, views(39, 10)).len(), 0);
    let hits = run(BULK_MINING, views(40, 10));
    assert_eq!(hits, vec![(0..40).collect::<Vec<u64>>()]);
}

#[test]
fn runs_overlap_like_elasticsearch_sliding_windows() {
    // 45 events within the hour: windows start at events 0..=5.
    let hits = run(BULK_MINING, views(45, 10));
    assert_eq!(hits.len(), 6);
    for (i, hit) in hits.iter().enumerate() {
        let start = i as u64;
        assert_eq!(*hit, (start..start + 40).collect::<Vec<_>>());
    }
}

#[test]
fn maxspan_is_inclusive_and_bounds_the_window() {
    // 90 s apart: 40 events span 39 * 90 = 3510 s <= 3600 s, so every window completes.
    assert_eq!(run(BULK_MINING, views(100, 90)).len(), 61);
    // 120 s apart: 39 * 120 = 4680 s > 3600 s: none does.
    assert_eq!(run(BULK_MINING, views(100, 120)).len(), 0);
    // Exactly one hour from first to last event still matches (inclusive).
    let mut docs = views(40, 1);
    docs[39]["@timestamp"] = json!(START_MS + 3_600_000);
    assert_eq!(run(BULK_MINING, docs.clone()).len(), 1);
    docs[39]["@timestamp"] = json!(START_MS + 3_600_001);
    assert_eq!(run(BULK_MINING, docs).len(), 0);
}

#[test]
fn join_keys_separate_users_and_ips() {
    let mut docs = views(40, 10);
    docs[20]["source"]["ip"] = json!("198.51.100.9");
    assert_eq!(
        run(BULK_MINING, docs.clone()).len(),
        0,
        "one event from another IP breaks the run"
    );
    docs[20]["source"]["ip"] = json!("203.0.113.7");
    docs[20]["user"]["name"] = json!("alice");
    assert_eq!(run(BULK_MINING, docs).len(), 0);
}

#[test]
fn events_without_a_join_key_never_join_unless_the_key_is_optional() {
    let mut docs = views(40, 10);
    for d in &mut docs {
        d.as_object_mut().unwrap().remove("source");
    }
    assert_eq!(run(BULK_MINING, docs.clone()).len(), 0);
    let optional = BULK_MINING.replace("source.ip with", "?source.ip with");
    assert_eq!(run(&optional, docs).len(), 1);
}

#[test]
fn array_join_keys_fan_out() {
    // Each event carries two IPs: both keys see the run.
    let docs: Vec<_> = views(40, 10)
        .into_iter()
        .map(|mut d| {
            d["source"]["ip"] = json!(["203.0.113.7", "198.51.100.9"]);
            d
        })
        .collect();
    let (hits, _) = run_with(BULK_MINING, docs, &Options::default());
    let mut keys: Vec<String> = hits
        .iter()
        .map(|h| match h {
            Hit::Sequence(s) => format!("{:?}", s.join_key.0[1].to_value()),
            Hit::Event(_) => unreachable!(),
        })
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["String(\"198.51.100.9\")", "String(\"203.0.113.7\")"]
    );
}

#[test]
fn until_drops_pending_sequences_of_its_key() {
    let query = r#"sequence by user.name
      [any where event.action == "login"]
      [any where event.action == "page_viewed"]
    until [any where event.action == "logout"]"#;
    let ev = |i: i64, action: &str, user: &str| json!({"@timestamp": START_MS + i * 1000, "event": {"action": action}, "user": {"name": user}});
    let docs = vec![
        ev(0, "login", "a"),
        ev(1, "login", "b"),
        ev(2, "logout", "a"),
        ev(3, "page_viewed", "a"),
        ev(4, "page_viewed", "b"),
    ];
    assert_eq!(run(query, docs), vec![vec![1, 4]]);
}

#[test]
fn a_newer_pending_sequence_replaces_older_ones_of_its_stage() {
    // Two logins then one view: Elasticsearch pairs the view with the latest login.
    let query = r#"sequence by user.name [any where event.action == "login"] [any where event.action == "view"]"#;
    let ev = |i: i64, action: &str| json!({"@timestamp": START_MS + i, "event": {"action": action}, "user": {"name": "a"}});
    let hits = run(
        query,
        vec![ev(0, "login"), ev(1, "login"), ev(2, "view"), ev(3, "view")],
    );
    assert_eq!(hits, vec![vec![1, 2]]);
}

#[test]
fn one_event_never_fills_two_stages() {
    let query = r#"sequence [any where true] [any where true]"#;
    let ev = |i: i64| json!({"@timestamp": START_MS + i});
    assert_eq!(run(query, vec![ev(0)]), Vec::<Vec<u64>>::new());
    assert_eq!(
        run(query, vec![ev(0), ev(0), ev(0)]),
        vec![vec![0, 1], vec![1, 2]]
    );
}

#[test]
fn the_key_cap_evicts_and_counts() {
    let query =
        r#"sequence by user.name [any where event.action == "a"] [any where event.action == "b"]"#;
    let options = Options {
        max_join_keys: 10,
        ..Options::default()
    };
    let docs: Vec<_> = (0..100)
        .map(|i| json!({"@timestamp": START_MS + i, "event": {"action": "a"}, "user": {"name": format!("u{i}")}}))
        .collect();
    let (hits, stats) = run_with(query, docs, &options);
    assert!(hits.is_empty());
    assert!(stats.sequence.peak_keys <= 10, "{stats:?}");
    // 100 keys through a cap of 10: every key past the tenth evicts one.
    assert_eq!(stats.sequence.evicted_keys, 90, "{stats:?}");
}

#[test]
fn an_event_never_fills_two_stages_even_when_their_keys_differ() {
    // Stage keys are compared by value: event 0's dst equals its src, so a careless matcher
    // would start a sequence with event 0 and extend it with event 0 again.
    let query = r#"sequence [any where true] by src [any where true] by dst"#;
    let docs = vec![
        json!({"@timestamp": START_MS, "src": "h1", "dst": "h1"}),
        json!({"@timestamp": START_MS + 1, "src": "h9", "dst": "h1"}),
    ];
    assert_eq!(run(query, docs), vec![vec![0, 1]]);
}

#[test]
fn extreme_timestamps_neither_overflow_nor_match() {
    // 1677 and 2262, the ends of the representable range: their difference overflows i64.
    let docs = vec![
        json!({"@timestamp": -9_223_372_036_854i64, "x": "a", "u": "1"}),
        json!({"@timestamp": 9_223_372_036_854i64, "x": "b", "u": "1"}),
    ];
    let q = r#"sequence by u with maxspan=1s [any where x == "a"] [any where x == "b"]"#;
    assert!(run(q, docs.clone()).is_empty());
    let q = r#"sequence by u with maxspan=1s [any where true] with runs=2"#;
    assert!(run(q, docs).is_empty());
}

#[test]
fn mixed_type_tiebreakers_sort_without_panicking() {
    use quarry_engine::sort_events;
    let mut catalog = FieldCatalog::new();
    let ts = catalog.intern("@timestamp");
    let tb = catalog.intern("tb");
    let projection = Projection::new(&catalog);
    let mut seed = 12345u64;
    let mut docs: Vec<Document> = (0..2000)
        .map(|i| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let tiebreaker = match seed >> 62 {
                0 => json!(seed >> 40),
                1 => json!(format!("s{}", seed >> 50)),
                2 => json!(null),
                _ => json!((seed >> 40) as f64 / 7.0),
            };
            let d = json!({"@timestamp": START_MS + (seed >> 60) as i64, "tb": tiebreaker});
            Document::from_json(d, &projection, &catalog, ts, i).unwrap()
        })
        .collect();
    sort_events(&mut docs, Some(tb));
    for pair in docs.windows(2) {
        assert_ne!(
            quarry_engine::query::event_order(&pair[0], &pair[1], Some(tb)),
            std::cmp::Ordering::Greater
        );
    }
}
