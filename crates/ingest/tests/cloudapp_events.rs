//! Defender CloudAppEvents rows, written in the table's documented columns.

use quarry_ingest::cloudapp_events::{CloudAppError, action_for, parse_line};

#[test]
fn action_types_become_snake_case_actions() {
    assert_eq!(action_for("PageViewed"), "page_viewed");
    assert_eq!(action_for("Page viewed"), "page_viewed");
    assert_eq!(action_for("SpaceExported"), "space_exported");
    assert_eq!(action_for("API token used"), "api_token_used");
}

#[test]
fn rows_map_to_ecs_and_other_applications_are_skipped() {
    let rows = r#"[{"Timestamp":"2024-05-01T12:00:00Z","ActionType":"PageViewed","Application":"Atlassian","AccountObjectId":"aad-1","AccountDisplayName":"Mallory","IPAddress":"203.0.113.7","UserAgent":"python-requests/2.31.0","ObjectName":"VPN Setup","ObjectType":"Page","ObjectId":"98305"},
                   {"Timestamp":"2024-05-01T12:00:01Z","ActionType":"FileDownloaded","Application":"Microsoft SharePoint Online"}]"#;
    let events = parse_line(&rows.replace('\n', "")).unwrap();
    assert_eq!(
        events.len(),
        1,
        "the SharePoint row is not Confluence activity"
    );
    let e = &events[0];
    assert_eq!(e.action, "page_viewed");
    assert_eq!(e.user_name.as_deref(), Some("Mallory"));
    assert_eq!(e.user_id.as_deref(), Some("aad-1"));
    assert_eq!(e.source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(e.user_agent.as_deref(), Some("python-requests/2.31.0"));
    assert_eq!(e.content_id.as_deref(), Some("98305"));
    assert_eq!(e.content_title.as_deref(), Some("VPN Setup"));
}

#[test]
fn malformed_rows_say_why() {
    assert!(matches!(
        parse_line("Timestamp,ActionType"),
        Err(CloudAppError::NotJson(_))
    ));
    assert_eq!(
        parse_line(r#"{"Timestamp":"2024-05-01T12:00:00Z"}"#),
        Err(CloudAppError::NoAction)
    );
    assert!(matches!(
        parse_line(r#"{"ActionType":"PageViewed"}"#),
        Err(CloudAppError::BadTimestamp(_))
    ));
    assert_eq!(parse_line("[1]"), Err(CloudAppError::NotARow));
}
