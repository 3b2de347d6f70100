//! The Elasticsearch ingest pipeline that does on a cluster what [`normalize`](crate::normalize)
//! does locally: Confluence access-log lines and documents of Elastic's `atlassian_confluence`
//! integration in, Quarry's ECS shape (DESIGN.md, "Confluence normalization") out.
//!
//! On a cluster nothing indexes Confluence's access log, and the integration indexes audit
//! records with i18n-key actions under `event.dataset: atlassian_confluence.audit`, so a rule
//! reading `event.dataset == "atlassian.confluence" and event.action == "page_viewed"` matches
//! nothing. [`pipeline`] writes the body of `PUT _ingest/pipeline/quarry-confluence`, built only
//! from processors Elasticsearch ships (`script` in Painless, `grok`, `date`, `convert`,
//! `urldecode`, `drop`, `remove`, `reroute`), that closes the gap:
//!
//! - an access-log line in `message` (Filebeat, Elastic Agent) is parsed by `grok` with the
//!   default valve pattern or its variant with a leading `X-Forwarded-For`, exactly as
//!   [`access_log`](crate::access_log) reads it, and its URL classified by a Painless
//!   interpreter of [`RULES`], [`NOISE_PREFIXES`] and [`NOISE_EXTENSIONS`], handed to the script
//!   as data (`params`): the table stays the single source of both classifiers. Noise is dropped,
//!   as the normalizer does not emit it;
//! - an `atlassian_confluence.audit` document is mapped as [`elastic_integration`] maps the
//!   integration's fields, with the action tables [`dc_audit::CONTENT_ACTIONS`] and
//!   [`cloud_audit::CONTENT_SUMMARIES`];
//! - a document already in Quarry's shape (`event.dataset: atlassian.confluence` with an
//!   `event.action`) passes unchanged, so running the pipeline twice is harmless;
//! - a document in a `logs-*-*` data stream other than `logs-atlassian.confluence-*` is rerouted
//!   there at the end (the integration maps `event.dataset` as a `constant_keyword`, so the
//!   normalized document cannot stay in its data stream);
//! - anything else fails into the pipeline's `on_failure`: `event.kind: pipeline_error` and
//!   `error.message`, as Elastic's own pipelines mark documents they cannot read.
//!
//! The raw line moves to `event.original` only when the document carries the
//! `preserve_original_event` tag (Elastic's convention); `message` then holds what Quarry's
//! events hold there (the searched text of a `search_performed`).
//!
//! Where the pipeline knowingly differs from the normalizer:
//! - values are percent-decoded by `urldecode` (Java's `URLDecoder`), which gives up on a
//!   malformed escape (`%zz`) and leaves the value encoded where Quarry decodes around it, and may
//!   replace invalid UTF-8 with fewer U+FFFD than Rust does;
//! - the `date` processor reads month names as Tomcat writes them (`Dec`); Quarry also reads `dec`;
//! - an address is told from a host name by `convert` to `ip` (Elasticsearch's parser);
//! - trusted proxies (`--trusted-proxy`) are not applied: `X-Forwarded-For` lands in
//!   `network.forwarded_ip` and the peer in `source.ip`, as the normalizer does with none;
//! - an integration document is always mapped from the integration's fields, as
//!   [`elastic_integration`] maps one without `event.original`.
//!
//! Requires Elasticsearch 8.8 or later (`reroute`). The Painless uses no regex (no
//! `script.painless.regex.enabled` needed).
//!
//! [`elastic_integration`]: crate::elastic_integration

use serde_json::{Map, Value as Json, json};

use crate::classify::{Action, Methods, NOISE_EXTENSIONS, NOISE_PREFIXES, RULES};
use crate::{cloud_audit, dc_audit, ecs};

/// The pipeline's name, the one the rules' setup notes refer to.
pub const DEFAULT_NAME: &str = "quarry-confluence";

/// The `event.dataset` of documents indexed by Elastic's `atlassian_confluence` integration.
pub const INTEGRATION_DATASET: &str = "atlassian_confluence.audit";

/// The tag that keeps the raw line in `event.original` (Elastic's integrations use the same).
pub const PRESERVE_ORIGINAL_TAG: &str = "preserve_original_event";

/// The oldest Elasticsearch that has every processor the pipeline uses (`reroute`).
pub const MINIMUM_ELASTICSEARCH: &str = "8.8";

/// The `grok` pattern of an access-log line: Confluence's default valve pattern
/// `%t %{X-AUSERNAME}o %I %h %r %s %Dms %b %{Referer}i %{User-Agent}i`, optionally with
/// `%{X-Forwarded-For}i` after the timestamp (the lazy `??` tries the default first, as
/// [`access_log`](crate::access_log) does). Tokens are separated by single spaces and may be
/// empty, as the Rust parser splits them; the user agent is the rest of the line.
pub const ACCESS_GROK: &str = concat!(
    r"^\[%{QUARRY_TIME:_quarry.time}\]\s*",
    r"(?:%{QUARRY_TOKEN:_quarry.forwarded} )??",
    r"%{QUARRY_TOKEN:_quarry.user} %{QUARRY_TOKEN:_quarry.thread} %{QUARRY_TOKEN:_quarry.client} ",
    r"%{QUARRY_METHOD:_quarry.method} %{QUARRY_TOKEN:_quarry.target} ",
    r"%{QUARRY_TOKEN:_quarry.protocol} %{QUARRY_STATUS:_quarry.status} ",
    r"%{QUARRY_TOKEN:_quarry.duration} %{QUARRY_TOKEN:_quarry.bytes}",
    r"(?: %{QUARRY_TOKEN:_quarry.referrer}(?: %{QUARRY_REST:_quarry.user_agent})?)?$",
);

/// The request methods the grok accepts: the access-log parser's own list.
pub use crate::access_log::METHODS;

/// The access log's `%t`, as Elasticsearch's `date` processor reads it (Java time pattern).
pub const CLF_DATE_FORMAT: &str = "dd/MMM/yyyy:HH:mm:ss Z";

/// Where the Painless helper functions end and the script's statements begin, in every script.
pub const SCRIPT_BODY_MARKER: &str = "// ---- statements ----";

/// Options of the generated pipeline.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The deployment's context path (`/confluence`), removed from URLs before classifying,
    /// as [`Classifier::new`](crate::classify::Classifier::new) takes it.
    pub context_path: Option<String>,
}

/// The body of `PUT _ingest/pipeline/<name>`.
pub fn pipeline(options: &Options) -> Json {
    let access = "ctx._quarry?.kind == 'access'";
    let audit = "ctx._quarry?.kind == 'audit'";
    let mut processors = vec![
        script(
            "quarry-route",
            "Which kind of document this is: an access-log line, an integration audit document, or already Quarry's shape",
            None,
            &[TEXT],
            ROUTE,
            json!({
                "dataset": ecs::DATASET,
                "integration_dataset": INTEGRATION_DATASET,
            }),
        ),
        json!({"grok": {
            "tag": "quarry-access-grok",
            "description": "Confluence's Tomcat access-log line: default valve pattern, or with a leading X-Forwarded-For",
            "if": access,
            "field": "message",
            "patterns": [ACCESS_GROK],
            "pattern_definitions": {
                "QUARRY_TIME": r"[^\]]*",
                "QUARRY_TOKEN": "[^ ]*",
                "QUARRY_METHOD": METHODS.join("|"),
                "QUARRY_STATUS": "[0-9]+",
                "QUARRY_REST": ".*",
            },
        }}),
        json!({"date": {
            "tag": "quarry-access-date",
            "description": "%t, in UTC",
            "if": access,
            "field": "_quarry.time",
            "target_field": "@timestamp",
            "formats": [CLF_DATE_FORMAT],
            "locale": "en",
            "timezone": "UTC",
        }}),
        json!({"convert": {
            "tag": "quarry-access-client",
            "description": "%h is source.ip when it is an address (a host name goes to source.domain)",
            "if": access,
            "field": "_quarry.client",
            "target_field": "source.ip",
            "type": "ip",
            "ignore_missing": true,
            "ignore_failure": true,
        }}),
        script(
            "quarry-access",
            "The request's ECS fields",
            Some(access),
            &[TEXT, DASH, CHILD, PUT, DIGITS, NUMBER, ONE],
            ACCESS,
            json!({
                "dataset": ecs::DATASET,
                "preserve_tag": PRESERVE_ORIGINAL_TAG,
            }),
        ),
        script(
            "quarry-classify",
            &format!(
                "URL -> event.action by Quarry's classifier table ({} rules, first match wins)",
                RULES.len()
            ),
            Some(access),
            &[
                CHILD,
                PUT,
                DIGITS,
                ASCII_LOWER,
                ASCII_EQ,
                HEX,
                ASCII_KEY,
                PARAM,
                FIRST_PARAM,
                STRIP_SEGMENT_PREFIX,
                SEGMENTS,
                MATCH_PATTERN,
            ],
            CLASSIFY,
            classifier_params(options.context_path.as_deref()),
        ),
        json!({"drop": {
            "tag": "quarry-noise",
            "description": "Static resources, heartbeats and polling: never content (the normalizer does not emit them either)",
            "if": "ctx._quarry?.drop == true",
        }}),
    ];
    for field in DECODED {
        processors.push(json!({"urldecode": {
            "tag": format!("quarry-decode-{}", field.replace('_', "-")),
            "field": format!("_quarry.decode.{field}"),
            "ignore_missing": true,
            "ignore_failure": true,
        }}));
    }
    processors.push(script(
        "quarry-captures",
        "What the request names (space, content, searched text), decoded",
        Some(access),
        &[
            CHILD,
            PUT,
            DIGITS,
            ASCII_LOWER,
            ALNUM,
            WHITESPACE,
            TRIM,
            CQL_TEXT,
        ],
        CAPTURES,
        json!({"cql_fields": CQL_FIELDS}),
    ));
    processors.push(script(
        "quarry-audit",
        "An atlassian_confluence.audit document in Quarry's shape",
        Some(audit),
        &[
            TEXT,
            CHILD,
            GET_PATH,
            ONE,
            ASCII_LOWER,
            ALNUM,
            DC_ACTION,
            CLOUD_ACTION,
        ],
        AUDIT,
        audit_params(),
    ));
    processors.push(json!({"remove": {
        "tag": "quarry-cleanup",
        "field": "_quarry",
        "ignore_missing": true,
    }}));
    processors.push(json!({"reroute": {
        "tag": "quarry-reroute",
        "description": "Into logs-atlassian.confluence-<namespace>: the integration's data stream maps event.dataset as a constant",
        "if": reroute_condition(),
        "dataset": ecs::DATASET,
    }}));
    json!({
        "description": format!(
            "Quarry: Confluence access-log lines and {INTEGRATION_DATASET} documents into Quarry's \
             ECS shape (event.dataset: {}). Generated by `quarry export pipeline`; regenerate \
             rather than edit.",
            ecs::DATASET
        ),
        "_meta": {
            "managed_by": "quarry",
            "minimum_elasticsearch": MINIMUM_ELASTICSEARCH,
        },
        "processors": processors,
        "on_failure": [
            {"remove": {"field": "_quarry", "ignore_missing": true}},
            {"set": {"field": "event.kind", "value": "pipeline_error"}},
            {"append": {"field": "error.message", "value": "{{{ _ingest.on_failure_message }}}"}},
        ],
    })
}

/// The condition of the final `reroute`: a `logs-*-*` data stream other than Quarry's.
pub fn reroute_condition() -> String {
    format!(
        "ctx._index instanceof String && ctx._index.startsWith('logs-') && !ctx._index.startsWith('logs-{}-')",
        ecs::DATASET
    )
}

/// The values the classifier script percent-decodes with `urldecode` (under `_quarry.decode`).
const DECODED: &[&str] = &["space_key", "content_id", "content_title", "cql", "search"];

/// The CQL fields whose quoted values are the searched words ([`crate::classify::cql_text`]).
const CQL_FIELDS: &[&str] = &["text", "sitesearch", "title"];

/// The classifier table as the Painless interpreter reads it.
fn classifier_params(context_path: Option<&str>) -> Json {
    // As `Classifier::new` normalizes it.
    let context_path = context_path
        .map(|p| format!("/{}", p.trim_matches('/')))
        .filter(|p| p.len() > 1);
    let rules: Vec<Json> = RULES
        .iter()
        .map(|r| {
            json!({
                "action": r.action.as_str(),
                "method": match r.methods {
                    Methods::Any => Json::Null,
                    Methods::Get => json!("GET"),
                    Methods::Post => json!("POST"),
                },
                "param": r.requires_param,
                "path": r.path.trim_start_matches('/').split('/').collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "context_path": context_path,
        // Cloud serves Confluence under `/wiki`; the classifier removes it after the context path.
        "cloud_prefix": "/wiki",
        "noise_prefixes": NOISE_PREFIXES,
        "noise_extensions": NOISE_EXTENSIONS,
        "noise_action": Action::Noise.as_str(),
        "other_action": Action::Other.as_str(),
        "rules": rules,
        // The query parameters `Classifier::classify` reads, in the order it tries them.
        "space_params": ["spaceKey", "key"],
        "id_params": ["pageId"],
        "title_params": ["title"],
        "title_action": Action::PageViewed.as_str(),
        "search_action": Action::SearchPerformed.as_str(),
        "cql_param": "cql",
        "search_params": ["queryString", "query", "text"],
    })
}

fn audit_params() -> Json {
    let dc: Map<String, Json> = dc_audit::CONTENT_ACTIONS
        .iter()
        .map(|(k, a)| (k.to_string(), json!(a)))
        .collect();
    let cloud: Map<String, Json> = cloud_audit::CONTENT_SUMMARIES
        .iter()
        .map(|(s, a)| (s.to_string(), json!(a)))
        .collect();
    json!({
        "dataset": ecs::DATASET,
        "search_action": Action::SearchPerformed.as_str(),
        "query_attribute": dc_audit::QUERY_ATTRIBUTE,
        "dc_actions": dc,
        // What `dc_audit::action_for_key` strips before turning a key into a descriptive action.
        "dc_prefixes": ["audit.logging.summary.", "atlassian.audit.event.action."],
        "cloud_actions": cloud,
    })
}

/// A Painless `script` processor: helper functions, the marker, then the statements.
fn script(
    tag: &str,
    description: &str,
    condition: Option<&str>,
    helpers: &[&str],
    body: &str,
    params: Json,
) -> Json {
    let mut source = String::new();
    for helper in helpers {
        source.push_str(helper.trim());
        source.push_str("\n\n");
    }
    source.push_str(SCRIPT_BODY_MARKER);
    source.push('\n');
    source.push_str(body.trim());
    source.push('\n');
    let mut p = Map::new();
    p.insert("tag".into(), json!(tag));
    p.insert("description".into(), json!(description));
    if let Some(c) = condition {
        p.insert("if".into(), json!(c));
    }
    p.insert("lang".into(), json!("painless"));
    p.insert("source".into(), json!(source));
    p.insert("params".into(), params);
    json!({ "script": p })
}

// The Painless sources. They are written in the part of Painless that is also Java (explicit
// types and casts, `equals` for strings, no `def`, no `?.`, no regexes, no generics), so the
// tests can compile and run them with `javac` as well as read them; functions never touch
// `ctx` or `params` (Painless functions cannot).

const TEXT: &str = r#"
// A non-empty string, or null.
String text(Object v) {
  if (v instanceof String && !((String) v).isEmpty()) {
    return (String) v;
  }
  return null;
}
"#;

const DASH: &str = r#"
// A logged value, or null for `-` and the empty string.
String dash(Object v) {
  String s = text(v);
  if (s == null || s.equals("-")) {
    return null;
  }
  return s;
}
"#;

const CHILD: &str = r#"
// The object at `key` of `parent`, created when absent.
Map child(Map parent, String key) {
  Object o = parent.get(key);
  if (o instanceof Map) {
    return (Map) o;
  }
  Map m = new HashMap();
  parent.put(key, m);
  return m;
}
"#;

const PUT: &str = r#"
// Sets the dotted `path` to `value` unless it is null, creating parent objects.
void put(Map root, String path, Object value) {
  if (value == null) {
    return;
  }
  Map node = root;
  int start = 0;
  int dot = path.indexOf(".");
  while (dot >= 0) {
    node = child(node, path.substring(start, dot));
    start = dot + 1;
    dot = path.indexOf(".", start);
  }
  node.put(path.substring(start), value);
}
"#;

const GET_PATH: &str = r#"
// The value at the dotted `path`, or null.
Object getPath(Map root, String path) {
  Object node = root;
  int start = 0;
  int n = path.length();
  while (start <= n) {
    if (!(node instanceof Map)) {
      return null;
    }
    int dot = path.indexOf(".", start);
    if (dot < 0) {
      dot = n;
    }
    node = ((Map) node).get(path.substring(start, dot));
    start = dot + 1;
  }
  return node;
}
"#;

const DIGITS: &str = r#"
// Whether every character is an ASCII digit (true for the empty string).
boolean digits(String s) {
  for (int i = 0; i < s.length(); i++) {
    int c = s.charAt(i);
    if (c < 48 || c > 57) {
      return false;
    }
  }
  return true;
}
"#;

const NUMBER: &str = r#"
// A non-negative integer as Rust's `u64` parses it (an optional `+`, then digits), or null.
Object number(Object v) {
  String s = text(v);
  if (s == null) {
    return null;
  }
  String d = s.startsWith("+") ? s.substring(1) : s;
  if (d.isEmpty() || !digits(d)) {
    return null;
  }
  Object value = null;
  try {
    value = Long.valueOf(Long.parseLong(d));
  } catch (NumberFormatException e) {
    value = null;
  }
  return value;
}
"#;

const ONE: &str = r#"
// A list of one string.
List one(String s) {
  List l = new ArrayList();
  l.add(s);
  return l;
}
"#;

const ASCII_LOWER: &str = r#"
// `s` with ASCII letters lowercased (Rust's `to_ascii_lowercase`; `toLowerCase` also changes
// other letters, and follows the JVM's locale).
String asciiLower(String s) {
  StringBuilder out = new StringBuilder();
  for (int i = 0; i < s.length(); i++) {
    int c = s.charAt(i);
    if (c >= 65 && c <= 90) {
      out.append(Character.toString((char) (c + 32)));
    } else {
      out.append(s.substring(i, i + 1));
    }
  }
  return out.toString();
}
"#;

const ASCII_EQ: &str = r#"
// Whether `a` and `b` are equal ignoring ASCII case (Rust's `eq_ignore_ascii_case`).
boolean asciiEq(String a, String b) {
  return a.length() == b.length() && asciiLower(a).equals(asciiLower(b));
}
"#;

const ALNUM: &str = r#"
// Whether the character `c` is an ASCII letter or digit.
boolean alnum(int c) {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
"#;

const HEX: &str = r#"
// The value of the hexadecimal digit `c`, or -1.
int hex(int c) {
  if (c >= 48 && c <= 57) {
    return c - 48;
  }
  if (c >= 65 && c <= 70) {
    return c - 55;
  }
  if (c >= 97 && c <= 102) {
    return c - 87;
  }
  return -1;
}
"#;

const ASCII_KEY: &str = r#"
// A query parameter's name decoded as application/x-www-form-urlencoded (`+` is a space, `%XX` a
// byte, a `%` without two hex digits itself), or null when it is not ASCII: no name looked up is.
String asciiKey(String raw) {
  StringBuilder out = new StringBuilder();
  int n = raw.length();
  int i = 0;
  while (i < n) {
    int c = raw.charAt(i);
    int b = -1;
    if (c == 37 && i + 2 < n) {
      int hi = raw.charAt(i + 1);
      int lo = raw.charAt(i + 2);
      if (hex(hi) >= 0 && hex(lo) >= 0) {
        b = hex(hi) * 16 + hex(lo);
      }
    }
    if (b >= 0) {
      c = b;
      i += 3;
    } else {
      if (c == 43) {
        c = 32;
      }
      i += 1;
    }
    if (c >= 128) {
      return null;
    }
    out.append(Character.toString((char) c));
  }
  return out.toString();
}
"#;

const PARAM: &str = r#"
// The first value of the query parameter `name` (ASCII case ignored), still encoded, or null.
String param(String query, String name) {
  if (query == null) {
    return null;
  }
  int n = query.length();
  int start = 0;
  while (start < n) {
    int amp = query.indexOf("&", start);
    if (amp < 0) {
      amp = n;
    }
    if (amp > start) {
      String pair = query.substring(start, amp);
      int eq = pair.indexOf("=");
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String decoded = asciiKey(key);
      if (decoded != null && asciiEq(decoded, name)) {
        return eq < 0 ? "" : pair.substring(eq + 1);
      }
    }
    start = amp + 1;
  }
  return null;
}
"#;

const FIRST_PARAM: &str = r#"
// The value of the first of `names` the query has, still encoded, or null.
String firstParam(String query, List names) {
  for (Object name : names) {
    String value = param(query, (String) name);
    if (value != null) {
      return value;
    }
  }
  return null;
}
"#;

const STRIP_SEGMENT_PREFIX: &str = r#"
// `path` without the leading `prefix` when the prefix ends at a segment boundary, or null.
String stripSegmentPrefix(String path, String prefix) {
  if (!path.startsWith(prefix)) {
    return null;
  }
  String rest = path.substring(prefix.length());
  if (rest.isEmpty()) {
    return "/";
  }
  if (rest.startsWith("/")) {
    return rest;
  }
  return null;
}
"#;

const SEGMENTS: &str = r#"
// The non-empty `/`-separated segments of `path`.
List segments(String path) {
  List out = new ArrayList();
  int n = path.length();
  int start = 0;
  while (start <= n) {
    int slash = path.indexOf("/", start);
    if (slash < 0) {
      slash = n;
    }
    if (slash > start) {
      out.add(path.substring(start, slash));
    }
    start = slash + 1;
  }
  return out;
}
"#;

const MATCH_PATTERN: &str = r#"
// Matches path segments against a rule's pattern: a literal matches itself (ASCII case ignored),
// {space}, {title} and {*} any one segment, {id} a numeric one, and a final ** whatever follows.
// The captures, or null.
Map matchPattern(List pattern, List segs) {
  Map caps = new HashMap();
  int i = 0;
  for (Object p : pattern) {
    String part = (String) p;
    if (part.equals("**")) {
      return caps;
    }
    if (i >= segs.size()) {
      return null;
    }
    String seg = (String) segs.get(i);
    i += 1;
    if (part.equals("{space}")) {
      caps.put("space", seg);
    } else if (part.equals("{title}")) {
      caps.put("title", seg);
    } else if (part.equals("{id}")) {
      if (!digits(seg)) {
        return null;
      }
      caps.put("id", seg);
    } else if (!part.equals("{*}") && !asciiEq(part, seg)) {
      return null;
    }
  }
  if (i == segs.size()) {
    return caps;
  }
  return null;
}
"#;

const WHITESPACE: &str = r#"
// Whether `c` is Unicode White_Space (Rust's `char::is_whitespace`; Java's `trim` differs).
boolean whitespace(int c) {
  return (c >= 9 && c <= 13) || c == 32 || c == 133 || c == 160 || c == 5760
    || (c >= 8192 && c <= 8202) || c == 8232 || c == 8233 || c == 8239 || c == 8287
    || c == 12288;
}
"#;

const TRIM: &str = r#"
// `s` without leading white space.
String trimStart(String s) {
  int i = 0;
  while (i < s.length()) {
    int c = s.charAt(i);
    if (!whitespace(c)) {
      break;
    }
    i += 1;
  }
  return s.substring(i);
}

// `s` without leading and trailing white space.
String trim(String s) {
  String t = trimStart(s);
  int end = t.length();
  while (end > 0) {
    int c = t.charAt(end - 1);
    if (!whitespace(c)) {
      break;
    }
    end -= 1;
  }
  return t.substring(0, end);
}
"#;

const CQL_TEXT: &str = r#"
// The words a CQL query searches for: the quoted values of `text ~`, `siteSearch ~` and
// `title ~` clauses, joined by spaces; the whole CQL when it has none (Quarry's `cql_text`).
String cqlText(String cql, List fields) {
  List terms = new ArrayList();
  String lower = asciiLower(cql);
  for (Object f : fields) {
    String field = (String) f;
    int found = lower.indexOf(field);
    while (found >= 0) {
      int start = found;
      int from = start + field.length();
      found = lower.indexOf(field, from);
      // A field name, not the tail of another word.
      if (start > 0) {
        int before = lower.charAt(start - 1);
        if (alnum(before) || before == 46) {
          continue;
        }
      }
      String rest = trimStart(cql.substring(from));
      if (!rest.startsWith("~")) {
        continue;
      }
      rest = trimStart(rest.substring(1));
      if (!rest.startsWith("\"") && !rest.startsWith("'")) {
        continue;
      }
      String quote = rest.substring(0, 1);
      rest = rest.substring(1);
      int end = rest.indexOf(quote);
      if (end >= 0) {
        terms.add(rest.substring(0, end));
      }
    }
  }
  if (terms.isEmpty()) {
    return trim(cql);
  }
  return String.join(" ", terms);
}
"#;

const DC_ACTION: &str = r#"
// Quarry's action for a Data Center audit i18n key: a content action, or a descriptive one
// (`audit.logging.summary.space.permission.added` -> `space_permission_added`).
String dcAction(String key, Map known, List prefixes) {
  Object action = known.get(key);
  if (action != null) {
    return (String) action;
  }
  String tail = key;
  for (Object p : prefixes) {
    String prefix = (String) p;
    if (key.startsWith(prefix)) {
      tail = key.substring(prefix.length());
      break;
    }
  }
  return tail.replace(".", "_").replace("-", "_");
}
"#;

const CLOUD_ACTION: &str = r#"
// Quarry's action for a Cloud audit summary: a content action, or a descriptive one
// (`Space logo uploaded` -> `space_logo_uploaded`).
String cloudAction(String summary, Map known) {
  String lower = asciiLower(summary);
  Object action = known.get(lower);
  if (action != null) {
    return (String) action;
  }
  StringBuilder out = new StringBuilder();
  StringBuilder word = new StringBuilder();
  for (int i = 0; i <= lower.length(); i++) {
    int c = 32;
    if (i < lower.length()) {
      c = lower.charAt(i);
    }
    if (alnum(c)) {
      word.append(lower.substring(i, i + 1));
    } else if (word.length() > 0) {
      if (out.length() > 0) {
        out.append("_");
      }
      out.append(word.toString());
      word.setLength(0);
    }
  }
  return out.toString();
}
"#;

const ROUTE: &str = r#"
Object ev = ctx.get("event");
Object stream = ctx.get("data_stream");
String dataset = ev instanceof Map ? text(((Map) ev).get("dataset")) : null;
String streamDataset = stream instanceof Map ? text(((Map) stream).get("dataset")) : null;
Map q = new HashMap();
ctx.put("_quarry", q);
Object integration = params.get("integration_dataset");
if (integration.equals(dataset) || integration.equals(streamDataset)) {
  q.put("kind", "audit");
  return;
}
if (params.get("dataset").equals(dataset) && ((Map) ev).get("action") != null) {
  q.put("kind", "done");
  return;
}
if (ctx.get("message") instanceof String) {
  q.put("kind", "access");
  return;
}
throw new IllegalArgumentException("neither a Confluence access-log line in `message` nor an atlassian_confluence.audit document");
"#;

const ACCESS: &str = r#"
Map q = (Map) ctx.get("_quarry");
Object line = ctx.remove("message");
Map event = child(ctx, "event");
Object tags = ctx.get("tags");
if (tags instanceof List && ((List) tags).contains(params.get("preserve_tag")) && event.get("original") == null) {
  event.put("original", line);
}
event.put("dataset", params.get("dataset"));
event.put("category", one("web"));
event.put("type", one("access"));
String statusText = (String) q.get("status");
if (statusText.length() > 5 || Integer.parseInt(statusText) > 65535) {
  throw new IllegalArgumentException("status `" + statusText + "` is not a number");
}
int status = Integer.parseInt(statusText);
event.put("outcome", status < 400 ? "success" : "failure");
String duration = text(q.get("duration"));
if (duration != null && duration.endsWith("ms")) {
  Object ms = number(duration.substring(0, duration.length() - 2));
  // Nanoseconds must fit a long: a forged duration is left out, never wrapped around.
  if (ms != null && ((Long) ms).longValue() >= 0 && ((Long) ms).longValue() <= 9223372036854L) {
    event.put("duration", Long.valueOf(((Long) ms).longValue() * 1000000L));
  }
}
put(ctx, "user.name", dash(q.get("user")));
Object source = ctx.get("source");
if (!(source instanceof Map) || ((Map) source).get("ip") == null) {
  put(ctx, "source.domain", dash(q.get("client")));
}
put(ctx, "network.forwarded_ip", dash(q.get("forwarded")));
put(ctx, "http.request.method", q.get("method"));
String protocol = text(q.get("protocol"));
if (protocol != null && protocol.startsWith("HTTP/")) {
  put(ctx, "http.version", protocol.substring(5));
}
put(ctx, "http.response.status_code", Integer.valueOf(status));
put(ctx, "http.response.bytes", number(q.get("bytes")));
put(ctx, "http.request.referrer", dash(q.get("referrer")));
String target = q.get("target") instanceof String ? (String) q.get("target") : "";
// A proxy logs absolute URLs: the path is what follows the host.
String local = target;
int scheme = target.indexOf("://");
if (scheme >= 0) {
  String rest = target.substring(scheme + 3);
  int slash = rest.indexOf("/");
  local = slash >= 0 ? rest.substring(slash) : "/";
}
int mark = local.indexOf("?");
put(ctx, "url.original", target);
put(ctx, "url.path", mark >= 0 ? local.substring(0, mark) : local);
put(ctx, "url.query", mark >= 0 ? local.substring(mark + 1) : null);
put(ctx, "user_agent.original", dash(q.get("user_agent")));
"#;

const CLASSIFY: &str = r#"
Map q = (Map) ctx.get("_quarry");
Map event = child(ctx, "event");
Map url = (Map) ctx.get("url");
String path = (String) url.get("path");
String query = url.get("query") instanceof String ? (String) url.get("query") : null;
String method = (String) ((Map) ((Map) ctx.get("http")).get("request")).get("method");
Object contextPath = params.get("context_path");
if (contextPath instanceof String) {
  String rest = stripSegmentPrefix(path, (String) contextPath);
  if (rest != null) {
    path = rest;
  }
}
String cloudRest = stripSegmentPrefix(path, (String) params.get("cloud_prefix"));
if (cloudRest != null) {
  path = cloudRest;
}
List noisePrefixes = (List) params.get("noise_prefixes");
for (Object prefix : noisePrefixes) {
  if (path.startsWith((String) prefix)) {
    event.put("action", params.get("noise_action"));
    q.put("drop", Boolean.TRUE);
    return;
  }
}
List segs = segments(path);
List rules = (List) params.get("rules");
for (Object r : rules) {
  Map rule = (Map) r;
  Object ruleMethod = rule.get("method");
  if (ruleMethod != null && !asciiEq(method, (String) ruleMethod)) {
    continue;
  }
  Object required = rule.get("param");
  if (required != null && param(query, (String) required) == null) {
    continue;
  }
  Map caps = matchPattern((List) rule.get("path"), segs);
  if (caps == null) {
    continue;
  }
  String action = (String) rule.get("action");
  event.put("action", action);
  Map decode = child(q, "decode");
  Object space = caps.get("space");
  if (space == null) {
    space = firstParam(query, (List) params.get("space_params"));
  }
  put(decode, "space_key", space);
  Object id = caps.get("id");
  if (id == null) {
    id = firstParam(query, (List) params.get("id_params"));
  }
  put(decode, "content_id", id);
  Object title = caps.get("title");
  if (title == null && action.equals(params.get("title_action"))) {
    title = firstParam(query, (List) params.get("title_params"));
  }
  put(decode, "content_title", title);
  if (action.equals(params.get("search_action"))) {
    String cql = param(query, (String) params.get("cql_param"));
    if (cql != null) {
      put(decode, "cql", cql);
    } else {
      put(decode, "search", firstParam(query, (List) params.get("search_params")));
    }
  }
  return;
}
// A static file's extension marks noise only when no rule names the request.
String last = asciiLower(path.substring(path.lastIndexOf("/") + 1));
List noiseExtensions = (List) params.get("noise_extensions");
for (Object ext : noiseExtensions) {
  if (last.endsWith((String) ext)) {
    event.put("action", params.get("noise_action"));
    q.put("drop", Boolean.TRUE);
    return;
  }
}
event.put("action", params.get("other_action"));
"#;

const CAPTURES: &str = r#"
Map q = (Map) ctx.get("_quarry");
Object d = q.get("decode");
if (!(d instanceof Map)) {
  return;
}
Map decode = (Map) d;
put(ctx, "confluence.space.key", decode.get("space_key"));
Object id = decode.get("content_id");
if (id instanceof String && digits((String) id)) {
  put(ctx, "confluence.content.id", id);
}
put(ctx, "confluence.content.title", decode.get("content_title"));
String searched = null;
if (decode.containsKey("cql")) {
  searched = cqlText((String) decode.get("cql"), (List) params.get("cql_fields"));
} else if (decode.containsKey("search")) {
  searched = (String) decode.get("search");
}
if (searched != null && !searched.isEmpty()) {
  ctx.put("message", searched);
}
"#;

const AUDIT: &str = r#"
Map event = child(ctx, "event");
String key = text(event.get("action"));
if (key == null) {
  throw new IllegalArgumentException("no `event.action`");
}
String action = null;
// Data Center keys are dotted i18n keys; Cloud writes English summaries.
if (key.indexOf(".") >= 0 && key.indexOf(" ") < 0) {
  action = dcAction(key, (Map) params.get("dc_actions"), (List) params.get("dc_prefixes"));
} else {
  action = cloudAction(key, (Map) params.get("cloud_actions"));
}
boolean search = action.equals(params.get("search_action"));
event.put("action", action);
event.put("category", one(search ? "web" : "configuration"));
event.put("type", one(search ? "access" : "change"));
event.put("dataset", params.get("dataset"));
Object u = ctx.get("user");
if (u instanceof Map && text(((Map) u).get("name")) == null) {
  Map user = (Map) u;
  String fullName = text(user.get("full_name"));
  if (fullName != null) {
    user.put("name", fullName);
  } else {
    user.remove("name");
  }
}
String message = null;
if (search) {
  Object attributes = getPath(ctx, "confluence.audit.extra_attributes");
  if (attributes instanceof List) {
    for (Object a : (List) attributes) {
      if (a instanceof Map && params.get("query_attribute").equals(((Map) a).get("nameI18nKey"))) {
        Object value = ((Map) a).get("value");
        message = value instanceof String ? (String) value : null;
        break;
      }
    }
  }
} else {
  message = text(getPath(ctx, "confluence.audit.type.action"));
}
if (message == null) {
  ctx.remove("message");
} else {
  ctx.put("message", message);
}
"#;
