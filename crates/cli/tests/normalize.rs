//! `quarry normalize` as a user runs it: mixed inputs, compression, malformed records.

mod common;
use common::dir;

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

const LOG: &str = "\
[01/May/2024:12:00:05 +0000] alice http-nio-8090-exec-1 10.0.0.7 GET /display/OPS/VPN+Setup HTTP/1.1 200 30ms 5120 - Mozilla/5.0 (X11)
[01/May/2024:12:00:01 +0000] alice http-nio-8090-exec-2 10.0.0.7 GET /s/en_GB/1/_/x.js HTTP/1.1 200 2ms 900 - Mozilla/5.0 (X11)
this is not an access log line
[01/May/2024:12:00:02 +0000] - http-nio-8090-exec-3 10.0.0.9 GET /rest/api/content/search?cql=text~%22password%22 HTTP/1.1 200 40ms 700 - python-requests/2.31.0
";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    child.wait_with_output().unwrap().stdout
}

#[test]
fn a_directory_of_mixed_inputs_is_detected_per_file_and_time_ordered() {
    let d = dir("normalize-mixed");
    std::fs::write(d.join("conf_access_log.2024-05-01.log"), LOG).unwrap();
    // A gzip file whose name does not say so.
    std::fs::write(d.join("older.log"), gzip(LOG.as_bytes())).unwrap();
    std::fs::write(
        d.join("events.ndjson"),
        "{\"@timestamp\":\"2024-05-01T11:00:00Z\",\"event\":{\"dataset\":\"atlassian.confluence\",\"action\":\"page_viewed\"}}\n",
    )
    .unwrap();
    let out = quarry(&["normalize", d.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let name = |f: &str| d.join(f).display().to_string();
    assert!(
        stderr.contains(&format!(
            "{}: access-log, 4 records, 2 events, 1 skipped (noise 1), 1 malformed\n  {}:3: expected `[dd/MMM/yyyy:HH:mm:ss +zzzz]` at the start of the line",
            name("conf_access_log.2024-05-01.log"),
            name("conf_access_log.2024-05-01.log")
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{}: access-log (gzip), 4 records, 2 events",
            name("older.log")
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{}: ecs-ndjson, 1 records, 1 events",
            name("events.ndjson")
        )),
        "{stderr}"
    );
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 5);
    // Within the access log the search (12:00:02) comes before the page view (12:00:05).
    let log_events: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e.get("url").is_some())
        .take(2)
        .collect();
    assert_eq!(log_events[0]["event"]["action"], "search_performed");
    assert_eq!(log_events[0]["message"], "password");
    assert!(
        log_events[0].get("user").is_none(),
        "anonymous: no user.name"
    );
    assert_eq!(log_events[1]["event"]["action"], "page_viewed");
    assert_eq!(log_events[1]["confluence"]["space"]["key"], "OPS");
    assert_eq!(log_events[1]["confluence"]["content"]["title"], "VPN Setup");
}

#[test]
fn strict_stops_at_the_first_malformed_record() {
    let d = dir("normalize-strict");
    let f = d.join("access.log");
    std::fs::write(&f, LOG).unwrap();
    let out = quarry(&["normalize", "--strict", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("error: {}:3: expected", f.display())),
        "{stderr}"
    );
}

#[test]
fn an_overlong_line_is_one_malformed_record() {
    let d = dir("normalize-long");
    let f = d.join("access.log");
    let long = format!("[01/May/2024:12:00:00 +0000] {}\n", "x".repeat(5000));
    std::fs::write(&f, format!("{long}{}", LOG.lines().next().unwrap())).unwrap();
    let out = quarry(&["normalize", "--max-line-bytes", "1000", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 events, 0 skipped, 1 malformed"),
        "{stderr}"
    );
    assert!(
        stderr.contains(":1: line of 5030 bytes exceeds the limit of 1000 bytes"),
        "{stderr}"
    );
}

#[test]
fn a_csv_export_of_cloudapp_events_with_quoted_multiline_fields() {
    let d = dir("normalize-csv");
    let csv = "Timestamp,ActionType,Application,AccountDisplayName,IPAddress,RawEventData\n\
2024-05-01T12:00:00Z,PageViewed,Atlassian,Mallory,203.0.113.7,\"{\"\"a\"\": 1,\n \"\"b\"\": 2}\"\n\
2024-05-01T12:00:01Z,FileDownloaded,Microsoft SharePoint Online,Bob,198.51.100.2,{}\n\
2024-05-01T12:00:02Z,,Atlassian,Mallory,203.0.113.7,{}\n";
    std::fs::write(d.join("a.csv"), csv).unwrap();
    let out = quarry(&["normalize", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a.csv: cloudapp-events, 3 records, 1 events, 1 skipped (other application 1), 1 malformed"),
        "{stderr}"
    );
    assert!(stderr.contains("a.csv:5: no `ActionType`"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["event"]["action"], "page_viewed");
    assert_eq!(doc["user"]["name"], "Mallory");
}

#[test]
fn unknown_formats_and_missing_paths_say_what_to_do() {
    let d = dir("normalize-unknown");
    let f = d.join("notes.txt");
    std::fs::write(&f, "hello\n").unwrap();
    let out = quarry(&["normalize", f.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("cannot tell the format from the first line; name it with --format")
    );
    let out = quarry(&["normalize", "/nonexistent/*.log"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no such file or directory, and no file matches it as a pattern")
    );
    let out = quarry(&["normalize", "--format", "csv", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("unknown format `csv`; expected one of ecs-ndjson")
    );
}

#[test]
fn elasticsearch_response_bodies_yield_their_hits_sources() {
    let d = dir("normalize-responses");
    let search = r#"{"took":3,"hits":{"total":{"value":2},"hits":[{"_index":"logs","_id":"a","_source":{"@timestamp":"2024-05-01T12:00:02Z","event":{"action":"page_viewed"}}},{"_index":"logs","_id":"b","_source":{"@timestamp":"2024-05-01T12:00:01Z","event":{"action":"space_viewed"}}}]}}"#;
    let eql = r#"{"is_partial":false,"hits":{"sequences":[{"join_keys":["alice"],"events":[{"_source":{"@timestamp":"2024-05-01T12:00:03Z","event":{"action":"search_performed"}}}]}]}}"#;
    let f = d.join("responses.ndjson");
    std::fs::write(&f, format!("{search}\n{eql}\n")).unwrap();
    let out = quarry(&["normalize", "--format", "ecs-ndjson", f.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let actions: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        actions,
        ["space_viewed", "page_viewed", "search_performed"],
        "time-ordered sources"
    );
}

#[test]
fn forwarded_for_is_believed_only_behind_a_trusted_proxy() {
    let d = dir("normalize-xff");
    let f = d.join("access.log");
    std::fs::write(
        &f,
        "[17/Jun/2021:12:57:26 +0200] 192.168.1.15 testuser http-nio-8080-exec-6 0:0:0:0:0:0:0:1 GET /index.action HTTP/1.1 200 1020ms 7881 http://localhost/ Mozilla/5.0\n",
    )
    .unwrap();
    let ip = |args: &[&str]| -> String {
        let out = quarry(args);
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["source"]["ip"].as_str().unwrap().to_string()
    };
    assert_eq!(
        ip(&["normalize", f.to_str().unwrap()]),
        "0:0:0:0:0:0:0:1",
        "not trusted: the peer"
    );
    assert_eq!(
        ip(&["normalize", "--trusted-proxy", "::1", f.to_str().unwrap()]),
        "192.168.1.15"
    );
    let out = quarry(&[
        "normalize",
        "--trusted-proxy",
        "10.0.0.0/33",
        f.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`10.0.0.0/33` is not an IP address or CIDR block")
    );
}

#[test]
fn every_supported_format_normalizes_end_to_end() {
    // One real-format record per format, each detected from its content alone.
    let d = dir("normalize-every-format");
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ingest/tests/fixtures");
    for (name, from) in [
        ("1", "access-default.log"),
        ("2", "dc-audit-file.log"),
        ("3", "dc-audit-rest.log"),
        ("4", "cloud-audit.log"),
    ] {
        std::fs::copy(fixtures.join(from), d.join(name)).unwrap();
    }
    let compact = |f: &str| {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixtures.join(f)).unwrap()).unwrap();
        format!("{v}\n")
    };
    std::fs::write(d.join("5"), compact("elastic-integration-sample.json")).unwrap();
    std::fs::write(d.join("6"), compact("org-audit-event.json")).unwrap();
    std::fs::write(
        d.join("7"),
        "203.0.113.7 - alice [01/May/2024:12:00:00 +0000] \"GET /rest/api/space HTTP/1.1\" 200 5120 \"-\" \"curl/8\"\n",
    )
    .unwrap();
    std::fs::write(
        d.join("8"),
        "[{\"Timestamp\":\"2024-05-01T12:00:00Z\",\"ActionType\":\"PageViewed\",\"Application\":\"Atlassian\",\"AccountDisplayName\":\"Mallory\",\"IPAddress\":\"203.0.113.7\"},{\"Timestamp\":\"2024-05-01T12:00:01Z\",\"ActionType\":\"FileDownloaded\",\"Application\":\"Microsoft SharePoint Online\"}]\n",
    )
    .unwrap();
    let out = quarry(&["normalize", d.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for (file, format, events) in [
        ("1", "access-log", 1),
        ("2", "dc-audit", 4),
        ("3", "dc-audit", 3),
        ("4", "cloud-audit", 37),
        ("5", "elastic-integration", 1),
        ("6", "org-audit", 1),
        ("7", "proxy-log", 1),
        ("8", "cloudapp-events", 1),
    ] {
        let expected = format!("{}: {format}, ", d.join(file).display());
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&expected))
            .unwrap_or_else(|| panic!("no summary for {file}: {stderr}"));
        assert!(line.contains(&format!(" {events} events,")), "{line}");
    }
    let cloudapp = format!(
        "{}: cloudapp-events, 1 records, 1 events, 1 skipped (other application 1)",
        d.join("8").display()
    );
    assert!(stderr.contains(&cloudapp), "{stderr}");
}

#[test]
fn access_logs_with_another_valve_pattern() {
    let d = dir("normalize-pattern");
    let f = d.join("access.log");
    std::fs::write(
        &f,
        "10.0.0.7 [01/May/2024:12:00:00 +0000] GET /rest/api/space 200 12 curl/8.5.0\n",
    )
    .unwrap();
    let out = quarry(&[
        "normalize",
        "--format",
        "access-log",
        "--access-log-pattern",
        "%a %t %m %U%q %s %D %{User-Agent}i",
        f.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["event"]["action"], "space_viewed");
    let out = quarry(&[
        "normalize",
        "--access-log-pattern",
        "%h %Z",
        f.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown pattern code `%Z`"));
}
