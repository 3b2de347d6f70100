//! In Kibana mode a threshold group that may reach the threshold keeps its newest events as
//! they were pushed until the next execution has folded them into its match, and their held
//! form ([`Event::held`]) after; a group short of it keeps the held form at once. A matching
//! group's events are decoded once, and at most one interval of them is held decoded.

use std::sync::Arc;

use quarry_eql::ast::QueryBody;
use quarry_event::{Event, FieldCatalog, FieldId, Timestamp, ValueRef};
use quarry_rules::threshold::{ThresholdEvaluator, ThresholdMode};

const MINUTE: i64 = 60_000;
const BASE: i64 = 1_700_000_000_000 / 3_600_000 * 3_600_000;

/// An event of one user whose held form is marked, so the test can tell which it got.
#[derive(Debug, Clone)]
struct Marked {
    minute: i64,
    position: u64,
    held: bool,
    user: FieldId,
}

impl Event for Marked {
    fn field(&self, id: FieldId) -> ValueRef<'_> {
        if id == self.user {
            ValueRef::String("mallory")
        } else {
            ValueRef::Null
        }
    }
    fn timestamp(&self) -> Timestamp {
        Timestamp::from_millis(BASE + self.minute * MINUTE).unwrap()
    }
    fn position(&self) -> u64 {
        self.position
    }
    fn held(&self) -> Option<Marked> {
        Some(Marked {
            held: true,
            ..self.clone()
        })
    }
}

#[test]
fn events_are_folded_as_pushed_and_held_after_the_next_execution() {
    let mut catalog = FieldCatalog::new();
    let user = catalog.intern("user.name");
    let query = quarry_eql::parse("any where true").unwrap();
    let QueryBody::Event(q) = query.body else {
        panic!("an event query")
    };
    let filter = quarry_engine::expr::compile_condition(&q.condition, &mut catalog).unwrap();
    // Three events in a 60-minute lookback, executions every 5 minutes.
    let mut ev = ThresholdEvaluator::new(
        filter,
        vec![user],
        3,
        60 * MINUTE as u64,
        5 * MINUTE as u64,
        ThresholdMode::Kibana,
    );
    let mut out = Vec::new();
    for (position, minute) in [0, 1, 2, 6, 12, 13, 14, 16].into_iter().enumerate() {
        let event = Arc::new(Marked {
            minute,
            position: position as u64,
            held: false,
            user,
        });
        ev.push(&event, &mut out);
    }
    let matches: Vec<Vec<(i64, bool)>> = out
        .iter()
        .map(|m| m.new_events.iter().map(|e| (e.minute, e.held)).collect())
        .collect();
    assert_eq!(
        matches,
        vec![
            // The first two came to a group short of three: held. The third could make it
            // match: kept as pushed, and folded so by the execution at minute 5.
            vec![(0, true), (1, true), (2, false)],
            // Minute 6 and 12 came to a group short of three again (the reported ones gone);
            // from 13 on it could match, until the execution at 15 folds them.
            vec![(6, true), (12, true), (13, false), (14, false)],
        ]
    );
}
