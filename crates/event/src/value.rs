//! Field values, with Elasticsearch's view of arrays: nested arrays are flattened, nulls inside
//! arrays are dropped, an empty array is null, and a one-element array is its element.

use std::fmt;

/// An owned field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
    /// Two or more non-null, non-array values (see [`Value::array`]).
    Array(Vec<Value>),
}

/// A borrowed view of a [`Value`], as the engine reads fields.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(&'a str),
    Array(&'a [Value]),
}

impl Value {
    /// An array value, normalized as Elasticsearch reads multi-valued fields: nested arrays
    /// flattened, nulls dropped, `[]` as null and `[x]` as `x`.
    pub fn array(items: impl IntoIterator<Item = Value>) -> Value {
        let mut flat = Vec::new();
        for item in items {
            match item {
                Value::Null => {}
                Value::Array(inner) => flat.extend(inner),
                other => flat.push(other),
            }
        }
        match flat.len() {
            0 => Value::Null,
            1 => flat.pop().expect("one element"),
            _ => Value::Array(flat),
        }
    }

    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Float(f) => ValueRef::Float(*f),
            Value::String(s) => ValueRef::String(s),
            Value::Array(a) => ValueRef::Array(a),
        }
    }

    /// The value of a JSON leaf. Objects are not values (a field naming an object reads as
    /// null); integers beyond `i64` become floats.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null | serde_json::Value::Object(_) => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => Value::array(items.iter().map(Value::from_json)),
        }
    }
}

impl<'a> ValueRef<'a> {
    pub fn is_null(self) -> bool {
        matches!(self, ValueRef::Null)
    }

    pub fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::String(s) => Value::String(s.to_string()),
            ValueRef::Array(a) => Value::Array(a.to_vec()),
        }
    }

    /// The value as a grouping key, as a terms aggregation buckets it: strings as they are,
    /// other scalars as JSON writes them, an array by its first element; null has none.
    pub fn key_text(self) -> Option<std::borrow::Cow<'a, str>> {
        use std::borrow::Cow;
        match self {
            ValueRef::Null => None,
            ValueRef::String(s) => Some(Cow::Borrowed(s)),
            ValueRef::Bool(b) => Some(Cow::Owned(b.to_string())),
            ValueRef::Integer(i) => Some(Cow::Owned(i.to_string())),
            ValueRef::Float(f) => Some(Cow::Owned(f.to_string())),
            ValueRef::Array(items) => items.first().and_then(|i| i.as_ref().key_text()),
        }
    }

    /// The values to test existentially: the elements of an array, or the value itself.
    pub fn elements(self) -> impl Iterator<Item = ValueRef<'a>> {
        let (single, many) = match self {
            ValueRef::Array(items) => (None, items),
            other => (Some(other), &[][..]),
        };
        single.into_iter().chain(many.iter().map(Value::as_ref))
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

impl fmt::Display for ValueRef<'_> {
    /// Plain text, as a table cell shows it (strings unquoted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Null => f.write_str("null"),
            ValueRef::Bool(b) => write!(f, "{b}"),
            ValueRef::Integer(i) => write!(f, "{i}"),
            ValueRef::Float(x) => write!(f, "{x:?}"),
            ValueRef::String(s) => f.write_str(s),
            ValueRef::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_are_normalized_as_elasticsearch_reads_them() {
        let v = Value::from_json(&json!([1, [2, [3]], null]));
        assert_eq!(
            v,
            Value::Array(vec![
                Value::Integer(1),
                Value::Integer(2),
                Value::Integer(3)
            ])
        );
        assert_eq!(Value::from_json(&json!([])), Value::Null);
        assert_eq!(Value::from_json(&json!([null])), Value::Null);
        assert_eq!(Value::from_json(&json!(["a"])), Value::String("a".into()));
        assert_eq!(Value::from_json(&json!({"a": 1})), Value::Null);
    }

    #[test]
    fn numbers_keep_their_kind() {
        assert_eq!(Value::from_json(&json!(5)), Value::Integer(5));
        assert_eq!(Value::from_json(&json!(5.0)), Value::Float(5.0));
        assert_eq!(
            Value::from_json(&json!(18446744073709551615u64)),
            Value::Float(18446744073709551615.0)
        );
    }

    #[test]
    fn elements_iterate_arrays_and_scalars_alike() {
        let arr = Value::array([Value::Integer(1), Value::Integer(2)]);
        assert_eq!(arr.as_ref().elements().count(), 2);
        assert_eq!(Value::Integer(7).as_ref().elements().count(), 1);
    }
}
