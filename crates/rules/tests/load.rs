//! Rule files are validated on load, and every problem names the file, the line and the column
//! of what is wrong. Each case below breaks one thing in an otherwise valid rule and pins the
//! message and its place (computed from the text, so the expected position is the offending
//! token's own).

use std::path::{Path, PathBuf};

use quarry_rules::rule::parse_rule;
use quarry_rules::{LoadOptions, RuleKind, Severity, load_dir, load_sources};

const VALID: &str = r#"[metadata]
creation_date = "2026/11/24"
maturity = "production"
updated_date = "2026/11/24"

[rule]
author = ["Quarry"]
description = "Many reads."
from = "now-90m"
interval = "30m"
language = "eql"
name = "Test rule"
risk_score = 47
rule_id = "b60b9044-f0e8-4387-b265-f23481151371"
severity = "medium"
type = "eql"
query = '''
sequence by user.name, source.ip with maxspan=1h
  [any where event.dataset == "atlassian.confluence" and ?process.args != null] with runs=3
'''

[rule.alert_suppression]
group_by = ["user.name", "source.ip"]
duration = { value = 1, unit = "h" }

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1213"
name = "Data from Information Repositories"
reference = "https://attack.mitre.org/techniques/T1213/"
[[rule.threat.technique.subtechnique]]
id = "T1213.001"
name = "Confluence"
reference = "https://attack.mitre.org/techniques/T1213/001/"

[rule.threat.tactic]
id = "TA0009"
name = "Collection"
reference = "https://attack.mitre.org/tactics/TA0009/"
"#;

const THRESHOLD: &str = r#"[metadata]
creation_date = "2026/11/24"
maturity = "production"
updated_date = "2026/11/24"

[rule]
author = ["Quarry"]
description = "Many reads, counted."
from = "now-60m"
interval = "5m"
language = "kuery"
name = "Test threshold"
risk_score = 47
rule_id = "44e7c566-21ac-40ba-9c56-45858e0e88fa"
severity = "medium"
type = "threshold"
query = '''
event.dataset : "atlassian.confluence" and event.action : ("page_viewed" or "space_viewed")
'''

[rule.threshold]
field = ["user.name", "source.ip"]
value = 40
"#;

fn known() -> LoadOptions {
    LoadOptions {
        known_fields: Some(
            [
                "@timestamp",
                "event.dataset",
                "event.action",
                "user.name",
                "source.ip",
                "message",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
    }
}

/// 1-based line and column of the first occurrence of `needle` (after `after`, if given).
fn place(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    let line = text[..at].matches('\n').count() + 1;
    let col = text[..at].rsplit('\n').next().unwrap().chars().count() + 1;
    (line, col)
}

/// The first problem as the loader reports it: `path:line:col: message`.
fn first_problem(text: &str) -> String {
    let path = Path::new("rules/test.toml");
    let problems = parse_rule(path, text, &known()).expect_err("the rule should be rejected");
    let d = problems.first();
    let lc = d.line_column(text);
    format!(
        "{}:{}:{}: {}",
        path.display(),
        lc.line,
        lc.column,
        d.message
    )
}

#[test]
fn the_valid_rules_load() {
    let rule = parse_rule(Path::new("t.toml"), VALID, &known()).unwrap();
    assert_eq!(rule.severity, Severity::Medium);
    assert_eq!(rule.maxspan_ms(), Some(3_600_000));
    assert_eq!(rule.group_fields(), ["user.name", "source.ip"]);
    assert_eq!(rule.threshold(), Some(3));
    assert_eq!(rule.from_ms, 90 * 60_000);
    let (tactic, technique, sub) = rule.primary_attack();
    assert_eq!(tactic.unwrap().id, "TA0009");
    assert_eq!(technique.unwrap().id, "T1213");
    assert_eq!(sub.unwrap().id, "T1213.001");

    let t = parse_rule(Path::new("t.toml"), THRESHOLD, &known()).unwrap();
    match &t.kind {
        RuleKind::Threshold {
            filter,
            fields,
            value,
        } => {
            assert_eq!(
                filter.to_string(),
                r#"any where event.dataset == "atlassian.confluence" and event.action in ("page_viewed", "space_viewed")"#
            );
            assert_eq!(fields, &["user.name", "source.ip"]);
            assert_eq!(*value, 40);
        }
        other => panic!("{other:?}"),
    }
}

/// Each case: (what to replace, its replacement, the token the problem points at, message).
#[test]
fn each_problem_is_reported_at_its_place() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            r#"rule_id = "b60b9044-f0e8-4387-b265-f23481151371""#,
            r#"rule_id = "rule-1""#,
            r#""rule-1""#,
            "rule_id `rule-1` is not a UUID",
        ),
        (
            "risk_score = 47",
            "risk_score = 80",
            "80",
            "risk_score 80 does not agree with severity `medium` (22-47)",
        ),
        (
            "risk_score = 47",
            "risk_score = 101",
            "101",
            "risk_score 101 is outside 0-100",
        ),
        (
            r#"severity = "medium""#,
            r#"severity = "severe""#,
            r#""severe""#,
            "unknown severity `severe`",
        ),
        (
            "?process.args != null",
            "process.args != null",
            "process.args",
            "`process.args` is not a field the normalized events carry",
        ),
        (
            r#"event.dataset == "atlassian.confluence""#,
            r#"event.dataset = "atlassian.confluence""#,
            "= \"atlassian",
            "`=` is not a comparison operator",
        ),
        (
            "with runs=3",
            "with runs=300",
            "with runs=300",
            "`runs` must be between 1 and 100, found 300",
        ),
        (
            "author = [\"Quarry\"]",
            "author = [\"Quarry\"]\ncolour = \"red\"",
            "colour",
            "unknown field `colour`, expected one of",
        ),
        (
            r#"from = "now-90m""#,
            r#"from = "now-30m""#,
            r#""now-30m""#,
            "the lookback (30 min) is shorter than the sequence's maxspan (1h)",
        ),
        (
            r#"from = "now-90m""#,
            r#"from = "90 minutes""#,
            r#""90 minutes""#,
            "cannot read from `90 minutes`",
        ),
        (
            r#"type = "eql""#,
            r#"type = "query""#,
            r#""query""#,
            "rule type `query` is not one Quarry runs",
        ),
        (
            r#"language = "eql""#,
            r#"language = "kuery""#,
            r#""kuery""#,
            "a `eql` rule is written in `eql`, not `kuery`",
        ),
        (
            r#"id = "TA0009""#,
            r#"id = "TA9""#,
            r#""TA9""#,
            "`TA9` is not an ATT&CK tactic id",
        ),
        (
            r#"id = "T1213.001""#,
            r#"id = "T1530.001""#,
            r#""T1530.001""#,
            "sub-technique T1530.001 is not under technique T1213",
        ),
        (
            r#"reference = "https://attack.mitre.org/techniques/T1213/001/""#,
            r#"reference = "https://attack.mitre.org/techniques/T1213/""#,
            r#""https://attack.mitre.org/techniques/T1213/""#,
            "the reference of sub-technique T1213.001 should be https://attack.mitre.org/techniques/T1213/001/",
        ),
        (
            r#"framework = "MITRE ATT&CK""#,
            r#"framework = "ATT&CK""#,
            r#""ATT&CK""#,
            "framework `ATT&CK` is not `MITRE ATT&CK`",
        ),
        (
            r#"duration = { value = 1, unit = "h" }"#,
            r#"duration = { value = 1, unit = "d" }"#,
            r#"{ value = 1, unit = "d" }"#,
            "unknown duration unit `d`",
        ),
    ];
    for (from, to, token, message) in cases {
        assert!(
            VALID.contains(from),
            "case `{to}`: `{from}` is not in the rule"
        );
        let text = VALID.replacen(from, to, 1);
        // The token's place in the broken text: search after the start of the replacement.
        let start = VALID.find(from).unwrap();
        let (line, col) = {
            let (l, c) = place(&text[start..], token);
            let base_line = text[..start].matches('\n').count();
            let base_col = text[..start].rsplit('\n').next().unwrap().chars().count();
            (base_line + l, if l == 1 { base_col + c } else { c })
        };
        let got = first_problem(&text);
        let expected_prefix = format!("rules/test.toml:{line}:{col}: {message}");
        assert!(
            got.starts_with(&expected_prefix),
            "case `{to}`:\n  got      {got}\n  expected {expected_prefix}"
        );
    }
}

#[test]
fn threshold_rules_check_their_kql_and_fields() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "[rule.threshold]\nfield = [\"user.name\", \"source.ip\"]\nvalue = 40\n",
            "",
            r#""threshold""#,
            "a threshold rule needs a `[rule.threshold]` table",
        ),
        (
            r#"event.action : ("page_viewed""#,
            r#"event.verb : ("page_viewed""#,
            "event.verb",
            "`event.verb` is not a field the normalized events carry",
        ),
        (
            r#"field = ["user.name", "source.ip"]"#,
            r#"field = ["user.name", "source.address"]"#,
            r#""source.address""#,
            "`source.address` is not a field the normalized events carry",
        ),
        (
            r#"and event.action"#,
            r#"and password and event.action"#,
            "password",
            "KQL: `password` has no field",
        ),
        (
            "value = 40",
            "value = 0",
            "0\n",
            "threshold value must be at least 1",
        ),
    ];
    for (from, to, token, message) in cases {
        assert!(THRESHOLD.contains(from), "`{from}`");
        let text = THRESHOLD.replacen(from, to, 1);
        let got = first_problem(&text);
        let (line, col) = place(&text, token);
        let expected = format!("rules/test.toml:{line}:{col}: {message}");
        assert!(
            got.starts_with(&expected),
            "case `{to}`:\n  got      {got}\n  expected {expected}"
        );
    }
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text = VALID
        .replacen("b60b9044-f0e8-4387-b265-f23481151371", "x", 1)
        .replacen("risk_score = 47", "risk_score = 90", 1)
        .replacen("?process.args", "process.argz", 1);
    let problems = parse_rule(Path::new("t.toml"), &text, &known()).unwrap_err();
    let messages: Vec<&str> = problems
        .diagnostics()
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    // In file order.
    assert!(messages[0].starts_with("risk_score 90"), "{messages:?}");
    assert!(messages[1].starts_with("rule_id `x`"), "{messages:?}");
    assert!(messages[2].starts_with("`process.argz`"), "{messages:?}");
    // Rendered with the file's own line under a caret.
    let rendered = problems.render(&text, "t.toml", quarry_eql::Style::Plain);
    assert!(rendered.contains("t.toml:13:14"), "{rendered}");
    assert!(rendered.contains("risk_score = 90"), "{rendered}");
}

#[test]
fn rule_ids_are_unique_across_a_pack() {
    let sources = vec![
        (PathBuf::from("a.toml"), VALID.to_string()),
        (
            PathBuf::from("b.toml"),
            VALID.replacen("Test rule", "Other rule", 1),
        ),
    ];
    let errors = load_sources(sources, &known()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "b.toml:14:11: rule_id b60b9044-f0e8-4387-b265-f23481151371 is also the rule_id of a.toml"
    );
}

#[test]
fn the_shipped_pack_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/confluence");
    let rules = load_dir(&dir, &LoadOptions::default()).unwrap();
    assert_eq!(rules.len(), 8);
    for r in &rules {
        let (tactic, technique, sub) = r.primary_attack();
        assert_eq!(tactic.map(|t| t.id.as_str()), Some("TA0009"), "{}", r.name);
        assert_eq!(
            technique.map(|t| t.id.as_str()),
            Some("T1213"),
            "{}",
            r.name
        );
        assert_eq!(sub.map(|t| t.id.as_str()), Some("T1213.001"), "{}", r.name);
        assert!(
            r.note.as_deref().is_some_and(|n| n.contains("## Triage")),
            "{}",
            r.name
        );
        assert!(!r.false_positives.is_empty(), "{}", r.name);
    }
    // The seed's query, verbatim in meaning.
    let seed = quarry_eql::parse(
        r#"sequence by user.name, source.ip with maxspan=1h
[any where event.dataset == "atlassian.confluence" and
event.action in ("page_viewed", "content_viewed", "space_viewed",
"attachment_downloaded", "content_exported", "space_exported",
"search_performed", "page_printed")] with runs=40"#,
    )
    .unwrap();
    let bulk = rules
        .iter()
        .find(|r| r.name == "Bulk Confluence Data Mining")
        .unwrap();
    match &bulk.kind {
        RuleKind::Eql(q) => assert_eq!(q.to_string(), seed.to_string()),
        other => panic!("{other:?}"),
    }
}

/// Problems inside basic strings (with escapes, line-ending backslashes) and CRLF files are
/// reported at the offending token's own line and column.
#[test]
fn positions_survive_escapes_line_continuations_and_crlf() {
    let query_line = |q: &str| {
        VALID.replacen(
        "query = '''\nsequence by user.name, source.ip with maxspan=1h\n  [any where event.dataset == \"atlassian.confluence\" and ?process.args != null] with runs=3\n'''",
        q,
        1,
    )
    };
    let cases = [
        // A basic string with escaped quotes before the unknown field.
        query_line(
            r#"query = "sequence by user.name with maxspan=1h [any where event.dataset == \"a\" and mesage == \"x\"] with runs=3""#,
        ),
        // A multi-line basic string with a line-ending backslash.
        query_line(
            "query = \"\"\"\nsequence by user.name with maxspan=1h \\\n    [any where event.dataset == \"a\" and\n     mesage == \"x\"] with runs=3\"\"\"",
        ),
        // A \u escape of a multi-byte character before the field.
        query_line(
            r#"query = "sequence by user.name with maxspan=1h [any where event.dataset == \"\u00e9t\u00e9\" and mesage == \"x\"] with runs=3""#,
        ),
    ];
    for text in cases {
        let (line, col) = place(&text, "mesage");
        let got = first_problem(&text);
        let expected = format!("rules/test.toml:{line}:{col}: `mesage` is not a field");
        assert!(
            got.starts_with(&expected),
            "\n  got      {got}\n  expected {expected}"
        );
    }
    // CRLF line endings.
    let crlf = VALID
        .replacen("?process.args", "process.argz", 1)
        .replace('\n', "\r\n");
    let (line, col) = place(&crlf, "process.argz");
    let got = first_problem(&crlf);
    assert!(
        got.starts_with(&format!("rules/test.toml:{line}:{col}: `process.argz`")),
        "{got}"
    );
}
