//! `Recording`: an [`Output`] that keeps every frame it is given, each keep-alive
//! repeat and the stream's end, for tests of what a canvas hands its output.

use super::Output;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// What a recording output was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Each frame sent, in order, with whether it was a keep-alive repeat.
    pub frames: Vec<(Vec<u8>, bool)>,
    /// Whether the stream was ended.
    pub terminated: bool,
}

/// An output that records; clones share one record.
#[derive(Debug, Clone)]
pub struct Recording {
    record: Arc<(Mutex<Recorded>, Condvar)>,
    keepalive: Duration,
}

impl Recording {
    /// A recording output that repeats its last frame after `keepalive` without one.
    pub fn new(keepalive: Duration) -> Self {
        Self {
            record: Arc::default(),
            keepalive,
        }
    }

    /// What it has been given so far.
    pub fn recorded(&self) -> Recorded {
        self.lock().clone()
    }

    /// What it has been given once `done` holds of it, or when `within` has passed.
    pub fn wait_until(&self, within: Duration, done: impl Fn(&Recorded) -> bool) -> Recorded {
        let (record, changed) = &*self.record;
        let record = record.lock().unwrap_or_else(PoisonError::into_inner);
        let (record, _) = changed
            .wait_timeout_while(record, within, |r| !done(r))
            .unwrap_or_else(PoisonError::into_inner);
        record.clone()
    }

    fn change(&self, change: impl FnOnce(&mut Recorded)) {
        change(&mut self.lock());
        self.record.1.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.record.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Output for Recording {
    fn send(&mut self, rgb: &[u8], again: bool) {
        self.change(|r| r.frames.push((rgb.to_vec(), again)));
    }

    fn terminate(&mut self) {
        self.change(|r| r.terminated = true);
    }

    fn keepalive(&self) -> Duration {
        self.keepalive
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{ManualClock, MonotonicClock};
    use crate::output::spawn;

    const WITHIN: Duration = Duration::from_secs(10);

    #[test]
    fn frames_reach_the_output_and_a_stop_ends_the_stream() -> std::io::Result<()> {
        let recording = Recording::new(Duration::from_secs(60));
        let clock = Arc::new(MonotonicClock::new());
        let output = spawn(
            recording.clone(),
            1,
            "record-1".into(),
            0,
            clock,
            crate::output::OnAir::on(),
        )?;
        let tx = output.sender();
        tx.send(Arc::from(vec![1, 2, 3]));
        let recorded = recording.wait_until(WITHIN, |r| !r.frames.is_empty());
        assert_eq!(recorded.frames, vec![(vec![1, 2, 3], false)]);
        output.stop();
        let recorded = recording.recorded();
        assert!(recorded.terminated);
        assert_eq!(recorded.frames.len(), 1, "nothing after the end");
        Ok(())
    }

    #[test]
    fn off_air_nothing_goes_out_and_on_air_the_newest_frame_does() -> std::io::Result<()> {
        let recording = Recording::new(Duration::from_secs(1));
        let on_air = crate::output::OnAir::off();
        let clock: Arc<dyn crate::clock::Clock> = Arc::new(MonotonicClock::new());
        let output = spawn(
            recording.clone(),
            3,
            "record-3".into(),
            0,
            clock,
            on_air.clone(),
        )?;
        output.sender().send(Arc::from(vec![2, 2, 2]));
        on_air.set(true);
        // The frame the standby took goes out once it is on air.
        recording.wait_until(WITHIN, |r| !r.frames.is_empty());
        assert_eq!(recording.recorded().frames[0].0, vec![2, 2, 2]);
        on_air.set(false);
        output.sender().send(Arc::from(vec![3, 3, 3]));
        output.stop();
        let recorded = recording.recorded();
        assert!(
            recorded.frames.iter().all(|(f, _)| f != &vec![3, 3, 3]),
            "{recorded:?}"
        );
        assert!(!recorded.terminated, "a node off air ends no stream");
        Ok(())
    }

    #[test]
    fn the_last_frame_is_sent_again_when_none_comes_for_a_keepalive() -> std::io::Result<()> {
        let keepalive = Duration::from_millis(20);
        let recording = Recording::new(keepalive);
        let clock = ManualClock::new();
        let output = spawn(
            recording.clone(),
            2,
            "record-2".into(),
            0,
            Arc::new(clock.clone()),
            crate::output::OnAir::on(),
        )?;
        output.sender().send(Arc::from(vec![7, 7, 7]));
        recording.wait_until(WITHIN, |r| !r.frames.is_empty());
        // Each keep-alive of the engine's clock without a frame: the last one again.
        for sent in 2..=3 {
            clock.advance(keepalive);
            recording.wait_until(WITHIN, |r| r.frames.len() >= sent);
        }
        output.stop();
        let recorded = recording.recorded();
        assert_eq!(
            recorded.frames,
            [
                (vec![7, 7, 7], false),
                (vec![7, 7, 7], true),
                (vec![7, 7, 7], true)
            ],
            "one repeat per keep-alive, none while the clock stands"
        );
        Ok(())
    }
}
