//! The normalized event: Quarry's ECS shape for Confluence activity (DESIGN.md, "Confluence
//! normalization"), whatever source it came from.

use quarry_event::Timestamp;
use serde_json::{Map, Value as Json, json};

/// The `event.dataset` of every normalized event.
pub const DATASET: &str = "atlassian.confluence";

/// Every field a normalized event can carry, dotted: the ECS shape rules are validated against
/// (a rule reading any other field must write it `?field`).
pub const FIELDS: &[&str] = &[
    "@timestamp",
    "event.dataset",
    "event.action",
    "event.category",
    "event.type",
    "event.outcome",
    "event.duration",
    "user.name",
    "user.id",
    "user.email",
    "source.ip",
    "source.domain",
    "network.forwarded_ip",
    "http.request.method",
    "http.version",
    "http.request.referrer",
    "http.response.status_code",
    "http.response.bytes",
    "url.original",
    "url.path",
    "url.query",
    "user_agent.original",
    "message",
    "confluence.space.key",
    "confluence.content.id",
    "confluence.content.title",
];

/// One normalized Confluence event. Fields a source does not record stay `None` and are left
/// out of the JSON, so rules see them as null.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EcsEvent {
    pub timestamp: Option<Timestamp>,
    /// `event.action`: one of the content actions, or a context action of its own.
    pub action: String,
    pub category: Option<&'static str>,
    pub kind_type: Option<&'static str>,
    /// `success` or `failure` where the source says.
    pub outcome: Option<&'static str>,
    pub user_name: Option<String>,
    /// `user.id`: a stable account identifier where the source has one (Cloud account ids).
    pub user_id: Option<String>,
    pub user_email: Option<String>,
    pub source_ip: Option<String>,
    /// The client as the source wrote it when it is not an IP address (a host name).
    pub source_domain: Option<String>,
    /// `X-Forwarded-For` as logged, kept apart from `source.ip` unless the proxy is trusted.
    pub forwarded_ip: Option<String>,
    pub http_method: Option<String>,
    pub http_version: Option<String>,
    pub status_code: Option<u16>,
    pub response_bytes: Option<u64>,
    /// `event.duration`, in nanoseconds.
    pub duration_ns: Option<u64>,
    pub referrer: Option<String>,
    pub url_original: Option<String>,
    pub url_path: Option<String>,
    pub url_query: Option<String>,
    pub user_agent: Option<String>,
    pub message: Option<String>,
    pub space_key: Option<String>,
    pub content_id: Option<String>,
    pub content_title: Option<String>,
}

fn put(map: &mut Map<String, Json>, path: &[&str], value: Json) {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut node = map;
    for p in parents {
        node = node
            .entry(p.to_string())
            .or_insert_with(|| Json::Object(Map::new()))
            .as_object_mut()
            .expect("ECS parents are objects");
    }
    node.insert(last.to_string(), value);
}

/// Writes `"key":` (after a comma unless `first`).
fn key(buf: &mut Vec<u8>, first: &mut bool, name: &str) {
    if !*first {
        buf.push(b',');
    }
    *first = false;
    buf.push(b'"');
    buf.extend_from_slice(name.as_bytes());
    buf.extend_from_slice(b"\":");
}

fn string(buf: &mut Vec<u8>, value: &str) {
    serde_json::to_writer(&mut *buf, value).expect("writing to a Vec cannot fail");
}

/// Writes `"name":{...}` with the present string fields, or nothing if none is present.
fn object(buf: &mut Vec<u8>, first: &mut bool, name: &str, fields: &[(&str, Option<&str>)]) {
    if fields.iter().all(|(_, v)| v.is_none()) {
        return;
    }
    key(buf, first, name);
    buf.push(b'{');
    let mut inner = true;
    for (k, v) in fields {
        if let Some(v) = v {
            key(buf, &mut inner, k);
            string(buf, v);
        }
    }
    buf.push(b'}');
}

impl EcsEvent {
    /// Appends the event as one line of nested ECS JSON (without the newline), written
    /// directly: the same document as [`EcsEvent::to_json`], without building it.
    pub fn write_json(&self, buf: &mut Vec<u8>) {
        use std::io::Write;
        buf.push(b'{');
        let mut first = true;
        if let Some(ts) = self.timestamp {
            key(buf, &mut first, "@timestamp");
            let _ = write!(buf, "\"{ts}\"");
        }
        key(buf, &mut first, "event");
        buf.push(b'{');
        let mut e = true;
        key(buf, &mut e, "dataset");
        string(buf, DATASET);
        key(buf, &mut e, "action");
        string(buf, &self.action);
        if let Some(c) = self.category {
            key(buf, &mut e, "category");
            buf.push(b'[');
            string(buf, c);
            buf.push(b']');
        }
        if let Some(t) = self.kind_type {
            key(buf, &mut e, "type");
            buf.push(b'[');
            string(buf, t);
            buf.push(b']');
        }
        if let Some(o) = self.outcome {
            key(buf, &mut e, "outcome");
            string(buf, o);
        }
        if let Some(d) = self.duration_ns {
            key(buf, &mut e, "duration");
            let _ = write!(buf, "{d}");
        }
        buf.push(b'}');
        object(
            buf,
            &mut first,
            "user",
            &[
                ("name", self.user_name.as_deref()),
                ("id", self.user_id.as_deref()),
                ("email", self.user_email.as_deref()),
            ],
        );
        object(
            buf,
            &mut first,
            "source",
            &[
                ("ip", self.source_ip.as_deref()),
                ("domain", self.source_domain.as_deref()),
            ],
        );
        object(
            buf,
            &mut first,
            "network",
            &[("forwarded_ip", self.forwarded_ip.as_deref())],
        );
        let request = [
            ("method", self.http_method.as_deref()),
            ("referrer", self.referrer.as_deref()),
        ];
        let has_response = self.status_code.is_some() || self.response_bytes.is_some();
        if request.iter().any(|(_, v)| v.is_some()) || self.http_version.is_some() || has_response {
            key(buf, &mut first, "http");
            buf.push(b'{');
            let mut h = true;
            object(buf, &mut h, "request", &request);
            if let Some(v) = &self.http_version {
                key(buf, &mut h, "version");
                string(buf, v);
            }
            if has_response {
                key(buf, &mut h, "response");
                buf.push(b'{');
                let mut r = true;
                if let Some(s) = self.status_code {
                    key(buf, &mut r, "status_code");
                    let _ = write!(buf, "{s}");
                }
                if let Some(b) = self.response_bytes {
                    key(buf, &mut r, "bytes");
                    let _ = write!(buf, "{b}");
                }
                buf.push(b'}');
            }
            buf.push(b'}');
        }
        object(
            buf,
            &mut first,
            "url",
            &[
                ("original", self.url_original.as_deref()),
                ("path", self.url_path.as_deref()),
                ("query", self.url_query.as_deref()),
            ],
        );
        object(
            buf,
            &mut first,
            "user_agent",
            &[("original", self.user_agent.as_deref())],
        );
        if let Some(m) = &self.message {
            key(buf, &mut first, "message");
            string(buf, m);
        }
        let space = self.space_key.is_some();
        let content = self.content_id.is_some() || self.content_title.is_some();
        if space || content {
            key(buf, &mut first, "confluence");
            buf.push(b'{');
            let mut c = true;
            object(buf, &mut c, "space", &[("key", self.space_key.as_deref())]);
            object(
                buf,
                &mut c,
                "content",
                &[
                    ("id", self.content_id.as_deref()),
                    ("title", self.content_title.as_deref()),
                ],
            );
            buf.push(b'}');
        }
        buf.push(b'}');
    }

    /// The event as a nested ECS JSON document.
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        if let Some(ts) = self.timestamp {
            m.insert("@timestamp".into(), json!(ts.to_string()));
        }
        put(&mut m, &["event", "dataset"], json!(DATASET));
        put(&mut m, &["event", "action"], json!(self.action));
        if let Some(c) = self.category {
            put(&mut m, &["event", "category"], json!([c]));
        }
        if let Some(t) = self.kind_type {
            put(&mut m, &["event", "type"], json!([t]));
        }
        if let Some(o) = self.outcome {
            put(&mut m, &["event", "outcome"], json!(o));
        }
        if let Some(d) = self.duration_ns {
            put(&mut m, &["event", "duration"], json!(d));
        }
        let strings: [(&[&str], &Option<String>); 17] = [
            (&["user", "name"], &self.user_name),
            (&["user", "id"], &self.user_id),
            (&["user", "email"], &self.user_email),
            (&["source", "ip"], &self.source_ip),
            (&["source", "domain"], &self.source_domain),
            (&["network", "forwarded_ip"], &self.forwarded_ip),
            (&["http", "request", "method"], &self.http_method),
            (&["http", "version"], &self.http_version),
            (&["http", "request", "referrer"], &self.referrer),
            (&["url", "original"], &self.url_original),
            (&["url", "path"], &self.url_path),
            (&["url", "query"], &self.url_query),
            (&["user_agent", "original"], &self.user_agent),
            (&["message"], &self.message),
            (&["confluence", "space", "key"], &self.space_key),
            (&["confluence", "content", "id"], &self.content_id),
            (&["confluence", "content", "title"], &self.content_title),
        ];
        for (path, value) in strings {
            if let Some(v) = value {
                put(&mut m, path, json!(v));
            }
        }
        if let Some(s) = self.status_code {
            put(&mut m, &["http", "response", "status_code"], json!(s));
        }
        if let Some(b) = self.response_bytes {
            put(&mut m, &["http", "response", "bytes"], json!(b));
        }
        Json::Object(m)
    }
}

/// `event.duration` in nanoseconds from a logged number of milliseconds, or `None` when it
/// does not fit the signed 64 bits Elasticsearch's `long` holds (a forged or broken line must
/// not wrap around, nor stop the reader).
pub fn duration_from_millis(ms: u64) -> Option<u64> {
    ms.checked_mul(1_000_000)
        .filter(|ns| i64::try_from(*ns).is_ok())
}
