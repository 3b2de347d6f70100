//! `quarry query` as a user runs it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn quarry(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that fails before reading its input (a bad query) may close it first.
    match child.stdin.take().unwrap().write_all(stdin) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    }
    child.wait_with_output().unwrap()
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

const EVENTS: &str = r#"{"@timestamp":"2024-05-01T12:00:00Z","event":{"category":"web","action":"page_viewed"},"user":{"name":"alice"},"source":{"ip":"10.0.0.1"}}
{"@timestamp":"2024-05-01T12:00:05Z","event":{"category":"web","action":"search_performed"},"user.name":"alice","source.ip":"10.0.0.1","message":"password"}
this line is not JSON
{"event":{"action":"page_viewed"}}
{"@timestamp":"2024-05-01T12:00:09Z","event":{"category":"web","action":"page_viewed"},"user":{"name":"bob"},"source":{"ip":"10.0.0.2"}}
"#;

#[test]
fn json_output_is_an_eql_search_response_body() {
    let path = temp_file("events.ndjson", EVENTS);
    let out = quarry(
        &[
            "query",
            "web where event.action == \"page_viewed\"",
            path.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(body["is_partial"], false);
    assert_eq!(body["is_running"], false);
    assert_eq!(body["timed_out"], false);
    assert!(body["took"].is_u64());
    assert_eq!(
        body["hits"]["total"],
        serde_json::json!({"value": 2, "relation": "eq"})
    );
    let events = body["hits"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["_id"], "1");
    assert_eq!(events[0]["_source"]["user"]["name"], "alice");
    assert_eq!(events[1]["_id"], "5");
    assert_eq!(events[1]["_index"], path.display().to_string());
}

#[test]
fn malformed_lines_are_reported_with_file_and_line_and_the_run_goes_on() {
    let path = temp_file("malformed.ndjson", EVENTS);
    let out = quarry(&["query", "any where true", path.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = path.display();
    assert!(
        stderr.contains(&format!("{name}:3: not JSON: ")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{name}:4: the timestamp field `@timestamp` is missing"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("quarry: 3 events read, 3 events matched, 2 malformed documents skipped"),
        "{stderr}"
    );
}

#[test]
fn sequences_carry_join_keys() {
    let out = quarry(
        &[
            "query",
            "--format",
            "ndjson",
            "sequence by user.name [any where event.action == \"page_viewed\"] [any where event.action == \"search_performed\"]",
        ],
        EVENTS.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["join_keys"], serde_json::json!(["alice"]));
    let ids: Vec<&str> = lines[0]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["1", "2"]);
}

#[test]
fn unsorted_input_is_sorted_before_matching() {
    let reversed: String = EVENTS.lines().rev().map(|l| format!("{l}\n")).collect();
    let out = quarry(
        &[
            "query",
            "--format",
            "ndjson",
            "sequence by user.name [any where event.action == \"page_viewed\"] [any where event.action == \"search_performed\"]",
            "-",
        ],
        reversed.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("input is not sorted by @timestamp; loading and sorting it"),
        "{stderr}"
    );
    // Each malformed line is reported once, not once per pass.
    assert_eq!(stderr.matches("not JSON").count(), 1, "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn a_json_array_of_documents_is_read() {
    let docs: Vec<serde_json::Value> = EVENTS
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let path = temp_file("array.json", &serde_json::to_string(&docs).unwrap());
    let out = quarry(
        &[
            "query",
            "--size",
            "1",
            "any where user.name == \"bob\"",
            path.to_str().unwrap(),
        ],
        b"",
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["hits"]["events"][0]["_source"]["user"]["name"], "bob");
    assert_eq!(body["hits"]["events"][0]["_id"], "4");
}

#[test]
fn an_invalid_query_exits_2_with_a_caret() {
    let out = quarry(&["query", "any where a = 1"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `==`?"));
}

#[test]
fn missing_event_stages_print_elasticsearchs_placeholder() {
    let out = quarry(
        &[
            "query",
            "--format",
            "ndjson",
            "sequence by user.name with maxspan=1h [any where event.action == \"page_viewed\"] ![any where event.action == \"logout\"]",
        ],
        EVENTS.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "alice's and bob's views, no logout follows");
    assert_eq!(
        lines[0]["events"][1],
        serde_json::json!({"_index": "", "_id": "", "_source": {}, "missing": true})
    );
    assert!(lines[0]["events"][0].get("missing").is_none());
}

#[test]
fn unsorted_input_is_noticed_even_when_head_is_full() {
    let input = "{\"@timestamp\":5,\"id\":\"late\"}\n{\"@timestamp\":1,\"id\":\"early\"}\n";
    let out = quarry(
        &["query", "--format", "ndjson", "any where true | head 1"],
        input.as_bytes(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"early\""), "{stdout}");
}

#[test]
fn the_tiebreaker_orders_events_with_equal_timestamps() {
    let input =
        "{\"@timestamp\":1,\"tb\":2,\"x\":\"B\"}\n{\"@timestamp\":1,\"tb\":1,\"x\":\"A\"}\n";
    let out = quarry(
        &[
            "query",
            "--format",
            "ndjson",
            "--tiebreaker-field",
            "tb",
            "sequence [any where x == \"A\"] [any where x == \"B\"]",
        ],
        input.as_bytes(),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_empty_sequence_result_is_under_sequences() {
    let out = quarry(
        &["query", "sequence [any where x == 1] [any where x == 2]"],
        b"{\"@timestamp\":1,\"x\":3}\n",
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["hits"]["sequences"], serde_json::json!([]));
    assert!(body["hits"].get("events").is_none());
}

/// `n` NDJSON events one second apart, `user{i % 3}` acting; `matching` of every 1 carries
/// `event.action: "hit"`.
fn numbered_events(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "{{\"@timestamp\":{},\"n\":{i},\"user\":{{\"name\":\"user{}\"}},\"event\":{{\"action\":\"{}\"}}}}",
                1_700_000_000_000u64 + i as u64 * 1000,
                i % 3,
                if i % 2 == 0 { "hit" } else { "miss" },
            )
        })
        .collect()
}

fn ndjson_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn a_query_is_read_from_a_file_and_every_positional_is_an_input() {
    let query = temp_file(
        "page_viewed.eql",
        "web where\n  event.action == \"page_viewed\"\n",
    );
    let events = temp_file("query_file_events.ndjson", EVENTS);
    let events = events.to_str().unwrap();
    for flag in ["-f", "--query-file"] {
        let out = quarry(
            &[
                "query",
                "--format",
                "ndjson",
                flag,
                query.to_str().unwrap(),
                events,
                events,
            ],
            b"",
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = ndjson_lines(&out.stdout);
        // Both positionals are inputs: two views in each.
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["_id"], "1");
    }
}

#[test]
fn an_error_in_a_query_file_points_at_its_line_and_column() {
    let query = temp_file(
        "bad.eql",
        "any where\n  event.action == \"page_viewed\"\n  and user.name = \"alice\"\n",
    );
    let out = quarry(&["query", "-f", query.to_str().unwrap()], EVENTS.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("--> {}:3:17", query.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 |   and user.name = \"alice\""),
        "{stderr}"
    );
    let caret = stderr
        .lines()
        .find(|l| l.trim_end().ends_with('^'))
        .expect("a caret line");
    assert_eq!(
        caret.find('^'),
        Some("3 |   and user.name ".len()),
        "{stderr}"
    );
}

#[test]
fn a_query_file_holds_a_query_of_thousands_of_terms() {
    let mut query = String::from("any where n == -1");
    for i in 0..2000 {
        query.push_str(&format!("\n  or n == {}", i * 7));
    }
    let path = temp_file("big.eql", &query);
    let input: String = numbered_events(300)
        .iter()
        .map(|l| l.clone() + "\n")
        .collect();
    let out = quarry(
        &["query", "--format", "count", "-f", path.to_str().unwrap()],
        input.as_bytes(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // n = 0, 7, ..., 294.
    assert_eq!(String::from_utf8_lossy(&out.stdout), "43\n");
}

#[test]
fn json_returns_elasticsearchs_default_size_of_10() {
    let input: String = numbered_events(30)
        .iter()
        .map(|l| l.clone() + "\n")
        .collect();
    let query = "any where event.action == \"hit\"";
    let out = quarry(&["query", query], input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = body["hits"]["events"].as_array().unwrap();
    let ns: Vec<u64> = events
        .iter()
        .map(|e| e["_source"]["n"].as_u64().unwrap())
        .collect();
    assert_eq!(ns, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    // Elasticsearch's `hits.total` counts the results it returns (`Results.fromPayload`).
    assert_eq!(
        body["hits"]["total"],
        serde_json::json!({"value": 10, "relation": "eq"})
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("30 events read, 15 events matched, 10 returned (--size)"),
        "{stderr}"
    );

    // An explicit size wins; the other formats return everything by default.
    let out = quarry(&["query", "--size", "12", query], input.as_bytes());
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["hits"]["events"].as_array().unwrap().len(), 12);
    assert_eq!(body["hits"]["total"]["value"], 12);
    let out = quarry(&["query", "--format", "ndjson", query], input.as_bytes());
    assert_eq!(ndjson_lines(&out.stdout).len(), 15);
    let out = quarry(&["query", "--format", "count", query], input.as_bytes());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "15\n");
    let out = quarry(
        &["query", "--format", "count", "--size", "4", query],
        input.as_bytes(),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "4\n");
}

#[test]
fn ndjson_streams_every_result_of_a_large_input_in_order() {
    let lines = numbered_events(20_000);
    let path = temp_file("many.ndjson", &(lines.join("\n") + "\n"));
    let out = quarry(
        &[
            "query",
            "--format",
            "ndjson",
            "any where true",
            path.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("not sorted"), "{stderr}");
    let hits = ndjson_lines(&out.stdout);
    assert_eq!(hits.len(), 20_000);
    for (i, hit) in hits.iter().enumerate() {
        assert_eq!(hit["_id"], (i + 1).to_string());
        assert_eq!(hit["_source"]["n"], i as u64);
    }

    // Sequences stream too: with runs=3 each user's every third event closes one.
    let out = quarry(
        &[
            "query",
            "--format",
            "ndjson",
            "sequence by user.name [any where true] with runs=3",
            path.to_str().unwrap(),
        ],
        b"",
    );
    let sequences = ndjson_lines(&out.stdout);
    // Overlapping matches: every event from each user's third one on ends a sequence.
    assert_eq!(sequences.len(), 20_000 - 3 * 2);
    assert_eq!(sequences[0]["join_keys"], serde_json::json!(["user0"]));
}

#[test]
fn a_streamed_table_keeps_its_columns_past_the_rows_that_size_them() {
    let input: String = numbered_events(2500)
        .iter()
        .map(|l| l.clone() + "\n")
        .collect();
    let out = quarry(
        &["query", "--format", "table", "any where user.name != null"],
        input.as_bytes(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(rows.len(), 2501);
    assert!(rows[0].starts_with("#     @timestamp"), "{}", rows[0]);
    // Every row's user column starts where the header's does.
    let column = rows[0].find("user.name").unwrap();
    for row in &rows[1..] {
        assert_eq!(&row[column..column + 4], "user", "{row}");
    }
    assert!(rows[2500].starts_with("2500  "));
}

#[test]
fn unsorted_input_in_several_files_gives_the_sorted_results_in_every_format() {
    let lines = numbered_events(3000);
    // Interleave out of order across two files.
    let mut a = Vec::new();
    let mut b = Vec::new();
    for (i, line) in lines.iter().enumerate().rev() {
        if i % 5 < 2 {
            a.push(line.clone())
        } else {
            b.push(line.clone())
        }
    }
    let a = temp_file("unsorted_a.ndjson", &(a.join("\n") + "\n"));
    let b = temp_file("unsorted_b.ndjson", &(b.join("\n") + "\n"));
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let sorted = temp_file("sorted.ndjson", &(lines.join("\n") + "\n"));
    let sorted = sorted.to_str().unwrap();
    let sources = |stdout: &[u8]| -> Vec<serde_json::Value> {
        ndjson_lines(stdout)
            .into_iter()
            .map(|hit| match hit.get("events") {
                Some(events) => events
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["_source"]["n"].clone())
                    .collect(),
                None => hit["_source"]["n"].clone(),
            })
            .collect()
    };
    for query in [
        "any where event.action == \"hit\"",
        "sequence by user.name [any where event.action == \"hit\"] [any where true] with runs=2",
        "any where true | tail 7",
    ] {
        let expected = quarry(&["query", "--format", "ndjson", query, sorted], b"");
        let out = quarry(&["query", "--format", "ndjson", query, a, b], b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("input is not sorted"), "{stderr}");
        assert!(!sources(&expected.stdout).is_empty());
        assert_eq!(sources(&out.stdout), sources(&expected.stdout), "{query}");

        let expected = quarry(&["query", "--format", "count", query, sorted], b"");
        let out = quarry(&["query", "--format", "count", query, a, b], b"");
        assert_eq!(out.stdout, expected.stdout, "{query}");

        // `json` runs at once and starts again sorted when the order breaks.
        let body = |out: Output| -> serde_json::Value {
            let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            body["hits"].clone()
        };
        let expected = body(quarry(&["query", "--size", "50", query, sorted], b""));
        let out = body(quarry(&["query", "--size", "50", query, a, b], b""));
        assert_eq!(out["total"], expected["total"], "{query}");
        // The `n` of every event, in order, whether events or sequences were returned.
        let ns = |hits: &serde_json::Value| -> Vec<serde_json::Value> {
            let list = hits.get("events").or(hits.get("sequences")).unwrap();
            let lines: Vec<u8> = list
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|hit| serde_json::to_vec(hit).unwrap().into_iter().chain([b'\n']))
                .collect();
            sources(&lines)
        };
        assert_eq!(ns(&out), ns(&expected), "{query}");
    }
}

#[test]
fn an_unsorted_json_array_is_sorted() {
    let mut docs: Vec<serde_json::Value> = numbered_events(50)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    docs.reverse();
    let path = temp_file(
        "unsorted_array.json",
        &serde_json::to_string(&docs).unwrap(),
    );
    let out = quarry(
        &[
            "query",
            "--format",
            "ndjson",
            "any where event.action == \"hit\"",
            path.to_str().unwrap(),
        ],
        b"",
    );
    let hits = ndjson_lines(&out.stdout);
    let ns: Vec<u64> = hits
        .iter()
        .map(|h| h["_source"]["n"].as_u64().unwrap())
        .collect();
    assert_eq!(ns, (0..50).step_by(2).collect::<Vec<u64>>());
    // `_id` is the element's place in the array.
    assert_eq!(hits[0]["_id"], "50");
}
