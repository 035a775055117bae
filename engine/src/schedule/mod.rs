//! The scheduler: what should play on each canvas, and when it changes.
//!
//! - `sun.rs`: the venue's location and sun times (NOAA's equations).
//! - `rule.rs`: an entry's start, end and recurrence, compiled into occurrences.
//! - `actor.rs`: the scheduler actor, which fires each change on time; `messages.rs`.
//! - `plan/`: entries and overrides resolved per canvas (plain Rust): what plays at
//!   any instant, and every change over a range. Preview, timeline and the actor all
//!   use it.

mod actor;
mod messages;
pub mod plan;
pub mod rule;
pub mod sun;

pub use actor::Scheduler;
pub use messages::*;
pub use plan::{Override, Plan, PlanEntry};
pub use rule::Rule;
pub use sun::Site;

use limelight_shared::ids::{CanvasId, ScheduleId};
pub use rule::RuleError;

/// Why a scheduler call failed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// No schedule entry with that id.
    #[error("no schedule entry with id {0}")]
    Unknown(ScheduleId),
    /// Nothing is scheduled on the canvas in the days ahead.
    #[error("nothing is scheduled on canvas {0} in the next eight days")]
    NothingScheduled(CanvasId),
}
