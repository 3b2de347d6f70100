//! Documents of Elastic's `atlassian_confluence` integration, with and without the raw record.

use quarry_ingest::elastic_integration::parse_line;

fn sample() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/elastic-integration-sample.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_raw_record_and_the_integrations_fields_give_the_same_event() {
    let with_original = sample();
    let mut without = with_original.clone();
    without["event"].as_object_mut().unwrap().remove("original");
    let a = &parse_line(&with_original.to_string()).unwrap()[0];
    let b = &parse_line(&without.to_string()).unwrap()[0];
    // "Audit Log search performed": an administrator searching the audit log.
    assert_eq!(a.action, "audit_log_searched");
    assert_eq!(b.action, "audit_log_searched");
    assert_eq!(a.timestamp, b.timestamp);
    assert_eq!(a.timestamp.unwrap().to_string(), "2021-11-22T23:44:13.873Z");
    assert_eq!(a.source_ip.as_deref(), Some("81.2.69.143"));
    assert_eq!(b.source_ip.as_deref(), Some("81.2.69.143"));
    assert_eq!(a.user_name.as_deref(), Some("test.user"));
    assert_eq!(b.user_name.as_deref(), Some("test.user"));
    assert_eq!(a.message, b.message);
}

#[test]
fn a_content_search_keeps_its_query_from_the_integrations_fields() {
    let doc = serde_json::json!({
        "@timestamp": "2024-05-01T12:00:00.000Z",
        "event": {"action": "audit.logging.summary.search.performed", "dataset": "atlassian_confluence.audit"},
        "confluence": {"audit": {"extra_attributes": [
            {"name": "Query", "nameI18nKey": "audit.logging.extra.attribute.query", "value": "vpn password"}
        ]}},
        "user": {"name": "alice", "id": "8a7f"},
        "source": {"ip": "10.1.2.3"}
    });
    let e = &parse_line(&doc.to_string()).unwrap()[0];
    assert_eq!(e.action, "search_performed");
    assert_eq!(e.message.as_deref(), Some("vpn password"));
    assert_eq!(e.user_id.as_deref(), Some("8a7f"));
    let cloud = serde_json::json!({"@timestamp": "2024-05-01T12:00:00Z", "event": {"action": "Space export"}});
    assert_eq!(
        parse_line(&cloud.to_string()).unwrap()[0].action,
        "space_exported"
    );
}
