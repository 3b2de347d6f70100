//! Every query of Elasticsearch's own EQL spec files parses, verifies, and survives a round trip
//! through the canonical printer: `parse(print(q)) == q`, spans aside.
//!
//! The spec files are test data outside this repository. They are found through the
//! environment variable `QUARRY_EQL_CONFORMANCE_DIR` (which `.ci/run` sets), falling back to
//! `../shared/eql-conformance` beside the workspace. When neither exists the test says so
//! loudly and passes: the files are not ours to ship.

use std::io::Write;
use std::path::PathBuf;

/// Writes to the real stderr: libtest hides `eprintln!` output of passing tests, and a skip or
/// a pass count must be seen.
fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("QUARRY_EQL_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eql-conformance"),
    };
    dir.join("test_queries.toml").is_file().then_some(dir)
}

/// `(file, name, query)` for every `[[queries]]` entry of both spec files.
fn spec_queries(dir: &std::path::Path) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for file in ["test_queries.toml", "additional_test_queries.toml"] {
        let text = std::fs::read_to_string(dir.join(file)).expect("spec file is readable");
        let table: toml::Table = text.parse().expect("spec file is TOML");
        let entries = table["queries"].as_array().expect("[[queries]] array");
        for (i, entry) in entries.iter().enumerate() {
            let name = entry
                .get("name")
                .and_then(|n| n.as_str())
                .map_or_else(|| format!("#{i}"), str::to_string);
            let query = entry["query"]
                .as_str()
                .expect("query is a string")
                .to_string();
            out.push((file.to_string(), name, query));
        }
    }
    out
}

#[test]
fn every_spec_query_parses_verifies_and_round_trips() {
    let Some(dir) = conformance_dir() else {
        say(
            "\n*** SKIPPED: EQL conformance files not found. Set QUARRY_EQL_CONFORMANCE_DIR to \
             the folder holding test_queries.toml (../shared/eql-conformance). ***\n",
        );
        return;
    };
    let queries = spec_queries(&dir);
    assert_eq!(queries.len(), 194, "the spec files hold 133 + 61 entries");
    let mut failures = Vec::new();
    for (file, name, text) in &queries {
        let parsed = match quarry_eql::parse(text) {
            Ok(q) => q,
            Err(e) => {
                failures.push(format!(
                    "{file} {name}: does not parse:\n{}",
                    e.render(text, name, quarry_eql::Style::Plain)
                ));
                continue;
            }
        };
        let printed = parsed.to_string();
        match quarry_eql::parse(&printed) {
            Ok(reparsed) if reparsed.clone().without_spans() == parsed.clone().without_spans() => {}
            Ok(reparsed) => failures.push(format!(
                "{file} {name}: round trip changed the tree\n  text:    {text}\n  printed: {printed}\n  reprinted: {reparsed}"
            )),
            Err(e) => failures.push(format!(
                "{file} {name}: printed form does not parse: {printed}\n{}",
                e.render(&printed, "printed", quarry_eql::Style::Plain)
            )),
        }
    }
    say(&format!(
        "conformance syntax: {}/{} spec queries parse, verify and round-trip",
        queries.len() - failures.len(),
        queries.len()
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
