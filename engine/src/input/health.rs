//! How an input stands (its connection, counters and, for a camera, its blobs)
//! and the backoff between its attempts to connect.

use limelight_shared::input::{BlobEvents, BlobState, Connection, Refused};
use std::sync::Mutex;
use std::time::Duration;

/// First wait after a lost connection.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
/// Longest wait between attempts.
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Waits between connection attempts: doubling from 0.5 s to 30 s, each cut by up
/// to a quarter at random so that many inputs do not retry in step.
#[derive(Debug, Default)]
pub struct Backoff {
    attempts: u32,
}

impl Backoff {
    /// The wait before the next attempt; `jitter` is a random number in 0..1.
    pub fn next(&mut self, jitter: f64) -> Duration {
        let base = BACKOFF_FIRST
            .saturating_mul(1 << self.attempts.min(16))
            .min(BACKOFF_MAX);
        self.attempts = self.attempts.saturating_add(1);
        base.mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0))
    }

    /// Connected: the next loss starts from the first wait again.
    pub fn reset(&mut self) {
        self.attempts = 0;
    }
}

/// How an input stands, shared by what runs it (an MQTT polling task, a camera's
/// thread), which writes it, and the API, which reads it. Held only for a few
/// assignments at a time.
#[derive(Debug)]
pub struct Status {
    /// The connection.
    pub connection: Connection,
    /// Connections lost or refused.
    pub reconnects: u64,
    /// Why the last one failed.
    pub last_error: Option<String>,
    /// Clock time of the next attempt while reconnecting.
    pub retry_at: Option<Duration>,
    /// The availability topic's last word.
    pub available: Option<bool>,
    /// Messages received.
    pub messages: u64,
    /// Messages refused, by reason.
    pub refused: Refused,
    /// Restarts after the input's task failed.
    pub restarts: u32,
    /// A camera's newest frame number.
    pub frame: Option<u64>,
    /// Frames a camera analysed.
    pub frames: u64,
    /// A camera's blobs in its newest frame.
    pub blobs: Vec<BlobState>,
    /// A camera's blob events.
    pub blob_events: BlobEvents,
    /// The id a camera's next counted blob gets, kept across restarts so that an
    /// id is never given twice.
    #[cfg(feature = "media")]
    pub next_blob_id: u64,
}

impl Default for Status {
    fn default() -> Self {
        Self {
            connection: Connection::Connecting,
            reconnects: 0,
            last_error: None,
            retry_at: None,
            available: None,
            messages: 0,
            refused: Refused::default(),
            restarts: 0,
            frame: None,
            frames: 0,
            blobs: Vec::new(),
            blob_events: BlobEvents::default(),
            #[cfg(feature = "media")]
            next_blob_id: 1,
        }
    }
}

/// Lock `status`, whatever a panic elsewhere left in it (plain counters).
pub fn lock(status: &Mutex<Status>) -> std::sync::MutexGuard<'_, Status> {
    status
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_half_a_second_to_thirty_and_resets() {
        let mut b = Backoff::default();
        let waits: Vec<u128> = (0..10).map(|_| b.next(0.0).as_millis()).collect();
        assert_eq!(
            waits,
            [
                500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000
            ]
        );
        let jittered = b.next(1.0).as_millis();
        assert_eq!(jittered, 22500, "jitter takes off up to a quarter");
        b.reset();
        assert_eq!(b.next(0.0).as_millis(), 500);
    }
}
