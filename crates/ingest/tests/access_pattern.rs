//! Access logs with any valve pattern.

use quarry_ingest::access_log::parse_line;
use quarry_ingest::access_pattern::{AccessPattern, PatternError};
use quarry_ingest::classify::Classifier;
use quarry_ingest::proxies::TrustedProxies;

const DEFAULT: &str = "%t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i";

#[test]
fn the_default_pattern_reproduces_the_dedicated_parser_on_real_samples() {
    let pattern = AccessPattern::parse(DEFAULT).unwrap();
    let c = Classifier::default();
    for sample in ["access-default.log", "access-plaso.log"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(sample);
        for line in std::fs::read_to_string(path).unwrap().lines() {
            let generic = pattern
                .parse_line(line, &c, &TrustedProxies::default())
                .unwrap();
            assert_eq!(generic, parse_line(line, &c).unwrap(), "{line}");
        }
    }
}

#[test]
fn combined_and_split_request_patterns() {
    let c = Classifier::default();
    let t = TrustedProxies::default();
    let combined = AccessPattern::parse("combined").unwrap();
    let e = combined
        .parse_line(r#"203.0.113.7 - alice [01/May/2024:12:00:00 +0000] "GET /rest/api/space?limit=100 HTTP/1.1" 200 5120 "-" "python-requests/2.31.0""#, &c, &t)
        .unwrap();
    assert_eq!(e.action, "space_viewed");
    assert_eq!(e.user_name.as_deref(), Some("alice"));
    assert_eq!(e.user_agent.as_deref(), Some("python-requests/2.31.0"));
    assert_eq!(e.response_bytes, Some(5120));

    let split = AccessPattern::parse("%a %t %m %U%q %s %D %{User-Agent}i").unwrap();
    let e = split
        .parse_line("10.0.0.7 [01/May/2024:12:00:00 +0000] GET /dosearchsite.action?queryString=vpn 200 12 curl/8.5.0", &c, &t)
        .unwrap();
    assert_eq!(e.action, "search_performed");
    assert_eq!(e.message.as_deref(), Some("vpn"));
    assert_eq!(e.duration_ns, Some(12_000_000));
    assert_eq!(e.source_ip.as_deref(), Some("10.0.0.7"));
}

#[test]
fn bad_patterns_and_lines_say_why() {
    assert_eq!(
        AccessPattern::parse("%h %Z"),
        Err(PatternError::UnknownCode("Z".into()))
    );
    assert_eq!(AccessPattern::parse("%h %r"), Err(PatternError::NoTime));
    assert_eq!(AccessPattern::parse("%t %h"), Err(PatternError::NoRequest));
    let p = AccessPattern::parse("combined").unwrap();
    assert!(matches!(
        p.parse_line(
            "garbage",
            &Classifier::default(),
            &TrustedProxies::default()
        ),
        Err(PatternError::Mismatch(_) | PatternError::BadField { .. })
    ));
}
