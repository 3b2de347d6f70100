//! Telemetry written the way each Confluence source writes it, and only what it records.
//!
//! | format | records | cannot see |
//! |---|---|---|
//! | `access-log` | every request Tomcat served (default valve pattern) | nothing of ours; but it knows no search text beyond the URL |
//! | `proxy-log` | every request through a reverse proxy (NCSA combined) | the user of browser sessions (`%u` is only the Basic-auth user) |
//! | `dc-audit` | searches and attachment downloads (FULL coverage), space exports (BASE), logins | page views, REST reads, space listings: never audited |
//! | `cloud-audit` | space exports | views, searches, REST reads |
//! | `org-audit` | (Guard) views and exports, with action keys Atlassian does not publish | everything: Quarry cannot write or map keys it does not know |
//! | `cloudapp-events` | Defender's view of the organization audit log (the seed's ActionType names, unverified) | searches (Guard keeps no query text), URLs, REST parameters |

use serde_json::json;

use crate::model::{Activity, Audit, Telemetry};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    AccessLog,
    ProxyLog,
    DcAudit,
    CloudAudit,
    OrgAudit,
    CloudAppEvents,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::AccessLog,
        Format::ProxyLog,
        Format::DcAudit,
        Format::CloudAudit,
        Format::OrgAudit,
        Format::CloudAppEvents,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::AccessLog => "access-log",
            Format::ProxyLog => "proxy-log",
            Format::DcAudit => "dc-audit",
            Format::CloudAudit => "cloud-audit",
            Format::OrgAudit => "org-audit",
            Format::CloudAppEvents => "cloudapp-events",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// What this source records of Confluence activity, and what it cannot see.
    pub fn coverage(self) -> &'static str {
        match self {
            Format::AccessLog => {
                "Tomcat's access log records every request with user, address, URL, status, bytes and user agent (default on since Confluence 7.11)."
            }
            Format::ProxyLog => {
                "A reverse proxy's log records every request, but names the user only for HTTP Basic authentication (API tokens); browser sessions show `-`, so rules joined on user.name cannot see them."
            }
            Format::DcAudit => {
                "The Data Center audit log records searches with their text and attachment downloads only at FULL coverage, space exports at BASE, and logins; it never records page views, REST reads or space listings."
            }
            Format::CloudAudit => {
                "The Cloud product audit log records space exports (and configuration changes); it never records views, searches or REST reads."
            }
            Format::OrgAudit => {
                "The organization audit log (Atlassian Guard) records Confluence views and exports, but Atlassian does not publish the action keys: Quarry cannot generate them or map them to its actions, so nothing is written."
            }
            Format::CloudAppEvents => {
                "Defender's CloudAppEvents mirror the organization audit log: views and exports under the seed's ActionType names (unverified; Microsoft does not publish Atlassian's), with no search text, URL or REST parameters."
            }
        }
    }
}

/// The lines `format` would hold for `t` (without newlines), in the order the source writes
/// them.
pub fn render(t: &Telemetry, format: Format) -> Vec<String> {
    match format {
        Format::AccessLog => access_log(t),
        Format::ProxyLog => proxy_log(t),
        Format::DcAudit => t.activities.iter().filter_map(|a| dc_audit(t, a)).collect(),
        Format::CloudAudit => t
            .activities
            .iter()
            .filter_map(|a| cloud_audit(t, a))
            .collect(),
        Format::OrgAudit => Vec::new(),
        Format::CloudAppEvents => t.activities.iter().filter_map(|a| cloudapp(t, a)).collect(),
    }
}

/// (year, month 1-12, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `23/Nov/2026:08:00:00 +0000` (Common Log Format, UTC).
pub fn clf_time(ms: i64) -> String {
    let secs = ms.div_euclid(1_000);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{d:02}/{}/{y}:{:02}:{:02}:{:02} +0000",
        MONTHS[m as usize - 1],
        s / 3_600,
        (s % 3_600) / 60,
        s % 60
    )
}

/// `2026-11-23T08:00:00.000Z`.
pub fn iso_time(ms: i64) -> String {
    quarry_event::Timestamp::from_millis(ms).map_or_else(|| ms.to_string(), |t| t.to_string())
}

/// Requests in the order a server writes them: when they finish.
fn requests_by_end(t: &Telemetry) -> Vec<&Activity> {
    let mut v: Vec<&Activity> = t
        .activities
        .iter()
        .filter(|a| a.request.is_some())
        .collect();
    v.sort_by_key(|a| a.at_ms + i64::from(a.request.as_ref().map_or(0, |r| r.duration_ms)));
    v
}

fn target(a: &Activity) -> String {
    let r = a.request.as_ref().expect("a request");
    match &r.query {
        Some(q) => format!("{}?{q}", r.path),
        None => r.path.clone(),
    }
}

fn access_log(t: &Telemetry) -> Vec<String> {
    requests_by_end(t)
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let r = a.request.as_ref().expect("a request");
            let actor = &t.actors[a.actor];
            format!(
                "[{}] {} http-nio-8090-exec-{} {} {} {} HTTP/1.1 {} {}ms {} {} {}",
                clf_time(a.at_ms),
                actor.user,
                i % 25 + 1,
                actor.ip,
                r.method,
                target(a),
                r.status,
                r.duration_ms,
                if r.bytes == 0 {
                    "-".to_string()
                } else {
                    r.bytes.to_string()
                },
                r.referrer.as_deref().unwrap_or("-"),
                actor.user_agent
            )
        })
        .collect()
}

fn proxy_log(t: &Telemetry) -> Vec<String> {
    requests_by_end(t)
        .into_iter()
        .map(|a| {
            let r = a.request.as_ref().expect("a request");
            let actor = &t.actors[a.actor];
            let user = if actor.basic_auth {
                actor.user.as_str()
            } else {
                "-"
            };
            format!(
                "{} - {user} [{}] \"{} {} HTTP/1.1\" {} {} \"{}\" \"{}\"",
                actor.ip,
                clf_time(a.at_ms),
                r.method,
                target(a),
                r.status,
                r.bytes,
                r.referrer.as_deref().unwrap_or("-"),
                actor.user_agent
            )
        })
        .collect()
}

fn dc_audit(t: &Telemetry, a: &Activity) -> Option<String> {
    let audit = a.audit.as_ref()?;
    let actor = &t.actors[a.actor];
    let (action, key, area, category, category_key, level, affected, extra) = match audit {
        Audit::Search { text } => (
            "Search performed",
            "audit.logging.summary.search.performed",
            "END_USER_ACTIVITY",
            "Search",
            "audit.logging.category.search",
            "FULL",
            json!([]),
            json!([{"name": "Query", "nameI18nKey": "audit.logging.extra.attribute.query", "value": text}]),
        ),
        Audit::AttachmentDownloaded { page_id, file } => (
            "Attachment downloaded",
            "audit.logging.summary.attachment.downloaded",
            "END_USER_ACTIVITY",
            "Pages",
            "audit.logging.category.pages",
            "FULL",
            json!([{"id": page_id.to_string(), "name": file, "type": "Attachment"}]),
            json!([]),
        ),
        Audit::SpaceExported { key, name } => (
            "Space export",
            "audit.logging.summary.space.export",
            "LOCAL_CONFIG_AND_ADMINISTRATION",
            "Import/Export",
            "audit.logging.category.import.export",
            "BASE",
            json!([{"name": name, "type": "Space", "uri": format!("https://wiki.example.com/display/{key}")}]),
            json!([{"name": "Description", "nameI18nKey": "audit.logging.extra.attribute.description", "value": "XML"}]),
        ),
        Audit::LoginSucceeded => (
            "Successful login",
            "audit.logging.summary.login.success",
            "SECURITY",
            "Security",
            "audit.logging.category.security",
            "BASE",
            json!([{"id": actor.account_id, "name": actor.display_name, "type": "User"}]),
            json!([]),
        ),
    };
    let record = json!({
        "affectedObjects": affected,
        "auditType": {
            "action": action,
            "actionI18nKey": key,
            "area": area,
            "category": category,
            "categoryI18nKey": category_key,
            "level": level,
        },
        "author": {"id": actor.account_id, "name": actor.user, "type": "user"},
        "changedValues": [],
        "extraAttributes": extra,
        "method": "Browser",
        "source": actor.ip,
        "system": "https://wiki.example.com",
        "timestamp": {"epochSecond": a.at_ms.div_euclid(1_000), "nano": a.at_ms.rem_euclid(1_000) * 1_000_000},
        "version": "1.0",
    });
    Some(record.to_string())
}

fn cloud_audit(t: &Telemetry, a: &Activity) -> Option<String> {
    let Some(Audit::SpaceExported { name, .. }) = &a.audit else {
        return None;
    };
    let actor = &t.actors[a.actor];
    let record = json!({
        "author": {
            "type": "user",
            "displayName": actor.display_name,
            "operations": null,
            "isExternalCollaborator": false,
            "username": actor.account_id,
            "userKey": actor.account_id,
            "accountId": actor.account_id,
            "accountType": "atlassian",
            "publicName": actor.display_name,
            "externalCollaborator": false,
        },
        "remoteAddress": actor.ip,
        "creationDate": a.at_ms,
        "summary": "Space exported",
        "description": "",
        "category": "Spaces",
        "sysAdmin": false,
        "superAdmin": false,
        "affectedObject": {"name": name, "objectType": "Space"},
        "changedValues": [],
        "associatedObjects": [],
    });
    Some(record.to_string())
}

fn cloudapp(t: &Telemetry, a: &Activity) -> Option<String> {
    let (action, object_type, object) = a.cloud.as_ref()?;
    let actor = &t.actors[a.actor];
    let row = json!({
        "Timestamp": iso_time(a.at_ms),
        "ActionType": action.action_type(),
        "Application": "Atlassian",
        "ApplicationId": 11394,
        "AccountObjectId": actor.account_id,
        "AccountId": actor.account_id,
        "AccountDisplayName": actor.display_name,
        "IPAddress": actor.ip,
        "UserAgent": actor.user_agent,
        "ObjectName": object,
        "ObjectType": object_type,
    });
    Some(row.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_log_format_time() {
        assert_eq!(clf_time(1_795_420_800_000), "23/Nov/2026:08:00:00 +0000");
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf_time(951_782_400_000), "29/Feb/2000:00:00:00 +0000");
    }
}
