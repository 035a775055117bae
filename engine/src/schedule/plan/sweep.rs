//! The winner on one canvas over a range, before overrides: the occurrences that
//! compete and the instants the winner changes.

use chrono::{DateTime, Utc};
use limelight_shared::ids::ScheduleId;
use limelight_shared::values::EntryPriority;

/// An occurrence competing for a canvas. Ordered so the winner is the greatest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Candidate {
    pub(super) priority: EntryPriority,
    pub(super) start: DateTime<Utc>,
    pub(super) id: ScheduleId,
    pub(super) end: DateTime<Utc>,
    pub(super) index: usize,
}

/// The schedule of one canvas over a range, before overrides.
#[derive(Debug, Default)]
pub(super) struct Sweep {
    pub(super) initial: Option<Candidate>,
    /// (when, the previous winner, the new winner)
    pub(super) changes: Vec<(DateTime<Utc>, Option<Candidate>, Option<Candidate>)>,
}

impl Sweep {
    pub(super) fn winner_at(&self, t: DateTime<Utc>) -> Option<Candidate> {
        self.changes
            .iter()
            .take_while(|(at, _, _)| *at <= t)
            .last()
            .map_or(self.initial, |(_, _, w)| *w)
    }
}
