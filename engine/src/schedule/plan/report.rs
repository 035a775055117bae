//! The plan as the API reports it: previews, timelines, override details and
//! changes in the venue's local time.

use super::*;
use chrono::{DateTime, FixedOffset, Utc};
use limelight_shared::ids::CanvasId;
use limelight_shared::schedule::{Change, OverrideInfo, Play, Playing, Preview, Timeline};

impl Plan {
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
