//! Confluence Data Center audit records: the on-disk audit log
//! (`<local-home>/log/audit/*.audit.log`, one JSON object per line) and pages of the REST API
//! `/rest/auditing/1.0/events` (`{"entities":[...],"pagingInfo":{...}}`).
//!
//! The audit log records content activity only at some coverage levels: searches (with the query
//! text) and attachment downloads at FULL, page exports at ADVANCED, space and site exports at
//! BASE. Those map to Quarry's actions; every other record keeps a descriptive action derived
//! from its i18n key (`audit.logging.summary.space.permission.added` becomes
//! `space_permission_added`). "Audit Log search performed" is an administrator searching the
//! audit log itself, not a content search, and becomes `audit_log_searched`.

use quarry_event::Timestamp;
use serde_json::{Map, Value as Json};

use crate::ecs::EcsEvent;
use crate::records::{records, text};

/// Why a record is not a DC audit record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DcAuditError {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("expected a JSON object")]
    NotAnObject,
    #[error("no `auditType` (file) or `type` (REST) object with an `actionI18nKey`")]
    NoType,
    #[error("no usable `timestamp` (`{{\"epochSecond\",\"nano\"}}` or an ISO date): {0}")]
    BadTimestamp(String),
}

/// The i18n keys of content activity, and Quarry's action for each.
pub const CONTENT_ACTIONS: &[(&str, &str)] = &[
    ("audit.logging.summary.search.performed", "search_performed"),
    (
        "audit.logging.summary.attachment.downloaded",
        "attachment_downloaded",
    ),
    ("audit.logging.summary.space.export", "space_exported"),
    ("audit.logging.summary.site.export", "space_exported"),
    ("audit.logging.summary.space.pdf.export", "space_exported"),
    ("audit.logging.summary.page.pdf.export", "content_exported"),
    ("audit.logging.summary.blog.pdf.export", "content_exported"),
    (
        "audit.logging.summary.page.exported.word",
        "content_exported",
    ),
    (
        "audit.logging.summary.blogpost.exported.word",
        "content_exported",
    ),
    ("audit.logging.summary.login.success", "user_login"),
    ("audit.logging.summary.login.failed", "user_login"),
    ("audit.logging.summary.user.logout", "user_logout"),
    (
        "atlassian.audit.event.action.audit.search",
        "audit_log_searched",
    ),
];

/// The extra attribute that carries a search's query text.
pub const QUERY_ATTRIBUTE: &str = "audit.logging.extra.attribute.query";

/// The events of one line: a record of the audit file, one REST record, or a REST page.
pub fn parse_line(line: &str) -> Result<Vec<EcsEvent>, DcAuditError> {
    let json: Json =
        serde_json::from_str(line).map_err(|e| DcAuditError::NotJson(e.to_string()))?;
    records(&json, "entities")
        .into_iter()
        .map(|r| r.ok_or(DcAuditError::NotAnObject).and_then(parse_record))
        .collect()
}

/// One audit record, in the file's or the REST API's shape.
pub fn parse_record(record: &Map<String, Json>) -> Result<EcsEvent, DcAuditError> {
    let kind = record
        .get("auditType")
        .or_else(|| record.get("type"))
        .and_then(Json::as_object)
        .ok_or(DcAuditError::NoType)?;
    let key = text(kind, "actionI18nKey").ok_or(DcAuditError::NoType)?;
    let timestamp = timestamp(record.get("timestamp"))?;
    let action = action_for_key(key);
    let author = record.get("author").and_then(Json::as_object);
    let anonymous = author.and_then(|a| text(a, "id")) == Some("-2");
    // The REST API names the user in the profile URI (`?username=`); the file has the name.
    let user_name = author.and_then(|a| {
        text(a, "uri")
            .and_then(|uri| {
                uri.split_once("username=")
                    .map(|(_, u)| u.split('&').next().unwrap_or(u).to_string())
            })
            .or_else(|| {
                (!anonymous)
                    .then(|| text(a, "name").map(str::to_string))
                    .flatten()
            })
    });
    let source = text(record, "source").map(str::to_string);
    let query = record
        .get("extraAttributes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_object)
        .find(|a| text(a, "nameI18nKey") == Some(QUERY_ATTRIBUTE))
        .and_then(|a| text(a, "value"))
        .map(str::to_string);
    let (mut space_key, mut content_id, mut content_title) = (None, None, None);
    for object in record
        .get("affectedObjects")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let Some(o) = object.as_object() else {
            continue;
        };
        match text(o, "type") {
            Some("Space") => {
                space_key = text(o, "uri")
                    .and_then(|u| u.split_once("/display/"))
                    .map(|(_, k)| k.split(['/', '?']).next().unwrap_or(k).to_string());
            }
            Some("Page" | "Blog post" | "BlogPost" | "Attachment") if content_id.is_none() => {
                content_id = text(o, "id").map(str::to_string);
                content_title = text(o, "name").map(str::to_string);
            }
            _ => {}
        }
    }
    let is_search = action == "search_performed";
    let (category, kind_type) = match action.as_str() {
        "user_login" => ("authentication", "start"),
        // ECS: a session ending is `end`, as Elastic's own pipeline types logouts.
        "user_logout" => ("authentication", "end"),
        "search_performed"
        | "attachment_downloaded"
        | "space_exported"
        | "content_exported"
        | "audit_log_searched" => ("web", "access"),
        _ => ("configuration", "change"),
    };
    Ok(EcsEvent {
        timestamp: Some(timestamp),
        outcome: match key {
            "audit.logging.summary.login.failed" => Some("failure"),
            "audit.logging.summary.login.success" => Some("success"),
            _ => None,
        },
        action,
        category: Some(category),
        kind_type: Some(kind_type),
        user_name,
        source_ip: source
            .clone()
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok()),
        source_domain: source.filter(|s| s.parse::<std::net::IpAddr>().is_err()),
        message: if is_search {
            query
        } else {
            text(kind, "action").map(str::to_string)
        },
        space_key,
        content_id,
        content_title,
        ..EcsEvent::default()
    })
}

/// Quarry's action for an audit i18n key: a content action, or a descriptive one.
pub fn action_for_key(key: &str) -> String {
    CONTENT_ACTIONS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, a)| a.to_string())
        .unwrap_or_else(|| descriptive_action(key))
}

/// `audit.logging.summary.space.permission.added` -> `space_permission_added`.
fn descriptive_action(key: &str) -> String {
    let tail = key
        .strip_prefix("audit.logging.summary.")
        .or_else(|| key.strip_prefix("atlassian.audit.event.action."))
        .unwrap_or(key);
    tail.replace(['.', '-'], "_")
}

fn timestamp(value: Option<&Json>) -> Result<Timestamp, DcAuditError> {
    match value {
        Some(Json::Object(t)) => {
            let secs = t.get("epochSecond").and_then(Json::as_i64);
            let nanos = t.get("nano").and_then(Json::as_i64).unwrap_or(0);
            secs.and_then(|s| s.checked_mul(1_000_000_000))
                .and_then(|n| n.checked_add(nanos))
                .map(Timestamp::from_nanos)
                .ok_or_else(|| DcAuditError::BadTimestamp(Json::Object(t.clone()).to_string()))
        }
        Some(v) => Timestamp::from_json(v).map_err(|e| DcAuditError::BadTimestamp(e.to_string())),
        None => Err(DcAuditError::BadTimestamp("missing".to_string())),
    }
}
