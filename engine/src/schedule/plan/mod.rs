//! The plan: every schedule entry and override, resolved per canvas. Plain Rust, so
//! it is tested with any instant, and the preview, the timeline and the scheduler
//! actor all ask the same code.
//!
//! On a canvas, the highest-priority occurrence running wins; among equals the one
//! that started last, then the higher entry id. An override beats every entry until
//! its scope ends. A change happens whenever the winner changes; its fade is the new
//! occurrence's fade when one starts, else the ending occurrence's stop mode.
//!
//! - `sweep.rs`: the winner on one canvas over a range, before overrides.
//! - `kept.rs`: each entry's occurrences, worked out once and reused.
//! - `report.rs`: previews, timelines and changes as the API reports them.

use super::rule::{Occurrence, Rule};
use super::sun::Site;
use chrono::{DateTime, Utc};
use limelight_shared::ids::{CanvasId, ScheduleId};
use limelight_shared::schedule::{Cause, OverrideScope, Play, ScheduleSpec, Source, StopMode};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// How far ahead an override "until the next change" looks for that change, and
/// how far the preview looks for the end of what plays.
const LOOK_AHEAD: chrono::Duration = chrono::Duration::days(8);

/// An entry with its compiled timing.
#[derive(Debug, Clone)]
pub struct PlanEntry {
    /// Its id.
    pub id: ScheduleId,
    /// What it says.
    pub spec: ScheduleSpec,
    /// Its timing.
    pub rule: Rule,
}

/// An operator's hold on a canvas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// What plays.
    pub play: Play,
    /// How long it lasts.
    pub scope: OverrideScope,
    /// Who took it.
    pub by: String,
    /// When.
    pub since: DateTime<Utc>,
}

/// One change on one canvas, in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// When.
    pub at: DateTime<Utc>,
    /// The canvas.
    pub canvas: CanvasId,
    /// What plays from then on (none: dark).
    pub play: Option<Play>,
    /// Why.
    pub source: Option<Source>,
    /// What caused it.
    pub cause: Cause,
    /// Fade of the change, in milliseconds.
    pub fade_ms: u32,
    /// The running cue list plays out first.
    pub after_cue_list: bool,
}

/// What plays on a canvas at an instant, in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Now {
    /// The canvas.
    pub canvas: CanvasId,
    /// What plays (none: dark).
    pub play: Option<Play>,
    /// Why.
    pub source: Option<Source>,
    /// Since when.
    pub since: Option<DateTime<Utc>>,
    /// Until the next change, if one is known within eight days.
    pub until: Option<DateTime<Utc>>,
}

mod kept;
mod report;
mod sweep;
#[cfg(test)]
mod tests;

use kept::Kept;
pub use report::fade_in;
use sweep::{Candidate, Sweep};

/// Every entry and override, and the canvases they can play on.
#[derive(Debug, Clone)]
pub struct Plan {
    venue: Site,
    canvases: BTreeSet<CanvasId>,
    entries: Vec<PlanEntry>,
    overrides: BTreeMap<CanvasId, Override>,
    kept: RefCell<Kept>,
}

impl Plan {
    /// An empty plan for `venue`.
    pub fn new(venue: Site) -> Self {
        Self {
            venue,
            canvases: BTreeSet::new(),
            entries: Vec::new(),
            overrides: BTreeMap::new(),
            kept: RefCell::default(),
        }
    }

    /// The venue.
    pub fn venue(&self) -> &Site {
        &self.venue
    }

    /// Replace the set of canvases.
    pub fn set_canvases(&mut self, canvases: impl IntoIterator<Item = CanvasId>) {
        self.canvases = canvases.into_iter().collect();
        self.overrides.retain(|c, _| self.canvases.contains(c));
    }

    /// The canvases.
    pub fn canvases(&self) -> impl Iterator<Item = CanvasId> + '_ {
        self.canvases.iter().copied()
    }

    /// Add or replace an entry.
    pub fn put_entry(&mut self, entry: PlanEntry) {
        self.kept.get_mut().forget(entry.id);
        match self.entries.iter_mut().find(|e| e.id == entry.id) {
            Some(slot) => *slot = entry,
            None => self.entries.push(entry),
        }
    }

    /// Remove an entry.
    pub fn remove_entry(&mut self, id: ScheduleId) {
        self.kept.get_mut().forget(id);
        self.entries.retain(|e| e.id != id);
    }

    /// The entries.
    pub fn entries(&self) -> &[PlanEntry] {
        &self.entries
    }

    /// Put an override on a canvas (replacing one there).
    pub fn set_override(&mut self, canvas: CanvasId, o: Override) {
        self.overrides.insert(canvas, o);
    }

    /// Remove a canvas's override; what it was.
    pub fn clear_override(&mut self, canvas: CanvasId) -> Option<Override> {
        self.overrides.remove(&canvas)
    }

    /// A canvas's override, if one is set (it may have ended: see [`Plan::override_end`]).
    pub fn override_of(&self, canvas: CanvasId) -> Option<&Override> {
        self.overrides.get(&canvas)
    }

    /// A copy that keeps no occurrences (for checking the kept ones).
    #[cfg(test)]
    fn clone_without_kept(&self) -> Self {
        let mut plan = self.clone();
        plan.kept = RefCell::default();
        plan
    }

    /// Occurrences of every enabled entry overlapping `[from, to)`.
    fn expand(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(usize, Vec<Occurrence>)> {
        let mut kept = self.kept.borrow_mut();
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.spec.enabled)
            .map(|(i, e)| (i, kept.occurrences(e, &self.venue, from, to)))
            .filter(|(_, occ)| !occ.is_empty())
            .collect()
    }

    /// The schedule's winners on `canvas` over `[from, to)`.
    fn sweep(
        &self,
        canvas: CanvasId,
        expanded: &[(usize, Vec<Occurrence>)],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Sweep {
        let mut active = BTreeSet::new();
        let mut events: Vec<(DateTime<Utc>, bool, Candidate)> = Vec::new();
        for (index, occurrences) in expanded {
            let entry = &self.entries[*index];
            if !entry.spec.targets.includes(canvas) {
                continue;
            }
            for o in occurrences {
                let c = Candidate {
                    priority: entry.spec.priority,
                    start: o.start,
                    id: entry.id,
                    end: o.end,
                    index: *index,
                };
                if o.start <= from && from < o.end {
                    active.insert(c);
                }
                if o.start > from && o.start < to {
                    events.push((o.start, true, c));
                }
                if o.end > from && o.end < to {
                    events.push((o.end, false, c));
                }
            }
        }
        // Ends before starts at the same instant, so back-to-back occurrences hand over.
        events.sort_by_key(|(t, starts, c)| (*t, *starts, *c));
        let mut sweep = Sweep {
            initial: active.last().copied(),
            changes: Vec::new(),
        };
        let mut current = sweep.initial;
        let mut i = 0;
        while i < events.len() {
            let t = events[i].0;
            while i < events.len() && events[i].0 == t {
                let (_, starts, c) = events[i];
                if starts {
                    active.insert(c);
                } else {
                    active.remove(&c);
                }
                i += 1;
            }
            let winner = active.last().copied();
            if winner != current {
                sweep.changes.push((t, current, winner));
                current = winner;
            }
        }
        sweep
    }

    fn source(&self, c: &Candidate) -> Source {
        let e = &self.entries[c.index];
        Source::Entry {
            entry: e.id,
            name: e.spec.name.as_str().to_owned(),
            priority: e.spec.priority,
        }
    }

    fn play_of(&self, c: &Candidate) -> Play {
        self.entries[c.index].spec.play.clone()
    }

    /// The step for a schedule change at `t` from `prev` to `next`.
    fn schedule_step(
        &self,
        canvas: CanvasId,
        t: DateTime<Utc>,
        prev: Option<&Candidate>,
        next: Option<&Candidate>,
    ) -> Step {
        let (cause, fade_ms, after_cue_list) = match (prev, next) {
            (_, Some(n)) if n.start == t => (Cause::Start, fade_in(&self.play_of(n)), false),
            (Some(p), _) if p.end == t => match self.entries[p.index].spec.stop {
                StopMode::FadeOut { fade_ms } => (Cause::End, fade_ms, false),
                StopMode::Cut => (Cause::End, 0, false),
                StopMode::FinishCueList { fade_ms } => (Cause::End, fade_ms, true),
            },
            (_, n) => (
                Cause::Start,
                n.map_or(0, |n| fade_in(&self.play_of(n))),
                false,
            ),
        };
        Step {
            at: t,
            canvas,
            play: next.map(|n| self.play_of(n)),
            source: next.map(|n| self.source(n)),
            cause,
            fade_ms,
            after_cue_list,
        }
    }

    /// When an override ends, given the schedule of its canvas from its start on
    /// (`None`: not within the sweep, or never).
    fn override_end_in(o: &Override, sweep: &Sweep) -> Option<DateTime<Utc>> {
        match o.scope {
            OverrideScope::UntilReleased => None,
            OverrideScope::ForS(s) => Some(o.since + chrono::Duration::seconds(i64::from(s))),
            OverrideScope::NextChange => sweep
                .changes
                .iter()
                .map(|(t, _, _)| *t)
                .find(|t| *t > o.since),
        }
    }

    /// When the override on `canvas` ends, if it does within eight days of `after`.
    pub fn override_end(&self, canvas: CanvasId, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let o = self.overrides.get(&canvas)?;
        let to = after.max(o.since) + LOOK_AHEAD;
        let expanded = self.expand(o.since, to);
        let sweep = self.sweep(canvas, &expanded, o.since, to);
        Self::override_end_in(o, &sweep)
    }

    /// The next occurrence to start winning on `canvas` after `after` (overrides
    /// aside): what it plays, why, and when it ends.
    pub fn next_scheduled(
        &self,
        canvas: CanvasId,
        after: DateTime<Utc>,
    ) -> Option<(Play, Source, DateTime<Utc>)> {
        let to = after + LOOK_AHEAD;
        let expanded = self.expand(after, to);
        let sweep = self.sweep(canvas, &expanded, after, to);
        sweep
            .changes
            .iter()
            .filter_map(|(_, _, n)| *n)
            .find(|n| n.start > after)
            .map(|c| (self.play_of(&c), self.source(&c), c.end))
    }

    /// What plays on `canvas` at `from`, and its changes over `[from, to)`.
    fn canvas_steps(
        &self,
        canvas: CanvasId,
        expanded: &[(usize, Vec<Occurrence>)],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> (Now, Vec<Step>) {
        let o = self.overrides.get(&canvas);
        let sweep_from = o.map_or(from, |o| o.since.min(from));
        let sweep = self.sweep(canvas, expanded, sweep_from, to);
        let mut steps: Vec<Step> = sweep
            .changes
            .iter()
            .filter(|(t, _, _)| *t >= from)
            .map(|(t, p, n)| self.schedule_step(canvas, *t, p.as_ref(), n.as_ref()))
            .collect();
        let schedule_now = |t: DateTime<Utc>| sweep.winner_at(t);
        let mut now = match schedule_now(from) {
            Some(c) => Now {
                canvas,
                play: Some(self.play_of(&c)),
                source: Some(self.source(&c)),
                since: Some(c.start),
                until: None,
            },
            None => Now {
                canvas,
                play: None,
                source: None,
                since: sweep
                    .changes
                    .iter()
                    .take_while(|(t, _, _)| *t <= from)
                    .last()
                    .map(|(t, _, _)| *t),
                until: None,
            },
        };
        if let Some(o) = o {
            let end = Self::override_end_in(o, &sweep);
            let source = Source::Override {
                by: o.by.clone(),
                scope: o.scope,
            };
            let covers = |t: DateTime<Utc>| t >= o.since && end.is_none_or(|e| t < e);
            if covers(from) {
                now = Now {
                    canvas,
                    play: Some(o.play.clone()),
                    source: Some(source.clone()),
                    since: Some(o.since),
                    until: None,
                };
            }
            steps.retain(|s| !covers(s.at));
            if o.since > from && o.since < to {
                steps.push(Step {
                    at: o.since,
                    canvas,
                    play: Some(o.play.clone()),
                    source: Some(source),
                    cause: Cause::Override,
                    fade_ms: fade_in(&o.play),
                    after_cue_list: false,
                });
            }
            if let Some(end) = end
                && end > from
                && end < to
                && !steps.iter().any(|s| s.at == end)
            {
                let winner = schedule_now(end);
                steps.push(Step {
                    at: end,
                    canvas,
                    play: winner.map(|c| self.play_of(&c)),
                    source: winner.map(|c| self.source(&c)),
                    cause: Cause::Release,
                    fade_ms: winner.map_or(0, |c| fade_in(&self.play_of(&c))),
                    after_cue_list: false,
                });
            }
            steps.sort_by_key(|s| s.at);
        }
        now.until = steps.first().map(|s| s.at);
        (now, steps)
    }

    /// What plays on every canvas at `t`.
    pub fn at(&self, t: DateTime<Utc>) -> Vec<Now> {
        let to = t + LOOK_AHEAD;
        let expanded = self.expand(self.earliest_override(t), to);
        self.canvases
            .iter()
            .map(|c| self.canvas_steps(*c, &expanded, t, to).0)
            .collect()
    }

    /// What plays at `from` and every change over `[from, to)`, in time order.
    pub fn steps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> (Vec<Now>, Vec<Step>) {
        let expanded = self.expand(self.earliest_override(from), to);
        let mut initial = Vec::new();
        let mut steps = Vec::new();
        for c in &self.canvases {
            let (now, s) = self.canvas_steps(*c, &expanded, from, to);
            initial.push(now);
            steps.extend(s);
        }
        steps.sort_by_key(|s| (s.at, s.canvas));
        (initial, steps)
    }

    /// The earliest instant a sweep must start from to judge the overrides at `t`.
    fn earliest_override(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        self.overrides
            .values()
            .map(|o| o.since)
            .min()
            .map_or(t, |s| s.min(t))
    }

    /// The first change strictly after `after`, looking up to a year ahead.
    pub fn next_change(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut from = after + chrono::Duration::milliseconds(1);
        for days in [1, 7, 30, 330] {
            let to = from + chrono::Duration::days(days);
            let (_, steps) = self.steps(from, to);
            if let Some(s) = steps.first() {
                return Some(s.at);
            }
            from = to;
        }
        None
    }
}
