//! Confluence Cloud audit records: the real sample (golden file reviewed by hand), pages, and
//! space exports.

use std::path::PathBuf;

use quarry_ingest::cloud_audit::{CloudAuditError, parse_line};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn cloud_sample() {
    let text = std::fs::read_to_string(fixture("cloud-audit.log")).unwrap();
    let mut out = String::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        for event in parse_line(line).unwrap_or_else(|e| panic!("cloud-audit.log:{}: {e}", i + 1)) {
            let mut written = Vec::new();
            event.write_json(&mut written);
            assert_eq!(
                String::from_utf8(written.clone()).unwrap(),
                serde_json::to_string(&event.to_json()).unwrap()
            );
            out.push_str(&String::from_utf8(written).unwrap());
            out.push('\n');
        }
    }
    let path = fixture("cloud-audit.golden.ndjson");
    if std::env::var_os("QUARRY_BLESS").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    assert_eq!(out, std::fs::read_to_string(&path).unwrap_or_default());
}

#[test]
fn pages_and_space_exports() {
    let page = r#"{"results":[{"author":{"type":"user","displayName":"Mallory","accountId":"5b10ac8d82e05b22cc7d4ef5"},"remoteAddress":"203.0.113.7","creationDate":1714564800000,"summary":"Space export","description":"XML export","category":"Spaces","affectedObject":{"name":"Operations","objectType":"Space"},"changedValues":[],"associatedObjects":[]}],"start":0,"limit":1,"size":1}"#;
    let events = parse_line(page).unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.action, "space_exported");
    assert_eq!(e.user_name.as_deref(), Some("Mallory"));
    assert_eq!(e.user_id.as_deref(), Some("5b10ac8d82e05b22cc7d4ef5"));
    assert_eq!(e.source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(e.message.as_deref(), Some("Space export: XML export"));
    assert_eq!(e.timestamp.unwrap().to_string(), "2024-05-01T12:00:00.000Z");
}

#[test]
fn malformed_records_say_why() {
    assert!(matches!(
        parse_line("nope"),
        Err(CloudAuditError::NotJson(_))
    ));
    assert_eq!(
        parse_line(r#"{"creationDate":1}"#),
        Err(CloudAuditError::NoSummary)
    );
    assert_eq!(
        parse_line(r#"{"summary":"x","creationDate":"yesterday"}"#),
        Err(CloudAuditError::BadTimestamp)
    );
}
