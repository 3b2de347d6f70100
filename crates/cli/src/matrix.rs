//! The detection matrix: what each rule makes of each scenario in each log source.
//!
//! Rows are the four Atomic-style tests and the seed's four false-positive situations; columns
//! are the source formats; a cell lists the alerts the pack raises when the scenario's
//! telemetry, written as that source writes it, is normalized and hunted with the simulated
//! organization's tuning. `quarry rules matrix` prints it (and writes docs/detection-matrix.md);
//! a test checks it against the expectation and the document against the code.

use anyhow::Context;
use quarry_ingest::read::Input;
use quarry_rules::tuning::Tuning;
use quarry_rules::{Rule, Severity};
use quarry_simulate::{Format, Params, Scenario};

/// The rows: what the seed validates against.
pub const ROWS: [Scenario; 8] = [
    Scenario::AtomicSpaceEnum,
    Scenario::AtomicCqlHunt,
    Scenario::AtomicBodyStorage,
    Scenario::AtomicSpaceExport,
    Scenario::FpDocSprint,
    Scenario::FpCiBot,
    Scenario::FpOnboarding,
    Scenario::FpCloudSearch,
];

/// One alert in a cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CellAlert {
    pub rule: String,
    pub severity: Severity,
    /// Tuning changed it (its reason says how).
    pub tuned: bool,
}

/// One scenario in one format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Lines the source recorded.
    pub records: usize,
    /// Distinct (rule, severity, tuned) alerts, sorted.
    pub alerts: Vec<CellAlert>,
    /// Every alert's reason carries its tuning (for the false-positive check).
    pub untuned_alerts: usize,
    /// Events tuning dropped before matching.
    pub dropped: u64,
}

pub struct Matrix {
    pub rows: Vec<(Scenario, Vec<Cell>)>,
}

/// Hunts every scenario in every format.
pub fn compute(rules: &[Rule], tuning: &Tuning) -> anyhow::Result<Matrix> {
    let mut rows = Vec::new();
    for scenario in ROWS {
        let telemetry = scenario.generate(&Params::default());
        let mut cells = Vec::new();
        for format in Format::ALL {
            let lines = quarry_simulate::render::render(&telemetry, format);
            cells.push(
                cell(&lines, format, rules, tuning)
                    .with_context(|| format!("{} as {}", scenario.name(), format.name()))?,
            );
        }
        rows.push((scenario, cells));
    }
    Ok(Matrix { rows })
}

/// Normalizes `lines` as `format` and hunts them, through the same pipeline as `quarry hunt`.
pub fn hunt_lines(
    lines: &[String],
    format: Format,
    rules: &[Rule],
    tuning: &Tuning,
) -> anyhow::Result<(Vec<quarry_rules::Alert>, quarry_rules::HuntStats)> {
    let mut text = lines.join("\n");
    text.push('\n');
    // Simulated ECS (`ecs`) is detected, as a user's file would be.
    let input_format = quarry_ingest::detect::Format::from_name(format.name());
    hunt_bytes(
        format.name(),
        text.into_bytes(),
        input_format,
        rules,
        tuning,
    )
}

/// Hunts `bytes` (named `name` in messages) as `format` (detected when `None`): the run `quarry hunt` makes, on one
/// thread, with every alert kept. A malformed record is an error: tests make their inputs.
pub fn hunt_bytes(
    name: &str,
    bytes: Vec<u8>,
    format: Option<quarry_ingest::detect::Format>,
    rules: &[Rule],
    tuning: &Tuning,
) -> anyhow::Result<(Vec<quarry_rules::Alert>, quarry_rules::HuntStats)> {
    let input = Input::Bytes {
        name: name.to_string(),
        data: bytes.into(),
    };
    let mut config = quarry_pipeline::Config::new(rules.to_vec(), vec![input]);
    config.tuning = tuning.clone();
    config.ingest.format = format;
    let mut alerts = Vec::new();
    let summary = quarry_pipeline::run(config, &mut alerts, &quarry_pipeline::Quiet)?;
    anyhow::ensure!(
        summary.malformed() == 0,
        "{} malformed records: {:?}",
        summary.malformed(),
        summary
            .inputs
            .iter()
            .flat_map(|r| &r.first_errors)
            .collect::<Vec<_>>()
    );
    Ok((alerts, summary.stats))
}

fn cell(lines: &[String], format: Format, rules: &[Rule], tuning: &Tuning) -> anyhow::Result<Cell> {
    if lines.is_empty() {
        return Ok(Cell {
            records: 0,
            alerts: Vec::new(),
            untuned_alerts: 0,
            dropped: 0,
        });
    }
    let (alerts, stats) = hunt_lines(lines, format, rules, tuning)?;
    let mut out: Vec<CellAlert> = alerts
        .iter()
        .map(|a| CellAlert {
            rule: a.rule_name.clone(),
            severity: a.severity,
            tuned: !a.tuning.is_empty(),
        })
        .collect();
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.cmp(b)));
    out.dedup();
    Ok(Cell {
        records: lines.len(),
        untuned_alerts: alerts.iter().filter(|a| a.tuning.is_empty()).count(),
        alerts: out,
        dropped: stats.dropped.values().sum(),
    })
}

impl Matrix {
    /// The matrix as a Markdown document.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        s.push_str(
            "# Detection matrix\n\n\
             Generated by `quarry rules matrix --write docs/detection-matrix.md`; a test fails when this\n\
             file and the code disagree. Each row is a scenario of `quarry simulate` (default seed and\n\
             size), written as each source writes it, normalized and hunted with the built-in pack and\n\
             the simulated organization's tuning (`rules/confluence/tests/tuning/simulated-org.toml`).\n\
             A cell lists the alerts raised; *tuned* marks an alert whose severity or reason tuning\n\
             changed; *dropped* counts events the allowlist removed before matching; *not recorded*\n\
             means the source keeps nothing of that activity.\n\n",
        );
        s.push_str("| scenario |");
        for f in Format::ALL {
            s.push_str(&format!(" `{}` |", f.name()));
        }
        s.push_str("\n|---|");
        for _ in Format::ALL {
            s.push_str("---|");
        }
        s.push('\n');
        for (scenario, cells) in &self.rows {
            s.push_str(&format!("| `{}` |", scenario.name()));
            for c in cells {
                s.push(' ');
                s.push_str(&cell_text(c));
                s.push_str(" |");
            }
            s.push('\n');
        }
        s.push_str("\n## Scenarios\n\n");
        for (scenario, _) in &self.rows {
            s.push_str(&format!(
                "- `{}`: {}.\n",
                scenario.name(),
                scenario.description()
            ));
        }
        s.push_str("\n## What each source can see\n\n");
        for f in Format::ALL {
            s.push_str(&format!("- `{}`: {}\n", f.name(), f.coverage()));
        }
        s
    }
}

fn cell_text(c: &Cell) -> String {
    if c.records == 0 {
        return "*not recorded*".into();
    }
    let mut parts: Vec<String> = c
        .alerts
        .iter()
        .map(|a| {
            format!(
                "{} ({}{})",
                a.rule,
                a.severity.name(),
                if a.tuned { ", tuned" } else { "" }
            )
        })
        .collect();
    if parts.is_empty() {
        parts.push("no alert".into());
    }
    if c.dropped > 0 {
        parts.push(format!("*{} events dropped*", c.dropped));
    }
    parts.join("<br>")
}
