//! The normalized event: Quarry's ECS shape for Confluence activity (DESIGN.md, "Confluence
//! normalization"), whatever source it came from.

use quarry_event::Timestamp;
use serde_json::{Map, Value as Json, json};

/// The `event.dataset` of every normalized event.
pub const DATASET: &str = "atlassian.confluence";

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

impl EcsEvent {
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
        let strings: [(&[&str], &Option<String>); 15] = [
            (&["user", "name"], &self.user_name),
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
