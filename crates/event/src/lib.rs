//! Quarry's event model: what the engine reads, and nothing about where it came from.
//!
//! Sources parse their formats into events; the engine evaluates EQL over them. Between the two
//! sits this crate, so that neither depends on the other:
//!
//! - [`value`]: [`Value`] (null, bool, integer, float, string, array) and its borrowed view
//!   [`ValueRef`];
//! - [`field`]: [`FieldCatalog`], which gives every field a query reads a [`FieldId`], so names are
//!   resolved once per query, not once per event;
//! - [`time`]: [`Timestamp`] and the formats events carry (RFC 3339 / ISO 8601 with any offset,
//!   epoch milliseconds as a number or a string);
//! - [`Event`]: the trait the engine reads events through;
//! - [`json`]: [`Document`], an event projected from a JSON object (nested objects, dotted keys
//!   and mixtures of both), keeping only the fields the catalog asks for.

pub mod field;
pub mod json;
pub mod time;
pub mod value;

pub use field::{FieldCatalog, FieldId};
pub use json::{Document, DocumentError, Projection, ReadBack, SourceStore};
pub use time::{Timestamp, TimestampError};
pub use value::{Value, ValueRef};

/// A stable hash of a grouping key's text (64-bit FNV-1a), for routing every event of one
/// user to the same worker. Unlike the std and foldhash hashers it has no per-process seed:
/// the normalizer that computes it and the hunt that reads it agree across threads and runs.
pub fn key_hash(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One event, as the engine reads it. Absent fields read as [`ValueRef::Null`].
pub trait Event {
    /// The value of field `id` (a [`FieldId`] from the catalog the event was built for).
    fn field(&self, id: FieldId) -> ValueRef<'_>;
    /// When the event happened.
    fn timestamp(&self) -> Timestamp;
    /// The event's position in its input (0-based), the last ordering key after timestamp and
    /// tiebreaker.
    fn position(&self) -> u64;

    /// What a window that keeps this event until a match should hold instead of it, when
    /// that is smaller: an event that can be read again from where it came keeps only its
    /// time, position and place there, and decodes its fields again only if asked (when a
    /// match shows it). `None` (the default): keep the event itself.
    fn held(&self) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

/// Events can be read through references, so the engine can run over events owned elsewhere
/// (a batch in memory, for example) without taking them.
impl<E: Event + ?Sized> Event for &E {
    fn field(&self, id: FieldId) -> ValueRef<'_> {
        (**self).field(id)
    }
    fn timestamp(&self) -> Timestamp {
        (**self).timestamp()
    }
    fn position(&self) -> u64 {
        (**self).position()
    }
}

/// Events shared between several consumers (one per rule, say) are read through their `Arc`.
impl<E: Event + ?Sized> Event for std::sync::Arc<E> {
    fn field(&self, id: FieldId) -> ValueRef<'_> {
        (**self).field(id)
    }
    fn timestamp(&self) -> Timestamp {
        (**self).timestamp()
    }
    fn position(&self) -> u64 {
        (**self).position()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_hash_is_fnv1a() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(super::key_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::key_hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::key_hash("foobar"), 0x8594_4171_f739_67e8);
    }
}
