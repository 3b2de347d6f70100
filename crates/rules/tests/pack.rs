//! The Confluence pack (`rules/confluence/*.toml`) against hand-built ECS events.
//!
//! Every case runs the WHOLE pack over its events and compares the alerts it produces, as a
//! sorted list of (rule name, user) pairs, with the list worked out by reading the rules'
//! queries, thresholds, windows and suppression. A case therefore proves both that the rule
//! it is about fires (or stays quiet) and that no other rule fires unless it is named too.
//! Duplicates count: two alerts of one rule for one user are two entries.
//!
//! Times are offsets in seconds from `BASE` (2026-11-23T10:00:00Z), which is a multiple of
//! every rule interval (5m, 30m), so Kibana-mode threshold executions fall on BASE + k*5m.

mod common;
use common::hunt_json;

use std::path::Path;

use quarry_rules::tuning::Tuning;
use quarry_rules::{Alert, HuntOptions, LoadOptions, Rule, Severity, ThresholdMode, load_dir};
use serde_json::{Map, Value as Json, json};

// ---------------------------------------------------------------------------------------------
// Rule names (checked against the pack by `pack_has_the_eight_rules`).

const BULK: &str = "Bulk Confluence Data Mining";
const THRESHOLD: &str = "Bulk Confluence Data Mining (Threshold)";
const REST: &str = "Bulk Confluence Content Extraction over REST";
const CRED: &str = "Confluence Credential Search";
const REPEATED: &str = "Repeated Sensitive Confluence Searches";
const ENUM: &str = "Confluence Space Enumeration by a Scripted Client";
const HUNT: &str = "Confluence Sensitive Term Search (Hunt)";
const EXPORT: &str = "Confluence Space Export";

const BASE: &str = "2026-11-23T10:00:00Z";
const MIN: i64 = 60;
const HOUR: i64 = 3600;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
const PY_REQUESTS: &str = "python-requests/2.31.0";
const CURL: &str = "curl/8.4.0";

// ---------------------------------------------------------------------------------------------
// Event builders.

/// One ECS event under construction.
#[derive(Clone)]
struct Ev(Json);

/// A Confluence event `secs` after BASE by `user` from `ip` doing `action`.
fn ev(secs: i64, user: &str, ip: &str, action: &str) -> Ev {
    let base: jiff::Timestamp = BASE.parse().unwrap();
    let ts = jiff::Timestamp::from_second(base.as_second() + secs).unwrap();
    Ev(json!({
        "@timestamp": ts.to_string(),
        "event": {"dataset": "atlassian.confluence", "action": action},
        "user": {"name": user},
        "source": {"ip": ip},
    }))
}

impl Ev {
    /// Sets a dotted field, creating the objects on the way.
    fn set(mut self, dotted: &str, value: Json) -> Ev {
        let mut node = self.0.as_object_mut().unwrap();
        let parts: Vec<&str> = dotted.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            node = node
                .entry(part.to_string())
                .or_insert_with(|| Json::Object(Map::new()))
                .as_object_mut()
                .unwrap();
        }
        node.insert(parts[parts.len() - 1].to_string(), value);
        self
    }
    fn dataset(self, d: &str) -> Ev {
        self.set("event.dataset", json!(d))
    }
    fn msg(self, m: &str) -> Ev {
        self.set("message", json!(m))
    }
    fn path(self, p: &str) -> Ev {
        self.set("url.path", json!(p))
    }
    fn query(self, q: &str) -> Ev {
        self.set("url.query", json!(q))
    }
    fn ua(self, ua: &str) -> Ev {
        self.set("user_agent.original", json!(ua))
    }
    fn content_id(self, id: &str) -> Ev {
        self.set("confluence.content.id", json!(id))
    }
    fn space_key(self, key: &str) -> Ev {
        self.set("confluence.space.key", json!(key))
    }
}

/// `n` offsets from `start`, `step` seconds apart.
fn every(n: usize, start: i64, step: i64) -> Vec<i64> {
    (0..n as i64).map(|i| start + i * step).collect()
}

/// `n` offsets from `start` to exactly `start + span` (first and last included), evenly spread.
fn spread(n: usize, start: i64, span: i64) -> Vec<i64> {
    assert!(n >= 2);
    (0..n as i64)
        .map(|i| start + i * span / (n as i64 - 1))
        .collect()
}

/// One event per offset, made by `make`.
fn at(offsets: Vec<i64>, make: impl Fn(i64) -> Ev) -> Vec<Ev> {
    offsets.into_iter().map(make).collect()
}

/// A page view by alice from 10.0.0.1: the plain content-access event of the bulk rules.
fn view(t: i64) -> Ev {
    ev(t, "alice", "10.0.0.1", "page_viewed")
        .path("/display/ENG/Home")
        .ua(CHROME)
}

/// A search by bob from 10.0.0.2.
fn search(t: i64, text: &str) -> Ev {
    ev(t, "bob", "10.0.0.2", "search_performed")
        .path("/dosearchsite.action")
        .msg(text)
        .ua(CHROME)
}

/// A REST content read by carol from 10.0.0.3 with the given query string.
fn rest_read(t: i64, query: &str) -> Ev {
    ev(t, "carol", "10.0.0.3", "content_viewed")
        .path(&format!("/rest/api/content/{}", 100_000 + t))
        .query(query)
        .ua(PY_REQUESTS)
}

/// A space listing by dave from 10.0.0.4 on `path` with user agent `ua`.
fn space_list(t: i64, path: &str, ua: &str) -> Ev {
    ev(t, "dave", "10.0.0.4", "space_viewed").path(path).ua(ua)
}

// ---------------------------------------------------------------------------------------------
// Running the pack.

fn pack() -> Vec<Rule> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/confluence");
    match load_dir(&dir, &LoadOptions::default()) {
        Ok(rules) => rules,
        Err(errors) => panic!(
            "the pack does not load: {}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

fn run_with(events: &[Ev], mode: ThresholdMode) -> Vec<Alert> {
    let options = HuntOptions {
        threshold_mode: mode,
        ..HuntOptions::default()
    };
    let json = events.iter().map(|e| e.0.clone()).collect();
    let (alerts, _, _) = hunt_json(pack(), Tuning::default(), options, json).unwrap();
    alerts
}

fn run(events: &[Ev]) -> Vec<Alert> {
    run_with(events, ThresholdMode::Kibana)
}

/// The alerts as sorted (rule name, user) pairs.
fn pairs(alerts: &[Alert]) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = alerts
        .iter()
        .map(|a| {
            (
                a.rule_name.clone(),
                a.user.clone().unwrap_or_else(|| "-".into()),
            )
        })
        .collect();
    p.sort();
    p
}

fn expected(e: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = e
        .iter()
        .map(|(r, u)| (r.to_string(), u.to_string()))
        .collect();
    p.sort();
    p
}

/// One table row: what it proves, its events, the whole pack's expected alerts.
struct Case {
    proves: &'static str,
    events: Vec<Ev>,
    expect: Vec<(&'static str, &'static str)>,
}

fn case(proves: &'static str, events: Vec<Ev>, expect: &[(&'static str, &'static str)]) -> Case {
    Case {
        proves,
        events,
        expect: expect.to_vec(),
    }
}

/// Runs every case (Kibana threshold mode) and reports all mismatches at once.
fn check(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        let got = pairs(&run(&c.events));
        let want = expected(&c.expect);
        if got != want {
            failures.push(format!(
                "case `{}`:\n    expected {want:?}\n    got      {got:?}",
                c.proves
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The alert of `rule` among `alerts` (exactly one).
fn only<'a>(alerts: &'a [Alert], rule: &str) -> &'a Alert {
    let of: Vec<&Alert> = alerts.iter().filter(|a| a.rule_name == rule).collect();
    assert_eq!(of.len(), 1, "alerts of {rule}: {:?}", pairs(alerts));
    of[0]
}

// ---------------------------------------------------------------------------------------------

#[test]
fn pack_has_the_eight_rules() {
    let mut names: Vec<String> = pack().into_iter().map(|r| r.name).collect();
    names.sort();
    let mut want = vec![BULK, THRESHOLD, REST, CRED, REPEATED, ENUM, HUNT, EXPORT];
    want.sort();
    assert_eq!(names, want);
}

#[test]
fn quiet_traffic_raises_nothing() {
    check(vec![
        // An ordinary morning: a few page views, a harmless search, a single-page export,
        // a browser opening the space directory. No rule fires.
        case(
            "ordinary browsing",
            vec![
                view(0),
                view(60),
                search(120, "release notes"),
                ev(180, "erin", "10.0.0.9", "content_exported")
                    .content_id("4242")
                    .space_key("ENG"),
                space_list(240, "/rest/api/space", CHROME),
                ev(300, "alice", "10.0.0.1", "user_login"),
            ],
            &[],
        ),
    ]);
}

#[test]
fn bulk_data_mining() {
    check(vec![
        // 40 page views 90 s apart (58.5 min): the sequence's 40 runs fit in maxspan=1h. The
        // threshold twin (Kibana) also fires: execution 11:00 counts [10:00, 11:00], all 40.
        case(
            "40 views within 1h",
            at(every(40, 0, 90), view),
            &[(BULK, "alice"), (THRESHOLD, "alice")],
        ),
        // One short of runs=40: neither twin fires.
        case("39 views within 1h", at(every(39, 0, 90), view), &[]),
        // 40 views whose first and last are 1h + 1s apart: no 40 fit in maxspan, and no
        // 60-minute lookback holds all 40 either.
        case(
            "40 views over 1h + 1s",
            at(spread(40, 0, HOUR + 1), view),
            &[],
        ),
        // First to last exactly 1h: maxspan is inclusive, so the sequence matches. Starting on
        // an execution time (10:00) and ending on one (11:00), the Kibana lookback
        // [10:00, 11:00] is inclusive at both ends too, so the twin fires as well.
        case(
            "40 views exactly 1h apart first-to-last, aligned",
            at(spread(40, 0, HOUR), view),
            &[(BULK, "alice"), (THRESHOLD, "alice")],
        ),
        // 40 views in 20 minutes but 20 from each of two addresses: both twins group by
        // user.name AND source.ip, so each group holds 20.
        case(
            "20 + 20 views from two addresses",
            at(every(40, 0, 30), |t| {
                let ip = if t % 60 == 0 { "10.0.0.1" } else { "10.0.0.99" };
                ev(t, "alice", ip, "page_viewed").path("/display/ENG/Home")
            }),
            &[],
        ),
        // 39 views plus a login: user_login is not one of the eight content actions.
        case(
            "39 views + 1 user_login",
            {
                let mut e = at(every(39, 0, 60), view);
                e.push(ev(39 * 60, "alice", "10.0.0.1", "user_login"));
                e
            },
            &[],
        ),
        // 40 logins alone: no content action at all.
        case(
            "40 user_login",
            at(every(40, 0, 30), |t| {
                ev(t, "alice", "10.0.0.1", "user_login")
            }),
            &[],
        ),
        // 39 Confluence views plus a page view from Jira: another dataset does not count.
        case(
            "39 views + 1 from atlassian.jira",
            {
                let mut e = at(every(39, 0, 60), view);
                e.push(view(39 * 60).dataset("atlassian.jira"));
                e
            },
            &[],
        ),
        // All eight content actions count: 5 of each (40) within 40 minutes fire both twins.
        // (The exports and searches are chosen so no single-event rule fires: the exports name
        // a page, the searches are harmless.)
        case(
            "5 of each of the eight actions",
            at(every(40, 0, 60), |t| {
                let actions = [
                    "page_viewed",
                    "content_viewed",
                    "space_viewed",
                    "attachment_downloaded",
                    "content_exported",
                    "space_exported",
                    "search_performed",
                    "page_printed",
                ];
                let action = actions[(t / 60) as usize % 8];
                let e = ev(t, "alice", "10.0.0.1", action).content_id("77");
                if action == "search_performed" {
                    e.msg("release notes")
                } else {
                    e
                }
            }),
            // space_exported fires the export rule regardless of a content id.
            &[(BULK, "alice"), (THRESHOLD, "alice"), (EXPORT, "alice")],
        ),
        // Two users, each with 40 views in the same hour: one alert per user and twin.
        case(
            "two users each over the threshold",
            {
                let mut e = at(every(40, 0, 60), view);
                e.extend(at(every(40, 30, 60), |t| {
                    ev(t, "zoe", "10.0.0.7", "page_viewed").path("/display/HR/Home")
                }));
                e
            },
            &[
                (BULK, "alice"),
                (THRESHOLD, "alice"),
                (BULK, "zoe"),
                (THRESHOLD, "zoe"),
            ],
        ),
    ]);
}

/// 100 views 30 s apart (49.5 min): 61 overlapping sequence matches (events 1-40 ... 61-100)
/// fold into ONE alert (suppression 1h from the first match) that counts each event once.
#[test]
fn bulk_data_mining_suppresses_a_long_burst_into_one_alert() {
    let events = at(every(100, 0, 30), view);
    let alerts = run(&events);
    assert_eq!(
        pairs(&alerts),
        expected(&[(BULK, "alice"), (THRESHOLD, "alice")])
    );
    let bulk = only(&alerts, BULK);
    assert_eq!(bulk.match_count, 61);
    assert_eq!(bulk.event_count, 100);
    assert_eq!(bulk.user.as_deref(), Some("alice"));
    assert_eq!(bulk.source_ip.as_deref(), Some("10.0.0.1"));
    assert_eq!(bulk.severity, Severity::Medium);
    assert_eq!(
        bulk.group,
        vec![
            ("user.name".to_string(), Some("alice".to_string())),
            ("source.ip".to_string(), Some("10.0.0.1".to_string())),
        ]
    );
    // The alert is raised when the 40th event completes the first match.
    assert_eq!(bulk.timestamp, quarry_event_ts(39 * 30));
    assert_eq!(bulk.first_seen, quarry_event_ts(0));
    assert_eq!(bulk.last_seen, quarry_event_ts(99 * 30));
}

/// The same burst twice, 2 hours apart: the suppression window (1h) has closed, so each burst
/// is its own alert for both twins.
#[test]
fn bulk_data_mining_two_bursts_two_alerts() {
    let mut events = at(every(40, 0, 30), view);
    events.extend(at(every(40, 2 * HOUR, 30), view));
    assert_eq!(
        pairs(&run(&events)),
        expected(&[
            (BULK, "alice"),
            (BULK, "alice"),
            (THRESHOLD, "alice"),
            (THRESHOLD, "alice"),
        ])
    );
}

fn quarry_event_ts(secs: i64) -> quarry_event::Timestamp {
    let base: jiff::Timestamp = BASE.parse().unwrap();
    quarry_event::Timestamp::from_millis((base.as_second() + secs) * 1000).unwrap()
}

#[test]
fn bulk_data_mining_threshold() {
    check(vec![
        // 40 views 5 s apart (10:00:00-10:03:15): the execution at 10:05 counts all 40 in
        // [09:05, 10:05]. The EQL twin fires too.
        case(
            "40 views within 4 minutes",
            at(every(40, 0, 5), view),
            &[(BULK, "alice"), (THRESHOLD, "alice")],
        ),
        // 39: under the threshold value, and under runs=40.
        case("39 views within 4 minutes", at(every(39, 0, 5), view), &[]),
        // 40 views in a burst but one of them lacks source.ip: the threshold's terms
        // aggregation leaves it out (39 counted), and the sequence's join key is missing.
        case(
            "40 views, one without source.ip",
            {
                let mut e = at(every(39, 0, 5), view);
                let mut last = view(39 * 5);
                last.0.as_object_mut().unwrap().remove("source");
                e.push(last);
                e
            },
            &[],
        ),
    ]);
}

/// 20 views at 10:02 and 20 at 11:01 (59m19s first to last). Every execution's lookback
/// [T-60m, T] with T on the 5-minute grid holds only one half ([10:00, 11:00] misses 11:01,
/// [10:05, 11:05] misses 10:02), so Kibana's scheduling never sees 40; the exact sliding
/// window ending at 11:01:19 holds all 40. The EQL sequence, which is not scheduled, fires in
/// both modes.
#[test]
fn threshold_kibana_versus_sliding_straddling_burst() {
    let mut events = at(every(20, 2 * MIN, 1), view);
    events.extend(at(every(20, HOUR + MIN, 1), view));
    assert_eq!(
        pairs(&run_with(&events, ThresholdMode::Kibana)),
        expected(&[(BULK, "alice")])
    );
    let sliding = run_with(&events, ThresholdMode::Sliding);
    assert_eq!(
        pairs(&sliding),
        expected(&[(BULK, "alice"), (THRESHOLD, "alice")])
    );
    let t = only(&sliding, THRESHOLD);
    assert_eq!(t.threshold_count, Some(40));
    assert_eq!(t.event_count, 40);
}

/// 40 views exactly 1h apart first-to-last, but starting off the grid (10:00:30-11:00:30):
/// the sequence (maxspan inclusive) and the sliding threshold window (inclusive) both hold
/// all 40, yet no Kibana execution does ([10:00, 11:00] misses the last, [10:05, 11:05] the
/// first few).
#[test]
fn threshold_kibana_versus_sliding_exact_hour_off_grid() {
    let events = at(spread(40, 30, HOUR), view);
    assert_eq!(
        pairs(&run_with(&events, ThresholdMode::Kibana)),
        expected(&[(BULK, "alice")])
    );
    assert_eq!(
        pairs(&run_with(&events, ThresholdMode::Sliding)),
        expected(&[(BULK, "alice"), (THRESHOLD, "alice")])
    );
}

/// Events that both modes agree on: a tight burst alerts in both, a burst over 1h + 1s in
/// neither.
#[test]
fn threshold_modes_agree_on_clear_cases() {
    for mode in [ThresholdMode::Kibana, ThresholdMode::Sliding] {
        assert_eq!(
            pairs(&run_with(&at(every(40, 0, 5), view), mode)),
            expected(&[(BULK, "alice"), (THRESHOLD, "alice")]),
            "{mode:?}"
        );
        assert_eq!(
            pairs(&run_with(&at(spread(40, 0, HOUR + 1), view), mode)),
            expected(&[]),
            "{mode:?}"
        );
    }
}

#[test]
fn sensitive_search_hunt() {
    check(vec![
        // "aws" is one of the hunt's 15 terms; alone it is too weak for the credential rule
        // (no credential word), and one search is not three.
        case(
            "search for 'aws architecture'",
            vec![search(0, "aws architecture")],
            &[(HUNT, "bob")],
        ),
        // No sensitive term anywhere.
        case(
            "search for 'release notes'",
            vec![search(0, "release notes")],
            &[],
        ),
        // "password" in the message of a page view: only search_performed counts.
        case(
            "page_viewed with message 'password'",
            vec![ev(0, "bob", "10.0.0.2", "page_viewed").msg("password")],
            &[],
        ),
        // A search event with process.args (an array, as ECS has it) holding "password" and
        // no message: the hunt's `?process.args like~ "*password*"` clause matches; the
        // credential rules read only `message`.
        case(
            "search with process.args 'password', no message",
            vec![ev(0, "bob", "10.0.0.2", "search_performed").set(
                "process.args",
                json!(["confluence-cli", "search", "password"]),
            )],
            &[(HUNT, "bob")],
        ),
        // The same with process.args as a single string.
        case(
            "search with process.args string 'credentials'",
            vec![
                ev(0, "bob", "10.0.0.2", "search_performed")
                    .set("process.args", json!("find credentials")),
            ],
            &[(HUNT, "bob")],
        ),
        // Substring hits are documented false positives: "bylaws" contains "aws".
        case(
            "search for 'company bylaws'",
            vec![search(0, "company bylaws")],
            &[(HUNT, "bob")],
        ),
        // Another dataset's search does not count.
        case(
            "jira search for 'password'",
            vec![search(0, "password").dataset("atlassian.jira")],
            &[],
        ),
        // Five weak-term searches in 40 minutes (never 3 within 10m): one hunt alert, folded
        // by user over the 1h suppression window.
        case(
            "five weak searches in 40 min",
            at(every(5, 0, 10 * MIN), |t| search(t, "vpn setup")),
            &[(HUNT, "bob")],
        ),
    ]);
    let alerts = run(&[search(0, "aws architecture")]);
    assert_eq!(only(&alerts, HUNT).severity, Severity::Low);
}

#[test]
fn credential_search() {
    check(vec![
        // A credential term: credential search, and the hunt (which has the term too).
        case(
            "search for 'password'",
            vec![search(0, "password")],
            &[(CRED, "bob"), (HUNT, "bob")],
        ),
        // A weak term alone: the hunt only.
        case(
            "search for 'aws architecture'",
            vec![search(0, "aws architecture")],
            &[(HUNT, "bob")],
        ),
        // "aws secret key": "secret" is a credential term on its own (and "aws" + "key" would
        // do as well); the hunt has "secret" and "aws".
        case(
            "search for 'aws secret key'",
            vec![search(0, "aws secret key")],
            &[(CRED, "bob"), (HUNT, "bob")],
        ),
        // A weak term plus a credential word and no strong term: the second branch fires.
        case(
            "search for 'aws keys prod'",
            vec![search(0, "aws keys prod")],
            &[(CRED, "bob"), (HUNT, "bob")],
        ),
        // The same branch with ldap + login, in capitals.
        case(
            "search for 'LDAP login'",
            vec![search(0, "LDAP login")],
            &[(CRED, "bob"), (HUNT, "bob")],
        ),
        // "certification" is not a credential word ("certificate" is): the hunt only.
        case(
            "search for 'aws certification study guide'",
            vec![search(0, "aws certification study guide")],
            &[(HUNT, "bob")],
        ),
        // A platform word with a certificate or key file is a credential hunt.
        case(
            "search for 'ssh certificate'",
            vec![search(0, "ssh certificate")],
            &[(CRED, "bob"), (HUNT, "bob")],
        ),
        // like~ is case-insensitive.
        case(
            "search for 'PASSWORD'",
            vec![search(0, "PASSWORD")],
            &[(CRED, "bob"), (HUNT, "bob")],
        ),
        // A credential word without a weak term is nothing: "certificate" contains "cert" but
        // neither list's terms.
        case(
            "search for 'certificate of attendance'",
            vec![search(0, "certificate of attendance")],
            &[],
        ),
        // "passwd" and "apikey" are credential terms the hunt does not have.
        case(
            "search for 'passwd'",
            vec![search(0, "etc passwd")],
            &[(CRED, "bob")],
        ),
        case(
            "search for 'apikey'",
            vec![search(0, "apikey")],
            &[(CRED, "bob")],
        ),
        // A credential term outside a search (a page titled so) is not a search.
        case(
            "page_viewed 'password policy'",
            vec![view(0).msg("password policy")],
            &[],
        ),
        // Platform terms count only at the start of a word: "flaws" is not "aws", so only the
        // seed's broad hunt (plain substrings) fires.
        case(
            "search for 'flaws in the login page'",
            vec![search(0, "flaws in the login page")],
            &[(HUNT, "bob")],
        ),
        // CQL as the DC audit log keeps it: the platform word follows a quote or a bracket.
        case(
            "search for 'siteSearch ~ \"vpn login\"'",
            vec![search(0, "siteSearch ~ \"vpn login\"")],
            &[(CRED, "bob"), (HUNT, "bob")],
        ),
        case(
            "search for '(ssh key)'",
            vec![search(0, "(ssh key)")],
            &[(CRED, "bob"), (HUNT, "bob")],
        ),
        case(
            "search for 'text ~ \"AWS keys\" and type = page'",
            vec![search(0, "text ~ \"AWS keys\" and type = page")],
            &[(CRED, "bob"), (HUNT, "bob")],
        ),
        // ... but a platform word after a space or punctuation-free start does.
        case(
            "search for 'prod aws-login'",
            vec![search(0, "prod aws-login")],
            &[(CRED, "bob"), (HUNT, "bob")],
        ),
    ]);
}

#[test]
fn repeated_sensitive_searches() {
    check(vec![
        // Three weak-term searches within 4 minutes: the sequence (runs=3, maxspan 10m by
        // user) fires; each also hits the hunt (one alert, folded by user); none has a
        // credential word, so the credential rule stays quiet.
        case(
            "3 sensitive searches in 4 min",
            vec![
                search(0, "aws architecture"),
                search(2 * MIN, "vpn setup"),
                search(4 * MIN, "ssh access request"),
            ],
            &[(REPEATED, "bob"), (HUNT, "bob")],
        ),
        // Platform terms inside other words do not count here ("bylaws", "flaws", "draws"),
        // though the seed's broad hunt matches them as substrings.
        case(
            "3 searches with 'aws' inside words",
            vec![
                search(0, "company bylaws"),
                search(MIN, "known flaws"),
                search(2 * MIN, "prize draws"),
            ],
            &[(HUNT, "bob")],
        ),
        // Two are not three.
        case(
            "2 sensitive searches",
            vec![search(0, "aws architecture"), search(MIN, "vpn setup")],
            &[(HUNT, "bob")],
        ),
        // Three spread over 10m + 1s: no three within maxspan.
        case(
            "3 sensitive searches over 10m + 1s",
            vec![
                search(0, "aws architecture"),
                search(5 * MIN, "vpn setup"),
                search(10 * MIN + 1, "ssh access request"),
            ],
            &[(HUNT, "bob")],
        ),
        // Exactly 10m first to last: maxspan is inclusive.
        case(
            "3 sensitive searches exactly 10m apart first-to-last",
            vec![
                search(0, "aws architecture"),
                search(5 * MIN, "vpn setup"),
                search(10 * MIN, "ssh access request"),
            ],
            &[(REPEATED, "bob"), (HUNT, "bob")],
        ),
        // The sequence joins on user.name only: three addresses still make one run.
        case(
            "3 sensitive searches from three addresses",
            vec![
                search(0, "azure"),
                ev(MIN, "bob", "10.9.9.9", "search_performed").msg("gcp"),
                ev(2 * MIN, "bob", "192.168.1.5", "search_performed").msg("kerberos"),
            ],
            &[(REPEATED, "bob"), (HUNT, "bob")],
        ),
        // Three searches, one harmless in the middle: only two are sensitive.
        case(
            "2 sensitive + 1 harmless search",
            vec![
                search(0, "aws architecture"),
                search(MIN, "release notes"),
                search(2 * MIN, "vpn setup"),
            ],
            &[(HUNT, "bob")],
        ),
        // Three sensitive searches by three different users: no user has three.
        case(
            "3 sensitive searches by 3 users",
            vec![
                search(0, "aws architecture"),
                ev(MIN, "frank", "10.0.0.2", "search_performed").msg("vpn setup"),
                ev(2 * MIN, "grace", "10.0.0.2", "search_performed").msg("ssh access"),
            ],
            &[(HUNT, "bob"), (HUNT, "frank"), (HUNT, "grace")],
        ),
        // Three password searches: repeated, credential and hunt (one alert each).
        case(
            "3 password searches",
            at(every(3, 0, MIN), |t| search(t, "password")),
            &[(REPEATED, "bob"), (CRED, "bob"), (HUNT, "bob")],
        ),
    ]);
}

#[test]
fn space_export() {
    check(vec![
        // One space_exported event is enough.
        case(
            "space_exported",
            vec![ev(0, "erin", "10.0.0.5", "space_exported").space_key("ENG")],
            &[(EXPORT, "erin")],
        ),
        // A page export (content id present) is not a space export.
        case(
            "content_exported with a content id",
            vec![
                ev(0, "erin", "10.0.0.5", "content_exported")
                    .content_id("4242")
                    .space_key("ENG"),
            ],
            &[],
        ),
        // content_exported naming a space and no page: a whole-space export.
        case(
            "content_exported with a space key, no content id",
            vec![ev(0, "erin", "10.0.0.5", "content_exported").space_key("ENG")],
            &[(EXPORT, "erin")],
        ),
        // content_exported naming neither: not known to be a space.
        case(
            "content_exported with neither key nor id",
            vec![ev(0, "erin", "10.0.0.5", "content_exported")],
            &[],
        ),
        // space_exported from another dataset.
        case(
            "space_exported from atlassian.jira",
            vec![
                ev(0, "erin", "10.0.0.5", "space_exported")
                    .space_key("ENG")
                    .dataset("atlassian.jira"),
            ],
            &[],
        ),
        // A browser export is several events (form, POST, audit record) within minutes:
        // folded into one alert per user.
        case(
            "three export events in 2 minutes",
            vec![
                ev(0, "erin", "10.0.0.5", "space_exported").space_key("ENG"),
                ev(MIN, "erin", "10.0.0.5", "space_exported").space_key("ENG"),
                ev(2 * MIN, "erin", "10.0.0.5", "content_exported").space_key("ENG"),
            ],
            &[(EXPORT, "erin")],
        ),
    ]);
    let alerts = run(&[ev(0, "erin", "10.0.0.5", "space_exported").space_key("ENG")]);
    assert_eq!(only(&alerts, EXPORT).severity, Severity::High);
}

#[test]
fn bulk_rest_extraction() {
    check(vec![
        // Ten body reads 30 s apart (4.5 min): runs=10 within maxspan 15m.
        case(
            "10 reads with expand=body.storage",
            at(every(10, 0, 30), |t| {
                rest_read(t, "expand=body.storage,version")
            }),
            &[(REST, "carol")],
        ),
        // Nine are one short.
        case(
            "9 reads with expand=body.storage",
            at(every(9, 0, 30), |t| {
                rest_read(t, "expand=body.storage,version")
            }),
            &[],
        ),
        // Ten reads that do not ask for the body.
        case(
            "10 reads without expand",
            at(every(10, 0, 30), |t| {
                rest_read(t, "status=current&limit=25")
            }),
            &[],
        ),
        // Ten reads with no query string at all.
        case(
            "10 reads without url.query",
            at(every(10, 0, 30), |t| {
                ev(t, "carol", "10.0.0.3", "content_viewed")
                    .path(&format!("/rest/api/content/{}", 100_000 + t))
                    .ua(PY_REQUESTS)
            }),
            &[],
        ),
        // The comma URL-encoded as %2C: `*expand=*body.storage*` still matches.
        case(
            "10 reads with expand=version%2Cbody.storage",
            at(every(10, 0, 30), |t| {
                rest_read(t, "expand=version%2Cbody.storage")
            }),
            &[(REST, "carol")],
        ),
        // The v2 API's body-format parameter.
        case(
            "10 reads with body-format=storage",
            at(every(10, 0, 30), |t| rest_read(t, "body-format=storage")),
            &[(REST, "carol")],
        ),
        // Ten spread over 15m + 1s: no ten within maxspan.
        case(
            "10 reads over 15m + 1s",
            at(spread(10, 0, 15 * MIN + 1), |t| {
                rest_read(t, "expand=body.storage")
            }),
            &[],
        ),
        // Ten body reads but recorded as page_viewed: the rule wants content_viewed.
        case(
            "10 page_viewed with expand",
            at(every(10, 0, 30), |t| {
                ev(t, "carol", "10.0.0.3", "page_viewed")
                    .path("/pages/viewpage.action")
                    .query("pageId=1&expand=body.storage")
            }),
            &[],
        ),
        // 5 + 5 from two addresses: joined by user.name and source.ip.
        case(
            "5 + 5 reads from two addresses",
            at(every(10, 0, 30), |t| {
                let ip = if t % 60 == 0 { "10.0.0.3" } else { "10.0.0.33" };
                rest_read(t, "expand=body.storage").set("source.ip", json!(ip))
            }),
            &[],
        ),
        // Forty body reads in 20 minutes: the REST rule, and both bulk twins (content_viewed
        // is a content action).
        case(
            "40 reads with expand in 20 min",
            at(every(40, 0, 30), |t| rest_read(t, "expand=body.storage")),
            &[(REST, "carol"), (BULK, "carol"), (THRESHOLD, "carol")],
        ),
    ]);
    let alerts = run(&at(every(10, 0, 30), |t| {
        rest_read(t, "expand=body.storage")
    }));
    assert_eq!(only(&alerts, REST).severity, Severity::High);
}

#[test]
fn space_enumeration_by_scripted_client() {
    check(vec![
        // Three REST space listings from python-requests within 2 minutes.
        case(
            "3 /rest/api/space with python-requests",
            at(every(3, 0, MIN), |t| {
                space_list(t, "/rest/api/space", PY_REQUESTS)
            }),
            &[(ENUM, "dave")],
        ),
        // The same listings from a browser.
        case(
            "3 /rest/api/space with Chrome",
            at(every(3, 0, MIN), |t| {
                space_list(t, "/rest/api/space", CHROME)
            }),
            &[],
        ),
        // A scripted client on the HTML space page, not the REST API.
        case(
            "3 /spaces/viewspace.action with curl",
            at(every(3, 0, MIN), |t| {
                space_list(t, "/spaces/viewspace.action", CURL)
            }),
            &[],
        ),
        // aiohttp announces itself after the Python version: `*aiohttp/*`.
        case(
            "3 /rest/api/space with Python/3.11 aiohttp/3.9.1",
            at(every(3, 0, MIN), |t| {
                space_list(t, "/rest/api/space", "Python/3.11 aiohttp/3.9.1")
            }),
            &[(ENUM, "dave")],
        ),
        // Cloud's v2 API under /wiki with curl.
        case(
            "3 /wiki/api/v2/spaces with curl",
            at(every(3, 0, MIN), |t| {
                space_list(t, "/wiki/api/v2/spaces", CURL)
            }),
            &[(ENUM, "dave")],
        ),
        // A sub-resource of a space still matches `*/rest/api/space*`.
        case(
            "3 /rest/api/space/ENG/content with Go",
            at(every(3, 0, MIN), |t| {
                space_list(t, "/rest/api/space/ENG/content", "Go-http-client/1.1")
            }),
            &[(ENUM, "dave")],
        ),
        // Two are not three.
        case(
            "2 /rest/api/space with python-requests",
            at(every(2, 0, MIN), |t| {
                space_list(t, "/rest/api/space", PY_REQUESTS)
            }),
            &[],
        ),
        // Three over 10m + 1s: not within maxspan.
        case(
            "3 /rest/api/space over 10m + 1s",
            vec![
                space_list(0, "/rest/api/space", PY_REQUESTS),
                space_list(5 * MIN, "/rest/api/space", PY_REQUESTS),
                space_list(10 * MIN + 1, "/rest/api/space", PY_REQUESTS),
            ],
            &[],
        ),
        // Three listings as content_viewed, not space_viewed.
        case(
            "3 content_viewed on /rest/api/space with curl",
            at(every(3, 0, MIN), |t| {
                ev(t, "dave", "10.0.0.4", "content_viewed")
                    .path("/rest/api/space")
                    .ua(CURL)
            }),
            &[],
        ),
    ]);
}

/// A LAPSUS$-style session: credential searches, then bulk REST reads of the hits, then a
/// space export, all by one account from one address within the hour. Every rule but the
/// scripted space listing fires once for the user.
#[test]
fn one_intrusion_fires_the_whole_pack() {
    let user = "mallory";
    let ip = "203.0.113.7";
    let mut events = vec![
        ev(0, user, ip, "search_performed").msg("password"),
        ev(MIN, user, ip, "search_performed").msg("aws access key"),
        ev(2 * MIN, user, ip, "search_performed").msg("vpn"),
    ];
    events.extend(at(every(3, 3 * MIN, 10), |t| {
        ev(t, user, ip, "space_viewed")
            .path("/rest/api/space")
            .ua(PY_REQUESTS)
    }));
    events.extend(at(every(40, 4 * MIN, 15), |t| {
        ev(t, user, ip, "content_viewed")
            .path("/rest/api/content/1")
            .query("expand=body.storage")
            .ua(PY_REQUESTS)
    }));
    events.push(ev(20 * MIN, user, ip, "space_exported").space_key("OPS"));
    assert_eq!(
        pairs(&run(&events)),
        expected(&[
            (BULK, user),
            (THRESHOLD, user),
            (REST, user),
            (CRED, user),
            (REPEATED, user),
            (ENUM, user),
            (HUNT, user),
            (EXPORT, user),
        ])
    );
}
