//! The summary of a run: what was read, what was hunted, what tuning did, what was raised.
//!
//! Nothing is dropped without a counter saying so: every input has its report, every record
//! not hunted is counted by reason, and every alert not shown is counted.

use std::collections::HashMap;

use quarry_ingest::normalize::Report;
use quarry_rules::{HuntStats, Rule};

use crate::normalize::Unreadable;

/// What the summary reports about the events hunted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EventCounts {
    pub by_action: HashMap<String, u64>,
    pub by_user: HashMap<String, u64>,
    /// Events without a usable `@timestamp`.
    pub unreadable: u64,
}

impl EventCounts {
    /// Adds another worker's counts.
    pub fn absorb(&mut self, other: EventCounts) {
        for (mine, theirs) in [
            (&mut self.by_action, other.by_action),
            (&mut self.by_user, other.by_user),
        ] {
            for (k, n) in theirs {
                *mine.entry(k).or_default() += n;
            }
        }
        self.unreadable += other.unreadable;
    }
}

/// How the alerts raised were reported.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AlertTally {
    /// Alerts handed to the sink.
    pub shown: usize,
    /// Alerts below the minimum severity, not shown.
    pub hidden: usize,
    /// Alerts shown, per rule (index into [`Summary::rules`]).
    pub by_rule: Vec<usize>,
    /// Alerts shown whose severity tuning lowered.
    pub lowered: usize,
}

/// Everything a run did, for the person who ran it.
#[derive(Debug, Clone)]
pub struct Summary {
    /// One report per input read, in input order.
    pub inputs: Vec<Report>,
    /// Inputs that could not be read or recognized.
    pub unreadable: Vec<Unreadable>,
    /// Files named more than once, hunted once.
    pub repeated: Vec<String>,
    pub counts: EventCounts,
    pub stats: HuntStats,
    /// The rules as they ran (after tuning's per-rule settings).
    pub rules: Vec<Rule>,
    pub alerts: AlertTally,
    /// Where the tuning came from, when there was any.
    pub tuning: Option<String>,
    /// One sentence per change tuning made to a rule.
    pub rule_changes: Vec<String>,
    /// Workers the hunt ran on.
    pub workers: usize,
    /// Why the hunt kept to one worker when more were asked for.
    pub one_worker_because: Option<String>,
}

impl Summary {
    /// Inputs whose events were lost, wholly or in part, to an I/O error (as opposed to
    /// files that are not Confluence telemetry): the run is incomplete.
    pub fn lost_inputs(&self) -> Vec<String> {
        let mut lost: Vec<String> = self
            .unreadable
            .iter()
            .filter(|u| u.io)
            .map(|u| u.message.clone())
            .collect();
        lost.extend(
            self.inputs
                .iter()
                .filter_map(|r| r.read_error.as_ref().map(|e| format!("{}: {e}", r.input))),
        );
        lost
    }

    /// Malformed records, over every input.
    pub fn malformed(&self) -> u64 {
        self.inputs.iter().map(|r| r.malformed).sum()
    }

    /// The summary as the command line prints it.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let inputs = self.inputs.len() + self.unreadable.len();
        s.push_str(&format!(
            "Inputs ({inputs}{}):\n",
            if self.unreadable.is_empty() {
                String::new()
            } else {
                format!(", {} unreadable", self.unreadable.len())
            }
        ));
        for report in &self.inputs {
            for line in report.to_string().lines() {
                s.push_str(&format!("  {line}\n"));
            }
        }
        for f in &self.unreadable {
            s.push_str(&format!("  error: {}\n", f.message));
        }
        let malformed = self.malformed();
        let stats = &self.stats;
        s.push_str(&format!(
            "Events: {} hunted{}{}{}\n",
            stats.events,
            if stats.out_of_range > 0 {
                format!(", {} outside --from/--to", stats.out_of_range)
            } else {
                String::new()
            },
            if malformed > 0 {
                format!(", {malformed} malformed records skipped (see above)")
            } else {
                String::new()
            },
            if self.counts.unreadable > 0 {
                format!(", {} without a usable @timestamp", self.counts.unreadable)
            } else {
                String::new()
            },
        ));
        let mut by_action: Vec<(&String, &u64)> = self.counts.by_action.iter().collect();
        by_action.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        s.push_str(&format!(
            "  by action: {}\n",
            by_action
                .iter()
                .map(|(a, n)| format!("{a} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let mut users: Vec<(&String, &u64)> = self.counts.by_user.iter().collect();
        users.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        s.push_str(&format!(
            "  top users: {}\n",
            users
                .iter()
                .take(5)
                .map(|(u, n)| format!("{u} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        match &self.tuning {
            Some(origin) => {
                let dropped: u64 = stats.dropped.values().sum();
                s.push_str(&format!(
                    "Tuning ({origin}): {dropped} events dropped before matching{}\n",
                    if dropped > 0 { ":" } else { "" }
                ));
                for (name, n) in &stats.dropped {
                    s.push_str(&format!("  {name}: {n}\n"));
                }
                for change in &self.rule_changes {
                    s.push_str(&format!("  {change}\n"));
                }
                let lowered = self.alerts.lowered;
                if lowered > 0 {
                    s.push_str(&format!(
                        "  {lowered} alert{} lowered in severity (the reason says why)\n",
                        if lowered == 1 { "" } else { "s" }
                    ));
                }
            }
            None if !stats.dropped.is_empty() => {
                s.push_str("Exceptions:\n");
                for (name, n) in &stats.dropped {
                    s.push_str(&format!("  {name}: {n} events dropped\n"));
                }
            }
            None => {}
        }
        s.push_str(&format!(
            "Alerts: {}{}\n",
            self.alerts.shown,
            if self.alerts.hidden > 0 {
                format!(" ({} below --min-severity not shown)", self.alerts.hidden)
            } else {
                String::new()
            }
        ));
        for (i, rule) in self.rules.iter().enumerate() {
            let shown = self.alerts.by_rule.get(i).copied().unwrap_or(0);
            let matches = stats.matches.get(i).copied().unwrap_or(0);
            s.push_str(&format!(
                "  {:<8} {:<52} {} alert{}, {} match{}\n",
                rule.severity.name(),
                rule.name,
                shown,
                if shown == 1 { "" } else { "s" },
                matches,
                if matches == 1 { "" } else { "es" },
            ));
        }
        if stats.evicted_keys > 0 {
            s.push_str(&format!(
                "Warning: {} join keys were evicted from rule state (over --max-join-keys); sequences and thresholds for them may be missed\n",
                stats.evicted_keys
            ));
        }
        s
    }
}
