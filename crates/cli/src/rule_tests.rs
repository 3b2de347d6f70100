//! Rule tests: cases kept beside the rules (`rules/confluence/tests/*.toml`), each a small
//! input and the alerts one rule must raise from it, or none.
//!
//! ```toml
//! rule = "Bulk Confluence Data Mining"      # the rule under test (name or rule_id)
//!
//! [[case]]
//! name = "40 page views within the hour alert"
//! expect = [{ user = "mallory", source_ip = "203.0.113.50" }]   # [] for no alert
//! [[case.events]]                            # inline events: a burst of `count`
//! at = "2026-11-23T10:00:00Z"
//! every = "30s"
//! count = 40
//! fields = { "event.action" = "page_viewed", "user.name" = "mallory", "source.ip" = "203.0.113.50" }
//!
//! [[case]]
//! name = "atomic test 3 in the access log"
//! scenario = "atomic-body-storage"           # or telemetry from `quarry simulate`
//! format = "access-log"
//! tuning = "simulated-org"                   # optional: tests/tuning/<name>.toml
//! expect = [{ user = "atomic-tester", severity = "high" }]
//! ```
//!
//! The whole pack runs on each input (so rules see what they would in a hunt); only the rule
//! under test's alerts are compared with `expect`, as a multiset of group keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use quarry_rules::Rule;
use quarry_rules::tuning::Tuning;
use serde_json::{Map, Value as Json};

/// One expected alert: the fields given must match (absent ones match anything).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Expected {
    user: Option<String>,
    source_ip: Option<String>,
    severity: Option<String>,
}

struct Case {
    file: PathBuf,
    rule: String,
    name: String,
    input: Input,
    tuning: Option<String>,
    expect: Vec<Expected>,
}

enum Input {
    Events(Vec<Json>),
    Scenario {
        scenario: quarry_simulate::Scenario,
        format: quarry_simulate::Format,
    },
}

/// The outcome of all cases.
pub struct Outcome {
    pub passed: usize,
    pub failed: usize,
    /// One block per case: `ok ...` or `FAIL ...` with the difference.
    pub report: String,
}

/// Runs every case file in `dir` against `rules`.
pub fn run(dir: &Path, rules: &[Rule]) -> anyhow::Result<Outcome> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}: no rule test files (*.toml)", dir.display());
    }
    let mut cases = Vec::new();
    for f in &files {
        cases.extend(parse_file(f)?);
    }
    let covered: Vec<&str> = cases.iter().map(|c| c.rule.as_str()).collect();
    let mut out = Outcome {
        passed: 0,
        failed: 0,
        report: String::new(),
    };
    for rule in rules {
        if !covered
            .iter()
            .any(|c| *c == rule.name || *c == rule.rule_id)
        {
            out.failed += 1;
            out.report.push_str(&format!(
                "FAIL {}: no test cases for this rule\n",
                rule.name
            ));
        }
    }
    for case in &cases {
        let Some(index) = rules
            .iter()
            .position(|r| r.name == case.rule || r.rule_id == case.rule)
        else {
            bail!(
                "{}: `rule = \"{}\"` names no loaded rule",
                case.file.display(),
                case.rule
            );
        };
        match evaluate(case, index, rules, dir) {
            Ok(None) => {
                out.passed += 1;
                out.report.push_str(&format!(
                    "ok   {}: {}\n",
                    case.file.file_name().unwrap_or_default().to_string_lossy(),
                    case.name
                ));
            }
            Ok(Some(diff)) => {
                out.failed += 1;
                out.report.push_str(&format!(
                    "FAIL {}: {}\n{diff}",
                    case.file.display(),
                    case.name
                ));
            }
            Err(e) => {
                out.failed += 1;
                out.report.push_str(&format!(
                    "FAIL {}: {}\n     error: {e:#}\n",
                    case.file.display(),
                    case.name
                ));
            }
        }
    }
    Ok(out)
}

/// `None` when the case passes, else the difference to show.
fn evaluate(
    case: &Case,
    index: usize,
    rules: &[Rule],
    dir: &Path,
) -> anyhow::Result<Option<String>> {
    let tuning = match &case.tuning {
        None => Tuning::default(),
        Some(name) => {
            let path = dir.join("tuning").join(format!("{name}.toml"));
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            Tuning::parse(&path.display().to_string(), &text)?
        }
    };
    let rule_name = &rules[index].name;
    let alerts = match &case.input {
        Input::Events(events) => {
            let mut ndjson = Vec::new();
            for event in events {
                serde_json::to_writer(&mut ndjson, event)?;
                ndjson.push(b'\n');
            }
            let name = format!("{} (case `{}`)", case.file.display(), case.name);
            crate::matrix::hunt_bytes(
                &name,
                ndjson,
                Some(quarry_ingest::detect::Format::EcsNdjson),
                rules,
                &tuning,
            )?
            .0
        }
        Input::Scenario { scenario, format } => {
            let telemetry = scenario.generate(&quarry_simulate::Params::default());
            let lines = quarry_simulate::render::render(&telemetry, *format);
            crate::matrix::hunt_lines(&lines, *format, rules, &tuning)?.0
        }
    };
    let got: Vec<&quarry_rules::Alert> = alerts
        .iter()
        .filter(|a| &a.rule_name == rule_name)
        .collect();
    // Match each expectation to a distinct alert.
    let mut unmatched: Vec<&quarry_rules::Alert> = got.clone();
    let mut missing = Vec::new();
    for e in &case.expect {
        let found = unmatched.iter().position(|a| {
            e.user
                .as_deref()
                .is_none_or(|u| a.user.as_deref() == Some(u))
                && e.source_ip
                    .as_deref()
                    .is_none_or(|ip| a.shown_address() == Some(ip))
                && e.severity.as_deref().is_none_or(|s| a.severity.name() == s)
        });
        match found {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(e),
        }
    }
    if missing.is_empty() && unmatched.is_empty() {
        return Ok(None);
    }
    let show = |a: &quarry_rules::Alert| {
        format!(
            "{{ user = {}, source_ip = {}, severity = \"{}\" }}",
            a.user
                .as_deref()
                .map_or("-".to_string(), |u| format!("\"{u}\"")),
            a.shown_address()
                .map_or("-".to_string(), |u| format!("\"{u}\"")),
            a.severity.name()
        )
    };
    let mut diff = String::new();
    for e in missing {
        let fields: Vec<String> = [
            ("user", &e.user),
            ("source_ip", &e.source_ip),
            ("severity", &e.severity),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} = \"{v}\"")))
        .collect();
        diff.push_str(&format!(
            "     - expected, not raised: {{ {} }}\n",
            fields.join(", ")
        ));
    }
    for a in unmatched {
        diff.push_str(&format!("     + raised, not expected: {}\n", show(a)));
    }
    Ok(Some(diff))
}

fn parse_file(path: &Path) -> anyhow::Result<Vec<Case>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: toml::Table = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    let err = |m: String| anyhow::anyhow!("{}: {m}", path.display());
    let rule = doc
        .get("rule")
        .and_then(toml::Value::as_str)
        .ok_or_else(|| err("needs `rule = \"<rule name or rule_id>\"`".into()))?
        .to_string();
    for key in doc.keys() {
        if key != "rule" && key != "case" {
            return Err(err(format!(
                "unknown key `{key}` (expected `rule` and [[case]])"
            )));
        }
    }
    let cases = doc
        .get("case")
        .and_then(toml::Value::as_array)
        .ok_or_else(|| err("needs at least one [[case]]".into()))?;
    let mut out = Vec::new();
    for (n, c) in cases.iter().enumerate() {
        let c = c
            .as_table()
            .ok_or_else(|| err(format!("case {} is not a table", n + 1)))?;
        let name = c
            .get("name")
            .and_then(toml::Value::as_str)
            .ok_or_else(|| err(format!("case {} needs a `name`", n + 1)))?
            .to_string();
        let at = |m: &str| err(format!("case `{name}`: {m}"));
        for key in c.keys() {
            if !["name", "expect", "events", "scenario", "format", "tuning"].contains(&key.as_str())
            {
                return Err(at(&format!("unknown key `{key}`")));
            }
        }
        let expect = c
            .get("expect")
            .and_then(toml::Value::as_array)
            .ok_or_else(|| at("needs `expect = [...]` (`[]` for no alert)"))?
            .iter()
            .map(|e| {
                let t = e
                    .as_table()
                    .ok_or_else(|| at("each expectation is a table"))?;
                let s = |k: &str| t.get(k).and_then(toml::Value::as_str).map(str::to_string);
                for key in t.keys() {
                    if !["user", "source_ip", "severity"].contains(&key.as_str()) {
                        return Err(at(&format!("unknown expectation key `{key}`")));
                    }
                }
                Ok(Expected {
                    user: s("user"),
                    source_ip: s("source_ip"),
                    severity: s("severity"),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let input = match (c.get("events"), c.get("scenario")) {
            (Some(events), None) => Input::Events(events_of(events).map_err(|m| at(&m))?),
            (None, Some(s)) => {
                let s = s.as_str().ok_or_else(|| at("`scenario` is a name"))?;
                let scenario = quarry_simulate::Scenario::from_name(s)
                    .ok_or_else(|| at(&format!("unknown scenario `{s}`")))?;
                let f = c
                    .get("format")
                    .and_then(toml::Value::as_str)
                    .unwrap_or("access-log");
                let format = quarry_simulate::Format::from_name(f)
                    .ok_or_else(|| at(&format!("unknown format `{f}`")))?;
                Input::Scenario { scenario, format }
            }
            _ => return Err(at("needs either [[case.events]] or `scenario`")),
        };
        out.push(Case {
            file: path.to_path_buf(),
            rule: rule.clone(),
            name,
            input,
            tuning: c
                .get("tuning")
                .and_then(toml::Value::as_str)
                .map(str::to_string),
            expect,
        });
    }
    Ok(out)
}

/// Inline events: each entry is a burst of `count` (default 1) events `every` apart from
/// `at`, with `fields` (dotted names); `event.dataset` defaults to `atlassian.confluence`.
fn events_of(value: &toml::Value) -> Result<Vec<Json>, String> {
    let entries = value
        .as_array()
        .ok_or("`events` is a list of [[case.events]]")?;
    let mut out = Vec::new();
    for e in entries {
        let t = e.as_table().ok_or("each [[case.events]] is a table")?;
        for key in t.keys() {
            if !["at", "every", "count", "fields"].contains(&key.as_str()) {
                return Err(format!(
                    "unknown event key `{key}` (at, every, count, fields)"
                ));
            }
        }
        let at = t
            .get("at")
            .and_then(toml::Value::as_str)
            .ok_or("an event needs `at`")?;
        let start = quarry_event::Timestamp::parse(at).map_err(|e| e.to_string())?;
        let every = match t.get("every").and_then(toml::Value::as_str) {
            None => 0,
            Some(d) => quarry_rules::rule::parse_duration(d, false)
                .ok_or(format!("cannot read every = `{d}` (like 30s, 5m)"))?,
        };
        let count = t
            .get("count")
            .and_then(toml::Value::as_integer)
            .unwrap_or(1);
        if !(1..=100_000).contains(&count) {
            return Err(format!("count {count} is outside 1-100000"));
        }
        let fields = match t.get("fields") {
            None => BTreeMap::new(),
            Some(f) => f
                .as_table()
                .ok_or("`fields` is a table")?
                .iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        };
        for i in 0..count {
            let ms = start.millis() + i * every as i64;
            let mut doc = Map::new();
            doc.insert(
                "@timestamp".into(),
                Json::String(
                    quarry_event::Timestamp::from_millis(ms)
                        .ok_or("time out of range")?
                        .to_string(),
                ),
            );
            doc.insert(
                "event.dataset".into(),
                Json::String("atlassian.confluence".into()),
            );
            for (k, v) in &fields {
                doc.insert(k.clone(), v.clone());
            }
            out.push(Json::Object(doc));
        }
    }
    Ok(out)
}

fn toml_to_json(v: &toml::Value) -> Json {
    match v {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(i) => Json::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        toml::Value::Boolean(b) => Json::Bool(*b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(a) => Json::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Json::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}
