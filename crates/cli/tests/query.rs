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
    child.stdin.take().unwrap().write_all(stdin).unwrap();
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
