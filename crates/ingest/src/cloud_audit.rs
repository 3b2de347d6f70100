//! Confluence Cloud audit records from `GET /wiki/rest/api/audit`: one record per line, or an
//! API response page (`{"results":[...],"start":..,"limit":..,"size":..}`).
//!
//! Cloud's product audit log records administration (spaces, users, groups, permissions) and
//! space exports, never page views or searches (those are only in the organization audit log).
//! Records carry an English `summary` rather than a key; space exports become `space_exported`,
//! everything else a descriptive action from its summary (`Space logo uploaded` becomes
//! `space_logo_uploaded`). Cloud identifies people by account id: it goes to `user.id`, the
//! display name to `user.name`.

use quarry_event::Timestamp;
use serde_json::{Map, Value as Json};

use crate::ecs::EcsEvent;
use crate::records::{records, text};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudAuditError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("expected a JSON object")]
    NotAnObject,
    #[error("no `summary`")]
    NoSummary,
    #[error("no usable `creationDate` (epoch milliseconds)")]
    BadTimestamp,
}

/// Summaries of content activity, and Quarry's action for each.
pub const CONTENT_SUMMARIES: &[(&str, &str)] = &[
    ("space export", "space_exported"),
    ("space exported", "space_exported"),
    ("site export", "space_exported"),
];

/// The events of one line: a record, or a page of records.
pub fn parse_line(line: &str) -> Result<Vec<EcsEvent>, CloudAuditError> {
    let json: Json =
        serde_json::from_str(line).map_err(|e| CloudAuditError::NotJson(e.to_string()))?;
    records(&json, "results")
        .into_iter()
        .map(|r| r.ok_or(CloudAuditError::NotAnObject).and_then(parse_record))
        .collect()
}

/// Quarry's action for a Cloud summary: `space_exported`, or a descriptive one
/// (`Space logo uploaded` -> `space_logo_uploaded`).
pub fn action_for_summary(summary: &str) -> String {
    let lower = summary.to_ascii_lowercase();
    CONTENT_SUMMARIES
        .iter()
        .find(|(s, _)| *s == lower)
        .map(|(_, a)| a.to_string())
        .unwrap_or_else(|| {
            lower
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join("_")
        })
}

pub fn parse_record(record: &Map<String, Json>) -> Result<EcsEvent, CloudAuditError> {
    let summary = text(record, "summary").ok_or(CloudAuditError::NoSummary)?;
    let millis = record
        .get("creationDate")
        .and_then(Json::as_i64)
        .ok_or(CloudAuditError::BadTimestamp)?;
    let timestamp = Timestamp::from_millis(millis).ok_or(CloudAuditError::BadTimestamp)?;
    let action = action_for_summary(summary);
    let author = record.get("author").and_then(Json::as_object);
    let source = text(record, "remoteAddress").map(str::to_string);
    let affected = record.get("affectedObject").and_then(Json::as_object);
    // Only pages and blog posts are content; a space's name is not a title (Cloud records
    // name spaces, not their keys).
    let content_title = affected
        .filter(|o| {
            matches!(
                text(o, "objectType"),
                Some("Page" | "Blog post" | "BlogPost")
            )
        })
        .and_then(|o| text(o, "name"))
        .map(str::to_string);
    let exported = action == "space_exported";
    Ok(EcsEvent {
        timestamp: Some(timestamp),
        category: Some(if exported { "web" } else { "configuration" }),
        kind_type: Some(if exported { "access" } else { "change" }),
        user_name: author
            .and_then(|a| text(a, "displayName"))
            .map(str::to_string),
        user_id: author
            .and_then(|a| text(a, "accountId").or_else(|| text(a, "username")))
            .map(str::to_string),
        source_ip: source
            .clone()
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok()),
        source_domain: source.filter(|s| s.parse::<std::net::IpAddr>().is_err()),
        message: Some(match text(record, "description") {
            Some(d) => format!("{summary}: {d}"),
            None => summary.to_string(),
        }),
        content_title,
        action,
        ..EcsEvent::default()
    })
}
