//! From matches to alerts: suppression (folding), evidence, tuning (exceptions, lowering,
//! per-rule settings) and the alert document's contract. A small made-up pack keeps each
//! expectation easy to check by hand.

mod common;
use common::hunt_json;

use std::path::PathBuf;

use quarry_rules::tuning::Tuning;
use quarry_rules::{Alert, HuntOptions, LoadOptions, Rule, Severity, load_sources};
use serde_json::{Value as Json, json};

const THREAT: &str = r#"
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

fn rule_text(id: &str, name: &str, severity: &str, risk: u8, query: &str, extra: &str) -> String {
    format!(
        r#"[metadata]
creation_date = "2026/11/24"
maturity = "production"
updated_date = "2026/11/24"

[rule]
author = ["Quarry"]
description = "test"
from = "now-15m"
interval = "5m"
language = "eql"
name = "{name}"
risk_score = {risk}
rule_id = "{id}"
severity = "{severity}"
type = "eql"
query = '''
{query}
'''
{extra}
{THREAT}"#
    )
}

/// Three page views within 10 minutes per user and address, folded for 10 minutes.
fn burst_rule() -> String {
    rule_text(
        "00000000-0000-4000-8000-000000000001",
        "Burst",
        "medium",
        47,
        r#"sequence by user.name, source.ip with maxspan=10m
  [any where event.action == "page_viewed"] with runs=3"#,
        r#"[rule.alert_suppression]
group_by = ["user.name", "source.ip"]
duration = { value = 10, unit = "m" }"#,
    )
}

/// Every export, folded per user and address for 5 minutes; `doNotSuppress` for missing ones.
fn export_rule(missing: &str) -> String {
    rule_text(
        "00000000-0000-4000-8000-000000000002",
        "Export",
        "high",
        73,
        r#"any where event.action == "space_exported""#,
        &format!(
            r#"[rule.alert_suppression]
group_by = ["user.name", "source.ip"]
duration = {{ value = 5, unit = "m" }}
missing_fields_strategy = "{missing}""#
        ),
    )
}

/// Every search, one alert each (no suppression table), with an exception for a bot.
fn search_rule() -> String {
    rule_text(
        "00000000-0000-4000-8000-000000000003",
        "Search",
        "low",
        21,
        r#"any where event.action == "search_performed""#,
        r#"[[exceptions]]
name = "search bot"
[[exceptions.entries]]
field = "user.name"
type = "wildcard"
value = "bot-*""#,
    )
}

fn pack() -> Vec<Rule> {
    pack_with(&export_rule("suppress"))
}

fn pack_with(export: &str) -> Vec<Rule> {
    load_sources(
        vec![
            (PathBuf::from("burst.toml"), burst_rule()),
            (PathBuf::from("export.toml"), export.to_string()),
            (PathBuf::from("search.toml"), search_rule()),
        ],
        &LoadOptions::default(),
    )
    .unwrap()
}

/// An event `minutes` (may be fractional) after 2026-11-23 10:00 UTC.
fn ev(minutes: f64, user: &str, ip: Option<&str>, action: &str) -> Json {
    let ms = 1_795_428_000_000i64 + (minutes * 60_000.0) as i64;
    let mut e = json!({
        "@timestamp": ms,
        "event": {"dataset": "atlassian.confluence", "action": action},
        "user": {"name": user},
        "url": {"path": "/display/ENG/Page"},
    });
    if let Some(ip) = ip {
        e["source"] = json!({"ip": ip});
    }
    if action == "search_performed" {
        e["message"] = json!(format!("query {minutes}"));
    }
    e
}

fn views(user: &str, ip: &str, minutes: &[f64]) -> Vec<Json> {
    minutes
        .iter()
        .map(|m| ev(*m, user, Some(ip), "page_viewed"))
        .collect()
}

fn run(
    events: Vec<Json>,
    tuning: Tuning,
    options: HuntOptions,
) -> (Vec<Alert>, quarry_rules::HuntStats) {
    let (alerts, stats, _) = hunt_json(pack(), tuning, options, events).unwrap();
    (alerts, stats)
}

fn summary(alerts: &[Alert]) -> Vec<(String, String, u64, u64)> {
    alerts
        .iter()
        .map(|a| {
            (
                a.rule_name.clone(),
                a.user.clone().unwrap_or_default(),
                a.match_count,
                a.event_count,
            )
        })
        .collect()
}

#[test]
fn overlapping_matches_fold_into_one_alert() {
    // 5 views in 4 minutes: runs=3 gives 3 overlapping matches over 5 distinct events.
    let (alerts, stats) = run(
        views("alice", "10.0.0.1", &[0.0, 1.0, 2.0, 3.0, 4.0]),
        Tuning::default(),
        HuntOptions::default(),
    );
    assert_eq!(summary(&alerts), [("Burst".into(), "alice".into(), 3, 5)]);
    assert_eq!(stats.matches[0], 3);
    assert_eq!(stats.alerts[0], 1);
    let a = &alerts[0];
    assert_eq!(a.first_seen.to_string(), "2026-11-23T10:00:00.000Z");
    assert_eq!(a.last_seen.to_string(), "2026-11-23T10:04:00.000Z");
    // The alert is raised when the first match completes.
    assert_eq!(a.timestamp.to_string(), "2026-11-23T10:02:00.000Z");
    assert_eq!(
        a.reason(),
        "alice from 10.0.0.1 made 5 Confluence events (5 page_viewed) in 4m \
         (2026-11-23 10:00:00Z to 10:04:00Z); 3 matches folded into this alert."
    );
}

#[test]
fn the_suppression_window_closes_and_a_later_burst_is_a_new_alert() {
    // First match completes at 10:02 (window to 10:12); a match at 10:12 still folds, the
    // burst at 10:30 opens a second alert.
    let mut events = views("alice", "10.0.0.1", &[0.0, 1.0, 2.0, 12.0]);
    events.extend(views("alice", "10.0.0.1", &[30.0, 31.0, 32.0]));
    let (alerts, _) = run(events, Tuning::default(), HuntOptions::default());
    assert_eq!(
        summary(&alerts),
        [
            ("Burst".into(), "alice".into(), 1, 3),
            ("Burst".into(), "alice".into(), 1, 3),
        ]
    );
    // 10:12 is a separate sequence start: [2,12,...] never completes within 10m with 30.
    let mut events = views("alice", "10.0.0.1", &[0.0, 1.0, 2.0, 11.0, 12.0]);
    events.extend(views("alice", "10.0.0.1", &[30.0, 31.0, 32.0]));
    let (alerts, _) = run(events, Tuning::default(), HuntOptions::default());
    // Matches: (0,1,2)@2, (1,2,11)@11, (2,11,12)@12 fold (<= 10:12); (30,31,32)@32 is new.
    assert_eq!(
        summary(&alerts),
        [
            ("Burst".into(), "alice".into(), 3, 5),
            ("Burst".into(), "alice".into(), 1, 3),
        ]
    );
}

#[test]
fn groups_are_separate_and_no_suppress_shows_raw_matches() {
    let mut events = views("alice", "10.0.0.1", &[0.0, 1.0, 2.0, 3.0]);
    events.extend(views("alice", "10.0.0.2", &[0.5, 1.5, 2.5]));
    events.extend(views("bob", "10.0.0.1", &[0.2, 1.2, 2.2]));
    let (alerts, _) = run(events.clone(), Tuning::default(), HuntOptions::default());
    let mut got: Vec<(String, Option<String>)> = alerts
        .iter()
        .map(|a| (a.user.clone().unwrap(), a.source_ip.clone()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("alice".into(), Some("10.0.0.1".into())),
            ("alice".into(), Some("10.0.0.2".into())),
            ("bob".into(), Some("10.0.0.1".into())),
        ]
    );
    let (raw, _) = run(
        events,
        Tuning::default(),
        HuntOptions {
            suppress: false,
            ..HuntOptions::default()
        },
    );
    // alice@.1 has two matches, the others one each; every raw match has its own 3 events.
    assert_eq!(raw.len(), 4);
    assert!(raw.iter().all(|a| a.match_count == 1 && a.event_count == 3));
}

#[test]
fn missing_group_fields_fold_or_not_as_the_rule_says() {
    let events = vec![
        ev(0.0, "carol", None, "space_exported"),
        ev(1.0, "carol", None, "space_exported"),
    ];
    let (alerts, _, _) = hunt_json(
        pack_with(&export_rule("suppress")),
        Tuning::default(),
        HuntOptions::default(),
        events.clone(),
    )
    .unwrap();
    assert_eq!(summary(&alerts), [("Export".into(), "carol".into(), 2, 2)]);
    let (alerts, _, _) = hunt_json(
        pack_with(&export_rule("doNotSuppress")),
        Tuning::default(),
        HuntOptions::default(),
        events,
    )
    .unwrap();
    assert_eq!(
        summary(&alerts),
        [
            ("Export".into(), "carol".into(), 1, 1),
            ("Export".into(), "carol".into(), 1, 1)
        ]
    );
}

#[test]
fn rules_without_suppression_alert_per_match_and_rule_exceptions_drop_events() {
    let events = vec![
        ev(0.0, "dave", Some("10.0.0.4"), "search_performed"),
        ev(0.5, "dave", Some("10.0.0.4"), "search_performed"),
        ev(1.0, "bot-indexer", Some("10.0.0.9"), "search_performed"),
    ];
    let (alerts, stats) = run(events, Tuning::default(), HuntOptions::default());
    assert_eq!(
        summary(&alerts),
        [
            ("Search".into(), "dave".into(), 1, 1),
            ("Search".into(), "dave".into(), 1, 1)
        ]
    );
    assert_eq!(stats.dropped.get("Search: search bot"), Some(&1));
}

#[test]
fn evidence_is_capped_and_the_rest_counted() {
    let (alerts, _) = run(
        views("alice", "10.0.0.1", &[0.0, 1.0, 2.0, 3.0, 4.0]),
        Tuning::default(),
        HuntOptions {
            max_evidence: 2,
            ..HuntOptions::default()
        },
    );
    assert_eq!(alerts[0].evidence.len(), 2);
    assert_eq!(alerts[0].evidence_omitted, 3);
    assert_eq!(alerts[0].event_count, 5);
}

fn tuning(text: &str) -> Tuning {
    Tuning::parse("quarry.toml", text).unwrap()
}

#[test]
fn allowlisted_accounts_are_dropped_before_matching_and_counted() {
    let mut events = views("svc-backup", "10.0.5.10", &[0.0, 1.0, 2.0]);
    events.push(ev(3.0, "svc-backup", Some("10.0.5.10"), "space_exported"));
    events.extend(views("alice", "10.0.0.1", &[0.0, 1.0, 2.0]));
    let (alerts, stats) = run(
        events,
        tuning("[allowlist]\nusers = [\"svc-*\"]\n"),
        HuntOptions::default(),
    );
    assert_eq!(summary(&alerts), [("Burst".into(), "alice".into(), 1, 3)]);
    assert_eq!(stats.dropped.get("allowlisted user svc-*"), Some(&4));
    assert_eq!(stats.events, 7);
}

#[test]
fn the_documentation_team_is_lowered_with_a_reason_and_only_for_its_rules() {
    let mut events = views("wendy", "10.0.0.44", &[0.0, 1.0, 2.0]);
    events.push(ev(5.0, "wendy", Some("10.0.0.44"), "space_exported"));
    let (alerts, _) = run(
        events,
        tuning("[documentation_team]\nusers = [\"wendy\"]\nrules = [\"Burst\"]\n"),
        HuntOptions::default(),
    );
    let burst = alerts.iter().find(|a| a.rule_name == "Burst").unwrap();
    assert_eq!(burst.severity, Severity::Low);
    assert_eq!(burst.original_severity, Some(Severity::Medium));
    assert!(burst.risk_score <= 21);
    assert!(
        burst.reason().ends_with(
            "Severity lowered from medium to low: wendy is on the documentation team (quarry.toml [documentation_team])."
        ),
        "{}",
        burst.reason()
    );
    // The export rule is not in the team's scope: still high, evidence untouched.
    let export = alerts.iter().find(|a| a.rule_name == "Export").unwrap();
    assert_eq!(export.severity, Severity::High);
    assert!(export.tuning.is_empty());
}

#[test]
fn onboarding_lowers_only_within_the_window() {
    // 2026-11-23 10:00 is 3 days after a 2026-11-20 start.
    let within = "[onboarding]\nusers = [{ name = \"nina\", start = \"2026-11-20\" }]\ndays = 5\n";
    let before = "[onboarding]\nusers = [{ name = \"nina\", start = \"2026-11-24\" }]\ndays = 5\n";
    let after = "[onboarding]\nusers = [{ name = \"nina\", start = \"2026-11-01\" }]\ndays = 5\n";
    let cases = [
        (within, Severity::Low),
        (before, Severity::Medium),
        (after, Severity::Medium),
    ];
    for (text, expected) in cases {
        let (alerts, _) = run(
            views("nina", "10.0.0.61", &[0.0, 1.0, 2.0]),
            tuning(text),
            HuntOptions::default(),
        );
        assert_eq!(alerts[0].severity, expected, "{text}");
    }
    let (alerts, _) = run(
        views("nina", "10.0.0.61", &[0.0, 1.0, 2.0]),
        tuning(within),
        HuntOptions::default(),
    );
    assert!(
        alerts[0].reason().contains(
            "nina started on 2026-11-20 and is onboarding (quarry.toml [onboarding], 5 days)"
        ),
        "{}",
        alerts[0].reason()
    );
}

#[test]
fn first_seen_days_counts_only_users_who_appear_after_the_input_begins() {
    let day = 24.0 * 60.0;
    // alice is there from the start; nina first appears two days later.
    let mut events = views("alice", "10.0.0.1", &[0.0]);
    events.extend(views(
        "alice",
        "10.0.0.1",
        &[2.0 * day, 2.0 * day + 1.0, 2.0 * day + 2.0],
    ));
    events.extend(views(
        "nina",
        "10.0.0.61",
        &[2.0 * day, 2.0 * day + 1.0, 2.0 * day + 2.0],
    ));
    let (alerts, _) = run(
        events,
        tuning("[onboarding]\nfirst_seen_days = 7\n"),
        HuntOptions::default(),
    );
    let severity = |user: &str| {
        alerts
            .iter()
            .find(|a| a.user.as_deref() == Some(user))
            .unwrap()
            .severity
    };
    assert_eq!(severity("alice"), Severity::Medium);
    assert_eq!(severity("nina"), Severity::Low);
}

#[test]
fn per_rule_thresholds_and_switches() {
    let t = tuning(
        "[rules.\"Burst\"]\nthreshold = 4\n[rules.\"00000000-0000-4000-8000-000000000003\"]\nenabled = false\n",
    );
    let mut rules = pack();
    let changes = t.apply_to_rules(&mut rules).unwrap();
    assert_eq!(
        changes,
        ["Burst: threshold 4 instead of 3", "Search: disabled"]
    );
    assert_eq!(rules.len(), 2, "Search is disabled");
    assert_eq!(rules[0].threshold(), Some(4));
    let mut events = views("alice", "10.0.0.1", &[0.0, 1.0, 2.0]);
    events.push(ev(3.0, "alice", Some("10.0.0.1"), "search_performed"));
    let (alerts, _, _) = hunt_json(rules, t, HuntOptions::default(), events.clone()).unwrap();
    assert!(
        alerts.is_empty(),
        "3 views no longer reach runs=4, and Search is off"
    );

    let mut rules = pack();
    let err = tuning("[rules.\"Nope\"]\nthreshold = 4\n")
        .apply_to_rules(&mut rules)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "quarry.toml: `Nope` names no loaded rule (use a rule_id or a rule name)"
    );
    let err = tuning("[rules.\"Export\"]\nthreshold = 4\n")
        .apply_to_rules(&mut rules)
        .unwrap_err();
    assert!(
        err.to_string().contains("has no threshold of that kind"),
        "{err}"
    );
    let err = tuning("[rules.\"Burst\"]\nthreshold = 101\n")
        .apply_to_rules(&mut rules)
        .unwrap_err();
    assert!(err.to_string().contains("at most 100"), "{err}");
}

#[test]
fn the_time_window_option_counts_what_it_leaves_out() {
    let (alerts, stats) = run(
        views("alice", "10.0.0.1", &[0.0, 1.0, 2.0, 3.0]),
        Tuning::default(),
        HuntOptions {
            from: Some(quarry_event::Timestamp::parse("2026-11-23T10:01:00.000Z").unwrap()),
            ..HuntOptions::default()
        },
    );
    assert_eq!(stats.out_of_range, 1);
    assert_eq!(summary(&alerts), [("Burst".into(), "alice".into(), 1, 3)]);
}

#[test]
fn the_alert_document_follows_the_contract() {
    let (alerts, _, rules) = hunt_json(
        pack(),
        tuning("[documentation_team]\nusers = [\"alice\"]\n"),
        HuntOptions {
            max_evidence: 2,
            ..HuntOptions::default()
        },
        views("alice", "10.0.0.1", &[0.0, 1.0, 2.0, 3.0]),
    )
    .unwrap();
    let a = &alerts[0];
    let doc = a.to_json(&rules[a.rule]);
    let get = |path: &str| -> &Json {
        // `kibana.alert.*` keys are dotted at the top level; everything else nests.
        if let Some(v) = doc.get(path) {
            return v;
        }
        path.split('.')
            .try_fold(&doc, |node, key| node.get(key))
            .unwrap_or_else(|| panic!("no `{path}` in {doc:#}"))
    };
    assert_eq!(get("@timestamp"), "2026-11-23T10:02:00.000Z");
    assert_eq!(get("event.kind"), "alert");
    assert_eq!(
        get("kibana.alert.rule.rule_id"),
        "00000000-0000-4000-8000-000000000001"
    );
    assert_eq!(get("kibana.alert.rule.name"), "Burst");
    assert_eq!(get("kibana.alert.severity"), "low");
    assert_eq!(get("kibana.alert.risk_score"), 21);
    assert_eq!(get("kibana.alert.reason"), &json!(a.reason()));
    assert_eq!(
        get("kibana.alert.original_time"),
        "2026-11-23T10:00:00.000Z"
    );
    assert_eq!(get("kibana.alert.suppression.docs_count"), 1);
    assert_eq!(get("rule.id"), "00000000-0000-4000-8000-000000000001");
    assert_eq!(get("rule.name"), "Burst");
    assert_eq!(get("threat.framework"), "MITRE ATT&CK");
    assert_eq!(get("threat.tactic.id"), "TA0009");
    assert_eq!(get("threat.technique.id"), "T1213");
    assert_eq!(get("threat.technique.subtechnique.id"), "T1213.001");
    assert_eq!(get("user.name"), "alice");
    assert_eq!(get("source.ip"), "10.0.0.1");
    assert_eq!(get("quarry.first_seen"), "2026-11-23T10:00:00.000Z");
    assert_eq!(get("quarry.last_seen"), "2026-11-23T10:03:00.000Z");
    assert_eq!(get("quarry.event_count"), 4);
    assert_eq!(get("quarry.match_count"), 2);
    assert_eq!(get("quarry.actions"), &json!({"page_viewed": 4}));
    assert_eq!(get("quarry.original_severity"), "medium");
    assert_eq!(get("quarry.evidence_omitted"), 2);
    let evidence = get("quarry.evidence").as_array().unwrap();
    assert_eq!(evidence.len(), 2);
    // Evidence is the event as it came in.
    assert_eq!(evidence[0]["user"]["name"], "alice");
    assert_eq!(evidence[0]["event"]["action"], "page_viewed");
    assert_eq!(
        get("quarry.tuning"),
        &json!(["alice is on the documentation team (quarry.toml [documentation_team])"])
    );
}

#[test]
fn named_groups_lower_their_rules_and_say_why() {
    let text = r#"
[[lower]]
name = "the platform team"
users = ["eng-*"]
rules = ["Burst"]
severity = "low"
reason = "they read runbooks in bursts during incidents"
"#;
    let mut events = views("eng-omar", "10.0.0.7", &[0.0, 1.0, 2.0]);
    events.extend(views("alice", "10.0.0.1", &[0.0, 1.0, 2.0]));
    events.push(ev(3.0, "eng-omar", Some("10.0.0.7"), "space_exported"));
    let (alerts, _) = run(events, tuning(text), HuntOptions::default());
    let find = |rule: &str, user: &str| {
        alerts
            .iter()
            .find(|a| a.rule_name == rule && a.user.as_deref() == Some(user))
            .unwrap()
    };
    let omar = find("Burst", "eng-omar");
    assert_eq!(omar.severity, Severity::Low);
    assert!(
        omar.reason().ends_with(
            "Severity lowered from medium to low: eng-omar is in the platform team (quarry.toml [[lower]]): they read runbooks in bursts during incidents."
        ),
        "{}",
        omar.reason()
    );
    assert_eq!(find("Burst", "alice").severity, Severity::Medium);
    // Out of the group's rules: untouched.
    assert_eq!(find("Export", "eng-omar").severity, Severity::High);
    // Sources that do not name the user (a proxy's log of browser sessions) match by address.
    let by_ip = tuning(
        "[[lower]]\nname = \"the platform team\"\nsource_ips = [\"10.0.0.*\"]\nrules = [\"Export\"]\n",
    );
    let (alerts, _) = run(
        vec![
            json!({"@timestamp": 1_795_428_000_000i64, "event": {"action": "space_exported"}, "source": {"ip": "10.0.0.9"}}),
        ],
        by_ip,
        HuntOptions::default(),
    );
    assert_eq!(alerts[0].severity, Severity::Low);
    assert!(
        alerts[0]
            .reason()
            .contains("10.0.0.9 (by address) is in the platform team"),
        "{}",
        alerts[0].reason()
    );
    // An alert already at the group's severity keeps it and still says why.
    let low =
        tuning("[[lower]]\nname = \"search team\"\nusers = [\"dave\"]\nrules = [\"Search\"]\n");
    let (alerts, _) = run(
        vec![ev(0.0, "dave", Some("10.0.0.4"), "search_performed")],
        low,
        HuntOptions::default(),
    );
    assert_eq!(alerts[0].severity, Severity::Low);
    assert!(
        alerts[0]
            .reason()
            .ends_with("Tuning: dave is in search team (quarry.toml [[lower]])."),
        "{}",
        alerts[0].reason()
    );
}

/// A threshold rule: 40 page views per user within the 60-minute lookback, every 5 minutes.
fn threshold_rule() -> String {
    r#"[metadata]
creation_date = "2026/11/24"
maturity = "production"
updated_date = "2026/11/24"

[rule]
author = ["Quarry"]
description = "test"
from = "now-60m"
interval = "5m"
language = "kuery"
name = "Count"
risk_score = 47
rule_id = "00000000-0000-4000-8000-000000000004"
severity = "medium"
type = "threshold"
query = 'event.action : "page_viewed"'

[rule.threshold]
field = ["user.name"]
value = 40

[rule.alert_suppression]
group_by = ["user.name"]
duration = { value = 1, unit = "h" }
"#
    .to_string()
}

#[test]
fn threshold_matches_fold_the_same_whatever_comes_later() {
    let rules = || {
        load_sources(
            vec![(PathBuf::from("count.toml"), threshold_rule())],
            &LoadOptions::default(),
        )
        .unwrap()
    };
    // 40 views just after 10:00 (counted by the 10:05 execution), 40 more after 10:45
    // (counted at 10:50, within the hour the first alert opened).
    let mut events: Vec<Json> = (0..40)
        .map(|i| ev(f64::from(i) / 60.0, "bob", Some("10.0.0.2"), "page_viewed"))
        .collect();
    events.extend((0..40).map(|i| {
        ev(
            45.0 + f64::from(i) / 60.0,
            "bob",
            Some("10.0.0.2"),
            "page_viewed",
        )
    }));
    let (alone, _, _) = hunt_json(
        rules(),
        Tuning::default(),
        HuntOptions::default(),
        events.clone(),
    )
    .unwrap();
    // An unrelated event two hours later must not split bob's alert.
    events.push(ev(120.0, "carol", Some("10.0.0.3"), "page_viewed"));
    let (with_later, _, _) =
        hunt_json(rules(), Tuning::default(), HuntOptions::default(), events).unwrap();
    for alerts in [&alone, &with_later] {
        assert_eq!(summary(alerts), [("Count".into(), "bob".into(), 2, 80)]);
    }
}

#[test]
fn interleaved_matches_count_every_event_once() {
    // Pairs per (user, address), folded per user: the addresses alternate, so matches arrive
    // out of position order; every one of the 6 events must still be counted.
    let pair = rule_text(
        "00000000-0000-4000-8000-000000000005",
        "Pair",
        "medium",
        47,
        r#"sequence by user.name, source.ip with maxspan=10m [any where event.action == "page_viewed"] with runs=2"#,
        r#"[rule.alert_suppression]
group_by = ["user.name"]
duration = { value = 1, unit = "h" }"#,
    );
    let rules = load_sources(
        vec![(PathBuf::from("pair.toml"), pair)],
        &LoadOptions::default(),
    )
    .unwrap();
    let events: Vec<Json> = (0..6)
        .map(|i| {
            let ip = if i % 2 == 0 { "10.0.0.1" } else { "10.0.0.2" };
            ev(f64::from(i), "alice", Some(ip), "page_viewed")
        })
        .collect();
    let (alerts, _, _) =
        hunt_json(rules, Tuning::default(), HuntOptions::default(), events).unwrap();
    assert_eq!(summary(&alerts), [("Pair".into(), "alice".into(), 4, 6)]);
    let a = &alerts[0];
    // Grouped by user alone: no single address to claim, so the reason names both.
    assert_eq!(a.source_ip, None);
    assert_eq!(a.addresses, ["10.0.0.1", "10.0.0.2"]);
    assert!(
        a.reason()
            .starts_with("alice from 10.0.0.1 and 1 other address made 6 Confluence events"),
        "{}",
        a.reason()
    );
    let doc = a.to_json(
        &quarry_rules::load_sources(
            vec![(PathBuf::from("burst.toml"), burst_rule())],
            &LoadOptions::default(),
        )
        .unwrap()[0],
    );
    assert!(doc.get("source").is_none(), "{doc}");
    assert_eq!(doc["related"]["ip"], json!(["10.0.0.1", "10.0.0.2"]));
    // Kibana's suppression fields: duplicates counted, ending at the last one.
    assert_eq!(doc["kibana.alert.suppression.docs_count"], 3);
    assert_eq!(
        doc["kibana.alert.suppression.start"],
        "2026-11-23T10:02:00.000Z"
    );
    assert_eq!(
        doc["kibana.alert.suppression.end"],
        "2026-11-23T10:05:00.000Z"
    );
}

#[test]
fn reasons_are_safe_to_print_and_count_distinct_searches() {
    let mut events = vec![
        ev(0.0, "dave", Some("10.0.0.4"), "search_performed"),
        ev(0.5, "dave", Some("10.0.0.4"), "search_performed"),
    ];
    events[0]["message"] = json!("password\u{1b}[2J\nhigh forged row");
    events[1]["message"] = json!("password\u{1b}[2J\nhigh forged row");
    events[0]["user"]["name"] = json!("dave\r");
    events[1]["user"]["name"] = json!("dave\r");
    let export = export_rule("suppress").replace(
        r#"any where event.action == "space_exported""#,
        r#"any where event.action == "search_performed""#,
    );
    let (alerts, _, _) = hunt_json(
        pack_with(&export),
        Tuning::default(),
        HuntOptions::default(),
        events,
    )
    .unwrap();
    let folded = alerts.iter().find(|a| a.rule_name == "Export").unwrap();
    let reason = folded.reason();
    assert!(!reason.chars().any(char::is_control), "{reason:?}");
    assert!(
        reason.starts_with(
            r#"dave\u{d} from 10.0.0.4 made 2 Confluence events (2 search_performed) in 30s"#
        ),
        "{reason}"
    );
    // Two searches of the same text are one distinct search: nothing "more".
    assert!(
        reason.contains(r#"searching for "password\u{1b}[2J\u{a}high forged row"; 2 matches"#),
        "{reason}"
    );
}

#[test]
fn a_sequence_alert_is_grouped_by_the_join_key_it_matched_on() {
    // Two views naming two users, then one by eve alone: the burst joins on eve (the only
    // key with three events), so its alert is eve's, whatever user the first event names
    // first.
    let mut events = Vec::new();
    for minute in [0.0, 1.0] {
        let mut e = ev(minute, "-", Some("10.0.0.9"), "page_viewed");
        e["user"]["name"] = json!(["mallory", "eve"]);
        events.push(e);
    }
    events.push(ev(2.0, "eve", Some("10.0.0.9"), "page_viewed"));
    let (alerts, _) = run(events, Tuning::default(), HuntOptions::default());
    let burst: Vec<_> = alerts.iter().filter(|a| a.rule_name == "Burst").collect();
    assert_eq!(burst.len(), 1);
    assert_eq!(burst[0].user.as_deref(), Some("eve"));
    assert_eq!(
        burst[0].group,
        vec![
            ("user.name".to_string(), Some("eve".to_string())),
            ("source.ip".to_string(), Some("10.0.0.9".to_string())),
        ]
    );
    assert_eq!(burst[0].event_count, 3);
}
