//! The Elasticsearch ingest pipeline (`quarry export pipeline`), tested without a cluster.
//!
//! A small simulator runs the generated JSON: it interprets each processor the way
//! Elasticsearch does (the `grok` pattern turned into a Rust regex from its own
//! `pattern_definitions`, `date` with the one format the pipeline uses, `urldecode` as Java's
//! `URLDecoder`, `convert` to `ip`, `drop`, `remove`, `reroute`, `on_failure`), evaluates the
//! few `if` conditions it knows (an unknown one fails the test), and runs each Painless script
//! twice: by a Rust transliteration that reads the script's `params` (the classifier table as the
//! pipeline carries it), and, where a JDK is installed, by compiling the Painless source itself
//! as Java (it is written in the subset the two languages share) and running it. Both must agree.
//!
//! The contract is the normalizer's: for every access-log line the pipeline's document carries
//! the same Quarry fields ([`ecs::FIELDS`]) as `access_log::parse_line` writes (noise dropped,
//! as `quarry normalize` drops it), and every integration document the same mapped fields as
//! `elastic_integration::parse_line` gives from the integration's fields.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

use quarry_event::Timestamp;
use quarry_ingest::access_log;
use quarry_ingest::classify::{Action, Classifier, Methods, RULES};
use quarry_ingest::ecs;
use quarry_ingest::elastic_integration;
use quarry_ingest::pipeline::{self, Options};
use serde_json::{Map, Value as Json, json};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Compares `actual` with the golden file `name` (`QUARRY_BLESS=1` rewrites it).
fn golden(name: &str, actual: &str) {
    let path = fixture(name);
    if std::env::var_os("QUARRY_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{name} is not current (QUARRY_BLESS=1 rewrites it; review the diff)"
    );
}

fn default_pipeline() -> Json {
    pipeline::pipeline(&Options::default())
}

// ------------------------------------------------------------------------------------------
// Documents as Elasticsearch's ingest sees them: nested objects, dotted paths.

fn get<'a>(doc: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(doc, |node, key| node.get(key))
}

fn text_at(doc: &Json, path: &str) -> Option<String> {
    get(doc, path).and_then(Json::as_str).map(str::to_string)
}

/// Sets `path`, creating (or replacing non-object) parents, as `IngestDocument` does.
fn set(doc: &mut Json, path: &str, value: Json) {
    let mut node = doc;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if !node.is_object() {
            *node = Json::Object(Map::new());
        }
        let map = node.as_object_mut().unwrap();
        if keys.peek().is_none() {
            map.insert(key.to_string(), value);
            return;
        }
        node = map.entry(key).or_insert_with(|| json!({}));
    }
}

fn remove(doc: &mut Json, path: &str) -> Option<Json> {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => (get_mut(doc, parent)?, last),
        None => (doc, path),
    };
    parent.as_object_mut()?.remove(last)
}

fn get_mut<'a>(doc: &'a mut Json, path: &str) -> Option<&'a mut Json> {
    path.split('.').try_fold(doc, |node, key| node.get_mut(key))
}

// ------------------------------------------------------------------------------------------
// The simulator.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    /// The scripts' Rust transliteration.
    Mirror,
    /// The scripts compiled and run as Java.
    Java,
}

/// What became of one document.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Indexed(Json),
    Dropped,
}

impl Outcome {
    fn doc(&self) -> Option<&Json> {
        match self {
            Outcome::Indexed(d) => Some(d),
            Outcome::Dropped => None,
        }
    }

    fn failed(&self) -> bool {
        self.doc()
            .is_some_and(|d| text_at(d, "event.kind").as_deref() == Some("pipeline_error"))
    }
}

enum State {
    Active(Json),
    Done(Json),
    Dropped,
}

/// What a processor did to a document.
enum Effect {
    Continue,
    Drop,
    /// `reroute`: the rest of the pipeline is skipped.
    Stop,
}

/// The conditions the pipeline uses, and what they mean.
fn condition(cond: &str, doc: &Json) -> bool {
    match cond {
        "ctx._quarry?.kind == 'access'" => {
            text_at(doc, "_quarry.kind").as_deref() == Some("access")
        }
        "ctx._quarry?.kind == 'audit'" => text_at(doc, "_quarry.kind").as_deref() == Some("audit"),
        "ctx._quarry?.drop == true" => get(doc, "_quarry.drop") == Some(&Json::Bool(true)),
        "ctx._index instanceof String && ctx._index.startsWith('logs-') && !ctx._index.startsWith('logs-atlassian.confluence-')" => {
            doc.get("_index").and_then(Json::as_str).is_some_and(|i| {
                i.starts_with("logs-") && !i.starts_with("logs-atlassian.confluence-")
            })
        }
        other => {
            panic!("the simulator does not know the condition `{other}`: say what it means here")
        }
    }
}

fn simulate(pipeline: &Json, docs: &[Json], engine: Engine) -> Vec<Outcome> {
    let mut states: Vec<State> = docs.iter().cloned().map(State::Active).collect();
    let on_failure = pipeline["on_failure"].as_array().expect("on_failure");
    for processor in pipeline["processors"].as_array().expect("processors") {
        let (kind, config) = single(processor);
        let ignore_failure = config.get("ignore_failure") == Some(&Json::Bool(true));
        let selected: Vec<usize> = states
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                State::Active(doc) => config
                    .get("if")
                    .map(|c| condition(c.as_str().expect("a condition"), doc))
                    .unwrap_or(true)
                    .then_some(i),
                _ => None,
            })
            .collect();
        if selected.is_empty() {
            continue;
        }
        let mut batch: Vec<Json> = selected
            .iter()
            .map(|&i| match &states[i] {
                State::Active(doc) => doc.clone(),
                _ => unreachable!(),
            })
            .collect();
        let results: Vec<Result<Effect, String>> = if kind == "script" {
            run_script(config, &mut batch, engine)
        } else {
            batch
                .iter_mut()
                .map(|doc| apply(kind, config, doc))
                .collect()
        };
        for ((i, mut doc), result) in selected.into_iter().zip(batch).zip(results) {
            states[i] = match result {
                Ok(Effect::Continue) => State::Active(doc),
                Ok(Effect::Drop) => State::Dropped,
                Ok(Effect::Stop) => State::Done(doc),
                Err(_) if ignore_failure => State::Active(doc),
                Err(message) => {
                    for handler in on_failure {
                        let (kind, config) = single(handler);
                        let config = config.clone();
                        let _ = apply_failure(kind, &config, &mut doc, &message);
                    }
                    State::Done(doc)
                }
            };
        }
    }
    states
        .into_iter()
        .map(|s| match s {
            State::Active(doc) | State::Done(doc) => Outcome::Indexed(doc),
            State::Dropped => Outcome::Dropped,
        })
        .collect()
}

fn single(processor: &Json) -> (&str, &Map<String, Json>) {
    let map = processor.as_object().expect("a processor is an object");
    assert_eq!(map.len(), 1, "one processor per object: {processor}");
    let (kind, config) = map.iter().next().unwrap();
    (kind, config.as_object().expect("processor options"))
}

/// Every option a processor may carry here; anything else is an option the simulator does not
/// model, and fails the test.
fn check_options(kind: &str, config: &Map<String, Json>) {
    let own: &[&str] = match kind {
        "script" => &["lang", "source", "params"],
        "grok" => &["field", "patterns", "pattern_definitions"],
        "date" => &["field", "target_field", "formats", "locale", "timezone"],
        "convert" => &["field", "target_field", "type", "ignore_missing"],
        "urldecode" => &["field", "ignore_missing"],
        "drop" => &[],
        "remove" => &["field", "ignore_missing"],
        "reroute" => &["dataset"],
        "set" => &["field", "value"],
        "append" => &["field", "value"],
        other => panic!("the simulator does not model the `{other}` processor"),
    };
    for key in config.keys() {
        assert!(
            ["tag", "description", "if", "ignore_failure"].contains(&key.as_str())
                || own.contains(&key.as_str()),
            "the simulator does not model option `{key}` of `{kind}`"
        );
    }
}

fn field<'a>(config: &'a Map<String, Json>, key: &str) -> &'a str {
    config
        .get(key)
        .and_then(Json::as_str)
        .unwrap_or_else(|| panic!("`{key}` is a string"))
}

fn ignore_missing(config: &Map<String, Json>) -> bool {
    config.get("ignore_missing") == Some(&Json::Bool(true))
}

fn apply(kind: &str, config: &Map<String, Json>, doc: &mut Json) -> Result<Effect, String> {
    check_options(kind, config);
    match kind {
        "grok" => grok(config, doc).map(|()| Effect::Continue),
        "date" => {
            assert_eq!(config["formats"], json!([pipeline::CLF_DATE_FORMAT]));
            assert_eq!(config["locale"], json!("en"));
            assert_eq!(config["timezone"], json!("UTC"));
            // `dd/MMM/yyyy:HH:mm:ss Z` in English, to UTC, written as
            // `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`: the access-log parser's own reading.
            let value = text_at(doc, field(config, "field")).ok_or("date: no field")?;
            let ts = access_log::parse_clf_time(&value).map_err(|e| e.to_string())?;
            set(doc, field(config, "target_field"), json!(ts.to_string()));
            Ok(Effect::Continue)
        }
        "convert" => {
            assert_eq!(config["type"], json!("ip"));
            let Some(value) = get(doc, field(config, "field")).cloned() else {
                return if ignore_missing(config) {
                    Ok(Effect::Continue)
                } else {
                    Err("convert: no field".into())
                };
            };
            let text = value.as_str().ok_or("convert: not a string")?;
            // Elasticsearch's `InetAddresses.isInetAddress`; the access-log parser's test.
            text.parse::<std::net::IpAddr>()
                .map_err(|_| format!("'{text}' is not a valid ip address"))?;
            set(doc, field(config, "target_field"), value.clone());
            Ok(Effect::Continue)
        }
        "urldecode" => {
            let path = field(config, "field");
            let Some(value) = text_at(doc, path) else {
                return if ignore_missing(config) && get(doc, path).is_none() {
                    Ok(Effect::Continue)
                } else {
                    Err("urldecode: not a string".into())
                };
            };
            set(doc, path, json!(java_url_decode(&value)?));
            Ok(Effect::Continue)
        }
        "drop" => Ok(Effect::Drop),
        "remove" => {
            let path = field(config, "field");
            match remove(doc, path) {
                Some(_) => Ok(Effect::Continue),
                None if ignore_missing(config) => Ok(Effect::Continue),
                None => Err(format!("field [{path}] not present")),
            }
        }
        "reroute" => {
            // `RerouteProcessor`: `<type>-<dataset>-<namespace>` from `_index`, the namespace
            // from `data_stream.namespace` when the document has one.
            let index = text_at(doc, "_index").ok_or("reroute: no _index")?;
            let mut parts = index.splitn(3, '-');
            let (kind, _, current_ns) = (
                parts.next().unwrap().to_string(),
                parts.next().ok_or("naming scheme")?.to_string(),
                parts.next().ok_or("naming scheme")?.to_string(),
            );
            let dataset = field(config, "dataset").to_string();
            let namespace = text_at(doc, "data_stream.namespace").unwrap_or(current_ns);
            set(
                doc,
                "_index",
                json!(format!("{kind}-{dataset}-{namespace}")),
            );
            set(doc, "data_stream.type", json!(kind));
            set(doc, "data_stream.dataset", json!(dataset));
            set(doc, "data_stream.namespace", json!(namespace));
            if get(doc, "event.dataset").is_some() {
                set(doc, "event.dataset", json!(dataset));
            }
            Ok(Effect::Stop)
        }
        other => panic!("`{other}` outside on_failure"),
    }
}

fn apply_failure(
    kind: &str,
    config: &Map<String, Json>,
    doc: &mut Json,
    message: &str,
) -> Result<Effect, String> {
    check_options(kind, config);
    match kind {
        "set" => {
            set(doc, field(config, "field"), config["value"].clone());
            Ok(Effect::Continue)
        }
        "append" => {
            assert_eq!(config["value"], json!("{{{ _ingest.on_failure_message }}}"));
            let path = field(config, "field");
            let mut values = match get(doc, path).cloned() {
                Some(Json::Array(a)) => a,
                Some(other) => vec![other],
                None => vec![],
            };
            values.push(json!(message));
            set(doc, path, Json::Array(values));
            Ok(Effect::Continue)
        }
        _ => apply(kind, config, doc),
    }
}

/// Java's `URLDecoder.decode(s, UTF_8)`: `+` is a space, each run of `%XX` is decoded as UTF-8,
/// and a `%` without two hex digits after it is an error (the processor fails).
fn java_url_decode(s: &str) -> Result<String, String> {
    let chars: Vec<char> = s.chars().collect();
    let units = |cs: &[char]| cs.iter().map(|c| c.len_utf16()).sum::<usize>();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '+' => {
                out.push(' ');
                i += 1;
            }
            '%' => {
                let mut bytes = Vec::new();
                // `while ((i+2) < numChars) && (c=='%')`, counting UTF-16 units.
                while chars.get(i) == Some(&'%') && units(&chars[..i]) + 2 < units(&chars) {
                    let hex: String = chars[i + 1..i + 3].iter().collect();
                    let v = i32::from_str_radix(&hex, 16).map_err(|_| {
                        format!("URLDecoder: Illegal hex characters in escape (%) pattern - {hex}")
                    })?;
                    if v < 0 {
                        return Err("URLDecoder: Illegal hex characters in escape (%) pattern - negative value".into());
                    }
                    bytes.push(v as u8);
                    i += 3;
                }
                if chars.get(i) == Some(&'%') {
                    return Err("URLDecoder: Incomplete trailing escape (%) pattern".into());
                }
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// The grok pattern as a Rust regex: `%{NAME:field}` expanded from the processor's own
/// `pattern_definitions` (the pipeline uses no built-in grok pattern), with the fields of the
/// named groups in order.
fn grok_regex(config: &Map<String, Json>) -> (regex::Regex, Vec<String>) {
    let patterns = config["patterns"].as_array().unwrap();
    assert_eq!(patterns.len(), 1);
    let defs = config["pattern_definitions"].as_object().unwrap();
    let mut fields = Vec::new();
    let source = expand_grok(patterns[0].as_str().unwrap(), defs, &mut fields);
    let re = regex::Regex::new(&source).unwrap_or_else(|e| panic!("{source}: {e}"));
    (re, fields)
}

fn expand_grok(pattern: &str, defs: &Map<String, Json>, fields: &mut Vec<String>) -> String {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("%{") {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("closing brace");
        let inner = &rest[start + 2..end];
        let (name, field) = match inner.split_once(':') {
            Some((n, f)) => (n, Some(f)),
            None => (inner, None),
        };
        let def = defs[name].as_str().unwrap_or_else(|| {
            panic!("%{{{name}}} is not in pattern_definitions: the simulator expands only those")
        });
        let body = expand_grok(def, defs, fields);
        match field {
            Some(f) => {
                assert!(!f.contains(':'), "no grok type conversions");
                out.push_str(&format!("(?P<g{}>{body})", fields.len()));
                fields.push(f.to_string());
            }
            None => out.push_str(&format!("(?:{body})")),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn grok(config: &Map<String, Json>, doc: &mut Json) -> Result<(), String> {
    let (re, fields) = grok_regex(config);
    let value = text_at(doc, field(config, "field")).ok_or("grok: no field")?;
    let caps = re
        .captures(&value)
        .ok_or_else(|| format!("Provided Grok expressions do not match field value: [{value}]"))?;
    for (i, f) in fields.iter().enumerate() {
        // A group that took part, even matching nothing, is written; one that did not is not.
        if let Some(m) = caps.name(&format!("g{i}")) {
            set(doc, f, json!(m.as_str()));
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// The scripts, by the Rust transliteration of their Painless.

fn run_script(
    config: &Map<String, Json>,
    batch: &mut [Json],
    engine: Engine,
) -> Vec<Result<Effect, String>> {
    check_options("script", config);
    assert_eq!(config["lang"], json!("painless"));
    let tag = field(config, "tag");
    let params = &config["params"];
    match engine {
        Engine::Mirror => batch
            .iter_mut()
            .map(|ctx| mirror(tag, ctx, params).map(|()| Effect::Continue))
            .collect(),
        Engine::Java => java_run(tag, field(config, "source"), params, batch),
    }
}

fn mirror(tag: &str, ctx: &mut Json, p: &Json) -> Result<(), String> {
    match tag {
        "quarry-route" => m_route(ctx, p),
        "quarry-access" => m_access(ctx, p),
        "quarry-classify" => m_classify(ctx, p),
        "quarry-captures" => m_captures(ctx, p),
        "quarry-audit" => m_audit(ctx, p),
        other => panic!("no transliteration of script `{other}`"),
    }
}

fn illegal(message: &str) -> String {
    format!("IllegalArgumentException: {message}")
}

fn m_text(v: Option<&Json>) -> Option<String> {
    v.and_then(Json::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn m_dash(v: Option<&Json>) -> Option<String> {
    m_text(v).filter(|s| s != "-")
}

/// `child(parent, key)`: the object at `key`, created (or replacing a non-object) when absent.
fn m_child<'a>(parent: &'a mut Json, key: &str) -> &'a mut Json {
    let map = parent.as_object_mut().expect("an object");
    let slot = map.entry(key).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    slot
}

fn m_put(root: &mut Json, path: &str, value: Option<Json>) {
    let Some(value) = value else { return };
    let mut node = root;
    let mut keys: Vec<&str> = path.split('.').collect();
    let last = keys.pop().unwrap();
    for k in keys {
        node = m_child(node, k);
    }
    node.as_object_mut()
        .unwrap()
        .insert(last.to_string(), value);
}

fn m_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// `number`: `Long.parseLong` of an optional `+` and digits.
fn m_number(v: Option<&Json>) -> Option<i64> {
    let s = m_text(v)?;
    let d = s.strip_prefix('+').unwrap_or(&s);
    if d.is_empty() || !m_digits(d) {
        return None;
    }
    d.parse::<i64>().ok()
}

fn m_route(ctx: &mut Json, p: &Json) -> Result<(), String> {
    let dataset = ctx
        .get("event")
        .filter(|e| e.is_object())
        .and_then(|e| m_text(e.get("dataset")));
    let stream = ctx
        .get("data_stream")
        .filter(|e| e.is_object())
        .and_then(|e| m_text(e.get("dataset")));
    let integration = p["integration_dataset"].as_str().unwrap();
    let kind = if dataset.as_deref() == Some(integration) || stream.as_deref() == Some(integration)
    {
        Some("audit")
    } else if dataset.as_deref() == p["dataset"].as_str()
        && ctx["event"].get("action").is_some_and(|a| !a.is_null())
    {
        Some("done")
    } else if ctx.get("message").is_some_and(Json::is_string) {
        Some("access")
    } else {
        None
    };
    let q = match kind {
        Some(k) => json!({ "kind": k }),
        None => json!({}),
    };
    ctx.as_object_mut().unwrap().insert("_quarry".into(), q);
    match kind {
        Some(_) => Ok(()),
        None => Err(illegal(
            "neither a Confluence access-log line in `message` nor an atlassian_confluence.audit document",
        )),
    }
}

fn m_access(ctx: &mut Json, p: &Json) -> Result<(), String> {
    let q = ctx["_quarry"].clone();
    let line = ctx.as_object_mut().unwrap().remove("message");
    let preserve = ctx
        .get("tags")
        .and_then(Json::as_array)
        .is_some_and(|t| t.contains(&p["preserve_tag"]));
    let event = m_child(ctx, "event");
    if preserve && event.get("original").is_none_or(Json::is_null) {
        event["original"] = line.unwrap_or(Json::Null);
    }
    event["dataset"] = p["dataset"].clone();
    event["category"] = json!(["web"]);
    event["type"] = json!(["access"]);
    let status_text = q["status"].as_str().unwrap();
    if status_text.len() > 5 || status_text.parse::<i32>().unwrap() > 65535 {
        return Err(illegal(&format!("status `{status_text}` is not a number")));
    }
    let status: i32 = status_text.parse().unwrap();
    event["outcome"] = json!(if status < 400 { "success" } else { "failure" });
    if let Some(duration) = m_text(q.get("duration"))
        && let Some(ms) = duration.strip_suffix("ms")
        && let Some(ms) = m_number(Some(&json!(ms)))
        && (0..=9_223_372_036_854).contains(&ms)
    {
        event["duration"] = json!(ms * 1_000_000);
    }
    m_put(ctx, "user.name", m_dash(q.get("user")).map(Json::from));
    let has_ip = ctx
        .get("source")
        .and_then(|s| s.as_object())
        .is_some_and(|s| s.get("ip").is_some_and(|ip| !ip.is_null()));
    if !has_ip {
        m_put(
            ctx,
            "source.domain",
            m_dash(q.get("client")).map(Json::from),
        );
    }
    m_put(
        ctx,
        "network.forwarded_ip",
        m_dash(q.get("forwarded")).map(Json::from),
    );
    m_put(ctx, "http.request.method", q.get("method").cloned());
    if let Some(protocol) = m_text(q.get("protocol"))
        && let Some(version) = protocol.strip_prefix("HTTP/")
    {
        m_put(ctx, "http.version", Some(json!(version)));
    }
    m_put(ctx, "http.response.status_code", Some(json!(status)));
    m_put(
        ctx,
        "http.response.bytes",
        m_number(q.get("bytes")).map(Json::from),
    );
    m_put(
        ctx,
        "http.request.referrer",
        m_dash(q.get("referrer")).map(Json::from),
    );
    let target = q["target"].as_str().unwrap_or("").to_string();
    let local = match target.find("://") {
        Some(i) => {
            let rest = &target[i + 3..];
            rest.find('/').map_or("/", |s| &rest[s..])
        }
        None => &target,
    };
    let (path, query) = match local.find('?') {
        Some(i) => (&local[..i], Some(&local[i + 1..])),
        None => (local, None),
    };
    let (path, query) = (path.to_string(), query.map(str::to_string));
    m_put(ctx, "url.original", Some(json!(target)));
    m_put(ctx, "url.path", Some(json!(path)));
    m_put(ctx, "url.query", query.map(Json::from));
    m_put(
        ctx,
        "user_agent.original",
        m_dash(q.get("user_agent")).map(Json::from),
    );
    Ok(())
}

fn m_ascii_eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `asciiKey`: the name decoded when it stays ASCII.
fn m_ascii_key(raw: &str) -> Option<String> {
    let chars: Vec<char> = raw.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let mut c = chars[i];
        let escape = (c == '%' && i + 2 < chars.len())
            .then(|| Some((chars[i + 1].to_digit(16)?, chars[i + 2].to_digit(16)?)))
            .flatten();
        if let Some((hi, lo)) = escape {
            c = char::from_u32(hi * 16 + lo).unwrap();
            i += 3;
        } else {
            if c == '+' {
                c = ' ';
            }
            i += 1;
        }
        if !c.is_ascii() {
            return None;
        }
        out.push(c);
    }
    Some(out)
}

fn m_param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter(|pair| !pair.is_empty())
        .find_map(|pair| {
            let (key, value) = match pair.find('=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, ""),
            };
            m_ascii_key(key)
                .filter(|k| m_ascii_eq(k, name))
                .map(|_| value.to_string())
        })
}

fn m_first_param(query: Option<&str>, names: &Json) -> Option<String> {
    names
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| m_param(query, n.as_str().unwrap()))
}

fn m_strip_segment_prefix<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

fn m_match(pattern: &Json, segs: &[&str]) -> Option<BTreeMap<&'static str, String>> {
    let mut caps = BTreeMap::new();
    let mut i = 0;
    for part in pattern.as_array().unwrap() {
        let part = part.as_str().unwrap();
        if part == "**" {
            return Some(caps);
        }
        let seg = segs.get(i)?;
        i += 1;
        match part {
            "{space}" => {
                caps.insert("space", seg.to_string());
            }
            "{title}" => {
                caps.insert("title", seg.to_string());
            }
            "{id}" => {
                if !m_digits(seg) {
                    return None;
                }
                caps.insert("id", seg.to_string());
            }
            "{*}" => {}
            literal => {
                if !m_ascii_eq(literal, seg) {
                    return None;
                }
            }
        }
    }
    (i == segs.len()).then_some(caps)
}

fn m_classify(ctx: &mut Json, p: &Json) -> Result<(), String> {
    let path_owned = text_at(ctx, "url.path").unwrap_or_default();
    let query = get(ctx, "url.query")
        .and_then(Json::as_str)
        .map(str::to_string);
    let query = query.as_deref();
    let method = text_at(ctx, "http.request.method").unwrap();
    let mut path = path_owned.as_str();
    if let Some(cp) = p["context_path"].as_str()
        && let Some(rest) = m_strip_segment_prefix(path, cp)
    {
        path = rest;
    }
    if let Some(rest) = m_strip_segment_prefix(path, p["cloud_prefix"].as_str().unwrap()) {
        path = rest;
    }
    let noise = |ctx: &mut Json| -> Result<(), String> {
        m_child(ctx, "event")["action"] = p["noise_action"].clone();
        ctx["_quarry"]["drop"] = json!(true);
        Ok(())
    };
    if p["noise_prefixes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| path.starts_with(n.as_str().unwrap()))
    {
        return noise(ctx);
    }
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    for rule in p["rules"].as_array().unwrap() {
        if let Some(m) = rule["method"].as_str()
            && !m_ascii_eq(&method, m)
        {
            continue;
        }
        if let Some(required) = rule["param"].as_str()
            && m_param(query, required).is_none()
        {
            continue;
        }
        let Some(caps) = m_match(&rule["path"], &segs) else {
            continue;
        };
        let action = rule["action"].as_str().unwrap();
        m_child(ctx, "event")["action"] = json!(action);
        let mut decode = json!({});
        let space = caps
            .get("space")
            .cloned()
            .or_else(|| m_first_param(query, &p["space_params"]));
        m_put(&mut decode, "space_key", space.map(Json::from));
        let id = caps
            .get("id")
            .cloned()
            .or_else(|| m_first_param(query, &p["id_params"]));
        m_put(&mut decode, "content_id", id.map(Json::from));
        let mut title = caps.get("title").cloned();
        if title.is_none() && action == p["title_action"] {
            title = m_first_param(query, &p["title_params"]);
        }
        m_put(&mut decode, "content_title", title.map(Json::from));
        if action == p["search_action"] {
            match m_param(query, p["cql_param"].as_str().unwrap()) {
                Some(cql) => m_put(&mut decode, "cql", Some(json!(cql))),
                None => m_put(
                    &mut decode,
                    "search",
                    m_first_param(query, &p["search_params"]).map(Json::from),
                ),
            }
        }
        ctx["_quarry"]["decode"] = decode;
        return Ok(());
    }
    let last = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if p["noise_extensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| last.ends_with(e.as_str().unwrap()))
    {
        return noise(ctx);
    }
    m_child(ctx, "event")["action"] = p["other_action"].clone();
    Ok(())
}

/// The painless `whitespace`: the code points it lists.
fn m_whitespace(c: char) -> bool {
    let c = c as u32;
    (9..=13).contains(&c)
        || c == 32
        || c == 133
        || c == 160
        || c == 5760
        || (8192..=8202).contains(&c)
        || c == 8232
        || c == 8233
        || c == 8239
        || c == 8287
        || c == 12288
}

fn m_cql_text(cql: &str, fields: &Json) -> String {
    let mut terms = Vec::new();
    let lower = cql.to_ascii_lowercase();
    for field in fields.as_array().unwrap() {
        let field = field.as_str().unwrap();
        let mut found = lower.find(field);
        while let Some(start) = found {
            let from = start + field.len();
            found = lower[from..].find(field).map(|i| from + i);
            if let Some(before) = lower[..start].chars().next_back()
                && (before.is_ascii_alphanumeric() || before == '.')
            {
                continue;
            }
            let rest = cql[from..].trim_start_matches(m_whitespace);
            let Some(rest) = rest.strip_prefix('~') else {
                continue;
            };
            let rest = rest.trim_start_matches(m_whitespace);
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let rest = &rest[1..];
            if let Some(end) = rest.find(quote) {
                terms.push(rest[..end].to_string());
            }
        }
    }
    if terms.is_empty() {
        cql.trim_matches(m_whitespace).to_string()
    } else {
        terms.join(" ")
    }
}

fn m_captures(ctx: &mut Json, p: &Json) -> Result<(), String> {
    let Some(decode) = get(ctx, "_quarry.decode")
        .filter(|d| d.is_object())
        .cloned()
    else {
        return Ok(());
    };
    m_put(
        ctx,
        "confluence.space.key",
        decode.get("space_key").cloned(),
    );
    if let Some(id) = decode.get("content_id").and_then(Json::as_str)
        && m_digits(id)
    {
        m_put(ctx, "confluence.content.id", Some(json!(id)));
    }
    m_put(
        ctx,
        "confluence.content.title",
        decode.get("content_title").cloned(),
    );
    let searched = if let Some(cql) = decode.get("cql") {
        Some(m_cql_text(cql.as_str().unwrap(), &p["cql_fields"]))
    } else {
        decode
            .get("search")
            .and_then(Json::as_str)
            .map(str::to_string)
    };
    if let Some(s) = searched.filter(|s| !s.is_empty()) {
        ctx["message"] = json!(s);
    }
    Ok(())
}

fn m_dc_action(key: &str, p: &Json) -> String {
    if let Some(a) = p["dc_actions"].get(key) {
        return a.as_str().unwrap().to_string();
    }
    let tail = p["dc_prefixes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|prefix| key.strip_prefix(prefix.as_str().unwrap()))
        .unwrap_or(key);
    tail.replace(['.', '-'], "_")
}

fn m_cloud_action(summary: &str, p: &Json) -> String {
    let lower = summary.to_ascii_lowercase();
    if let Some(a) = p["cloud_actions"].get(&lower) {
        return a.as_str().unwrap().to_string();
    }
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

fn m_audit(ctx: &mut Json, p: &Json) -> Result<(), String> {
    let key =
        m_text(m_child(ctx, "event").get("action")).ok_or_else(|| illegal("no `event.action`"))?;
    let action = if key.contains('.') && !key.contains(' ') {
        m_dc_action(&key, p)
    } else {
        m_cloud_action(&key, p)
    };
    let search = action == p["search_action"];
    let event = m_child(ctx, "event");
    event["action"] = json!(action);
    event["category"] = json!([if search { "web" } else { "configuration" }]);
    event["type"] = json!([if search { "access" } else { "change" }]);
    event["dataset"] = p["dataset"].clone();
    if let Some(user) = ctx.get_mut("user").and_then(Json::as_object_mut)
        && m_text(user.get("name")).is_none()
    {
        match m_text(user.get("full_name")) {
            Some(full) => {
                user.insert("name".into(), json!(full));
            }
            None => {
                user.remove("name");
            }
        }
    }
    let message = if search {
        get(ctx, "confluence.audit.extra_attributes")
            .and_then(Json::as_array)
            .and_then(|attrs| {
                attrs
                    .iter()
                    .find(|a| a.is_object() && a.get("nameI18nKey") == Some(&p["query_attribute"]))
            })
            .and_then(|a| a.get("value").and_then(Json::as_str).map(str::to_string))
    } else {
        m_text(get(ctx, "confluence.audit.type.action"))
    };
    let root = ctx.as_object_mut().unwrap();
    match message {
        Some(m) => root.insert("message".into(), json!(m)),
        None => root.remove("message"),
    };
    Ok(())
}

// ------------------------------------------------------------------------------------------
// The scripts, compiled and run as Java.

/// Parses and writes JSON for the Java harness (no library: the JDK alone).
const JAVA_JSON: &str = r#"
import java.util.*;

final class QJson {
  private final String s;
  private int i;
  private QJson(String s) { this.s = s; }
  static Object parse(String text) {
    QJson p = new QJson(text);
    Object v = p.value();
    p.ws();
    if (p.i != p.s.length()) throw new IllegalStateException("trailing data");
    return v;
  }
  private void ws() { while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++; }
  private void expect(char c) {
    ws();
    if (s.charAt(i) != c) throw new IllegalStateException("expected " + c + " at " + i);
    i++;
  }
  private Object value() {
    ws();
    char c = s.charAt(i);
    if (c == '{') {
      i++;
      Map<String, Object> m = new HashMap<>();
      ws();
      if (s.charAt(i) == '}') { i++; return m; }
      while (true) {
        ws();
        String k = string();
        expect(':');
        m.put(k, value());
        ws();
        if (s.charAt(i) == ',') { i++; continue; }
        expect('}');
        return m;
      }
    }
    if (c == '[') {
      i++;
      List<Object> l = new ArrayList<>();
      ws();
      if (s.charAt(i) == ']') { i++; return l; }
      while (true) {
        l.add(value());
        ws();
        if (s.charAt(i) == ',') { i++; continue; }
        expect(']');
        return l;
      }
    }
    if (c == '"') return string();
    if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
    if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
    if (s.startsWith("null", i)) { i += 4; return null; }
    int start = i;
    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
    String n = s.substring(start, i);
    if (n.contains(".") || n.contains("e") || n.contains("E")) return Double.valueOf(n);
    long l = Long.parseLong(n);
    if (l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) return Integer.valueOf((int) l);
    return Long.valueOf(l);
  }
  private String string() {
    expect('"');
    StringBuilder b = new StringBuilder();
    while (true) {
      char c = s.charAt(i++);
      if (c == '"') return b.toString();
      if (c != '\\') { b.append(c); continue; }
      char e = s.charAt(i++);
      switch (e) {
        case 'n': b.append('\n'); break;
        case 't': b.append('\t'); break;
        case 'r': b.append('\r'); break;
        case 'b': b.append('\b'); break;
        case 'f': b.append('\f'); break;
        case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
        default: b.append(e);
      }
    }
  }
  static String write(Object o) {
    StringBuilder b = new StringBuilder();
    write(b, o);
    return b.toString();
  }
  private static void write(StringBuilder b, Object o) {
    if (o == null) {
      b.append("null");
    } else if (o instanceof String) {
      writeString(b, (String) o);
    } else if (o instanceof Map) {
      b.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
        if (!first) b.append(',');
        first = false;
        writeString(b, (String) e.getKey());
        b.append(':');
        write(b, e.getValue());
      }
      b.append('}');
    } else if (o instanceof List) {
      b.append('[');
      boolean first = true;
      for (Object e : (List<?>) o) {
        if (!first) b.append(',');
        first = false;
        write(b, e);
      }
      b.append(']');
    } else if (o instanceof Boolean || o instanceof Integer || o instanceof Long || o instanceof Double) {
      b.append(o.toString());
    } else {
      throw new IllegalStateException("cannot write a " + o.getClass());
    }
  }
  private static void writeString(StringBuilder b, String s) {
    b.append('"');
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      if (c == '"') b.append("\\\"");
      else if (c == '\\') b.append("\\\\");
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    b.append('"');
  }
}
"#;

/// What the JDK itself says for the processors the simulator emulates: `urldecode`
/// (`URLDecoder.decode(value, "UTF-8")`, as `URLDecodeProcessor` calls it) and `date` (the
/// pipeline's pattern in English, to UTC, in the processor's output format). One input per line
/// (JSON strings), one JSON answer per line: the value, or `{"error": ...}`.
const JAVA_ORACLE: &str = r#"
import java.io.*;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;
import java.util.*;

public class JdkOracle {
  public static void main(String[] args) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
    DateTimeFormatter clf = DateTimeFormatter.ofPattern(args.length > 1 ? args[1] : "", Locale.ENGLISH)
        .withResolverStyle(ResolverStyle.STRICT);
    DateTimeFormatter iso = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", Locale.ROOT);
    String line;
    while ((line = in.readLine()) != null) {
      String value = (String) QJson.parse(line);
      Object answer;
      try {
        if (args[0].equals("urldecode")) {
          answer = URLDecoder.decode(value, "UTF-8");
        } else {
          // As Elasticsearch reads a custom pattern: strictly, then the date from the year of era.
          TemporalAccessor t = clf.parse(value);
          ZonedDateTime at = LocalDateTime.of(t.get(ChronoField.YEAR_OF_ERA), t.get(ChronoField.MONTH_OF_YEAR),
              t.get(ChronoField.DAY_OF_MONTH), t.get(ChronoField.HOUR_OF_DAY), t.get(ChronoField.MINUTE_OF_HOUR),
              t.get(ChronoField.SECOND_OF_MINUTE)).atZone(ZoneOffset.ofTotalSeconds(t.get(ChronoField.OFFSET_SECONDS)));
          answer = iso.format(at.withZoneSameInstant(ZoneOffset.UTC));
        }
      } catch (RuntimeException e) {
        Map<String, Object> error = new HashMap<>();
        error.put("error", e.getClass().getSimpleName());
        answer = error;
      }
      out.println(QJson.write(answer));
    }
    out.flush();
  }
}
"#;

/// Asks [`JAVA_ORACLE`]: `Ok(value)` or `Err(exception class)` per input.
fn jdk_oracle(args: &[&str], inputs: &[String]) -> Vec<Result<String, String>> {
    let dir = java_classes().expect("a JDK");
    let mut child = Command::new("java")
        .args(["-XX:TieredStopAtLevel=1", "-cp"])
        .arg(dir)
        .arg("JdkOracle")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input: String = inputs
        .iter()
        .map(|s| serde_json::to_string(s).unwrap() + "\n")
        .collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let answers: Vec<Result<String, String>> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| {
            let v: Json = serde_json::from_str(&l.unwrap()).unwrap();
            match v {
                Json::String(s) => Ok(s),
                other => Err(other["error"].as_str().unwrap().to_string()),
            }
        })
        .collect();
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(answers.len(), inputs.len());
    answers
}

/// One script as a Java class: the Painless functions as methods, the statements as the body
/// of `execute(ctx, params)` (so a function reaching for `ctx` or `params` does not compile,
/// as in Painless), and a `main` that runs it over documents, one JSON line each.
fn java_class(class: &str, source: &str) -> String {
    let (functions, body) = source
        .split_once(pipeline::SCRIPT_BODY_MARKER)
        .expect("every script has the statements marker");
    format!(
        "import java.util.*;\nimport java.io.*;\nimport java.nio.charset.StandardCharsets;\n\n\
         public class {class} {{\n{functions}\n  void execute(Map ctx, Map params) {{\n{body}\n  }}\n\n\
         public static void main(String[] args) throws IOException {{\n\
         BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));\n\
         PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, \"UTF-8\");\n\
         Map params = (Map) QJson.parse(in.readLine());\n\
         String line;\n\
         while ((line = in.readLine()) != null) {{\n\
           Map ctx = (Map) QJson.parse(line);\n\
           Map<String, Object> result = new HashMap<>();\n\
           try {{ new {class}().execute(ctx, params); result.put(\"ok\", Boolean.TRUE); }}\n\
           catch (RuntimeException e) {{ result.put(\"ok\", Boolean.FALSE); result.put(\"error\", e.getClass().getSimpleName() + \": \" + e.getMessage()); }}\n\
           result.put(\"ctx\", ctx);\n\
           out.println(QJson.write(result));\n\
         }}\n\
         out.flush();\n\
         }}\n}}\n"
    )
}

fn java_class_name(tag: &str) -> String {
    format!("Painless_{}", tag.replace('-', "_"))
}

/// The directory of the compiled scripts, or `None` without a JDK (the Java half is then
/// skipped, loudly). Compiled once per test run.
fn java_classes() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let has = |tool: &str| {
            Command::new(tool)
                .arg("-version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        if !has("javac") || !has("java") {
            eprintln!(
                "SKIPPED: no JDK (`javac`, `java`): the pipeline's Painless is checked by its Rust transliteration only"
            );
            return None;
        }
        // Sources first, then a directory named by their hash: concurrent test runs sharing the
        // target directory compile apart and reuse each other's result.
        let mut sources = vec![
            ("QJson".to_string(), JAVA_JSON.to_string()),
            ("JdkOracle".to_string(), JAVA_ORACLE.to_string()),
        ];
        for processor in default_pipeline()["processors"].as_array().unwrap() {
            if let Some(script) = processor.get("script") {
                let class = java_class_name(script["tag"].as_str().unwrap());
                let source = java_class(&class, script["source"].as_str().unwrap());
                sources.push((class, source));
            }
        }
        let hash = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            sources.hash(&mut h);
            h.finish()
        };
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let dir = base.join(format!("quarry-painless-{hash:016x}"));
        if dir.join("done").exists() {
            return Some(dir);
        }
        let work = base.join(format!("quarry-painless-{hash:016x}.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let mut files = Vec::new();
        for (class, source) in &sources {
            let file = work.join(format!("{class}.java"));
            std::fs::write(&file, source).unwrap();
            files.push(file);
        }
        let out = Command::new("javac")
            .args(["-nowarn", "-Xlint:none", "-encoding", "UTF-8", "-d"])
            .arg(&work)
            .args(&files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the Painless scripts do not compile as Java:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(work.join("done"), "").unwrap();
        if std::fs::rename(&work, &dir).is_err() {
            // Another run got there first.
            let _ = std::fs::remove_dir_all(&work);
        }
        Some(dir)
    })
    .as_deref()
}

/// Runs one script over a batch in one JVM; scripts change `ctx` in place even when they throw,
/// as in Elasticsearch.
fn java_run(
    tag: &str,
    source: &str,
    params: &Json,
    batch: &mut [Json],
) -> Vec<Result<Effect, String>> {
    static LOCK: Mutex<()> = Mutex::new(());
    let dir = java_classes().expect("Java engine without a JDK");
    let compiled = default_pipeline()["processors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| {
            p.get("script")
                .is_some_and(|s| s["source"] == json!(source))
        });
    assert!(compiled, "script `{tag}` differs from the compiled one");
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut child = Command::new("java")
        .args(["-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp"])
        .arg(dir)
        .arg(java_class_name(tag))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = serde_json::to_string(params).unwrap();
    input.push('\n');
    for ctx in batch.iter() {
        input.push_str(&serde_json::to_string(ctx).unwrap());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .collect();
    writer.join().unwrap();
    assert!(child.wait().unwrap().success(), "java {tag} failed");
    assert_eq!(
        lines.len(),
        batch.len(),
        "one result per document from {tag}"
    );
    batch
        .iter_mut()
        .zip(lines)
        .map(|(ctx, line)| {
            let result: Json = serde_json::from_str(&line).unwrap();
            *ctx = result["ctx"].clone();
            if result["ok"] == json!(true) {
                Ok(Effect::Continue)
            } else {
                Err(result["error"].as_str().unwrap().to_string())
            }
        })
        .collect()
}

/// Simulates with the Rust transliteration and, where a JDK exists, with the Java-compiled
/// Painless; the two must agree document for document.
fn simulate_checked(pipeline: &Json, docs: &[Json]) -> Vec<Outcome> {
    let mirror = simulate(pipeline, docs, Engine::Mirror);
    if java_classes().is_some() {
        let java = simulate(pipeline, docs, Engine::Java);
        for ((doc, m), j) in docs.iter().zip(&mirror).zip(&java) {
            assert_eq!(
                m, j,
                "the Painless (run as Java) and its Rust transliteration disagree on {doc}"
            );
        }
    }
    mirror
}

// ------------------------------------------------------------------------------------------
// The contract: the normalizer's output.

fn access_doc(line: &str) -> Json {
    json!({ "message": line })
}

/// What `quarry normalize` writes for an access-log line: `None` for noise (not emitted) and for
/// a line it cannot read.
fn normalizer(line: &str, classifier: &Classifier) -> Result<Option<Json>, String> {
    let event = access_log::parse_line(line, classifier).map_err(|e| e.to_string())?;
    Ok((event.action != Action::Noise.as_str()).then(|| event.to_json()))
}

fn quarry_fields(doc: &Json) -> BTreeMap<&'static str, Option<Json>> {
    ecs::FIELDS
        .iter()
        .map(|f| (*f, get(doc, f).cloned()))
        .collect()
}

/// Field by field: the pipeline's document against the normalizer's event.
fn assert_same_fields(line: &str, pipeline: Option<&Json>, rust: Option<&Json>) {
    match (pipeline, rust) {
        (None, None) => {}
        (Some(p), Some(r)) => {
            let (p, r) = (quarry_fields(p), quarry_fields(r));
            for field in ecs::FIELDS {
                assert_eq!(
                    p[field], r[field],
                    "`{field}` of {line:?}: pipeline (left) vs normalizer (right)"
                );
            }
        }
        (p, r) => panic!(
            "{line:?}: the pipeline {} it, the normalizer {} it",
            if p.is_some() { "keeps" } else { "drops" },
            if r.is_some() { "keeps" } else { "drops" }
        ),
    }
}

fn check_lines(pipeline: &Json, classifier: &Classifier, lines: &[String]) {
    let docs: Vec<Json> = lines.iter().map(|l| access_doc(l)).collect();
    let outcomes = simulate_checked(pipeline, &docs);
    for (line, outcome) in lines.iter().zip(&outcomes) {
        match normalizer(line, classifier) {
            Ok(expected) => {
                assert!(
                    !outcome.failed(),
                    "{line:?} fails in the pipeline: {outcome:?}"
                );
                assert_same_fields(line, outcome.doc(), expected.as_ref());
                if let Some(doc) = outcome.doc() {
                    assert!(doc.get("_quarry").is_none(), "scratch fields are removed");
                }
            }
            Err(e) => assert!(
                outcome.failed(),
                "{line:?}: the normalizer rejects it ({e}), the pipeline reads it: {outcome:?}"
            ),
        }
    }
}

fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

const ACCESS_FIXTURES: &[(&str, &str)] = &[
    ("access-default.log", "access-default.golden.ndjson"),
    ("access-plaso.log", "access-plaso.golden.ndjson"),
    ("access-xff.log", "access-xff.golden.ndjson"),
];

fn examples_log() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/confluence-access.log")
}

/// An access-log line for one request, in the default pattern.
fn line_for(method: &str, target: &str) -> String {
    format!(
        "[01/May/2024:12:00:00 +0200] alice http-nio-8090-exec-7 203.0.113.9 {method} {target} HTTP/1.1 200 12ms 3456 https://wiki.example.com/ Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"
    )
}

/// One or more requests per classifier rule, made from the rule's own pattern, so a rule added
/// to the table is covered without editing this file.
fn rule_requests() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rule in RULES {
        let mut bare = String::new();
        let mut empty_rest = String::new();
        for part in rule.path.trim_start_matches('/').split('/') {
            let (seg, rest_seg) = match part {
                "{space}" => ("OPS", "OPS"),
                "{id}" => ("98305", "98305"),
                "{title}" => ("Quarterly+Plan%202024", "Quarterly+Plan%202024"),
                "{*}" => ("att77", "att77"),
                "**" => ("child/page", ""),
                literal => (literal, literal),
            };
            bare.push('/');
            bare.push_str(seg);
            if !rest_seg.is_empty() {
                empty_rest.push('/');
                empty_rest.push_str(rest_seg);
            }
        }
        let required = rule
            .requires_param
            .map(|p| format!("{p}=printable&"))
            .unwrap_or_default();
        let method = match rule.methods {
            Methods::Post => "POST",
            Methods::Get | Methods::Any => "GET",
        };
        let params =
            "spaceKey=ENG&pageId=42&title=A+Title&cql=siteSearch+~+%22secret%22&queryString=q+s";
        out.push((method.to_string(), format!("{bare}?{required}{params}")));
        out.push((
            method.to_string(),
            format!("{bare}?{required}key=K%C3%A9&query=vpn"),
        ));
        out.push((method.to_string(), format!("{empty_rest}?{required}")));
        out.push((method.to_string(), bare.to_ascii_uppercase()));
        if rule.methods == Methods::Post {
            out.push(("GET".into(), bare.clone()));
        }
    }
    out
}

/// Requests by hand: what the rules leave to code (parameters, decoding, CQL, prefixes).
const REQUESTS: &[(&str, &str)] = &[
    ("GET", "/display/OPS/VPN+Setup"),
    ("GET", "/display/OPS"),
    ("GET", "/display/OPS/"),
    ("GET", "/display//OPS"),
    ("GET", "/DISPLAY/ops/Home?decorator=printable"),
    (
        "GET",
        "/display/%E6%97%A5%E6%9C%AC/%E3%83%9A%E3%83%BC%E3%82%B8",
    ),
    ("GET", "/display/ÉQ/Ünïcode+Pâge"),
    ("GET", "/display/OPS/C%2B%2B+Guide"),
    ("GET", "/pages/viewpage.action?pageId=2129924"),
    ("GET", "/pages/viewpage.action?PAGEID=12"),
    ("GET", "/pages/viewpage.action?page%49d=12"),
    ("GET", "/pages/viewpage.action?page%49d%zz=12"),
    ("GET", "/pages/viewpage.action?pageId=12a"),
    ("GET", "/pages/viewpage.action?pageId="),
    ("GET", "/pages/viewpage.action?pageId=%31%32"),
    ("GET", "/pages/viewpage.action?pageId=1&pageId=2"),
    ("GET", "/pages/viewpage.action?spaceKey=OPS&title=VPN+Setup"),
    ("GET", "/pages/viewpage.action?key=A&spaceKey=B"),
    ("GET", "/pages/viewpage.action?%C3%A9=1&spaceKey=X"),
    ("GET", "/pages/viewpage.action?&&spaceKey&title"),
    ("GET", "/pages/viewpage.action?"),
    ("GET", "/Pages/ViewPage.action?pageId=5&Decorator=printable"),
    ("GET", "/pages/viewpage.action?decorator"),
    ("GET", "/spaces/OPS/pages/98305/VPN+Setup"),
    ("GET", "/wiki/spaces/ENG/pages/123456/Runbook"),
    ("GET", "/wiki/spaces/ENG/blog/2024/05/01/42/Post"),
    ("GET", "/wiki"),
    ("GET", "/wiki/"),
    ("GET", "/wikipedia/display/OPS/Home"),
    ("GET", "/confluence/display/OPS/Home"),
    ("GET", "/x/AbCd"),
    (
        "GET",
        "/rest/api/content/search?cql=text%20~%20%22password%22",
    ),
    (
        "GET",
        "/rest/api/search?cql=siteSearch+~+%22api+key%22+and+type+%3D+page",
    ),
    ("GET", "/rest/api/search?cql=type%3Dpage"),
    ("GET", "/rest/api/search?cql="),
    ("GET", "/rest/api/search?cql=+++"),
    (
        "GET",
        "/rest/api/search?cql=mytext+~+%22no%22+and+space.title+~+%22no%22",
    ),
    (
        "GET",
        "/rest/api/search?cql=text~%22a%22+or+title~'b'+or+TEXT+~+%22c%22",
    ),
    ("GET", "/rest/api/search?cql=text+~+%22unterminated"),
    (
        "GET",
        "/rest/api/search?cql=text+%E2%80%83~%E3%80%80%22em+space%22",
    ),
    (
        "GET",
        "/rest/api/search?cql=%C3%A9t%C3%A9+text+~+%22%C3%A9t%C3%A9%22",
    ),
    (
        "GET",
        "/rest/api/search?cql=title+~+%27quoted%27&queryString=ignored",
    ),
    ("GET", "/dosearchsite.action?queryString=aws+secret"),
    ("GET", "/dosearchsite.action?queryString=&query=ignored"),
    ("GET", "/dosearchsite.action?where=conf_all"),
    ("GET", "/rest/quicknav/1/search?query=secret"),
    (
        "GET",
        "/rest/searchv3/1.0/search?queryString=vpn&where=conf_all&type=page",
    ),
    ("GET", "/wiki/search?text=ldap"),
    ("GET", "/search"),
    (
        "GET",
        "/download/attachments/98305/network-diagram.png?version=1&api=v2",
    ),
    ("GET", "/download/attachments/abc/network-diagram.png"),
    (
        "GET",
        "/rest/api/content/98305/child/attachment/att77/download",
    ),
    ("POST", "/spaces/doexportspace.action?key=OPS"),
    ("GET", "/spaces/doexportspace.action?key=OPS"),
    ("post", "/spaces/doexportspace.action?key=OPS"),
    ("GET", "/download/temp/xmlexport-20240501-120000-1.zip"),
    (
        "GET",
        "/rest/api/content?spaceKey=OPS&type=page&expand=body.storage&limit=100",
    ),
    ("GET", "/rest/api/content/98305?expand=body.storage"),
    ("GET", "/rest/api/space?limit=25&start=0"),
    ("GET", "/rest/api/space/OPS"),
    ("POST", "/dologin.action"),
    ("GET", "/index.action"),
    ("GET", "/"),
    ("GET", ""),
    ("GET", "http://wiki.example.com/display/OPS/Home?x=1"),
    ("GET", "https://wiki.example.com"),
    ("GET", "https://wiki.example.com?x=1"),
    ("GET", "/s/en_GB/8703/abc/_/download/batch/x.js"),
    ("GET", "/images/icons/profilepics/default.svg"),
    ("GET", "/download/thumbnails/98305/diagram.png"),
    (
        "GET",
        "/rest/quickreload/latest/2129924?since=1608256850024",
    ),
    ("GET", "/plugins/servlet/notifications-miniview"),
    ("GET", "/favicon.ico"),
    ("GET", "/foo/BAR.JS"),
    ("GET", "/foo/bar.woff2?v=1"),
    ("GET", "/wiki/s/x.css"),
    ("GET", "/foo/"),
];

fn request_lines(prefix: &str) -> Vec<String> {
    let mut requests: Vec<(String, String)> = REQUESTS
        .iter()
        .map(|(m, t)| (m.to_string(), t.to_string()))
        .collect();
    requests.extend(rule_requests());
    requests
        .into_iter()
        .map(|(m, t)| {
            let target = if t.starts_with('/') {
                format!("{prefix}{t}")
            } else {
                t
            };
            line_for(&m, &target)
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// The tests.

#[test]
fn the_generated_pipeline_is_the_reviewed_one() {
    let mut text = serde_json::to_string_pretty(&default_pipeline()).unwrap();
    text.push('\n');
    golden("pipeline/quarry-confluence.json", &text);
}

#[test]
fn only_processors_elasticsearch_ships_and_no_painless_regexes() {
    let p = default_pipeline();
    let shipped = [
        "script",
        "grok",
        "date",
        "convert",
        "urldecode",
        "drop",
        "remove",
        "reroute",
        "set",
        "append",
    ];
    let all = p["processors"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p["on_failure"].as_array().unwrap());
    for processor in all {
        let (kind, config) = single(processor);
        assert!(shipped.contains(&kind), "{kind}");
        check_options(kind, config);
        if kind == "script" {
            let source = config["source"].as_str().unwrap();
            // Regexes need `script.painless.regex.enabled`; the scripts use string methods.
            for forbidden in ["=~", "==~", "Pattern.", ".matcher(", "def "] {
                assert!(
                    !source.contains(forbidden),
                    "`{forbidden}` in {}",
                    config["tag"]
                );
            }
            assert!(source.len() < 65_535, "script.max_size_in_bytes");
        }
    }
    // The classifier's data is the table, in order.
    let classify = p["processors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["script"]["tag"] == json!("quarry-classify"))
        .unwrap();
    let rules = classify["script"]["params"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), RULES.len());
    for (json_rule, rule) in rules.iter().zip(RULES) {
        assert_eq!(json_rule["action"], json!(rule.action.as_str()));
        assert_eq!(
            json_rule["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect::<Vec<_>>()
                .join("/"),
            rule.path.trim_start_matches('/')
        );
    }
}

#[test]
fn every_fixture_and_example_line_is_normalized_as_quarry_normalize_does() {
    let p = default_pipeline();
    let classifier = Classifier::default();
    let mut lines = Vec::new();
    for (log, _) in ACCESS_FIXTURES {
        lines.extend(lines_of(&fixture(log)));
    }
    lines.extend(lines_of(&examples_log()));
    assert!(lines.len() > 500);
    check_lines(&p, &classifier, &lines);
}

#[test]
fn every_classifier_rule_and_request_shape_classifies_as_the_rust_classifier_does() {
    check_lines(
        &default_pipeline(),
        &Classifier::default(),
        &request_lines(""),
    );
}

#[test]
fn a_context_path_is_removed_as_the_classifier_removes_it() {
    for given in ["/confluence", "confluence/", "/confluence/"] {
        let p = pipeline::pipeline(&Options {
            context_path: Some(given.into()),
        });
        let classifier = Classifier::new(Some(given));
        let mut lines = request_lines("/confluence");
        lines.extend(request_lines(""));
        lines.push(line_for("GET", "/confluence"));
        lines.push(line_for("GET", "/confluencex/display/OPS/Home"));
        lines.push(line_for("GET", "/confluence/wiki/display/OPS/Home"));
        check_lines(&p, &classifier, &lines);
    }
    // `/` alone is no context path.
    assert_eq!(
        pipeline::pipeline(&Options {
            context_path: Some("/".into())
        }),
        default_pipeline()
    );
}

#[test]
fn malformed_lines_fail_in_both() {
    let lines: Vec<String> = [
        "",
        "GET /index.action",
        "[yesterday] u t 10.0.0.1 GET / HTTP/1.1 200 1ms 1 - curl/8",
        "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1",
        "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1 GET /",
        "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1 GET / HTTP/1.1 OK 1ms 1 - x",
        "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1 GET / HTTP/1.1 99999 1ms 1 - x",
        "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1 get / HTTP/1.1 200 1ms 1 - x",
        "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1 BREW / HTTP/1.1 200 1ms 1 - x",
        "[31/Feb/2020:12:57:26 +1100] u t 10.0.0.1 GET / HTTP/1.1 200 1ms 1 - x",
        "[18/Dec/2020:12:57:26 +1100] a b c d e GET / HTTP/1.1 200 1ms 1 - x",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let p = default_pipeline();
    check_lines(&p, &Classifier::default(), &lines);
    // Odd but readable lines are read the same way.
    let odd: Vec<String> = [
        "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1 GET / HTTP/1.1 200 1ms 1",
        "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1 GET / HTTP/1.1 200 1ms 1 ",
        "[18/Dec/2020:12:57:26 +1100] u t 10.0.0.1 GET / HTTP/1.1 200 1ms 1 - ",
        "[18/Dec/2020:12:57:26 +1100]   u t 10.0.0.1 GET / HTTP/1.1 0200 -ms - - -",
        "[18/Dec/2020:12:57:26 +1100] u  10.0.0.1 GET / FTP 404 +5ms +7 ref  two  spaces ",
        "[18/Dec/2020:12:57:26 +1100] - - - GET / HTTP/1.0 500 ms 0 - -",
        "[18/Dec/2020:12:57:26 +1100] 10.1.1.1 u t proxy.internal POST /dologin.action HTTP/2 302 5ms - - -",
        "[18/Dec/2020:12:57:26 -0330] u t fe80::1 OPTIONS * HTTP/1.1 200 99999999999999999999ms 99999999999999999999 - -",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    check_lines(&p, &Classifier::default(), &odd);
}

/// (c) The grok pattern, as a Rust regex, reads every fixture line into the fields of the
/// normalizer's golden NDJSON.
#[test]
fn the_grok_pattern_reads_every_fixture_line_into_the_golden_fields() {
    let p = default_pipeline();
    let grok_config = p["processors"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|x| x.get("grok"))
        .unwrap()
        .as_object()
        .unwrap()
        .clone();
    let (re, fields) = grok_regex(&grok_config);
    for (log, golden_file) in ACCESS_FIXTURES {
        let lines = lines_of(&fixture(log));
        let goldens = lines_of(&fixture(golden_file));
        assert_eq!(lines.len(), goldens.len());
        for (line, golden_line) in lines.iter().zip(goldens) {
            let golden: Json = serde_json::from_str(&golden_line).unwrap();
            let caps = re
                .captures(line)
                .unwrap_or_else(|| panic!("{log}: grok misses {line:?}"));
            let cap = |name: &str| -> Option<String> {
                let i = fields
                    .iter()
                    .position(|f| f == &format!("_quarry.{name}"))
                    .unwrap();
                caps.name(&format!("g{i}")).map(|m| m.as_str().to_string())
            };
            let dash = |v: Option<String>| v.filter(|s| s != "-" && !s.is_empty());
            let ts = access_log::parse_clf_time(&cap("time").unwrap()).unwrap();
            assert_eq!(json!(ts.to_string()), golden["@timestamp"], "{line}");
            assert_eq!(
                dash(cap("user")).map(Json::from),
                golden["user"].get("name").cloned(),
                "{line}"
            );
            let client = cap("client").unwrap();
            let client_field = if client.parse::<std::net::IpAddr>().is_ok() {
                "ip"
            } else {
                "domain"
            };
            assert_eq!(
                Some(&json!(client)),
                golden["source"].get(client_field),
                "{line}"
            );
            assert_eq!(
                dash(cap("forwarded")).map(Json::from),
                get(&golden, "network.forwarded_ip").cloned(),
                "{line}"
            );
            assert_eq!(
                json!(cap("method").unwrap()),
                golden["http"]["request"]["method"]
            );
            assert_eq!(json!(cap("target").unwrap()), golden["url"]["original"]);
            assert_eq!(
                json!(cap("protocol").unwrap().strip_prefix("HTTP/").unwrap()),
                golden["http"]["version"]
            );
            assert_eq!(
                json!(cap("status").unwrap().parse::<u16>().unwrap()),
                golden["http"]["response"]["status_code"]
            );
            let ms: u64 = cap("duration")
                .unwrap()
                .strip_suffix("ms")
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(json!(ms * 1_000_000), golden["event"]["duration"]);
            assert_eq!(
                cap("bytes").unwrap().parse::<u64>().ok().map(Json::from),
                get(&golden, "http.response.bytes").cloned()
            );
            assert_eq!(
                dash(cap("referrer")).map(Json::from),
                get(&golden, "http.request.referrer").cloned()
            );
            assert_eq!(
                dash(cap("user_agent")).map(Json::from),
                get(&golden, "user_agent.original").cloned()
            );
        }
    }
    // The method alternation is the parser's list: each is read, lookalikes are not.
    for method in pipeline::METHODS {
        let line = line_for(method, "/x");
        assert!(re.is_match(&line), "{method}");
        assert!(
            access_log::parse_line(&line, &Classifier::default()).is_ok(),
            "{method}"
        );
    }
    for not_method in [
        "get",
        "Get",
        "BREW",
        "SEARCH",
        "REPORT",
        "MKCALENDAR",
        "PURGE",
        "GETS",
    ] {
        let line = line_for(not_method, "/x");
        assert!(!re.is_match(&line), "{not_method}");
        assert!(
            access_log::parse_line(&line, &Classifier::default()).is_err(),
            "{not_method}"
        );
    }
}

/// Integration documents for every action table entry and the descriptive fallbacks.
fn integration_docs() -> Vec<Json> {
    let mut keys: Vec<String> = quarry_ingest::dc_audit::CONTENT_ACTIONS
        .iter()
        .map(|(k, _)| k.to_string())
        .collect();
    for (summary, _) in quarry_ingest::cloud_audit::CONTENT_SUMMARIES {
        keys.push(summary.to_string());
        keys.push(summary.to_ascii_uppercase());
    }
    keys.extend(
        [
            "audit.logging.summary.space.permission.added",
            "audit.logging.summary.plugin.enabled",
            "atlassian.audit.event.action.audit.config.updated",
            "personal.access.tokens.audit.log.summary.token-created",
            "Space logo uploaded",
            "Space export",
            "User added to group",
            "  Permission -- changed (2)!  ",
            "Pâge éxported",
            "single",
            "noise",
            "a.b c",
        ]
        .map(str::to_string),
    );
    let mut docs = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let mut doc = json!({
            "@timestamp": "2024-05-01T12:00:00.000Z",
            "event": {"action": key, "dataset": pipeline::INTEGRATION_DATASET, "kind": "event", "type": ["info"]},
            "confluence": {"audit": {
                "type": {"action": format!("Summary {i}"), "actionI18nKey": key},
                "extra_attributes": [
                    {"name": "Results returned", "nameI18nKey": "atlassian.audit.event.attribute.results", "value": "57"},
                    {"name": "Query", "nameI18nKey": quarry_ingest::dc_audit::QUERY_ATTRIBUTE, "value": format!("vpn password {i}")}
                ]
            }},
            "source": {"ip": "10.1.2.3", "address": "10.1.2.3"},
        });
        match i % 4 {
            0 => doc["user"] = json!({"name": "alice", "id": "8a7f"}),
            1 => doc["user"] = json!({"full_name": "Bob B", "id": "-2"}),
            2 => doc["user"] = json!({"name": "", "full_name": "Carol"}),
            _ => {}
        }
        if i % 5 == 0 {
            doc["confluence"]["audit"]
                .as_object_mut()
                .unwrap()
                .remove("extra_attributes");
            doc["confluence"]["audit"]["type"]
                .as_object_mut()
                .unwrap()
                .remove("action");
        }
        if i % 7 == 3 {
            doc["data_stream"] = json!({"dataset": pipeline::INTEGRATION_DATASET, "namespace": "default", "type": "logs"});
            doc["event"].as_object_mut().unwrap().remove("dataset");
        }
        docs.push(doc);
    }
    // A search whose query attribute has no value, and one found after another attribute.
    docs.push(json!({
        "@timestamp": "2024-05-01T12:00:00Z",
        "event": {"action": "audit.logging.summary.search.performed", "dataset": pipeline::INTEGRATION_DATASET},
        "confluence": {"audit": {"extra_attributes": [
            "not an object",
            {"nameI18nKey": quarry_ingest::dc_audit::QUERY_ATTRIBUTE},
            {"nameI18nKey": quarry_ingest::dc_audit::QUERY_ATTRIBUTE, "value": "second"}
        ]}},
        "message": "left over"
    }));
    docs
}

fn sample_integration_doc() -> Json {
    serde_json::from_str(
        &std::fs::read_to_string(fixture("elastic-integration-sample.json")).unwrap(),
    )
    .unwrap()
}

/// Field by field against `elastic_integration::parse_line` of the document without
/// `event.original` (the integration's fields): the fields Quarry maps are equal; the
/// integration's other fields pass through untouched.
fn assert_integration_contract(input: &Json, output: &Json) {
    let mut fields_only = input.clone();
    if let Some(e) = fields_only.get_mut("event").and_then(Json::as_object_mut) {
        e.remove("original");
    }
    let rust = elastic_integration::parse_line(&fields_only.to_string()).unwrap();
    let rust = rust[0].to_json();
    for field in ecs::FIELDS {
        let (p, r, i) = (get(output, field), get(&rust, field), get(input, field));
        match (field, r) {
            (&"@timestamp", Some(r)) => assert_eq!(
                p.map(|p| Timestamp::from_json(p).unwrap()),
                Some(Timestamp::from_json(r).unwrap()),
                "`@timestamp` of {input}"
            ),
            (_, Some(r)) => assert_eq!(p, Some(r), "`{field}` of {input}"),
            (&"message" | &"user.name", None) => assert_eq!(p, None, "`{field}` of {input}"),
            (_, None) => assert_eq!(p, i, "`{field}` passes through: {input}"),
        }
    }
}

#[test]
fn integration_documents_map_as_the_rust_mapping_does() {
    let p = default_pipeline();
    let mut docs = integration_docs();
    let sample = sample_integration_doc();
    docs.push(sample.clone());
    let mut without = sample.clone();
    without["event"].as_object_mut().unwrap().remove("original");
    docs.push(without);
    let outcomes = simulate_checked(&p, &docs);
    for (doc, outcome) in docs.iter().zip(&outcomes) {
        let out = outcome.doc().unwrap();
        assert!(!outcome.failed(), "{doc} -> {out}");
        assert_integration_contract(doc, out);
        assert!(out.get("_quarry").is_none());
    }
    // No action: the normalizer rejects it, the pipeline marks it.
    let no_action = json!({"@timestamp": "2024-05-01T12:00:00Z", "event": {"dataset": pipeline::INTEGRATION_DATASET}});
    assert!(elastic_integration::parse_line(&no_action.to_string()).is_err());
    assert!(simulate_checked(&p, &[no_action])[0].failed());
}

#[test]
fn documents_already_in_quarrys_shape_pass_and_others_fail() {
    let p = default_pipeline();
    let done = json!({"@timestamp": "2024-05-01T12:00:00.000Z", "event": {"dataset": ecs::DATASET, "action": "page_viewed"}, "message": "not a line", "user": {"name": "a"}});
    let outcomes = simulate_checked(
        &p,
        &[
            done.clone(),
            json!({"event": {"dataset": "nginx.access"}}),
            json!({"message": 42}),
        ],
    );
    assert_eq!(outcomes[0], Outcome::Indexed(done));
    assert!(outcomes[1].failed());
    assert!(outcomes[2].failed());
    assert_eq!(
        outcomes[1].doc().unwrap()["error"]["message"][0],
        json!(
            "IllegalArgumentException: neither a Confluence access-log line in `message` nor an atlassian_confluence.audit document"
        )
    );
}

/// Where the pipeline knowingly differs: Java's `URLDecoder` gives up on a malformed escape and
/// the value stays encoded, where Quarry decodes around it.
#[test]
fn a_malformed_escape_stays_encoded() {
    let p = default_pipeline();
    let line = line_for("GET", "/display/OPS/100%25+sure+%zz");
    let out = &simulate_checked(&p, &[access_doc(&line)])[0];
    let rust = normalizer(&line, &Classifier::default()).unwrap().unwrap();
    assert_eq!(
        get(&rust, "confluence.content.title"),
        Some(&json!("100% sure %zz"))
    );
    assert_eq!(
        get(out.doc().unwrap(), "confluence.content.title"),
        Some(&json!("100%25+sure+%zz"))
    );
    assert_eq!(
        text_at(out.doc().unwrap(), "event.action").as_deref(),
        Some("page_viewed")
    );
}

/// The normalizer's own samples through the pipeline, pinned document by document: each line
/// of `pipeline/samples.expected.ndjson` is `{"input", "output"}` (`output` null when the
/// pipeline drops the document). The outputs are the same contract as the normalizer's golden
/// NDJSON: the test also checks each against `access_log::parse_line` /
/// `elastic_integration::parse_line`, field by field.
#[test]
fn the_samples_pipeline_output_is_pinned() {
    let p = default_pipeline();
    let mut inputs = Vec::new();
    for (log, _) in ACCESS_FIXTURES {
        inputs.extend(lines_of(&fixture(log)).iter().map(|l| access_doc(l)));
    }
    // As Elastic Agent ships a line: its own fields, the raw line kept on request, a data stream
    // to be rerouted from.
    let mut shipped = json!({
        "_index": "logs-confluence.access-prod",
        "data_stream": {"type": "logs", "dataset": "confluence.access", "namespace": "prod"},
        "event": {"dataset": "confluence.access"},
        "tags": [pipeline::PRESERVE_ORIGINAL_TAG],
        "log": {"file": {"path": "/opt/atlassian/confluence/logs/conf_access_log.2024-05-01.log"}},
    });
    shipped["message"] = json!(line_for(
        "GET",
        "/rest/api/search?cql=siteSearch+~+%22api+key%22+and+type+%3D+page"
    ));
    let shipped_at = inputs.len();
    inputs.push(shipped);
    let mut sample = sample_integration_doc();
    sample["_index"] = json!("logs-atlassian_confluence.audit-ep");
    let sample_at = inputs.len();
    inputs.push(sample);
    // A Data Center content search with its query, and a Cloud space export.
    inputs.push(json!({
        "@timestamp": "2024-05-01T12:00:00.000Z",
        "event": {"action": "audit.logging.summary.search.performed", "dataset": pipeline::INTEGRATION_DATASET},
        "confluence": {"audit": {"type": {"action": "Search performed"}, "extra_attributes": [
            {"name": "Query", "nameI18nKey": quarry_ingest::dc_audit::QUERY_ATTRIBUTE, "value": "vpn password"}
        ]}},
        "user": {"name": "alice", "id": "8a7f"},
        "source": {"ip": "10.1.2.3"},
    }));
    inputs.push(json!({
        "@timestamp": "2022-01-25T07:51:51.962Z",
        "event": {"action": "Space export", "dataset": pipeline::INTEGRATION_DATASET},
        "confluence": {"audit": {"type": {"action": "Space export", "category": "Import/Export"}}},
        "user": {"full_name": "John Jacobs", "id": "df856b17d84fcf010f11fcfcc6be4267"},
        "source": {"ip": "81.2.69.143"},
    }));
    let outcomes = simulate_checked(&p, &inputs);
    let mut text = String::new();
    for (input, outcome) in inputs.iter().zip(&outcomes) {
        text.push_str(
            &serde_json::to_string(&json!({"input": input, "output": outcome.doc()})).unwrap(),
        );
        text.push('\n');
        assert!(!outcome.failed(), "{input}");
        if let Some(line) = input.get("message").and_then(Json::as_str) {
            let expected = normalizer(line, &Classifier::default()).unwrap();
            assert_same_fields(line, outcome.doc(), expected.as_ref());
        } else {
            assert_integration_contract(input, outcome.doc().unwrap());
        }
    }
    golden("pipeline/samples.expected.ndjson", &text);
    // Rerouted into Quarry's data stream, in the document's namespace.
    let shipped = outcomes[shipped_at].doc().unwrap();
    assert_eq!(shipped["_index"], json!("logs-atlassian.confluence-prod"));
    assert_eq!(shipped["data_stream"]["dataset"], json!(ecs::DATASET));
    assert_eq!(
        get(shipped, "event.original"),
        inputs[shipped_at].get("message")
    );
    let audit = outcomes[sample_at].doc().unwrap();
    assert_eq!(audit["_index"], json!("logs-atlassian.confluence-ep"));
    assert_eq!(audit["event"]["dataset"], json!(ecs::DATASET));
}

#[test]
fn the_painless_whitespace_is_rusts() {
    for c in (0..=0xFFFF).filter_map(char::from_u32) {
        assert_eq!(m_whitespace(c), c.is_whitespace(), "U+{:04X}", c as u32);
    }
}

/// The simulator's `urldecode` and `date` are what the JDK does (where a JDK is installed).
#[test]
fn the_urldecode_and_date_emulations_are_the_jdks() {
    if java_classes().is_none() {
        return;
    }
    let encoded: Vec<String> = [
        "",
        "plain",
        "a+b",
        "%41%42",
        "100%25+sure",
        "%zz",
        "%",
        "ab%",
        "ab%4",
        "%+1",
        "%-1",
        "%E6%97%A5%E6%9C%AC",
        "%C3",
        "%C3%28",
        "%ED%A0%80",
        "caf%C3%A9+%C3%A9t%C3%A9",
        "Ünï+%2B",
        "%F0%9F%98%80",
        "%e2%82%ac",
        "x%2",
        "%%41",
    ]
    .map(str::to_string)
    .to_vec();
    for (input, jdk) in encoded.iter().zip(jdk_oracle(&["urldecode"], &encoded)) {
        let ours = java_url_decode(input).map_err(|_| "IllegalArgumentException".to_string());
        // Both replace invalid UTF-8 with U+FFFD, not always as many of them.
        if ours.as_ref().is_ok_and(|o| o.contains('\u{FFFD}')) {
            assert!(
                jdk.as_ref().is_ok_and(|j| j.contains('\u{FFFD}')),
                "urldecode {input:?}"
            );
            continue;
        }
        assert_eq!(ours, jdk, "urldecode {input:?}");
    }
    let mut times: Vec<String> = [
        "18/Dec/2020:12:57:26 +1100",
        "01/Jan/1970:00:00:00 +0000",
        "29/Feb/2024:23:59:59 -0330",
        "31/Feb/2020:12:57:26 +1100",
        "18/dec/2020:12:57:26 +1100",
        "18/Dec/2020:12:57:26",
        "yesterday",
    ]
    .map(str::to_string)
    .to_vec();
    for (log, _) in ACCESS_FIXTURES {
        times.extend(
            lines_of(&fixture(log))
                .iter()
                .map(|l| l[1..l.find(']').unwrap()].to_string()),
        );
    }
    times.extend(
        lines_of(&examples_log())
            .iter()
            .map(|l| l[1..l.find(']').unwrap()].to_string()),
    );
    for (input, jdk) in times
        .iter()
        .zip(jdk_oracle(&["date", pipeline::CLF_DATE_FORMAT], &times))
    {
        let ours = access_log::parse_clf_time(input).map(|t| t.to_string());
        match (&ours, &jdk) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{input}"),
            (Err(_), Err(_)) => {}
            // Known: Quarry reads `dec`, Java's `MMM` only `Dec` (the line then fails in the
            // pipeline); Tomcat writes `Dec`.
            (Ok(_), Err(_)) if input == "18/dec/2020:12:57:26 +1100" => {}
            _ => panic!("date {input:?}: Quarry {ours:?}, the JDK {jdk:?}"),
        }
    }
}
