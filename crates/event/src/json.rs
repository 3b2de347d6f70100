//! Events from JSON documents: only the fields a query reads are kept.
//!
//! ECS documents spell the same field several ways: nested objects
//! (`{"user":{"name":"a"}}`), dotted keys (`{"user.name":"a"}`), and mixtures
//! (`{"http":{"response.bytes":1}}`). A [`Projection`] finds the catalog's fields whichever
//! spelling a document uses, and arrays of objects contribute every element's value, as in
//! Elasticsearch (`{"a":[{"b":1},{"b":2}]}` gives `a.b = [1, 2]`).

use hashbrown::{HashMap, HashSet};

use serde_json::{Map, Value as Json};

use crate::{Event, FieldCatalog, FieldId, Timestamp, TimestampError, Value, ValueRef};

/// Where the catalog's fields live in a JSON object.
#[derive(Debug, Clone)]
pub struct Projection {
    fields: HashMap<String, FieldId>,
    /// Every proper dotted prefix of a wanted field: the objects worth descending into.
    prefixes: HashSet<String>,
    /// Both in one table, for the text decoder's one lookup per key: the field a path names
    /// (if wanted), and whether objects under it are worth descending into.
    paths: HashMap<String, (Option<FieldId>, bool)>,
    len: usize,
}

impl Projection {
    /// How many fields a projected event has (the catalog's size).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn new(catalog: &FieldCatalog) -> Self {
        let mut fields = HashMap::new();
        let mut prefixes = HashSet::new();
        for (id, name) in catalog.iter() {
            fields.insert(name.to_string(), id);
            for (i, _) in name.match_indices('.') {
                prefixes.insert(name[..i].to_string());
            }
        }
        let mut paths: HashMap<String, (Option<FieldId>, bool)> = HashMap::new();
        for (name, id) in &fields {
            paths.entry(name.clone()).or_default().0 = Some(*id);
        }
        for prefix in &prefixes {
            paths.entry(prefix.clone()).or_default().1 = true;
        }
        Projection {
            fields,
            prefixes,
            paths,
            len: catalog.len(),
        }
    }

    /// The value of every catalog field in `object`, indexed by [`FieldId`]; null where absent.
    pub fn project(&self, object: &Map<String, Json>) -> Vec<Value> {
        let mut values = vec![Value::Null; self.len];
        self.walk("", object, &mut values);
        values
    }

    fn walk(&self, prefix: &str, object: &Map<String, Json>, values: &mut [Value]) {
        for (key, value) in object {
            let path;
            let path = if prefix.is_empty() {
                key.as_str()
            } else {
                path = format!("{prefix}.{key}");
                path.as_str()
            };
            if let Some(&id) = self.fields.get(path) {
                let slot = &mut values[id.index()];
                let new = Value::from_json(value);
                *slot = match std::mem::replace(slot, Value::Null) {
                    Value::Null => new,
                    old => Value::array([old, new]),
                };
            }
            if self.prefixes.contains(path) {
                match value {
                    Json::Object(inner) => self.walk(path, inner, values),
                    Json::Array(items) => {
                        for item in items {
                            if let Json::Object(inner) = item {
                                self.walk(path, inner, values);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

impl Projection {
    /// [`Projection::project`] of the JSON object in `text`, decoding only the wanted fields
    /// (and descending only into objects that can hold one); the rest is skipped unparsed.
    pub fn project_text(&self, text: &str) -> Result<Vec<Value>, DocumentError> {
        use serde::de::DeserializeSeed;
        let mut values = vec![Value::Null; self.len];
        let mut path = String::new();
        let mut de = serde_json::Deserializer::from_str(text);
        let seed = ObjectSeed {
            projection: self,
            path: &mut path,
            values: &mut values,
            top: true,
            allow_seq: false,
        };
        seed.deserialize(&mut de).map_err(|e| {
            if e.classify() == serde_json::error::Category::Data {
                DocumentError::NotAnObject(first_type(text))
            } else {
                DocumentError::NotJson(e.to_string())
            }
        })?;
        de.end()
            .map_err(|e| DocumentError::NotJson(e.to_string()))?;
        Ok(values)
    }

    fn store(&self, id: FieldId, value: &Json, values: &mut [Value]) {
        let slot = &mut values[id.index()];
        let new = Value::from_json(value);
        *slot = match std::mem::replace(slot, Value::Null) {
            Value::Null => new,
            old => Value::array([old, new]),
        };
    }
}

/// The JSON type of the start of `text`, for "expected an object" messages.
fn first_type(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// A key, borrowed from the input when it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A wanted field's value decoded straight into a [`Value`] (no JSON tree in between), read
/// as [`Value::from_json`] reads a tree: objects are null, arrays are normalized.
struct ValueSeed;

impl<'de> serde::de::DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Integer(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        // As serde_json's `as_i64` then `as_f64`: beyond i64, a float.
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Integer))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed)? {
            items.push(item);
        }
        Ok(Value::array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Value::Null)
    }
}

/// An object at `path` (or, below the top, an array of objects or anything else, ignored).
struct ObjectSeed<'a> {
    projection: &'a Projection,
    path: &'a mut String,
    values: &'a mut [Value],
    /// The document itself: must be an object.
    top: bool,
    /// An array here holds objects to descend into; inside an array, a nested array is
    /// skipped (as [`Projection::project`] does).
    allow_seq: bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.top {
            d.deserialize_map(self)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> serde::de::Visitor<'de> for ObjectSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let base = self.path.len();
            if base > 0 {
                self.path.push('.');
            }
            self.path.push_str(&key);
            let (wanted, prefix) = self
                .projection
                .paths
                .get(self.path.as_str())
                .copied()
                .unwrap_or((None, false));
            match (wanted, prefix) {
                (None, false) => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                (None, true) => map.next_value_seed(ObjectSeed {
                    projection: self.projection,
                    path: &mut *self.path,
                    values: &mut *self.values,
                    top: false,
                    allow_seq: true,
                })?,
                (Some(id), false) => {
                    let value = map.next_value_seed(ValueSeed)?;
                    let slot = &mut self.values[id.index()];
                    *slot = match std::mem::replace(slot, Value::Null) {
                        Value::Null => value,
                        old => Value::array([old, value]),
                    };
                }
                (Some(id), also_prefix) => {
                    let value: Json = map.next_value()?;
                    self.projection.store(id, &value, self.values);
                    if also_prefix {
                        let path = self.path.clone();
                        match &value {
                            Json::Object(inner) => self.projection.walk(&path, inner, self.values),
                            Json::Array(items) => {
                                for item in items {
                                    if let Json::Object(inner) = item {
                                        self.projection.walk(&path, inner, self.values);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            self.path.truncate(base);
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if !self.allow_seq {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        // Arrays of objects contribute every element's fields.
        while seq
            .next_element_seed(ObjectSeed {
                projection: self.projection,
                path: &mut *self.path,
                values: &mut *self.values,
                top: false,
                allow_seq: false,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Why a JSON document could not become an event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DocumentError {
    #[error("expected a JSON object, found {0}")]
    NotAnObject(&'static str),
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("the timestamp field `{0}` is missing")]
    MissingTimestamp(String),
    #[error("the timestamp field `{field}`: {error}")]
    BadTimestamp {
        field: String,
        error: TimestampError,
    },
}

/// An event built from a JSON object: the projected field values, the timestamp, the input
/// position, and the original document (for output).
#[derive(Debug, Clone)]
pub struct Document {
    /// Decoded when the document is made; for a held copy ([`Event::held`]), decoded again
    /// from the stored source on first read.
    values: std::sync::OnceLock<Box<Packed>>,
    timestamp: Timestamp,
    position: u64,
    source: Source,
}

impl PartialEq for Document {
    fn eq(&self, other: &Document) -> bool {
        self.timestamp == other.timestamp
            && self.position == other.position
            && self.source == other.source
            && self.packed() == other.packed()
    }
}

/// Projected values packed into two allocations: a slot per field the event has, and every
/// string slot's bytes in one buffer.
///
/// Events live long in rule windows (an hour of them, for the bulk-mining rules): a `Vec` of
/// [`Value`]s costs one allocation per string and 32 bytes per catalog field; this costs two
/// allocations and 16 bytes per field present. A rule set reads some thirty fields and an
/// event has a dozen of them, so slots for absent fields would be most of an event's memory:
/// up to 64 fields, a bit mask says which fields have a slot (at the rank of their bit);
/// larger catalogs keep a slot per field.
#[derive(Debug, Clone, PartialEq)]
struct Packed {
    /// Bit `i` set: field `i` has a slot. `None`: every field has one (over 64 fields).
    present: Option<u64>,
    slots: Box<[Slot]>,
    text: Box<str>,
    /// Fields in the catalog the event was projected for.
    len: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    /// `text[start..start + len]`.
    Str {
        start: u32,
        len: u32,
    },
    /// Arrays (rare), kept as they are.
    Array(Box<Value>),
}

impl Packed {
    fn new(values: Vec<Value>) -> Packed {
        let len = values.len();
        let bytes: usize = values
            .iter()
            .map(|v| match v {
                Value::String(s) => s.len(),
                _ => 0,
            })
            .sum();
        let mut present = (len <= 64).then_some(0u64);
        let mut text = String::with_capacity(bytes);
        let slots = values
            .into_iter()
            .enumerate()
            .filter(|(i, v)| match &mut present {
                Some(mask) if !matches!(v, Value::Null) => {
                    *mask |= 1 << i;
                    true
                }
                Some(_) => false,
                None => true,
            })
            .map(|(_, v)| match v {
                Value::Null => Slot::Null,
                Value::Bool(b) => Slot::Bool(b),
                Value::Integer(i) => Slot::Integer(i),
                Value::Float(f) => Slot::Float(f),
                Value::String(s) => match (u32::try_from(text.len()), u32::try_from(s.len())) {
                    (Ok(start), Ok(len)) if text.len() + s.len() <= u32::MAX as usize => {
                        text.push_str(&s);
                        Slot::Str { start, len }
                    }
                    // Beyond 4 GiB of text in one event: keep the value as it is.
                    _ => Slot::Array(Box::new(Value::String(s))),
                },
                a @ Value::Array(_) => Slot::Array(Box::new(a)),
            })
            .collect();
        Packed {
            present,
            slots,
            text: text.into_boxed_str(),
            len,
        }
    }

    fn slot(&self, index: usize) -> Option<&Slot> {
        match self.present {
            None => self.slots.get(index),
            Some(mask) if index < 64 && mask & (1 << index) != 0 => {
                let rank = (mask & ((1u64 << index) - 1)).count_ones() as usize;
                self.slots.get(rank)
            }
            Some(_) => None,
        }
    }

    fn get(&self, index: usize) -> ValueRef<'_> {
        match self.slot(index) {
            None | Some(Slot::Null) => ValueRef::Null,
            Some(Slot::Bool(b)) => ValueRef::Bool(*b),
            Some(Slot::Integer(i)) => ValueRef::Integer(*i),
            Some(Slot::Float(f)) => ValueRef::Float(*f),
            Some(Slot::Str { start, len }) => {
                let start = *start as usize;
                ValueRef::String(&self.text[start..start + *len as usize])
            }
            Some(Slot::Array(v)) => v.as_ref().as_ref(),
        }
    }
}

/// The original document, kept as it came: a parsed tree, or the text of one line (one
/// allocation instead of a tree of them; parsed again only when an alert shows it).
#[derive(Debug, Clone)]
enum Source {
    /// Boxed: a document is held by the hundred thousand in windows, and a tree is the rare
    /// case (most sources are stored).
    Json(Box<Json>),
    Text(Box<str>),
    /// Where the line lives in a file that outlives the event (a spool): no copy is kept.
    Stored {
        read_back: std::sync::Arc<ReadBack>,
        offset: u64,
        len: u32,
    },
}

/// Where stored documents' text is and how their values were projected: what a held copy
/// ([`Event::held`]) needs to decode its values again. One per store, shared by its
/// documents.
#[derive(Debug)]
pub struct ReadBack {
    pub store: std::sync::Arc<dyn SourceStore>,
    pub projection: std::sync::Arc<Projection>,
}

impl PartialEq for Source {
    fn eq(&self, other: &Source) -> bool {
        match (self, other) {
            (Source::Json(a), Source::Json(b)) => a == b,
            (Source::Text(a), Source::Text(b)) => a == b,
            (
                Source::Stored {
                    read_back: a,
                    offset: x,
                    len: m,
                },
                Source::Stored {
                    read_back: b,
                    offset: y,
                    len: n,
                },
            ) => std::sync::Arc::ptr_eq(&a.store, &b.store) && x == y && m == n,
            _ => false,
        }
    }
}

/// Somewhere documents' text can be read back from by byte range (a spool file), so events
/// held in long windows need not carry their text.
pub trait SourceStore: Send + Sync + std::fmt::Debug {
    /// The `len` bytes at `offset`, or `None` when they cannot be read.
    fn read(&self, offset: u64, len: u32) -> Option<String>;
}

impl Document {
    /// Projects `source` and reads its timestamp from `timestamp_field` (which must be in the
    /// projection's catalog).
    pub fn from_json(
        source: Json,
        projection: &Projection,
        catalog: &FieldCatalog,
        timestamp_field: FieldId,
        position: u64,
    ) -> Result<Document, DocumentError> {
        let Json::Object(object) = &source else {
            return Err(DocumentError::NotAnObject(json_type(&source)));
        };
        let values = projection.project(object);
        let name = || catalog.name(timestamp_field).to_string();
        let timestamp = match values[timestamp_field.index()].as_ref() {
            ValueRef::Null => return Err(DocumentError::MissingTimestamp(name())),
            v => Timestamp::from_value(v).map_err(|error| DocumentError::BadTimestamp {
                field: name(),
                error,
            })?,
        };
        Ok(Document {
            values: Box::new(Packed::new(values)).into(),
            timestamp,
            position,
            source: Source::Json(Box::new(source)),
        })
    }

    /// Projects the JSON object in `text` without building a tree of it: only the catalog's
    /// fields are decoded, everything else is skipped, and the text itself is kept as the
    /// document's source.
    pub fn from_text(
        text: &str,
        projection: &Projection,
        catalog: &FieldCatalog,
        timestamp_field: FieldId,
        position: u64,
    ) -> Result<Document, DocumentError> {
        let (values, timestamp) = decode_text(text, projection, catalog, timestamp_field)?;
        Ok(Document {
            values: Box::new(Packed::new(values)).into(),
            timestamp,
            position,
            source: Source::Text(text.into()),
        })
    }

    /// An event from already-projected values (tests, benchmarks, other formats).
    pub fn from_values(values: Vec<Value>, timestamp: Timestamp, position: u64) -> Document {
        Document {
            values: Box::new(Packed::new(values)).into(),
            timestamp,
            position,
            source: Source::Json(Box::new(Json::Null)),
        }
    }

    /// [`Document::from_text`] for a line stored at `offset` in `store`: only the byte range is
    /// kept, and the source is read back when asked for.
    pub fn from_stored_text(
        text: &str,
        read_back: &std::sync::Arc<ReadBack>,
        offset: u64,
        catalog: &FieldCatalog,
        timestamp_field: FieldId,
        position: u64,
    ) -> Result<Document, DocumentError> {
        let (values, timestamp) =
            decode_text(text, &read_back.projection, catalog, timestamp_field)?;
        let source = match u32::try_from(text.len()) {
            Ok(len) => Source::Stored {
                read_back: std::sync::Arc::clone(read_back),
                offset,
                len,
            },
            Err(_) => Source::Text(text.into()),
        };
        Ok(Document {
            values: Box::new(Packed::new(values)).into(),
            timestamp,
            position,
            source,
        })
    }

    /// Gives the event its position in a stream merged from several inputs.
    pub fn set_position(&mut self, position: u64) {
        self.position = position;
    }

    /// The original JSON document (null for events built with [`Document::from_values`]).
    pub fn source(&self) -> std::borrow::Cow<'_, Json> {
        match &self.source {
            Source::Json(j) => std::borrow::Cow::Borrowed(&**j),
            // The text parsed once already when the document was made.
            Source::Text(t) => {
                std::borrow::Cow::Owned(serde_json::from_str(t).unwrap_or(Json::Null))
            }
            Source::Stored {
                read_back,
                offset,
                len,
            } => std::borrow::Cow::Owned(
                read_back
                    .store
                    .read(*offset, *len)
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or(Json::Null),
            ),
        }
    }

    /// Every projected value, indexed by [`FieldId`].
    pub fn values(&self) -> Vec<Value> {
        let values = self.packed();
        (0..values.len).map(|i| values.get(i).to_owned()).collect()
    }

    /// The projected values, decoded again from the stored source by a held copy read for
    /// the first time. A source that cannot be read back any more (its file changed) reads
    /// as every field missing.
    fn packed(&self) -> &Packed {
        self.values.get_or_init(|| {
            let Source::Stored {
                read_back,
                offset,
                len,
            } = &self.source
            else {
                unreachable!("only documents with a stored source are held without values")
            };
            let projection = &read_back.projection;
            let values = read_back
                .store
                .read(*offset, *len)
                .and_then(|text| projection.project_text(&text).ok())
                .unwrap_or_else(|| vec![Value::Null; projection.len()]);
            Box::new(Packed::new(values))
        })
    }
}

/// The projected values of `text` and its timestamp.
fn decode_text(
    text: &str,
    projection: &Projection,
    catalog: &FieldCatalog,
    timestamp_field: FieldId,
) -> Result<(Vec<Value>, Timestamp), DocumentError> {
    let values = projection.project_text(text)?;
    let name = || catalog.name(timestamp_field).to_string();
    let timestamp = match values[timestamp_field.index()].as_ref() {
        ValueRef::Null => return Err(DocumentError::MissingTimestamp(name())),
        v => Timestamp::from_value(v).map_err(|error| DocumentError::BadTimestamp {
            field: name(),
            error,
        })?,
    };
    Ok((values, timestamp))
}

impl Event for Document {
    fn field(&self, id: FieldId) -> ValueRef<'_> {
        self.packed().get(id.index())
    }

    /// A document whose text is stored (in a spool or its input file) is held as its time,
    /// position and place: about a tenth of its decoded form.
    fn held(&self) -> Option<Document> {
        matches!(self.source, Source::Stored { .. }).then(|| Document {
            values: std::sync::OnceLock::new(),
            timestamp: self.timestamp,
            position: self.position,
            source: self.source.clone(),
        })
    }

    fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    fn position(&self) -> u64 {
        self.position
    }
}

impl Timestamp {
    /// A timestamp from a field value: epoch milliseconds (number), or a string
    /// [`Timestamp::parse`] accepts.
    pub fn from_value(value: ValueRef<'_>) -> Result<Timestamp, TimestampError> {
        match value {
            ValueRef::String(s) => Timestamp::parse(s),
            ValueRef::Integer(ms) => {
                Timestamp::from_millis(ms).ok_or_else(|| TimestampError::OutOfRange(ms.to_string()))
            }
            ValueRef::Float(ms) => Timestamp::from_fractional_millis(ms),
            ValueRef::Null => Err(TimestampError::WrongType("null")),
            ValueRef::Bool(_) => Err(TimestampError::WrongType("boolean")),
            ValueRef::Array(_) => Err(TimestampError::WrongType("array")),
        }
    }
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn project(fields: &[&str], doc: Json) -> Vec<Value> {
        let mut catalog = FieldCatalog::new();
        for f in fields {
            catalog.intern(f);
        }
        let Json::Object(o) = doc else { panic!() };
        Projection::new(&catalog).project(&o)
    }

    #[test]
    fn nested_dotted_and_mixed_spellings_all_resolve() {
        let want = &["user.name", "http.response.bytes", "source.ip"];
        let expected = vec![
            Value::String("alice".into()),
            Value::Integer(512),
            Value::String("10.0.0.1".into()),
        ];
        let docs = [
            json!({"user": {"name": "alice"}, "http": {"response": {"bytes": 512}}, "source": {"ip": "10.0.0.1"}}),
            json!({"user.name": "alice", "http.response.bytes": 512, "source.ip": "10.0.0.1"}),
            json!({"user": {"name": "alice"}, "http": {"response.bytes": 512}, "source.ip": "10.0.0.1"}),
            json!({"http.response": {"bytes": 512}, "user": {"name": "alice"}, "source": {"ip": "10.0.0.1"}}),
        ];
        for doc in docs {
            assert_eq!(project(want, doc.clone()), expected, "{doc}");
        }
    }

    #[test]
    fn packed_values_read_back_whatever_the_catalog_size() {
        for len in [1, 2, 63, 64, 65, 130] {
            let values: Vec<Value> = (0..len)
                .map(|i| match i % 5 {
                    0 => Value::String(format!("s{i}")),
                    1 => Value::Null,
                    2 => Value::Integer(i as i64),
                    3 => Value::array([Value::Bool(true), Value::String("x".into())]),
                    _ => Value::Null,
                })
                .collect();
            let packed = Packed::new(values.clone());
            assert_eq!(packed.present.is_some(), len <= 64, "{len}");
            for (i, v) in values.iter().enumerate() {
                assert_eq!(packed.get(i), v.as_ref(), "field {i} of {len}");
            }
            assert_eq!(packed.get(len), ValueRef::Null, "past the end");
            if len <= 64 {
                let present = values.iter().filter(|v| !matches!(v, Value::Null)).count();
                assert_eq!(
                    packed.slots.len(),
                    present,
                    "only present fields have slots"
                );
            }
        }
    }

    #[test]
    fn absent_fields_and_objects_are_null() {
        let v = project(&["user.name", "user"], json!({"user": {"id": 1}}));
        assert_eq!(v, vec![Value::Null, Value::Null]);
    }

    #[test]
    fn arrays_of_objects_contribute_every_element() {
        let v = project(&["a.b"], json!({"a": [{"b": 1}, {"b": [2, 3]}, {"c": 4}]}));
        assert_eq!(
            v,
            vec![Value::Array(vec![
                Value::Integer(1),
                Value::Integer(2),
                Value::Integer(3)
            ])]
        );
    }

    #[test]
    fn a_field_spelled_twice_keeps_both_values() {
        let v = project(&["a.b"], json!({"a.b": "x", "a": {"b": "y"}}));
        assert_eq!(
            v,
            vec![Value::Array(vec![
                Value::String("x".into()),
                Value::String("y".into())
            ])]
        );
    }

    #[test]
    fn documents_read_their_timestamp_or_say_why_not() {
        let mut catalog = FieldCatalog::new();
        let ts = catalog.intern("@timestamp");
        let p = Projection::new(&catalog);
        let doc = Document::from_json(
            json!({"@timestamp": "2024-05-01T12:00:00Z"}),
            &p,
            &catalog,
            ts,
            7,
        )
        .unwrap();
        assert_eq!(doc.timestamp().millis(), 1_714_564_800_000);
        assert_eq!(doc.position(), 7);
        let err = Document::from_json(json!({"x": 1}), &p, &catalog, ts, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the timestamp field `@timestamp` is missing"
        );
        let err =
            Document::from_json(json!({"@timestamp": "soon"}), &p, &catalog, ts, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the timestamp field `@timestamp`: `soon` is not a timestamp (expected RFC 3339 / ISO 8601, or epoch milliseconds)"
        );
        let err = Document::from_json(json!([1]), &p, &catalog, ts, 0).unwrap_err();
        assert_eq!(err.to_string(), "expected a JSON object, found an array");
    }

    /// A store over a string that can be emptied, as a file cut short would be.
    #[derive(Debug)]
    struct Shared(std::sync::Mutex<String>);

    impl SourceStore for Shared {
        fn read(&self, offset: u64, len: u32) -> Option<String> {
            let text = self.0.lock().unwrap();
            text.get(offset as usize..offset as usize + len as usize)
                .map(str::to_string)
        }
    }

    #[test]
    fn a_held_copy_reads_its_fields_back_from_the_store() {
        let line = r#"{"@timestamp":"2024-05-01T10:00:00Z","user":{"name":"mallory"},"n":[1,2]}"#;
        let stored = format!("xx{line}");
        let store = std::sync::Arc::new(Shared(std::sync::Mutex::new(stored)));
        let mut catalog = FieldCatalog::new();
        let ts = catalog.intern("@timestamp");
        let user = catalog.intern("user.name");
        let n = catalog.intern("n");
        let projection = std::sync::Arc::new(Projection::new(&catalog));
        let read_back = std::sync::Arc::new(ReadBack {
            store: store.clone(),
            projection: projection.clone(),
        });
        let doc = Document::from_stored_text(line, &read_back, 2, &catalog, ts, 7).unwrap();
        let held = doc.held().expect("a stored document has a held form");
        assert_eq!((held.timestamp(), held.position()), (doc.timestamp(), 7));
        assert_eq!(held.field(user), ValueRef::String("mallory"));
        assert_eq!(held.values(), doc.values());
        assert_eq!(held, doc);
        assert_eq!(held.source(), doc.source());
        assert_eq!(held.field(n).to_owned(), doc.field(n).to_owned());
        // A held copy first read after its source is gone reads as every field missing.
        let late = doc.held().unwrap();
        store.0.lock().unwrap().clear();
        assert_eq!(late.field(user), ValueRef::Null);
        // Documents that keep their own text are held as they are.
        let text = Document::from_text(line, &projection, &catalog, ts, 0).unwrap();
        assert!(text.held().is_none());
    }
}
