//! The access-log parser on real samples (golden files reviewed by hand), and its errors.

use std::path::PathBuf;

use quarry_ingest::access_log::{AccessLogError, parse_line};
use quarry_ingest::classify::Classifier;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Normalizes every line of `sample` and compares with `golden` (`QUARRY_BLESS=1` rewrites it).
fn golden(sample: &str, golden: &str) {
    let text = std::fs::read_to_string(fixture(sample)).unwrap();
    let classifier = Classifier::default();
    let mut out = String::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let event =
            parse_line(line, &classifier).unwrap_or_else(|e| panic!("{sample}:{}: {e}", i + 1));
        out.push_str(&serde_json::to_string(&event.to_json()).unwrap());
        out.push('\n');
    }
    let path = fixture(golden);
    if std::env::var_os("QUARRY_BLESS").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        out, expected,
        "{sample} differs from {golden} (QUARRY_BLESS=1 rewrites it; review the diff)"
    );
}

#[test]
fn default_pattern_sample() {
    golden("access-default.log", "access-default.golden.ndjson");
}

#[test]
fn plaso_sample_with_a_host_name_client() {
    golden("access-plaso.log", "access-plaso.golden.ndjson");
}

#[test]
fn forwarded_for_variant() {
    golden("access-xff.log", "access-xff.golden.ndjson");
}

#[test]
fn malformed_lines_say_why() {
    let c = Classifier::default();
    let cases: &[(&str, AccessLogError)] = &[
        ("", AccessLogError::NoTimestamp),
        ("GET /index.action", AccessLogError::NoTimestamp),
        (
            "[yesterday] u t 10.0.0.1 GET / HTTP/1.1 200 1ms 1 - curl/8",
            AccessLogError::BadTimestamp("yesterday".into()),
        ),
        (
            "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1",
            AccessLogError::NoRequest,
        ),
        (
            "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1 GET /",
            AccessLogError::Truncated("protocol"),
        ),
        (
            "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1 GET / HTTP/1.1 OK 1ms 1 - x",
            AccessLogError::BadStatus("OK".into()),
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(
            parse_line(line, &c).as_ref().err(),
            Some(expected),
            "{line:?}"
        );
    }
}

#[test]
fn anonymous_users_failures_and_searches() {
    let c = Classifier::default();
    let line = "[21/Feb/2024:05:35:37 +0000] - http-nio-8090-exec-1 18.184.255.235 GET /rest/api/content/search?cql=text%20~%20%22password%22 HTTP/1.1 403 22ms - - python-requests/2.25.1";
    let e = parse_line(line, &c).unwrap();
    assert_eq!(e.user_name, None, "`-` is anonymous, not a user called `-`");
    assert_eq!(e.outcome, Some("failure"));
    assert_eq!(e.action, "search_performed");
    assert_eq!(e.message.as_deref(), Some("password"));
    assert_eq!(
        e.url_query.as_deref(),
        Some("cql=text%20~%20%22password%22"),
        "the raw CQL stays in url.query"
    );
    assert_eq!(e.response_bytes, None);
    assert_eq!(e.user_agent.as_deref(), Some("python-requests/2.25.1"));
    assert_eq!(e.timestamp.unwrap().to_string(), "2024-02-21T05:35:37.000Z");
}

#[test]
fn durations_beyond_a_long_are_left_out_not_wrapped() {
    let classifier = Classifier::default();
    let line = |ms: &str| {
        format!(
            "[23/Nov/2026:10:00:00 +0000] alice http-nio-8090-exec-1 10.0.0.7 GET /display/OPS/VPN HTTP/1.1 200 {ms} 5120 - Mozilla/5.0"
        )
    };
    // 99,999,999,999,999 ms is 10^20 ns: past u64, let alone Elasticsearch's long.
    let e = parse_line(&line("99999999999999ms"), &classifier).unwrap();
    assert_eq!(e.duration_ns, None);
    assert_eq!(
        e.user_name.as_deref(),
        Some("alice"),
        "the event itself is kept"
    );
    // The largest duration whose nanoseconds fit a long, and one past it.
    let e = parse_line(&line("9223372036854ms"), &classifier).unwrap();
    assert_eq!(e.duration_ns, Some(9_223_372_036_854_000_000));
    let e = parse_line(&line("9223372036855ms"), &classifier).unwrap();
    assert_eq!(e.duration_ns, None);
    let e = parse_line(&line("30ms"), &classifier).unwrap();
    assert_eq!(e.duration_ns, Some(30_000_000));
}
