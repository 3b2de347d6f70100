//! `ecs::FIELDS` is the contract rules are validated against: it must name exactly the leaf
//! fields a fully populated event writes, in both JSON writers.

use quarry_event::Timestamp;
use quarry_ingest::ecs::{EcsEvent, FIELDS};
use serde_json::Value as Json;

fn leaves(prefix: &str, value: &Json, out: &mut Vec<String>) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&path, v, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

fn full_event() -> EcsEvent {
    let s = |v: &str| Some(v.to_string());
    EcsEvent {
        timestamp: Some(Timestamp::parse("2026-11-23T10:00:00Z").unwrap()),
        action: "page_viewed".into(),
        category: Some("web"),
        kind_type: Some("access"),
        outcome: Some("success"),
        user_name: s("alice"),
        user_id: s("u1"),
        user_email: s("alice@example.com"),
        source_ip: s("10.0.0.1"),
        source_domain: s("host.example.com"),
        forwarded_ip: s("10.0.0.2"),
        http_method: s("GET"),
        http_version: s("1.1"),
        status_code: Some(200),
        response_bytes: Some(10),
        duration_ns: Some(5),
        referrer: s("https://wiki/"),
        url_original: s("/x?y"),
        url_path: s("/x"),
        url_query: s("y"),
        user_agent: s("curl/8"),
        message: s("m"),
        space_key: s("ENG"),
        content_id: s("1"),
        content_title: s("T"),
    }
}

#[test]
fn fields_are_exactly_what_a_full_event_writes() {
    let event = full_event();
    let mut from_value = Vec::new();
    leaves("", &event.to_json(), &mut from_value);
    let mut buf = Vec::new();
    event.write_json(&mut buf);
    let mut from_writer = Vec::new();
    leaves("", &serde_json::from_slice(&buf).unwrap(), &mut from_writer);
    let mut expected: Vec<String> = FIELDS.iter().map(|f| f.to_string()).collect();
    expected.sort();
    from_value.sort();
    from_writer.sort();
    assert_eq!(from_value, expected);
    assert_eq!(from_writer, expected);
}
