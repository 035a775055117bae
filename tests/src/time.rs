//! Manual time for a server started with [`TestApp::spawn_on_manual_time`]: the
//! engine's clocks move only when a test moves them, so timing is exact and a test
//! never waits for time to pass.
//!
//! Under manual time a canvas renders one frame for each frame deadline the clock
//! crosses (several crossed at once: one frame, the rest skipped), and its output
//! sends nothing else (keep-alives are timed on the same clock). So stepping one
//! frame period at a time and taking one packet per step reads the canvas frame by
//! frame.

use crate::*;
use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use limelight_engine::clock::{Clock, ManualClock, ManualWallClock, WallClock};
use std::time::Duration;

/// Longest wait for what a step of manual time sets off: only a failure waits it.
const STEP_DEADLINE: Duration = Duration::from_secs(5);

/// The engine's clocks, moved by the test.
#[derive(Debug, Clone)]
pub struct ManualTime {
    clock: ManualClock,
    wall: ManualWallClock,
}

impl ManualTime {
    /// Manual monotonic time, and civil time following it from `origin`.
    pub fn new(origin: DateTime<Utc>) -> Self {
        let clock = ManualClock::new();
        let wall = ManualWallClock::new(clock.clone(), origin);
        Self { clock, wall }
    }

    /// The monotonic clock, for the engine's configuration.
    pub fn clock(&self) -> ManualClock {
        self.clock.clone()
    }

    /// The civil clock, for the engine's configuration.
    pub fn wall_clock(&self) -> ManualWallClock {
        self.wall.clone()
    }

    /// Civil time now.
    pub fn wall(&self) -> DateTime<Utc> {
        WallClock::now(&self.wall)
    }

    /// Monotonic time since the start.
    pub fn now(&self) -> Duration {
        Clock::now(&self.clock)
    }

    /// Move both clocks forward.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Move both clocks to civil time `at` (not back, if it has passed).
    pub fn advance_to(&self, at: DateTime<Utc>) {
        if let Ok(by) = (at - self.wall()).to_std() {
            self.advance(by);
        }
    }

    /// Step one frame period of `fps` at a time, taking the frame each step
    /// renders, until the first pixel shows `rgb`: how many steps that took (the
    /// matching one included). Fails after `most` steps.
    pub async fn frames_until(
        &self,
        rx: &mut Receiver,
        fps: u32,
        rgb: [u8; 3],
        most: u64,
    ) -> Result<u64> {
        let period = Duration::from_secs(1) / fps;
        for step in 1..=most {
            self.advance(period);
            let p = rx.next_data(STEP_DEADLINE).await?;
            if p.slots.get(..3) == Some(&rgb[..]) {
                return Ok(step);
            }
        }
        bail!("{rgb:?} not shown within {most} frames")
    }
}
