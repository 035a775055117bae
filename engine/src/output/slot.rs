//! `FrameSlot`: how a canvas hands frames to its output thread. It holds one frame:
//! a frame handed over while the previous one is still waiting replaces it, so when
//! the output is behind the newest frame wins and the replaced one is counted as
//! dropped. The canvas never waits for the output beyond swapping a pointer.

use metrics::Counter;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

/// What an output thread finds when it looks at the slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Taken {
    /// The newest frame (RGB bytes, 3 a pixel).
    Frame(Arc<[u8]>),
    /// No frame came within the wait.
    Nothing,
    /// The stream is to end.
    Stop,
}

#[derive(Debug, Default)]
struct State {
    frame: Option<Arc<[u8]>>,
    stop: bool,
    dropped: u64,
}

/// One frame on its way from a canvas to its output.
#[derive(Debug)]
pub(crate) struct FrameSlot {
    state: Mutex<State>,
    ready: Condvar,
    dropped: Counter,
}

impl FrameSlot {
    /// An empty slot; replaced frames count on `dropped`.
    pub(crate) fn new(dropped: Counter) -> Self {
        Self {
            state: Mutex::default(),
            ready: Condvar::new(),
            dropped,
        }
    }

    /// Each change is one assignment: a panic cannot leave the state half-made.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hand over a frame; one still waiting is replaced and counted as dropped.
    pub(crate) fn put(&self, rgb: Arc<[u8]>) {
        let replaced = {
            let mut state = self.lock();
            let replaced = state.frame.replace(rgb).is_some();
            state.dropped += u64::from(replaced);
            replaced
        };
        if replaced {
            self.dropped.increment(1);
        }
        self.ready.notify_one();
    }

    /// End the stream: the output takes `Stop` next, even before a waiting frame.
    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.ready.notify_one();
    }

    /// The newest frame, waiting up to `within` for one.
    pub(crate) fn take(&self, within: Duration) -> Taken {
        let state = self.lock();
        let (mut state, _) = self
            .ready
            .wait_timeout_while(state, within, |s| s.frame.is_none() && !s.stop)
            .unwrap_or_else(PoisonError::into_inner);
        if state.stop {
            return Taken::Stop;
        }
        state.frame.take().map_or(Taken::Nothing, Taken::Frame)
    }

    /// Frames replaced before the output took them, since the slot was made.
    #[cfg(test)]
    pub(crate) fn dropped(&self) -> u64 {
        self.lock().dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(byte: u8) -> Arc<[u8]> {
        Arc::from(vec![byte; 3])
    }

    #[test]
    fn when_the_output_is_behind_the_newest_frame_wins_and_the_rest_are_counted() {
        let slot = FrameSlot::new(Counter::noop());
        slot.put(frame(1));
        slot.put(frame(2));
        slot.put(frame(3));
        assert_eq!(slot.take(Duration::ZERO), Taken::Frame(frame(3)));
        assert_eq!(slot.dropped(), 2);
        assert_eq!(slot.take(Duration::ZERO), Taken::Nothing);
        slot.put(frame(4));
        assert_eq!(slot.take(Duration::ZERO), Taken::Frame(frame(4)));
        assert_eq!(slot.dropped(), 2, "a frame taken in time is not dropped");
    }

    #[test]
    fn a_stop_comes_before_a_waiting_frame() {
        let slot = FrameSlot::new(Counter::noop());
        slot.put(frame(1));
        slot.stop();
        assert_eq!(slot.take(Duration::ZERO), Taken::Stop);
    }

    #[test]
    fn a_waiting_output_wakes_for_a_frame_from_another_thread() {
        let slot = Arc::new(FrameSlot::new(Counter::noop()));
        let canvas = {
            let slot = slot.clone();
            std::thread::spawn(move || slot.put(frame(9)))
        };
        assert_eq!(slot.take(Duration::from_secs(10)), Taken::Frame(frame(9)));
        assert!(canvas.join().is_ok());
    }
}
