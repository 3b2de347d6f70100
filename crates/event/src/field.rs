//! Field names resolved once: a query's fields get small integer ids, and events store their
//! values by id.

use std::collections::HashMap;

/// A field's index in a [`FieldCatalog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u32);

impl FieldId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The fields a set of queries reads, by their dotted ECS names (`user.name`).
#[derive(Debug, Clone, Default)]
pub struct FieldCatalog {
    names: Vec<String>,
    ids: HashMap<String, FieldId>,
}

impl FieldCatalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `dotted`, adding it if it is new.
    pub fn intern(&mut self, dotted: &str) -> FieldId {
        if let Some(&id) = self.ids.get(dotted) {
            return id;
        }
        let id = FieldId(u32::try_from(self.names.len()).expect("fewer than 2^32 fields"));
        self.names.push(dotted.to_string());
        self.ids.insert(dotted.to_string(), id);
        id
    }

    pub fn get(&self, dotted: &str) -> Option<FieldId> {
        self.ids.get(dotted).copied()
    }

    pub fn name(&self, id: FieldId) -> &str {
        &self.names[id.index()]
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every field, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (FieldId, &str)> {
        self.names
            .iter()
            .enumerate()
            .map(|(i, n)| (FieldId(i as u32), n.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_dense() {
        let mut c = FieldCatalog::new();
        let a = c.intern("user.name");
        let b = c.intern("source.ip");
        assert_eq!(c.intern("user.name"), a);
        assert_eq!((a, b), (FieldId(0), FieldId(1)));
        assert_eq!(c.name(b), "source.ip");
        assert_eq!(c.get("nope"), None);
        assert_eq!(c.len(), 2);
    }
}
