//! `quarry_pipeline::run` end to end: inputs in memory and on disk, bad records, sinks,
//! and the same alerts whatever the number of workers.

use std::path::Path;
use std::sync::Arc;

use quarry_ingest::read::Input;
use quarry_pipeline::{AlertSink, Config, CsvSink, NdjsonSink, Quiet, TableSink, run};
use quarry_rules::{Alert, LoadOptions, Rule};

fn pack() -> Vec<Rule> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/confluence");
    let options = LoadOptions {
        known_fields: Some(
            quarry_ingest::ecs::FIELDS
                .iter()
                .map(|f| f.to_string())
                .collect(),
        ),
    };
    quarry_rules::load_dir(&dir, &options).unwrap()
}

fn bytes(name: &str, text: String) -> Input {
    Input::Bytes {
        name: name.to_string(),
        data: Arc::from(text.into_bytes()),
    }
}

/// `n` page views of `user` from one address, one every 30 s from 10:00, as ECS NDJSON.
fn views(user: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                concat!(
                    r#"{{"@timestamp":"2026-11-23T10:{:02}:{:02}Z","event":{{"dataset":"atlassian.confluence","#,
                    r#""action":"page_viewed","category":["web"]}},"user":{{"name":"{}"}},"#,
                    r#""source":{{"ip":"203.0.113.50"}},"url":{{"path":"/display/ENG/Page{}"}}}}"#
                ),
                i / 2,
                (i % 2) * 30,
                user,
                i
            )
        })
        .collect()
}

fn hunt(inputs: Vec<Input>, threads: usize) -> (Vec<Alert>, quarry_pipeline::Summary) {
    let mut config = Config::new(pack(), inputs);
    config.threads = threads;
    let mut alerts = Vec::new();
    let summary = run(config, &mut alerts, &Quiet).unwrap();
    (alerts, summary)
}

fn bulk(alerts: &[Alert]) -> Vec<&Alert> {
    alerts
        .iter()
        .filter(|a| a.rule_name == "Bulk Confluence Data Mining")
        .collect()
}

#[test]
fn a_burst_in_memory_raises_the_bulk_mining_alert() {
    let mut lines = views("mallory", 45);
    lines.push(String::new());
    let (alerts, summary) = hunt(vec![bytes("burst", lines.join("\n"))], 1);
    let bulk = bulk(&alerts);
    assert_eq!(bulk.len(), 1, "{alerts:#?}");
    assert_eq!(bulk[0].user.as_deref(), Some("mallory"));
    assert_eq!(bulk[0].event_count, 45);
    assert_eq!(
        bulk[0].match_count, 6,
        "runs=40 over 45 events: 45 - 39 matches"
    );
    assert_eq!(summary.stats.events, 45);
    assert_eq!(summary.inputs[0].emitted, 45);
    assert_eq!(summary.malformed(), 0);
}

/// A number out of range in a field the pack reads (`url.path`) cannot be decoded: that
/// record is one malformed record, quoted with its line, and the hunt goes on.
#[test]
fn a_record_the_rules_cannot_decode_is_one_malformed_record() {
    let mut lines = views("mallory", 45);
    lines[1] = lines[1].replace(r#""/display/ENG/Page1""#, "1e400");
    let text = lines.join("\n") + "\n";
    for threads in [1, 2] {
        let (alerts, summary) = hunt(vec![bytes("events.ndjson", text.clone())], threads);
        let report = &summary.inputs[0];
        assert_eq!(report.malformed, 1, "{report:?}");
        assert_eq!(report.emitted, 44);
        assert_eq!(report.first_errors.len(), 1);
        assert!(
            report.first_errors[0].starts_with("events.ndjson:2: not JSON: number out of range"),
            "{:?}",
            report.first_errors
        );
        assert_eq!(summary.stats.events, 44);
        let bulk = bulk(&alerts);
        assert_eq!(bulk.len(), 1, "the other 44 events still alert");
        assert_eq!(bulk[0].event_count, 44);
    }
}

/// Records malformed for the normalizer and records the rules cannot decode are quoted
/// together, the first ones by line, whichever stage found them.
#[test]
fn the_malformed_records_quoted_are_the_first_by_line() {
    let mut lines = views("mallory", 45);
    for i in [1, 2] {
        lines[i] = lines[i].replace(r#""/display/ENG/Page"#, "1e400,\"x\":\"");
    }
    for line in lines.iter_mut().take(9).skip(3) {
        *line = "not json".to_string();
    }
    let text = lines.join("\n") + "\n";
    for threads in [1, 2] {
        let (_, summary) = hunt(vec![bytes("events.ndjson", text.clone())], threads);
        let report = &summary.inputs[0];
        assert_eq!(report.malformed, 8, "{report:?}");
        let quoted: Vec<&str> = report
            .first_errors
            .iter()
            .map(|q| q.split(": ").next().unwrap())
            .collect();
        assert_eq!(
            quoted,
            [
                "events.ndjson:2",
                "events.ndjson:3",
                "events.ndjson:4",
                "events.ndjson:5",
                "events.ndjson:6"
            ],
            "{:?}",
            report.first_errors
        );
    }
}

#[test]
fn unreadable_inputs_are_reported_and_the_rest_is_hunted() {
    let missing = Input::File("/nonexistent/quarry/access.log".into());
    let notes = bytes("notes.txt", "shopping list: milk\n".to_string());
    let burst = bytes("burst", views("mallory", 45).join("\n"));
    let (alerts, summary) = hunt(vec![missing, notes, burst], 1);
    assert_eq!(bulk(&alerts).len(), 1);
    assert_eq!(summary.unreadable.len(), 2, "{:?}", summary.unreadable);
    // Only the one lost to an I/O error makes the run incomplete.
    let lost = summary.lost_inputs();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert!(
        lost[0].contains("/nonexistent/quarry/access.log"),
        "{lost:?}"
    );
    assert!(
        summary
            .unreadable
            .iter()
            .any(|u| !u.io && u.message.contains("notes.txt: cannot tell the format")),
        "{:?}",
        summary.unreadable
    );
}

#[test]
fn no_readable_input_is_an_error() {
    let config = Config::new(pack(), vec![bytes("notes.txt", "milk\n".to_string())]);
    let err = run(config, &mut Vec::new(), &Quiet).unwrap_err();
    assert!(matches!(err, quarry_pipeline::PipelineError::NoInput(ref u) if u.len() == 1));
}

#[test]
fn workers_split_by_user_give_the_alerts_of_one() {
    // Several users in one input, interleaved.
    let mut lines = Vec::new();
    for user in ["mallory", "eve", "trent", "peggy", "victor"] {
        lines.extend(views(user, 41));
    }
    lines.sort_by(|a, b| a[..40].cmp(&b[..40]));
    let text = lines.join("\n");
    let (one, s1) = hunt(vec![bytes("mixed", text.clone())], 1);
    let (two, s2) = hunt(vec![bytes("mixed", text.clone())], 2);
    let (three, s3) = hunt(vec![bytes("mixed", text)], 3);
    assert_eq!(bulk(&one).len(), 5);
    // The alert documents, evidence included (an alert's spool handle differs by worker).
    let rules = s1.rules.clone();
    let show = |alerts: &[Alert]| -> Vec<String> {
        alerts
            .iter()
            .map(|a| a.to_json(&rules[a.rule]).to_string())
            .collect()
    };
    assert_eq!(show(&one), show(&two));
    assert_eq!(show(&one), show(&three));
    assert_eq!(s1.render(), s2.render());
    assert_eq!(s1.render(), s3.render());
    assert_eq!((s1.workers, s2.workers, s3.workers), (1, 2, 3));
}

#[test]
fn the_sinks_write_what_they_are_given() {
    let (alerts, summary) = hunt(vec![bytes("burst", views("mallory", 45).join("\n"))], 1);
    assert!(!alerts.is_empty());
    let mut ndjson = Vec::new();
    let mut csv = Vec::new();
    let mut table = Vec::new();
    {
        let mut sinks: Vec<Box<dyn AlertSink + '_>> = vec![
            Box::new(NdjsonSink(&mut ndjson)),
            Box::new(CsvSink::new(&mut csv)),
            Box::new(TableSink::new(&mut table, false)),
        ];
        for sink in &mut sinks {
            for a in &alerts {
                sink.alert(a.clone(), &summary.rules[a.rule]).unwrap();
            }
            sink.finish().unwrap();
        }
    }
    let ndjson = String::from_utf8(ndjson).unwrap();
    assert_eq!(ndjson.lines().count(), alerts.len());
    for line in ndjson.lines() {
        let doc: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(doc["event"]["kind"], "alert");
    }
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("severity,timestamp,rule_id,"), "{csv}");
    assert_eq!(csv.lines().count(), alerts.len() + 1);
    let table = String::from_utf8(table).unwrap();
    assert!(table.starts_with("SEVERITY "), "{table}");
    assert_eq!(table.lines().count(), 1 + 2 * alerts.len());

    // Without alerts: the CSV header alone, and the table says so.
    let mut csv = Vec::new();
    CsvSink::new(&mut csv).finish().unwrap();
    assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 1);
    let mut table = Vec::new();
    TableSink::new(&mut table, false).finish().unwrap();
    assert_eq!(String::from_utf8(table).unwrap(), "No alerts.\n");
}

/// Events pushed one at a time raise the alerts the batch run raises from the same file.
#[test]
fn the_incremental_form_agrees_with_the_batch_run() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for file in ["confluence-access.log", "confluence-audit.log"] {
        let input = Input::File(examples.join(file));
        let (batch, summary) = hunt(vec![input.clone()], 1);
        assert!(!batch.is_empty(), "{file} raises alerts");

        let (mut live, _) =
            quarry_pipeline::Incremental::new(pack(), Default::default(), Default::default())
                .unwrap();
        let options = quarry_ingest::normalize::Options::default();
        quarry_ingest::normalize::normalize_to(&input, &options, &mut live).unwrap();
        let mut alerts = live.take_alerts();
        let (rest, live_summary) = live.finish();
        alerts.extend(rest);
        alerts.sort_by(quarry_rules::alert::report_order);

        let rules = &summary.rules;
        let docs = |alerts: &[Alert]| -> Vec<String> {
            alerts
                .iter()
                .map(|a| a.to_json(&rules[a.rule]).to_string())
                .collect()
        };
        assert_eq!(docs(&batch), docs(&alerts), "{file}");
        assert_eq!(live_summary.stats, summary.stats, "{file}");
        assert_eq!(live_summary.counts, summary.counts, "{file}");
        assert_eq!(live_summary.late, 0);
    }
}

#[test]
fn the_incremental_form_counts_late_and_undecodable_events() {
    let (mut live, _) =
        quarry_pipeline::Incremental::new(pack(), Default::default(), Default::default()).unwrap();
    let lines = views("mallory", 3);
    live.push(1, &lines[2]).unwrap();
    live.push(2, &lines[0]).unwrap(); // earlier than the one before: late
    live.push(
        3,
        r#"{"@timestamp":"2026-11-23T10:05:00Z","url":{"path":1e400}}"#,
    )
    .unwrap();
    let (_, s) = live.finish();
    assert_eq!(s.stats.events, 1);
    assert_eq!(s.late, 1);
    assert_eq!(s.undecodable, 1);
    assert_eq!(s.first_undecodable[0].0, 3);
}
