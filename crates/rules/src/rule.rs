//! Rule files: elastic/detection-rules TOML (`[metadata]`, `[rule]`, `[[rule.threat]]`,
//! `[rule.threshold]`, `[rule.alert_suppression]`), plus Kibana-style exception items under
//! `[[exceptions]]`, so the pack exports to Kibana without translation loss.
//!
//! Loading validates what Kibana would refuse and what would make a rule silently useless: the
//! query parses, every field it reads is one the normalized events carry (or is written
//! `?field`), severity and risk score agree, `rule_id`s are UUIDs and unique, ATT&CK ids are
//! well formed, and the lookback covers a sequence's maxspan. Each problem names the file,
//! line and column.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use quarry_eql::ast::{self, Expr, ExprKind, QueryBody};
use quarry_eql::{Diagnostic, Style};
use serde::Deserialize;
use toml::Spanned;

use crate::exception::{ExceptionItem, RawExceptionItem};
use crate::kql;

/// How bad an alert is, in Elastic's four levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The risk scores Elastic pairs with this severity.
    pub fn risk_band(self) -> std::ops::RangeInclusive<u8> {
        match self {
            Severity::Low => 0..=21,
            Severity::Medium => 22..=47,
            Severity::High => 48..=73,
            Severity::Critical => 74..=100,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One ATT&CK mapping of a rule (`[[rule.threat]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threat {
    pub framework: String,
    pub tactic: AttackRef,
    pub techniques: Vec<Technique>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Technique {
    pub technique: AttackRef,
    pub subtechniques: Vec<AttackRef>,
}

/// An ATT&CK id with its name and reference URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackRef {
    pub id: String,
    pub name: String,
    pub reference: String,
}

/// How matches of one group fold into one alert (`[rule.alert_suppression]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub group_by: Vec<String>,
    /// The suppression window in milliseconds; `None`: the rule's default (its maxspan, or its
    /// lookback).
    pub duration_ms: Option<u64>,
    /// `suppress` (matches missing a group field fold together) or `doNotSuppress`.
    pub suppress_missing: bool,
}

/// What a rule evaluates.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// An EQL event query or sequence.
    Eql(ast::Query),
    /// A threshold rule: events passing `filter` (KQL, translated to an EQL condition), counted
    /// per value of `fields`, alerting at `value` or more within the rule's window.
    Threshold {
        filter: ast::Query,
        fields: Vec<String>,
        value: u64,
    },
}

/// A loaded, validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The file the rule came from.
    pub path: PathBuf,
    pub rule_id: String,
    pub name: String,
    pub description: String,
    pub severity: Severity,
    pub risk_score: u8,
    /// `eql` or `threshold`, as Kibana names rule types.
    pub rule_type: String,
    /// `eql` or `kuery`.
    pub language: String,
    /// The query exactly as written in the file.
    pub query: String,
    pub kind: RuleKind,
    /// How far back each Kibana execution looks (`from = "now-90m"`), in milliseconds.
    pub from_ms: u64,
    /// How often Kibana runs the rule (`interval = "5m"`), in milliseconds.
    pub interval_ms: u64,
    pub index: Vec<String>,
    pub max_signals: Option<u32>,
    pub threat: Vec<Threat>,
    pub suppression: Option<Suppression>,
    pub exceptions: Vec<ExceptionItem>,
    pub false_positives: Vec<String>,
    pub references: Vec<String>,
    pub tags: Vec<String>,
    pub note: Option<String>,
    pub setup: Option<String>,
    pub author: Vec<String>,
    pub license: Option<String>,
    pub version: Option<u32>,
    pub metadata: Metadata,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub creation_date: String,
    pub updated_date: String,
    pub maturity: String,
    #[serde(default)]
    pub integration: Vec<String>,
    #[serde(default)]
    pub min_stack_version: Option<String>,
    #[serde(default)]
    pub min_stack_comments: Option<String>,
    /// detection-rules' switch for rules reading fields outside ECS and the integrations'
    /// schemas (Quarry's `confluence.*`).
    #[serde(default)]
    pub query_schema_validation: Option<bool>,
}

impl Rule {
    /// A sequence's maxspan in milliseconds, if the rule is a sequence with one.
    pub fn maxspan_ms(&self) -> Option<u64> {
        match &self.kind {
            RuleKind::Eql(q) => match &q.body {
                QueryBody::Sequence(s) => s.maxspan.map(|m| m.millis()),
                _ => None,
            },
            RuleKind::Threshold { .. } => None,
        }
    }

    /// The rule's join keys (sequence `by` fields) or threshold fields: what "one actor" means
    /// for this rule.
    pub fn group_fields(&self) -> Vec<String> {
        match &self.kind {
            RuleKind::Eql(q) => match &q.body {
                QueryBody::Sequence(s) => {
                    s.by.iter()
                        .filter_map(|e| e.as_field().map(|f| f.dotted()))
                        .collect()
                }
                _ => Vec::new(),
            },
            RuleKind::Threshold { fields, .. } => fields.clone(),
        }
    }

    /// The threshold a person tunes: `with runs=N` of a one-stage sequence, or a threshold
    /// rule's value.
    pub fn threshold(&self) -> Option<u64> {
        match &self.kind {
            RuleKind::Threshold { value, .. } => Some(*value),
            RuleKind::Eql(q) => single_runs_stage(q)
                .and_then(|s| s.runs)
                .map(|r| u64::from(r.count)),
        }
    }

    /// Changes the threshold (see [`Rule::threshold`]); false when the rule has none.
    pub fn set_threshold(&mut self, new: u64) -> bool {
        match &mut self.kind {
            RuleKind::Threshold { value, .. } => {
                *value = new;
                true
            }
            RuleKind::Eql(q) => {
                let Ok(count) = u32::try_from(new) else {
                    return false;
                };
                if let QueryBody::Sequence(s) = &mut q.body
                    && s.stages.len() == 1
                    && let Some(runs) = &mut s.stages[0].runs
                {
                    runs.count = count;
                    return true;
                }
                false
            }
        }
    }

    /// The first ATT&CK tactic, technique and sub-technique the rule maps to.
    pub fn primary_attack(&self) -> (Option<&AttackRef>, Option<&AttackRef>, Option<&AttackRef>) {
        let threat = self.threat.first();
        let technique = threat.and_then(|t| t.techniques.first());
        (
            threat.map(|t| &t.tactic),
            technique.map(|t| &t.technique),
            technique.and_then(|t| t.subtechniques.first()),
        )
    }
}

fn single_runs_stage(q: &ast::Query) -> Option<&ast::Stage> {
    match &q.body {
        QueryBody::Sequence(s) if s.stages.len() == 1 => s.stages.first(),
        _ => None,
    }
}

/// A rule file that cannot be used: every problem found, each with its place in the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", first_line(.path, .text, .problems))]
    Invalid {
        path: String,
        /// The file's text, to render the problems against.
        text: String,
        problems: quarry_eql::Error,
    },
    #[error("{path}: {message}")]
    Set { path: String, message: String },
}

fn first_line(path: &str, text: &str, problems: &quarry_eql::Error) -> String {
    let d = problems.first();
    let lc = d.line_column(text);
    let more = problems.diagnostics().len() - 1;
    let mut out = format!("{path}:{}:{}: {}", lc.line, lc.column, d.message);
    if more > 0 {
        out.push_str(&format!(" (and {more} more)"));
    }
    out
}

impl LoadError {
    /// Every problem with the offending line and a caret under it.
    pub fn render(&self, style: Style) -> String {
        match self {
            LoadError::Invalid {
                path,
                text,
                problems,
            } => problems.render(text, path, style),
            other => format!("error: {other}\n"),
        }
    }
}

/// What the loader checks fields against.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Fields the events carry (dotted). `None` accepts any field.
    pub known_fields: Option<Vec<String>>,
}

/// Loads and validates every `*.toml` rule file directly in `dir` (sorted by name), checking
/// that `rule_id`s are unique across them. Sub-directories (tests) are not rules.
pub fn load_dir(dir: &Path, options: &LoadOptions) -> Result<Vec<Rule>, Vec<LoadError>> {
    let io = |source| {
        vec![LoadError::Io {
            path: dir.display().to_string(),
            source,
        }]
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(vec![LoadError::Set {
            path: dir.display().to_string(),
            message: "no rule files (*.toml) here".into(),
        }]);
    }
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => sources.push((path, text)),
            Err(source) => errors.push(LoadError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }
    match load_sources(sources, options) {
        Ok(rules) if errors.is_empty() => Ok(rules),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

/// Loads and validates rules from `(path, text)` pairs (files already read, or rules built
/// into a binary), checking that `rule_id`s are unique across them.
pub fn load_sources(
    sources: Vec<(PathBuf, String)>,
    options: &LoadOptions,
) -> Result<Vec<Rule>, Vec<LoadError>> {
    let mut rules = Vec::new();
    let mut texts = Vec::new();
    let mut errors = Vec::new();
    for (path, text) in sources {
        match parse_rule(&path, &text, options) {
            Ok(rule) => {
                rules.push(rule);
                texts.push(text);
            }
            Err(problems) => errors.push(LoadError::Invalid {
                path: path.display().to_string(),
                text,
                problems,
            }),
        }
    }
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for (rule, text) in rules.iter().zip(&texts) {
        if let Some(first) = seen.insert(&rule.rule_id, &rule.path) {
            // Point at the rule_id's value in the later file.
            let at = text
                .find("rule_id")
                .and_then(|k| text[k..].find(&rule.rule_id).map(|v| k + v - 1))
                .unwrap_or(0);
            let end = (at + rule.rule_id.len() + 2).min(text.len());
            errors.push(LoadError::Invalid {
                path: rule.path.display().to_string(),
                text: text.clone(),
                problems: quarry_eql::Error::from(
                    diag(
                        at..end,
                        format!(
                            "rule_id {} is also the rule_id of {}",
                            rule.rule_id,
                            first.display()
                        ),
                    )
                    .with_help("every rule needs its own UUID"),
                ),
            });
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// Loads and validates one rule file.
pub fn load_file(path: &Path, options: &LoadOptions) -> Result<Rule, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_rule(path, &text, options).map_err(|problems| LoadError::Invalid {
        path: path.display().to_string(),
        text,
        problems,
    })
}

/// Parses a rule from `text` (the contents of `path`).
pub fn parse_rule(
    path: &Path,
    text: &str,
    options: &LoadOptions,
) -> Result<Rule, quarry_eql::Error> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim_end().to_string();
        problem(span, message)
    })?;
    let mut problems = Vec::new();
    let rule = validate(path, text, raw, options, &mut problems);
    match (rule, problems.is_empty()) {
        (Some(rule), true) => Ok(rule),
        _ => Err(errors(problems)),
    }
}

fn problem(span: Range<usize>, message: impl Into<String>) -> quarry_eql::Error {
    quarry_eql::Error::from(Diagnostic::new(
        quarry_eql::span::Span::new(span.start, span.end),
        message,
    ))
}

fn errors(mut problems: Vec<Diagnostic>) -> quarry_eql::Error {
    problems.sort_by_key(|d| d.span.start);
    quarry_eql::Error::from_diagnostics(problems).expect("called with at least one problem")
}

fn diag(span: Range<usize>, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(quarry_eql::span::Span::new(span.start, span.end), message)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    metadata: Metadata,
    rule: RawRule,
    #[serde(default)]
    exceptions: Vec<Spanned<RawExceptionItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    author: Vec<String>,
    description: String,
    #[serde(default)]
    false_positives: Vec<String>,
    from: Option<Spanned<String>>,
    interval: Option<Spanned<String>>,
    #[serde(default)]
    index: Vec<String>,
    language: Spanned<String>,
    license: Option<String>,
    max_signals: Option<u32>,
    name: String,
    note: Option<String>,
    setup: Option<String>,
    #[serde(default)]
    references: Vec<String>,
    risk_score: Spanned<i64>,
    rule_id: Spanned<String>,
    severity: Spanned<String>,
    #[serde(default)]
    tags: Vec<String>,
    timestamp_override: Option<String>,
    #[serde(rename = "type")]
    rule_type: Spanned<String>,
    query: Spanned<String>,
    version: Option<u32>,
    #[serde(default)]
    threat: Vec<RawThreat>,
    threshold: Option<Spanned<RawThreshold>>,
    alert_suppression: Option<Spanned<RawSuppression>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreat {
    framework: Spanned<String>,
    tactic: RawAttackRef,
    #[serde(default)]
    technique: Vec<RawTechnique>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTechnique {
    id: Spanned<String>,
    name: String,
    reference: Spanned<String>,
    #[serde(default)]
    subtechnique: Vec<RawAttackRef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttackRef {
    id: Spanned<String>,
    name: String,
    reference: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    field: Vec<Spanned<String>>,
    value: Spanned<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    /// Required for EQL rules; threshold rules group by their threshold fields (and Kibana
    /// accepts only `duration` for them).
    #[serde(default)]
    group_by: Vec<Spanned<String>>,
    duration: Option<Spanned<RawDuration>>,
    missing_fields_strategy: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuration {
    value: u64,
    unit: String,
}

/// Where each byte of a TOML string value came from in the file, so that a problem found in
/// the value (a query) is reported at its place in the file. Literal strings are copied
/// verbatim; basic strings (`"..."`, `"""..."""`) are re-scanned for their escapes and
/// line-ending backslashes.
pub struct ValueMap {
    /// Source offset of each byte of the value.
    starts: Vec<usize>,
    /// Source offset just after the value.
    end: usize,
}

impl ValueMap {
    /// `value` is the decoded string (the parser's; it tells whether CRLF was kept).
    pub fn new(text: &str, span: &Range<usize>, value: &str) -> ValueMap {
        let keeps_cr = value.contains('\r');
        let raw = &text[span.clone()];
        let (quote, basic) = if raw.starts_with("'''") {
            (3, false)
        } else if raw.starts_with("\"\"\"") {
            (3, true)
        } else {
            (1, raw.starts_with('"'))
        };
        let body_start = span.start + quote;
        let body_end = span.end.saturating_sub(quote).max(body_start);
        let bytes = text.as_bytes();
        let mut i = body_start;
        // A newline right after the opening delimiter of a multi-line string is not content.
        if quote == 3 {
            if text[i..].starts_with("\r\n") {
                i += 2;
            } else if text[i..].starts_with('\n') {
                i += 1;
            }
        }
        let mut starts = Vec::with_capacity(body_end.saturating_sub(i));
        let push = |out: &mut Vec<usize>, at: usize, len: usize| {
            out.extend(std::iter::repeat_n(at, len));
        };
        while i < body_end {
            let c = text[i..].chars().next().expect("in bounds");
            if basic && c == '\\' {
                let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                match next {
                    b'u' | b'U' => {
                        let digits = if next == b'u' { 4 } else { 8 };
                        let ch = text
                            .get(i + 2..i + 2 + digits)
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .and_then(char::from_u32);
                        push(&mut starts, i, ch.map_or(1, char::len_utf8));
                        i += 2 + digits;
                    }
                    b' ' | b'\t' | b'\r' | b'\n' if quote == 3 => {
                        // A line-ending backslash: it and all whitespace after it vanish.
                        i += 1;
                        while i < body_end && matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
                            i += 1;
                        }
                    }
                    _ => {
                        push(&mut starts, i, 1);
                        i += 2;
                    }
                }
                continue;
            }
            if c == '\r' && quote == 3 && !keeps_cr && text[i..].starts_with("\r\n") {
                i += 1;
                continue;
            }
            push(&mut starts, i, c.len_utf8());
            i += c.len_utf8();
        }
        ValueMap {
            starts,
            end: body_end,
        }
    }

    /// The file offset of byte `offset` of the value.
    pub fn at(&self, offset: usize) -> usize {
        self.starts.get(offset).copied().unwrap_or(self.end)
    }

    /// A span of the value as a range of the file.
    pub fn span(&self, span: quarry_eql::span::Span) -> Range<usize> {
        let r = span.range();
        let start = self.at(r.start);
        let end = if r.end > r.start {
            self.at(r.end - 1) + 1
        } else {
            start
        };
        start..end.max(start)
    }
}

/// `now-90m` -> 90 minutes; `5m` -> 5 minutes (units `s`, `m`, `h`, `d`).
pub fn parse_duration(text: &str, relative: bool) -> Option<u64> {
    let body = if relative {
        text.strip_prefix("now-")?
    } else {
        text
    };
    let digits = body.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &body[digits.len()..];
    let n: u64 = digits.parse().ok()?;
    let scale = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    n.checked_mul(scale)
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `TA0009`, `T1213`, `T1213.001`.
fn attack_id_ok(id: &str, prefix: &str, sub: bool) -> bool {
    let Some(rest) = id.strip_prefix(prefix) else {
        return false;
    };
    let (main, tail) = match rest.split_once('.') {
        Some((m, t)) => (m, Some(t)),
        None => (rest, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    digits(main, 4)
        && match tail {
            Some(t) => sub && digits(t, 3),
            None => !sub,
        }
}

fn attack_ref(
    raw: RawAttackRef,
    prefix: &str,
    sub: bool,
    kind: &str,
    url: &str,
    problems: &mut Vec<Diagnostic>,
) -> AttackRef {
    let id = raw.id.get_ref().clone();
    if !attack_id_ok(&id, prefix, sub) {
        let example = match (prefix, sub) {
            ("TA", _) => "TA0009",
            (_, true) => "T1213.001",
            _ => "T1213",
        };
        problems.push(
            diag(raw.id.span(), format!("`{id}` is not an ATT&CK {kind} id"))
                .with_help(format!("{kind} ids look like `{example}`")),
        );
    }
    let reference = raw.reference.get_ref().clone();
    let expected = format!("https://attack.mitre.org/{url}/{}/", id.replace('.', "/"));
    if reference.trim_end_matches('/') != expected.trim_end_matches('/') {
        problems.push(
            diag(
                raw.reference.span(),
                format!("the reference of {kind} {id} should be {expected}"),
            )
            .with_label("points elsewhere"),
        );
    }
    AttackRef {
        id,
        name: raw.name,
        reference,
    }
}

fn validate(
    path: &Path,
    text: &str,
    raw: RawFile,
    options: &LoadOptions,
    problems: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let r = raw.rule;
    // Identity.
    let rule_id = r.rule_id.get_ref().clone();
    if !is_uuid(&rule_id) {
        problems.push(
            diag(
                r.rule_id.span(),
                format!("rule_id `{rule_id}` is not a UUID"),
            )
            .with_help("generate one, e.g. with `uuidgen`"),
        );
    }
    // Severity and risk.
    let severity = Severity::from_name(r.severity.get_ref());
    if severity.is_none() {
        problems.push(
            diag(
                r.severity.span(),
                format!("unknown severity `{}`", r.severity.get_ref()),
            )
            .with_help("one of `low`, `medium`, `high`, `critical`"),
        );
    }
    let risk = *r.risk_score.get_ref();
    let risk_score = match u8::try_from(risk) {
        Ok(v) if v <= 100 => Some(v),
        _ => {
            problems.push(diag(
                r.risk_score.span(),
                format!("risk_score {risk} is outside 0-100"),
            ));
            None
        }
    };
    if let (Some(s), Some(score)) = (severity, risk_score)
        && !s.risk_band().contains(&score)
    {
        let band = s.risk_band();
        problems.push(
            diag(
                r.risk_score.span(),
                format!(
                    "risk_score {score} does not agree with severity `{s}` ({}-{})",
                    band.start(),
                    band.end()
                ),
            )
            .with_help("Elastic's bands: low 0-21, medium 22-47, high 48-73, critical 74-100"),
        );
    }
    // Schedule.
    let duration = |field: &Option<Spanned<String>>,
                    relative: bool,
                    default: u64,
                    name: &str,
                    problems: &mut Vec<Diagnostic>| match field {
        None => default,
        Some(s) => parse_duration(s.get_ref(), relative).unwrap_or_else(|| {
            let example = if relative { "now-90m" } else { "5m" };
            problems.push(
                diag(s.span(), format!("cannot read {name} `{}`", s.get_ref()))
                    .with_help(format!("write it like `{example}` (units s, m, h, d)")),
            );
            default
        }),
    };
    let from_ms = duration(&r.from, true, 6 * 60_000, "from", problems);
    let interval_ms = duration(&r.interval, false, 5 * 60_000, "interval", problems);
    // The query.
    let query_span = r.query.span();
    let map = ValueMap::new(text, &query_span, r.query.get_ref());
    let query = r.query.get_ref().clone();
    let known = options.known_fields.as_deref();
    let rule_type = r.rule_type.get_ref().clone();
    let language = r.language.get_ref().clone();
    let kind = match (rule_type.as_str(), language.as_str()) {
        ("eql", "eql") => match quarry_eql::parse(&query) {
            Ok(q) => {
                check_fields(&q, known, &map, problems);
                if let QueryBody::Sample(_) = q.body {
                    problems.push(diag(
                        query_span.clone(),
                        "sample queries cannot be detection rules (Kibana runs only event queries and sequences)",
                    ));
                }
                Some(RuleKind::Eql(q))
            }
            Err(e) => {
                problems.extend(e.diagnostics().iter().map(|d| {
                    let mut d = d.clone();
                    let r = map.span(d.span);
                    d.span = quarry_eql::span::Span::new(r.start, r.end);
                    d
                }));
                None
            }
        },
        ("threshold", "kuery") => {
            let filter = match kql::parse(&query).and_then(|k| {
                if let Some(known) = known {
                    for (field, (start, end)) in k.fields() {
                        if !known.iter().any(|f| f == field) {
                            problems.push(diag(
                                map.at(start)..map.at(end.saturating_sub(1)) + 1,
                                format!("`{field}` is not a field the normalized events carry"),
                            ));
                        }
                    }
                }
                kql::to_eql(&query)
            }) {
                Ok(q) => Some(q),
                Err(e) => {
                    let at = map.at(e.offset);
                    problems.push(diag(at..at + 1, format!("KQL: {}", e.message)));
                    None
                }
            };
            match (&r.threshold, filter) {
                (None, _) => {
                    problems.push(diag(
                        r.rule_type.span(),
                        "a threshold rule needs a `[rule.threshold]` table with `field` and `value`",
                    ));
                    None
                }
                (Some(t), filter) => {
                    let t_ref = t.get_ref();
                    if *t_ref.value.get_ref() == 0 {
                        problems.push(diag(
                            t_ref.value.span(),
                            "threshold value must be at least 1",
                        ));
                    }
                    for f in &t_ref.field {
                        check_field_name(f, known, problems);
                    }
                    filter.map(|filter| RuleKind::Threshold {
                        filter,
                        fields: t_ref.field.iter().map(|f| f.get_ref().clone()).collect(),
                        value: *t_ref.value.get_ref(),
                    })
                }
            }
        }
        ("eql" | "threshold", _) => {
            let expected = if rule_type == "eql" { "eql" } else { "kuery" };
            problems.push(
                diag(
                    r.language.span(),
                    format!("a `{rule_type}` rule is written in `{expected}`, not `{language}`"),
                )
                .with_help(format!("language = \"{expected}\"")),
            );
            None
        }
        _ => {
            problems.push(
                diag(
                    r.rule_type.span(),
                    format!("rule type `{rule_type}` is not one Quarry runs"),
                )
                .with_help("`eql` or `threshold`"),
            );
            None
        }
    };
    if let (true, Some(t)) = (rule_type == "eql", &r.threshold) {
        problems.push(diag(
            t.span(),
            "only threshold rules have `[rule.threshold]`",
        ));
    }
    // Kibana runs a sequence rule over `from`; a shorter lookback than maxspan cuts sequences.
    if let Some(RuleKind::Eql(q)) = &kind
        && let QueryBody::Sequence(s) = &q.body
        && let Some(maxspan) = s.maxspan
        && from_ms < maxspan.millis()
    {
        let span = r.from.as_ref().map_or(query_span.clone(), |f| f.span());
        problems.push(
            diag(
                span,
                format!(
                    "the lookback ({} min) is shorter than the sequence's maxspan ({maxspan_text})",
                    from_ms / 60_000,
                    maxspan_text = format_args!("{}{}", maxspan.value, maxspan.unit.suffix()),
                ),
            )
            .with_help("Kibana would never see a whole sequence; make `from` at least the maxspan"),
        );
    }
    // ATT&CK.
    let mut threat = Vec::new();
    for t in r.threat {
        if t.framework.get_ref() != "MITRE ATT&CK" {
            problems.push(diag(
                t.framework.span(),
                format!(
                    "framework `{}` is not `MITRE ATT&CK`",
                    t.framework.get_ref()
                ),
            ));
        }
        let tactic = attack_ref(t.tactic, "TA", false, "tactic", "tactics", problems);
        let mut techniques = Vec::new();
        for tech in t.technique {
            let parent = tech.id.get_ref().clone();
            let technique = attack_ref(
                RawAttackRef {
                    id: tech.id,
                    name: tech.name,
                    reference: tech.reference,
                },
                "T",
                false,
                "technique",
                "techniques",
                problems,
            );
            let mut subtechniques = Vec::new();
            for sub in tech.subtechnique {
                let span = sub.id.span();
                let s = attack_ref(sub, "T", true, "sub-technique", "techniques", problems);
                if !s.id.starts_with(&format!("{parent}.")) {
                    problems.push(diag(
                        span,
                        format!("sub-technique {} is not under technique {parent}", s.id),
                    ));
                }
                subtechniques.push(s);
            }
            techniques.push(Technique {
                technique,
                subtechniques,
            });
        }
        threat.push(Threat {
            framework: t.framework.into_inner(),
            tactic,
            techniques,
        });
    }
    // Suppression.
    let threshold_fields: Vec<String> = r
        .threshold
        .as_ref()
        .map(|t| {
            t.get_ref()
                .field
                .iter()
                .map(|f| f.get_ref().clone())
                .collect()
        })
        .unwrap_or_default();
    let suppression = r.alert_suppression.map(|s| {
        let table = s.span();
        let s = s.into_inner();
        if s.group_by.is_empty() && rule_type != "threshold" {
            problems.push(
                diag(
                    table,
                    "`[rule.alert_suppression]` of an EQL rule needs `group_by`",
                )
                .with_help("the fields whose values make one alert, e.g. [\"user.name\"]"),
            );
        }
        for f in &s.group_by {
            check_field_name(f, known, problems);
        }
        let duration_ms = s.duration.and_then(|d| {
            let span = d.span();
            let d = d.into_inner();
            let scale = match d.unit.as_str() {
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => {
                    problems.push(
                        diag(span, format!("unknown duration unit `{}`", d.unit))
                            .with_help("Kibana's units are `s`, `m` and `h`"),
                    );
                    return None;
                }
            };
            Some(d.value.saturating_mul(scale))
        });
        let suppress_missing = match &s.missing_fields_strategy {
            None => true,
            Some(m) => match m.get_ref().as_str() {
                "suppress" => true,
                "doNotSuppress" => false,
                other => {
                    problems.push(
                        diag(
                            m.span(),
                            format!("unknown missing_fields_strategy `{other}`"),
                        )
                        .with_help("`suppress` or `doNotSuppress`"),
                    );
                    true
                }
            },
        };
        let group_by: Vec<String> = if s.group_by.is_empty() {
            threshold_fields.clone()
        } else {
            s.group_by.into_iter().map(Spanned::into_inner).collect()
        };
        Suppression {
            group_by,
            duration_ms,
            suppress_missing,
        }
    });
    // Exceptions.
    let mut exceptions = Vec::new();
    for item in raw.exceptions {
        let span = item.span();
        match ExceptionItem::from_raw(item.into_inner()) {
            Ok(e) => {
                for f in e.fields() {
                    if let Some(known) = known
                        && !known.iter().any(|k| k == f)
                    {
                        problems.push(diag(
                            span.clone(),
                            format!(
                                "exception field `{f}` is not a field the normalized events carry"
                            ),
                        ));
                    }
                }
                exceptions.push(e);
            }
            Err(message) => problems.push(diag(span, message)),
        }
    }
    let _ = r.timestamp_override;
    Some(Rule {
        path: path.to_path_buf(),
        rule_id,
        name: r.name,
        description: r.description,
        severity: severity?,
        risk_score: risk_score?,
        rule_type,
        language,
        query,
        kind: kind?,
        from_ms,
        interval_ms,
        index: r.index,
        max_signals: r.max_signals,
        threat,
        suppression,
        exceptions,
        false_positives: r.false_positives,
        references: r.references,
        tags: r.tags,
        note: r.note,
        setup: r.setup,
        author: r.author,
        license: r.license,
        version: r.version,
        metadata: raw.metadata,
    })
}

fn check_field_name(f: &Spanned<String>, known: Option<&[String]>, problems: &mut Vec<Diagnostic>) {
    if let Some(known) = known
        && !known.iter().any(|k| k == f.get_ref())
    {
        problems.push(diag(
            f.span(),
            format!(
                "`{}` is not a field the normalized events carry",
                f.get_ref()
            ),
        ));
    }
}

/// Every field the query reads must be a known one, or written `?field`.
fn check_fields(
    q: &ast::Query,
    known: Option<&[String]>,
    map: &ValueMap,
    problems: &mut Vec<Diagnostic>,
) {
    let Some(known) = known else { return };
    let mut fields = Vec::new();
    query_fields(q, &mut fields);
    for (field, span) in fields {
        if field.optional {
            continue;
        }
        let name = field.dotted();
        if !known.contains(&name) {
            let near = known
                .iter()
                .filter(|k| k.rsplit('.').next() == name.rsplit('.').next())
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>();
            let help = if near.is_empty() {
                format!("write `?{name}` if it may be absent from the events")
            } else {
                format!(
                    "did you mean {}? Or write `?{name}` if it may be absent",
                    near.join(" or ")
                )
            };
            problems.push(
                diag(
                    map.span(span),
                    format!("`{name}` is not a field the normalized events carry"),
                )
                .with_help(help),
            );
        }
    }
}

/// The fields a query reads, with their spans.
pub fn query_fields(q: &ast::Query, out: &mut Vec<(ast::FieldRef, quarry_eql::span::Span)>) {
    let mut stage = |s: &ast::EventQuery, by: &[Expr]| {
        expr_fields(&s.condition, out);
        for b in by {
            expr_fields(b, out);
        }
    };
    match &q.body {
        QueryBody::Event(e) => stage(e, &[]),
        QueryBody::Sequence(s) => {
            for st in s.stages.iter().chain(s.until.as_ref()) {
                stage(&st.query, &st.by);
            }
            for b in &s.by {
                expr_fields(b, out);
            }
        }
        QueryBody::Sample(s) => {
            for st in &s.stages {
                stage(&st.query, &st.by);
            }
            for b in &s.by {
                expr_fields(b, out);
            }
        }
    }
}

fn expr_fields(e: &Expr, out: &mut Vec<(ast::FieldRef, quarry_eql::span::Span)>) {
    match &e.kind {
        ExprKind::Literal(_) => {}
        ExprKind::Field(f) => out.push((f.clone(), e.span)),
        ExprKind::Not(x) | ExprKind::Negate(x) => expr_fields(x, out),
        ExprKind::And(xs) | ExprKind::Or(xs) => xs.iter().for_each(|x| expr_fields(x, out)),
        ExprKind::Compare { left, right, .. } | ExprKind::Arithmetic { left, right, .. } => {
            expr_fields(left, out);
            expr_fields(right, out);
        }
        ExprKind::In { value, list, .. } => {
            expr_fields(value, out);
            list.iter().for_each(|x| expr_fields(x, out));
        }
        ExprKind::Match { value, .. } => expr_fields(value, out),
        ExprKind::Call { args, .. } => args.iter().for_each(|x| expr_fields(x, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("now-90m", true), Some(90 * 60_000));
        assert_eq!(parse_duration("5m", false), Some(5 * 60_000));
        assert_eq!(parse_duration("2h", false), Some(7_200_000));
        assert_eq!(parse_duration("90m", true), None);
        assert_eq!(parse_duration("now-5x", true), None);
        assert_eq!(parse_duration("now-m", true), None);
    }

    #[test]
    fn uuids_and_attack_ids() {
        assert!(is_uuid("b60b9044-f0e8-4387-b265-f23481151371"));
        assert!(!is_uuid("b60b9044-f0e8-4387-b265-f2348115137"));
        assert!(!is_uuid("not-a-uuid"));
        assert!(attack_id_ok("TA0009", "TA", false));
        assert!(attack_id_ok("T1213", "T", false));
        assert!(attack_id_ok("T1213.001", "T", true));
        assert!(!attack_id_ok("T1213.1", "T", true));
        assert!(!attack_id_ok("T1213", "T", true));
        assert!(!attack_id_ok("TA009", "TA", false));
    }

    #[test]
    fn bands() {
        assert!(Severity::Medium.risk_band().contains(&47));
        assert!(!Severity::Medium.risk_band().contains(&48));
        assert!(Severity::Low < Severity::Critical);
    }
}
