//! Atlassian organization audit log events (`GET /admin/v1/orgs/{orgId}/events`), where
//! Atlassian Guard records Confluence views, searches, exports and API token use.
//!
//! The exact `action` keys Guard uses for Confluence content activity are not published (list a
//! tenant's with `/admin/v1/orgs/{orgId}/event-actions`), so actions are kept as Guard names
//! them rather than guessed; the rules can name them once known. Everything else maps to ECS:
//! the actor to `user.*`, `location.ip` to `source.ip`, the rendered message to `message`.

use quarry_event::Timestamp;
use serde_json::Value as Json;

use crate::ecs::EcsEvent;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgAuditError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("expected an event object with `attributes`, or a page with `data`")]
    NotAnEvent,
    #[error("no `attributes.action`")]
    NoAction,
    #[error("no usable `attributes.time`: {0}")]
    BadTimestamp(String),
}

/// The events of one line: an event, or a page of events (`{"data":[...]}`).
pub fn parse_line(line: &str) -> Result<Vec<EcsEvent>, OrgAuditError> {
    let json: Json =
        serde_json::from_str(line).map_err(|e| OrgAuditError::NotJson(e.to_string()))?;
    if let Some(data) = json.get("data").and_then(Json::as_array) {
        return data.iter().map(parse_event).collect();
    }
    parse_event(&json).map(|e| vec![e])
}

fn text<'a>(v: &'a Json, path: &[&str]) -> Option<&'a str> {
    let mut node = v;
    for p in path {
        node = node.get(p)?;
    }
    node.as_str().filter(|s| !s.is_empty())
}

pub fn parse_event(event: &Json) -> Result<EcsEvent, OrgAuditError> {
    let attributes = event.get("attributes").ok_or(OrgAuditError::NotAnEvent)?;
    let action = text(attributes, &["action"]).ok_or(OrgAuditError::NoAction)?;
    let time = attributes
        .get("time")
        .ok_or_else(|| OrgAuditError::BadTimestamp("missing".into()))?;
    let timestamp =
        Timestamp::from_json(time).map_err(|e| OrgAuditError::BadTimestamp(e.to_string()))?;
    let login = action.contains("logged_in") || action.contains("login");
    let ip = text(attributes, &["location", "ip"]).map(str::to_string);
    Ok(EcsEvent {
        timestamp: Some(timestamp),
        action: action.to_string(),
        category: login.then_some("authentication"),
        kind_type: login.then_some("start"),
        user_name: text(attributes, &["actor", "name"]).map(str::to_string),
        user_id: text(attributes, &["actor", "id"]).map(str::to_string),
        user_email: text(attributes, &["actor", "email"]).map(str::to_string),
        source_ip: ip.clone().filter(|s| s.parse::<std::net::IpAddr>().is_ok()),
        source_domain: ip.filter(|s| s.parse::<std::net::IpAddr>().is_err()),
        message: text(event, &["message", "content"]).map(str::to_string),
        ..EcsEvent::default()
    })
}
