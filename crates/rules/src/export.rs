//! Handing the pack to Elastic Security: Kibana's rule import NDJSON, and elastic/detection-rules
//! TOML.
//!
//! [`kibana_ndjson`] writes what `POST /api/detection_engine/rules/_import` takes, in the shape
//! of Kibana's own export: one rule per line (sorted by `rule_id`, imported **disabled** so that
//! someone reviews them before they run), then for each rule with `[[exceptions]]` its exception
//! list container (a rule's default list, as Kibana makes for rule exceptions) and one line per
//! item, then the export summary line Kibana writes last (its import skips that line). List and
//! item ids are UUIDs derived from the rule's `rule_id` and the item's name (UUID version 5), so
//! exporting twice gives the same file and re-importing updates rather than duplicates.
//!
//! Before writing, each rule is checked against what Kibana would run badly or refuse, and every
//! problem is returned, each naming its rule file:
//! - an EQL sequence's lookback (`from`) must cover its maxspan, and its `interval` must be at
//!   least half the maxspan (the rule; Elastic's rule tests ask for the interval, and for
//!   a lookback of at least the maxspan less 10 minutes);
//! - Kibana's limits: at most 3 `group_by` fields for suppression, at most 5 threshold fields,
//!   suppression durations of at least one second, `max_signals` and `version` at least 1;
//! - exception item names unique within a rule (they are the items' identity);
//! - an EQL rule whose threshold was changed after loading (tuning) cannot be exported, because
//!   the export writes the query text as written in the file.
//!
//! Alert suppression always states its `duration`: Quarry's window when the rule file has none
//! (the maxspan, or the lookback of a threshold rule, or the interval), because Kibana's default
//! (one rule execution) is a different window.
//!
//! What is left out of the Kibana rules, and why: `required_fields` and `related_integrations`.
//! Kibana's import wants `{name, type}` and `{package, version}` items, while the 9.5 rule schema
//! (detection-rules' `api_schemas`) allows only `{name, ecs}` and `{package}`: no item satisfies
//! both, and both fields are optional.
//!
//! [`detection_rules_files`] writes one TOML file per rule, named like the rule's own file, with
//! `[metadata]` and `[rule]` in detection-rules' key order and only keys its loader knows. The
//! Quarry-only `[[exceptions]]` are left out (a comment at the top of the file says so), and a
//! threshold rule's `[rule.alert_suppression]` keeps only `duration`, the only key detection-rules
//! and Kibana have for threshold suppression (they group by the threshold fields).
//!
//! detection-rules also checks every field a query reads against ECS and the integration
//! schemas. Quarry's own `confluence.*` fields are in neither, so a file whose query reads them
//! says so at the top: detection-rules loads it only with `query_schema_validation = false`
//! under `[metadata]` or with those fields added to the custom rules' schema.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use quarry_eql::ast::QueryBody;
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use crate::exception::{EntryTest, ExceptionItem};
use crate::rule::{AttackRef, Rule, RuleKind, Suppression, Threat};

/// Kibana's limit on alert suppression `group_by` fields.
pub const MAX_GROUP_BY: usize = 3;
/// Kibana's limit on threshold fields (9.2 and later; 3 before).
pub const MAX_THRESHOLD_FIELDS: usize = 5;

/// Every reason the rules cannot be exported, each with the rule file it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportError {
    pub problems: Vec<Problem>,
}

/// One reason one rule cannot be exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The rule's file.
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExportError {}

fn problem(rule: &Rule, message: impl Into<String>) -> Problem {
    Problem {
        path: rule.path.clone(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// Elastic's scheduling rules for EQL sequences: the lookback covers the maxspan, and the
/// interval is at least half of it. Empty when the rule is fine (or not a sequence with one).
pub fn schedule_problems(rule: &Rule) -> Vec<Problem> {
    let Some(maxspan_ms) = rule.maxspan_ms() else {
        return Vec::new();
    };
    let maxspan = maxspan_text(rule).unwrap_or_else(|| duration_text(maxspan_ms));
    let mut out = Vec::new();
    if rule.from_ms < maxspan_ms {
        out.push(problem(
            rule,
            format!(
                "`{}`: the lookback `from = \"now-{}\"` is shorter than the sequence's maxspan ({maxspan}); \
                 Kibana would never see a whole sequence. Set `from` to at least \"now-{maxspan}\"",
                rule.name,
                duration_text(rule.from_ms),
            ),
        ));
    }
    if rule.interval_ms.saturating_mul(2) < maxspan_ms {
        let minutes = maxspan_ms.div_ceil(2).div_ceil(60_000);
        out.push(problem(
            rule,
            format!(
                "`{}`: `interval = \"{}\"` is shorter than half the sequence's maxspan ({maxspan}); \
                 Elastic's rules for EQL require interval >= maxspan / 2. Set `interval` to at \
                 least \"{minutes}m\"",
                rule.name,
                duration_text(rule.interval_ms),
            ),
        ));
    }
    out
}

/// The maxspan as written in the query (`15m`).
fn maxspan_text(rule: &Rule) -> Option<String> {
    match &rule.kind {
        RuleKind::Eql(q) => match &q.body {
            QueryBody::Sequence(s) => s
                .maxspan
                .as_ref()
                .map(|m| format!("{}{}", m.value, m.unit.suffix())),
            _ => None,
        },
        RuleKind::Threshold { .. } => None,
    }
}

/// What Kibana would refuse, or what the export cannot express, for one rule (the schedule
/// rules included).
pub fn kibana_problems(rule: &Rule) -> Vec<Problem> {
    let mut out = schedule_problems(rule);
    out.extend(common_problems(rule));
    if let Some(s) = &rule.suppression {
        if rule.rule_type == "eql" && !(1..=MAX_GROUP_BY).contains(&s.group_by.len()) {
            out.push(problem(
                rule,
                format!(
                    "`{}`: Kibana suppresses alerts by 1 to {MAX_GROUP_BY} fields; `group_by` has {}",
                    rule.name,
                    s.group_by.len()
                ),
            ));
        }
        if suppression_window_ms(rule, s) < 1_000 {
            out.push(problem(
                rule,
                format!(
                    "`{}`: the suppression duration must be at least 1s",
                    rule.name
                ),
            ));
        }
    }
    if let RuleKind::Threshold { fields, .. } = &rule.kind
        && fields.len() > MAX_THRESHOLD_FIELDS
    {
        out.push(problem(
            rule,
            format!(
                "`{}`: Kibana counts by at most {MAX_THRESHOLD_FIELDS} threshold fields; this rule has {}",
                rule.name,
                fields.len()
            ),
        ));
    }
    if rule.max_signals == Some(0) {
        out.push(problem(
            rule,
            format!("`{}`: `max_signals` must be at least 1", rule.name),
        ));
    }
    if rule.version == Some(0) {
        out.push(problem(
            rule,
            format!("`{}`: `version` must be at least 1", rule.name),
        ));
    }
    let mut names = BTreeSet::new();
    for e in &rule.exceptions {
        if !names.insert(e.name.as_str()) {
            out.push(problem(
                rule,
                format!(
                    "`{}`: two exceptions are named `{}`; the name identifies the item in Kibana, so make them unique",
                    rule.name, e.name
                ),
            ));
        }
    }
    out
}

/// Problems both exports share.
fn common_problems(rule: &Rule) -> Vec<Problem> {
    let mut out = Vec::new();
    if let RuleKind::Eql(q) = &rule.kind {
        let written = quarry_eql::parse(&rule.query)
            .ok()
            .and_then(|w| single_stage_runs(&w));
        let now = single_stage_runs(q);
        if written != now {
            out.push(problem(
                rule,
                format!(
                    "`{}`: its threshold was changed after loading (the query says runs={}, the rule now {}); \
                     the export writes the query as written, so export the rule file, not a tuned rule",
                    rule.name,
                    written.map_or("-".into(), |n| n.to_string()),
                    now.map_or("-".into(), |n| n.to_string()),
                ),
            ));
        }
    }
    out
}

fn single_stage_runs(q: &quarry_eql::ast::Query) -> Option<u32> {
    match &q.body {
        QueryBody::Sequence(s) if s.stages.len() == 1 => s.stages[0].runs.as_ref().map(|r| r.count),
        _ => None,
    }
}

fn check(rules: &[Rule], problems: impl Fn(&Rule) -> Vec<Problem>) -> Result<(), ExportError> {
    let problems: Vec<Problem> = rules.iter().flat_map(problems).collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ExportError { problems })
    }
}

// ---------------------------------------------------------------------------------------------
// Durations.

/// `90m`, `3h`, `45s`: minutes unless the value is whole hours of three or more, seconds when
/// it is not whole minutes. Reads back to the same milliseconds.
pub fn duration_text(ms: u64) -> String {
    const MIN: u64 = 60_000;
    const HOUR: u64 = 3_600_000;
    if !ms.is_multiple_of(MIN) {
        format!("{}s", ms.div_ceil(1_000))
    } else if ms.is_multiple_of(HOUR) && ms >= 3 * HOUR {
        format!("{}h", ms / HOUR)
    } else {
        format!("{}m", ms / MIN)
    }
}

/// A suppression duration as Kibana's `{value, unit}` (units `s`, `m`, `h`).
fn kibana_duration(ms: u64) -> (u64, &'static str) {
    if ms.is_multiple_of(3_600_000) {
        (ms / 3_600_000, "h")
    } else if ms.is_multiple_of(60_000) {
        (ms / 60_000, "m")
    } else {
        (ms.div_ceil(1_000), "s")
    }
}

/// The suppression window Quarry applies: the written one, or its default (a sequence's
/// maxspan, a threshold rule's lookback, an EQL event query's interval). Kibana's default is
/// different (one rule execution), so the Kibana export always states the window.
fn suppression_window_ms(rule: &Rule, s: &Suppression) -> u64 {
    s.duration_ms
        .or_else(|| rule.maxspan_ms())
        .unwrap_or(match rule.kind {
            RuleKind::Threshold { .. } => rule.from_ms,
            RuleKind::Eql(_) => rule.interval_ms,
        })
}

// ---------------------------------------------------------------------------------------------
// Kibana NDJSON.

/// The namespace of the UUIDs the export derives (exception lists and items).
const ID_NAMESPACE: [u8; 16] = [
    0x15, 0xb4, 0x19, 0x18, 0x33, 0xfb, 0x42, 0x83, 0x9c, 0xdd, 0x26, 0x93, 0xbd, 0x94, 0xf3, 0xce,
];

/// The `list_id` of a rule's exception list.
pub fn exception_list_id(rule_id: &str) -> String {
    uuid_v5(
        &ID_NAMESPACE,
        format!("{rule_id}/exception-list").as_bytes(),
    )
}

/// The saved-object `id` of a rule's exception list.
fn exception_list_object_id(rule_id: &str) -> String {
    uuid_v5(
        &ID_NAMESPACE,
        format!("{rule_id}/exception-list/id").as_bytes(),
    )
}

/// The `item_id` of the exception item named `name` of a rule.
pub fn exception_item_id(rule_id: &str, name: &str) -> String {
    uuid_v5(
        &ID_NAMESPACE,
        format!("{rule_id}/exception-item/{name}").as_bytes(),
    )
}

fn exception_item_object_id(rule_id: &str, name: &str) -> String {
    uuid_v5(
        &ID_NAMESPACE,
        format!("{rule_id}/exception-item/{name}/id").as_bytes(),
    )
}

/// The Kibana rule object for one rule (no checks; see [`kibana_problems`]).
pub fn kibana_rule(rule: &Rule) -> Json {
    let mut o = Map::new();
    let mut put = |k: &str, v: Json| {
        o.insert(k.to_string(), v);
    };
    put("rule_id", json!(rule.rule_id));
    put("name", json!(rule.name));
    put("description", json!(rule.description));
    put("severity", json!(rule.severity.name()));
    put("risk_score", json!(rule.risk_score));
    put("type", json!(rule.rule_type));
    put("language", json!(rule.language));
    if !rule.index.is_empty() {
        put("index", json!(rule.index));
    }
    put("query", json!(rule.query));
    if let RuleKind::Threshold { fields, value, .. } = &rule.kind {
        put(
            "threshold",
            json!({"field": fields, "value": value, "cardinality": []}),
        );
    }
    if let Some(s) = &rule.suppression {
        let (value, unit) = kibana_duration(suppression_window_ms(rule, s));
        let duration = json!({"value": value, "unit": unit});
        // Threshold rules suppress by their threshold fields and take only a duration.
        let a = if rule.rule_type == "threshold" {
            json!({"duration": duration})
        } else {
            json!({
                "group_by": s.group_by,
                "duration": duration,
                "missing_fields_strategy": missing_fields_strategy(s),
            })
        };
        put("alert_suppression", a);
    }
    put(
        "from",
        json!(format!("now-{}", duration_text(rule.from_ms))),
    );
    put("to", json!("now"));
    put("interval", json!(duration_text(rule.interval_ms)));
    if let Some(m) = rule.max_signals {
        put("max_signals", json!(m));
    }
    put("enabled", json!(false));
    put(
        "threat",
        Json::Array(rule.threat.iter().map(kibana_threat).collect()),
    );
    let lists = if rule.exceptions.is_empty() {
        Vec::new()
    } else {
        vec![json!({
            "id": exception_list_object_id(&rule.rule_id),
            "list_id": exception_list_id(&rule.rule_id),
            "type": "rule_default",
            "namespace_type": "single",
        })]
    };
    put("exceptions_list", Json::Array(lists));
    put("tags", json!(rule.tags));
    put("references", json!(rule.references));
    put("false_positives", json!(rule.false_positives));
    put("author", json!(rule.author));
    if let Some(l) = &rule.license {
        put("license", json!(l));
    }
    if let Some(n) = &rule.note {
        put("note", json!(n));
    }
    if let Some(s) = &rule.setup {
        put("setup", json!(s));
    }
    put("version", json!(rule.version.unwrap_or(1)));
    Json::Object(o)
}

fn missing_fields_strategy(s: &Suppression) -> &'static str {
    if s.suppress_missing {
        "suppress"
    } else {
        "doNotSuppress"
    }
}

/// Kibana's threat shape; references end with `/` as its schema requires.
fn kibana_threat(t: &Threat) -> Json {
    let r = |a: &AttackRef| {
        json!({
            "id": a.id,
            "name": a.name,
            "reference": slash(&a.reference),
        })
    };
    let techniques: Vec<Json> = t
        .techniques
        .iter()
        .map(|tech| {
            let mut o = r(&tech.technique);
            if !tech.subtechniques.is_empty() {
                o["subtechnique"] = Json::Array(tech.subtechniques.iter().map(r).collect());
            }
            o
        })
        .collect();
    json!({
        "framework": t.framework,
        "tactic": r(&t.tactic),
        "technique": techniques,
    })
}

fn slash(url: &str) -> String {
    if url.ends_with('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

/// The exception list container of a rule with `[[exceptions]]`, as Kibana exports a rule's
/// default list.
fn kibana_exception_list(rule: &Rule) -> Json {
    json!({
        "id": exception_list_object_id(&rule.rule_id),
        "list_id": exception_list_id(&rule.rule_id),
        "type": "rule_default",
        "namespace_type": "single",
        "name": format!("Exceptions for rule - {}", rule.name),
        "description": format!("Exception list containing exceptions for rule with rule_id: {}", rule.rule_id),
        "tags": ["default_rule_exception_list"],
        "os_types": [],
        "immutable": false,
        "version": 1,
    })
}

fn kibana_exception_item(rule: &Rule, item: &ExceptionItem) -> Json {
    let entries: Vec<Json> = item
        .entries
        .iter()
        .map(|e| {
            let operator = if e.excluded { "excluded" } else { "included" };
            match &e.test {
                EntryTest::Match(v) => {
                    json!({"type": "match", "field": e.field, "value": v, "operator": operator})
                }
                EntryTest::MatchAny(vs) => {
                    json!({"type": "match_any", "field": e.field, "value": vs, "operator": operator})
                }
                EntryTest::Wildcard(v) => {
                    json!({"type": "wildcard", "field": e.field, "value": v, "operator": operator})
                }
                EntryTest::Exists => {
                    json!({"type": "exists", "field": e.field, "operator": operator})
                }
            }
        })
        .collect();
    let description = if item.description.is_empty() {
        "Exception list item"
    } else {
        item.description.as_str()
    };
    json!({
        "id": exception_item_object_id(&rule.rule_id, &item.name),
        "item_id": exception_item_id(&rule.rule_id, &item.name),
        "list_id": exception_list_id(&rule.rule_id),
        "type": "simple",
        "namespace_type": "single",
        "name": item.name,
        "description": description,
        "entries": entries,
        "os_types": [],
        "tags": [],
        "comments": [],
    })
}

/// Kibana import NDJSON for `rules`: the rules (sorted by `rule_id`, disabled), their exception
/// lists and items, and the export summary line. Fails with every problem of every rule.
pub fn kibana_ndjson(rules: &[Rule]) -> Result<String, ExportError> {
    check(rules, kibana_problems)?;
    let mut sorted: Vec<&Rule> = rules.iter().collect();
    sorted.sort_by(|a, b| a.rule_id.cmp(&b.rule_id));
    let mut lines = Vec::new();
    for rule in &sorted {
        lines.push(kibana_rule(rule));
    }
    let (mut lists, mut items) = (0, 0);
    for rule in sorted.iter().filter(|r| !r.exceptions.is_empty()) {
        lines.push(kibana_exception_list(rule));
        lists += 1;
        for item in &rule.exceptions {
            lines.push(kibana_exception_item(rule, item));
            items += 1;
        }
    }
    let summary = json!({
        "exported_count": lines.len(),
        "exported_rules_count": sorted.len(),
        "missing_rules": [],
        "missing_rules_count": 0,
        "exported_exception_list_count": lists,
        "exported_exception_list_item_count": items,
        "missing_exception_list_item_count": 0,
        "missing_exception_list_items": [],
        "missing_exception_lists": [],
        "missing_exception_lists_count": 0,
        "exported_action_connector_count": 0,
        "missing_action_connection_count": 0,
        "missing_action_connections": [],
        "excluded_action_connection_count": 0,
        "excluded_action_connections": [],
    });
    lines.push(summary);
    let mut out = String::new();
    for line in lines {
        out.push_str(&serde_json::to_string(&line).expect("JSON values serialize"));
        out.push('\n');
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// detection-rules TOML.

#[derive(Serialize)]
struct DrFile<'a> {
    metadata: DrMetadata<'a>,
    rule: DrRule<'a>,
}

/// `[metadata]`, keys in detection-rules' (alphabetical) order.
#[derive(Serialize)]
struct DrMetadata<'a> {
    creation_date: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    integration: &'a [String],
    maturity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_stack_comments: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_stack_version: Option<&'a str>,
    updated_date: &'a str,
}

/// `[rule]`: keys alphabetical with `query` last, then the tables, as detection-rules writes
/// them.
#[derive(Serialize)]
struct DrRule<'a> {
    author: &'a [String],
    description: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    false_positives: &'a [String],
    from: String,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    index: &'a [String],
    interval: String,
    language: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    license: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_signals: Option<u32>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    references: &'a [String],
    risk_score: u8,
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    setup: Option<&'a str>,
    severity: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    #[serde(rename = "type")]
    rule_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    query: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    threshold: Option<DrThreshold<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alert_suppression: Option<DrSuppression<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    threat: Vec<DrThreat<'a>>,
}

#[derive(Serialize)]
struct DrThreshold<'a> {
    field: &'a [String],
    value: u64,
}

#[derive(Serialize)]
struct DrSuppression<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    group_by: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<DrDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing_fields_strategy: Option<&'static str>,
}

#[derive(Serialize)]
struct DrDuration {
    value: u64,
    unit: &'static str,
}

#[derive(Serialize)]
struct DrThreat<'a> {
    framework: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    technique: Vec<DrTechnique<'a>>,
    tactic: DrRef<'a>,
}

#[derive(Serialize)]
struct DrTechnique<'a> {
    id: &'a str,
    name: &'a str,
    reference: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subtechnique: Vec<DrRef<'a>>,
}

#[derive(Serialize)]
struct DrRef<'a> {
    id: &'a str,
    name: &'a str,
    reference: &'a str,
}

fn dr_ref(a: &AttackRef) -> DrRef<'_> {
    DrRef {
        id: &a.id,
        name: &a.name,
        reference: &a.reference,
    }
}

/// One rule as an elastic/detection-rules TOML file (see the module documentation for what is
/// left out).
pub fn detection_rules_toml(rule: &Rule) -> Result<String, ExportError> {
    check(std::slice::from_ref(rule), common_problems)?;
    let m = &rule.metadata;
    let threshold = match &rule.kind {
        RuleKind::Threshold { fields, value, .. } => Some(DrThreshold {
            field: fields,
            value: *value,
        }),
        RuleKind::Eql(_) => None,
    };
    let dr_duration = |ms: u64| {
        let (value, unit) = kibana_duration(ms);
        DrDuration { value, unit }
    };
    let alert_suppression = rule.suppression.as_ref().map(|s| {
        if threshold.is_some() {
            DrSuppression {
                group_by: None,
                duration: Some(dr_duration(suppression_window_ms(rule, s))),
                missing_fields_strategy: None,
            }
        } else {
            DrSuppression {
                group_by: Some(&s.group_by),
                duration: s.duration_ms.map(dr_duration),
                missing_fields_strategy: Some(missing_fields_strategy(s)),
            }
        }
    });
    let file = DrFile {
        metadata: DrMetadata {
            creation_date: &m.creation_date,
            integration: &m.integration,
            maturity: &m.maturity,
            min_stack_comments: m.min_stack_comments.as_deref(),
            min_stack_version: m.min_stack_version.as_deref(),
            updated_date: &m.updated_date,
        },
        rule: DrRule {
            author: &rule.author,
            description: &rule.description,
            false_positives: &rule.false_positives,
            from: format!("now-{}", duration_text(rule.from_ms)),
            index: &rule.index,
            interval: duration_text(rule.interval_ms),
            language: &rule.language,
            license: rule.license.as_deref(),
            max_signals: rule.max_signals,
            name: &rule.name,
            note: rule.note.as_deref(),
            references: &rule.references,
            risk_score: rule.risk_score,
            rule_id: &rule.rule_id,
            setup: rule.setup.as_deref(),
            severity: rule.severity.name(),
            tags: &rule.tags,
            rule_type: &rule.rule_type,
            version: rule.version,
            query: &rule.query,
            threshold,
            alert_suppression,
            threat: rule
                .threat
                .iter()
                .map(|t| DrThreat {
                    framework: &t.framework,
                    technique: t
                        .techniques
                        .iter()
                        .map(|tech| DrTechnique {
                            id: &tech.technique.id,
                            name: &tech.technique.name,
                            reference: &tech.technique.reference,
                            subtechnique: tech.subtechniques.iter().map(dr_ref).collect(),
                        })
                        .collect(),
                    tactic: dr_ref(&t.tactic),
                })
                .collect(),
        },
    };
    let body = toml::to_string_pretty(&file).map_err(|e| ExportError {
        problems: vec![problem(rule, format!("cannot write TOML: {e}"))],
    })?;
    Ok(format!("{}\n{body}", header(rule)))
}

/// The comment at the top of an exported file.
fn header(rule: &Rule) -> String {
    let mut h = String::from(
        "# Exported by `quarry rules export --format detection-rules` for elastic/detection-rules.\n",
    );
    if !rule.exceptions.is_empty() {
        let names: Vec<String> = rule
            .exceptions
            .iter()
            .map(|e| format!("\"{}\"", e.name))
            .collect();
        h.push_str(&format!(
            "# Left out: the Quarry rule's {} exception item(s) under [[exceptions]] ({}), which\n\
             # detection-rules' format has no place for. Kibana keeps them in exception lists:\n\
             # `quarry rules export --format kibana` exports them with the rule.\n",
            rule.exceptions.len(),
            names.join(", ")
        ));
    }
    let quarry_fields = quarry_only_fields(rule);
    if !quarry_fields.is_empty() {
        h.push_str(&format!(
            "# The query reads fields of Quarry's normalized events that are neither ECS nor\n\
             # Elastic integration fields: {}.\n\
             # detection-rules validates queries against those schemas: set\n\
             # `query_schema_validation = false` under [metadata], or add the fields to the\n\
             # custom rules' schema.\n",
            quarry_fields.join(", ")
        ));
    }
    if rule.rule_type == "threshold" && rule.suppression.is_some() {
        h.push_str(
            "# [rule.alert_suppression] keeps only `duration`: threshold rules suppress by their\n\
             # threshold fields, and detection-rules and Kibana take no `group_by` for them.\n",
        );
    }
    if rule.version.is_some() {
        h.push_str(
            "# `version` is set: detection-rules accepts it only with `bypass_version_lock: true`\n\
             # in the custom rules' _config.yaml.\n",
        );
    }
    h
}

/// The fields of Quarry's own `confluence.*` namespace the query reads, sorted.
fn quarry_only_fields(rule: &Rule) -> Vec<String> {
    let mut fields = BTreeSet::new();
    match &rule.kind {
        RuleKind::Eql(q) => {
            let mut out = Vec::new();
            crate::rule::query_fields(q, &mut out);
            fields.extend(out.into_iter().map(|(f, _)| f.dotted()));
        }
        RuleKind::Threshold { fields: by, .. } => {
            if let Ok(k) = crate::kql::parse(&rule.query) {
                fields.extend(k.fields().into_iter().map(|(f, _)| f.to_string()));
            }
            fields.extend(by.iter().cloned());
        }
    }
    fields
        .into_iter()
        .filter(|f| f.starts_with("confluence."))
        .collect()
}

/// One `(file name, TOML)` per rule, sorted by file name. A rule's file keeps the name of the
/// file it came from.
pub fn detection_rules_files(rules: &[Rule]) -> Result<Vec<(String, String)>, ExportError> {
    let mut problems = Vec::new();
    let mut files: BTreeMap<String, (String, &Rule)> = BTreeMap::new();
    for rule in rules {
        let name = file_name(rule);
        match detection_rules_toml(rule) {
            Ok(text) => {
                if let Some((_, other)) = files.get(&name) {
                    problems.push(problem(
                        rule,
                        format!(
                            "would be written to {name}, like {}; rename one of the files",
                            other.path.display()
                        ),
                    ));
                } else {
                    files.insert(name, (text, rule));
                }
            }
            Err(e) => problems.extend(e.problems),
        }
    }
    if problems.is_empty() {
        Ok(files.into_iter().map(|(n, (t, _))| (n, t)).collect())
    } else {
        Err(ExportError { problems })
    }
}

/// The rule's own file name, or one made from its name (`snake_case.toml`).
fn file_name(rule: &Rule) -> String {
    if let Some(n) = rule.path.file_name().and_then(|n| n.to_str())
        && n.ends_with(".toml")
    {
        return n.to_string();
    }
    let mut s = String::new();
    for c in rule.name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    format!("{}.toml", s.trim_matches('_'))
}

// ---------------------------------------------------------------------------------------------
// UUID version 5 (SHA-1, RFC 9562), for stable ids.

fn uuid_v5(namespace: &[u8; 16], name: &[u8]) -> String {
    let mut input = namespace.to_vec();
    input.extend_from_slice(name);
    let hash = sha1(&input);
    let mut b = [0u8; 16];
    b.copy_from_slice(&hash[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_vectors() {
        let hex = |b: [u8; 20]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(hex(sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn uuid_v5_matches_rfc() {
        // uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") in Python.
        let dns = [
            0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
            0x30, 0xc8,
        ];
        assert_eq!(
            uuid_v5(&dns, b"python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d"
        );
    }

    #[test]
    fn durations_read_back() {
        for (ms, text) in [
            (90 * 60_000, "90m"),
            (60 * 60_000, "60m"),
            (120 * 60_000, "120m"),
            (3 * 3_600_000, "3h"),
            (24 * 3_600_000, "24h"),
            (45_000, "45s"),
            (450_000, "450s"),
            (5 * 60_000, "5m"),
        ] {
            assert_eq!(duration_text(ms), text);
            assert_eq!(crate::rule::parse_duration(text, false), Some(ms));
        }
        assert_eq!(kibana_duration(3_600_000), (1, "h"));
        assert_eq!(kibana_duration(90 * 60_000), (90, "m"));
        assert_eq!(kibana_duration(30_000), (30, "s"));
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let r = "b60b9044-f0e8-4387-b265-f23481151371";
        assert_eq!(exception_list_id(r), exception_list_id(r));
        assert_ne!(exception_list_id(r), exception_list_object_id(r));
        assert_ne!(exception_item_id(r, "a"), exception_item_id(r, "b"));
        assert_ne!(
            exception_item_id(r, "a"),
            exception_item_id("44e7c566-21ac-40ba-9c56-45858e0e88fa", "a")
        );
    }
}
