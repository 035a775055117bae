//! The plan: every schedule entry and override, resolved per canvas. Plain Rust, so
//! it is tested with any instant, and the preview, the timeline and the scheduler
//! actor all ask the same code.
//!
//! On a canvas, the highest-priority occurrence running wins; among equals the one
//! that started last, then the higher entry id. An override beats every entry until
//! its scope ends. A change happens whenever the winner changes; its fade is the new
//! occurrence's fade when one starts, else the ending occurrence's stop mode.

use super::rule::MAX_OCCURRENCES;
use super::rule::{Occurrence, Rule};
use super::sun::Site;
use chrono::{DateTime, FixedOffset, Utc};
use limelight_shared::ids::{CanvasId, ScheduleId};
use limelight_shared::schedule::{
    Cause, Change, OverrideInfo, OverrideScope, Play, Playing, Preview, ScheduleSpec, Source,
    StopMode, Timeline,
};
use limelight_shared::values::EntryPriority;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

/// An occurrence competing for a canvas. Ordered so the winner is the greatest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    priority: EntryPriority,
    start: DateTime<Utc>,
    id: ScheduleId,
    end: DateTime<Utc>,
    index: usize,
}

/// The schedule of one canvas over a range, before overrides.
#[derive(Debug, Default)]
struct Sweep {
    initial: Option<Candidate>,
    /// (when, the previous winner, the new winner)
    changes: Vec<(DateTime<Utc>, Option<Candidate>, Option<Candidate>)>,
}

impl Sweep {
    fn winner_at(&self, t: DateTime<Utc>) -> Option<Candidate> {
        self.changes
            .iter()
            .take_while(|(at, _, _)| *at <= t)
            .last()
            .map_or(self.initial, |(_, _, w)| *w)
    }
}

/// How far before a query's start the occurrences kept for reuse reach.
const KEEP_BEFORE: chrono::Duration = chrono::Duration::days(1);
/// How far after a query's start they reach (next changes look eight days ahead,
/// timelines seven).
const KEEP_AHEAD: chrono::Duration = chrono::Duration::days(9);

/// Each entry's occurrences over a span, worked out once and reused while queries
/// fall inside it: the recurrence crate walks a rule from its first day, so working
/// them out is the bulk of every answer.
#[derive(Debug, Clone, Default)]
struct Kept {
    spans: HashMap<ScheduleId, Span>,
}

/// The occurrences of one entry overlapping `[from, to)`.
#[derive(Debug, Clone)]
struct Span {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    all: Vec<Occurrence>,
}

impl Kept {
    /// The occurrences of `entry` overlapping `[from, to)`.
    fn occurrences(
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

    fn forget(&mut self, id: ScheduleId) {
        self.spans.remove(&id);
    }
}

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

    /// The preview at `t`, as the API reports it.
    pub fn preview(&self, t: DateTime<Utc>) -> Preview {
        Preview {
            at: self.local(t),
            canvases: self.at(t).into_iter().map(|n| self.playing(n)).collect(),
        }
    }

    /// The timeline over `[from, to)`, as the API reports it.
    pub fn timeline(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Timeline {
        let (initial, steps) = self.steps(from, to);
        Timeline {
            from: self.local(from),
            to: self.local(to),
            initial: initial.into_iter().map(|n| self.playing(n)).collect(),
            changes: steps.into_iter().map(|s| self.change(s)).collect(),
        }
    }

    /// An override as the API reports it.
    pub fn override_info(&self, canvas: CanvasId, now: DateTime<Utc>) -> Option<OverrideInfo> {
        let o = self.overrides.get(&canvas)?;
        Some(OverrideInfo {
            canvas,
            play: o.play.clone(),
            scope: o.scope,
            by: o.by.clone(),
            since: self.local(o.since),
            until: self.override_end(canvas, now).map(|t| self.local(t)),
        })
    }

    /// An instant in the venue's zone.
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.venue.tz).fixed_offset()
    }

    fn playing(&self, n: Now) -> Playing {
        Playing {
            canvas: n.canvas,
            play: n.play,
            source: n.source,
            since: n.since.map(|t| self.local(t)),
            until: n.until.map(|t| self.local(t)),
        }
    }

    /// A step as the API reports it.
    pub fn change(&self, s: Step) -> Change {
        Change {
            at: self.local(s.at),
            canvas: s.canvas,
            play: s.play,
            source: s.source,
            cause: s.cause,
            fade_ms: s.fade_ms,
            after_cue_list: s.after_cue_list,
        }
    }
}

/// The fade into `play`: a scene's own fade; a cue list fades by its cues.
pub fn fade_in(play: &Play) -> u32 {
    match play {
        Play::Scene { fade_ms, .. } => *fade_ms,
        Play::CueList { .. } => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use limelight_shared::scene::SceneName;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn utc(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
        Ok(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc))
    }

    fn plan() -> Result<Plan, String> {
        let mut plan = Plan::new(Site::new(chrono_tz::Europe::Paris, 48.8566, 2.3522)?);
        plan.set_canvases([CanvasId(1), CanvasId(2)]);
        Ok(plan)
    }

    fn add(plan: &mut Plan, id: i64, json: &str) -> TestResult {
        let spec: ScheduleSpec = serde_json::from_str(json)?;
        let rule = Rule::new(&spec, plan.venue())?;
        plan.put_entry(PlanEntry {
            id: ScheduleId(id),
            spec,
            rule,
        });
        Ok(())
    }

    /// The steps on canvas `canvas` as (local time, scene, cause, fade).
    fn on<'a>(
        plan: &Plan,
        steps: &'a [Step],
        canvas: i64,
    ) -> Vec<(String, Option<&'a str>, Cause, u32)> {
        steps
            .iter()
            .filter(|s| s.canvas == CanvasId(canvas))
            .map(|s| {
                (
                    plan.local(s.at).format("%H:%M").to_string(),
                    scene_of(&s.play),
                    s.cause,
                    s.fade_ms,
                )
            })
            .collect()
    }

    /// An operator's override of `canvas` with scene `name`.
    fn take(
        plan: &mut Plan,
        canvas: i64,
        name: &str,
        scope: OverrideScope,
        since: DateTime<Utc>,
    ) -> TestResult {
        let o = Override {
            play: scene(name)?,
            scope,
            by: "op".into(),
            since,
        };
        plan.set_override(CanvasId(canvas), o);
        Ok(())
    }

    fn scene_of(play: &Option<Play>) -> Option<&str> {
        match play {
            Some(Play::Scene { scene, .. }) => Some(scene.as_str()),
            _ => None,
        }
    }

    fn scene(name: &str) -> Result<Play, Box<dyn std::error::Error>> {
        Ok(Play::Scene {
            scene: SceneName::try_from(name.to_owned())?,
            fade_ms: 500,
            curve: Default::default(),
        })
    }

    /// Evenings (priority 10, 19:00-23:00 daily) on both canvases; a gala (priority
    /// 50, 21:00-22:00 on 14 Feb) on canvas 1; a late show (priority 10, 22:30-23:30
    /// daily) on canvas 1.
    fn venue_week(plan: &mut Plan) -> TestResult {
        add(
            plan,
            1,
            r#"{"name": "Evenings", "targets": "all", "play": {"scene": "Evening", "fade_ms": 3000},
            "start": {"date": "2026-02-01", "time": "19:00"}, "end": {"time": "23:00"},
            "rrule": "FREQ=DAILY", "priority": 10, "stop": {"mode": "fade_out", "fade_ms": 4000}}"#,
        )?;
        add(
            plan,
            2,
            r#"{"name": "Gala", "targets": [1], "play": {"scene": "Gala", "fade_ms": 1000},
            "start": {"date": "2026-02-14", "time": "21:00"}, "end": {"duration_s": 3600},
            "priority": 50, "stop": {"mode": "cut"}}"#,
        )?;
        add(
            plan,
            3,
            r#"{"name": "Late", "targets": [1], "play": {"scene": "Late"},
            "start": {"date": "2026-02-01", "time": "22:30"}, "end": {"time": "23:30"},
            "rrule": "FREQ=DAILY", "priority": 10}"#,
        )
    }

    #[test]
    fn the_highest_priority_wins_and_ties_go_to_the_latest_start() -> TestResult {
        let mut plan = plan()?;
        venue_week(&mut plan)?;
        let (initial, steps) = plan.steps(
            utc("2026-02-14T12:00:00+01:00")?,
            utc("2026-02-15T06:00:00+01:00")?,
        );
        assert!(initial.iter().all(|n| n.play.is_none()));
        let on_1 = on(&plan, &steps, 1);
        assert_eq!(
            on_1,
            [
                ("19:00".into(), Some("Evening"), Cause::Start, 3000),
                ("21:00".into(), Some("Gala"), Cause::Start, 1000),
                // The gala cuts back to the evening look, still running underneath.
                ("22:00".into(), Some("Evening"), Cause::End, 0),
                // Same priority, later start: the late show takes over.
                ("22:30".into(), Some("Late"), Cause::Start, 0),
                ("23:30".into(), None, Cause::End, 2000),
            ]
        );
        let on_2: Vec<(String, Option<&str>, u32)> = on(&plan, &steps, 2)
            .into_iter()
            .map(|(at, scene, _, fade)| (at, scene, fade))
            .collect();
        assert_eq!(
            on_2,
            [
                ("19:00".into(), Some("Evening"), 3000),
                ("23:00".into(), None, 4000)
            ]
        );
        Ok(())
    }

    #[test]
    fn a_daily_entry_fires_at_eight_local_across_both_dst_changes() -> TestResult {
        let mut plan = plan()?;
        add(
            &mut plan,
            1,
            r#"{"name": "Eight", "targets": [2], "play": {"scene": "A"},
            "start": {"date": "2026-01-01", "time": "20:00"}, "end": {"duration_s": 3600},
            "rrule": "FREQ=DAILY", "priority": 1}"#,
        )?;
        // From the Saturday before each change to the Monday after.
        for (from, want) in [
            (
                "2026-03-28T00:00:00Z",
                [
                    "2026-03-28T19:00:00Z",
                    "2026-03-29T18:00:00Z",
                    "2026-03-30T18:00:00Z",
                ],
            ),
            (
                "2026-10-24T00:00:00Z",
                [
                    "2026-10-24T18:00:00Z",
                    "2026-10-25T19:00:00Z",
                    "2026-10-26T19:00:00Z",
                ],
            ),
        ] {
            let mut at = utc(from)?;
            let mut fired = Vec::new();
            // Walk the scheduler's own question: when is the next change?
            while let Some(next) = plan.next_change(at) {
                if fired.len() == 6 {
                    break;
                }
                fired.push(next);
                at = next;
            }
            let starts: Vec<String> = fired
                .iter()
                .step_by(2)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .collect();
            assert_eq!(starts, want);
            for t in fired.iter().step_by(2) {
                assert_eq!(plan.local(*t).format("%H:%M").to_string(), "20:00");
            }
        }
        Ok(())
    }

    #[test]
    fn an_override_until_the_next_change_hands_back_at_that_change() -> TestResult {
        let mut plan = plan()?;
        venue_week(&mut plan)?;
        take(
            &mut plan,
            2,
            "Manual",
            OverrideScope::NextChange,
            utc("2026-02-14T20:00:00+01:00")?,
        )?;
        let (_, steps) = plan.steps(
            utc("2026-02-14T19:30:00+01:00")?,
            utc("2026-02-15T00:00:00+01:00")?,
        );
        let on_2: Vec<(String, Option<&str>, Cause)> = on(&plan, &steps, 2)
            .into_iter()
            .map(|(at, scene, cause, _)| (at, scene, cause))
            .collect();
        assert_eq!(
            on_2,
            [
                ("20:00".into(), Some("Manual"), Cause::Override),
                ("23:00".into(), None, Cause::End)
            ]
        );
        assert_eq!(
            plan.override_end(CanvasId(2), utc("2026-02-14T20:00:00+01:00")?),
            Some(utc("2026-02-14T23:00:00+01:00")?)
        );
        Ok(())
    }

    #[test]
    fn an_override_for_a_duration_hands_back_to_what_runs_then() -> TestResult {
        let mut plan = plan()?;
        venue_week(&mut plan)?;
        take(
            &mut plan,
            1,
            "Manual",
            OverrideScope::ForS(1800),
            utc("2026-02-14T20:45:00+01:00")?,
        )?;
        let (_, steps) = plan.steps(
            utc("2026-02-14T20:00:00+01:00")?,
            utc("2026-02-14T22:10:00+01:00")?,
        );
        let on_1 = on(&plan, &steps, 1);
        // The gala's 21:00 start happens under the override and shows at 21:15.
        assert_eq!(
            on_1,
            [
                ("20:45".into(), Some("Manual"), Cause::Override, 500),
                ("21:15".into(), Some("Gala"), Cause::Release, 1000),
                ("22:00".into(), Some("Evening"), Cause::End, 0),
            ]
        );
        Ok(())
    }

    #[test]
    fn an_override_until_released_outlives_every_change() -> TestResult {
        let mut plan = plan()?;
        venue_week(&mut plan)?;
        take(
            &mut plan,
            1,
            "Manual",
            OverrideScope::UntilReleased,
            utc("2026-02-13T12:00:00+01:00")?,
        )?;
        let (initial, steps) = plan.steps(
            utc("2026-02-14T12:00:00+01:00")?,
            utc("2026-02-16T00:00:00+01:00")?,
        );
        assert_eq!(scene_of(&initial[0].play), Some("Manual"));
        assert!(steps.iter().all(|s| s.canvas == CanvasId(2)));
        // Released: the schedule is back, and the preview says what runs now.
        plan.clear_override(CanvasId(1));
        let now = plan.at(utc("2026-02-14T21:30:00+01:00")?);
        assert_eq!(scene_of(&now[0].play), Some("Gala"));
        assert_eq!(now[0].until, Some(utc("2026-02-14T22:00:00+01:00")?));
        Ok(())
    }

    #[test]
    fn after_a_restart_mid_entry_what_plays_now_is_resumed_and_nothing_is_replayed() -> TestResult {
        let mut plan = plan()?;
        venue_week(&mut plan)?;
        // Down from 20:50 to 21:30: the gala started at 21:00 while nobody ran.
        let back = utc("2026-02-14T21:30:00+01:00")?;
        let now = plan.at(back);
        assert_eq!(scene_of(&now[0].play), Some("Gala"));
        assert_eq!(now[0].since, Some(utc("2026-02-14T21:00:00+01:00")?));
        assert_eq!(scene_of(&now[1].play), Some("Evening"));
        // The next thing to fire is the gala's end, not anything that was missed.
        assert_eq!(
            plan.next_change(back),
            Some(utc("2026-02-14T22:00:00+01:00")?)
        );
        Ok(())
    }

    #[test]
    fn a_disabled_entry_never_plays() -> TestResult {
        let mut plan = plan()?;
        add(
            &mut plan,
            1,
            r#"{"name": "Off", "targets": "all", "play": {"scene": "A"}, "enabled": false,
            "start": {"date": "2026-01-01", "time": "20:00"}, "end": {"duration_s": 60}, "rrule": "FREQ=DAILY", "priority": 1}"#,
        )?;
        assert_eq!(plan.next_change(utc("2026-01-01T00:00:00Z")?), None);
        Ok(())
    }

    #[test]
    fn kept_occurrences_answer_as_a_fresh_expansion_does() -> TestResult {
        let mut plan = plan()?;
        venue_week(&mut plan)?;
        add(
            &mut plan,
            9,
            r#"{"name": "Sunsets", "targets": "all", "play": {"scene": "D"},
                "start": {"date": "2026-03-01", "sun": "sunset", "offset_minutes": 10},
                "end": {"duration_s": 7200}, "rrule": "FREQ=DAILY", "priority": 7}"#,
        )?;
        let t0 = utc("2026-03-26T12:00:00Z")?;
        // Ask in an order that fills the kept spans, reuses them, and runs past them.
        for hours in [0, 5, 30, 200, 3, 260, 1] {
            let from = t0 + chrono::Duration::hours(hours);
            let to = from + chrono::Duration::hours(24);
            let kept = plan.expand(from, to);
            let fresh = plan.clone_without_kept().expand(from, to);
            assert_eq!(kept, fresh, "from {from}");
        }
        // An edit forgets what was kept for that entry.
        add(
            &mut plan,
            9,
            r#"{"name": "Sunsets", "targets": "all", "play": {"scene": "D"},
                "start": {"date": "2026-03-01", "time": "18:00"},
                "end": {"duration_s": 60}, "rrule": "FREQ=DAILY", "priority": 7}"#,
        )?;
        let kept = plan.expand(t0, t0 + chrono::Duration::hours(24));
        assert_eq!(
            kept,
            plan.clone_without_kept()
                .expand(t0, t0 + chrono::Duration::hours(24))
        );
        Ok(())
    }
}
