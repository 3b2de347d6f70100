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
    /// Boxed names: a million users' counts are a table of a million keys.
    pub by_user: HashMap<Box<str>, u64>,
    /// Events without a usable `@timestamp`.
    pub unreadable: u64,
    /// Users whose counts were forgotten to stay within the cap (the least active).
    pub users_forgotten: u64,
}

impl EventCounts {
    /// Adds another worker's counts.
    pub fn absorb(&mut self, other: EventCounts) {
        for (k, n) in other.by_action {
            *self.by_action.entry(k).or_default() += n;
        }
        for (k, n) in other.by_user {
            *self.by_user.entry(k).or_default() += n;
        }
        self.unreadable += other.unreadable;
        self.users_forgotten += other.users_forgotten;
    }

    /// Counts one event of `action` by `user`, keeping at most `max_users` users: past it,
    /// the tenth with the fewest events is forgotten (and counted), so that a flood of
    /// distinct names costs bounded memory while the busiest users stay exact.
    pub fn count(&mut self, action: &str, user: Option<&str>, max_users: usize) {
        quarry_rules::threshold::bump(&mut self.by_action, action);
        let Some(user) = user else {
            return;
        };
        if let Some(n) = self.by_user.get_mut(user) {
            *n += 1;
            return;
        }
        let max_users = max_users.max(1);
        if self.by_user.len() >= max_users {
            let excess = (self.by_user.len() + 1 - max_users)
                .max(max_users / 10)
                .max(1);
            let mut counts: Vec<u64> = self.by_user.values().copied().collect();
            let cut_index = excess.min(counts.len()) - 1;
            let (_, cut, _) = counts.select_nth_unstable(cut_index);
            let cut = *cut;
            let mut forgotten = 0u64;
            self.by_user.retain(|_, n| {
                if forgotten < excess as u64 && *n <= cut {
                    forgotten += 1;
                    false
                } else {
                    true
                }
            });
            self.users_forgotten += forgotten;
        }
        self.by_user.insert(user.into(), 1);
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
        let mut users: Vec<(&Box<str>, &u64)> = self.counts.by_user.iter().collect();
        users.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        s.push_str(&format!(
            "  top users: {}{}\n",
            users
                .iter()
                .take(5)
                .map(|(u, n)| format!("{u} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            if self.counts.users_forgotten > 0 {
                format!(
                    " ({} users with few events not kept: over --max-join-keys)",
                    self.counts.users_forgotten
                )
            } else {
                String::new()
            }
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

#[cfg(test)]
mod tests {
    use super::EventCounts;

    #[test]
    fn user_counts_stay_within_the_cap_and_the_busiest_stay_exact() {
        let mut counts = EventCounts::default();
        for _ in 0..50 {
            counts.count("page_viewed", Some("mallory"), 100);
        }
        for i in 0..1000 {
            counts.count("page_viewed", Some(&format!("u{i}")), 100);
        }
        counts.count("page_viewed", None, 100);
        assert!(counts.by_user.len() <= 100, "{}", counts.by_user.len());
        assert_eq!(counts.by_user["mallory"], 50);
        assert_eq!(
            counts.users_forgotten + counts.by_user.len() as u64,
            1001,
            "every user is either counted or forgotten"
        );
        assert_eq!(counts.by_action["page_viewed"], 1051);
    }
}
