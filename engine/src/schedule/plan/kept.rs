//! Occurrences kept for reuse: each entry's occurrences over a span, worked out
//! once and reused while queries fall inside it.

use super::PlanEntry;
use crate::schedule::rule::MAX_OCCURRENCES;
use crate::schedule::rule::Occurrence;
use crate::schedule::sun::Site;
use chrono::{DateTime, Utc};
use limelight_shared::ids::ScheduleId;
use std::collections::HashMap;

/// How far before a query's start the occurrences kept for reuse reach.
pub(super) const KEEP_BEFORE: chrono::Duration = chrono::Duration::days(1);
/// How far after a query's start they reach (next changes look eight days ahead,
/// timelines seven).
pub(super) const KEEP_AHEAD: chrono::Duration = chrono::Duration::days(9);

/// Each entry's occurrences over a span, worked out once and reused while queries
/// fall inside it: the recurrence crate walks a rule from its first day, so working
/// them out is the bulk of every answer.
#[derive(Debug, Clone, Default)]
pub(super) struct Kept {
    pub(super) spans: HashMap<ScheduleId, Span>,
}

/// The occurrences of one entry overlapping `[from, to)`.
#[derive(Debug, Clone)]
pub(super) struct Span {
    pub(super) from: DateTime<Utc>,
    pub(super) to: DateTime<Utc>,
    pub(super) all: Vec<Occurrence>,
}

impl Kept {
    /// The occurrences of `entry` overlapping `[from, to)`.
    pub(super) fn occurrences(
        &mut self,
        entry: &PlanEntry,
        venue: &Site,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<Occurrence> {
        let overlapping = |all: &[Occurrence]| -> Vec<Occurrence> {
            all.iter()
                .filter(|o| o.end > from && o.start < to)
                .copied()
                .collect()
        };
        if let Some(span) = self.spans.get(&entry.id)
            && span.from <= from
            && to <= span.to
        {
            return overlapping(&span.all);
        }
        if to - from > KEEP_AHEAD {
            // A long timeline: worked out for itself, not kept.
            return entry.rule.occurrences(venue, from, to);
        }
        let (kept_from, kept_to) = (from - KEEP_BEFORE, from + KEEP_AHEAD);
        let all = entry.rule.occurrences(venue, kept_from, kept_to);
        if all.len() >= MAX_OCCURRENCES {
            // Cut short: what lies past the cut is unknown, so nothing is kept.
            return entry.rule.occurrences(venue, from, to);
        }
        let out = overlapping(&all);
        self.spans.insert(
            entry.id,
            Span {
                from: kept_from,
                to: kept_to,
                all,
            },
        );
        out
    }

    pub(super) fn forget(&mut self, id: ScheduleId) {
        self.spans.remove(&id);
    }
}
