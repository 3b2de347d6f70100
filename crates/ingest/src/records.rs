//! Small helpers the JSON source parsers share: a line holding one record or a page of them,
//! and non-empty string fields.

use serde_json::{Map, Value as Json};

/// The records of a parsed line: the objects under `page_key` when the line is an API page
/// (`{"entities":[...]}`, `{"results":[...]}`), else the line itself. `None` marks a non-object.
pub(crate) fn records<'a>(json: &'a Json, page_key: &str) -> Vec<Option<&'a Map<String, Json>>> {
    match json.get(page_key).and_then(Json::as_array) {
        Some(items) => items.iter().map(Json::as_object).collect(),
        None => vec![json.as_object()],
    }
}

/// A string field, if present and not empty.
pub(crate) fn text<'a>(object: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    object
        .get(key)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}
