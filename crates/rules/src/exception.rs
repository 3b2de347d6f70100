//! Exception items, in the shape of Kibana's exception list items: a named set of entries that
//! all must match. An event an item matches is dropped before the rule sees it, as Elastic
//! adds exceptions to a rule's query as a filter (so a sequence is never built from it).
//!
//! ```toml
//! [[exceptions]]
//! name = "Nightly space backup"
//! description = "svc-backup exports every space at 02:00"
//! [[exceptions.entries]]
//! field = "user.name"
//! type = "match"          # match | match_any | wildcard | exists
//! operator = "included"   # included (is) | excluded (is not)
//! value = "svc-backup"    # a list for match_any
//! ```
//!
//! Matching follows Kibana's on keyword fields: `match` and `match_any` compare exactly (case
//! matters), `wildcard` takes `*` and `?`, `exists` tests presence, and an `excluded` entry
//! ("is not") matches events where the field is absent too.

use serde::Deserialize;

use crate::kql::{eql_field, quote};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExceptionItem {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub entries: Vec<RawEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntry {
    pub field: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default = "included")]
    pub operator: String,
    pub value: Option<EntryValue>,
}

fn included() -> String {
    "included".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum EntryValue {
    One(String),
    Many(Vec<String>),
}

/// A validated exception item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionItem {
    pub name: String,
    pub description: String,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub field: String,
    pub test: EntryTest,
    /// `operator = "excluded"`: the entry matches when the test does not.
    pub excluded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryTest {
    Match(String),
    MatchAny(Vec<String>),
    Wildcard(String),
    Exists,
}

impl ExceptionItem {
    /// Validates a raw item; the error says what is wrong with which entry.
    pub fn from_raw(raw: RawExceptionItem) -> Result<ExceptionItem, String> {
        if raw.entries.is_empty() {
            return Err(format!("exception `{}` has no entries", raw.name));
        }
        let mut entries = Vec::new();
        for (i, e) in raw.entries.into_iter().enumerate() {
            let at = || format!("exception `{}`, entry {}", raw.name, i + 1);
            let excluded = match e.operator.as_str() {
                "included" => false,
                "excluded" => true,
                other => {
                    return Err(format!(
                        "{}: operator `{other}` is not `included` or `excluded`",
                        at()
                    ));
                }
            };
            let test = match (e.kind.as_str(), e.value) {
                ("match", Some(EntryValue::One(v))) => EntryTest::Match(v),
                ("match_any", Some(EntryValue::Many(v))) if !v.is_empty() => EntryTest::MatchAny(v),
                ("wildcard", Some(EntryValue::One(v))) => EntryTest::Wildcard(v),
                ("exists", None) => EntryTest::Exists,
                ("match" | "wildcard", _) => {
                    return Err(format!("{}: `{}` takes one string `value`", at(), e.kind));
                }
                ("match_any", _) => {
                    return Err(format!(
                        "{}: `match_any` takes a non-empty list `value`",
                        at()
                    ));
                }
                ("exists", Some(_)) => {
                    return Err(format!("{}: `exists` takes no `value`", at()));
                }
                (other, _) => {
                    return Err(format!(
                        "{}: type `{other}` is not one of match, match_any, wildcard, exists (list entries need Kibana's value lists)",
                        at()
                    ));
                }
            };
            entries.push(Entry {
                field: e.field,
                test,
                excluded,
            });
        }
        Ok(ExceptionItem {
            name: raw.name,
            description: raw.description,
            entries,
        })
    }

    /// An item with one `match` (or, with `*` or `?` in the value, `wildcard`) entry.
    pub fn single(name: String, field: &str, value: &str) -> ExceptionItem {
        let test = if value.contains(['*', '?']) {
            EntryTest::Wildcard(value.to_string())
        } else {
            EntryTest::Match(value.to_string())
        };
        ExceptionItem {
            name,
            description: String::new(),
            entries: vec![Entry {
                field: field.to_string(),
                test,
                excluded: false,
            }],
        }
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.field.as_str())
    }

    /// The EQL condition true for exactly the events this item drops.
    pub fn to_eql(&self) -> String {
        self.entries
            .iter()
            .map(|e| {
                let f = eql_field(&e.field);
                let test = match &e.test {
                    EntryTest::Match(v) => format!("{f} == {}", quote(v)),
                    EntryTest::MatchAny(vs) => format!(
                        "{f} in ({})",
                        vs.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", ")
                    ),
                    EntryTest::Wildcard(v) => format!("{f} like {}", quote(v)),
                    EntryTest::Exists => format!("{f} != null"),
                };
                match (e.excluded, &e.test) {
                    (false, _) => format!("({test})"),
                    (true, EntryTest::Exists) => format!("{f} == null"),
                    // "is not": true where the field is absent, as Kibana's `not field: v`.
                    (true, _) => format!("not ({f} != null and {test})"),
                }
            })
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(toml_text: &str) -> Result<ExceptionItem, String> {
        #[derive(Deserialize)]
        struct W {
            exceptions: Vec<RawExceptionItem>,
        }
        let w: W = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        ExceptionItem::from_raw(w.exceptions.into_iter().next().unwrap())
    }

    #[test]
    fn entries_translate_to_eql() {
        let i = item(
            r#"
            [[exceptions]]
            name = "backup"
            [[exceptions.entries]]
            field = "user.name"
            type = "match"
            value = "svc-backup"
            [[exceptions.entries]]
            field = "user_agent.original"
            type = "wildcard"
            value = "confluence-backup/*"
            [[exceptions.entries]]
            field = "source.ip"
            type = "match_any"
            operator = "excluded"
            value = ["10.0.0.1", "10.0.0.2"]
            [[exceptions.entries]]
            field = "message"
            type = "exists"
            operator = "excluded"
            "#,
        )
        .unwrap();
        assert_eq!(
            i.to_eql(),
            r#"(user.name == "svc-backup") and (user_agent.original like "confluence-backup/*") and not (source.ip != null and source.ip in ("10.0.0.1", "10.0.0.2")) and message == null"#
        );
        quarry_eql::parse(&format!("any where {}", i.to_eql())).unwrap();
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        let cases = [
            (
                r#"type = "match"
                value = ["a"]"#,
                "takes one string",
            ),
            (
                r#"type = "match_any"
                value = "a""#,
                "non-empty list",
            ),
            (
                r#"type = "exists"
                value = "a""#,
                "takes no",
            ),
            (
                r#"type = "list"
                value = "a""#,
                "is not one of",
            ),
            (
                r#"type = "match"
                operator = "is"
                value = "a""#,
                "operator `is`",
            ),
        ];
        for (entry, message) in cases {
            let text = format!(
                "[[exceptions]]\nname = \"x\"\n[[exceptions.entries]]\nfield = \"user.name\"\n{entry}\n"
            );
            let e = item(&text).unwrap_err();
            assert!(e.contains(message), "{entry}: {e}");
        }
    }
}
