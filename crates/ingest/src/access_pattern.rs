//! Access logs written with any Tomcat `AccessLogValve` pattern (`--access-log-pattern`).
//!
//! The pattern's `%` codes are compiled once into fields and literals; a line is matched left to
//! right, each field running to the next literal (or to the end of the line for the last one).
//! `%r`, the request line, is exactly three space-separated tokens, so an unquoted request line
//! works as in Confluence's default pattern. The aliases `common` and `combined` are accepted.

use crate::access_log::{Request, parse_clf_time, request_event};
use crate::classify::Classifier;
use crate::ecs::EcsEvent;
use crate::proxies::TrustedProxies;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("unknown pattern code `%{0}` (see Tomcat's AccessLogValve documentation)")]
    UnknownCode(String),
    #[error("the pattern names no time (`%t`)")]
    NoTime,
    #[error("the pattern names no request (`%r`, or `%m` with `%U`)")]
    NoRequest,
    #[error("the line does not match the pattern at `{0}`")]
    Mismatch(String),
    #[error("field `{field}`: `{value}` is not valid")]
    BadField { field: &'static str, value: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    RemoteHost,
    RemoteUser,
    Time,
    RequestLine,
    Method,
    UrlPath,
    Query,
    Protocol,
    Status,
    Bytes,
    DurationMs,
    DurationSeconds,
    RequestHeader(String),
    ResponseHeader(String),
    /// Any other code: matched, not used.
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Field(Field),
}

/// A compiled access-log pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPattern {
    parts: Vec<Part>,
}

impl AccessPattern {
    pub fn parse(pattern: &str) -> Result<AccessPattern, PatternError> {
        let pattern = match pattern {
            "common" => "%h %l %u %t \"%r\" %s %b",
            "combined" => "%h %l %u %t \"%r\" %s %b \"%{Referer}i\" \"%{User-Agent}i\"",
            p => p,
        };
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                literal.push(c);
                continue;
            }
            let field = match chars.next() {
                Some('%') => {
                    literal.push('%');
                    continue;
                }
                Some('{') => {
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    match chars.next() {
                        Some('i') => Field::RequestHeader(name),
                        Some('o') => Field::ResponseHeader(name),
                        Some('c' | 'r' | 's' | 't' | 'p') => Field::Ignored,
                        other => {
                            return Err(PatternError::UnknownCode(format!(
                                "{{{name}}}{}",
                                other.map(String::from).unwrap_or_default()
                            )));
                        }
                    }
                }
                Some(code) => match code {
                    'h' | 'a' => Field::RemoteHost,
                    'u' => Field::RemoteUser,
                    't' => Field::Time,
                    'r' => Field::RequestLine,
                    'm' => Field::Method,
                    'U' => Field::UrlPath,
                    'q' => Field::Query,
                    'H' => Field::Protocol,
                    's' => Field::Status,
                    'b' | 'B' => Field::Bytes,
                    'D' => Field::DurationMs,
                    'T' => Field::DurationSeconds,
                    'l' | 'A' | 'p' | 'S' | 'v' | 'I' | 'F' | 'X' => Field::Ignored,
                    other => return Err(PatternError::UnknownCode(other.to_string())),
                },
                None => return Err(PatternError::UnknownCode(String::new())),
            };
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(Part::Field(field));
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        let has = |f: &Field| parts.iter().any(|p| p == &Part::Field(f.clone()));
        if !has(&Field::Time) {
            return Err(PatternError::NoTime);
        }
        let names_request =
            has(&Field::RequestLine) || (has(&Field::Method) && has(&Field::UrlPath));
        if !names_request {
            return Err(PatternError::NoRequest);
        }
        Ok(AccessPattern { parts })
    }

    /// Parses one line into an event.
    pub fn parse_line(
        &self,
        line: &str,
        classifier: &Classifier,
        trusted: &TrustedProxies,
    ) -> Result<EcsEvent, PatternError> {
        let line = line.trim_end_matches(['\r', '\n']);
        let mut rest = line;
        let mut values: Vec<(&Field, &str)> = Vec::new();
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(l) => {
                    rest = rest
                        .strip_prefix(l.as_str())
                        .ok_or_else(|| PatternError::Mismatch(l.clone()))?;
                }
                Part::Field(field) => {
                    let next_literal = match self.parts.get(i + 1) {
                        Some(Part::Literal(l)) => Some(l.as_str()),
                        _ => None,
                    };
                    let end = match field {
                        Field::Time if rest.starts_with('[') => rest.find(']').map(|e| e + 1),
                        // Unquoted, the request line is exactly three tokens (it contains spaces);
                        // quoted, it ends at the quote like any field.
                        Field::RequestLine if !next_literal.is_some_and(|l| l.starts_with('"')) => {
                            rest.match_indices(' ').nth(1).map(|(i, _)| {
                                rest[i + 1..].find(' ').map_or(rest.len(), |j| i + 1 + j)
                            })
                        }
                        // `%U%q`: the path ends at `?`; `%q` is empty or starts with `?`.
                        Field::UrlPath
                            if matches!(self.parts.get(i + 1), Some(Part::Field(Field::Query))) =>
                        {
                            Some(rest.find(['?', ' ']).unwrap_or(rest.len()))
                        }
                        Field::Query if !rest.starts_with('?') => Some(0),
                        _ => match next_literal {
                            Some(l) => rest.find(l),
                            None => Some(rest.len()),
                        },
                    }
                    .ok_or_else(|| PatternError::Mismatch(format!("%{field:?}")))?;
                    values.push((field, &rest[..end]));
                    rest = &rest[end..];
                }
            }
        }
        self.event(&values, classifier, trusted)
    }

    fn event(
        &self,
        values: &[(&Field, &str)],
        classifier: &Classifier,
        trusted: &TrustedProxies,
    ) -> Result<EcsEvent, PatternError> {
        let get = |f: &Field| values.iter().find(|(k, _)| *k == f).map(|(_, v)| *v);
        let header = |name: &str, response: bool| {
            values.iter().find_map(|(k, v)| match k {
                Field::RequestHeader(n) if !response && n.eq_ignore_ascii_case(name) => Some(*v),
                Field::ResponseHeader(n) if response && n.eq_ignore_ascii_case(name) => Some(*v),
                _ => None,
            })
        };
        let time = get(&Field::Time).unwrap_or("");
        let timestamp = parse_clf_time(time.trim_start_matches('[').trim_end_matches(']'))
            .map_err(|_| PatternError::BadField {
                field: "time",
                value: time.to_string(),
            })?;
        let (method, target, protocol);
        let path_and_query;
        if let Some(request) = get(&Field::RequestLine) {
            let mut t = request.split(' ');
            method = t.next().unwrap_or("");
            target = t.next().ok_or_else(|| PatternError::BadField {
                field: "request",
                value: request.to_string(),
            })?;
            protocol = t.next();
        } else {
            method = get(&Field::Method).unwrap_or("");
            let query = get(&Field::Query).unwrap_or("");
            path_and_query = format!("{}{query}", get(&Field::UrlPath).unwrap_or(""));
            target = &path_and_query;
            protocol = get(&Field::Protocol);
        }
        let status_text = get(&Field::Status).unwrap_or("0");
        let status: u16 = status_text.parse().map_err(|_| PatternError::BadField {
            field: "status",
            value: status_text.to_string(),
        })?;
        let duration_ns = get(&Field::DurationMs)
            .and_then(|d| d.trim_end_matches("ms").parse::<u64>().ok())
            .and_then(crate::ecs::duration_from_millis)
            .or_else(|| {
                get(&Field::DurationSeconds)
                    .and_then(|s| s.parse::<f64>().ok())
                    .filter(|s| (0.0..=i64::MAX as f64 / 1e9).contains(s))
                    .map(|s| (s * 1e9) as u64)
            });
        // Confluence puts the user in the `X-AUSERNAME` response header; servlet containers in %u.
        let user = header("X-AUSERNAME", true)
            .or_else(|| get(&Field::RemoteUser))
            .unwrap_or("-");
        Ok(request_event(
            Request {
                timestamp,
                user,
                client: get(&Field::RemoteHost).unwrap_or("-"),
                forwarded: header("X-Forwarded-For", false),
                method,
                target,
                protocol,
                status,
                bytes: get(&Field::Bytes).unwrap_or("-"),
                duration_ns,
                referrer: header("Referer", false),
                user_agent: header("User-Agent", false).unwrap_or("-"),
            },
            classifier,
            trusted,
        ))
    }
}
