//! Organization audit log events: the real sample, pages, and the client address.

use quarry_ingest::org_audit::{OrgAuditError, parse_line};

#[test]
fn the_real_event_maps_to_ecs() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/org-audit-event.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let events = parse_line(&doc.to_string()).unwrap();
    let mut written = Vec::new();
    events[0].write_json(&mut written);
    let line = String::from_utf8(written).unwrap();
    assert_eq!(line, serde_json::to_string(&events[0].to_json()).unwrap());
    // Checked by hand against the sample: Guard's own action name, the actor, the message.
    assert_eq!(
        line,
        r#"{"@timestamp":"2022-12-15T00:35:15.890Z","event":{"dataset":"atlassian.confluence","action":"user_logged_in_as_user","category":["authentication"],"type":["start"]},"user":{"name":"Example Admin","id":"1234567890abcdefghijklmn","email":"example.admin@example.com"},"message":"Logged in as example.user@example.io"}"#
    );
}

#[test]
fn pages_and_locations() {
    let page = r#"{"data":[{"id":"1","type":"events","attributes":{"time":"2024-05-01T12:00:00Z","action":"page_viewed","actor":{"id":"a1","name":"Mallory"},"location":{"ip":"203.0.113.7","geo":"Nowhere"}}},{"id":"2","type":"events","attributes":{"time":"2024-05-01T12:00:01Z","action":"space_exported","actor":{"id":"a1"}}}],"meta":{"next":null}}"#;
    let events = parse_line(page).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].action, "page_viewed");
    assert_eq!(events[0].source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(events[1].action, "space_exported");
}

#[test]
fn malformed_events_say_why() {
    assert_eq!(parse_line(r#"{"id":"x"}"#), Err(OrgAuditError::NotAnEvent));
    assert_eq!(
        parse_line(r#"{"attributes":{"time":"2024-05-01T12:00:00Z"}}"#),
        Err(OrgAuditError::NoAction)
    );
    assert!(matches!(
        parse_line(r#"{"attributes":{"action":"a"}}"#),
        Err(OrgAuditError::BadTimestamp(_))
    ));
}
