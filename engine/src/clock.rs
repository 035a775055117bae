//! Time for frame clocks: a [`Clock`] trait (monotonic in production, manual in
//! tests) and [`FrameClock`], which numbers frames by absolute deadlines.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A source of monotonic time, as the duration since the clock's origin.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Time since the origin.
    fn now(&self) -> Duration;

    /// Block the calling thread until `deadline` (time since the origin).
    fn sleep_until(&self, deadline: Duration);
}

/// The system's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep_until(&self, deadline: Duration) {
        // A high-resolution sleep: tens of microseconds late at most on Linux.
        if let Some(left) = deadline.checked_sub(self.now()) {
            std::thread::sleep(left);
        }
    }
}

/// Civil time, for the scheduler: what the venue's wall clocks say. It may jump (an
/// NTP correction, an operator setting the date); the scheduler watches for that.
pub trait WallClock: Send + Sync + std::fmt::Debug {
    /// The time now.
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

/// The system's real-time clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemWallClock;

impl WallClock for SystemWallClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

/// The system's wall clock moved by an offset that can be changed while it runs:
/// what an NTP step or an operator setting the date looks like to the scheduler.
/// For tests of wall-clock jumps.
#[derive(Debug, Clone, Default)]
pub struct ShiftedWallClock {
    offset_ms: Arc<std::sync::atomic::AtomicI64>,
}

impl ShiftedWallClock {
    /// Move the clock by `by` (negative moves it back).
    pub fn jump(&self, by: chrono::Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

impl WallClock for ShiftedWallClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

/// A clock that moves only when told to; for tests.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at its origin.
    pub fn new() -> Self {
        Self::default()
    }

    /// Move the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    /// Returns at once: a manual clock moves only when a test moves it.
    fn sleep_until(&self, _deadline: Duration) {}
}

/// What a frame clock says when woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// Render this frame; `skipped` frames between the last one and it were missed.
    Render {
        /// Frame number since the clock started.
        frame: u64,
        /// Frames whose deadline passed without being rendered.
        skipped: u64,
    },
    /// Woken before the next deadline: nothing to do yet.
    Early,
}

/// Where in the frame period a clock keyed `key` (a canvas id) starts: ids spread
/// over the period by the golden ratio, so canvases started together (at boot, say)
/// do not all render and send at the same instant, and any set of ids stays well
/// spread.
pub fn phase_offset(key: u64, period: Duration) -> Duration {
    const GOLDEN: f64 = 0.618_033_988_749_894_9;
    let spread = (key as f64 * GOLDEN).fract();
    period.mul_f64(spread)
}

/// Frame numbering on absolute deadlines: frame `n` is due at `start + n * period`.
/// A late wake-up renders the newest due frame and counts the ones in between as
/// skipped, so a stall never turns into a burst of catch-up frames.
#[derive(Debug, Clone)]
pub struct FrameClock {
    start: Duration,
    period: Duration,
    last: Option<u64>,
}

impl FrameClock {
    /// A clock at `fps` frames per second whose frame 0 is due at `start`.
    pub fn new(start: Duration, fps: u16) -> Self {
        Self {
            start,
            period: Self::period_of(fps),
            last: None,
        }
    }

    /// Time between frames at `fps`.
    pub fn period_of(fps: u16) -> Duration {
        Duration::from_secs(1) / u32::from(fps.max(1))
    }

    /// Time between frames.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// When frame `n` is due.
    pub fn deadline(&self, frame: u64) -> Duration {
        let nanos = self.period.as_nanos().saturating_mul(u128::from(frame));
        self.start + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// When the next frame after the last rendered one is due.
    pub fn next_deadline(&self) -> Duration {
        self.deadline(self.last.map_or(0, |f| f + 1))
    }

    /// The newest frame due at `now`, if any.
    fn due(&self, now: Duration) -> Option<u64> {
        let elapsed = now.checked_sub(self.start)?;
        let frame = elapsed.as_nanos() / self.period.as_nanos().max(1);
        Some(u64::try_from(frame).unwrap_or(u64::MAX))
    }

    /// Called when woken at `now`: which frame to render, and how many were missed.
    pub fn tick(&mut self, now: Duration) -> Tick {
        let Some(due) = self.due(now) else {
            return Tick::Early;
        };
        let skipped = match self.last {
            Some(last) if due <= last => return Tick::Early,
            Some(last) => due - last - 1,
            None => due,
        };
        self.last = Some(due);
        Tick::Render {
            frame: due,
            skipped,
        }
    }

    /// Time of frame `n` since the clock's own start, in seconds: what effects animate on.
    pub fn frame_time(&self, frame: u64) -> f64 {
        (self.deadline(frame) - self.start).as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_spread_over_the_period() {
        let period = Duration::from_millis(25);
        let mut phases: Vec<Duration> = (1..=10).map(|id| phase_offset(id, period)).collect();
        assert!(phases.iter().all(|p| *p < period));
        phases.sort();
        // Ten canvases leave no gap wider than a quarter of the period.
        let widest = phases
            .windows(2)
            .map(|w| w[1] - w[0])
            .chain([phases[0] + period - phases[9]])
            .max();
        assert!(widest.is_some_and(|w| w <= period / 4), "{phases:?}");
    }

    #[test]
    fn frames_follow_absolute_deadlines() {
        let clock = ManualClock::new();
        let mut fc = FrameClock::new(clock.now(), 40);
        assert_eq!(fc.period(), Duration::from_millis(25));
        assert_eq!(
            fc.tick(clock.now()),
            Tick::Render {
                frame: 0,
                skipped: 0
            }
        );
        // Woken a little late: still frame 1, and the next deadline does not drift.
        clock.advance(Duration::from_millis(27));
        assert_eq!(
            fc.tick(clock.now()),
            Tick::Render {
                frame: 1,
                skipped: 0
            }
        );
        assert_eq!(fc.next_deadline(), Duration::from_millis(50));
    }

    #[test]
    fn a_stall_skips_frames_and_never_bursts() {
        let clock = ManualClock::new();
        let mut fc = FrameClock::new(clock.now(), 40);
        assert_eq!(
            fc.tick(clock.now()),
            Tick::Render {
                frame: 0,
                skipped: 0
            }
        );
        // A 130 ms stall: frames 1-4 are missed; frame 5 is rendered once.
        clock.advance(Duration::from_millis(130));
        assert_eq!(
            fc.tick(clock.now()),
            Tick::Render {
                frame: 5,
                skipped: 4
            }
        );
        // Waking again at once renders nothing: no catch-up burst.
        assert_eq!(fc.tick(clock.now()), Tick::Early);
        clock.advance(Duration::from_millis(20));
        assert_eq!(
            fc.tick(clock.now()),
            Tick::Render {
                frame: 6,
                skipped: 0
            }
        );
    }

    #[test]
    fn early_wakeups_render_nothing() {
        let clock = ManualClock::new();
        clock.advance(Duration::from_secs(3));
        let mut fc = FrameClock::new(Duration::from_secs(4), 10);
        assert_eq!(fc.tick(clock.now()), Tick::Early);
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            fc.tick(clock.now()),
            Tick::Render {
                frame: 0,
                skipped: 0
            }
        );
        assert!((fc.frame_time(15) - 1.5).abs() < 1e-9);
    }
}
