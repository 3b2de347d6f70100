//! What the rules crate's tests share: a [`Hunt`] driven over documents in memory.
#![allow(dead_code)] // each test binary uses its own subset

use quarry_event::{Document, Event};
use quarry_rules::tuning::Tuning;
use quarry_rules::{Alert, Hunt, HuntOptions, HuntStats, Rule};

/// Runs `rules` over ECS JSON documents held in memory: sorts them by `@timestamp` (stable,
/// so equal times keep their order), feeds them to a [`Hunt`], and returns the alerts, the
/// counters and the rules. The hunt component alone, for its own tests: commands run the
/// whole pipeline (`quarry-pipeline`).
pub fn hunt_json(
    rules: Vec<Rule>,
    tuning: Tuning,
    options: HuntOptions,
    events: Vec<serde_json::Value>,
) -> Result<(Vec<Alert>, HuntStats, Vec<Rule>), String> {
    let mut hunt = Hunt::new(rules, tuning, options).map_err(|e| e.to_string())?;
    let catalog = hunt.catalog().clone();
    let projection = quarry_event::Projection::new(&catalog);
    let mut docs = Vec::with_capacity(events.len());
    for (index, json) in events.into_iter().enumerate() {
        let doc = Document::from_json(json, &projection, &catalog, hunt.timestamp_field(), 0)
            .map_err(|e| format!("event {index}: {e}"))?;
        docs.push(doc);
    }
    docs.sort_by_key(|d| d.timestamp());
    let mut alerts = Vec::new();
    for (position, mut doc) in docs.into_iter().enumerate() {
        doc.set_position(position as u64);
        hunt.push(doc).expect("sorted above");
        alerts.append(&mut hunt.take_alerts());
    }
    let (rest, stats, rules) = hunt.finish();
    alerts.extend(rest);
    alerts.sort_by(|a, b| {
        a.timestamp
            .cmp(&b.timestamp)
            .then(a.rule.cmp(&b.rule))
            .then(a.group.cmp(&b.group))
    });
    Ok((alerts, stats, rules))
}
