//! Microsoft Defender `CloudAppEvents` rows for Atlassian: JSON (one row per line, or an array)
//! here; CSV exports are read whole by `normalize`, row by row through [`parse_row`].
//!
//! Defender for Cloud Apps reads Atlassian activity from the organization audit log, and the
//! `ActionType` names it uses for Confluence are not published (the names in circulation, such
//! as `PageViewed`, come from third-party detection content). So the action is derived from the
//! ActionType mechanically (`PageViewed` and `Page viewed` both become `page_viewed`) rather than
//! from a guessed table. Rows of other applications are not Confluence activity and are skipped.

use quarry_event::Timestamp;
use serde_json::Value as Json;

use crate::ecs::EcsEvent;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudAppError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("expected a row object")]
    NotARow,
    #[error("no `ActionType`")]
    NoAction,
    #[error("no usable `Timestamp`: {0}")]
    BadTimestamp(String),
}

/// The Confluence events of one line (rows of other applications yield none).
pub fn parse_line(line: &str) -> Result<Vec<EcsEvent>, CloudAppError> {
    parse_line_counted(line).map(|(events, _)| events)
}

/// The Confluence events of one line, and how many rows of other applications it skipped.
pub fn parse_line_counted(line: &str) -> Result<(Vec<EcsEvent>, u64), CloudAppError> {
    let json: Json =
        serde_json::from_str(line).map_err(|e| CloudAppError::NotJson(e.to_string()))?;
    let rows: Vec<&Json> = match &json {
        Json::Array(rows) => rows.iter().collect(),
        row => vec![row],
    };
    let mut events = Vec::new();
    let mut skipped = 0;
    for row in rows {
        match parse_row(row)? {
            Some(event) => events.push(event),
            None => skipped += 1,
        }
    }
    Ok((events, skipped))
}

fn text<'a>(row: &'a Json, key: &str) -> Option<&'a str> {
    row.get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

/// `PageViewed` or `Page viewed` -> `page_viewed`.
pub fn action_for(action_type: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in action_type.chars() {
        if c.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            previous_lower = true;
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    out.trim_end_matches('_').to_string()
}

/// One row, or `None` for a row of another application.
pub fn parse_row(row: &Json) -> Result<Option<EcsEvent>, CloudAppError> {
    if !row.is_object() {
        return Err(CloudAppError::NotARow);
    }
    let application = text(row, "Application").unwrap_or("");
    let lower = application.to_ascii_lowercase();
    if !application.is_empty() && !lower.contains("atlassian") && !lower.contains("confluence") {
        return Ok(None);
    }
    let action_type = text(row, "ActionType").ok_or(CloudAppError::NoAction)?;
    let time = row
        .get("Timestamp")
        .ok_or_else(|| CloudAppError::BadTimestamp("missing".into()))?;
    let timestamp =
        Timestamp::from_json(time).map_err(|e| CloudAppError::BadTimestamp(e.to_string()))?;
    let ip = text(row, "IPAddress").map(str::to_string);
    let object_type = text(row, "ObjectType").unwrap_or("").to_ascii_lowercase();
    let is_content = object_type.contains("page")
        || object_type.contains("blog")
        || object_type.contains("file");
    Ok(Some(EcsEvent {
        timestamp: Some(timestamp),
        action: action_for(action_type),
        user_name: text(row, "AccountDisplayName").map(str::to_string),
        user_id: text(row, "AccountObjectId")
            .or_else(|| text(row, "AccountId"))
            .map(str::to_string),
        source_ip: ip.clone().filter(|s| s.parse::<std::net::IpAddr>().is_ok()),
        source_domain: ip.filter(|s| s.parse::<std::net::IpAddr>().is_err()),
        user_agent: text(row, "UserAgent").map(str::to_string),
        message: text(row, "ObjectName").map(str::to_string),
        content_id: if is_content {
            text(row, "ObjectId").map(str::to_string)
        } else {
            None
        },
        content_title: if is_content {
            text(row, "ObjectName").map(str::to_string)
        } else {
            None
        },
        ..EcsEvent::default()
    }))
}
