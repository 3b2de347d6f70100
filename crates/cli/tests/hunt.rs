//! `quarry hunt` as a user runs it: the README's command on examples/, the output formats,
//! tuning, and broken inputs among good ones.

mod common;
use common::{dir, repo};

use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;

/// Runs quarry from the repository root (where `quarry.toml` tunes the examples).
fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn alerts(out: &Output) -> Vec<Json> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (severity, rule name, user) of each alert, sorted.
fn who(alerts: &[Json]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = alerts
        .iter()
        .map(|a| {
            (
                a["kibana.alert.severity"].as_str().unwrap().to_string(),
                a["kibana.alert.rule.name"].as_str().unwrap().to_string(),
                a["user"]["name"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn t(s: &str, r: &str, u: &str) -> (String, String, String) {
    (s.into(), r.into(), u.into())
}

const BULK: &str = "Bulk Confluence Data Mining";
const TWIN: &str = "Bulk Confluence Data Mining (Threshold)";
const REST: &str = "Bulk Confluence Content Extraction over REST";
const ENUM: &str = "Confluence Space Enumeration by a Scripted Client";
const CRED: &str = "Confluence Credential Search";
const REPEAT: &str = "Repeated Sensitive Confluence Searches";
const HUNT: &str = "Confluence Sensitive Term Search (Hunt)";
const EXPORT: &str = "Confluence Space Export";

/// The README's main command finds the scraper, the credential hunter and the space exporter,
/// lowers the writer's and the new hire's alerts, drops the backup account, and nothing else
/// (examples/README.md explains each expectation).
#[test]
fn the_examples_raise_exactly_the_alerts_they_should() {
    let out = quarry(&["hunt", "--format", "ndjson", "examples/"]);
    let got = alerts(&out);
    assert_eq!(
        who(&got),
        [
            t("high", REST, "mallory"),
            t("high", EXPORT, "Trent Parker"),
            t("low", BULK, "nina"),
            t("low", BULK, "wendy"),
            t("low", TWIN, "nina"),
            t("low", TWIN, "wendy"),
            t("low", HUNT, "dave"),
            t("low", HUNT, "eve"),
            t("medium", BULK, "mallory"),
            t("medium", TWIN, "mallory"),
            t("medium", CRED, "eve"),
            t("medium", ENUM, "mallory"),
            t("medium", REPEAT, "eve"),
        ]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Tuning (quarry.toml): 9 events dropped before matching"),
        "{stderr}"
    );
    assert!(
        stderr.contains("allowlisted user svc-backup: 9"),
        "{stderr}"
    );
    // The lowered alerts say why.
    for a in &got {
        let user = a["user"]["name"].as_str().unwrap_or("");
        let reason = a["kibana.alert.reason"].as_str().unwrap();
        match user {
            "wendy" => assert!(reason.contains("documentation team"), "{reason}"),
            "nina" => assert!(reason.contains("onboarding"), "{reason}"),
            _ => assert!(!reason.contains("lowered"), "{reason}"),
        }
    }
    // The scraper's bulk alert: who, from where, how many of what, over how long.
    let bulk = got
        .iter()
        .find(|a| a["kibana.alert.rule.name"] == BULK && a["user"]["name"] == "mallory")
        .unwrap();
    assert_eq!(bulk["source"]["ip"], "203.0.113.50");
    assert_eq!(bulk["quarry"]["event_count"], 45);
    assert_eq!(
        bulk["quarry"]["actions"],
        serde_json::json!({"content_viewed": 32, "space_viewed": 7, "attachment_downloaded": 6})
    );
    assert!(
        bulk["kibana.alert.reason"]
            .as_str()
            .unwrap()
            .starts_with("mallory from 203.0.113.50 made 45 Confluence events (32 content_viewed, 7 space_viewed, 6 attachment_downloaded) in 24m 25s"),
        "{}",
        bulk["kibana.alert.reason"]
    );
}

#[test]
fn without_tuning_the_false_positives_show_at_full_severity() {
    let out = quarry(&["hunt", "--no-config", "--format", "ndjson", "examples/"]);
    let got = who(&alerts(&out));
    assert!(got.contains(&t("medium", BULK, "wendy")), "{got:?}");
    assert!(got.contains(&t("medium", BULK, "nina")), "{got:?}");
    assert!(got.contains(&t("high", EXPORT, "svc-backup")), "{got:?}");
    assert_eq!(got.len(), 14, "{got:?}");
}

#[test]
fn the_table_is_sorted_by_severity_and_ends_with_a_summary() {
    let out = quarry(&["hunt", "examples/"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let (table, summary) = text
        .split_once("\nInputs (")
        .expect("a summary after the table");
    let severities: Vec<&str> = table
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| ["low", "medium", "high", "critical"].contains(w))
        .collect();
    let rank = |s: &str| {
        ["critical", "high", "medium", "low"]
            .iter()
            .position(|x| *x == s)
    };
    assert!(
        severities.windows(2).all(|w| rank(w[0]) <= rank(w[1])),
        "{severities:?}"
    );
    assert_eq!(severities.len(), 13);
    let text = format!("Inputs ({summary}");
    for expected in [
        "Inputs (3):",
        "examples/confluence-access.log: access-log, 541 records, 239 events, 302 skipped (noise 302), 0 malformed",
        "top users: wendy 61, nina 47, mallory 45",
        "Alerts: 13",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
    // No colour codes when stdout is not a terminal.
    assert!(!text.contains('\x1b'));
}

#[test]
fn csv_min_severity_and_output_file() {
    let d = dir("hunt-csv");
    let file = d.join("alerts.csv");
    let out = quarry(&[
        "hunt",
        "--format",
        "csv",
        "--min-severity",
        "high",
        "-o",
        file.to_str().unwrap(),
        "examples/",
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let csv = std::fs::read_to_string(&file).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "severity,timestamp,rule_id,rule_name,user_name,source_ip,event_count,match_count,first_seen,last_seen,risk_score,reason"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows.iter().all(|r| r.starts_with("high,")), "{csv}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Alerts: 2 (11 below --min-severity not shown)"),
        "{stderr}"
    );
}

#[test]
fn no_suppress_prints_every_raw_match() {
    let out = quarry(&["hunt", "--no-suppress", "--format", "ndjson", "examples/"]);
    let got = alerts(&out);
    let mallory_bulk = got
        .iter()
        .filter(|a| a["kibana.alert.rule.name"] == BULK && a["user"]["name"] == "mallory")
        .count();
    // 45 events under runs=40 within the hour: 45 - 39 matches.
    assert_eq!(mallory_bulk, 6);
    assert!(got.iter().all(|a| a["quarry"]["match_count"] == 1));
}

#[test]
fn a_broken_file_among_good_ones_is_reported_and_the_rest_hunted() {
    let d = dir("hunt-broken");
    std::fs::copy(
        repo().join("examples/confluence-audit.log"),
        d.join("audit.log"),
    )
    .unwrap();
    // An access log with a malformed line in the middle.
    let access = "\
[23/Nov/2026:10:00:00 +0000] alice http-nio-8090-exec-1 10.0.0.7 GET /display/OPS/VPN HTTP/1.1 200 30ms 5120 - Mozilla/5.0 (X11)
this line is not an access log record
[23/Nov/2026:10:00:05 +0000] alice http-nio-8090-exec-2 10.0.0.7 GET /display/OPS/Home HTTP/1.1 200 30ms 5120 - Mozilla/5.0 (X11)
";
    std::fs::write(d.join("access.log"), access).unwrap();
    // A file in no known format.
    std::fs::write(d.join("notes.txt"), "shopping list: milk, eggs\n").unwrap();
    let out = quarry(&[
        "hunt",
        "--no-config",
        "--format",
        "ndjson",
        d.to_str().unwrap(),
    ]);
    let got = who(&alerts(&out));
    assert!(got.contains(&t("medium", CRED, "eve")), "{got:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Inputs (3, 1 unreadable):"), "{stderr}");
    assert!(
        stderr.contains("notes.txt: cannot tell the format from the first line"),
        "{stderr}"
    );
    assert!(stderr.contains("access.log:2: "), "{stderr}");
    assert!(stderr.contains("1 malformed records skipped"), "{stderr}");
}

#[test]
fn a_directory_without_files_says_so() {
    let d = dir("hunt-empty-dir");
    std::fs::write(d.join("README.md"), "notes\n").unwrap();
    let out = quarry(&["hunt", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no files to hunt in"), "{stderr}");
}

#[test]
fn no_readable_input_is_an_error() {
    let d = dir("hunt-nothing");
    std::fs::write(d.join("notes.txt"), "shopping list\n").unwrap();
    let out = quarry(&["hunt", d.join("notes.txt").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no input could be read"), "{stderr}");
}

#[test]
fn a_bad_rule_file_stops_the_hunt_with_its_place() {
    let d = dir("hunt-bad-rule");
    let good = std::fs::read_to_string(repo().join("rules/confluence/space_export.toml")).unwrap();
    let bad = good.replace("risk_score = 73", "risk_score = 10");
    std::fs::write(d.join("space_export.toml"), bad).unwrap();
    let rules = d.to_str().unwrap();
    for args in [
        vec!["hunt", "--rules", rules, "examples/"],
        vec!["rules", "validate", rules],
    ] {
        let out = quarry(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("risk_score 10 does not agree with severity `high` (48-73)"),
            "{stderr}"
        );
        assert!(stderr.contains("space_export.toml:"), "{stderr}");
        assert!(
            stderr.contains("risk_score = 10"),
            "the offending line is shown: {stderr}"
        );
    }
}

#[test]
fn a_bad_tuning_file_is_an_error_naming_it() {
    let d = dir("hunt-bad-tuning");
    let config = d.join("tuning.toml");
    std::fs::write(&config, "[rules.\"No Such Rule\"]\nthreshold = 5\n").unwrap();
    let out = quarry(&["hunt", "--config", config.to_str().unwrap(), "examples/"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`No Such Rule` names no loaded rule"),
        "{stderr}"
    );
}

#[test]
fn rules_list_shows_the_pack() {
    let out = quarry(&["rules", "list"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 9, "{text}");
    assert!(text.contains("T1213.001"));
    let out = quarry(&["rules", "validate"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "8 rules valid\n");
}

/// The README shows the main command's output; it must be what the command prints today.
#[test]
fn the_readme_shows_what_hunt_prints() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let after = readme
        .split_once("cargo run --release -- hunt examples/\n```\n\n```text\n")
        .expect("the README shows `hunt examples/` and its output")
        .1;
    let shown = after.split_once("\n```").unwrap().0;
    let out = quarry(&["hunt", "examples/"]);
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(shown, printed.trim_end_matches('\n'));
}

#[test]
fn a_truncated_compressed_file_is_hunted_up_to_the_cut() {
    use std::io::Write;
    let d = dir("hunt-truncated");
    let mut log = String::new();
    for i in 0..3000 {
        log.push_str(&format!(
            "[23/Nov/2026:10:{:02}:{:02} +0000] bob http-nio-8090-exec-1 10.0.0.2 GET /display/ENG/Page{i} HTTP/1.1 200 30ms 5120 - Mozilla/5.0 (X11)\n",
            i / 60 % 60,
            i % 60
        ));
    }
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(log.as_bytes())
        .unwrap();
    let gz = child.wait_with_output().unwrap().stdout;
    let path = d.join("access.log.gz");
    std::fs::write(&path, &gz[..gz.len() - 100]).unwrap();
    let out = quarry(&[
        "hunt",
        "--no-config",
        "--format",
        "ndjson",
        path.to_str().unwrap(),
    ]);
    // What was read is hunted and reported, and the exit status says the hunt is incomplete.
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Json> = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got = who(&lines);
    assert!(got.contains(&t("medium", BULK, "bob")), "{got:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: stopped reading after"), "{stderr}");
    assert!(
        stderr.contains("access.log.gz: stopped reading after")
            && stderr.contains("the hunt is incomplete: 1 input could not be read in full"),
        "{stderr}"
    );
}

#[test]
fn an_input_that_cannot_be_spooled_fails_the_run_and_says_why() {
    let d = dir("hunt-no-spool");
    let log = d.join("access.log");
    std::fs::write(
        &log,
        "[23/Nov/2026:10:00:00 +0000] bob http-nio-8090-exec-1 10.0.0.2 GET /display/ENG/P HTTP/1.1 200 30ms 5120 - Mozilla/5.0\n",
    )
    .unwrap();
    let examples = repo().join("examples");
    let out = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(["hunt", "--no-config", "-j", "1"])
        .arg(&examples)
        .arg(&log)
        .env("TMPDIR", d.join("no-such-directory"))
        .current_dir(repo())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    // Not an exit 0 with one input silently missing, nor the input blamed.
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write its normalized events to the temporary directory")
            && stderr.contains("no-such-directory")
            && stderr.contains("set TMPDIR"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no partial alerts are printed");
}

#[test]
fn a_record_the_rules_cannot_decode_is_quoted_and_the_hunt_goes_on() {
    let d = dir("hunt-undecodable");
    let file = d.join("events.ndjson");
    let mut text = String::new();
    for i in 0..45 {
        let path = if i == 1 {
            "1e400".to_string()
        } else {
            format!("\"/display/ENG/P{i}\"")
        };
        text.push_str(&format!(
            concat!(
                r#"{{"@timestamp":"2026-11-23T10:{:02}:{:02}Z","event":{{"dataset":"atlassian.confluence","action":"page_viewed"}},"#,
                r#""user":{{"name":"mallory"}},"source":{{"ip":"203.0.113.50"}},"url":{{"path":{}}}}}"#,
                "\n"
            ),
            i / 2,
            (i % 2) * 30,
            path
        ));
    }
    std::fs::write(&file, text).unwrap();
    let out = quarry(&[
        "hunt",
        "--no-config",
        "--format",
        "ndjson",
        file.to_str().unwrap(),
    ]);
    let got = who(&alerts(&out));
    assert!(got.contains(&t("medium", BULK, "mallory")), "{got:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("events.ndjson:2: not JSON: number out of range"),
        "{stderr}"
    );
    assert!(
        stderr.contains("44 events, 0 skipped, 1 malformed"),
        "{stderr}"
    );
}

#[test]
fn an_input_named_twice_is_hunted_once() {
    let out = quarry(&[
        "hunt",
        "--format",
        "ndjson",
        "examples/",
        "examples/confluence-audit.log",
    ]);
    assert_eq!(alerts(&out).len(), 13);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is named more than once; hunting it once"),
        "{stderr}"
    );
}

#[test]
fn rules_test_runs_the_packs_cases_and_shows_failures() {
    let out = quarry(&["rules", "test"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    let last = text.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{text}");
    // A broken expectation is a failure with its difference, and exit status 1.
    let d = dir("rules-test-broken");
    for entry in std::fs::read_dir(repo().join("rules/confluence/tests")).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, d.join(p.file_name().unwrap())).unwrap();
        }
    }
    let f = d.join("space_export.toml");
    let text = std::fs::read_to_string(&f).unwrap().replacen(
        r#"expect = [{ user = "trent", severity = "high" }]"#,
        r#"expect = [{ user = "trent", severity = "low" }]"#,
        1,
    );
    std::fs::write(&f, text).unwrap();
    std::fs::create_dir_all(d.join("tuning")).unwrap();
    std::fs::copy(
        repo().join("rules/confluence/tests/tuning/simulated-org.toml"),
        d.join("tuning/simulated-org.toml"),
    )
    .unwrap();
    let out = quarry(&["rules", "test", "--tests", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("space_export.toml: a space export alerts"),
        "{text}"
    );
    assert!(
        text.contains(r#"- expected, not raised: { user = "trent", severity = "low" }"#),
        "{text}"
    );
    assert!(
        text.contains(r#"+ raised, not expected: { user = "trent", source_ip = "192.0.2.77", severity = "high" }"#),
        "{text}"
    );
    assert!(
        text.lines().last().unwrap().ends_with(" passed, 1 failed"),
        "{text}"
    );
}

#[test]
fn native_fields_export_rewrites_what_the_integration_records() {
    let d = dir("native-export");
    let file = d.join("native.ndjson");
    let out = quarry(&[
        "rules",
        "export",
        "--format",
        "kibana",
        "--native-fields",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The two URL rules cannot run on audit records, and say so.
    assert!(
        stderr.contains(r#"left out "Bulk Confluence Content Extraction over REST""#),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"left out "Confluence Space Enumeration by a Scripted Client""#),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let rules: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|j| j.get("rule_id").is_some())
        .collect();
    assert_eq!(rules.len(), 6);
    for r in &rules {
        let query = r["query"].as_str().unwrap();
        assert!(query.contains("atlassian_confluence.audit"), "{query}");
        assert!(!query.contains("\"atlassian.confluence\""), "{query}");
        assert_eq!(
            r["index"],
            serde_json::json!(["logs-atlassian_confluence.audit-*"])
        );
        assert!(
            r["note"]
                .as_str()
                .unwrap()
                .contains("### Running on the integration's own fields"),
            "{}",
            r["name"]
        );
        if r["language"] == "eql" {
            let check = Command::new(env!("CARGO_BIN_EXE_quarry"))
                .args(["check", query])
                .output()
                .unwrap();
            assert!(
                check.status.success(),
                "{query}: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    let bulk = rules.iter().find(|r| r["name"] == BULK).unwrap();
    assert!(
        bulk["query"]
            .as_str()
            .unwrap()
            .starts_with("sequence by user.full_name, source.ip with maxspan=1h"),
        "{}",
        bulk["query"]
    );
    assert!(
        bulk["note"]
            .as_str()
            .unwrap()
            .contains("never sees `content_viewed`, `page_printed`, `page_viewed`, `space_viewed`"),
        "{}",
        bulk["note"]
    );
}

#[test]
fn bench_gen_and_bench_hunt_run_end_to_end() {
    let d = dir("bench-gen");
    for format in ["ecs", "access-log"] {
        let file = d.join(format!("b.{format}"));
        let out = quarry(&[
            "bench",
            "gen",
            "--events",
            "3000",
            "--users",
            "10",
            "--format",
            format,
            "-o",
            file.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&file).unwrap().lines().count(),
            3000
        );
        // The same seed gives the same bytes.
        let again = d.join(format!("again.{format}"));
        quarry(&[
            "bench",
            "gen",
            "--events",
            "3000",
            "--users",
            "10",
            "--format",
            format,
            "-o",
            again.to_str().unwrap(),
        ]);
        assert_eq!(
            std::fs::read(&file).unwrap(),
            std::fs::read(&again).unwrap()
        );
        let out = quarry(&["bench", "hunt", file.to_str().unwrap()]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success(), "{text}");
        assert!(text.contains("quarry hunt -j "), "{text}");
        assert!(text.contains("    3000 events"), "{text}");
        assert!(text.contains("MB/s") && text.contains("peak RSS"), "{text}");
    }
}

#[test]
fn a_flood_of_distinct_keys_is_evicted_counted_and_the_burst_still_alerts() {
    let d = dir("hunt-key-spray");
    let file = d.join("spray.ndjson");
    let mut text = String::new();
    let line = |minute: u32, second: u32, user: &str, ip: &str| {
        format!(
            concat!(
                r#"{{"@timestamp":"2026-11-23T10:{:02}:{:02}Z","event":{{"dataset":"atlassian.confluence","action":"page_viewed"}},"#,
                r#""user":{{"name":"{}"}},"source":{{"ip":"{}"}}}}"#,
                "\n"
            ),
            minute, second, user, ip
        )
    };
    // 2,000 one-view users (each a new user and address pair), then mallory's burst.
    for i in 0..2000u32 {
        text.push_str(&line(i / 60 % 30, i % 60, &format!("u{i}"), "10.0.0.1"));
    }
    for i in 0..45u32 {
        text.push_str(&line(30 + i / 60, i % 60, "mallory", "203.0.113.50"));
    }
    std::fs::write(&file, text).unwrap();
    let p = file.to_str().unwrap();
    let out = quarry(&[
        "hunt",
        "--no-config",
        "--format",
        "ndjson",
        "--max-join-keys",
        "100",
        p,
    ]);
    let got = who(&alerts(&out));
    assert!(got.contains(&t("medium", BULK, "mallory")), "{got:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("join keys were evicted from rule state (over --max-join-keys)"),
        "{stderr}"
    );
    // Without the cap, nothing is evicted.
    let out = quarry(&["hunt", "--no-config", "--format", "ndjson", p]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("evicted"), "{stderr}");
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_event_and_evidence_is_read_from_the_file() {
    // A Windows export starts with a byte order mark; the first event must still count, and
    // its evidence (read back from the file where it lies) must be that event exactly.
    let event = serde_json::json!({
        "@timestamp": "2026-11-23T10:00:00Z",
        "event": {"dataset": "atlassian.confluence", "action": "space_exported"},
        "user": {"name": "mallory"},
        "source": {"ip": "203.0.113.9"},
        "confluence": {"space": {"key": "ENG"}},
    });
    let d = dir("bom");
    let path = d.join("export.ndjson");
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(event.to_string().as_bytes());
    bytes.push(b'\n');
    std::fs::write(&path, bytes).unwrap();
    let out = quarry(&[
        "hunt",
        "--no-config",
        "-j",
        "1",
        "--format",
        "ndjson",
        path.to_str().unwrap(),
    ]);
    let alerts = alerts(&out);
    let export: Vec<&Json> = alerts
        .iter()
        .filter(|a| a["kibana.alert.rule.name"] == "Confluence Space Export")
        .collect();
    assert_eq!(export.len(), 1, "{alerts:?}");
    let evidence = export[0]
        .as_object()
        .unwrap()
        .values()
        .find_map(|v| v.get("evidence"))
        .expect("the alert carries its evidence");
    assert_eq!(evidence, &serde_json::json!([event]));
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains("1 events, 0 skipped, 0 malformed"),
        "{summary}"
    );
}
