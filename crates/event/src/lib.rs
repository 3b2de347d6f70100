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
pub use json::{Document, DocumentError, Projection, SourceStore};
pub use time::{Timestamp, TimestampError};
pub use value::{Value, ValueRef};

/// One event, as the engine reads it. Absent fields read as [`ValueRef::Null`].
pub trait Event {
    /// The value of field `id` (a [`FieldId`] from the catalog the event was built for).
    fn field(&self, id: FieldId) -> ValueRef<'_>;
    /// When the event happened.
    fn timestamp(&self) -> Timestamp;
    /// The event's position in its input (0-based), the last ordering key after timestamp and
    /// tiebreaker.
    fn position(&self) -> u64;
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
