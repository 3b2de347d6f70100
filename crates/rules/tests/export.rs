//! Exporting the pack for Elastic Security.
//!
//! - Every exported Kibana rule validates against the 9.5 rule API JSON Schema of its type
//!   (detection-rules' `api_schemas/9.5/9.5.<type>.json`), and its base fields against
//!   `9.5.base.json`, read from the directory in `QUARRY_KIBANA_SCHEMAS_DIR` (`.ci/run` sets it
//!   to `../shared/reference/elastic-detection-rules/api_schemas_9.5`). Without it the test
//!   prints SKIPPED and passes. The validator is a small draft-04 one for exactly the keywords
//!   those schemas use; it refuses any other keyword rather than ignore it.
//! - The Kibana NDJSON of the pack and of two fixture rules is pinned in reviewed golden files
//!   (`QUARRY_BLESS=1` rewrites them).
//! - detection-rules TOML reads back, through our own loader, to the same rules.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use quarry_rules::export::{
    self, detection_rules_files, exception_item_id, exception_list_id, kibana_ndjson,
};
use quarry_rules::{LoadOptions, Rule, load_dir, load_file};
use serde_json::{Value as Json, json};

/// Pack rules that break Elastic's scheduling rules for EQL, so `quarry rules export --format
/// kibana` refuses them. Empty: keep it so (bulk_rest_extraction.toml once ran every 5m with
/// maxspan=15m; Elastic wants interval >= maxspan / 2).
const KNOWN_SCHEDULE_VIOLATIONS: &[&str] = &[];

fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/confluence")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn pack() -> Vec<Rule> {
    load_dir(&pack_dir(), &LoadOptions::default()).expect("the pack loads")
}

fn fixture_rules() -> Vec<Rule> {
    load_dir(&fixture("export"), &LoadOptions::default()).expect("the fixture rules load")
}

fn file_name(r: &Rule) -> String {
    r.path.file_name().unwrap().to_string_lossy().into_owned()
}

/// The pack without the rules in [`KNOWN_SCHEDULE_VIOLATIONS`], after checking that exactly
/// those rules are refused, each with a message naming its file.
fn exportable_pack() -> Vec<Rule> {
    let rules = pack();
    let err = kibana_ndjson(&rules).err();
    let mut refused: BTreeSet<String> = BTreeSet::new();
    if let Some(err) = &err {
        for p in &err.problems {
            assert!(
                p.to_string().contains(&*p.path.to_string_lossy()),
                "the message names the rule file: {p}"
            );
            refused.insert(p.path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    let known: BTreeSet<String> = KNOWN_SCHEDULE_VIOLATIONS
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        refused,
        known,
        "the pack rules the Kibana export refuses changed; update KNOWN_SCHEDULE_VIOLATIONS. Problems:\n{}",
        err.map(|e| e.to_string()).unwrap_or_default()
    );
    rules
        .into_iter()
        .filter(|r| !known.contains(&file_name(r)))
        .collect()
}

fn lines(ndjson: &str) -> Vec<Json> {
    ndjson
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

fn golden(actual: &str, name: &str) {
    let path = fixture(name);
    if std::env::var_os("QUARRY_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (QUARRY_BLESS=1 writes it)", path.display()));
    if actual != expected {
        let (a, e): (Vec<_>, Vec<_>) = (actual.lines().collect(), expected.lines().collect());
        let first = a.iter().zip(&e).position(|(x, y)| x != y);
        panic!(
            "{name} differs (first differing line: {first:?}; {} lines vs {} expected). Review the \
             difference, then rewrite it with QUARRY_BLESS=1",
            a.len(),
            e.len()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Kibana NDJSON.

#[test]
fn kibana_pack_golden() {
    let ndjson = kibana_ndjson(&exportable_pack()).expect("the rest of the pack exports");
    golden(&ndjson, "kibana-pack.golden.ndjson");
}

#[test]
fn kibana_fixture_golden() {
    let ndjson = kibana_ndjson(&fixture_rules()).expect("the fixture rules export");
    golden(&ndjson, "kibana-fixture.golden.ndjson");
}

#[test]
fn kibana_rules_are_disabled_sorted_and_complete() {
    let rules = exportable_pack();
    let out = lines(&kibana_ndjson(&rules).unwrap());
    let (summary, rule_lines) = out.split_last().unwrap();
    assert_eq!(rule_lines.len(), rules.len());
    let ids: Vec<&str> = rule_lines
        .iter()
        .map(|l| l["rule_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "rules are sorted by rule_id");
    for (line, rule) in rule_lines.iter().map(|l| {
        let r = rules
            .iter()
            .find(|r| r.rule_id == l["rule_id"].as_str().unwrap())
            .unwrap();
        (l, r)
    }) {
        assert_eq!(line["enabled"], json!(false), "{}", rule.name);
        assert_eq!(line["name"], json!(rule.name));
        assert_eq!(line["query"], json!(rule.query));
        assert_eq!(line["to"], json!("now"));
        assert_eq!(line["type"], json!(rule.rule_type));
        assert_eq!(line["threat"][0]["framework"], json!("MITRE ATT&CK"));
        if let Some(maxspan) = rule.maxspan_ms() {
            let from = quarry_rules::rule::parse_duration(line["from"].as_str().unwrap(), true);
            let interval =
                quarry_rules::rule::parse_duration(line["interval"].as_str().unwrap(), false);
            assert!(from.unwrap() >= maxspan && interval.unwrap() * 2 >= maxspan);
        }
        if rule.rule_type == "threshold" {
            assert_eq!(
                line["alert_suppression"],
                json!({"duration": {"value": 1, "unit": "h"}}),
                "threshold rules suppress by duration only"
            );
            assert_eq!(
                line["threshold"],
                json!({"field": ["user.name", "source.ip"], "value": 40, "cardinality": []})
            );
        }
    }
    assert_eq!(summary["exported_count"], json!(rules.len()));
    assert_eq!(summary["exported_rules_count"], json!(rules.len()));
    assert_eq!(summary["exported_exception_list_count"], json!(0));
    // The same rules give the same bytes, in any order.
    let mut reversed = rules.clone();
    reversed.reverse();
    assert_eq!(
        kibana_ndjson(&rules).unwrap(),
        kibana_ndjson(&reversed).unwrap()
    );
}

#[test]
fn kibana_exceptions_become_a_list_and_items() {
    let rules = fixture_rules();
    let out = lines(&kibana_ndjson(&rules).unwrap());
    let rule_id = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    let list_id = exception_list_id(rule_id);
    let rule = out.iter().find(|l| l["rule_id"] == json!(rule_id)).unwrap();
    let reference = &rule["exceptions_list"][0];
    assert_eq!(reference["list_id"], json!(list_id));
    assert_eq!(reference["type"], json!("rule_default"));
    assert_eq!(reference["namespace_type"], json!("single"));
    let container = out
        .iter()
        .find(|l| l["list_id"] == json!(list_id) && l.get("item_id").is_none())
        .unwrap();
    assert_eq!(
        container["id"], reference["id"],
        "the rule points at the container"
    );
    assert_eq!(container["type"], json!("rule_default"));
    let items: Vec<&Json> = out.iter().filter(|l| l.get("item_id").is_some()).collect();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["item_id"],
        json!(exception_item_id(rule_id, "Nightly space backup"))
    );
    assert_eq!(
        items[0]["entries"],
        json!([
            {"type": "match", "field": "user.name", "value": "svc-backup", "operator": "included"},
            {"type": "match_any", "field": "source.ip", "value": ["10.0.0.5", "10.0.0.6"], "operator": "included"},
        ])
    );
    assert_eq!(
        items[1]["entries"],
        json!([
            {"type": "wildcard", "field": "user.name", "value": "mig-*", "operator": "included"},
            {"type": "exists", "field": "user_agent.original", "operator": "excluded"},
        ])
    );
    assert_eq!(items[1]["description"], json!("Exception list item"));
    for item in &items {
        assert_eq!(item["list_id"], json!(list_id));
        assert_eq!(item["type"], json!("simple"));
    }
    // The rule without exceptions references no list.
    let other = out
        .iter()
        .find(|l| l["rule_id"] == json!("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"))
        .unwrap();
    assert_eq!(other["exceptions_list"], json!([]));
    // Without a written duration, suppression states Quarry's window: an EQL event query's
    // interval, a threshold rule's lookback.
    assert_eq!(
        rule["alert_suppression"],
        json!({"group_by": ["user.name"], "duration": {"value": 5, "unit": "m"}, "missing_fields_strategy": "doNotSuppress"})
    );
    assert_eq!(
        other["alert_suppression"],
        json!({"duration": {"value": 30, "unit": "m"}})
    );
    let summary = out.last().unwrap();
    assert_eq!(summary["exported_count"], json!(out.len() - 1));
    assert_eq!(summary["exported_rules_count"], json!(2));
    assert_eq!(summary["exported_exception_list_count"], json!(1));
    assert_eq!(summary["exported_exception_list_item_count"], json!(2));
}

/// A sequence rule scheduled against Elastic's rules, as text.
fn sequence_rule(from: &str, interval: &str) -> String {
    format!(
        r#"[metadata]
creation_date = "2026/11/24"
maturity = "production"
updated_date = "2026/11/24"

[rule]
author = ["Quarry"]
description = "Three searches."
from = "{from}"
interval = "{interval}"
language = "eql"
name = "Schedule test"
risk_score = 21
rule_id = "3c2b1a09-8f7e-4d6c-9b5a-493827160504"
severity = "low"
type = "eql"
query = '''
sequence by user.name with maxspan=1h
  [any where event.action == "search_performed"] with runs=3
'''
"#
    )
}

#[test]
fn kibana_refuses_sequences_scheduled_against_elastic_rules() {
    let load = |from: &str, interval: &str| {
        quarry_rules::load_sources(
            vec![(
                PathBuf::from("rules/schedule_test.toml"),
                sequence_rule(from, interval),
            )],
            &LoadOptions::default(),
        )
        .unwrap()
    };
    // Elastic's own 1 h rules: from now-60m, interval 30m.
    assert!(kibana_ndjson(&load("now-60m", "30m")).is_ok());
    let err = kibana_ndjson(&load("now-90m", "29m")).unwrap_err();
    assert_eq!(err.problems.len(), 1);
    let message = err.to_string();
    assert!(
        message.starts_with("rules/schedule_test.toml: `Schedule test`: `interval = \"29m\"`"),
        "{message}"
    );
    assert!(message.contains("at least \"30m\""), "{message}");
    // The loader already refuses a lookback shorter than the maxspan; the export checks it too.
    let mut short = load("now-60m", "30m");
    short[0].from_ms = 50 * 60_000;
    let message = kibana_ndjson(&short).unwrap_err().to_string();
    assert!(
        message.contains("`from = \"now-50m\"` is shorter than the sequence's maxspan (1h)"),
        "{message}"
    );
    // A threshold tuned after loading is not what the query text says.
    let mut tuned = load("now-60m", "30m");
    assert!(tuned[0].set_threshold(5));
    let message = kibana_ndjson(&tuned).unwrap_err().to_string();
    assert!(message.contains("runs=3, the rule now 5"), "{message}");
    assert!(detection_rules_files(&tuned).is_err());
}

// ---------------------------------------------------------------------------------------------
// The 9.5 rule schemas.

/// A draft-04 validator for the keywords the rule schemas use. Errors are `path: problem`.
fn validate(schema: &Json, value: &Json, path: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        panic!("{path}: a schema must be an object");
    };
    for (keyword, rule) in schema {
        match keyword.as_str() {
            // Annotations.
            "$schema" | "description" | "enumNames" | "min_compat" => {}
            "type" => {
                let types: Vec<&str> = match rule {
                    Json::String(t) => vec![t.as_str()],
                    Json::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
                    _ => panic!("{path}: bad `type` in the schema"),
                };
                let ok = types.iter().any(|t| match *t {
                    "string" => value.is_string(),
                    "integer" => value.is_i64() || value.is_u64(),
                    "number" => value.is_number(),
                    "boolean" => value.is_boolean(),
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "null" => value.is_null(),
                    other => panic!("{path}: unknown type `{other}` in the schema"),
                });
                if !ok {
                    errors.push(format!("{path}: {value} is not of type {types:?}"));
                }
            }
            "enum" => {
                if !rule.as_array().unwrap().contains(value) {
                    errors.push(format!("{path}: {value} is not one of {rule}"));
                }
            }
            "pattern" => {
                if let Some(s) = value.as_str() {
                    let re = regex::Regex::new(rule.as_str().unwrap()).unwrap();
                    if !re.is_match(s) {
                        errors.push(format!("{path}: {s:?} does not match {rule}"));
                    }
                }
            }
            "minimum" | "maximum" => {
                if let (Some(v), Some(limit)) = (value.as_f64(), rule.as_f64()) {
                    let bad = if keyword == "minimum" {
                        v < limit
                    } else {
                        v > limit
                    };
                    if bad {
                        errors.push(format!("{path}: {v} is outside the {keyword} {limit}"));
                    }
                }
            }
            "minLength" => {
                if let Some(s) = value.as_str()
                    && (s.chars().count() as u64) < rule.as_u64().unwrap()
                {
                    errors.push(format!("{path}: {s:?} is shorter than {rule}"));
                }
            }
            "minItems" | "maxItems" => {
                if let Some(a) = value.as_array() {
                    let n = rule.as_u64().unwrap() as usize;
                    let bad = if keyword == "minItems" {
                        a.len() < n
                    } else {
                        a.len() > n
                    };
                    if bad {
                        errors.push(format!("{path}: {} items, {keyword} is {n}", a.len()));
                    }
                }
            }
            "items" => {
                assert!(
                    rule.is_object(),
                    "{path}: only one `items` schema is supported"
                );
                if let Some(a) = value.as_array() {
                    for (i, v) in a.iter().enumerate() {
                        validate(rule, v, &format!("{path}[{i}]"), errors);
                    }
                }
            }
            "properties" => {
                if let Some(o) = value.as_object() {
                    for (k, s) in rule.as_object().unwrap() {
                        if let Some(v) = o.get(k) {
                            validate(s, v, &format!("{path}.{k}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(o) = value.as_object() {
                    let known = schema.get("properties").and_then(Json::as_object);
                    for (k, v) in o {
                        if known.is_some_and(|p| p.contains_key(k)) {
                            continue;
                        }
                        match rule {
                            Json::Bool(false) => {
                                errors.push(format!("{path}: `{k}` is not allowed"));
                            }
                            Json::Bool(true) => {}
                            s => validate(s, v, &format!("{path}.{k}"), errors),
                        }
                    }
                }
            }
            "required" => {
                if let Some(o) = value.as_object() {
                    for k in rule.as_array().unwrap() {
                        if !o.contains_key(k.as_str().unwrap()) {
                            errors.push(format!("{path}: `{k}` is required"));
                        }
                    }
                }
            }
            other => panic!(
                "{path}: the schema uses `{other}`, which this validator does not know; teach it"
            ),
        }
    }
}

/// A change that breaks one constraint of the schemas.
type Breakage = fn(&mut Json);

struct Schemas {
    base: Json,
    eql: Json,
    threshold: Json,
}

impl Schemas {
    /// The schemas from `QUARRY_KIBANA_SCHEMAS_DIR`, or `None` (after saying SKIPPED).
    fn load() -> Option<Schemas> {
        let dir = std::env::var_os("QUARRY_KIBANA_SCHEMAS_DIR").map(PathBuf::from);
        let Some(dir) = dir.filter(|d| d.join("9.5.base.json").is_file()) else {
            eprintln!(
                "\n*** SKIPPED: Kibana 9.5 rule schemas not found. Set QUARRY_KIBANA_SCHEMAS_DIR to \
                 the folder holding 9.5.base.json, 9.5.eql.json and 9.5.threshold.json \
                 (../shared/reference/elastic-detection-rules/api_schemas_9.5; .ci/run sets it). ***\n"
            );
            return None;
        };
        let read = |name: &str| -> Json {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        Some(Schemas {
            base: read("9.5.base.json"),
            eql: read("9.5.eql.json"),
            threshold: read("9.5.threshold.json"),
        })
    }

    /// Problems of one rule object: against its type's schema, and its base fields against the
    /// base schema (the type schemas add `query`, `language`, `index`, ... to the base, whose
    /// `additionalProperties: false` would refuse them; detection-rules strips the fields a
    /// schema does not list before validating, and so does this).
    fn problems(&self, rule: &Json) -> Vec<String> {
        let mut errors = Vec::new();
        let typed = match rule["type"].as_str() {
            Some("eql") => &self.eql,
            Some("threshold") => &self.threshold,
            other => panic!("no schema for rule type {other:?}"),
        };
        validate(typed, rule, "rule", &mut errors);
        let base_fields = self.base["properties"].as_object().unwrap();
        let stripped: serde_json::Map<String, Json> = rule
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| base_fields.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        validate(
            &self.base,
            &Json::Object(stripped),
            "rule(base)",
            &mut errors,
        );
        errors
    }
}

#[test]
fn kibana_rules_validate_against_the_9_5_schemas() {
    let Some(schemas) = Schemas::load() else {
        return;
    };
    let mut rules = exportable_pack();
    rules.extend(fixture_rules());
    let out = lines(&kibana_ndjson(&rules).unwrap());
    let mut checked = 0;
    for line in out.iter().filter(|l| l.get("rule_id").is_some()) {
        let problems = schemas.problems(line);
        assert!(
            problems.is_empty(),
            "{} does not validate:\n{}",
            line["name"],
            problems.join("\n")
        );
        checked += 1;
    }
    assert_eq!(checked, rules.len());
    eprintln!("{checked} exported rules validate against the 9.5 schemas");

    // The validator bites: each change below breaks one constraint of the schemas.
    let good = out[0].clone();
    let broken: [(&str, Breakage); 9] = [
        ("required", |r| {
            r.as_object_mut().unwrap().remove("severity");
        }),
        ("pattern", |r| r["interval"] = json!("5 minutes")),
        ("enum", |r| r["severity"] = json!("severe")),
        ("maximum", |r| r["risk_score"] = json!(101)),
        ("type", |r| r["tags"] = json!("Tactic: Collection")),
        ("additionalProperties", |r| r["immutable"] = json!(false)),
        ("tactic reference", |r| {
            r["threat"][0]["tactic"]["reference"] = json!("https://attack.mitre.org/tactics/TA0009")
        }),
        // Kibana's own export writes required_fields items with `type`; the 9.5 schema has no
        // `type` for them, which is why the export leaves required_fields out.
        (
            "required_fields",
            |r| {
                r["required_fields"] =
                    json!([{"name": "user.name", "type": "keyword", "ecs": true}])
            },
        ),
        // Likewise related_integrations items need `version` for Kibana; the schema has only
        // `package`.
        (
            "related_integrations",
            |r| {
                r["related_integrations"] =
                    json!([{"package": "atlassian_confluence", "version": "^2.0.0"}])
            },
        ),
    ];
    for (what, change) in broken {
        let mut r = good.clone();
        change(&mut r);
        assert!(
            !schemas.problems(&r).is_empty(),
            "the validator accepted a rule with a broken {what}"
        );
    }
    // Threshold rules take only `duration` in their suppression.
    let mut threshold = out
        .iter()
        .find(|l| l["type"] == json!("threshold"))
        .unwrap()
        .clone();
    threshold["alert_suppression"]["group_by"] = json!(["user.name"]);
    assert!(!schemas.problems(&threshold).is_empty());
}

// ---------------------------------------------------------------------------------------------
// detection-rules TOML.

/// The keys detection-rules' rule data classes know (BaseRuleData, QueryRuleData, EQLRuleData,
/// ThresholdQueryRuleData) and its RuleMeta: nothing else may appear.
const DR_RULE_KEYS: &[&str] = &[
    "actions",
    "alert_suppression",
    "author",
    "building_block_type",
    "data_view_id",
    "description",
    "enabled",
    "event_category_override",
    "exceptions_list",
    "false_positives",
    "filters",
    "from",
    "index",
    "interval",
    "investigation_fields",
    "language",
    "license",
    "max_signals",
    "meta",
    "name",
    "note",
    "query",
    "references",
    "related_integrations",
    "required_fields",
    "revision",
    "risk_score",
    "risk_score_mapping",
    "rule_id",
    "rule_name_override",
    "setup",
    "severity",
    "severity_mapping",
    "tags",
    "threat",
    "threshold",
    "throttle",
    "tiebreaker_field",
    "timeline_id",
    "timeline_title",
    "timestamp_field",
    "timestamp_override",
    "to",
    "type",
    "version",
];
const DR_METADATA_KEYS: &[&str] = &[
    "bypass_bbr_timing",
    "comments",
    "creation_date",
    "deprecation_date",
    "extended",
    "integration",
    "maturity",
    "min_stack_comments",
    "min_stack_version",
    "os_type_list",
    "promotion",
    "query_schema_validation",
    "related_endpoint_rules",
    "updated_date",
];

#[test]
fn detection_rules_files_hold_only_keys_detection_rules_knows() {
    let mut rules = pack();
    rules.extend(fixture_rules());
    let files = detection_rules_files(&rules).unwrap();
    assert_eq!(files.len(), rules.len());
    for (name, text) in &files {
        let doc: toml::Table = toml::from_str(text).unwrap();
        let top: Vec<&str> = doc.keys().map(String::as_str).collect();
        assert_eq!(top, ["metadata", "rule"], "{name}: no [[exceptions]]");
        for k in doc["metadata"].as_table().unwrap().keys() {
            assert!(
                DR_METADATA_KEYS.contains(&k.as_str()),
                "{name}: [metadata] {k}"
            );
        }
        let rule = doc["rule"].as_table().unwrap();
        for k in rule.keys() {
            assert!(DR_RULE_KEYS.contains(&k.as_str()), "{name}: [rule] {k}");
        }
        if rule["type"].as_str() == Some("threshold")
            && let Some(s) = rule.get("alert_suppression")
        {
            let keys: Vec<&String> = s.as_table().unwrap().keys().collect();
            assert_eq!(keys, ["duration"], "{name}: threshold suppression");
        }
        // detection-rules' file names.
        assert!(
            name.ends_with(".toml")
                && name[..name.len() - 5]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
    }
    let with_exceptions = &files
        .iter()
        .find(|(n, _)| n == "with_exceptions.toml")
        .unwrap()
        .1;
    assert!(
        with_exceptions.starts_with("# Exported by `quarry rules export --format detection-rules`")
    );
    assert!(with_exceptions.contains(
        "2 exception item(s) under [[exceptions]] (\"Nightly space backup\", \"Migration team\")"
    ));
    assert!(with_exceptions.contains("# Elastic integration fields: confluence.space.key.\n"));
    // Queries and notes are multi-line strings, as people write them.
    let bulk = &files
        .iter()
        .find(|(n, _)| n == "bulk_data_mining.toml")
        .unwrap()
        .1;
    assert!(bulk.contains("query = \"\"\"\nsequence by user.name, source.ip with maxspan=1h\n"));
    assert!(bulk.contains("note = \"\"\"\n## Triage and analysis\n"));
}

/// Pack and fixture rules: TOML for detection-rules, read back with our own loader, give the
/// same rules, but for the file they came from and the `[[exceptions]]` the format has no place
/// for.
///
/// Known gap: a threshold rule with `[rule.alert_suppression]` is exported with `duration` only
/// (all detection-rules and Kibana take for threshold rules), and our loader still requires
/// `group_by`, so it does not read back. When the loader defaults a threshold rule's `group_by`
/// to its threshold fields, this test fails on purpose: drop the special case.
#[test]
fn detection_rules_toml_round_trips() {
    let mut rules = pack();
    rules.extend(fixture_rules());
    let files = detection_rules_files(&rules).unwrap();
    let dir = std::env::temp_dir().join(format!("quarry-export-roundtrip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let options = LoadOptions::default();
    let mut compared = 0;
    for original in &rules {
        let path = dir.join(file_name(original));
        match load_file(&path, &options) {
            Ok(mut back) => {
                let mut expected = original.clone();
                expected.path = PathBuf::new();
                expected.exceptions.clear();
                // A threshold rule's suppression left to the default window is written with
                // that window stated (detection-rules takes only `duration` for them).
                if let (Some(s), "threshold") =
                    (&mut expected.suppression, original.rule_type.as_str())
                    && s.duration_ms.is_none()
                {
                    s.duration_ms = Some(original.from_ms);
                }
                back.path = PathBuf::new();
                assert_eq!(back, expected, "{} does not round-trip", original.name);
                compared += 1;
            }
            Err(e) => panic!("{}: {}", original.name, e.render(quarry_eql::Style::Plain)),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(compared, rules.len());
    // Writing the read-back rules again gives the same files.
    let again: Vec<(String, String)> = files
        .iter()
        .filter_map(|(name, text)| {
            let rule =
                quarry_rules::load_sources(vec![(PathBuf::from(name), text.clone())], &options)
                    .ok()?;
            Some(export::detection_rules_files(&rule).unwrap().remove(0))
        })
        .collect();
    for (name, text) in &again {
        let first = &files.iter().find(|(n, _)| n == name).unwrap().1;
        // The first export of a rule with exceptions says so in its header; the second cannot.
        if !first.contains("Left out: the Quarry rule's") {
            assert_eq!(text, first, "{name} is not stable");
        }
    }
}
