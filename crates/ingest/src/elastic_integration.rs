//! Documents indexed by Elastic's `atlassian_confluence` integration
//! (`event.dataset: atlassian_confluence.audit`), mapped into Quarry's shape.
//!
//! On a cluster, this is what exists: the integration indexes audit records only, with
//! `event.action` set to the Data Center i18n key or the Cloud summary, so the seed's
//! `event.dataset == "atlassian.confluence"` matches nothing there. When the document kept the
//! raw record (`event.original`, the integration's `preserve_original_event` tag), it is parsed
//! again with Quarry's own audit parsers, giving exactly their mapping; otherwise the
//! integration's fields are mapped with the same action tables.

use quarry_event::Timestamp;
use serde_json::Value as Json;

use crate::ecs::EcsEvent;
use crate::{cloud_audit, dc_audit};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrationError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("expected a JSON object")]
    NotAnObject,
    #[error("no `event.action`")]
    NoAction,
    #[error("no usable `@timestamp`: {0}")]
    BadTimestamp(String),
    #[error("`event.original` is not an audit record: {0}")]
    BadOriginal(String),
}

/// A field by dotted path, in nested or dotted spelling.
fn get<'a>(doc: &'a Json, path: &str) -> Option<&'a Json> {
    if let Some(v) = doc.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    get(doc.get(head)?, rest)
}

fn text<'a>(doc: &'a Json, path: &str) -> Option<&'a str> {
    get(doc, path)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

/// The events of one indexed document.
pub fn parse_line(line: &str) -> Result<Vec<EcsEvent>, IntegrationError> {
    let doc: Json =
        serde_json::from_str(line).map_err(|e| IntegrationError::NotJson(e.to_string()))?;
    if !doc.is_object() {
        return Err(IntegrationError::NotAnObject);
    }
    if let Some(original) = text(&doc, "event.original") {
        return dc_audit::parse_line(original)
            .map_err(|e| e.to_string())
            .or_else(|_| cloud_audit::parse_line(original).map_err(|e| e.to_string()))
            .map_err(IntegrationError::BadOriginal);
    }
    let action_key = text(&doc, "event.action").ok_or(IntegrationError::NoAction)?;
    let timestamp = get(&doc, "@timestamp")
        .ok_or_else(|| IntegrationError::BadTimestamp("missing".into()))
        .and_then(|t| {
            Timestamp::from_json(t).map_err(|e| IntegrationError::BadTimestamp(e.to_string()))
        })?;
    // Data Center keys are dotted i18n keys; Cloud writes English summaries.
    let action = if action_key.contains('.') && !action_key.contains(' ') {
        dc_audit::action_for_key(action_key)
    } else {
        cloud_audit::action_for_summary(action_key)
    };
    let query = get(&doc, "confluence.audit.extra_attributes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .find(|a| a.get("nameI18nKey").and_then(Json::as_str) == Some(dc_audit::QUERY_ATTRIBUTE))
        .and_then(|a| a.get("value").and_then(Json::as_str))
        .map(str::to_string);
    let summary = text(&doc, "confluence.audit.type.action").map(str::to_string);
    let is_search = action == "search_performed";
    Ok(vec![EcsEvent {
        timestamp: Some(timestamp),
        category: Some(if is_search { "web" } else { "configuration" }),
        kind_type: Some(if is_search { "access" } else { "change" }),
        user_name: text(&doc, "user.name")
            .or_else(|| text(&doc, "user.full_name"))
            .map(str::to_string),
        user_id: text(&doc, "user.id").map(str::to_string),
        source_ip: text(&doc, "source.ip").map(str::to_string),
        message: if is_search { query } else { summary },
        action,
        ..EcsEvent::default()
    }])
}
