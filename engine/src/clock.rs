//! Time for the engine: a [`Clock`] trait (monotonic in production, manual in
//! tests) that every timer of the engine waits on, a [`WallClock`] for civil time,
//! and [`FrameClock`], which numbers frames by absolute deadlines.
//!
//! Every actor's timer (frame wake-ups, the scheduler, hold and offer expiry, room
//! ticks and sweeps, restart back-off) waits with [`Clock::wait_until`], so a test
//! that starts the engine on a [`ManualClock`] (and a [`ManualWallClock`] that
//! follows it) moves all of them with one [`ManualClock::advance`].

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A timer's future, as [`Clock::wait_until`] gives it.
pub type Wait = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A source of monotonic time, as the duration since the clock's origin.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Time since the origin.
    fn now(&self) -> Duration;

    /// Block the calling thread until `deadline` (time since the origin). For the
    /// last, precise part of a frame's wait, on the canvas's own thread.
    fn sleep_until(&self, deadline: Duration);

    /// A future that completes once the clock reads `deadline` or later: how
    /// actors wait for their timers.
    fn wait_until(&self, deadline: Duration) -> Wait;

    /// How late this clock's timers may fire: a frame clock asks to be woken this
    /// much before a deadline and sleeps the rest with [`Clock::sleep_until`]. None
    /// unless a clock says otherwise.
    fn timer_slack(&self) -> Duration {
        Duration::ZERO
    }

    /// A future that completes `by` from now.
    fn wait(&self, by: Duration) -> Wait {
        self.wait_until(self.now().saturating_add(by))
    }
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

    fn wait_until(&self, deadline: Duration) -> Wait {
        Box::pin(tokio::time::sleep(deadline.saturating_sub(self.now())))
    }

    /// Tokio's timers fire on millisecond ticks and can be up to a tick late.
    fn timer_slack(&self) -> Duration {
        Duration::from_micros(1500)
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

/// A clock that moves only when told to; for tests. Its timers complete when
/// [`advance`](Self::advance) moves it past their deadline.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug, Default)]
struct ManualInner {
    nanos: AtomicU64,
    /// Timers waiting for the clock to move.
    waiting: Mutex<Vec<Waker>>,
}

impl ManualClock {
    /// A clock at its origin.
    pub fn new() -> Self {
        Self::default()
    }

    /// Move the clock forward and wake the timers waiting on it (each checks its
    /// own deadline).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.inner.nanos.fetch_add(by, Ordering::SeqCst);
        let woken = std::mem::take(
            &mut *self
                .inner
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for waker in woken {
            waker.wake();
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.inner.nanos.load(Ordering::SeqCst))
    }

    /// Returns at once: a manual clock moves only when a test moves it.
    fn sleep_until(&self, _deadline: Duration) {}

    fn wait_until(&self, deadline: Duration) -> Wait {
        Box::pin(ManualWait {
            clock: self.clone(),
            deadline,
        })
    }
}

/// A timer on a [`ManualClock`].
struct ManualWait {
    clock: ManualClock,
    deadline: Duration,
}

impl Future for ManualWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.clock.now() >= self.deadline {
            return Poll::Ready(());
        }
        let mut waiting = self
            .clock
            .inner
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Checked again under the lock: an advance in between has woken nobody yet.
        if self.clock.now() >= self.deadline {
            return Poll::Ready(());
        }
        if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
            waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Civil time that follows a [`ManualClock`]: `origin` plus the manual clock's
/// time, so a test moves both with one advance.
#[derive(Debug, Clone)]
pub struct ManualWallClock {
    clock: ManualClock,
    origin: chrono::DateTime<chrono::Utc>,
}

impl ManualWallClock {
    /// Civil time `origin` at the manual clock's origin.
    pub fn new(clock: ManualClock, origin: chrono::DateTime<chrono::Utc>) -> Self {
        Self { clock, origin }
    }
}

impl WallClock for ManualWallClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Duration::from_std(self.clock.now())
            .ok()
            .and_then(|since| self.origin.checked_add_signed(since))
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
    }
}

/// Run `f` on the actor once `clock` has moved `by`: actix's `run_later`, on the
/// engine's clock. Cancel it with the handle.
pub(crate) fn run_later<A, F>(
    ctx: &mut actix::Context<A>,
    clock: &Arc<dyn Clock>,
    by: Duration,
    f: F,
) -> actix::SpawnHandle
where
    A: actix::Actor<Context = actix::Context<A>>,
    F: FnOnce(&mut A, &mut actix::Context<A>) + 'static,
{
    use actix::{ActorFutureExt, AsyncContext};
    let wait = actix::fut::wrap_future::<_, A>(clock.wait(by));
    ctx.spawn(wait.map(move |(), act, ctx| f(act, ctx)))
}

/// Run `f` on the actor every `period` of `clock`, on absolute deadlines; a
/// deadline the clock has jumped past is dropped, not caught up.
pub(crate) fn run_every<A, F>(
    ctx: &mut actix::Context<A>,
    clock: Arc<dyn Clock>,
    period: Duration,
    f: F,
) where
    A: actix::Actor<Context = actix::Context<A>>,
    F: FnMut(&mut A, &mut actix::Context<A>) + 'static,
{
    let first = clock.now() + period;
    every(ctx, clock, first, period, f);
}

fn every<A, F>(
    ctx: &mut actix::Context<A>,
    clock: Arc<dyn Clock>,
    due: Duration,
    period: Duration,
    mut f: F,
) where
    A: actix::Actor<Context = actix::Context<A>>,
    F: FnMut(&mut A, &mut actix::Context<A>) + 'static,
{
    use actix::{ActorFutureExt, AsyncContext};
    let wait = actix::fut::wrap_future::<_, A>(clock.wait_until(due));
    ctx.spawn(wait.map(move |(), act, ctx| {
        f(act, ctx);
        let now = clock.now();
        let next = if due + period > now {
            due + period
        } else {
            now + period
        };
        every(ctx, clock, next, period, f);
    }));
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

    /// The frame a wake-up at `now` renders: the newest one due then, or the next
    /// one if none is due yet.
    pub fn frame_at(&self, now: Duration) -> u64 {
        let next = self.last.map_or(0, |f| f + 1);
        self.due(now).map_or(next, |due| due.max(next))
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

    #[tokio::test]
    async fn manual_timers_complete_when_the_clock_passes_their_deadline() {
        let clock = ManualClock::new();
        let wall = ManualWallClock::new(clock.clone(), chrono::DateTime::UNIX_EPOCH);
        let early = tokio::spawn(clock.wait(Duration::from_millis(100)));
        let late = tokio::spawn(clock.wait(Duration::from_secs(5)));
        tokio::task::yield_now().await;
        clock.advance(Duration::from_millis(99));
        tokio::task::yield_now().await;
        assert!(!early.is_finished() && !late.is_finished());
        clock.advance(Duration::from_millis(1));
        assert!(early.await.is_ok());
        assert!(!late.is_finished());
        clock.advance(Duration::from_secs(5));
        assert!(late.await.is_ok());
        assert_eq!(
            WallClock::now(&wall),
            chrono::DateTime::UNIX_EPOCH + chrono::Duration::milliseconds(5_100)
        );
        // A deadline already passed completes at once.
        clock.wait_until(Duration::ZERO).await;
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
    fn between_frames_the_frame_that_shows_a_change_is_the_next_one() {
        let mut fc = FrameClock::new(Duration::from_millis(10), 40);
        // Before the first frame: frame 0.
        assert_eq!(fc.frame_at(Duration::ZERO), 0);
        let _ = fc.tick(Duration::from_millis(10));
        // Frame 0 rendered: until frame 1 is due, a change shows on frame 1...
        assert_eq!(fc.frame_at(Duration::from_millis(20)), 1);
        // ...and on a late wake-up, on the newest frame due, which renders next.
        assert_eq!(fc.frame_at(Duration::from_millis(90)), 3);
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
