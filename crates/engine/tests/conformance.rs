//! Elasticsearch's own EQL spec suite, run through the engine.
//!
//! The 194 entries of `test_queries.toml` and `additional_test_queries.toml` run over the 102
//! "endgame" events as Elasticsearch's QA suite runs them (see the folder's README):
//! `@timestamp = timestamp / 10_000 - 11_644_473_600_000` (Windows FILETIME to epoch
//! milliseconds), `event_type` is the category field, `serial_event_id` the tiebreaker, and at
//! most 50 results are returned. The expected answer is the `serial_event_id` of every returned
//! event, sequences flattened.
//!
//! The files are found through `QUARRY_EQL_CONFORMANCE_DIR` (set by `.ci/run`), falling back to
//! `../shared/eql-conformance`; without them the test says SKIPPED and passes.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use quarry_engine::{CompiledQuery, Options, run_batch};
use quarry_event::{Document, Event, FieldCatalog, Projection, ValueRef};

/// Entries whose expectation we do not meet, each with the reason. Keep it empty if possible;
/// an entry that starts passing must be removed (the test fails on stale entries).
const ALLOWED_FAILURES: &[(&str, &str)] = &[];

/// Elasticsearch's QA suite runs every query with this size.
const SIZE: usize = 50;

fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("QUARRY_EQL_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eql-conformance"),
    };
    dir.join("test_data.json").is_file().then_some(dir)
}

struct Entry {
    id: String,
    query: String,
    /// Acceptable answers (usually one).
    expected: Vec<Vec<i64>>,
}

fn entries(dir: &Path) -> Vec<Entry> {
    let mut out = Vec::new();
    for file in ["test_queries.toml", "additional_test_queries.toml"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let table: toml::Table = text.parse().unwrap();
        for (i, entry) in table["queries"].as_array().unwrap().iter().enumerate() {
            let name = entry.get("name").and_then(|n| n.as_str()).unwrap_or("");
            let ids = entry["expected_event_ids"].as_array().unwrap();
            let as_ids = |v: &[toml::Value]| {
                v.iter()
                    .map(|x| x.as_integer().unwrap())
                    .collect::<Vec<_>>()
            };
            let expected = if ids.first().is_some_and(|x| x.is_array()) {
                ids.iter()
                    .map(|alt| as_ids(alt.as_array().unwrap()))
                    .collect()
            } else {
                vec![as_ids(ids)]
            };
            out.push(Entry {
                id: format!("{file}#{i} {name}"),
                query: entry["query"].as_str().unwrap().to_string(),
                expected,
            });
        }
    }
    out
}

fn events(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("test_data.json")).unwrap();
    let mut docs: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    for doc in &mut docs {
        let filetime = doc["timestamp"].as_i64().unwrap();
        doc["@timestamp"] = serde_json::json!(filetime / 10_000 - 11_644_473_600_000);
    }
    docs
}

/// Runs one entry: the `serial_event_id`s returned, or why it could not run.
fn run(entry: &Entry, docs: &[serde_json::Value]) -> Result<Vec<i64>, String> {
    let ast = quarry_eql::parse(&entry.query).map_err(|e| format!("parse: {e}"))?;
    let mut catalog = FieldCatalog::new();
    let timestamp = catalog.intern("@timestamp");
    let serial = catalog.intern("serial_event_id");
    let options = Options {
        category_field: "event_type".to_string(),
        tiebreaker_field: Some("serial_event_id".to_string()),
        ..Options::default()
    };
    let query = CompiledQuery::compile(&ast, &mut catalog, &options)
        .map_err(|e| format!("compile: {e}"))?;
    let projection = Projection::new(&catalog);
    let documents: Vec<Document> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            Document::from_json(d.clone(), &projection, &catalog, timestamp, i as u64).unwrap()
        })
        .collect();
    let (hits, _) = run_batch(query, documents);
    Ok(hits
        .iter()
        .take(SIZE)
        .flat_map(|h| h.events().iter())
        .map(|e| match e.field(serial) {
            ValueRef::Integer(i) => i,
            other => panic!("serial_event_id is {other:?}"),
        })
        .collect())
}

#[test]
fn elasticsearch_spec_queries_return_elasticsearchs_results() {
    let Some(dir) = conformance_dir() else {
        say(
            "\n*** SKIPPED: EQL conformance files not found. Set QUARRY_EQL_CONFORMANCE_DIR to the folder holding test_data.json (../shared/eql-conformance). ***\n",
        );
        return;
    };
    let docs = events(&dir);
    let entries = entries(&dir);
    let allowed: HashMap<&str, &str> = ALLOWED_FAILURES.iter().copied().collect();
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut stale = Vec::new();
    for entry in &entries {
        let outcome = run(entry, &docs);
        let ok = matches!(&outcome, Ok(ids) if entry.expected.contains(ids));
        let allowed_reason = allowed
            .iter()
            .find(|(k, _)| entry.id.ends_with(*k) || entry.id.contains(*k));
        match (ok, allowed_reason) {
            (true, None) => passed += 1,
            (true, Some(_)) => {
                passed += 1;
                stale.push(entry.id.clone());
            }
            (false, Some(_)) => {}
            (false, None) => failures.push(format!(
                "{}\n  query:    {}\n  expected: {:?}\n  got:      {:?}",
                entry.id,
                entry.query.trim().replace('\n', " "),
                entry.expected,
                outcome
            )),
        }
    }
    say(&format!("conformance: {passed}/{} passed", entries.len()));
    assert!(
        failures.is_empty(),
        "{} unexpected failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        stale.is_empty(),
        "allow-listed entries now pass; remove them: {stale:?}"
    );
}
