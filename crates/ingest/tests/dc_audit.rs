//! Data Center audit records: real samples (golden files reviewed by hand) and the content
//! actions, from records written with the documented i18n keys.

use std::path::PathBuf;

use quarry_ingest::dc_audit::{DcAuditError, parse_line};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn golden(sample: &str, golden: &str) {
    let text = std::fs::read_to_string(fixture(sample)).unwrap();
    let mut out = String::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        for event in parse_line(line).unwrap_or_else(|e| panic!("{sample}:{}: {e}", i + 1)) {
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
    let path = fixture(golden);
    if std::env::var_os("QUARRY_BLESS").is_some() {
        std::fs::write(&path, &out).unwrap();
    }
    assert_eq!(
        out,
        std::fs::read_to_string(&path).unwrap_or_default(),
        "{sample} differs from {golden}"
    );
}

#[test]
fn audit_file_samples() {
    golden("dc-audit-file.log", "dc-audit-file.golden.ndjson");
    golden("dc-audit-file-2.log", "dc-audit-file-2.golden.ndjson");
}

#[test]
fn rest_api_samples() {
    golden("dc-audit-rest.log", "dc-audit-rest.golden.ndjson");
}

/// A file record with the given i18n key, author, extra attributes and affected objects.
fn record(key: &str, author: &str, extra: &str, affected: &str) -> String {
    format!(
        r#"{{"affectedObjects":[{affected}],"auditType":{{"action":"x","actionI18nKey":"{key}","area":"END_USER_ACTIVITY","category":"c","categoryI18nKey":"k","level":"FULL"}},"author":{author},"changedValues":[],"extraAttributes":[{extra}],"method":"Browser","source":"10.1.2.3","system":"http://wiki","timestamp":{{"epochSecond":1714564800,"nano":5000000}},"version":"1.0"}}"#
    )
}

const ALICE: &str = r#"{"id":"8a7f","name":"alice","type":"user"}"#;

#[test]
fn content_activity_maps_to_quarrys_actions() {
    let search = record(
        "audit.logging.summary.search.performed",
        ALICE,
        r#"{"name":"Query","nameI18nKey":"audit.logging.extra.attribute.query","value":"aws secret key"}"#,
        "",
    );
    let e = &parse_line(&search).unwrap()[0];
    assert_eq!(e.action, "search_performed");
    assert_eq!(e.message.as_deref(), Some("aws secret key"));
    assert_eq!(e.user_name.as_deref(), Some("alice"));
    assert_eq!(e.source_ip.as_deref(), Some("10.1.2.3"));
    assert_eq!(e.timestamp.unwrap().to_string(), "2024-05-01T12:00:00.005Z");

    let download = record(
        "audit.logging.summary.attachment.downloaded",
        ALICE,
        "",
        r#"{"id":"98306","name":"Ops","type":"Space","uri":"http://wiki/display/OPS"},{"id":"98305","name":"VPN Setup","type":"Page"}"#,
    );
    let e = &parse_line(&download).unwrap()[0];
    assert_eq!(e.action, "attachment_downloaded");
    assert_eq!(e.space_key.as_deref(), Some("OPS"));
    assert_eq!(e.content_id.as_deref(), Some("98305"));
    assert_eq!(e.content_title.as_deref(), Some("VPN Setup"));

    for (key, action) in [
        ("audit.logging.summary.space.export", "space_exported"),
        ("audit.logging.summary.site.export", "space_exported"),
        ("audit.logging.summary.space.pdf.export", "space_exported"),
        ("audit.logging.summary.page.pdf.export", "content_exported"),
        (
            "audit.logging.summary.page.exported.word",
            "content_exported",
        ),
        (
            "atlassian.audit.event.action.audit.search",
            "audit_log_searched",
        ),
        (
            "audit.logging.summary.space.permission.added",
            "space_permission_added",
        ),
    ] {
        assert_eq!(
            parse_line(&record(key, ALICE, "", "")).unwrap()[0].action,
            action,
            "{key}"
        );
    }
    let failed =
        &parse_line(&record("audit.logging.summary.login.failed", ALICE, "", "")).unwrap()[0];
    assert_eq!(
        (failed.action.as_str(), failed.outcome),
        ("user_login", Some("failure"))
    );
}

#[test]
fn anonymous_authors_have_no_user_name() {
    let anonymous = record(
        "audit.logging.summary.space.import",
        r#"{"id":"-2","name":"Anonymous","type":"user"}"#,
        "",
        "",
    );
    assert_eq!(parse_line(&anonymous).unwrap()[0].user_name, None);
}

#[test]
fn malformed_records_say_why() {
    assert!(matches!(parse_line("{"), Err(DcAuditError::NotJson(_))));
    assert_eq!(parse_line("[1]"), Err(DcAuditError::NotAnObject));
    assert_eq!(parse_line(r#"{"author":{}}"#), Err(DcAuditError::NoType));
    assert!(matches!(
        parse_line(r#"{"auditType":{"actionI18nKey":"k"},"timestamp":{"nano":1}}"#),
        Err(DcAuditError::BadTimestamp(_))
    ));
}
