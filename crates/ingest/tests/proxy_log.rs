//! Proxy logs, from lines in the published NCSA combined and Squid native formats.

use quarry_ingest::classify::Classifier;
use quarry_ingest::proxy_log::{ProxyLogError, parse_line};

fn parse(line: &str) -> quarry_ingest::ecs::EcsEvent {
    parse_line(line, &Classifier::default()).unwrap_or_else(|e| panic!("{line}: {e}"))
}

#[test]
fn ncsa_combined_from_a_reverse_proxy() {
    let e = parse(
        r#"203.0.113.7 - alice [01/May/2024:14:00:00 +0200] "GET /rest/api/space?limit=100&start=0 HTTP/1.1" 200 5120 "-" "python-requests/2.31.0""#,
    );
    assert_eq!(e.action, "space_viewed");
    assert_eq!(e.timestamp.unwrap().to_string(), "2024-05-01T12:00:00.000Z");
    assert_eq!(e.user_name.as_deref(), Some("alice"));
    assert_eq!(e.source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(e.response_bytes, Some(5120));
    assert_eq!(e.status_code, Some(200));
    assert_eq!(e.user_agent.as_deref(), Some("python-requests/2.31.0"));
    assert_eq!(e.url_query.as_deref(), Some("limit=100&start=0"));
    assert_eq!(e.referrer, None);
}

#[test]
fn ncsa_common_without_referrer_or_agent_and_escaped_quotes() {
    let e = parse(
        r#"2001:db8::7 - - [01/May/2024:12:00:00 +0000] "GET /display/OPS/VPN+Setup HTTP/1.1" 404 -"#,
    );
    assert_eq!(e.action, "page_viewed");
    assert_eq!(e.outcome, Some("failure"));
    assert_eq!(e.user_name, None);
    assert_eq!(e.source_ip.as_deref(), Some("2001:db8::7"));
    assert_eq!(e.response_bytes, None);
    let e = parse(
        r#"10.0.0.1 - bob [01/May/2024:12:00:00 +0000] "GET /dosearchsite.action?queryString=vpn HTTP/2.0" 200 90 "https://wiki/" "Mozilla/5.0 \"quoted\" (X11)""#,
    );
    assert_eq!(e.action, "search_performed");
    assert_eq!(e.message.as_deref(), Some("vpn"));
    assert_eq!(
        e.user_agent.as_deref(),
        Some(r#"Mozilla/5.0 "quoted" (X11)"#)
    );
    assert_eq!(e.referrer.as_deref(), Some("https://wiki/"));
    assert_eq!(e.http_version.as_deref(), Some("2.0"));
}

#[test]
fn a_forward_proxy_logs_absolute_urls() {
    let e = parse(
        r#"10.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET https://wiki.example.com/download/attachments/98305/keys.txt HTTP/1.1" 200 42 "-" "curl/8.5.0""#,
    );
    assert_eq!(e.action, "attachment_downloaded");
    assert_eq!(e.content_id.as_deref(), Some("98305"));
    assert_eq!(
        e.url_original.as_deref(),
        Some("https://wiki.example.com/download/attachments/98305/keys.txt")
    );
    assert_eq!(
        e.url_path.as_deref(),
        Some("/download/attachments/98305/keys.txt")
    );
}

#[test]
fn squid_native() {
    let e = parse(
        "1714564800.123     42 203.0.113.7 TCP_MISS/200 5120 GET https://wiki.example.com/rest/api/content/search?cql=text~%22password%22 alice DIRECT/10.0.0.2 application/json",
    );
    assert_eq!(e.action, "search_performed");
    assert_eq!(e.message.as_deref(), Some("password"));
    assert_eq!(e.timestamp.unwrap().to_string(), "2024-05-01T12:00:00.123Z");
    assert_eq!(e.user_name.as_deref(), Some("alice"));
    assert_eq!(e.duration_ns, Some(42_000_000));
    assert_eq!(e.status_code, Some(200));
}

#[test]
fn malformed_lines_say_why() {
    let c = Classifier::default();
    assert_eq!(
        parse_line("hello", &c).unwrap_err(),
        ProxyLogError::Unrecognized
    );
    assert_eq!(
        parse_line(
            r#"1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" OK 1"#,
            &c
        )
        .unwrap_err(),
        ProxyLogError::BadStatus("OK".into())
    );
    assert_eq!(
        parse_line(
            r#"1.2.3.4 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1""#,
            &c
        )
        .unwrap_err(),
        ProxyLogError::Truncated("status")
    );
    assert_eq!(
        parse_line("1714564800.123 42 1.2.3.4", &c).unwrap_err(),
        ProxyLogError::Truncated("URL")
    );
}
