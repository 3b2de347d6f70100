//! Confluence's Tomcat access log (`<install>/logs/conf_access_log.YYYY-MM-DD.log`).
//!
//! The default valve pattern, on by default since Confluence 7.11, is
//! `%t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i`:
//!
//! ```text
//! [18/Dec/2020:12:57:26 +1100] testuser http-nio-8090-exec-6 0:0:0:0:0:0:0:1 GET /index.action HTTP/1.1 200 1020ms 7881 http://localhost:8090/ Mozilla/5.0 (...)
//! ```
//!
//! The request line and the user agent are not quoted; the user agent is the rest of the line.
//! A common variant logs `%{X-Forwarded-For}i` right after the timestamp; both are accepted.
//! `-` stands for an absent value (an anonymous user, no referrer, no body).

use quarry_event::Timestamp;

use crate::classify::{Action, Classifier};
use crate::ecs::EcsEvent;
use crate::proxies::TrustedProxies;

/// Why a line is not an access-log record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessLogError {
    #[error("expected `[dd/MMM/yyyy:HH:mm:ss +zzzz]` at the start of the line")]
    NoTimestamp,
    #[error("timestamp `{0}` is not `dd/MMM/yyyy:HH:mm:ss +zzzz`")]
    BadTimestamp(String),
    #[error("expected a request line (`METHOD /path HTTP/x`) after the user, thread and client")]
    NoRequest,
    #[error("status `{0}` is not a number")]
    BadStatus(String),
    #[error("line ends before the {0}")]
    Truncated(&'static str),
}

/// The request methods an access-log line may hold (the pipeline export's grok uses them too).
pub const METHODS: &[&str] = &[
    "GET",
    "POST",
    "PUT",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "PATCH",
    "TRACE",
    "CONNECT",
    "PROPFIND",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "PROPPATCH",
];

/// Parses `[dd/MMM/yyyy:HH:mm:ss +zzzz]` contents into UTC.
pub fn parse_clf_time(text: &str) -> Result<Timestamp, AccessLogError> {
    let bad = || AccessLogError::BadTimestamp(text.to_string());
    let ts = jiff::fmt::strtime::parse("%d/%b/%Y:%H:%M:%S %z", text)
        .and_then(|tm| tm.to_timestamp())
        .map_err(|_| bad())?;
    i64::try_from(ts.as_nanosecond())
        .map(Timestamp::from_nanos)
        .map_err(|_| bad())
}

/// Parses one line of the default pattern into an event, classifying the request.
pub fn parse_line(line: &str, classifier: &Classifier) -> Result<EcsEvent, AccessLogError> {
    parse_line_with(line, classifier, &TrustedProxies::default())
}

/// [`parse_line`], believing `X-Forwarded-For` from the `trusted` proxies.
pub fn parse_line_with(
    line: &str,
    classifier: &Classifier,
    trusted: &TrustedProxies,
) -> Result<EcsEvent, AccessLogError> {
    let line = line.trim_end_matches(['\r', '\n']);
    let rest = line.strip_prefix('[').ok_or(AccessLogError::NoTimestamp)?;
    let close = rest.find(']').ok_or(AccessLogError::NoTimestamp)?;
    let timestamp = parse_clf_time(&rest[..close])?;
    let mut fields = rest[close + 1..].trim_start().split(' ');
    // user, thread, client, then the method; with a leading X-Forwarded-For, one more first.
    let mut head: Vec<&str> = Vec::with_capacity(5);
    let method = loop {
        let token = fields.next().ok_or(AccessLogError::NoRequest)?;
        if head.len() >= 3 && METHODS.contains(&token) {
            break token;
        }
        if head.len() == 4 {
            return Err(AccessLogError::NoRequest);
        }
        head.push(token);
    };
    let (forwarded, user, client) = match head.as_slice() {
        [user, _thread, client] => (None, *user, *client),
        [xff, user, _thread, client] => (Some(*xff), *user, *client),
        _ => return Err(AccessLogError::NoRequest),
    };
    let target = fields
        .next()
        .ok_or(AccessLogError::Truncated("request target"))?;
    let protocol = fields.next().ok_or(AccessLogError::Truncated("protocol"))?;
    let status_text = fields.next().ok_or(AccessLogError::Truncated("status"))?;
    let status: u16 = status_text
        .parse()
        .map_err(|_| AccessLogError::BadStatus(status_text.to_string()))?;
    let duration = fields.next().ok_or(AccessLogError::Truncated("duration"))?;
    let bytes = fields.next().ok_or(AccessLogError::Truncated("bytes"))?;
    let referrer = fields.next();
    let user_agent: Vec<&str> = fields.collect();
    let user_agent = user_agent.join(" ");

    Ok(request_event(
        Request {
            timestamp,
            user,
            client,
            forwarded,
            method,
            target,
            protocol: Some(protocol),
            status,
            bytes,
            duration_ns: duration
                .strip_suffix("ms")
                .and_then(|d| d.parse::<u64>().ok())
                .and_then(crate::ecs::duration_from_millis),
            referrer,
            user_agent: &user_agent,
        },
        classifier,
        trusted,
    ))
}

/// One HTTP request as a web log records it (`-` for absent values).
pub(crate) struct Request<'a> {
    pub timestamp: Timestamp,
    pub user: &'a str,
    pub client: &'a str,
    pub forwarded: Option<&'a str>,
    pub method: &'a str,
    /// The request target: a path with its query, or an absolute URL (proxies).
    pub target: &'a str,
    pub protocol: Option<&'a str>,
    pub status: u16,
    pub bytes: &'a str,
    pub duration_ns: Option<u64>,
    pub referrer: Option<&'a str>,
    pub user_agent: &'a str,
}

/// The ECS event of a request, classified; shared by the access and proxy log parsers.
pub(crate) fn request_event(
    r: Request<'_>,
    classifier: &Classifier,
    trusted: &TrustedProxies,
) -> EcsEvent {
    // A proxy logs absolute URLs: classify the path.
    let local = match r.target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => r.target,
    };
    let (path, query) = match local.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (local, None),
    };
    let classified = classifier.classify(r.method, path, query);
    let dash = |s: &str| (s != "-" && !s.is_empty()).then(|| s.to_string());
    // Behind a trusted proxy the client is in X-Forwarded-For; otherwise the peer is.
    let believed = r.forwarded.and_then(|xff| trusted.client(r.client, xff));
    let (source_ip, source_domain) = if let Some(client) = believed {
        (Some(client.to_string()), None)
    } else if r.client.parse::<std::net::IpAddr>().is_ok() {
        (Some(r.client.to_string()), None)
    } else {
        (None, dash(r.client))
    };
    let action = classified.action();
    EcsEvent {
        timestamp: Some(r.timestamp),
        action: action.as_str().to_string(),
        category: Some("web"),
        kind_type: Some("access"),
        outcome: Some(if r.status < 400 { "success" } else { "failure" }),
        user_name: dash(r.user),
        user_id: None,
        user_email: None,
        source_ip,
        source_domain,
        forwarded_ip: r.forwarded.and_then(dash),
        http_method: Some(r.method.to_string()),
        http_version: r
            .protocol
            .and_then(|p| p.strip_prefix("HTTP/"))
            .map(str::to_string),
        status_code: Some(r.status),
        response_bytes: r.bytes.parse().ok(),
        duration_ns: r.duration_ns,
        referrer: r.referrer.and_then(dash),
        url_original: Some(r.target.to_string()),
        url_path: Some(path.to_string()),
        url_query: query.map(str::to_string),
        user_agent: dash(r.user_agent),
        message: if action == Action::SearchPerformed {
            classified.search_text.clone()
        } else {
            None
        },
        space_key: classified.space_key,
        content_id: classified.content_id,
        content_title: classified.content_title,
    }
}
