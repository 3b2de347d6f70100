//! `normalize_to` hands each event to its sink with the time and user hash a router needs,
//! and they agree with the document it writes.

use std::io::Write;

use quarry_ingest::normalize::{EventSink, Options, normalize, normalize_to};
use quarry_ingest::read::Input;

#[derive(Default)]
struct Recorded(Vec<(i64, u64, String)>, Vec<u64>);

impl EventSink for Recorded {
    fn event(
        &mut self,
        timestamp: i64,
        user_hash: u64,
        line: u64,
        document: &str,
    ) -> std::io::Result<()> {
        self.0.push((timestamp, user_hash, document.to_string()));
        self.1.push(line);
        Ok(())
    }
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn user_of(document: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(document).unwrap();
    let user = json
        .pointer("/user/name")
        .or_else(|| json.get("user.name"))?;
    match user {
        serde_json::Value::Array(items) => items.first().map(|u| u.as_str().unwrap().to_string()),
        u => Some(u.as_str().unwrap().to_string()),
    }
}

#[test]
fn every_event_carries_its_time_and_user_hash() {
    for fixture in ["access-default.log", "dc-audit-file.log", "cloud-audit.log"] {
        let path = format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
        let input = Input::File(path.into());
        let mut sink = Recorded::default();
        let report = normalize_to(&input, &Options::default(), &mut sink).unwrap();
        assert!(!sink.0.is_empty(), "{fixture}");
        assert_eq!(report.emitted, sink.0.len() as u64, "{fixture}");
        assert_eq!(report.multi_valued_users, 0, "{fixture}");
        // The same documents, in the same order, as the NDJSON writer gives.
        let mut ndjson = Vec::new();
        normalize(&input, &Options::default(), &mut ndjson).unwrap();
        let lines: Vec<&str> = std::str::from_utf8(&ndjson).unwrap().lines().collect();
        let documents: Vec<&str> = sink.0.iter().map(|(_, _, d)| d.as_str()).collect();
        assert_eq!(lines, documents, "{fixture}");
        for (ts, hash, document) in &sink.0 {
            let json: serde_json::Value = serde_json::from_str(document).unwrap();
            let time = quarry_event::Timestamp::from_json(&json["@timestamp"]).unwrap();
            assert_eq!(*ts, time.nanos(), "{fixture}: {document}");
            let want = user_of(document).map_or(0, |u| quarry_event::key_hash(&u));
            assert_eq!(*hash, want, "{fixture}: {document}");
        }
    }
}

#[test]
fn ecs_users_hash_by_their_first_value_and_several_values_are_counted() {
    let f = file(concat!(
        r#"{"@timestamp":"2026-11-23T10:00:00Z","user":{"name":"alice"}}"#,
        "\n",
        r#"{"@timestamp":"2026-11-23T10:00:01Z","user.name":["bob","carol"]}"#,
        "\n",
        r#"{"@timestamp":"2026-11-23T10:00:02Z","source":{"ip":"10.0.0.1"}}"#,
        "\n",
        r#"{"@timestamp":"2026-11-23T10:00:03Z","user":{"name":7}}"#,
        "\n",
    ));
    let mut sink = Recorded::default();
    let report = normalize_to(
        &Input::File(f.path().to_path_buf()),
        &Options::default(),
        &mut sink,
    )
    .unwrap();
    let hashes: Vec<u64> = sink.0.iter().map(|(_, h, _)| *h).collect();
    let h = quarry_event::key_hash;
    assert_eq!(hashes, vec![h("alice"), h("bob"), 0, h("7")]);
    assert_eq!(report.multi_valued_users, 1);
    assert_eq!(sink.1, [1, 2, 3, 4], "each event knows its line");
}

#[test]
fn events_written_out_of_order_keep_their_own_line_numbers() {
    let f = file(concat!(
        r#"{"@timestamp":"2026-11-23T10:00:05Z","user":{"name":"a"}}"#,
        "\n\n",
        r#"{"@timestamp":"2026-11-23T10:00:01Z","user":{"name":"b"}}"#,
        "\n",
    ));
    let mut sink = Recorded::default();
    normalize_to(
        &Input::File(f.path().to_path_buf()),
        &Options::default(),
        &mut sink,
    )
    .unwrap();
    assert_eq!(
        sink.1,
        [3, 1],
        "reordered by time, each with its line (a blank one between)"
    );
}
