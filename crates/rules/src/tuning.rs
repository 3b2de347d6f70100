//! `quarry.toml`: what a deployment knows about its own people and machines.
//!
//! The seed's false positives are people and programs whose normal work looks like mining:
//! backup and export service accounts, technical writers in a documentation sprint, new hires
//! exploring the wiki. Tuning handles each the way Elastic does, and never silently:
//!
//! - `[allowlist]` accounts, user agents and addresses become exception items: their events
//!   are dropped before matching (as Elastic's exceptions are), and every drop is counted by
//!   the entry that caused it;
//! - `[documentation_team]` and `[onboarding]` lower an alert's severity and say so in its
//!   reason; the alert and its evidence stay;
//! - `[[lower]]` does the same for any other named group (a platform team searching cloud
//!   topics all day, say);
//! - `[rules."<rule_id or name>"]` changes a rule's threshold or turns it off;
//! - `[[exceptions]]` are Kibana-style exception items for every rule.

use std::collections::BTreeMap;

use quarry_event::Timestamp;
use serde::Deserialize;

use crate::exception::{ExceptionItem, RawExceptionItem};
use crate::rule::{Rule, Severity};

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TuningError {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTuning {
    #[serde(default)]
    allowlist: RawAllowlist,
    documentation_team: Option<RawTeam>,
    onboarding: Option<RawOnboarding>,
    #[serde(default)]
    rules: BTreeMap<String, RawRuleTuning>,
    #[serde(default)]
    exceptions: Vec<RawExceptionItem>,
    #[serde(default)]
    lower: Vec<RawGroup>,
}

/// `[[lower]]`: any other group of people whose work looks like an attack to some rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: String,
    #[serde(default)]
    users: Vec<String>,
    /// Addresses (wildcards allowed): for sources that do not name the user (proxy logs).
    #[serde(default)]
    source_ips: Vec<String>,
    severity: Option<String>,
    rules: Option<Vec<String>>,
    /// Why, in the reason of each lowered alert.
    reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllowlist {
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    user_agents: Vec<String>,
    #[serde(default)]
    source_ips: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTeam {
    users: Vec<String>,
    severity: Option<String>,
    rules: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOnboarding {
    #[serde(default)]
    users: Vec<RawNewHire>,
    /// How long after the start date activity counts as onboarding.
    #[serde(default = "fourteen")]
    days: u32,
    /// Also treat users first seen in the input within this many days as new hires.
    first_seen_days: Option<u32>,
    severity: Option<String>,
    rules: Option<Vec<String>>,
}

fn fourteen() -> u32 {
    14
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNewHire {
    name: String,
    start: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleTuning {
    threshold: Option<u64>,
    enabled: Option<bool>,
}

/// Loaded tuning.
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    /// Where it came from, for reasons (`quarry.toml`).
    pub origin: String,
    /// Dropped before matching, for every rule.
    pub exceptions: Vec<ExceptionItem>,
    pub documentation_team: Option<Team>,
    pub onboarding: Option<Onboarding>,
    /// By rule_id or name.
    pub rules: BTreeMap<String, RuleTuning>,
    /// `[[lower]]` groups, tried before the documentation team and onboarding.
    pub groups: Vec<Group>,
}

/// A named group of users whose alerts of some rules are lowered.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub users: Vec<String>,
    pub source_ips: Vec<String>,
    pub severity: Severity,
    pub rules: Option<Vec<String>>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Team {
    pub users: Vec<String>,
    pub severity: Severity,
    /// The rules it applies to (rule_id or name); `None`: every rule.
    pub rules: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Onboarding {
    pub users: Vec<(String, Timestamp)>,
    pub days: u32,
    pub first_seen_days: Option<u32>,
    pub severity: Severity,
    pub rules: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RuleTuning {
    pub threshold: Option<u64>,
    pub enabled: Option<bool>,
}

const DAY_MS: i64 = 86_400_000;

impl Tuning {
    /// Parses `text`, the contents of the tuning file `origin`.
    pub fn parse(origin: &str, text: &str) -> Result<Tuning, TuningError> {
        let err = |message: String| TuningError {
            path: origin.to_string(),
            message,
        };
        let raw: RawTuning = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start].matches('\n').count() + 1)
                .unwrap_or(1);
            err(format!("line {line}: {}", e.message().trim_end()))
        })?;
        let severity = |s: &Option<String>, section: &str| -> Result<Severity, TuningError> {
            match s {
                None => Ok(Severity::Low),
                Some(name) => Severity::from_name(name).ok_or_else(|| {
                    err(format!(
                        "[{section}] severity `{name}` is not low, medium, high or critical"
                    ))
                }),
            }
        };
        let mut exceptions = Vec::new();
        let lists = [
            ("user.name", "user", &raw.allowlist.users),
            (
                "user_agent.original",
                "user agent",
                &raw.allowlist.user_agents,
            ),
            ("source.ip", "source address", &raw.allowlist.source_ips),
        ];
        for (field, what, values) in lists {
            for v in values {
                exceptions.push(ExceptionItem::single(
                    format!("allowlisted {what} {v}"),
                    field,
                    v,
                ));
            }
        }
        for item in raw.exceptions {
            exceptions.push(ExceptionItem::from_raw(item).map_err(err)?);
        }
        let documentation_team = match raw.documentation_team {
            None => None,
            Some(t) => Some(Team {
                severity: severity(&t.severity, "documentation_team")?,
                users: t.users,
                rules: t.rules,
            }),
        };
        let onboarding = match raw.onboarding {
            None => None,
            Some(o) => {
                let mut users = Vec::new();
                for hire in o.users {
                    let ts =
                        Timestamp::parse(&format!("{}T00:00:00Z", hire.start)).map_err(|_| {
                            err(format!(
                                "[onboarding] start `{}` of {} is not a date like 2026-11-20",
                                hire.start, hire.name
                            ))
                        })?;
                    users.push((hire.name, ts));
                }
                Some(Onboarding {
                    severity: severity(&o.severity, "onboarding")?,
                    users,
                    days: o.days,
                    first_seen_days: o.first_seen_days,
                    rules: o.rules,
                })
            }
        };
        let mut groups = Vec::new();
        for g in raw.lower {
            groups.push(Group {
                severity: severity(&g.severity, "[lower]")?,
                name: g.name,
                users: g.users,
                source_ips: g.source_ips,
                rules: g.rules,
                reason: g.reason,
            });
        }
        let rules = raw
            .rules
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    RuleTuning {
                        threshold: v.threshold,
                        enabled: v.enabled,
                    },
                )
            })
            .collect();
        Ok(Tuning {
            origin: origin.to_string(),
            exceptions,
            documentation_team,
            onboarding,
            rules,
            groups,
        })
    }

    /// Applies per-rule settings: drops disabled rules and changes thresholds. Every key must
    /// name a loaded rule (by rule_id or name), and a threshold must fit the rule. Returns one
    /// sentence per change, for the hunt's summary (tuning never hides anything silently).
    pub fn apply_to_rules(&self, rules: &mut Vec<Rule>) -> Result<Vec<String>, TuningError> {
        let err = |message: String| TuningError {
            path: self.origin.clone(),
            message,
        };
        for key in self
            .rules
            .keys()
            .chain(
                self.documentation_team
                    .iter()
                    .flat_map(|t| t.rules.iter().flatten()),
            )
            .chain(
                self.onboarding
                    .iter()
                    .flat_map(|o| o.rules.iter().flatten()),
            )
            .chain(self.groups.iter().flat_map(|g| g.rules.iter().flatten()))
        {
            if !rules.iter().any(|r| names(r, key)) {
                return Err(err(format!(
                    "`{key}` names no loaded rule (use a rule_id or a rule name)"
                )));
            }
        }
        let mut changes = Vec::new();
        for rule in rules.iter_mut() {
            let Some(t) = self
                .rules
                .iter()
                .find(|(k, _)| names(rule, k))
                .map(|(_, t)| *t)
            else {
                continue;
            };
            if let Some(n) = t.threshold {
                let before = rule.threshold();
                if n == 0 || !rule.set_threshold(n) {
                    return Err(err(format!(
                        "[rules.\"{}\"] threshold {n}: the rule has no threshold of that kind (a threshold rule's value, or `with runs` 1-100 of a one-stage sequence)",
                        rule.name
                    )));
                }
                if matches!(rule.kind, crate::rule::RuleKind::Eql(_)) && n > 100 {
                    return Err(err(format!(
                        "[rules.\"{}\"] threshold {n}: `with runs` is at most 100",
                        rule.name
                    )));
                }
                if before != Some(n) {
                    changes.push(format!(
                        "{}: threshold {} instead of {}",
                        rule.name,
                        n,
                        before.map_or("-".into(), |b| b.to_string())
                    ));
                }
            }
            if t.enabled == Some(false) {
                changes.push(format!("{}: disabled", rule.name));
            }
        }
        rules.retain(|r| {
            self.rules
                .iter()
                .find(|(k, _)| names(r, k))
                .and_then(|(_, t)| t.enabled)
                .unwrap_or(true)
        });
        Ok(changes)
    }

    /// Why an alert of `rule` for `user` at `at` should be lowered, and to what; `addresses` are
    /// every client address of the alert (empty when unknown or too many to list),
    /// `first_seen` is when the user first appeared in the input, `input_start` when the input
    /// began.
    pub fn lowering(
        &self,
        rule: &Rule,
        user: Option<&str>,
        addresses: &[String],
        at: Timestamp,
        first_seen: Option<Timestamp>,
        input_start: Option<Timestamp>,
    ) -> Option<(Severity, String)> {
        if let Some((g, who)) = self.groups.iter().find_map(|g| {
            if !in_scope(rule, &g.rules) {
                return None;
            }
            if let Some(u) = user.filter(|u| g.users.iter().any(|p| wildcard_eq(p, u))) {
                return Some((g, u.to_string()));
            }
            // Without a user, every address of the alert must be the group's.
            let all = !addresses.is_empty()
                && addresses
                    .iter()
                    .all(|ip| g.source_ips.iter().any(|p| wildcard_eq(p, ip)));
            all.then(|| (g, format!("{} (by address)", addresses.join(", "))))
        }) {
            let why = g
                .reason
                .as_deref()
                .map_or(String::new(), |r| format!(": {r}"));
            return Some((
                g.severity,
                format!("{who} is in {} ({} [[lower]]){why}", g.name, self.origin),
            ));
        }
        let user = user?;
        if let Some(team) = &self.documentation_team
            && in_scope(rule, &team.rules)
            && team.users.iter().any(|u| wildcard_eq(u, user))
        {
            return Some((
                team.severity,
                format!(
                    "{user} is on the documentation team ({} [documentation_team])",
                    self.origin
                ),
            ));
        }
        let o = self.onboarding.as_ref()?;
        if !in_scope(rule, &o.rules) {
            return None;
        }
        let window = i64::from(o.days) * DAY_MS;
        if let Some((_, start)) = o.users.iter().find(|(u, _)| wildcard_eq(u, user)) {
            let since = at.millis() - start.millis();
            if (0..=window).contains(&since) {
                return Some((
                    o.severity,
                    format!(
                        "{user} started on {} and is onboarding ({} [onboarding], {} days)",
                        &start.to_string()[..10],
                        self.origin,
                        o.days
                    ),
                ));
            }
        }
        // A user present when the input begins is not known to be new: only users who appear
        // at least a day later count.
        if let (Some(n), Some(first), Some(begin)) = (o.first_seen_days, first_seen, input_start)
            && first.millis() - begin.millis() >= DAY_MS
            && at.millis() - first.millis() <= i64::from(n) * DAY_MS
        {
            return Some((
                o.severity,
                format!(
                    "{user} was first seen on {}, within {n} days ({} [onboarding] first_seen_days)",
                    &first.to_string()[..10],
                    self.origin
                ),
            ));
        }
        None
    }
}

fn names(rule: &Rule, key: &str) -> bool {
    rule.rule_id == key || rule.name == key
}

fn in_scope(rule: &Rule, rules: &Option<Vec<String>>) -> bool {
    rules
        .as_ref()
        .is_none_or(|list| list.iter().any(|k| names(rule, k)))
}

/// `*` and `?` wildcards, whole value, case-sensitive (as Kibana's wildcard exceptions).
pub fn wildcard_eq(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_eq("svc-*", "svc-backup"));
        assert!(wildcard_eq("wendy", "wendy"));
        assert!(!wildcard_eq("wendy", "Wendy"));
        assert!(wildcard_eq("a?c", "abc"));
        assert!(wildcard_eq("*", ""));
        assert!(!wildcard_eq("a*b", "ac"));
        assert!(wildcard_eq("*b*", "abc"));
    }

    #[test]
    fn errors_name_the_line() {
        let e =
            Tuning::parse("quarry.toml", "[allowlist]\nusers = [\"a\"]\nbogus = 1\n").unwrap_err();
        assert!(e.to_string().starts_with("quarry.toml: line 3:"), "{e}");
        let e = Tuning::parse(
            "quarry.toml",
            "[onboarding]\nusers = [{ name = \"n\", start = \"next week\" }]\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("is not a date"), "{e}");
        let e = Tuning::parse(
            "quarry.toml",
            "[documentation_team]\nusers = [\"w\"]\nseverity = \"tiny\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("severity `tiny`"), "{e}");
    }

    #[test]
    fn allowlists_become_exception_items() {
        let t = Tuning::parse(
            "quarry.toml",
            "[allowlist]\nusers = [\"svc-backup\", \"bot-*\"]\nuser_agents = [\"curl/*\"]\n",
        )
        .unwrap();
        let eql: Vec<String> = t.exceptions.iter().map(|e| e.to_eql()).collect();
        assert_eq!(
            eql,
            [
                r#"(user.name == "svc-backup")"#,
                r#"(user.name like "bot-*")"#,
                r#"(user_agent.original like "curl/*")"#
            ]
        );
        assert_eq!(t.exceptions[0].name, "allowlisted user svc-backup");
    }
}
