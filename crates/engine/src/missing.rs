//! Missing-event stages `![...]`, judged as Elasticsearch judges them.
//!
//! Elasticsearch matches the positive stages first, exactly as if the missing stages were not
//! there (a candidate later rejected is never replaced by another combination), then looks for
//! forbidding events, by timestamp in milliseconds, with the candidate's join key read from the
//! missing stage's own key fields:
//!
//! - a middle stage forbids any event strictly between its neighbouring positive events;
//! - leading stages find the latest event `L` before the first positive event, trailing stages
//!   the earliest event `T` after the last;
//! - with leading stages only, `L` rejects when `last - L <= maxspan`; with trailing only, `T`
//!   rejects when `T - first <= maxspan`; with both, only a pair with `T - L <= maxspan`
//!   rejects (one side alone never does).
//!
//! A streaming engine cannot see `T` yet when the positive stages complete, so a candidate with
//! trailing stages waits until a forbidding event arrives or its deadline passes; at the end of
//! the input, waiting candidates are accepted (the data holds no forbidding event).

use std::collections::VecDeque;

/// Where a missing stage sits among the positive stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Before the first positive stage.
    Leading,
    /// Between positive stages `after` and `after + 1` (indexes among the positive stages).
    Middle { after: usize },
    /// After the last positive stage.
    Trailing,
}

/// One missing stage after `runs` expansion.
#[derive(Debug, Clone, Copy)]
pub struct MissingStage {
    /// Index into the sequence's distinct filters.
    pub filter: usize,
    /// Index into the sequence's distinct key lists.
    pub keys: usize,
    pub placement: Placement,
}

/// The missing stages of a sequence, and how to judge candidates against them.
#[derive(Debug, Clone)]
pub struct MissingSpec {
    pub stages: Vec<MissingStage>,
    /// In nanoseconds (a sequence with missing stages always has one).
    pub maxspan: i64,
    /// Where each stage of the full sequence goes: `None` for a missing stage's placeholder,
    /// `Some(i)` for the `i`th positive event.
    pub layout: Vec<Option<usize>>,
}

/// What to do with a candidate whose positive stages are complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Reject,
    /// Wait for a trailing forbidding event after `last` until `deadline` (nanoseconds).
    Await {
        deadline: i64,
    },
}

fn ms(nanos: i64) -> i64 {
    nanos.div_euclid(1_000_000)
}

impl MissingSpec {
    pub fn has_leading(&self) -> bool {
        self.stages
            .iter()
            .any(|s| s.placement == Placement::Leading)
    }

    pub fn has_trailing(&self) -> bool {
        self.stages
            .iter()
            .any(|s| s.placement == Placement::Trailing)
    }

    /// The latest leading forbidding event before `first` (by millisecond), over every leading
    /// stage.
    pub fn latest_leading(&self, hits: &[VecDeque<i64>], first: i64) -> Option<i64> {
        self.stages
            .iter()
            .zip(hits)
            .filter(|(s, _)| s.placement == Placement::Leading)
            .flat_map(|(_, h)| h.iter().copied())
            .filter(|&h| ms(h) < ms(first))
            .max()
    }

    /// Judges a candidate with positive event timestamps `positive` (nanoseconds, in order),
    /// given the forbidding events recorded so far for its key (`hits[m]` for missing stage
    /// `m`).
    pub fn judge(&self, hits: &[VecDeque<i64>], positive: &[i64]) -> Verdict {
        let first = positive[0];
        let last = positive[positive.len() - 1];
        for (stage, h) in self.stages.iter().zip(hits) {
            if let Placement::Middle { after } = stage.placement {
                let (lo, hi) = (ms(positive[after]), ms(positive[after + 1]));
                if h.iter().any(|&t| lo < ms(t) && ms(t) < hi) {
                    return Verdict::Reject;
                }
            }
        }
        let leading = self.latest_leading(hits, first);
        if self.has_trailing() {
            if self.has_leading() {
                return match leading {
                    None => Verdict::Accept,
                    Some(l) => Verdict::Await {
                        deadline: l.saturating_add(self.maxspan),
                    },
                };
            }
            return Verdict::Await {
                deadline: first.saturating_add(self.maxspan),
            };
        }
        match leading {
            Some(l) if last.saturating_sub(l) <= self.maxspan => Verdict::Reject,
            _ => Verdict::Accept,
        }
    }

    /// Whether the earliest trailing forbidding event, at `trailing`, rejects a waiting
    /// candidate whose latest leading event is `leading` and first positive event is `first`.
    pub fn trailing_rejects(&self, leading: Option<i64>, first: i64, trailing: i64) -> bool {
        match (self.has_leading(), leading) {
            (true, Some(l)) => trailing.saturating_sub(l) <= self.maxspan,
            (true, None) => false,
            (false, _) => trailing.saturating_sub(first) <= self.maxspan,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000_000;

    fn spec(placements: &[Placement], maxspan_s: i64) -> MissingSpec {
        MissingSpec {
            stages: placements
                .iter()
                .map(|&placement| MissingStage {
                    filter: 0,
                    keys: 0,
                    placement,
                })
                .collect(),
            maxspan: maxspan_s * SEC,
            layout: Vec::new(),
        }
    }

    fn hits(times_s: &[&[i64]]) -> Vec<VecDeque<i64>> {
        times_s
            .iter()
            .map(|t| t.iter().map(|s| s * SEC).collect())
            .collect()
    }

    #[test]
    fn middle_windows_are_open_intervals_in_milliseconds() {
        let s = spec(&[Placement::Middle { after: 0 }], 60);
        let positive = [10 * SEC, 20 * SEC];
        assert_eq!(s.judge(&hits(&[&[15]]), &positive), Verdict::Reject);
        assert_eq!(
            s.judge(&hits(&[&[10, 20]]), &positive),
            Verdict::Accept,
            "bounds excluded"
        );
        assert_eq!(s.judge(&hits(&[&[5, 25]]), &positive), Verdict::Accept);
        // Same millisecond as a neighbour, later nanosecond: still not inside.
        let h = vec![VecDeque::from([10 * SEC + 500])];
        assert_eq!(s.judge(&h, &positive), Verdict::Accept);
    }

    #[test]
    fn leading_events_reject_within_maxspan_of_the_last_positive_event() {
        let s = spec(&[Placement::Leading], 60);
        let positive = [100 * SEC, 130 * SEC];
        // last - L = 130 - 75 = 55 <= 60: rejected.
        assert_eq!(s.judge(&hits(&[&[75]]), &positive), Verdict::Reject);
        // last - L = 130 - 70 = 60: a gap equal to maxspan still forbids.
        assert_eq!(s.judge(&hits(&[&[70]]), &positive), Verdict::Reject);
        // 130 - 69 = 61 > 60: accepted.
        assert_eq!(s.judge(&hits(&[&[69]]), &positive), Verdict::Accept);
        // Only events before the first positive one count.
        assert_eq!(s.judge(&hits(&[&[100, 110]]), &positive), Verdict::Accept);
    }

    #[test]
    fn trailing_stages_wait_for_an_event_or_the_deadline() {
        let s = spec(&[Placement::Trailing], 60);
        let positive = [100 * SEC, 130 * SEC];
        assert_eq!(
            s.judge(&hits(&[&[]]), &positive),
            Verdict::Await {
                deadline: 160 * SEC
            }
        );
        assert!(s.trailing_rejects(None, 100 * SEC, 160 * SEC));
        assert!(!s.trailing_rejects(None, 100 * SEC, 161 * SEC));
    }

    #[test]
    fn leading_and_trailing_reject_only_as_a_pair_within_maxspan() {
        let s = spec(&[Placement::Leading, Placement::Trailing], 19 * 60);
        let positive = [600 * SEC];
        // No leading event: accepted whatever follows.
        assert_eq!(s.judge(&hits(&[&[], &[]]), &positive), Verdict::Accept);
        // A leading event at 0: wait until 0 + 19 min for a trailing one.
        assert_eq!(
            s.judge(&hits(&[&[0], &[]]), &positive),
            Verdict::Await {
                deadline: 19 * 60 * SEC
            }
        );
        assert!(s.trailing_rejects(Some(0), 600 * SEC, 19 * 60 * SEC));
        assert!(!s.trailing_rejects(Some(0), 600 * SEC, 20 * 60 * SEC));
    }
}
