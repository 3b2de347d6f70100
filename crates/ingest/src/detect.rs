//! Which format a file holds, from its first non-empty line (never from its name).

use std::fmt;

/// The source formats Quarry knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// ECS documents as NDJSON (nested or dotted keys), or Elasticsearch response bodies.
    EcsNdjson,
    /// Documents indexed by Elastic's `atlassian_confluence` integration.
    ElasticIntegration,
    /// Confluence Data Center audit log files, or `/rest/auditing/1.0/events` pages.
    DcAudit,
    /// Confluence Cloud `/wiki/rest/api/audit` records.
    CloudAudit,
    /// Atlassian organization audit log events.
    OrgAudit,
    /// Confluence's Tomcat access log.
    AccessLog,
    /// NCSA combined or Squid logs of a proxy in front of Confluence.
    ProxyLog,
    /// Microsoft Defender `CloudAppEvents` rows.
    CloudAppEvents,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::EcsNdjson,
        Format::ElasticIntegration,
        Format::DcAudit,
        Format::CloudAudit,
        Format::OrgAudit,
        Format::AccessLog,
        Format::ProxyLog,
        Format::CloudAppEvents,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::EcsNdjson => "ecs-ndjson",
            Format::ElasticIntegration => "elastic-integration",
            Format::DcAudit => "dc-audit",
            Format::CloudAudit => "cloud-audit",
            Format::OrgAudit => "org-audit",
            Format::AccessLog => "access-log",
            Format::ProxyLog => "proxy-log",
            Format::CloudAppEvents => "cloudapp-events",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The format of a file whose first non-empty line is `line`, if recognizable.
pub fn detect(line: &[u8]) -> Option<Format> {
    let text = String::from_utf8_lossy(line);
    let t = text.trim_start_matches('\u{feff}').trim();
    if t.is_empty() {
        return None;
    }
    if is_access_log(t) {
        return Some(Format::AccessLog);
    }
    if t.starts_with('{') {
        return Some(detect_json(t));
    }
    if t.starts_with('[') {
        // A JSON array of documents (a Kibana or Discover export).
        return Some(if t.contains("\"ActionType\"") {
            Format::CloudAppEvents
        } else {
            Format::EcsNdjson
        });
    }
    if t.starts_with("Timestamp,") && t.contains("ActionType") {
        return Some(Format::CloudAppEvents);
    }
    if is_ncsa(t) || is_squid(t) {
        return Some(Format::ProxyLog);
    }
    None
}

/// `[dd/Mmm/yyyy:` at the start.
fn is_access_log(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() > 13
        && b[0] == b'['
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3] == b'/'
        && b[7] == b'/'
}

/// `host ident user [dd/Mmm/yyyy:...] "request"`.
fn is_ncsa(t: &str) -> bool {
    let mut parts = t.splitn(4, ' ');
    let (Some(_), Some(_), Some(_), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    is_access_log(rest) && rest.contains("] \"")
}

/// Squid native: `epoch.millis elapsed client code/status bytes method URL ...`.
fn is_squid(t: &str) -> bool {
    let first = t.split(' ').next().unwrap_or("");
    let (secs, frac) = first.split_once('.').unwrap_or(("", ""));
    secs.len() >= 9
        && secs.bytes().all(|b| b.is_ascii_digit())
        && frac.len() == 3
        && frac.bytes().all(|b| b.is_ascii_digit())
}

fn detect_json(t: &str) -> Format {
    let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(t) else {
        return Format::EcsNdjson;
    };
    let has = |k: &str| o.contains_key(k);
    if has("auditType") || (has("entities") && has("pagingInfo")) {
        return Format::DcAudit;
    }
    if o.get("timestamp")
        .is_some_and(|t| t.get("epochSecond").is_some())
    {
        return Format::DcAudit;
    }
    // One record of the DC REST API: `type` carries the i18n key.
    if o.get("type")
        .is_some_and(|t| t.get("actionI18nKey").is_some())
    {
        return Format::DcAudit;
    }
    if (has("remoteAddress") && has("creationDate")) || (has("results") && has("_links")) {
        return Format::CloudAudit;
    }
    if has("data")
        || o.get("attributes")
            .is_some_and(|a| a.get("action").is_some())
    {
        return Format::OrgAudit;
    }
    if has("ActionType") && (has("AccountObjectId") || has("Application")) {
        return Format::CloudAppEvents;
    }
    let dataset = o
        .get("event")
        .and_then(|e| e.get("dataset"))
        .or_else(|| o.get("event.dataset"))
        .and_then(|d| d.as_str());
    if dataset == Some("atlassian_confluence.audit") {
        return Format::ElasticIntegration;
    }
    Format::EcsNdjson
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_lines_of_each_format() {
        let cases: &[(&str, Option<Format>)] = &[
            (
                "[18/Dec/2020:12:57:26 +1100] testuser http-nio-8090-exec-6 ::1 GET / HTTP/1.1 200 1ms 1 - x",
                Some(Format::AccessLog),
            ),
            (
                "{\"@timestamp\":\"2024-05-01T00:00:00Z\",\"event\":{\"action\":\"page_viewed\"}}",
                Some(Format::EcsNdjson),
            ),
            (
                "{\"event\":{\"dataset\":\"atlassian_confluence.audit\"},\"@timestamp\":\"x\"}",
                Some(Format::ElasticIntegration),
            ),
            (
                "{\"affectedObjects\":[],\"auditType\":{\"action\":\"Space import\"},\"timestamp\":{\"epochSecond\":1,\"nano\":0}}",
                Some(Format::DcAudit),
            ),
            (
                "{\"timestamp\":\"2021-11-23T00:44:36.398Z\",\"type\":{\"actionI18nKey\":\"k\",\"action\":\"a\"}}",
                Some(Format::DcAudit),
            ),
            (
                "{\"entities\":[],\"pagingInfo\":{\"lastPage\":true}}",
                Some(Format::DcAudit),
            ),
            (
                "{\"author\":{},\"remoteAddress\":\"81.2.69.143\",\"creationDate\":1637073322812,\"summary\":\"Page archived\"}",
                Some(Format::CloudAudit),
            ),
            (
                "{\"data\":[{\"id\":\"x\",\"type\":\"events\",\"attributes\":{}}]}",
                Some(Format::OrgAudit),
            ),
            (
                "10.0.0.1 - alice [01/May/2024:12:00:00 +0000] \"GET /display/OPS/Home HTTP/1.1\" 200 512 \"-\" \"curl/8\"",
                Some(Format::ProxyLog),
            ),
            (
                "1714564800.123    42 10.0.0.1 TCP_MISS/200 512 GET http://wiki/display/OPS/Home - DIRECT/10.0.0.2 text/html",
                Some(Format::ProxyLog),
            ),
            (
                "Timestamp,ActionType,Application,AccountObjectId",
                Some(Format::CloudAppEvents),
            ),
            (
                "[{\"@timestamp\":\"2024-05-01T00:00:00Z\"}]",
                Some(Format::EcsNdjson),
            ),
            ("hello world", None),
            ("", None),
        ];
        for (line, expected) in cases {
            assert_eq!(detect(line.as_bytes()), *expected, "{line}");
        }
    }
}
