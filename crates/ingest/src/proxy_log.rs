//! Logs of a proxy in front of Confluence: NCSA combined (nginx, Apache, HAProxy's HTTP log)
//! and Squid's native format. The request is classified like Confluence's own access log; a
//! forward proxy logs absolute URLs, whose path is what counts.
//!
//! ```text
//! 203.0.113.7 - alice [01/May/2024:12:00:00 +0000] "GET /rest/api/space?limit=100 HTTP/1.1" 200 5120 "-" "python-requests/2.31.0"
//! 1714564800.123     42 203.0.113.7 TCP_MISS/200 5120 GET https://wiki.example.com/rest/api/space alice DIRECT/10.0.0.2 application/json
//! ```

use quarry_event::Timestamp;

use crate::access_log::{Request, parse_clf_time, request_event};
use crate::classify::Classifier;
use crate::ecs::EcsEvent;
use crate::proxies::TrustedProxies;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyLogError {
    #[error("neither NCSA combined (`host ident user [time] \"request\" ...`) nor Squid native")]
    Unrecognized,
    #[error("timestamp `{0}` is not valid")]
    BadTimestamp(String),
    #[error("request `{0}` is not `METHOD target [protocol]`")]
    BadRequest(String),
    #[error("status `{0}` is not a number")]
    BadStatus(String),
    #[error("line ends before the {0}")]
    Truncated(&'static str),
}

/// One line of either format.
pub fn parse_line(line: &str, classifier: &Classifier) -> Result<EcsEvent, ProxyLogError> {
    let line = line.trim();
    // Squid native starts with `seconds.millis`; NCSA with a host, and has `[time]`.
    let first = line.split_ascii_whitespace().next().unwrap_or("");
    if first.contains('.') && first.parse::<f64>().is_ok() && !line.contains(" [") {
        return parse_squid(line, classifier);
    }
    parse_ncsa(line, classifier)
}

/// A `"..."` field with `\"` escapes, and the rest of the line after it.
fn quoted(s: &str) -> Option<(String, &str)> {
    let s = s.trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    out.push(n);
                }
            }
            '"' => return Some((out, &s[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

fn parse_ncsa(line: &str, classifier: &Classifier) -> Result<EcsEvent, ProxyLogError> {
    let mut head = line.splitn(4, ' ');
    let (Some(host), Some(_ident), Some(user), Some(rest)) =
        (head.next(), head.next(), head.next(), head.next())
    else {
        return Err(ProxyLogError::Unrecognized);
    };
    let rest = rest.strip_prefix('[').ok_or(ProxyLogError::Unrecognized)?;
    let close = rest.find(']').ok_or(ProxyLogError::Unrecognized)?;
    let timestamp = parse_clf_time(&rest[..close])
        .map_err(|_| ProxyLogError::BadTimestamp(rest[..close].to_string()))?;
    let (request, rest) = quoted(&rest[close + 1..]).ok_or(ProxyLogError::Truncated("request"))?;
    let mut parts = request.split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(ProxyLogError::BadRequest(request.clone()));
    };
    let protocol = parts.next();
    let mut fields = rest.trim_start().splitn(3, ' ');
    let status_text = fields
        .next()
        .filter(|s| !s.is_empty())
        .ok_or(ProxyLogError::Truncated("status"))?;
    let status: u16 = status_text
        .parse()
        .map_err(|_| ProxyLogError::BadStatus(status_text.to_string()))?;
    let bytes = fields.next().ok_or(ProxyLogError::Truncated("bytes"))?;
    let (referrer, user_agent) = match fields.next().and_then(quoted) {
        Some((referrer, rest)) => (Some(referrer), quoted(rest).map(|(ua, _)| ua)),
        None => (None, None),
    };
    Ok(request_event(
        Request {
            timestamp,
            user,
            client: host,
            forwarded: None,
            method,
            target,
            protocol,
            status,
            bytes,
            duration_ns: None,
            referrer: referrer.as_deref(),
            user_agent: user_agent.as_deref().unwrap_or("-"),
        },
        classifier,
        &TrustedProxies::default(),
    ))
}

fn parse_squid(line: &str, classifier: &Classifier) -> Result<EcsEvent, ProxyLogError> {
    let f: Vec<&str> = line.split_ascii_whitespace().collect();
    if f.len() < 7 {
        return Err(ProxyLogError::Truncated("URL"));
    }
    let seconds: f64 = f[0]
        .parse()
        .map_err(|_| ProxyLogError::BadTimestamp(f[0].to_string()))?;
    let timestamp = Timestamp::from_fractional_millis(seconds * 1000.0)
        .map_err(|_| ProxyLogError::BadTimestamp(f[0].to_string()))?;
    let status_text = f[3].rsplit('/').next().unwrap_or(f[3]);
    let status: u16 = status_text
        .parse()
        .map_err(|_| ProxyLogError::BadStatus(f[3].to_string()))?;
    Ok(request_event(
        Request {
            timestamp,
            user: f.get(7).copied().unwrap_or("-"),
            client: f[2],
            forwarded: None,
            method: f[5],
            target: f[6],
            protocol: None,
            status,
            bytes: f[4],
            duration_ns: f[1].parse::<u64>().ok().map(|ms| ms * 1_000_000),
            referrer: None,
            user_agent: "-",
        },
        classifier,
        &TrustedProxies::default(),
    ))
}
