//! Alerts: what a person triages, built from one or more matches of one rule and one group.
//!
//! A match is the engine's raw truth (with `runs=40`, a burst of M events gives M-39 of them);
//! an alert folds the matches of one rule and one group key that fall in the suppression
//! window, as Kibana's alert suppression does: the window opens at the first match and lasts
//! the rule's `[rule.alert_suppression] duration` (by default the sequence's maxspan, or the
//! threshold rule's lookback). It counts distinct events and matches, keeps the first events
//! as evidence (saying how many it left out), and explains itself in one sentence.

use std::collections::BTreeMap;
use std::sync::Arc;

use quarry_event::{Document, Event, Timestamp};
use serde_json::{Map, Value as Json, json};

use crate::rule::{Rule, Severity};

/// One alert.
#[derive(Debug, Clone)]
pub struct Alert {
    /// Index of the rule in the hunt's rule list.
    pub rule: usize,
    pub rule_id: String,
    pub rule_name: String,
    pub rule_type: String,
    pub severity: Severity,
    pub risk_score: u8,
    /// The rule's severity when tuning lowered it.
    pub original_severity: Option<Severity>,
    /// When the first match completed (when Kibana would have raised the alert).
    pub timestamp: Timestamp,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Distinct events over all folded matches.
    pub event_count: u64,
    pub match_count: u64,
    /// The group key: (field, value) in the rule's group order.
    pub group: Vec<(String, Option<String>)>,
    pub user: Option<String>,
    /// The client address when there is one: the group's, or the only one the events have.
    pub source_ip: Option<String>,
    /// Distinct client addresses of the events (at most [`MAX_ADDRESSES`] kept).
    pub addresses: Vec<String>,
    pub address_count: u64,
    /// Distinct events by `event.action`.
    pub actions: BTreeMap<String, u64>,
    /// Distinct search texts, in order of first appearance (at most [`MAX_SEARCHES`]).
    pub searches: Vec<String>,
    /// Search events.
    pub search_count: u64,
    /// Distinct search texts (counted up to [`MAX_DISTINCT`]).
    pub distinct_searches: u64,
    seen_searches: std::collections::HashSet<String>,
    /// The largest window count of a threshold match.
    pub threshold_count: Option<u64>,
    pub evidence: Vec<Arc<Document>>,
    pub evidence_omitted: u64,
    /// Why tuning changed this alert, one sentence each.
    pub tuning: Vec<String>,
    /// End of the suppression window.
    pub window_end: Timestamp,
    /// When the last folded match completed.
    pub last_match: Timestamp,
    /// The alert folds matches (its rule suppresses, and suppression is on).
    pub folding: bool,
    /// How overlapping matches count each event once: by the newest position when matches
    /// arrive in position order (the group is the rule's own join key), else by a set.
    counted: Counted,
}

/// Which events an alert has counted.
#[derive(Debug, Clone)]
enum Counted {
    /// Matches of one join key arrive in position order and overlap only on their older
    /// events: an event is new when it is newer than every one counted.
    Newest(Option<u64>),
    /// Matches of several join keys folded into one group interleave: every position.
    All(std::collections::HashSet<u64>),
}

impl Counted {
    fn first_time(&mut self, position: u64) -> bool {
        match self {
            Counted::Newest(newest) => {
                if newest.is_some_and(|n| position <= n) {
                    return false;
                }
                *newest = Some(position);
                true
            }
            Counted::All(set) => set.insert(position),
        }
    }
}

/// The order alerts are reported in: most severe first, then by time, rule and group, then
/// by their first evidence. Total over what alerts show, so a hunt split across workers
/// reports in the same order as one hunt.
pub fn report_order(a: &Alert, b: &Alert) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then(a.timestamp.cmp(&b.timestamp))
        .then(a.rule_name.cmp(&b.rule_name))
        .then(a.rule.cmp(&b.rule))
        .then_with(|| a.group.cmp(&b.group))
        .then(a.first_seen.cmp(&b.first_seen))
        .then_with(|| {
            let first = |x: &Alert| x.evidence.first().map(|e| e.position());
            first(a).cmp(&first(b))
        })
}

/// How many distinct addresses an alert names.
pub const MAX_ADDRESSES: usize = 10;

/// How many distinct search texts an alert tells apart.
pub const MAX_DISTINCT: usize = 1_000;

/// How many distinct search texts an alert quotes.
pub const MAX_SEARCHES: usize = 10;

/// The fields an alert reads from events, besides the rules' own.
#[derive(Debug, Clone, Copy)]
pub struct AlertFields {
    pub action: quarry_event::FieldId,
    pub message: quarry_event::FieldId,
    pub user: quarry_event::FieldId,
    pub source_ip: quarry_event::FieldId,
}

impl Alert {
    /// A new alert for the first match of a group. `interleaved`: the rule groups alerts more
    /// coarsely than it joins sequences, so matches of several join keys fold together and
    /// arrive out of position order.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        rule_index: usize,
        rule: &Rule,
        group: Vec<(String, Option<String>)>,
        at: Timestamp,
        window_ms: u64,
        events: &[Arc<Document>],
        threshold_count: Option<u64>,
        fields: AlertFields,
        max_evidence: usize,
        interleaved: bool,
    ) -> Alert {
        let first = events.first().map_or(at, |e| e.timestamp());
        let window_end = Timestamp::from_nanos(
            at.nanos().saturating_add(
                i64::try_from(window_ms)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(1_000_000),
            ),
        );
        let text = |id| {
            events
                .iter()
                .find_map(|e| crate::threshold::key_value(e.field(id)))
        };
        let mut alert = Alert {
            rule: rule_index,
            rule_id: rule.rule_id.clone(),
            rule_name: rule.name.clone(),
            rule_type: rule.rule_type.clone(),
            severity: rule.severity,
            risk_score: rule.risk_score,
            original_severity: None,
            timestamp: at,
            first_seen: first,
            last_seen: first,
            event_count: 0,
            match_count: 0,
            user: group
                .iter()
                .find(|(f, _)| f == "user.name")
                .and_then(|(_, v)| v.clone())
                .or_else(|| text(fields.user)),
            source_ip: group
                .iter()
                .find(|(f, _)| f == "source.ip")
                .and_then(|(_, v)| v.clone()),
            addresses: Vec::new(),
            address_count: 0,
            group,
            actions: BTreeMap::new(),
            searches: Vec::new(),
            search_count: 0,
            distinct_searches: 0,
            seen_searches: std::collections::HashSet::new(),
            threshold_count: None,
            evidence: Vec::new(),
            evidence_omitted: 0,
            tuning: Vec::new(),
            window_end,
            last_match: at,
            folding: false,
            counted: if interleaved {
                Counted::All(std::collections::HashSet::new())
            } else {
                Counted::Newest(None)
            },
        };
        alert.fold(events, at, threshold_count, fields, max_evidence);
        alert
    }

    /// The client address to show: the group's, or the only one the events came from.
    pub fn shown_address(&self) -> Option<&str> {
        self.source_ip
            .as_deref()
            .or(match self.addresses.as_slice() {
                [only] if self.address_count == 1 => Some(only.as_str()),
                _ => None,
            })
    }

    /// Folds one more match into the alert.
    pub fn fold(
        &mut self,
        events: &[Arc<Document>],
        at: Timestamp,
        threshold_count: Option<u64>,
        fields: AlertFields,
        max_evidence: usize,
    ) {
        self.match_count += 1;
        self.last_match = self.last_match.max(at);
        if let Some(c) = threshold_count {
            self.threshold_count = Some(self.threshold_count.map_or(c, |t| t.max(c)));
        }
        for e in events {
            if !self.counted.first_time(e.position()) {
                continue;
            }
            self.event_count += 1;
            if let Some(ip) = crate::threshold::key_value(e.field(fields.source_ip))
                && !self.addresses.contains(&ip)
            {
                self.address_count += 1;
                if self.addresses.len() < MAX_ADDRESSES {
                    self.addresses.push(ip);
                }
            }
            let ts = e.timestamp();
            self.first_seen = self.first_seen.min(ts);
            self.last_seen = self.last_seen.max(ts);
            let action =
                crate::threshold::key_value(e.field(fields.action)).unwrap_or_else(|| "-".into());
            if action == "search_performed" {
                self.search_count += 1;
                if let Some(text) = crate::threshold::key_value(e.field(fields.message))
                    && self.seen_searches.len() < MAX_DISTINCT
                    && self.seen_searches.insert(text.clone())
                {
                    self.distinct_searches += 1;
                    if self.searches.len() < MAX_SEARCHES {
                        self.searches.push(text);
                    }
                }
            }
            *self.actions.entry(action).or_default() += 1;
            if self.evidence.len() < max_evidence {
                // Evidence is shown by its source: the held form (its place, where it has
                // one) keeps an alert small while it waits for the end of the hunt.
                self.evidence
                    .push(Document::held(e).map_or_else(|| Arc::clone(e), Arc::new));
            } else {
                self.evidence_omitted += 1;
            }
        }
    }

    /// No more matches will fold in: what only folding reads (the texts and positions seen)
    /// is freed, as a hunt keeps every closed alert until it ends.
    pub fn closed(&mut self) {
        self.seen_searches = std::collections::HashSet::new();
        self.counted = Counted::Newest(None);
        self.evidence.shrink_to_fit();
        self.addresses.shrink_to_fit();
        self.searches.shrink_to_fit();
    }

    /// Lowers the severity (never raises it), keeping the risk score within the new band.
    pub fn lower(&mut self, to: Severity, reason: String) {
        if to < self.severity {
            self.original_severity.get_or_insert(self.severity);
            self.severity = to;
            self.risk_score = self.risk_score.min(*to.risk_band().end());
        }
        self.tuning.push(reason);
    }

    /// One sentence: who, from where, how many of what, over how long, and what tuning did.
    pub fn reason(&self) -> String {
        let who = self
            .user
            .as_deref()
            .map_or_else(|| "an unknown user".to_string(), printable);
        let from = match (self.shown_address(), self.addresses.first()) {
            (Some(ip), _) => format!(" from {}", printable(ip)),
            (None, Some(first)) => {
                let others = self.address_count - 1;
                format!(
                    " from {} and {others} other address{}",
                    printable(first),
                    if others == 1 { "" } else { "es" }
                )
            }
            (None, None) => String::new(),
        };
        let breakdown = {
            let mut by: Vec<(&String, &u64)> = self.actions.iter().collect();
            by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            by.iter()
                .map(|(a, n)| format!("{n} {}", printable(a)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let span = self
            .last_seen
            .nanos()
            .saturating_sub(self.first_seen.nanos())
            / 1_000_000_000;
        let when = if self.event_count <= 1 || span == 0 {
            format!("at {}", short_time(self.first_seen))
        } else {
            let (first, last) = (short_time(self.first_seen), short_time(self.last_seen));
            // The same day is written once: `(2026-11-23 02:14:02Z to 02:22:47Z)`.
            let last = match (first.split_once(' '), last.split_once(' ')) {
                (Some((d1, _)), Some((d2, t2))) if d1 == d2 => t2.to_string(),
                _ => last,
            };
            format!("in {} ({first} to {last})", human_duration(span))
        };
        let events = if self.event_count == 1 {
            "1 Confluence event".to_string()
        } else {
            format!("{} Confluence events", self.event_count)
        };
        let mut out = format!("{who}{from} made {events} ({breakdown}) {when}");
        if !self.searches.is_empty() {
            let quoted: Vec<String> = self
                .searches
                .iter()
                .take(3)
                .map(|s| format!("\"{}\"", printable(s)))
                .collect();
            let more = self.distinct_searches.saturating_sub(quoted.len() as u64);
            out.push_str(&format!(", searching for {}", quoted.join(", ")));
            if more > 0 {
                out.push_str(&format!(" and {more} more"));
            }
        }
        if let Some(c) = self.threshold_count {
            out.push_str(&format!("; up to {c} in one window"));
        }
        if self.match_count > 1 {
            out.push_str(&format!(
                "; {} matches folded into this alert",
                self.match_count
            ));
        }
        out.push('.');
        if let Some(original) = self.original_severity {
            out.push_str(&format!(
                " Severity lowered from {original} to {}: {}.",
                self.severity,
                self.tuning.join("; ")
            ));
        } else if !self.tuning.is_empty() {
            out.push_str(&format!(" Tuning: {}.", self.tuning.join("; ")));
        }
        out
    }

    /// The alert as one ECS / Kibana-alert JSON document. `kibana.alert.*` keys are written
    /// dotted at the top level, as Kibana's alert indices hold them.
    pub fn to_json(&self, rule: &Rule) -> Json {
        let mut m = Map::new();
        m.insert("@timestamp".into(), json!(self.timestamp.to_string()));
        m.insert("event".into(), json!({"kind": "alert"}));
        let k = |m: &mut Map<String, Json>, key: &str, v: Json| {
            m.insert(format!("kibana.alert.{key}"), v);
        };
        k(&mut m, "rule.rule_id", json!(self.rule_id));
        k(&mut m, "rule.name", json!(self.rule_name));
        k(&mut m, "rule.type", json!(self.rule_type));
        k(&mut m, "severity", json!(self.severity.name()));
        k(&mut m, "risk_score", json!(self.risk_score));
        k(&mut m, "reason", json!(self.reason()));
        k(&mut m, "original_time", json!(self.first_seen.to_string()));
        k(&mut m, "status", json!("active"));
        k(&mut m, "workflow_status", json!("open"));
        // As Kibana writes them for a rule with suppression: the count of suppressed
        // duplicates (0 when none), from the first alert to the last duplicate.
        if self.folding {
            k(
                &mut m,
                "suppression.docs_count",
                json!(self.match_count - 1),
            );
            k(
                &mut m,
                "suppression.terms",
                Json::Array(
                    self.group
                        .iter()
                        .map(|(f, v)| json!({"field": f, "value": v.iter().collect::<Vec<_>>()}))
                        .collect(),
                ),
            );
            k(
                &mut m,
                "suppression.start",
                json!(self.timestamp.to_string()),
            );
            k(
                &mut m,
                "suppression.end",
                json!(self.last_match.to_string()),
            );
        }
        if let Some(c) = self.threshold_count {
            k(&mut m, "threshold_result.count", json!(c));
        }
        m.insert(
            "rule".into(),
            json!({"id": self.rule_id, "name": self.rule_name}),
        );
        let (tactic, technique, sub) = rule.primary_attack();
        if let (Some(tactic), Some(technique)) = (tactic, technique) {
            let mut tech = json!({
                "id": technique.id, "name": technique.name, "reference": technique.reference,
            });
            if let Some(sub) = sub {
                tech["subtechnique"] =
                    json!({"id": sub.id, "name": sub.name, "reference": sub.reference});
            }
            m.insert(
                "threat".into(),
                json!({
                    "framework": "MITRE ATT&CK",
                    "tactic": {"id": tactic.id, "name": tactic.name, "reference": tactic.reference},
                    "technique": tech,
                }),
            );
        }
        for (field, value) in &self.group {
            if let Some(v) = value {
                put(&mut m, field, json!(v));
            }
        }
        if let Some(u) = &self.user {
            put(&mut m, "user.name", json!(u));
        }
        if let Some(ip) = self.shown_address() {
            put(&mut m, "source.ip", json!(ip));
        }
        if !self.addresses.is_empty() {
            put(&mut m, "related.ip", json!(self.addresses));
        }
        let mut q = json!({
            "first_seen": self.first_seen.to_string(),
            "last_seen": self.last_seen.to_string(),
            "event_count": self.event_count,
            "match_count": self.match_count,
            "actions": self.actions,
            "rule_file": rule.path.display().to_string(),
            "evidence": self.evidence.iter().map(|e| e.source().into_owned()).collect::<Vec<_>>(),
            "evidence_omitted": self.evidence_omitted,
        });
        if !self.searches.is_empty() {
            q["searches"] = json!(self.searches);
        }
        if !self.tuning.is_empty() {
            q["tuning"] = json!(self.tuning);
        }
        if let Some(o) = self.original_severity {
            q["original_severity"] = json!(o.name());
        }
        m.insert("quarry".into(), q);
        Json::Object(m)
    }
}

/// Text from a log made safe to print: control characters (an escape sequence that would
/// clear a terminal, a newline that would forge a table row) are written as `\u{..}`.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Sets a dotted field in nested objects, creating parents.
fn put(m: &mut Map<String, Json>, dotted: &str, value: Json) {
    let mut parts = dotted.split('.').peekable();
    let mut node = m;
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            node.insert(p.to_string(), value);
            return;
        }
        let entry = node
            .entry(p.to_string())
            .or_insert_with(|| Json::Object(Map::new()));
        if !entry.is_object() {
            *entry = Json::Object(Map::new());
        }
        node = entry.as_object_mut().expect("just made an object");
    }
}

/// `2026-11-23 14:02:11Z`.
pub fn short_time(ts: Timestamp) -> String {
    let s = ts.to_string();
    let s = s.replacen('T', " ", 1);
    match s.find('.') {
        Some(dot) => format!("{}Z", &s[..dot]),
        None => s,
    }
}

/// `1h 2m`, `24m 10s`, `45s`.
pub fn human_duration(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds % 3600) / 60, seconds % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(1450), "24m 10s");
        assert_eq!(human_duration(3600), "1h");
        assert_eq!(human_duration(3720 + 30), "1h 2m");
    }

    #[test]
    fn times_are_short() {
        let t = Timestamp::parse("2026-11-23T14:02:11.250Z").unwrap();
        assert_eq!(short_time(t), "2026-11-23 14:02:11Z");
        let t = Timestamp::parse("2026-11-23T14:02:11Z").unwrap();
        assert_eq!(short_time(t), "2026-11-23 14:02:11Z");
    }

    #[test]
    fn put_nests() {
        let mut m = Map::new();
        put(&mut m, "user.name", json!("a"));
        put(&mut m, "user.id", json!("1"));
        put(&mut m, "source.ip", json!("10.0.0.1"));
        assert_eq!(
            Json::Object(m),
            json!({"user": {"name": "a", "id": "1"}, "source": {"ip": "10.0.0.1"}})
        );
    }
}
